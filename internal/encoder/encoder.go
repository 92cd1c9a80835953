// Package encoder defines the encoder interface that every platform backend
// implements (libavcodec on Linux, VideoToolbox/AudioToolbox on darwin), and
// a registry through which the platform packages make themselves available
// without build tags in the code above the seam.
package encoder

import (
	"errors"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/livecap/livecap/internal/media"
)

// VideoSettings configure an H.264 encoder.
type VideoSettings struct {
	Width, Height int
	FPS           int
	Bitrate       int           // average bits per second
	KeyInterval   time.Duration // maximum time between keyframes
	// Realtime asks for the encoder's real-time mode (low latency, no
	// lookahead). Fast test runs set it too: latency, not speed, is what it
	// trades.
	Realtime bool
	// Tuning: preset, profile, rate control (tuning.go).
	Tuning
}

// AudioSettings configure an AAC-LC encoder.
type AudioSettings struct {
	SampleRate int
	Channels   int
	Bitrate    int
}

// Output receives every encoded packet, in decode order, on the encoder's
// own goroutine or thread. It must not block for long.
type Output func(*media.Packet)

// VideoEncoder turns raw frames into H.264 access units.
type VideoEncoder interface {
	// Encode submits one frame. Frames must arrive with rising PTS.
	Encode(f *media.VideoFrame) error
	// ForceKeyframe makes the next submitted frame an IDR. Safe to call
	// from any goroutine.
	ForceKeyframe()
	// Config returns SPS/PPS and the stream parameters; valid after Open.
	Config() media.VideoConfig
	// Flush drains every pending frame to Output.
	Flush() error
	Close() error
}

// Warner is implemented by an encoder that accepted its settings with
// reservations (VideoToolbox: a property it does not support); the
// pipeline logs each warning once it is open.
type Warner interface {
	Warnings() []string
}

// AudioEncoder turns PCM into AAC-LC frames.
type AudioEncoder interface {
	// Encode submits PCM; the encoder buffers it into 1024-sample frames.
	// Buffers must be contiguous: the PTS of the packets it emits follow
	// the sample count from the first buffer's PTS.
	Encode(b *media.AudioBuffer) error
	Config() media.AudioConfig
	Flush() error
	Close() error
}

// Backend opens encoders of one platform.
type Backend interface {
	Name() string
	OpenVideo(s VideoSettings, out Output) (VideoEncoder, error)
	OpenAudio(s AudioSettings, out Output) (AudioEncoder, error)
}

var (
	mu       sync.Mutex
	backends = map[string]Backend{}
)

// Register makes a backend available; platform packages call it from init.
func Register(b Backend) {
	mu.Lock()
	defer mu.Unlock()
	backends[b.Name()] = b
}

// ErrNoBackend is returned when no encoder backend is built into this binary.
var ErrNoBackend = errors.New("no encoder backend in this build (linux needs libavcodec, darwin VideoToolbox)")

// Default returns the backend for this platform, or the one named.
func Default(name string) (Backend, error) {
	mu.Lock()
	defer mu.Unlock()
	if name != "" {
		b, ok := backends[name]
		if !ok {
			return nil, fmt.Errorf("encoder backend %q not available (have: %v)", name, namesLocked())
		}
		return b, nil
	}
	names := namesLocked()
	if len(names) == 0 {
		return nil, ErrNoBackend
	}
	return backends[names[0]], nil
}

func namesLocked() []string {
	var n []string
	for k := range backends {
		n = append(n, k)
	}
	sort.Strings(n)
	return n
}
