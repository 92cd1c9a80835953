package analyze

import (
	"errors"
	"fmt"
	"strings"
)

// The analyzer returns typed errors and leaves exit codes to its caller:
//
//   - errors that wrap ErrUsage (errors.Is) are about what the caller
//     gave: no file, a directory, an option out of range;
//   - *CheckError (errors.As), from Report.Err, says that a measurement
//     exceeded a limit the caller set;
//   - any other error means the analysis itself failed (ffmpeg missing, a
//     file it cannot read).

// ErrUsage is wrapped by every error about the arguments or options.
var ErrUsage = errors.New("bad usage")

// usageError wraps ErrUsage without showing it: the message is the one
// line the user reads.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }
func (e *usageError) Unwrap() error { return ErrUsage }

func usagef(format string, a ...any) error {
	return &usageError{msg: fmt.Sprintf(format, a...)}
}

// CheckError lists the checks that failed.
type CheckError struct {
	Failed []string
}

func (e *CheckError) Error() string {
	return "analyze: check failed: " + strings.Join(e.Failed, "; ")
}
