package testsrc

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/livecap/livecap/internal/capture"
	"github.com/livecap/livecap/internal/clock/clocktest"
	"github.com/livecap/livecap/internal/media"
	"github.com/livecap/livecap/internal/testpattern"
)

// meanBelowBand is the mean luma of rows [band, h), what the flash detector
// looks at.
func meanBelowBand(y []byte, stride, w, h int) float64 {
	var sum int64
	for r := testpattern.Band(h); r < h; r++ {
		for _, p := range y[r*stride : r*stride+w] {
			sum += int64(p)
		}
	}
	return float64(sum) / float64(w*(h-testpattern.Band(h)))
}

func mustSource(t testing.TB, o Options) *Source {
	t.Helper()
	s, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestNewRejectsBadOptions(t *testing.T) {
	ok := Options{Width: 320, Height: 240, FPS: 30, SampleRate: 48000, Channels: 1, Video: true, Audio: true}
	cases := []struct {
		name string
		mod  func(*Options)
		want string
	}{
		{"nothing", func(o *Options) { o.Video, o.Audio = false, false }, "neither video nor audio"},
		{"odd width", func(o *Options) { o.Width = 321 }, "321x240"},
		{"too narrow", func(o *Options) { o.Width = 40 }, "40x240"},
		{"too short", func(o *Options) { o.Height = 16 }, "320x16"},
		{"fps 0 is default, fps 121 is not", func(o *Options) { o.FPS = 121 }, "frame rate 121"},
		{"negative fps", func(o *Options) { o.FPS = -1 }, "frame rate -1"},
		{"rate", func(o *Options) { o.SampleRate = 44101 }, "sample rate 44101"},
		{"channels", func(o *Options) { o.Channels = 6 }, "6 audio channels"},
		{"skew", func(o *Options) { o.SkewPPM = 20000 }, "skew 20000"},
		{"skew NaN", func(o *Options) { o.SkewPPM = math.NaN() }, "skew NaN"},
		{"duration", func(o *Options) { o.Duration = -time.Second }, "duration -1s"},
	}
	for _, c := range cases {
		o := ok
		c.mod(&o)
		_, err := New(o)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: got error %v, want one containing %q", c.name, err, c.want)
		}
	}
	if _, err := New(ok); err != nil {
		t.Fatalf("valid options rejected: %v", err)
	}
	// Audio fields are not checked when there is no audio, and vice versa.
	if _, err := New(Options{Video: true, Channels: 6}); err != nil {
		t.Errorf("video-only source rejected for an audio field: %v", err)
	}
	s := mustSource(t, Options{Video: true, Audio: true})
	if w, h, fps, ok := s.Video(); w != 1280 || h != 720 || fps != 30 || !ok {
		t.Errorf("defaults: video %dx%d@%d %v", w, h, fps, ok)
	}
	if sr, ch, ok := s.Audio(); sr != 48000 || ch != 1 || !ok {
		t.Errorf("defaults: audio %d Hz %d ch %v", sr, ch, ok)
	}
}

// collect runs s and records everything it delivers, plus the order of
// kinds, checking that no callback runs concurrently with itself.
type collected struct {
	mu     sync.Mutex
	frames []media.VideoFrame // planes are copies
	pts    []time.Duration
	audio  []*media.AudioBuffer
	order  []time.Duration // delivery instant of every item, in order (fast mode)
	vBusy  bool
	aBusy  bool
	errs   []string
	keepPx bool
}

func (c *collected) video(f *media.VideoFrame) {
	c.mu.Lock()
	if c.vBusy {
		c.errs = append(c.errs, "concurrent video callbacks")
	}
	c.vBusy = true
	c.mu.Unlock()
	g := *f
	if c.keepPx {
		for p := range g.Planes {
			g.Planes[p] = bytes.Clone(f.Planes[p])
		}
	}
	g.Release = nil
	f.Release()
	c.mu.Lock()
	c.frames = append(c.frames, g)
	c.order = append(c.order, f.PTS)
	c.vBusy = false
	c.mu.Unlock()
}

func (c *collected) audioFn(s *Source) capture.AudioFunc {
	return func(b *media.AudioBuffer) {
		c.mu.Lock()
		defer c.mu.Unlock()
		if c.aBusy {
			c.errs = append(c.errs, "concurrent audio callbacks")
		}
		c.audio = append(c.audio, b)
		if s.effRate > 0 {
			c.order = append(c.order, s.sampleTime(int64(math.Round(b.PTS.Seconds()*s.effRate))+int64(b.Frames())-1))
		}
	}
}

