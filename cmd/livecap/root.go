package main

import (
	"fmt"
	"io"
	"os"
	"time"

	"github.com/mattn/go-isatty"
	"github.com/rs/zerolog"
	"github.com/spf13/cobra"
)

type globalFlags struct {
	logFormat string
	logLevel  string
	quiet     bool
}

var global globalFlags

const exitCodesHelp = `Exit codes:
  0    success, including a graceful stop (SIGINT, SIGTERM, SIGHUP, --duration)
  1    runtime failure (I/O error, recording failed)
  2    bad usage: an invalid flag value, URL or argument
  3    not enough free disk (--disk-check=refuse, or the recording stopped for low disk, even when streams went on)
  4    capture device missing or permission denied
  5    encoder failure
  6    streaming only: every destination gave up
  7    analyze: a measured value exceeded its limit
  8    camera, microphone or screen recording permission denied (macOS: System Settings > Privacy & Security)
  9    --max-skipped: the source or the encoder skipped more frames than allowed (files finalized)
  130  a second interrupt forced an immediate stop (files stay playable up to their last fragment)`

func newRootCmd() *cobra.Command { return newRootCmdWith(nil) }

// newRootCmdWith builds the command tree; a non-nil stream runs the stream
// command instead of a real session (tests).
func newRootCmdWith(stream streamRunner) *cobra.Command {
	root := &cobra.Command{
		Use:   "livecap",
		Short: "Capture, encode once, stream live and record in segments",
		Long: `livecap captures camera and microphone (or its built-in test source), encodes them
once, and at the same time streams the result live (RTMP, RTMPS, SRT) and records it
to fragmented MP4/MOV files cut into segments. A bad network never hurts the recording.

` + exitCodesHelp,
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			if err := applyConfig(cmd); err != nil { // config.go
				return err
			}
			switch global.logFormat {
			case "auto", "console", "json":
			default:
				return usageErr("invalid --log-format %q: must be auto, console or json", global.logFormat)
			}
			if _, err := zerolog.ParseLevel(global.logLevel); err != nil || global.logLevel == "" {
				return usageErr("invalid --log-level %q: must be debug, info, warn or error", global.logLevel)
			}
			return nil
		},
	}
	// --version prints what `livecap version` prints; the man pages carry
	// the same version (internal/docs reads root.Version).
	v, c := versionInfo()
	root.Version = v
	root.SetVersionTemplate(versionLine(v, c) + "\n")
	pf := root.PersistentFlags()
	pf.StringVar(&global.logFormat, "log-format", "auto", "log format: auto (console on a terminal, else JSON), console or json")
	pf.StringVar(&global.logLevel, "log-level", "info", "log level: debug, info, warn or error")
	pf.BoolVarP(&global.quiet, "quiet", "q", false, "no status line and only warnings and errors in the log")
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error {
		return &usageError{err}
	})
	root.AddCommand(newStreamCmd(stream), newVersionCmd(), newDevicesCmd(), newAnalyzeCmd(), newManCmd(), newPatternCmd(), newCtlCmd(), newConfigCmd())
	addConfigFlags(root)
	markRunErrors(root)
	addCompletions(root) // completion.go: flag values
	return root
}

// usageErr is a one-line bad-usage error (exit code 2).
func usageErr(format string, a ...any) error {
	return &usageError{fmt.Errorf(format, a...)}
}

// newLogger builds the process logger on w (stderr, or --log-file):
// readable on a terminal, one JSON object per line otherwise (or with
// --log-format json). Its lines go through the returned logOutput, which
// the caller closes (flushes) before the process exits.
func newLogger(w io.Writer) (zerolog.Logger, *logOutput) {
	lvl, _ := zerolog.ParseLevel(global.logLevel)
	if global.quiet && lvl < zerolog.WarnLevel {
		lvl = zerolog.WarnLevel
	}
	zerolog.TimeFieldFormat = time.RFC3339Nano
	if global.logFormat == "console" || (global.logFormat == "auto" && isTerminal(w)) {
		out := newLogOutput(statusAwareWriter(w))
		cw := zerolog.ConsoleWriter{Out: out, TimeFormat: "15:04:05", NoColor: os.Getenv("NO_COLOR") != ""}
		return zerolog.New(cw).Level(lvl).With().Timestamp().Logger(), out
	}
	out := newLogOutput(statusAwareWriter(w))
	return zerolog.New(out).Level(lvl).With().Timestamp().Logger(), out
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && (isatty.IsTerminal(f.Fd()) || isatty.IsCygwinTerminal(f.Fd()))
}

func jsonLogs(w io.Writer) bool {
	return global.logFormat == "json" || (global.logFormat == "auto" && !isTerminal(w))
}
