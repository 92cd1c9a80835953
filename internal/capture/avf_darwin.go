//go:build darwin

package capture

/*
#cgo CFLAGS: -fobjc-arc -Wall
#cgo LDFLAGS: -framework Foundation -framework AVFoundation -framework AVFAudio -framework CoreMedia -framework CoreVideo -framework CoreFoundation -framework CoreGraphics -framework ScreenCaptureKit
#include <stdlib.h>
#include "avf_darwin.h"
*/
import "C"

import (
	"context"
	"fmt"
	"math"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/livecap/livecap/internal/clock"
	"github.com/livecap/livecap/internal/media"
)

func init() { RegisterPlatform(darwinPlatform{}) }

// Bounds on every wait for a system completion handler.
const (
	// permissionWait: the camera/microphone prompt waits for a person.
	permissionWait = 120 // s
	// systemWait: ScreenCaptureKit listing displays, starting, stopping.
	systemWait = 10 // s
)

type darwinPlatform struct{}

func (darwinPlatform) Open(v *VideoRequest, a *AudioRequest, base clock.Clock) (Source, error) {
	if v == nil && a == nil {
		return nil, fmt.Errorf("%w: neither video nor audio requested", ErrDevice)
	}
	s := &source{
		vq:    make(chan *media.VideoFrame, 8),
		aq:    make(chan *media.AudioBuffer, 64),
		lostC: make(chan struct{}, 1),
		base:  base,
	}
	s.id = nextSource.Add(1)
	sources.Store(s.id, s)
	// Host time to session time. Sample buffers arrive stamped on the host
	// time clock (mach_absolute_time in ns); Go's monotonic clock on darwin
	// counts the same mach_absolute_time ticks, so one paired reading taken
	// now maps one onto the other for the whole session, without drift. The
	// Go reading is the midpoint of two around the host reading.
	g1 := base.Now()
	hns := int64(C.lc_host_now_ns())
	g2 := base.Now()
	s.offset = g1 + (g2-g1)/2 - time.Duration(hns)

	var err error
	if v != nil && (v.Device == "screen" || strings.HasPrefix(v.Device, "screen:")) {
		err = s.openScreen(v, a)
	} else {
		err = s.openAV(v, a)
	}
	if err != nil {
		sources.Delete(s.id)
		return nil, err
	}
	return s, nil
}

func (s *source) openAV(v *VideoRequest, a *AudioRequest) error {
	all := devices()
	var vuid, auid *C.char
	format, durV, durS := -1, int64(0), int32(0)
	// Devices and the camera format are chosen before permission is
	// asked: a camera that does not exist, or a format it does not offer,
	// fails at once (exit 4) without a prompt.
	if v != nil {
		d, err := pick(all, C.LC_CAMERA, "camera", v.Device)
		if err != nil {
			return err
		}
		num, den := v.FPS, 1
		if !v.Rate.IsZero() {
			num, den = v.Rate.Num, v.Rate.Den
		}
		fs := formats(d.uid)
		c, err := ChooseFormat(d.name, fs, v.Width, v.Height, num, den)
		if err != nil {
			return err
		}
		format, durV, durS = c.Format, c.Duration.Value, c.Duration.Scale
		s.w, s.hgt, s.fps, s.hasV = c.Width, c.Height, int(math.Round(c.FPS)), true
		s.offer = strings.Join(Offered(fs), ", ")
		vuid = C.CString(d.uid)
		defer C.free(unsafe.Pointer(vuid))
	}
	if a != nil && a.Device == "system" {
		return fmt.Errorf("%w: --audio system (what the Mac plays) comes with a screen on macOS: use --video screen (ScreenCaptureKit), or a microphone with a camera", ErrDevice)
	}
	if a != nil {
		d, err := pick(all, C.LC_MIC, "microphone", a.Device)
		if err != nil {
			return err
		}
		s.rate, s.ch, s.hasA = orDefault(a.SampleRate, 48000), orDefault(a.Channels, 1), true
		auid = C.CString(d.uid)
		defer C.free(unsafe.Pointer(auid))
	}
	if v != nil {
		if err := authorize(false); err != nil {
			return err
		}
	}
	if a != nil {
		if err := authorize(true); err != nil {
			return err
		}
	}
	var cerr *C.char
	c := C.lc_av_open(vuid, C.int(format), C.int64_t(durV), C.int32_t(durS), auid, C.int(s.rate), C.int(s.ch), C.uintptr_t(s.id), &cerr)
	if c == nil {
		msg := cMsg(cerr)
		if s.offer != "" {
			msg += " (the camera offers: " + s.offer + ")"
		}
		return fmt.Errorf("%w: %s", ErrDevice, msg)
	}
	s.c = c
	return nil
}

