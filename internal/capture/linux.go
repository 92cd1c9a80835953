//go:build linux && cgo

package capture

import (
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/livecap/livecap/internal/clock"
	"github.com/livecap/livecap/internal/media"
)

// Linux capture goes through libavdevice, FFmpeg's device layer:
//
//   - cameras: v4l2 (raw YUYV, NV12, I420, UYVY and RGB are converted to
//     I420; MJPEG is decoded first), at the device format that matches the
//     requested size and rate;
//   - microphones: pulse (PulseAudio, and PipeWire's pulse server) and alsa;
//   - screens: x11grab (X display screens, "screen" / "screen:N"), scaled
//     to the requested size; with system audio as the pulse monitor of the
//     default output ("--audio system").
//
// One clock: V4L2 buffers are stamped by the kernel on CLOCK_MONOTONIC,
// which is the clock Go's monotonic time reads on Linux; x11grab, pulse and
// alsa stamp CLOCK_REALTIME (pulse and alsa minus the latency they report,
// so the stamp is the capture instant of the packet's first sample). The
// kind is detected on each device's first packet; realtime stamps are moved
// onto the monotonic clock with the realtime-monotonic offset read at that
// packet (so a wall clock step does not move the media), and monotonic
// time onto the session with one paired reading taken at open. The session
// then runs audio through its drift compensation (clock.AudioAligner).

const (
	// openTimeout bounds opening a device (a hung X or pulse server).
	openTimeout = 10 * time.Second
	// firstFrameTimeout bounds the wait for a device's first picture or
	// audio packet: a loopback camera nobody feeds, a stalled driver.
	firstFrameTimeout = 5 * time.Second
	// listTimeout bounds the listing of pulse and alsa sources.
	listTimeout = 3 * time.Second
	// pollInterval is how long a reader sleeps when a nonblocking device
	// has nothing yet. Capture times come from the device, so this adds no
	// timing error, only delivery delay.
	pollInterval = 2 * time.Millisecond
)

type linuxPlatform struct{}

// Open implements Platform: it opens the devices, waits for the first
// picture and audio packet (bounded), and returns a source that delivers
// from then on.
func (linuxPlatform) Open(v *VideoRequest, a *AudioRequest, base clock.Clock) (Source, error) {
	if v == nil && a == nil {
		return nil, fmt.Errorf("%w: neither video nor audio requested", ErrDevice)
	}
	s := &linuxSource{
		vq:    make(chan *media.VideoFrame, 8),
		aq:    make(chan *media.AudioBuffer, 64),
		errc:  make(chan error, 2),
		stop:  make(chan struct{}),
		free:  make(chan []byte, 12),
		first: make(chan firstResult, 2),
	}
	// Monotonic time to session time, from one paired reading (Go's
	// monotonic clock is CLOCK_MONOTONIC on Linux: no drift between them).
	g1 := base.Now()
	mono, _ := hostClocks()
	g2 := base.Now()
	s.monoOff = g1 + (g2-g1)/2 - mono
	s.base = base
	t0 := time.Now()

	ok := false
	defer func() {
		if !ok {
			s.shutdown()
		}
	}()
	if v != nil {
		if err := s.openVideo(v); err != nil {
			return nil, err
		}
	}
	if a != nil {
		if err := s.openAudio(a); err != nil {
			return nil, err
		}
	}
	// Both readers run; wait for each one's first delivery.
	want := 0
	if s.hasV {
		want++
	}
	if s.hasA {
		want++
	}
	deadline := time.After(firstFrameTimeout)
	for got := 0; got < want; got++ {
		select {
		case r := <-s.first:
			if r.err != nil {
				return nil, r.err
			}
			if r.video {
				s.firstVideo = time.Since(t0)
			} else {
				s.firstAudio = time.Since(t0)
			}
		case <-deadline:
			var late []string
			if s.hasV && s.firstVideo == 0 {
				late = append(late, fmt.Sprintf("%s delivered no picture", s.vname))
			}
			if s.hasA && s.firstAudio == 0 {
				late = append(late, fmt.Sprintf("%s delivered no audio", s.aname))
			}
			hint := ""
			if s.hasV && s.firstVideo == 0 && s.vkind == "camera" {
				hint = " (is anything feeding it? a loopback device needs its writer running)"
			}
			return nil, fmt.Errorf("%w: %s within %v%s", ErrDevice, strings.Join(late, " and "), firstFrameTimeout, hint)
		}
	}
	ok = true
	return s, nil
}

