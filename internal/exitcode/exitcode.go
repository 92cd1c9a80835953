// Package exitcode lists livecap's documented process exit codes. Scripts
// depend on them: never renumber. Only package main maps errors to them
// (cmd/livecap/exit.go); libraries return typed errors.
package exitcode

const (
	OK          = 0   // success, including a graceful stop (SIGINT, SIGTERM, --duration)
	Failure     = 1   // a runtime failure not covered below (I/O error, recording failed)
	Usage       = 2   // bad usage: an invalid flag value, URL or argument
	Disk        = 3   // not enough free disk: --disk-check=refuse, or the recording stopped for low disk (even when streams went on)
	Device      = 4   // capture device missing or permission denied
	Encoder     = 5   // encoder failure
	AllGaveUp   = 6   // stream only: every destination gave up
	Check       = 7   // analyze: a measured value exceeded its limit
	Permission  = 8   // camera, microphone or screen recording permission denied (macOS)
	Skipped     = 9   // --max-skipped: the source or the encoder skipped more frames than allowed
	Interrupted = 130 // a second interrupt forced an immediate stop
)
