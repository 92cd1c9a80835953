// Package session runs one livecap session: it opens the source and the
// encoders (or a pre-encoded input), waits for the stream configuration,
// starts every sink (the recorder and the destinations) before the first
// packet, handles signals, drains the sinks at the end and says why the
// session stopped.
//
// It is the only place that knows the start-up protocol:
//
//	Pipeline.Run → Pipeline.Info → build sinks → Hub().Add each → Pipeline.Attach
//
// The session reports what happens through an Observer and returns typed
// errors; package main renders events and maps errors to exit codes.
package session

import (
	"io"
	"os"
	"syscall"
	"time"

	"github.com/rs/zerolog"

	"github.com/livecap/livecap/internal/diskcheck"
	"github.com/livecap/livecap/internal/encoder"
	"github.com/livecap/livecap/internal/hooks"
	"github.com/livecap/livecap/internal/media"
	"github.com/livecap/livecap/internal/publish"
	"github.com/livecap/livecap/internal/record"
)

// Config is a validated session: package main checks every flag and
// builds it; the session trusts its values.
type Config struct {
	// Source. Video and Audio name the capture devices: "" for the
	// default, "test" for the test source, "none" for no track. Input, when
	// set, replaces capture with a pre-encoded MP4/MOV file.
	Video, Audio string
	Input        string
	Loop         bool    // Input: start over at the end
	Fast         bool    // test source / Input: as fast as the encoder goes
	SkewPPM      float64 // test source: audio clock error

	Width, Height, FPS int
	// Rate is the exact frame rate (FPS is it rounded): 30000/1001 for
	// --fps 29.97. Cameras and screens get it; the test source runs at
	// whole rates only.
	Rate                 media.FrameRate
	Bitrate              int // video, bits per second
	AudioBitrate         int
	SampleRate, Channels int
	KeyInterval          time.Duration
	Tuning               encoder.Tuning // --preset, --h264-profile, --rate-control

	// Duration stops the session after this much media time (0: none).
	Duration time.Duration

	// Recording (RecordDir "" for none).
	RecordDir string
	Format    string        // "mp4" or "mov"
	Segment   time.Duration // media time per file
	Fragment  time.Duration // media time per fragment (default 1s)
	// DiskCheck is "warn", "refuse" or "off"; Expected is the recording
	// length the check estimates for.
	DiskCheck string
	Expected  time.Duration

	// Destinations.
	Destinations []*publish.Destination
	Backoff      publish.Backoff
	MaxRetries   int // consecutive failed connects before giving up (0: never)

	// MaxSkipped fails the run when the source and the encoder skip more
	// frames than this (zero value: no limit).
	MaxSkipped SkipLimit

	// Hook is the --on-segment command (program and fixed arguments);
	// HookWait bounds the wait for runs still going at exit.
	Hook     []string
	HookWait time.Duration

	// Log receives plain log lines (no event contract). Events go to
	// Observer.
	Log      zerolog.Logger
	Observer Observer
	// Signals, when set, replaces the process's SIGINT/SIGTERM: the first
	// value received stops gracefully, a second stops at once.
	Signals <-chan os.Signal
	// Status, when set, is called once the sinks are attached and media
	// flows; the func it returns is called when the pipeline has ended,
	// before the sinks drain (the status line goes away then).
	Status func(*Session) (stop func())
	// Stdout is where --latency-report writes (nil: none).
	LatencyReport io.Writer
}

// Observer receives everything that happens, in order, on the goroutine of
// the component concerned: it must be safe for concurrent use and must not
// block.
type Observer interface {
	Session(Event)
	Record(record.Event)
	Publish(publish.Event)
	Hook(hooks.Event)
}

// Event is a session-level event; Name is one of the names in package
// events, and only the fields of that event are set.
type Event struct {
	Name string

	// started
	Info    media.StreamInfo
	Encoder string // backend name
	// What is captured, for a person: "camera /dev/video0 (\"C920\")
	// 1280x720@30 mjpeg", "X screen :0.0 (1920x1080)", "test pattern";
	// "" when the session has no such stream or plays an --input file.
	VideoSource, AudioSource string

	// disk_low (at start)
	Disk diskcheck.Result
	Msg  string // disk_low: the sentence for a person

	// segment_recovered
	Recovered record.Recovered

	// input_truncated
	Path string

	// source_lost, source_back (Msg: why, when the source knows)
	Kind string        // "video" or "audio"
	Gap  time.Duration // how long nothing has arrived

	// hooks_done
	Hooks hooks.Stats

	// frames_skipped: how many since the last frames_skipped event (Skipped
	// and EncoderSkipped are totals, as in stopped)
	NewSkipped uint64

	// stopped
	Reason  string // end, duration, end_of_input, no_sinks, forced, or a signal name
	Err     error  // why the session failed, nil on success
	Elapsed time.Duration
	Frames  uint64 // video frames encoded
	Skipped uint64 // frames the source skipped
	// EncoderSkipped: frames the video encoder dropped (VideoToolbox in
	// real-time mode).
	EncoderSkipped uint64
}

// StopSignals stop a session gracefully (a second SIGINT or SIGTERM stops
// it at once). SIGHUP is there so that closing the terminal or the SSH
// session finalizes the recording instead of killing it.
var StopSignals = []os.Signal{syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP}

// Stop reasons in the stopped event.
const (
	ReasonEnd        = "end"
	ReasonDuration   = "duration"
	ReasonEndOfInput = "end_of_input"
	ReasonNoSinks    = "no_sinks"
	ReasonForced     = "forced"
	ReasonMaxSkipped = "max_skipped"
	// ReasonSourceLost: the watchdog gave up on a source that stopped
	// delivering (exit code 4).
	ReasonSourceLost = "source_lost"
)
