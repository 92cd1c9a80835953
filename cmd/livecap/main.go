// Command livecap captures camera and microphone (or a built-in test
// source), encodes them once, and at the same time streams the result live
// (RTMP, RTMPS, SRT) and records it to segmented MP4/MOV files.
package main

import (
	"fmt"
	"os"

	"github.com/rs/zerolog"

	"github.com/livecap/livecap/internal/exitcode"
)

func main() {
	tuneGC()
	os.Exit(run(os.Args[1:]))
}

func run(args []string) int {
	root := newRootCmd()
	root.SetArgs(args)
	err := root.Execute()
	code := exitCode(err)
	if code != exitcode.OK {
		printError(err)
	}
	return code
}

func printError(err error) {
	if global.logFormat == "json" {
		// Asked-for JSON logs stay one object per line: the last line too.
		// Otherwise (a terminal, or auto on a pipe) the error is the plain
		// one line a person reads, whether or not a session had started.
		l := zerolog.New(os.Stderr).With().Timestamp().Logger()
		l.Error().Str("error", redactError(err)).Msg("livecap: " + redactError(err))
		return
	}
	fmt.Fprintf(os.Stderr, "livecap: %s\n", redactError(err))
}
