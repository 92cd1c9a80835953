//go:build linux && cgo

package capture

import (
	"context"
	"debug/elf"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/livecap/livecap/internal/clock"
	"github.com/livecap/livecap/internal/media"
	"github.com/livecap/livecap/internal/testdesktop"
)

func TestChooseCamFormat(t *testing.T) {
	yuyv, mjpg, nv12 := fourcc('Y', 'U', 'Y', 'V'), fourcc('M', 'J', 'P', 'G'), fourcc('N', 'V', '1', '2')
	h264 := fourcc('H', '2', '6', '4')
	node := v4l2Node{path: "/dev/video0", card: "Cam", capture: true, formats: []v4l2Format{
		{fourcc: yuyv, w: 640, h: 480, fpsNum: 30, fpsDen: 1},
		{fourcc: yuyv, w: 1280, h: 720, fpsNum: 10, fpsDen: 1},
		{fourcc: mjpg, w: 1280, h: 720, fpsNum: 30, fpsDen: 1},
		{fourcc: mjpg, w: 1280, h: 720, fpsNum: 30000, fpsDen: 1001},
		{fourcc: h264, w: 1920, h: 1080, fpsNum: 30, fpsDen: 1},
		{fourcc: nv12, wmin: 1600, wmax: 1920, wstep: 16, hmin: 900, hmax: 1080, hstep: 4, fpsMin: 1, fpsMax: 60},
	}}
	cases := []struct {
		w, h, fps int
		want      uint32
		err       string
	}{
		{640, 480, 30, yuyv, ""},
		{1280, 720, 10, yuyv, ""},
		{1280, 720, 30, mjpg, ""},  // raw only at 10 fps: MJPEG
		{1920, 1080, 30, nv12, ""}, // the stepwise NV12 range, not the H.264 the camera has at that size
		{1920, 1088, 30, 0, "no 1920x1088@30"},
		{1760, 1000, 30, nv12, ""}, // inside the range, on its steps
		{1761, 1000, 30, 0, "no 1761x1000@30"},
		{1920, 1080, 60, nv12, ""},
		{1920, 1080, 61, 0, "no 1920x1080@61"},
		{640, 480, 15, 0, "no 640x480@15"},
		{1280, 720, 29, 0, "no 1280x720@29"},
	}
	for _, c := range cases {
		f, err := chooseCamFormat(node, c.w, c.h, c.fps)
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) || !errors.Is(err, ErrDevice) {
				t.Errorf("%dx%d@%d: err %v, want %q", c.w, c.h, c.fps, err, c.err)
			}
			continue
		}
		if err != nil || f.fourcc != c.want {
			t.Errorf("%dx%d@%d: got %s %v, want %s", c.w, c.h, c.fps, fourccString(f.fourcc), err, fourccString(c.want))
		}
	}
	// A mismatch names what the device offers, unsupported formats marked.
	_, err := chooseCamFormat(v4l2Node{path: "/dev/video3", card: "Cam", formats: node.formats[:5]}, 800, 600, 30)
	for _, want := range []string{"/dev/video3", `"Cam"`, "640x480@30 yuyv422", "1280x720@29.97 mjpeg", "H264 (not supported)", "--size"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("mismatch error %q lacks %q", err, want)
		}
	}
}

// run delivers from src for d and collects what it gave.
type devCollected struct {
	mu     sync.Mutex
	vpts   []time.Duration
	vlag   []time.Duration // delivery time - PTS
	apts   []time.Duration
	afr    []int
	alag   []time.Duration
	frames []*media.VideoFrame
}

func runFor(t *testing.T, src Source, host *clock.Host, d time.Duration) *devCollected {
	t.Helper()
	c := &devCollected{}
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	err := src.Run(ctx, func(f *media.VideoFrame) {
		c.mu.Lock()
		c.vpts = append(c.vpts, f.PTS)
		c.vlag = append(c.vlag, host.Now()-f.PTS)
		if len(c.frames) < 3 {
			cp := *f
			cp.Planes[0] = append([]byte(nil), f.Planes[0]...)
			c.frames = append(c.frames, &cp)
		}
		c.mu.Unlock()
		f.Release()
	}, func(b *media.AudioBuffer) {
		c.mu.Lock()
		c.apts = append(c.apts, b.PTS)
		c.afr = append(c.afr, b.Frames())
		c.alag = append(c.alag, host.Now()-b.PTS)
		c.mu.Unlock()
	})
	if err != nil && !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Run: %v", err)
	}
	return c
}

func median(d []time.Duration) time.Duration {
	s := append([]time.Duration(nil), d...)
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j] < s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
	return s[len(s)/2]
}