type firstResult struct {
	video bool
	err   error
}

func (s *linuxSource) openVideo(v *VideoRequest) error {
	w, h, fps := v.Width, v.Height, v.FPS
	if fps <= 0 {
		fps = 30
	}
	if v.Device == "screen" || strings.HasPrefix(v.Device, "screen:") {
		// Opened directly, not listed first: an X server with no other
		// client (Xvfb without -noreset) resets when the listing's
		// connection closes, and refuses the next one meanwhile.
		n, err := screenNumber(v.Device)
		if err != nil {
			return err
		}
		disp := xDisplay()
		if disp == "" {
			_, err := screens()
			return fmt.Errorf("%w: %v", ErrDevice, err)
		}
		url := fmt.Sprintf("%s.%d", disp, n)
		d, err := openDevice(openTimeout, "x11grab", url, map[string]string{"framerate": strconv.Itoa(fps)}, false)
		if err != nil {
			if _, rerr := resolveScreen(v.Device); rerr != nil {
				return rerr // says what the display has
			}
			return fmt.Errorf("%w: X screen %s: %v", ErrDevice, url, err)
		}
		vi := d.videoInfo()
		if w <= 0 || h <= 0 {
			w, h = vi.w&^1, vi.h&^1
		}
		s.vname, s.vkind = fmt.Sprintf("X screen %s (%dx%d)", url, vi.w, vi.h), "screen"
		s.vdev = d
	} else {
		node, err := resolveCamera(v.Device)
		if err != nil {
			return err
		}
		if w <= 0 || h <= 0 {
			w, h = 1280, 720
		}
		f, err := chooseCamFormat(node, w, h, fps)
		if err != nil {
			return err
		}
		s.vname, s.vkind = "camera "+node.label(), "camera"
		s.vformat = f.String()
		opts := map[string]string{
			"input_format": formatName(f.fourcc),
			"video_size":   fmt.Sprintf("%dx%d", w, h),
			"framerate":    strconv.Itoa(fps),
		}
		d, err := openDevice(openTimeout, "v4l2", node.path, opts, true)
		if err != nil {
			var le *lavError
			switch {
			case errors.As(err, &le) && le.is(codeBusy):
				return fmt.Errorf("%w: camera %s is busy: another program is capturing from it (%v)", ErrDevice, node.label(), err)
			case errors.As(err, &le) && le.is(codeAccess):
				return fmt.Errorf("%w: camera %s: %v%s", ErrPermission, node.label(), err, permissionHint(syscall.EACCES))
			}
			return fmt.Errorf("%w: camera %s at %s: %v; it offers: %s", ErrDevice, node.label(), f, err, strings.Join(node.offers(), ", "))
		}
		vi := d.videoInfo()
		if vi.w != w || vi.h != h {
			d.close()
			return fmt.Errorf("%w: camera %s gave %dx%d when asked for %dx%d %s", ErrDevice, node.label(), vi.w, vi.h, w, h, formatName(f.fourcc))
		}
		s.vdev = d
	}
	if w%2 != 0 || h%2 != 0 {
		s.vdev.close()
		return fmt.Errorf("%w: %s: size %dx%d must be even", ErrDevice, s.vname, w, h)
	}
	if err := s.vdev.videoSetup(w, h); err != nil {
		s.vdev.close()
		return fmt.Errorf("%w: %s: %v", ErrDevice, s.vname, err)
	}
	s.w, s.h, s.fps, s.hasV = w, h, fps, true
	s.wg.Add(1)
	go s.readVideo()
	return nil
}

func (s *linuxSource) openAudio(a *AudioRequest) error {
	rate, ch := a.SampleRate, a.Channels
	if rate <= 0 {
		rate = 48000
	}
	if ch <= 0 {
		ch = 2
	}
	m, err := resolveMic(a.Device)
	if err != nil {
		return err
	}
	what := "microphone"
	if m.monitor {
		what = "audio source"
	}
	s.aname = fmt.Sprintf("%s %s", what, m.id())
	if m.desc != "" && m.desc != m.name {
		s.aname += fmt.Sprintf(" (%q)", m.desc)
	}
	opts := map[string]string{"sample_rate": strconv.Itoa(rate), "channels": strconv.Itoa(ch)}
	nonblock := false
	if m.api == "pulse" {
		opts["name"] = "livecap"
		opts["stream_name"] = "livecap capture"
		// 10 ms fragments: what the pipeline's audio buffers hold.
		opts["fragment_size"] = strconv.Itoa(rate / 100 * ch * 2)
	} else {
		nonblock = true
	}
	d, err := openDevice(openTimeout, m.api, m.name, opts, nonblock)
	if err != nil {
		var le *lavError
		if errors.As(err, &le) && le.is(codeBusy) {
			return fmt.Errorf("%w: %s is busy: another program is using it (%v)", ErrDevice, s.aname, err)
		}
		return fmt.Errorf("%w: %s: %v", ErrDevice, s.aname, err)
	}
	if err := d.audioSetup(rate, ch); err != nil {
		d.close()
		return fmt.Errorf("%w: %s: %v", ErrDevice, s.aname, err)
	}
	s.adev = d
	s.rate, s.ch, s.hasA, s.aapi = rate, ch, true, m.api
	s.wg.Add(1)
	go s.readAudio()
	return nil
}

