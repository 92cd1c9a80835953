//go:build linux && cgo

package capture

import (
	"context"
	"debug/elf"
	"errors"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
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
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
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
	// (Loose: a loaded machine makes x11grab late, not wrong.)
	want := int(dur.Seconds() * 30)
	if len(c.vpts) < want*6/10 || len(c.vpts) > want+3 {
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
	total, off := 0, 0
	for i := range c.apts {
		total += c.afr[i]
		if i == 0 {
			continue
		}
		exp := c.apts[i-1] + time.Duration(c.afr[i-1])*time.Second/48000
		if d := c.apts[i] - exp; d > 5*time.Millisecond || d < -5*time.Millisecond {
			off++
			t.Logf("audio buffer %d starts %v off the end of the previous", i, d)
		}
	}
	if off > len(c.apts)/20 {
		t.Errorf("%d of %d audio buffers start more than 5 ms off the end of the previous", off, len(c.apts))
	}
	got := time.Duration(total) * time.Second / 48000
	if got < dur*7/10 || got > dur+100*time.Millisecond {
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

// TestCameraConversions runs the picture path cameras use (V4L2 hands the
// same packets to it) on files ffmpeg writes: raw YUYV and UYVY through
// swscale, MJPEG (full-range JPEG) through the decoder, each to video-range
// BT.601 I420, the levels the encoders and the analyzer expect.
func TestCameraConversions(t *testing.T) {
	if _, err := exec.LookPath("ffmpeg"); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("ffmpeg not installed (CI must install it: scripts/setup.sh)")
		}
		t.Skip("ffmpeg not installed")
	}
	dir := t.TempDir()
	colors := []struct {
		name    string
		y, u, v int // BT.601 video range
	}{{"white", 235, 128, 128}, {"red", 81, 90, 240}, {"0x0000FF", 41, 240, 110}}
	for _, c := range colors {
		for _, f := range []struct {
			format, pix string
			opts        map[string]string
		}{
			{"rawvideo", "yuyv422", map[string]string{"pixel_format": "yuyv422", "video_size": "64x48"}},
			{"rawvideo", "uyvy422", map[string]string{"pixel_format": "uyvy422", "video_size": "64x48"}},
			{"rawvideo", "nv12", map[string]string{"pixel_format": "nv12", "video_size": "64x48"}},
			{"mjpeg", "yuvj422p", nil},
		} {
			path := filepath.Join(dir, c.name+"."+f.pix)
			args := []string{"-nostdin", "-v", "error", "-y", "-f", "lavfi", "-i", "color=c=" + c.name + ":s=64x48:r=30", "-frames:v", "3"}
			if f.format == "mjpeg" {
				args = append(args, "-c:v", "mjpeg", "-pix_fmt", f.pix, "-q:v", "2", "-f", "mjpeg", path)
			} else {
				args = append(args, "-pix_fmt", f.pix, "-f", "rawvideo", path)
			}
			if out, err := exec.Command("ffmpeg", args...).CombinedOutput(); err != nil {
				t.Fatalf("ffmpeg: %v %s", err, out)
			}
			d, err := lavOpen(f.format, path, f.opts, false)
			if err != nil {
				t.Fatalf("%s: %v", path, err)
			}
			if err := d.videoSetup(64, 48); err != nil {
				t.Fatal(err)
			}
			buf := make([]byte, 64*48*3/2)
			var readErr error
			for i := 0; i < 5; i++ { // a decoder may want a packet before its first picture
				if _, readErr = d.readVideo(buf); readErr != errAgain {
					break
				}
			}
			d.close()
			if readErr != nil {
				t.Fatalf("%s: %v", path, readErr)
			}
			y, u, v := int(buf[64*24+32]), int(buf[64*48+32*12+16]), int(buf[64*48+32*24+32*12+16])
			near := func(a, b int) bool { return a-b <= 3 && b-a <= 3 }
			if !near(y, c.y) || !near(u, c.u) || !near(v, c.v) {
				t.Errorf("%s %s: YUV %d/%d/%d, want %d/%d/%d", c.name, f.pix, y, u, v, c.y, c.u, c.v)
			}
		}
	}
}

// TestALSA captures from ALSA's null device through the alsa input: the
// nonblocking read path, the timestamp mapping, and a stop that comes at
// once. (The null device is not paced: it hands out one frame per read as
// fast as it is read, so only the path is checked, not timing.)
func TestALSA(t *testing.T) {
	if _, err := os.Stat("/usr/share/alsa/alsa.conf"); err != nil {
		t.Skip("no ALSA configuration (libasound2 not installed)")
	}
	host := clock.NewHost()
	src, err := PlatformCapture().Open(nil, &AudioRequest{Device: "alsa:null", SampleRate: 48000, Channels: 2}, host)
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Now()
	c := runFor(t, src, host, 300*time.Millisecond)
	if d := time.Since(t0); d > 3*time.Second {
		t.Errorf("Run took %v to stop", d)
	}
	total := 0
	for _, n := range c.afr {
		total += n
	}
	t.Logf("%d buffers, %d samples, median lag %v", len(c.apts), total, median(c.alag))
	if len(c.apts) == 0 {
		t.Fatal("no audio")
	}
	if m := median(c.alag); m < -50*time.Millisecond || m > 500*time.Millisecond {
		t.Errorf("median delivery lag %v: stamps not on the session clock", m)
	}
}

// TestDevicesResolve: what `livecap devices` lists is what --video/--audio
// select, by index and by ID; the monitor is not taken for a microphone.
func TestDevicesResolve(t *testing.T) {
	x := testdesktop.StartX(t, 320, 240)
	p := testdesktop.StartPulse(t, "lcdev")
	t.Setenv("DISPLAY", x.Display)
	t.Setenv("PULSE_SERVER", p.Server)
	devs, notes := linuxPlatform{}.DevicesNotes()
	t.Logf("devices %+v notes %v", devs, notes)
	var audio, screens int
	for _, d := range devs {
		switch d.Kind {
		case "audio":
			audio++
			if d.Default {
				t.Errorf("%s marked default: a monitor is not a microphone", d.ID)
			}
			byIndex, err := resolveMic(strconv.Itoa(d.Index))
			if err != nil {
				t.Fatalf("--audio %d: %v", d.Index, err)
			}
			byID, err := resolveMic(d.ID)
			if err != nil {
				t.Fatalf("--audio %s: %v", d.ID, err)
			}
			if byIndex.id() != byID.id() {
				t.Errorf("--audio %d is %s, --audio %s is %s", d.Index, byIndex.id(), d.ID, byID.id())
			}
		case "screen":
			screens++
			s, err := resolveScreen(d.ID)
			if err != nil || s.w != 320 || s.h != 240 {
				t.Errorf("--video %s: %+v %v", d.ID, s, err)
			}
		}
	}
	if audio != 2 || screens != 1 {
		t.Errorf("%d audio sources (want the monitor and system), %d screens", audio, screens)
	}
	if cam, mic, why := (linuxPlatform{}).Defaults(); mic || len(why) == 0 {
		t.Errorf("defaults: camera %v mic %v why %v", cam, mic, why)
	}
}

// TestPulseStampAccuracy measures what the audio half of "one clock" rests
// on: a pulse source fed through a FIFO (module-pipe-source: what is
// written is captured at once) gets a click written at known session
// times; the capture must stamp each click at the time it was written.
// Reported: median and max error.
func TestPulseStampAccuracy(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo") // the module makes it
	p := testdesktop.StartPulse(t, "lcacc", "module-pipe-source source_name=lcpipe file="+fifo+" format=s16le rate=48000 channels=1")
	t.Setenv("PULSE_SERVER", p.Server)
	host := clock.NewHost()

	// The writer paces 5 ms chunks of silence in real time; every 250 ms
	// one chunk starts with a click. Written times are taken just before
	// each write of a click.
	w, err := os.OpenFile(fifo, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	const chunk = 240 // 5 ms at 48 kHz
	silence := make([]byte, chunk*2)
	click := make([]byte, chunk*2)
	for i := 0; i < 48; i++ { // 1 ms of full scale
		click[2*i], click[2*i+1] = 0xff, 0x7f
	}
	var mu sync.Mutex
	var written []time.Duration
	stop := make(chan struct{})
	wdone := make(chan struct{})
	go func() {
		defer close(wdone)
		start := time.Now()
		for n := 0; ; n++ {
			select {
			case <-stop:
				return
			default:
			}
			time.Sleep(time.Until(start.Add(time.Duration(n) * 5 * time.Millisecond)))
			b := silence
			if n%50 == 49 {
				b = click
				mu.Lock()
				written = append(written, host.Now())
				mu.Unlock()
			}
			if _, err := w.Write(b); err != nil {
				return
			}
		}
	}()
	defer func() {
		close(stop)
		<-wdone
	}()

	src, err := PlatformCapture().Open(nil, &AudioRequest{Device: "pulse:lcpipe", SampleRate: 48000, Channels: 1}, host)
	if err != nil {
		t.Fatal(err)
	}
	var onsets []time.Duration
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Second)
	defer cancel()
	inClick := false
	_ = src.Run(ctx, nil, func(b *media.AudioBuffer) {
		for i, x := range b.Samples {
			if x > 0.5 && !inClick {
				onsets = append(onsets, b.PTS+time.Duration(i)*time.Second/48000)
			}
			inClick = x > 0.5
		}
	})
	mu.Lock()
	defer mu.Unlock()
	// A source that reads a chunk at t takes its samples to span the chunk's
	// duration before t (a device's chunk does): the click, first in its
	// chunk, was captured one chunk before its write.
	const chunkDur = chunk * time.Second / 48000
	var errs []time.Duration
	for _, o := range onsets {
		best := time.Duration(math.MaxInt64)
		for _, w := range written {
			wt := w - chunkDur
			if d := o - wt; d.Abs() < best.Abs() {
				best = d
			}
		}
		errs = append(errs, best)
	}
	if len(errs) < 8 {
		t.Fatalf("%d clicks captured (%d written)", len(errs), len(written))
	}
	maxAbs := time.Duration(0)
	for _, e := range errs {
		maxAbs = max(maxAbs, e.Abs())
	}
	t.Logf("pulse stamps vs write time over %d clicks: median %+v, max |error| %v (all: %v)", len(errs), median(errs), maxAbs, errs)
	if m := median(errs); m.Abs() > 5*time.Millisecond {
		t.Errorf("median stamp error %v", m)
	}
}

// TestScreenStampAccuracy measures the video half of "one clock": the X
// root window turns white at known session times (painted through the X
// protocol, the server's reply marks when it is done); the first captured
// picture showing white must carry a capture time between the paint and
// one frame interval after it (x11grab samples the screen at its rate).
func TestScreenStampAccuracy(t *testing.T) {
	const fps = 100 // fine sampling: the error window is 10 ms
	x := testdesktop.StartX(t, 320, 240)
	t.Setenv("DISPLAY", x.Display)
	painter := x.Painter(t)
	if err := painter.Paint(false); err != nil {
		t.Fatal(err)
	}
	host := clock.NewHost()
	src, err := PlatformCapture().Open(&VideoRequest{Device: "screen", Width: 320, Height: 240, FPS: fps}, nil, host)
	if err != nil {
		t.Fatal(err)
	}
	type paint struct {
		white          bool
		before, after  time.Duration
		seen           time.Duration
		seenOK, posted bool
	}
	var mu sync.Mutex
	var paints []*paint
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		defer cancel()
		white := false
		for i := 0; i < 16; i++ {
			time.Sleep(150 * time.Millisecond)
			white = !white
			p := &paint{white: white, before: host.Now()}
			if err := painter.Paint(white); err != nil {
				t.Error(err)
				return
			}
			p.after = host.Now()
			mu.Lock()
			paints = append(paints, p)
			mu.Unlock()
		}
		time.Sleep(150 * time.Millisecond)
	}()
	_ = src.Run(ctx, func(f *media.VideoFrame) {
		isWhite := f.Planes[0][160*320+160] > 128
		mu.Lock()
		for _, p := range paints {
			if !p.seenOK && p.white == isWhite && f.PTS >= p.before-20*time.Millisecond {
				p.seen, p.seenOK = f.PTS, true
			}
		}
		mu.Unlock()
		f.Release()
	}, nil)
	mu.Lock()
	defer mu.Unlock()
	var errs []time.Duration
	for _, p := range paints {
		if !p.seenOK {
			t.Errorf("paint at %v never seen", p.after)
			continue
		}
		errs = append(errs, p.seen-p.after)
	}
	if len(errs) < 10 {
		t.Fatalf("%d paints seen", len(errs))
	}
	lo, hi := errs[0], errs[0]
	for _, e := range errs {
		lo, hi = min(lo, e), max(hi, e)
	}
	t.Logf("x11grab stamps vs paint at %d fps over %d paints: median %+v, range %+v .. %+v (sampling alone spreads 0 .. 10 ms)", fps, len(errs), median(errs), lo, hi)
	// Never before the paint (a capture time in the past would be a clock
	// error), and within a frame interval or two of it.
	if m := median(errs); m < -2*time.Millisecond || m > 2*time.Second/fps+2*time.Millisecond {
		t.Errorf("median stamp error %v", m)
	}
}
