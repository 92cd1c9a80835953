// Package testsrc is the test source ("virtual camera" and microphone): a
// picture and a sound that make A/V sync and frame continuity measurable
// end to end. What it draws is defined in internal/testpattern:
//
//   - every frame carries its index twice: as a large human-readable
//     counter and as the pattern's barcode in the top band;
//   - frame i is a full white flash when testpattern.IsFlash(i, FPS), at
//     t = 0 s, 1 s, …;
//   - the audio carries the pattern's beep whose first sample is captured
//     at the same host instant as each flash.
//
// The analyzer (livecap analyze) finds flashes and beep onsets in what the
// pipeline wrote and reports their offset.
//
// Files: testsrc.go (options, pacing in real time and fast mode), video.go
// (drawing and the frame pool), audio.go (the beep track), font.go (the
// counter's glyphs).
package testsrc

import (
	"context"
	"fmt"
	"math"
	"sync"
	"sync/atomic"
	"time"

	"github.com/livecap/livecap/internal/capture"
	"github.com/livecap/livecap/internal/clock"
	"github.com/livecap/livecap/internal/testpattern"
)

const (
	// audioBufferDur is the length of each audio buffer, counted in device
	// samples (what a real driver's IO buffer holds).
	audioBufferDur = 10 * time.Millisecond

	// maxAudioBacklog: in real time, when the consumer stalls for longer
	// than this, the emulated device's ring buffer overruns and the stale
	// audio is dropped, as a real microphone's would be.
	maxAudioBacklog = time.Second
)

// Options configures the test source. Zero values of the format fields
// take the defaults: 1280x720, 30 fps, 48000 Hz, mono.
type Options struct {
	Width, Height, FPS   int // video: see testpattern.CheckSize and CheckFPS
	SampleRate, Channels int // audio: sample rate (a multiple of 100), 1 or 2 channels
	Video, Audio         bool
	// Realtime paces delivery on Clock; false is fast mode: as fast as the
	// callbacks return, on a virtual timeline.
	Realtime bool
	// SkewPPM is the emulated audio device clock error against the host
	// clock: the device produces SampleRate*(1+SkewPPM/1e6) samples per
	// host second while labelling them SampleRate. Within ±10000.
	SkewPPM float64
	// Duration stops the source after this much media time (0: until the
	// context is done).
	Duration time.Duration
	// Clock is the session clock (time since the base instant). In real
	// time it paces delivery; nil means a host clock whose base is the
	// start of Run. In fast mode it is not read; if it has a
	// Set(time.Duration) method (clocktest.Virtual) it is advanced to each
	// item's delivery instant just before the callback, so that whatever
	// stamps times from it sees the timeline a real-time run would.
	Clock clock.Clock
}

// Source is the synthetic camera and microphone.
type Source struct {
	o Options

	// Video geometry and precomputed rows.
	band         int // barcode band height (rows)
	barsEnd      int // first row below the colour bars (even)
	barsY        []byte
	barsU, barsV []byte
	rampY        []byte
	scale        int // counter font scale
	pool         framePool

	// Audio.
	effRate   float64   // device samples per host second
	bufFrames int       // device sample frames per buffer
	beep      []float32 // one beep, mono, from its onset

	skipped atomic.Uint64
}