// cMsg takes a malloc'ed C message.
func cMsg(c *C.char) string {
	if c == nil {
		return "unknown error"
	}
	defer C.free(unsafe.Pointer(c))
	return C.GoString(c)
}

// ScreenAudioRate is the only rate ScreenCaptureKit delivers system audio
// at, whatever it is asked.
const ScreenAudioRate = 48000

func (s *source) openScreen(v *VideoRequest, a *AudioRequest) error {
	n := 0
	if rest, ok := strings.CutPrefix(v.Device, "screen:"); ok {
		i, err := strconv.Atoi(rest)
		if err != nil || i < 0 {
			return fmt.Errorf("%w: screen %q not understood (allowed: screen, screen:N with N from `livecap devices`)", ErrDevice, v.Device)
		}
		n = i
	}
	if a != nil && a.Device != "" && a.Device != "system" {
		return fmt.Errorf("%w: with --video screen the audio is the Mac's own (--audio system, ScreenCaptureKit); a microphone (%q) together with a screen is not supported", ErrDevice, a.Device)
	}
	if a != nil && a.SampleRate != 0 && a.SampleRate != ScreenAudioRate {
		return fmt.Errorf("%w: system audio (ScreenCaptureKit) is captured at %d Hz only, not %d Hz: leave --sample-rate at %d with a screen",
			ErrDevice, ScreenAudioRate, a.SampleRate, ScreenAudioRate)
	}
	scr, err := screens()
	if err != nil {
		return err
	}
	if n >= len(scr) {
		return fmt.Errorf("%w: screen:%d does not exist (have %d displays)", ErrDevice, n, len(scr))
	}
	// Capture at the requested size, else the display's size in points
	// (even, as H.264 4:2:0 wants).
	w, h := v.Width, v.Height
	if w == 0 || h == 0 {
		w, h = scr[n].a, scr[n].b
	}
	num, den := orDefault(v.FPS, 30), 1
	if !v.Rate.IsZero() {
		num, den = v.Rate.Num, v.Rate.Den
	}
	s.w, s.hgt, s.fps, s.hasV = w&^1, h&^1, int(math.Round(float64(num)/float64(den))), true
	s.screen = true
	s.rep.interval = time.Duration(float64(time.Second) * float64(den) / float64(num))
	audio := 0
	if a != nil {
		// System audio, not a microphone: ScreenCaptureKit mixes what the
		// Mac plays (this process excluded).
		s.rate, s.ch, s.hasA, audio = ScreenAudioRate, orDefault(a.Channels, 2), true, 1
	}
	var cerr *C.char
	c := C.lc_sc_open(C.int(n), C.int(s.w), C.int(s.hgt), C.int(num), C.int(den), C.int(audio), C.int(s.ch),
		systemWait, C.uintptr_t(s.id), &cerr)
	if c == nil {
		msg := cMsg(cerr)
		if strings.Contains(msg, "permission denied") {
			return fmt.Errorf("%w: %s; allow it in %s", ErrPermission, msg, screenPane)
		}
		return fmt.Errorf("%w: %s", ErrDevice, msg)
	}
	s.c = c
	return nil
}

func orDefault(v, d int) int {
	if v > 0 {
		return v
	}
	return d
}

// source is one running AVCaptureSession or SCStream. Capture callbacks
// (on their dispatch queues) only enqueue; Run's goroutine delivers, so a
// slow consumer costs dropped video frames (counted), never a stalled
// capture queue.
type source struct {
	c      *C.lc_source
	id     uintptr
	base   clock.Clock
	offset time.Duration // session time = host ns + offset
	w, hgt int
	fps    int
	hasV   bool
	rate   int
	ch     int
	hasA   bool
	screen bool
	offer  string // the camera's formats, for errors

	vq      chan *media.VideoFrame
	aq      chan *media.AudioBuffer
	running atomic.Bool

	vDropped   atomic.Uint64 // queue full: the consumer fell behind
	aDropped   atomic.Uint64
	lateDrops  atomic.Uint64 // the capture output discarded late frames
	outOfOrder atomic.Uint64 // frames older than a repeat already sent

	lostMu sync.Mutex
	lost   string // why the system says the source stopped
	lostC  chan struct{}

	rep  frameRepeater     // screen only; Run's goroutine only
	last *media.VideoFrame // last screen frame sent, retained (repeats)

	closeOnce sync.Once
}

