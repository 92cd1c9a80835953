package session

import (
	"errors"
	"fmt"
	"io"
	"runtime"
	"strings"
	"time"

	"github.com/livecap/livecap/internal/capture"
	"github.com/livecap/livecap/internal/capture/testsrc"
	"github.com/livecap/livecap/internal/clock"
	"github.com/livecap/livecap/internal/encoder"
	"github.com/livecap/livecap/internal/events"
	"github.com/livecap/livecap/internal/input"
	"github.com/livecap/livecap/internal/pipeline"
)

// IsTestSource reports whether video and audio (as given to --video and
// --audio) select only the test source.
func IsTestSource(video, audio string) bool {
	return (video == "test" || video == "none") && (audio == "test" || audio == "none")
}

// openSource resolves Video/Audio to a capture source.
func (s *Session) openSource() (capture.Source, error) {
	c := &s.cfg
	v, a := c.Video, c.Audio
	plat := capture.PlatformCapture()
	if plat == nil {
		// No camera capture in this build (Linux): the test source is the
		// default, as a virtual camera.
		if v == "" {
			v = "test"
		}
		if a == "" {
			a = "test"
		}
	}
	if plat != nil && v == "" && a == "" {
		if err := checkDefaults(plat); err != nil {
			return nil, err
		}
	}
	if IsTestSource(v, a) {
		if v == "test" && !c.Rate.IsZero() && !c.Rate.Whole() {
			return nil, &ConfigError{fmt.Errorf("--fps %s: the test source runs at whole frame rates (1 to 120); %s needs a camera or a screen", c.Rate, c.Rate)}
		}
		o := testsrc.Options{
			Width: c.Width, Height: c.Height, FPS: c.FPS,
			SampleRate: c.SampleRate, Channels: c.Channels,
			Video: v == "test", Audio: a == "test",
			Realtime: !c.Fast, SkewPPM: c.SkewPPM, Duration: c.Duration,
		}
		if !c.Fast {
			o.Clock = s.host
		}
		if c.Fast && c.Duration == 0 {
			return nil, &ConfigError{errors.New("--fast needs --duration: a fast run ends on media time")}
		}
		src, err := testsrc.New(o)
		if err != nil {
			return nil, &ConfigError{err}
		}
		if o.Video {
			s.sources[0] = "test pattern"
		}
		if o.Audio {
			s.sources[1] = "test tone"
		}
		return src, nil
	}
	if v == "test" || a == "test" {
		return nil, &ConfigError{errors.New("mixing the test source with a device is not supported: use --video test --audio test, or devices for both")}
	}
	if plat == nil {
		return nil, &DeviceError{fmt.Errorf("no camera or microphone capture on %s: use --video test --audio test (see livecap devices)", runtime.GOOS)}
	}
	var vr *capture.VideoRequest
	var ar *capture.AudioRequest
	if v != "none" {
		vr = &capture.VideoRequest{Device: v, Width: c.Width, Height: c.Height, FPS: c.FPS, Rate: c.Rate}
	}
	if a != "none" {
		ar = &capture.AudioRequest{Device: a, SampleRate: c.SampleRate, Channels: c.Channels}
	}
	src, err := plat.Open(vr, ar, s.host)
	if err != nil {
		return nil, &DeviceError{err}
	}
	if n, ok := src.(interface{ SourceNames() (string, string) }); ok {
		s.sources[0], s.sources[1] = n.SourceNames()
	}
	return src, nil
}