func TestFastRunFramesPTSAndOrder(t *testing.T) {
	var vc clocktest.Virtual
	s := mustSource(t, Options{Width: 320, Height: 240, FPS: 30, SampleRate: 48000, Channels: 2,
		Video: true, Audio: true, Duration: 3*time.Second + 5*time.Millisecond, Clock: &vc})
	var c collected
	var clockErr []string
	v := func(f *media.VideoFrame) {
		if vc.Now() != f.PTS {
			clockErr = append(clockErr, fmt.Sprintf("virtual clock %v at frame %v", vc.Now(), f.PTS))
		}
		c.video(f)
	}
	if err := s.Run(context.Background(), v, c.audioFn(s)); err != nil {
		t.Fatal(err)
	}
	if len(clockErr) > 0 {
		t.Errorf("virtual clock not advanced: %v", clockErr[:min(3, len(clockErr))])
	}
	// 3.005 s at 30 fps: frames 0..90 (frame 90 is at exactly 3 s).
	if len(c.frames) != 91 {
		t.Fatalf("got %d frames, want 91", len(c.frames))
	}
	for i, f := range c.frames {
		want := time.Duration(i) * time.Second / 30
		if f.PTS != want {
			t.Fatalf("frame %d PTS %v, want %v", i, f.PTS, want)
		}
		if f.Format != media.I420 || f.Width != 320 || f.Height != 240 ||
			f.Strides != [3]int{320, 160, 160} ||
			len(f.Planes[0]) != 320*240 || len(f.Planes[1]) != 160*120 || len(f.Planes[2]) != 160*120 {
			t.Fatalf("frame %d: bad layout %v %dx%d strides %v", i, f.Format, f.Width, f.Height, f.Strides)
		}
	}
	// Every sample whose host time is before 3.005 s: 144240 sample frames.
	var n int
	for _, b := range c.audio {
		n += b.Frames()
		if b.SampleRate != 48000 || b.Channels != 2 {
			t.Fatalf("audio format %d Hz %d ch", b.SampleRate, b.Channels)
		}
	}
	if n != 144240 {
		t.Errorf("got %d audio sample frames, want 144240", n)
	}
	for i := 1; i < len(c.order); i++ {
		if c.order[i] < c.order[i-1] {
			t.Fatalf("delivery out of host-time order at item %d: %v after %v", i, c.order[i], c.order[i-1])
		}
	}
	if vc.Now() < 3*time.Second {
		t.Errorf("virtual clock ended at %v", vc.Now())
	}
}

// TestRawFramesThroughFFmpeg feeds the raw I420 frames to ffmpeg, encodes
// them with x264 as the pipeline will, decodes the result and reads the
// barcode and flashes back: the layout must survive lossy compression.
func TestRawFramesThroughFFmpeg(t *testing.T) {
	ff, err := exec.LookPath("ffmpeg")
	if err != nil {
		t.Skip("ffmpeg not installed")
	}
	const w, h, fps, secs = 320, 240, 30, 3
	s := mustSource(t, Options{Width: w, Height: h, FPS: fps, Video: true, Duration: secs * time.Second})
	var raw bytes.Buffer
	err = s.Run(context.Background(), func(f *media.VideoFrame) {
		for p := range f.Planes {
			raw.Write(f.Planes[p])
		}
		f.Release()
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	mp4 := filepath.Join(t.TempDir(), "t.mp4")
	enc := exec.Command(ff, "-v", "error", "-f", "rawvideo", "-pix_fmt", "yuv420p", "-s", fmt.Sprintf("%dx%d", w, h),
		"-r", fmt.Sprint(fps), "-i", "-", "-c:v", "libx264", "-preset", "ultrafast", "-b:v", "500k", "-y", mp4)
	enc.Stdin = &raw
	if out, err := enc.CombinedOutput(); err != nil {
		t.Fatalf("ffmpeg rejected the raw frames: %v\n%s", err, out)
	}
	dec := exec.Command(ff, "-v", "error", "-i", mp4, "-f", "rawvideo", "-pix_fmt", "gray", "-")
	var stderr bytes.Buffer
	dec.Stderr = &stderr
	out, err := dec.Output()
	if err != nil {
		t.Fatalf("decode: %v\n%s", err, stderr.String())
	}
	if len(out) != secs*fps*w*h {
		t.Fatalf("decoded %d bytes, want %d frames of %dx%d", len(out), secs*fps, w, h)
	}
	for i := 0; i < secs*fps; i++ {
		y := out[i*w*h : (i+1)*w*h]
		if got, ok := testpattern.DecodeBarcode(y, w, w, h); !ok || int(got) != i {
			t.Errorf("decoded frame %d: barcode %d (guards ok %v)", i, got, ok)
		}
		mean := meanBelowBand(y, w, w, h)
		if flash := testpattern.IsFlash(int64(i), fps); flash != (mean > testpattern.FlashThreshold) {
			t.Errorf("decoded frame %d: mean luma %.1f, flash expected %v", i, mean, flash)
		}
	}
}

func TestDevices(t *testing.T) {
	d := Devices()
	if len(d) != 2 || d[0].Kind != "video" || d[1].Kind != "audio" || d[0].ID != "test" || d[1].ID != "test" {
		t.Errorf("Devices: %+v", d)
	}
}

func TestFastRunUntilCancelled(t *testing.T) {
	s := mustSource(t, Options{Width: 160, Height: 120, FPS: 60, Video: true, Audio: true})
	ctx, cancel := context.WithCancel(context.Background())
	var frames, bufs int
	err := s.Run(ctx, func(f *media.VideoFrame) {
		f.Release()
		if frames++; frames == 600 {
			cancel()
		}
	}, func(*media.AudioBuffer) { bufs++ })
	if err != nil {
		t.Fatal(err)
	}
	// 600 frames at 60 fps is 10 s: about 1000 audio buffers came between.
	if frames != 600 || bufs < 990 || bufs > 1000 {
		t.Errorf("fast run cancelled after frame 600: %d frames, %d audio buffers", frames, bufs)
	}
}
