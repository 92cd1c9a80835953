//go:build darwin

package capture

/*
#cgo CFLAGS: -fobjc-arc -Wall
#cgo LDFLAGS: -framework Foundation -framework AVFoundation -framework AVFAudio -framework CoreMedia -framework CoreVideo -framework CoreFoundation -framework ScreenCaptureKit
#include <stdlib.h>
#include "avf_darwin.h"
*/
import "C"

import (
	"context"
	"fmt"
	"runtime/cgo"
	"sort"
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

type darwinPlatform struct{}

// listing collects what lc_list_* report through lcItem.
type listing struct {
	mu    sync.Mutex
	items []item
}

type item struct {
	kind, index, a, b int
	lo, hi            float64
	name, uid         string
}

//export lcItem
func lcItem(ctx C.uintptr_t, kind, index, a, b C.int, lo, hi C.double, name, uid *C.char) {
	l := cgo.Handle(ctx).Value().(*listing)
	it := item{kind: int(kind), index: int(index), a: int(a), b: int(b), lo: float64(lo), hi: float64(hi)}
	if name != nil {
		it.name = C.GoString(name)
	}
	if uid != nil {
		it.uid = C.GoString(uid)
	}
	l.mu.Lock()
	l.items = append(l.items, it)
	l.mu.Unlock()
}

func list(f func(ctx C.uintptr_t)) []item {
	l := &listing{}
	h := cgo.NewHandle(l)
	defer h.Delete()
	f(C.uintptr_t(h))
	return l.items
}

func devices() []item { return list(func(c C.uintptr_t) { C.lc_list_devices(c) }) }

func formats(uid string) []item {
	cu := C.CString(uid)
	defer C.free(unsafe.Pointer(cu))
	return list(func(c C.uintptr_t) { C.lc_list_formats(cu, c) })
}

func screens() ([]item, error) {
	var cerr *C.char
	var denied C.int
	var rc C.int
	its := list(func(c C.uintptr_t) { rc = C.lc_list_screens(c, &cerr, &denied) })
	if rc != 0 {
		msg := C.GoString(cerr)
		C.free(unsafe.Pointer(cerr))
		if denied != 0 {
			return nil, fmt.Errorf("%w: %s; allow it in System Settings > Privacy & Security > Screen & System Audio Recording (Screen Recording before macOS 15) for this terminal or app, then start it again", ErrPermission, msg)
		}
		return nil, fmt.Errorf("%w: %s", ErrDevice, msg)
	}
	return its, nil
}

// formatString is how a device format reads in lists and errors.
func formatString(f item) string {
	if f.lo == f.hi || f.lo == 0 {
		return fmt.Sprintf("%dx%d@%g", f.a, f.b, f.hi)
	}
	return fmt.Sprintf("%dx%d@%g-%g", f.a, f.b, f.lo, f.hi)
}

func offered(fs []item) []string {
	seen := map[string]bool{}
	var out []string
	for _, f := range fs {
		s := formatString(f)
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

func (darwinPlatform) Devices() ([]Device, error) {
	var out []Device
	for _, d := range devices() {
		dev := Device{Index: d.index, Name: d.name, ID: d.uid}
		if d.kind == C.LC_CAMERA {
			dev.Kind = "video"
			dev.Formats = offered(formats(d.uid))
		} else {
			dev.Kind = "audio"
		}
		out = append(out, dev)
	}
	// Screens need the screen recording permission; without it cameras and
	// microphones are still listed, with the reason in the error.
	scr, err := screens()
	for _, s := range scr {
		out = append(out, Device{Kind: "screen", Index: s.index, Name: fmt.Sprintf("Display %d", s.index),
			ID: fmt.Sprintf("screen:%d", s.index), Formats: []string{fmt.Sprintf("%dx%d", s.a, s.b)}})
	}
	if err != nil && len(out) > 0 {
		return out, nil
	}
	return out, err
}

// pick resolves --video/--audio (index, unique ID or name) among devices of
// one kind; empty picks the first (the system lists the built-in first).
func pick(all []item, kind int, what, want string) (item, error) {
	var devs []item
	var names []string
	for _, d := range all {
		if d.kind == kind {
			devs = append(devs, d)
			names = append(names, fmt.Sprintf("%d: %q (%s)", d.index, d.name, d.uid))
		}
	}
	if len(devs) == 0 {
		return item{}, fmt.Errorf("%w: no %s found", ErrDevice, what)
	}
	if want == "" {
		return devs[0], nil
	}
	if i, err := strconv.Atoi(want); err == nil {
		for _, d := range devs {
			if d.index == i {
				return d, nil
			}
		}
	}
	for _, d := range devs {
		if d.uid == want {
			return d, nil
		}
	}
	for _, d := range devs {
		if strings.EqualFold(d.name, want) {
			return d, nil
		}
	}
	return item{}, fmt.Errorf("%w: no %s %q (have: %s)", ErrDevice, what, want, strings.Join(names, ", "))
}

// chooseFormat picks the device format for the request: exact size when
// asked (else 1280x720 when offered, else the device's first format), at a
// frame rate inside one of its ranges (else 30, or the highest below it).
func chooseFormat(name string, fs []item, w, h, fps int) (idx, fw, fh, ffps int, err error) {
	if len(fs) == 0 {
		return 0, 0, 0, 0, fmt.Errorf("%w: camera %q reports no formats", ErrDevice, name)
	}
	fits := func(f item, r int) bool { return float64(r) >= f.lo-0.01 && float64(r) <= f.hi+0.01 }
	candidates := func(w, h int) []item {
		var c []item
		for _, f := range fs {
			if f.a == w && f.b == h {
				c = append(c, f)
			}
		}
		return c
	}
	var c []item
	switch {
	case w > 0 || h > 0:
		c = candidates(w, h)
	default:
		if c = candidates(1280, 720); len(c) == 0 {
			c = candidates(fs[0].a, fs[0].b)
		}
	}
	want := fps
	if want == 0 {
		want = 30
	}
	for _, f := range c {
		if fits(f, want) {
			return f.index, f.a, f.b, want, nil
		}
	}
	if fps == 0 && len(c) > 0 {
		// No 30 fps: the highest rate of the size.
		sort.Slice(c, func(i, j int) bool { return c[i].hi > c[j].hi })
		if r := int(c[0].hi); r > 0 {
			return c[0].index, c[0].a, c[0].b, r, nil
		}
	}
	return 0, 0, 0, 0, fmt.Errorf("%w: camera %q has no %dx%d@%d format (offers: %s)",
		ErrDevice, name, w, h, want, strings.Join(offered(fs), ", "))
}

func authorize(audio bool) error {
	a := C.int(0)
	what, pane := "camera", "Camera"
	if audio {
		a, what, pane = 1, "microphone", "Microphone"
	}
	switch C.lc_authorize(a) {
	case C.LC_AUTH_OK:
		return nil
	case C.LC_AUTH_RESTRICTED:
		return fmt.Errorf("%w: %s access is restricted on this Mac (device management or parental controls)", ErrPermission, what)
	}
	return fmt.Errorf("%w: %s access denied; allow it for this terminal or app in System Settings > Privacy & Security > %s, then start it again", ErrPermission, what, pane)
}

func (darwinPlatform) Open(v *VideoRequest, a *AudioRequest, base clock.Clock) (Source, error) {
	if v == nil && a == nil {
		return nil, fmt.Errorf("%w: neither video nor audio requested", ErrDevice)
	}
	s := &source{
		vq:      make(chan *media.VideoFrame, 8),
		aq:      make(chan *media.AudioBuffer, 64),
		stopped: make(chan error, 1),
	}
	s.h = cgo.NewHandle(s)
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
		s.h.Delete()
		return nil, err
	}
	return s, nil
}

func (s *source) openAV(v *VideoRequest, a *AudioRequest) error {
	all := devices()
	var vuid, auid *C.char
	format, fps := -1, 0
	if v != nil {
		if err := authorize(false); err != nil {
			return err
		}
		d, err := pick(all, C.LC_CAMERA, "camera", v.Device)
		if err != nil {
			return err
		}
		idx, w, h, r, err := chooseFormat(d.name, formats(d.uid), v.Width, v.Height, v.FPS)
		if err != nil {
			return err
		}
		format, fps = idx, r
		s.w, s.hgt, s.fps, s.hasV = w, h, r, true
		vuid = C.CString(d.uid)
		defer C.free(unsafe.Pointer(vuid))
	}
	if a != nil {
		if err := authorize(true); err != nil {
			return err
		}
		d, err := pick(all, C.LC_MIC, "microphone", a.Device)
		if err != nil {
			return err
		}
		s.rate, s.ch, s.hasA = orDefault(a.SampleRate, 48000), orDefault(a.Channels, 1), true
		auid = C.CString(d.uid)
		defer C.free(unsafe.Pointer(auid))
	}
	var cerr *C.char
	c := C.lc_av_open(vuid, C.int(format), C.int(fps), auid, C.int(s.rate), C.int(s.ch), C.uintptr_t(s.h), &cerr)
	if c == nil {
		msg := C.GoString(cerr)
		C.free(unsafe.Pointer(cerr))
		return fmt.Errorf("%w: %s", ErrDevice, msg)
	}
	s.c = c
	return nil
}

func (s *source) openScreen(v *VideoRequest, a *AudioRequest) error {
	n := 0
	if rest, ok := strings.CutPrefix(v.Device, "screen:"); ok {
		i, err := strconv.Atoi(rest)
		if err != nil || i < 0 {
			return fmt.Errorf("%w: screen %q not understood (allowed: screen, screen:N with N from `livecap devices`)", ErrDevice, v.Device)
		}
		n = i
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
	s.w, s.hgt, s.fps, s.hasV = w&^1, h&^1, orDefault(v.FPS, 30), true
	audio := 0
	if a != nil {
		// System audio, not a microphone: ScreenCaptureKit mixes what the
		// Mac plays (this process excluded).
		s.rate, s.ch, s.hasA, audio = orDefault(a.SampleRate, 48000), orDefault(a.Channels, 2), true, 1
	}
	var cerr *C.char
	c := C.lc_sc_open(C.int(n), C.int(s.w), C.int(s.hgt), C.int(s.fps), C.int(audio), C.int(s.rate), C.int(s.ch), C.uintptr_t(s.h), &cerr)
	if c == nil {
		msg := C.GoString(cerr)
		C.free(unsafe.Pointer(cerr))
		if strings.Contains(msg, "permission denied") {
			return fmt.Errorf("%w: %s; allow it in System Settings > Privacy & Security > Screen & System Audio Recording (Screen Recording before macOS 15)", ErrPermission, msg)
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
	c         *C.lc_source
	h         cgo.Handle
	offset    time.Duration // session time = host ns + offset
	w, hgt    int
	fps       int
	hasV      bool
	rate, ch  int
	hasA      bool
	vq        chan *media.VideoFrame
	aq        chan *media.AudioBuffer
	stopped   chan error
	running   atomic.Bool
	vDropped  atomic.Uint64
	aDropped  atomic.Uint64
	closeOnce sync.Once
}

func (s *source) Video() (int, int, int, bool) { return s.w, s.hgt, s.fps, s.hasV }
func (s *source) Audio() (int, int, bool)      { return s.rate, s.ch, s.hasA }

//export lcVideo
func lcVideo(h C.uintptr_t, pb unsafe.Pointer, w, hgt C.int, hostNS C.int64_t) {
	s := cgo.Handle(h).Value().(*source)
	f := &media.VideoFrame{
		PTS:    time.Duration(hostNS) + s.offset,
		Width:  int(w),
		Height: int(hgt),
		Format: media.Native,
		Native: pb,
	}
	var once sync.Once
	f.Release = func() { once.Do(func() { C.lc_pixbuf_release(pb) }) }
	if !s.running.Load() {
		f.Release()
		return
	}
	select {
	case s.vq <- f:
	default:
		s.vDropped.Add(1)
		f.Release()
	}
}

//export lcAudio
func lcAudio(h C.uintptr_t, samples *C.float, frames, channels, rate C.int, hostNS C.int64_t) {
	s := cgo.Handle(h).Value().(*source)
	if !s.running.Load() || frames <= 0 || channels <= 0 {
		return
	}
	n := int(frames) * int(channels)
	b := &media.AudioBuffer{
		PTS:        time.Duration(hostNS) + s.offset,
		SampleRate: int(rate),
		Channels:   int(channels),
		Samples:    append([]float32(nil), unsafe.Slice((*float32)(unsafe.Pointer(samples)), n)...),
	}
	select {
	case s.aq <- b:
	default:
		s.aDropped.Add(1)
	}
}

//export lcStopped
func lcStopped(h C.uintptr_t, msg *C.char) {
	s := cgo.Handle(h).Value().(*source)
	select {
	case s.stopped <- fmt.Errorf("%w: %s", ErrDevice, C.GoString(msg)):
	default:
	}
}

func (s *source) Run(ctx context.Context, v VideoFunc, a AudioFunc) error {
	s.running.Store(true)
	var cerr *C.char
	if C.lc_start(s.c, &cerr) != 0 {
		msg := C.GoString(cerr)
		C.free(unsafe.Pointer(cerr))
		s.close()
		if strings.Contains(msg, "permission denied") {
			return fmt.Errorf("%w: %s", ErrPermission, msg)
		}
		return fmt.Errorf("%w: %s", ErrDevice, msg)
	}
	defer s.close()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case err := <-s.stopped:
			return err
		case f := <-s.vq:
			if v != nil {
				v(f)
			} else {
				f.Release()
			}
		case b := <-s.aq:
			if a != nil {
				a(b)
			}
		}
	}
}

// close stops capture (lc_stop returns once no callback can run any more),
// then releases what is still queued.
func (s *source) close() {
	s.closeOnce.Do(func() {
		s.running.Store(false)
		C.lc_stop(s.c)
		s.c = nil
		for {
			select {
			case f := <-s.vq:
				f.Release()
			case <-s.aq:
			default:
				s.h.Delete()
				return
			}
		}
	})
}

// Dropped reports video frames and audio buffers dropped because the
// consumer fell behind.
func (s *source) Dropped() (video, audio uint64) { return s.vDropped.Load(), s.aDropped.Load() }