// New validates o and precomputes what every frame reuses.
func New(o Options) (*Source, error) {
	if !o.Video && !o.Audio {
		return nil, fmt.Errorf("test source: neither video nor audio requested; enable at least one")
	}
	if o.Width == 0 && o.Height == 0 {
		o.Width, o.Height = 1280, 720
	}
	if o.FPS == 0 {
		o.FPS = 30
	}
	if o.SampleRate == 0 {
		o.SampleRate = 48000
	}
	if o.Channels == 0 {
		o.Channels = 1
	}
	if o.Video {
		if err := testpattern.CheckSize(o.Width, o.Height); err != nil {
			return nil, fmt.Errorf("test source: %w", err)
		}
		if err := testpattern.CheckFPS(o.FPS); err != nil {
			return nil, fmt.Errorf("test source: %w", err)
		}
	}
	if o.Audio {
		if o.SampleRate < 8000 || o.SampleRate > 192000 || o.SampleRate%100 != 0 {
			return nil, fmt.Errorf("test source: sample rate %d not allowed: use 8000..192000 Hz, a multiple of 100 (48000 is usual)", o.SampleRate)
		}
		if o.Channels != 1 && o.Channels != 2 {
			return nil, fmt.Errorf("test source: %d audio channels not allowed: use 1 or 2", o.Channels)
		}
		if math.IsNaN(o.SkewPPM) || math.Abs(o.SkewPPM) > 10000 {
			return nil, fmt.Errorf("test source: audio skew %v ppm not allowed: use -10000..10000", o.SkewPPM)
		}
	}
	if o.Duration < 0 {
		return nil, fmt.Errorf("test source: duration %v not allowed: use 0 (no limit) or more", o.Duration)
	}
	s := &Source{o: o}
	if o.Video {
		s.initVideo()
	}
	if o.Audio {
		s.initAudio()
	}
	return s, nil
}

// Video implements capture.Source.
func (s *Source) Video() (w, h, fps int, ok bool) {
	return s.o.Width, s.o.Height, s.o.FPS, s.o.Video
}

// Audio implements capture.Source.
func (s *Source) Audio() (sampleRate, channels int, ok bool) {
	return s.o.SampleRate, s.o.Channels, s.o.Audio
}

var _ capture.Source = (*Source)(nil)

// Skipped returns how many video frames real-time pacing dropped because
// the consumer fell more than two frame intervals behind.
func (s *Source) Skipped() uint64 { return s.skipped.Load() }

var _ capture.SkipCounter = (*Source)(nil)

// Devices lists the test source as `livecap devices` shows it.
func Devices() []capture.Device {
	return []capture.Device{
		{Kind: "video", Index: 0, Name: "livecap test pattern (flash + frame barcode)", ID: "test",
			Formats: []string{
				fmt.Sprintf("any even WxH from %dx%d to %dx%d", testpattern.MinWidth, testpattern.MinHeight, testpattern.MaxWidth, testpattern.MaxHeight),
				fmt.Sprintf("%d..%d fps", testpattern.MinFPS, testpattern.MaxFPS)}},
		{Kind: "audio", Index: 0, Name: fmt.Sprintf("livecap test tone (%d Hz beep at each flash)", testpattern.BeepFrequency), ID: "test",
			Formats: []string{"48000 Hz mono", "48000 Hz stereo"}},
	}
}

// framePTS is the presentation time of frame i, computed from the index so
// that no rounding accumulates over hours.
func (s *Source) framePTS(i int64) time.Duration {
	return time.Duration(i) * time.Second / time.Duration(s.o.FPS)
}

// sampleTime is the host instant at which device sample n is captured.
func (s *Source) sampleTime(n int64) time.Duration {
	return time.Duration(math.Round(float64(n) * 1e9 / s.effRate))
}

// limits returns how many frames and device samples fall before Duration
// (0: unlimited).
func (s *Source) limits() (frames, samples int64) {
	if s.o.Duration <= 0 {
		return 0, 0
	}
	d := int64(s.o.Duration)
	// Frame i is included when i/FPS < Duration.
	frames = (d*int64(s.o.FPS) + int64(time.Second) - 1) / int64(time.Second)
	// Sample n is included when n/effRate < Duration.
	samples = int64(math.Ceil(s.o.Duration.Seconds() * s.effRate))
	return frames, samples
}

// Run implements capture.Source. A nil callback (or a kind not enabled) means that
// kind is not produced. It returns nil when Duration is reached or ctx is
// done.
func (s *Source) Run(ctx context.Context, v capture.VideoFunc, a capture.AudioFunc) error {
	if !s.o.Video {
		v = nil
	}
	if !s.o.Audio {
		a = nil
	}
	if v == nil && a == nil {
		return nil
	}
	if !s.o.Realtime {
		s.runFast(ctx, v, a)
		return nil
	}
	clk := s.o.Clock
	if clk == nil {
		clk = clock.NewHost()
	}
	var wg sync.WaitGroup
	if v != nil {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s.runVideoRealtime(ctx, clk, v)
		}()
	}
	if a != nil {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s.runAudioRealtime(ctx, clk, a)
		}()
	}
	wg.Wait()
	return nil
}