// checkDefaults refuses a plain `livecap stream` (no --video, no --audio)
// on a machine that lacks the default camera or microphone, instead of
// silently recording something else; platforms that can tell (Linux)
// implement Defaults.
func checkDefaults(plat capture.Platform) error {
	d, ok := plat.(interface {
		Defaults() (camera, mic bool, why []string)
	})
	if !ok {
		return nil
	}
	cam, mic, why := d.Defaults()
	reason := ""
	if len(why) > 0 {
		reason = " (" + strings.Join(why, "; ") + ")"
	}
	switch {
	case !cam && !mic:
		return &DeviceError{fmt.Errorf("%w: no camera and no microphone to capture%s: use --video test --audio test for the test pattern, or choose devices from livecap devices", capture.ErrDevice, reason)}
	case !cam:
		return &DeviceError{fmt.Errorf("%w: no camera to capture%s: use --video none to record the microphone alone, --video screen, or --video test --audio test", capture.ErrDevice, reason)}
	case !mic:
		return &DeviceError{fmt.Errorf("%w: no microphone to capture%s: use --audio none to record the camera alone, or --video test --audio test", capture.ErrDevice, reason)}
	}
	return nil
}

// openPipeline builds capture → encoders → hub, or input → hub.
func (s *Session) openPipeline() error {
	c := &s.cfg
	if c.Input != "" {
		rd, err := input.Open(c.Input, input.Options{Realtime: !c.Fast, Loop: c.Loop})
		if err != nil {
			return &ConfigError{fmt.Errorf("invalid --input %q: %v", c.Input, err)}
		}
		if rd.Info().Video == nil {
			rd.Close()
			if other := rd.OtherVideo(); len(other) > 0 {
				return &ConfigError{fmt.Errorf("invalid --input %q: H.264 only: its video is %s (re-encode it, e.g. ffmpeg -c:v libx264)", c.Input, strings.Join(other, ", "))}
			}
			return &ConfigError{fmt.Errorf("invalid --input %q: %w", c.Input, ErrAudioOnly)}
		}
		s.input = rd
		s.pipe = pipeline.NewPackets(rd, s.host, c.Duration, c.Fast)
		s.backend = "none (pre-encoded input)"
		return nil
	}
	src, err := s.openSource()
	if err != nil {
		return err
	}
	if _, _, _, ok := src.Video(); !ok {
		return &ConfigError{fmt.Errorf("invalid --video none: %w", ErrAudioOnly)}
	}
	backend, err := encoder.Default("")
	if err != nil {
		return &pipeline.EncoderError{Err: err}
	}
	pcfg := pipeline.Config{
		Source:  src,
		Backend: backend,
		// Real-time encoding (VideoToolbox's RealTime) when media arrives
		// in real time; a fast run lets the encoder take its time.
		Video: encoder.VideoSettings{Width: c.Width, Height: c.Height, FPS: c.FPS, Bitrate: c.Bitrate,
			KeyInterval: c.KeyInterval, Realtime: !c.Fast, Tuning: c.Tuning},
		Audio:    encoder.AudioSettings{SampleRate: c.SampleRate, Channels: c.Channels, Bitrate: c.AudioBitrate},
		Clock:    s.host,
		Duration: c.Duration,
		Log:      c.Log,
		Live:     !c.Fast,
		Watchdog: pipeline.Watchdog{
			OnLost: func(kind string, gap time.Duration, reason string) {
				s.obs.Session(Event{Name: events.SourceLost, Kind: kind, Gap: gap, Msg: reason})
			},
			OnBack: func(kind string, gap time.Duration) {
				s.obs.Session(Event{Name: events.SourceBack, Kind: kind, Gap: gap})
			},
		},
	}
	if c.Fast {
		// A fast run is paced by its consumers, not by real time.
		pcfg.Watchdog.Lost = -1
	}
	if sr, ch, ok := src.Audio(); ok {
		pcfg.Audio.SampleRate, pcfg.Audio.Channels = sr, ch
		// The source's sample count follows the device's clock, which runs
		// a few hundred ppm off the host's: put its audio on the host clock.
		pcfg.Align = clock.NewAudioAligner(sr, ch)
	}
	if w, h, fps, ok := src.Video(); ok {
		pcfg.Video.Width, pcfg.Video.Height, pcfg.Video.FPS = w, h, fps
	}
	pipe, err := pipeline.New(pcfg)
	if err != nil {
		// Opened and never run: a camera stays locked until closed.
		if cl, ok := src.(io.Closer); ok {
			cl.Close()
		}
		return err
	}
	s.pipe = pipe
	s.backend = backend.Name()
	return nil
}