// TestScreenAndMonitor captures a real X screen (Xvfb) and a real pulse
// monitor source: pictures at the requested rate with rising, evenly
// spaced capture times on the session clock, audio with continuous
// timestamps and as many samples as time passed.
func TestScreenAndMonitor(t *testing.T) {
	x := testdesktop.StartX(t, 320, 240)
	p := testdesktop.StartPulse(t, "lctest")
	t.Setenv("DISPLAY", x.Display)
	t.Setenv("PULSE_SERVER", p.Server)

	host := clock.NewHost()
	t0 := time.Now()
	src, err := PlatformCapture().Open(&VideoRequest{Device: "screen", Width: 320, Height: 240, FPS: 30},
		&AudioRequest{Device: "system", SampleRate: 48000, Channels: 2}, host)
	if err != nil {
		t.Fatal(err)
	}
	open := time.Since(t0)
	ls := src.(*linuxSource)
	fv, fa := ls.FirstFrame()
	t.Logf("open %v; first picture after %v, first audio after %v", open, fv, fa)
	vn, an := ls.SourceNames()
	if !strings.Contains(vn, "X screen "+x.Display+".0") || !strings.Contains(an, "@DEFAULT_MONITOR@") {
		t.Errorf("source names %q, %q", vn, an)
	}

	const dur = 3 * time.Second
	c := runFor(t, src, host, dur)

	// Pictures: ~30 per second, rising, spaced by one frame interval.
	want := int(dur.Seconds() * 30)
	if len(c.vpts) < want*9/10 || len(c.vpts) > want+3 {
		t.Errorf("%d pictures in %v, want about %d", len(c.vpts), dur, want)
	}
	var gaps []time.Duration
	for i := 1; i < len(c.vpts); i++ {
		g := c.vpts[i] - c.vpts[i-1]
		if g <= 0 {
			t.Fatalf("picture %d PTS %v not after %v", i, c.vpts[i], c.vpts[i-1])
		}
		gaps = append(gaps, g)
	}
	if m := median(gaps); m < 30*time.Millisecond || m > 37*time.Millisecond {
		t.Errorf("median picture spacing %v, want 33.3ms", m)
	}
	// On the session clock: delivered shortly after capture, never before.
	if m := median(c.vlag); m < 0 || m > 100*time.Millisecond {
		t.Errorf("median picture delivery lag %v", m)
	}
	for i, l := range c.vlag {
		if l < 0 {
			t.Fatalf("picture %d delivered %v before its capture time", i, -l)
		}
	}
	// An Xvfb root window is black: Y at video-range black.
	if y := c.frames[0].Planes[0][320*120+160]; y < 12 || y > 20 {
		t.Errorf("black screen reads Y=%d, want 16", y)
	}

	// Audio: buffers follow each other without holes or overlaps (pulse's
	// stamps minus its latency), and add up to the time that passed.
	total := 0
	for i := range c.apts {
		total += c.afr[i]
		if i == 0 {
			continue
		}
		exp := c.apts[i-1] + time.Duration(c.afr[i-1])*time.Second/48000
		if d := c.apts[i] - exp; d > 5*time.Millisecond || d < -5*time.Millisecond {
			t.Errorf("audio buffer %d starts %v off the end of the previous", i, d)
		}
	}
	got := time.Duration(total) * time.Second / 48000
	if got < dur*9/10 || got > dur+100*time.Millisecond {
		t.Errorf("%v of audio in %v", got, dur)
	}
	if m := median(c.alag); m < 0 || m > 150*time.Millisecond {
		t.Errorf("median audio delivery lag %v", m)
	}
	if os.Getenv("LIVECAP_DEBUG_AUDIO") != "" {
		n := 0
		for i := range c.apts {
			t.Logf("audio %d: pts %v, samples-time %v, diff %v, lag %v", i, c.apts[i]-c.apts[0], time.Duration(n)*time.Second/48000,
				c.apts[i]-c.apts[0]-time.Duration(n)*time.Second/48000, c.alag[i])
			n += c.afr[i]
		}
	}
	t.Logf("%d pictures (median lag %v), %d audio buffers (%v, median lag %v), skipped %d",
		len(c.vpts), median(c.vlag), len(c.apts), got, median(c.alag), ls.Skipped())
}