var (
	_ Source       = (*source)(nil)
	_ SkipCounter  = (*source)(nil)
	_ LossReporter = (*source)(nil)
)

func (s *source) Video() (int, int, int, bool) { return s.w, s.hgt, s.fps, s.hasV }
func (s *source) Audio() (int, int, bool)      { return s.rate, s.ch, s.hasA }

func (s *source) Run(ctx context.Context, v VideoFunc, a AudioFunc) error {
	s.running.Store(true)
	var cerr *C.char
	if C.lc_start(s.c, systemWait, &cerr) != 0 {
		msg := cMsg(cerr)
		s.Close()
		if strings.Contains(msg, "permission denied") {
			return fmt.Errorf("%w: %s", ErrPermission, msg)
		}
		return fmt.Errorf("%w: %s", ErrDevice, msg)
	}
	defer s.Close()
	// A screen that does not change sends nothing: repeat the last
	// picture at the configured rate (frameRepeater).
	var tick <-chan time.Time
	if s.screen && s.hasV && s.rep.interval > 0 {
		t := time.NewTicker(s.rep.interval / 2)
		defer t.Stop()
		tick = t.C
	}
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-s.lostC:
			// Nothing more will come from a disconnected device or a
			// stopped stream; the session's watchdog reports the loss and
			// ends the session after its grace time. Repeating the last
			// picture would hide the loss from it: stop repeating.
			tick = nil
		case f := <-s.vq:
			s.deliver(f, v)
		case <-tick:
			if pts, ok := s.rep.due(s.base.Now()); ok && s.last != nil {
				C.lc_pixbuf_retain(s.last.Native)
				s.send(nativeFrame(s.last.Native, pts, s.last.Width, s.last.Height), v)
			}
		case b := <-s.aq:
			if a != nil {
				a(b)
			}
		}
	}
}

// deliver hands a captured frame on (screen frames through the repeater).
func (s *source) deliver(f *media.VideoFrame, v VideoFunc) {
	if !s.screen {
		if v != nil {
			v(f)
		} else {
			f.Release()
		}
		return
	}
	if !s.rep.accept(f.PTS) {
		s.outOfOrder.Add(1)
		f.Release()
		return
	}
	s.send(f, v)
}

// send passes a screen frame on and keeps a reference to it for repeats.
func (s *source) send(f *media.VideoFrame, v VideoFunc) {
	C.lc_pixbuf_retain(f.Native)
	if s.last != nil {
		s.last.Release()
	}
	s.last = nativeFrame(f.Native, f.PTS, f.Width, f.Height)
	if v != nil {
		v(f)
	} else {
		f.Release()
	}
}

// Close stops capture (lc_stop returns once no callback can run any more)
// and releases what is still queued. Run calls it on return; a source that
// was opened and never run (the session failed before Run) must be closed
// too, which unlocks the camera's configuration. Idempotent.
func (s *source) Close() error {
	s.closeOnce.Do(func() {
		s.running.Store(false)
		C.lc_stop(s.c, systemWait)
		s.c = nil
		sources.Delete(s.id)
		if s.last != nil {
			s.last.Release()
			s.last = nil
		}
		for {
			select {
			case f := <-s.vq:
				f.Release()
			case <-s.aq:
			default:
				return
			}
		}
	})
	return nil
}

// Skipped implements SkipCounter: video frames captured and not delivered
// (the consumer fell behind, the capture output discarded them as late, or
// a screen frame arrived older than a repeat already sent).
func (s *source) Skipped() uint64 {
	return s.vDropped.Load() + s.lateDrops.Load() + s.outOfOrder.Load()
}

// Dropped reports video frames and audio buffers dropped because the
// consumer fell behind.
func (s *source) Dropped() (video, audio uint64) { return s.vDropped.Load(), s.aDropped.Load() }