// runFast delivers video and audio from one goroutine in the order a
// real-time run would (each audio buffer at the host instant of its last
// sample), without waiting.
func (s *Source) runFast(ctx context.Context, v capture.VideoFunc, a capture.AudioFunc) {
	setter, _ := s.o.Clock.(interface{ Set(time.Duration) })
	frameLimit, sampleLimit := s.limits()
	var (
		fi int64 // next frame
		bi int64 // next audio buffer
	)
	for ctx.Err() == nil {
		haveV := v != nil && (frameLimit == 0 || fi < frameLimit)
		first, end := bi*int64(s.bufFrames), (bi+1)*int64(s.bufFrames)
		if sampleLimit > 0 && end > sampleLimit {
			end = sampleLimit
		}
		haveA := a != nil && end > first
		if !haveV && !haveA {
			return
		}
		var tv, ta time.Duration
		if haveV {
			tv = s.framePTS(fi)
		}
		if haveA {
			ta = s.sampleTime(end - 1)
		}
		if haveV && (!haveA || tv <= ta) {
			if setter != nil {
				setter.Set(tv)
			}
			v(s.renderFrame(fi))
			fi++
		} else {
			if setter != nil {
				setter.Set(ta)
			}
			a(s.audioBuffer(first, end))
			bi++
		}
	}
}

// sleepUntil waits until clk reaches t; false when ctx ended first.
func sleepUntil(ctx context.Context, clk clock.Clock, t time.Duration, timer *time.Timer) bool {
	for {
		now := clk.Now()
		if now >= t {
			return true
		}
		timer.Reset(t - now)
		select {
		case <-ctx.Done():
			timer.Stop()
			return false
		case <-timer.C:
		}
	}
}

func (s *Source) runVideoRealtime(ctx context.Context, clk clock.Clock, v capture.VideoFunc) {
	frameLimit, _ := s.limits()
	interval := time.Second / time.Duration(s.o.FPS)
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for i := int64(0); frameLimit == 0 || i < frameLimit; i++ {
		t := s.framePTS(i)
		if !sleepUntil(ctx, clk, t, timer) {
			return
		}
		// A real camera does not queue frames for a consumer that fell
		// behind: skip to the first frame at most two intervals late, so
		// latency stays bounded and the counter shows the gap.
		if now := clk.Now(); now-t > 2*interval {
			// Smallest j with now - t(j) <= 2 intervals.
			j := int64(((now-2*interval)*time.Duration(s.o.FPS) + time.Second - 1) / time.Second)
			if frameLimit > 0 {
				j = min(j, frameLimit) // frames past the end are not skipped: they never exist
			}
			if j > i {
				s.skipped.Add(uint64(j - i))
				i = j - 1
				continue
			}
		}
		if ctx.Err() != nil {
			return
		}
		v(s.renderFrame(i))
	}
}

func (s *Source) runAudioRealtime(ctx context.Context, clk clock.Clock, a capture.AudioFunc) {
	_, sampleLimit := s.limits()
	bf := int64(s.bufFrames)
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	// A microphone opened late (the session began before Run) starts
	// capturing now, not at the base instant: begin with the buffer that
	// contains the current instant.
	bi := int64(clk.Now().Seconds()*s.effRate) / bf
	for {
		first, end := bi*bf, (bi+1)*bf
		if sampleLimit > 0 && end > sampleLimit {
			end = sampleLimit
		}
		if end <= first {
			return
		}
		if !sleepUntil(ctx, clk, s.sampleTime(end-1), timer) {
			return
		}
		if now := clk.Now(); now-s.sampleTime(end-1) > maxAudioBacklog {
			bi = int64(now.Seconds()*s.effRate) / bf
			continue
		}
		if ctx.Err() != nil {
			return
		}
		a(s.audioBuffer(first, end))
		bi++
	}
}
