// Package capture holds the sources of raw media: the platform camera and
// microphone (AVFoundation on darwin), screen capture, and, in package
// testsrc, the test source ("virtual camera") that works everywhere.
package capture

import (
	"context"
	"errors"
	"fmt"

	"github.com/livecap/livecap/internal/clock"
	"github.com/livecap/livecap/internal/media"
)

// VideoFunc receives each captured frame. It may block (the test source in
// fast mode is paced by it); platform sources copy or queue before blocking.
type VideoFunc func(*media.VideoFrame)

// AudioFunc receives each captured audio buffer.
type AudioFunc func(*media.AudioBuffer)

// Source produces raw video and/or audio on the session timeline.
type Source interface {
	// Run delivers media until ctx is done or the source ends (a source
	// with a duration limit), then returns. Callbacks are invoked from
	// Run's goroutine or the source's own threads; never concurrently for
	// the same kind.
	Run(ctx context.Context, v VideoFunc, a AudioFunc) error
	// Video returns the video format, or ok=false when there is no video.
	Video() (w, h, fps int, ok bool)
	// Audio returns the audio format, or ok=false when there is no audio.
	Audio() (sampleRate, channels int, ok bool)
}

// Device describes one capture device, for `livecap devices`.
type Device struct {
	Kind  string `json:"kind"` // "video", "audio", "screen"
	Index int    `json:"index"`
	Name  string `json:"name"`
	ID    string `json:"id"`
	// API is the capture layer that opens it ("v4l2", "pulse", "alsa",
	// "x11grab"; empty where there is one, as on macOS).
	API string `json:"api,omitempty"`
	// Default is set on what `livecap stream` uses without --video/--audio.
	Default bool `json:"default,omitempty"`
	// Formats offered, human readable ("1280x720@30").
	Formats []string `json:"formats,omitempty"`
}

// VideoRequest selects a camera or screen and its format.
type VideoRequest struct {
	// Device is what the user gave to --video: an index ("0"), a name, a
	// unique ID, "screen" or "screen:N". Empty means the default camera.
	Device string
	Width  int // 0: the device's default
	Height int
	FPS    int // whole frames per second (Rate rounded when Rate is set)
	// Rate is the exact rate when the user gave one (30000/1001 for
	// --fps 29.97); zero: FPS. A source that only does whole rates uses FPS.
	Rate media.FrameRate
}

// AudioRequest selects a microphone (or system audio for screen capture).
type AudioRequest struct {
	Device     string // index, name or unique ID; empty: default microphone
	SampleRate int    // 0: the device's default
	Channels   int    // 0: the device's default
}

// Platform is implemented by platform capture code (AVFoundation and
// ScreenCaptureKit on darwin) and registered from its init function.
type Platform interface {
	// Devices lists cameras, microphones and screens.
	Devices() ([]Device, error)
	// Open starts a source for the requested camera/screen and microphone.
	// Either request may be nil (no video, or no audio). The clock's base
	// instant is the session's: all timestamps are converted onto it.
	Open(v *VideoRequest, a *AudioRequest, base clock.Clock) (Source, error)
}

var platform Platform

// RegisterPlatform installs the platform capture implementation.
func RegisterPlatform(p Platform) { platform = p }

// PlatformCapture returns the platform implementation, or nil when this
// build has none (Linux: only the test source captures).
func PlatformCapture() Platform { return platform }

// ErrPermission is wrapped by errors a platform returns when the user has
// denied camera, microphone or screen recording permission.
var ErrPermission = errors.New("permission denied")

// ErrDevice is wrapped by errors about a missing device or an unsupported
// format.
var ErrDevice = errors.New("capture device error")

// SkipCounter is implemented by every source: Skipped counts the video
// frames it captured (or, for the test source, was due to produce) and
// never delivered, because the consumer fell behind, the capture layer
// dropped them late, or they came out of order. The pipeline reports the
// count as source_skipped; every source asserts it at compile time
// (var _ capture.SkipCounter = ...), so a new source cannot report 0 by
// omission.
type SkipCounter interface {
	Skipped() uint64
}

// ErrSourceLost is wrapped by the error that ends a session whose source
// stopped delivering (a camera unplugged, a capture session runtime error,
// screen sharing stopped from the menu bar, or no media for longer than
// the watchdog allows). It wraps ErrDevice.
var ErrSourceLost = fmt.Errorf("%w: source lost", ErrDevice)

// LossReporter is implemented by sources that know why they stopped
// delivering (the system told them): LostReason returns that, or "" while
// all is well. The watchdog puts it into the source_lost event.
type LossReporter interface {
	LostReason() string
}
