package main

import (
	"errors"

	"github.com/spf13/cobra"

	"github.com/livecap/livecap/internal/analyze"
	"github.com/livecap/livecap/internal/capture"
	"github.com/livecap/livecap/internal/exitcode"
	"github.com/livecap/livecap/internal/pipeline"
	"github.com/livecap/livecap/internal/record"
	"github.com/livecap/livecap/internal/session"
)

// usageError is a value on the command line that cannot be used.
type usageError struct{ err error }

func (e *usageError) Error() string { return e.err.Error() }
func (e *usageError) Unwrap() error { return e.err }

// runError marks an error a command returned once it ran (as opposed to
// cobra's own errors about unknown commands, flags and arguments).
type runError struct{ err error }

func (e *runError) Error() string { return e.err.Error() }
func (e *runError) Unwrap() error { return e.err }

// markRunErrors wraps the RunE of every command under c so that exitCode
// can tell a command's failures from cobra's usage errors.
func markRunErrors(c *cobra.Command) {
	if f := c.RunE; f != nil {
		c.RunE = func(cmd *cobra.Command, args []string) error {
			if err := f(cmd, args); err != nil {
				return &runError{err}
			}
			return nil
		}
	}
	for _, sub := range c.Commands() {
		markRunErrors(sub)
	}
}

// exitCode is the one place that maps an error to the documented process
// exit status (internal/exitcode lists them). Libraries return typed
// errors; none of them knows about exit codes.
func exitCode(err error) int {
	var (
		usage   *usageError
		config  *session.ConfigError
		device  *session.DeviceError
		refused *session.DiskRefusedError
		rec     *session.RecordingError
		enc     *pipeline.EncoderError
		gaveUp  *session.GaveUpError
		skipped *session.SkippedError
		check   *analyze.CheckError
		runFail *runError
	)
	switch {
	case err == nil:
		return exitcode.OK
	case errors.Is(err, session.ErrInterrupted):
		return exitcode.Interrupted
	case errors.As(err, &usage), errors.As(err, &config), errors.Is(err, pipeline.ErrNoMedia), errors.Is(err, analyze.ErrUsage):
		return exitcode.Usage
	case errors.Is(err, capture.ErrPermission):
		return exitcode.Permission
	case errors.As(err, &device):
		return exitcode.Device
	case errors.As(err, &refused), errors.Is(err, record.ErrDiskLow), errors.Is(err, record.ErrDiskFull):
		return exitcode.Disk
	case errors.As(err, &rec):
		return exitcode.Failure
	case errors.As(err, &enc), errors.Is(err, session.ErrNoStreamInfo):
		return exitcode.Encoder
	case errors.As(err, &gaveUp):
		return exitcode.AllGaveUp
	case errors.As(err, &skipped):
		return exitcode.Skipped
	case errors.As(err, &check):
		return exitcode.Check
	case errors.As(err, &runFail):
		return exitcode.Failure
	}
	// cobra's own errors: an unknown command, flag or argument.
	return exitcode.Usage
}