// linuxSource is a running set of libavdevice inputs. Each device has its
// own reader goroutine (the reads block in C); Run's goroutine delivers,
// so a slow consumer costs dropped pictures (counted), never a stalled
// device.
type linuxSource struct {
	base       clock.Clock
	monoOff    time.Duration // session time = CLOCK_MONOTONIC + monoOff
	vdev, adev *lavDev
	vname      string
	vkind      string
	vformat    string
	aname      string
	aapi       string
	w, h, fps  int
	hasV       bool
	rate, ch   int
	hasA       bool

	vq       chan *media.VideoFrame
	aq       chan *media.AudioBuffer
	errc     chan error
	first    chan firstResult
	stop     chan struct{}
	stopOnce sync.Once
	wg       sync.WaitGroup
	free     chan []byte
	running  atomic.Bool

	firstVideo, firstAudio time.Duration
	skipped                atomic.Uint64 // pictures lost: unusable, or the consumer behind
	aDropped               atomic.Uint64
	lost                   atomic.Value // string: why a device stopped
	lastV, lastA           atomic.Int64 // UnixNano of the last packet read
}

// LostReason implements LossReporter: the device error that stopped a
// reader, or "".
func (s *linuxSource) LostReason() string {
	if r, _ := s.lost.Load().(string); r != "" {
		return r
	}
	// No error, no data: a read that waits (a suspended pulse source, a
	// stalled server or driver).
	now := time.Now().UnixNano()
	var quiet []string
	if s.hasV && now-s.lastV.Load() > int64(2*time.Second) {
		quiet = append(quiet, s.vname+" delivers nothing")
	}
	if s.hasA && now-s.lastA.Load() > int64(2*time.Second) {
		hint := ""
		if s.aapi == "pulse" {
			hint = " (its sink or source suspended, or the sound server stalled)"
		}
		quiet = append(quiet, s.aname+" delivers nothing"+hint)
	}
	return strings.Join(quiet, "; ")
}

// Close stops the readers and closes the devices of a source that was
// opened and will not be run (Run closes them itself when it returns).
func (s *linuxSource) Close() error {
	s.shutdown()
	return nil
}

func (s *linuxSource) Video() (int, int, int, bool) { return s.w, s.h, s.fps, s.hasV }
func (s *linuxSource) Audio() (int, int, bool)      { return s.rate, s.ch, s.hasA }

// Skipped reports pictures lost on the way: unusable ones (a short V4L2
// buffer, a corrupt JPEG) and ones dropped because the consumer fell
// behind. A longer interval between pictures is not counted: a camera
// lowers its rate in low light, and x11grab delivers a late picture rather
// than none.
func (s *linuxSource) Skipped() uint64 { return s.skipped.Load() }

var (
	_ SkipCounter  = (*linuxSource)(nil)
	_ LossReporter = (*linuxSource)(nil)
	_ io.Closer    = (*linuxSource)(nil)
)

// Dropped reports video frames and audio buffers dropped because the
// consumer fell behind (video counts are included in Skipped).
func (s *linuxSource) Dropped() (video, audio uint64) { return s.skipped.Load(), s.aDropped.Load() }

// SourceNames names the devices, for the started event and the banner.
func (s *linuxSource) SourceNames() (video, audio string) {
	if s.hasV {
		video = s.vname
		if s.vformat != "" {
			video += " " + s.vformat
		}
	}
	if s.hasA {
		audio = s.aname
	}
	return video, audio
}

// FirstFrame reports how long after Open began the first picture and the
// first audio packet arrived.
func (s *linuxSource) FirstFrame() (video, audio time.Duration) { return s.firstVideo, s.firstAudio }
