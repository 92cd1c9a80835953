// Package capture holds the sources of raw media: the platform camera and
// microphone (AVFoundation on darwin), screen capture, and the test source
// ("virtual camera") that works everywhere.
package capture

import (
	"context"

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
	// Formats offered, human readable ("1280x720@30").
	Formats []string `json:"formats,omitempty"`
}
