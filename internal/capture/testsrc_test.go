package capture

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

	"github.com/livecap/livecap/internal/clock"
	"github.com/livecap/livecap/internal/media"
)

// meanBelowBand is the mean luma of rows [band, h), what the flash detector
// looks at.
func meanBelowBand(y []byte, stride, w, h int) float64 {
	var sum int64
	for r := BarcodeBand(h); r < h; r++ {
		for _, p := range y[r*stride : r*stride+w] {
			sum += int64(p)
		}
	}
	return float64(sum) / float64(w*(h-BarcodeBand(h)))
}

func mustSource(t testing.TB, o TestOptions) *TestSource {
	t.Helper()
	s, err := NewTestSource(o)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestNewTestSourceRejectsBadOptions(t *testing.T) {
	ok := TestOptions{Width: 320, Height: 240, FPS: 30, SampleRate: 48000, Channels: 1, Video: true, Audio: true}
	cases := []struct {
		name string
		mod  func(*TestOptions)
		want string
	}{
		{"nothing", func(o *TestOptions) { o.Video, o.Audio = false, false }, "neither video nor audio"},
		{"odd width", func(o *TestOptions) { o.Width = 321 }, "321x240"},
		{"too narrow", func(o *TestOptions) { o.Width = 40 }, "40x240"},
		{"too short", func(o *TestOptions) { o.Height = 16 }, "320x16"},
		{"fps 0 is default, fps 121 is not", func(o *TestOptions) { o.FPS = 121 }, "frame rate 121"},
		{"negative fps", func(o *TestOptions) { o.FPS = -1 }, "frame rate -1"},
		{"rate", func(o *TestOptions) { o.SampleRate = 44101 }, "sample rate 44101"},
		{"channels", func(o *TestOptions) { o.Channels = 6 }, "6 audio channels"},
		{"skew", func(o *TestOptions) { o.SkewPPM = 20000 }, "skew 20000"},
		{"skew NaN", func(o *TestOptions) { o.SkewPPM = math.NaN() }, "skew NaN"},
		{"duration", func(o *TestOptions) { o.Duration = -time.Second }, "duration -1s"},
	}
	for _, c := range cases {
		o := ok
		c.mod(&o)
		_, err := NewTestSource(o)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: got error %v, want one containing %q", c.name, err, c.want)
		}
	}
	if _, err := NewTestSource(ok); err != nil {
		t.Fatalf("valid options rejected: %v", err)
	}
	// Audio fields are not checked when there is no audio, and vice versa.
	if _, err := NewTestSource(TestOptions{Video: true, Channels: 6}); err != nil {
		t.Errorf("video-only source rejected for an audio field: %v", err)
	}
	s := mustSource(t, TestOptions{Video: true, Audio: true})
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

func (c *collected) audioFn(s *TestSource) AudioFunc {
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
	var vc clock.Virtual
	s := mustSource(t, TestOptions{Width: 320, Height: 240, FPS: 30, SampleRate: 48000, Channels: 2,
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

func TestFlashFramesAndLuma(t *testing.T) {
	for _, sz := range []struct{ w, h, fps int }{{320, 240, 25}, {1280, 720, 30}, {640, 360, 7}, {68, 32, 10}, {642, 362, 1}, {1920, 1080, 24}} {
		s := mustSource(t, TestOptions{Width: sz.w, Height: sz.h, FPS: sz.fps, Video: true})
		band := BarcodeBand(sz.h)
		for i := int64(0); i < int64(3*sz.fps)+2; i++ {
			f := s.renderFrame(i)
			mean := meanBelowBand(f.Planes[0], f.Strides[0], sz.w, sz.h)
			flash := i%int64(sz.fps) == 0
			if flash {
				for r := band; r < sz.h; r++ {
					for _, p := range f.Planes[0][r*sz.w : (r+1)*sz.w] {
						if p != lumaWhite {
							t.Fatalf("%dx%d frame %d: flash row %d has Y=%d", sz.w, sz.h, i, r, p)
						}
					}
				}
				for p := 1; p < 3; p++ {
					for _, c := range f.Planes[p] {
						if c != chromaMid {
							t.Fatalf("%dx%d frame %d: flash chroma %d", sz.w, sz.h, i, c)
						}
					}
				}
			} else if mean > 150 {
				t.Fatalf("%dx%d frame %d: mean luma %.1f, want well under 180 so it is no flash", sz.w, sz.h, i, mean)
			}
			if got, ok := DecodeBarcode(f.Planes[0], f.Strides[0], sz.w, sz.h); !ok || int64(got) != i {
				t.Fatalf("%dx%d frame %d: barcode reads %d (guards ok %v)", sz.w, sz.h, i, got, ok)
			}
			f.Release()
		}
	}
}

func TestBarcodeLayout(t *testing.T) {
	// 1280/34 = 37 with 22 pixels left over; 100/34 = 2 with 32 left over.
	for _, sz := range []struct{ w, h int }{{1280, 720}, {100, 32}, {1920, 1080}} {
		s := mustSource(t, TestOptions{Width: sz.w, Height: sz.h, FPS: 30, Video: true})
		band, cell := BarcodeBand(sz.h), sz.w/BarcodeCells
		for _, i := range []int64{0, 1, 2, 29, 30, 31, 12345, 1<<31 + 5, 0xFFFFFFFF, 0xA5A5A5A5} {
			f := s.renderFrame(i)
			y := f.Planes[0]
			if got, ok := DecodeBarcode(y, sz.w, sz.w, sz.h); !ok || int64(got) != i {
				t.Errorf("%dx%d: frame %d decodes as %d (guards ok %v)", sz.w, sz.h, i, got, ok)
			}
			// Exact layout, every pixel of the band.
			for r := 0; r < band; r++ {
				for x := 0; x < sz.w; x++ {
					want := byte(lumaBlack)
					c := x / cell
					switch {
					case c == 0:
						want = lumaWhite
					case c >= 1 && c <= 32 && uint32(i)>>(32-c)&1 == 1:
						want = lumaWhite
					}
					if y[r*sz.w+x] != want {
						t.Fatalf("%dx%d frame %d: band pixel (%d,%d) = %d, want %d", sz.w, sz.h, i, x, r, y[r*sz.w+x], want)
					}
				}
			}
			for p := 1; p < 3; p++ {
				for _, c := range f.Planes[p][:band/2*sz.w/2] {
					if c != chromaMid {
						t.Fatalf("%dx%d frame %d: band chroma %d", sz.w, sz.h, i, c)
					}
				}
			}
			f.Release()
		}
	}
	if BarcodeBand(720) != 60 || BarcodeBand(240) != 20 || BarcodeBand(32) != 8 || BarcodeBand(1080) != 90 || BarcodeBand(350) != 28 {
		t.Errorf("BarcodeBand: 720→%d 240→%d 32→%d 1080→%d 350→%d", BarcodeBand(720), BarcodeBand(240), BarcodeBand(32), BarcodeBand(1080), BarcodeBand(350))
	}
}

func TestBeepOnsetsWithSkew(t *testing.T) {
	const secs = 60
	for _, ppm := range []float64{0, 300, -300} {
		for _, ch := range []int{1, 2} {
			s := mustSource(t, TestOptions{SampleRate: 48000, Channels: ch, Audio: true, SkewPPM: ppm, Duration: secs * time.Second})
			eff := 48000 * (1 + ppm*1e-6)
			var c collected
			if err := s.Run(context.Background(), nil, c.audioFn(s)); err != nil {
				t.Fatal(err)
			}
			// Buffer PTS: host time of the first sample, continuous.
			var x []float32 // channel 0
			var n int64
			for bi, b := range c.audio {
				want := time.Duration(math.Round(float64(n) * 1e9 / eff))
				if b.PTS != want {
					t.Fatalf("ppm %v: buffer %d PTS %v, want %v (sample %d)", ppm, bi, b.PTS, want, n)
				}
				if bi < len(c.audio)-1 && b.Frames() != 480 {
					t.Fatalf("ppm %v: buffer %d has %d frames, want 480 (10 ms)", ppm, bi, b.Frames())
				}
				for j := 0; j < b.Frames(); j++ {
					for k := 1; k < ch; k++ {
						if b.Samples[j*ch+k] != b.Samples[j*ch] {
							t.Fatalf("channels differ")
						}
					}
					x = append(x, b.Samples[j*ch])
				}
				n += int64(b.Frames())
			}
			if want := int64(math.Ceil(secs * eff)); n != want {
				t.Errorf("ppm %v: %d samples in %d s, want %d", ppm, n, secs, want)
			}
			// Find onsets as an analyzer would: the first non-zero sample
			// after a long silence; phase 0 means the onset is one before.
			var onsets []int64
			silent := 1000
			for i, v := range x {
				if v == 0 {
					silent++
					continue
				}
				if silent > 1000 {
					onsets = append(onsets, int64(i)-1)
				}
				silent = 0
			}
			if len(onsets) != secs {
				t.Fatalf("ppm %v: %d onsets in %d s", ppm, len(onsets), secs)
			}
			period := time.Second / 48000
			for k, on := range onsets {
				if want := int64(math.Round(float64(k) * eff)); on != want {
					t.Fatalf("ppm %v: onset %d at sample %d, want %d", ppm, k, on, want)
				}
				if k == 0 {
					continue // sample 0 is the onset, nothing before it
				}
				host := time.Duration(float64(on) * 1e9 / eff)
				if d := host - time.Duration(k)*time.Second; d < -period || d > period {
					t.Errorf("ppm %v: onset %d at host %v, off by %v", ppm, k, host, d)
				}
				// 50 ms long, amplitude 0.5, then silence.
				var peak float32
				for _, v := range x[on : on+2400] {
					peak = max(peak, v)
				}
				if math.Abs(float64(peak)-0.5) > 1e-3 || x[on+2399] == 0 || x[on+2400] != 0 || x[on+2401] != 0 {
					t.Fatalf("ppm %v: beep %d: peak %v, last %v, after %v", ppm, k, peak, x[on+2399], x[on+2400])
				}
			}
			if ppm == 300 && onsets[59] != 2832850 { // 59 × 48014.4 = 2832849.6
				t.Errorf("+300 ppm: beep 59 at %d", onsets[59])
			}
		}
	}
}

func TestRealtimeDelivers(t *testing.T) {
	if testing.Short() {
		t.Skip("real-time test")
	}
	s := mustSource(t, TestOptions{Width: 160, Height: 120, FPS: 30, SampleRate: 48000, Channels: 1,
		Video: true, Audio: true, Realtime: true, Duration: time.Second})
	var c collected
	start := time.Now()
	if err := s.Run(context.Background(), c.video, c.audioFn(s)); err != nil {
		t.Fatal(err)
	}
	el := time.Since(start)
	if len(c.errs) > 0 {
		t.Fatal(c.errs[0])
	}
	if len(c.frames)+int(s.Skipped()) != 30 || len(c.frames) < 25 {
		t.Errorf("real time, 1 s at 30 fps: %d frames delivered, %d skipped", len(c.frames), s.Skipped())
	}
	if len(c.audio) != 100 {
		t.Errorf("real time, 1 s: %d audio buffers, want 100", len(c.audio))
	}
	// Loose: paced, not fast-mode speed.
	if el < 900*time.Millisecond {
		t.Errorf("a real-time second took only %v", el)
	}
}

func TestRealtimeSkipsForSlowConsumerAndStopsOnCancel(t *testing.T) {
	if testing.Short() {
		t.Skip("real-time test")
	}
	s := mustSource(t, TestOptions{Width: 160, Height: 120, FPS: 30, Video: true, Realtime: true, Duration: time.Second})
	var idx []int64
	slow := func(f *media.VideoFrame) {
		y, _ := DecodeBarcode(f.Planes[0], f.Strides[0], f.Width, f.Height)
		idx = append(idx, int64(y))
		f.Release()
		time.Sleep(150 * time.Millisecond)
	}
	if err := s.Run(context.Background(), slow, nil); err != nil {
		t.Fatal(err)
	}
	if int(s.Skipped())+len(idx) != 30 || s.Skipped() == 0 || len(idx) > 12 {
		t.Errorf("slow consumer: %d delivered %v, %d skipped", len(idx), idx, s.Skipped())
	}
	for i := 1; i < len(idx); i++ {
		if idx[i] <= idx[i-1] {
			t.Errorf("frame indices not increasing: %v", idx)
		}
	}

	// No duration: runs until cancelled, then returns nil promptly.
	s = mustSource(t, TestOptions{Width: 160, Height: 120, FPS: 30, Video: true, Audio: true, Realtime: true})
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	var c collected
	done := make(chan error)
	go func() { done <- s.Run(ctx, c.video, c.audioFn(s)) }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return after its context ended")
	}
	if len(c.frames) == 0 || len(c.audio) == 0 {
		t.Errorf("nothing delivered in 300 ms: %d frames, %d buffers", len(c.frames), len(c.audio))
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
	s := mustSource(t, TestOptions{Width: w, Height: h, FPS: fps, Video: true, Duration: secs * time.Second})
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
		if got, ok := DecodeBarcode(y, w, w, h); !ok || int(got) != i {
			t.Errorf("decoded frame %d: barcode %d (guards ok %v)", i, got, ok)
		}
		mean := meanBelowBand(y, w, w, h)
		if flash := i%fps == 0; flash != (mean > 200) {
			t.Errorf("decoded frame %d: mean luma %.1f, flash expected %v", i, mean, flash)
		}
	}
}

func TestTestDevices(t *testing.T) {
	d := TestDevices()
	if len(d) != 2 || d[0].Kind != "video" || d[1].Kind != "audio" || d[0].ID != "test" || d[1].ID != "test" {
		t.Errorf("TestDevices: %+v", d)
	}
}

func BenchmarkTestSourceVideo720p(b *testing.B) {
	s := mustSource(b, TestOptions{Width: 1280, Height: 720, FPS: 30, Video: true})
	b.SetBytes(1280 * 720 * 3 / 2)
	b.ReportAllocs()
	var i int64
	for b.Loop() {
		i++
		if i%30 == 0 {
			i++ // measure ordinary frames; flashes are cheaper
		}
		s.renderFrame(i).Release()
	}
}

func BenchmarkTestSourceAudio10ms(b *testing.B) {
	s := mustSource(b, TestOptions{SampleRate: 48000, Channels: 2, Audio: true, SkewPPM: 300})
	b.ReportAllocs()
	var n int64
	for b.Loop() {
		s.audioBuffer(n, n+480)
		n += 480
	}
}

func TestFastRunUntilCancelled(t *testing.T) {
	s := mustSource(t, TestOptions{Width: 160, Height: 120, FPS: 60, Video: true, Audio: true})
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