// TestBadDevices: each refusal is one line naming the device and what is
// there instead, wrapped in ErrDevice, and comes fast (no hang).
func TestBadDevices(t *testing.T) {
	x := testdesktop.StartX(t, 320, 240)
	t.Setenv("DISPLAY", x.Display)
	t.Setenv("PULSE_SERVER", "unix:"+filepath.Join(t.TempDir(), "no-such-server"))
	plat := PlatformCapture()
	host := clock.NewHost()
	cases := []struct {
		name string
		v    *VideoRequest
		a    *AudioRequest
		want []string
	}{
		{"not a V4L2 node", &VideoRequest{Device: "/dev/null", Width: 640, Height: 480, FPS: 30}, nil,
			[]string{"/dev/null is not a V4L2 device"}},
		{"missing node", &VideoRequest{Device: "/dev/video99", Width: 640, Height: 480, FPS: 30}, nil,
			[]string{"/dev/video99 does not exist"}},
		{"no such screen", &VideoRequest{Device: "screen:3", Width: 640, Height: 480, FPS: 30}, nil,
			[]string{"screen:3 does not exist", "1 screen(s)"}},
		{"bad screen", &VideoRequest{Device: "screen:x", Width: 640, Height: 480, FPS: 30}, nil,
			[]string{`screen "screen:x" not understood`}},
		{"no pulse server", nil, &AudioRequest{Device: "system", SampleRate: 48000, Channels: 2},
			[]string{"system audio", "no PulseAudio/PipeWire server answers"}},
		{"no pulse server, named source", nil, &AudioRequest{Device: "pulse:mic", SampleRate: 48000, Channels: 2},
			[]string{`"pulse:mic"`, "no PulseAudio/PipeWire server answers"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t0 := time.Now()
			_, err := plat.Open(c.v, c.a, host)
			if err == nil {
				t.Fatal("opened")
			}
			if !errors.Is(err, ErrDevice) {
				t.Errorf("%v: not ErrDevice", err)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("more than one line: %q", err)
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("%q lacks %q", err, w)
				}
			}
			if d := time.Since(t0); d > 5*time.Second {
				t.Errorf("took %v", d)
			}
		})
	}
	t.Run("no X display", func(t *testing.T) {
		t.Setenv("DISPLAY", "")
		_, err := plat.Open(&VideoRequest{Device: "screen", Width: 640, Height: 480, FPS: 30}, nil, host)
		if err == nil || !strings.Contains(err.Error(), "DISPLAY is not set") {
			t.Errorf("err %v", err)
		}
	})
	t.Run("dead X display", func(t *testing.T) {
		t.Setenv("DISPLAY", ":987")
		_, err := plat.Open(&VideoRequest{Device: "screen", Width: 640, Height: 480, FPS: 30}, nil, host)
		if err == nil || !strings.Contains(err.Error(), "X display :987") {
			t.Errorf("err %v", err)
		}
	})
}

// TestV4L2 captures from every V4L2 camera present (v4l2loopback fed by
// ffmpeg in the GitHub workflow): the first format it offers, a second of
// pictures with rising kernel (CLOCK_MONOTONIC) timestamps that land on the
// session clock. Machines without /dev/video* (no kernel modules here)
// skip, unless LIVECAP_REQUIRE_V4L2=1 says a camera must be there.
func TestV4L2(t *testing.T) {
	cams, notes := cameras()
	if len(cams) == 0 {
		if os.Getenv("LIVECAP_REQUIRE_V4L2") == "1" {
			t.Fatalf("LIVECAP_REQUIRE_V4L2=1 but no V4L2 capture device: %v", notes)
		}
		t.Skipf("no V4L2 capture device (/dev/video*: %d nodes; v4l2loopback needs a kernel module, which this machine cannot load) %v",
			len(videoNodes()), notes)
	}
	host := clock.NewHost()
	for _, cam := range cams {
		t.Run(cam.path, func(t *testing.T) {
			var f *v4l2Format
			for i := range cam.formats {
				if formatName(cam.formats[i].fourcc) != "" && cam.formats[i].w > 0 {
					f = &cam.formats[i]
					break
				}
			}
			if f == nil {
				t.Skipf("%s offers no discrete format livecap reads: %v", cam.label(), cam.offers())
			}
			fps := 30
			if f.rate() > 0 {
				fps = int(f.rate() + 0.5)
			}
			src, err := PlatformCapture().Open(&VideoRequest{Device: cam.path, Width: f.w, Height: f.h, FPS: fps}, nil, host)
			if err != nil {
				t.Fatal(err)
			}
			fv, _ := src.(*linuxSource).FirstFrame()
			c := runFor(t, src, host, 2*time.Second)
			t.Logf("%s %s: first picture after %v, %d pictures in 2s, median lag %v", cam.label(), f, fv, len(c.vpts), median(c.vlag))
			if len(c.vpts) < fps {
				t.Errorf("%d pictures in 2s at %d fps", len(c.vpts), fps)
			}
			if m := median(c.vlag); m < 0 || m > 200*time.Millisecond {
				t.Errorf("median delivery lag %v: kernel timestamps not mapped onto the session clock", m)
			}
			// A second open while the first streams is refused as busy
			// (or served, by drivers that allow it), never hangs.
		})
	}
}

// TestLibavDeviceNotLinked: the FFmpeg libraries are loaded when capture
// needs them, not by every livecap process.
func TestLibavDeviceNotLinked(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	f, err := elf.Open(exe)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	libs, err := f.ImportedLibraries()
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range libs {
		for _, p := range []string{"libavdevice", "libavformat", "libavcodec", "libavutil", "libswscale", "libswresample"} {
			if strings.HasPrefix(l, p) {
				t.Errorf("%s is linked (DT_NEEDED %v): it must be loaded on demand by lcd_load", l, libs)
			}
		}
	}
	if err := load(); err != nil {
		t.Fatalf("load: %v", err)
	}
}
