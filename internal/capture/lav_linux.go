//go:build linux && cgo

package capture

/*
#cgo pkg-config: libavdevice libavformat libavcodec libswscale libswresample libavutil
#cgo LDFLAGS: -Wl,--as-needed
#include "lav_linux.h"
*/
import "C"

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"syscall"
	"time"
	"unsafe"
)

// The thin cgo layer over libavdevice: open a device, read one picture or
// one audio packet at a time (converted to I420 or float in C), list
// sources, enumerate V4L2 nodes. Everything above it is plain Go.

func init() { RegisterPlatform(linuxPlatform{}) }

var (
	loadOnce sync.Once
	loadErr  error
)

// load dlopens the FFmpeg libraries and installs the log callback, once,
// the first time a device is opened or listed.
func load() error {
	loadOnce.Do(func() {
		var buf [512]C.char
		if C.lcd_load(&buf[0], C.size_t(len(buf))) != 0 {
			loadErr = fmt.Errorf("capture needs FFmpeg's device libraries (Debian/Ubuntu: apt-get install libavdevice59 or newer, matching the build): %s", C.GoString(&buf[0]))
			return
		}
		C.lcd_init()
	})
	return loadErr
}

// lavDev is one open libavdevice input.
type lavDev struct {
	d *C.lcd_dev
}

// errAgain: no picture or packet is ready yet (nonblocking devices).
var errAgain = errors.New("again")

// errBadFrame: a picture that could not be used (short buffer, corrupt
// JPEG); the caller counts it and goes on.
var errBadFrame = errors.New("unusable frame")

// lavError is a device error with its AVERROR code.
type lavError struct {
	code int
	msg  string
}

func (e *lavError) Error() string { return e.msg }

func takeErr(code C.int, cerr *C.char) *lavError {
	msg := "unknown error"
	if cerr != nil {
		msg = C.GoString(cerr)
		C.free(unsafe.Pointer(cerr))
	}
	return &lavError{code: int(code), msg: msg}
}

func (e *lavError) is(code int) bool { return e.code == code }

// AVERROR codes the callers tell apart.
var (
	codeBusy   = int(C.LCD_EBUSY)
	codeAccess = int(C.LCD_EACCES)
)

// openDevice is lavOpen bounded by timeout; a device that opens after the
// caller gave up is closed.
func openDevice(timeout time.Duration, format, url string, opts map[string]string, nonblock bool) (*lavDev, error) {
	type res struct {
		d   *lavDev
		err error
	}
	c := make(chan res, 1)
	abandoned := make(chan struct{})
	go func() {
		d, err := lavOpen(format, url, opts, nonblock)
		select {
		case c <- res{d, err}:
		case <-abandoned:
			if d != nil {
				d.close()
			}
		}
	}()
	select {
	case r := <-c:
		return r.d, r.err
	case <-time.After(timeout):
		close(abandoned)
		return nil, fmt.Errorf("did not open within %v", timeout)
	}
}

// lavOpen opens format ("v4l2", "pulse", "alsa", "x11grab") at url with
// the given AVOptions.
func lavOpen(format, url string, opts map[string]string, nonblock bool) (*lavDev, error) {
	if err := load(); err != nil {
		return nil, err
	}
	var b strings.Builder
	for k, v := range opts {
		fmt.Fprintf(&b, "%s=%s\n", k, v)
	}
	cf, cu, co := C.CString(format), C.CString(url), C.CString(strings.TrimSuffix(b.String(), "\n"))
	defer C.free(unsafe.Pointer(cf))
	defer C.free(unsafe.Pointer(cu))
	defer C.free(unsafe.Pointer(co))
	nb := C.int(0)
	if nonblock {
		nb = 1
	}
	var cerr *C.char
	var code C.int
	d := C.lcd_open(cf, cu, co, nb, &code, &cerr)
	if d == nil {
		return nil, takeErr(code, cerr)
	}
	return &lavDev{d: d}, nil
}

func (l *lavDev) close() {
	if l.d != nil {
		C.lcd_close(l.d)
		l.d = nil
	}
}

type videoInfo struct {
	w, h             int
	pixfmt, codec    int
	fpsNum, fpsDen   int
	pixName, decName string
}

func (l *lavDev) videoInfo() videoInfo {
	var w, h, pf, codec, fn, fd C.int
	C.lcd_video_info(l.d, &w, &h, &pf, &codec, &fn, &fd)
	vi := videoInfo{w: int(w), h: int(h), pixfmt: int(pf), codec: int(codec), fpsNum: int(fn), fpsDen: int(fd)}
	if n := C.lcd_pix_fmt_name(pf); n != nil {
		vi.pixName = C.GoString(n)
	}
	if n := C.lcd_codec_name(codec); n != nil {
		vi.decName = C.GoString(n)
	}
	return vi
}

func (l *lavDev) audioInfo() (rate, channels int) {
	var r, ch, codec C.int
	C.lcd_audio_info(l.d, &r, &ch, &codec)
	return int(r), int(ch)
}

func (l *lavDev) videoSetup(w, h int) error {
	var cerr *C.char
	if C.lcd_video_setup(l.d, C.int(w), C.int(h), &cerr) < 0 {
		return takeErr(-1, cerr)
	}
	return nil
}

func (l *lavDev) audioSetup(rate, ch int) error {
	var cerr *C.char
	if C.lcd_audio_setup(l.d, C.int(rate), C.int(ch), &cerr) < 0 {
		return takeErr(-1, cerr)
	}
	return nil
}

// readVideo converts one picture into out (I420, contiguous planes) and
// returns its capture time in the device's clock.
func (l *lavDev) readVideo(out []byte) (time.Duration, error) {
	var pts C.int64_t
	var cerr *C.char
	switch r := C.lcd_read_video(l.d, (*C.uint8_t)(unsafe.Pointer(&out[0])), &pts, &cerr); r {
	case 0:
		return time.Duration(pts), nil
	case C.LCD_EAGAIN:
		return 0, errAgain
	case C.LCD_INVALIDDATA:
		return 0, errBadFrame
	default:
		return 0, takeErr(r, cerr)
	}
}

// readAudio converts one packet into out (interleaved float) and returns
// the number of frames and the device-clock time of the first.
func (l *lavDev) readAudio(out []float32, channels int) (int, time.Duration, error) {
	var pts C.int64_t
	var n C.int
	var cerr *C.char
	switch r := C.lcd_read_audio(l.d, (*C.float)(unsafe.Pointer(&out[0])), C.int(len(out)/channels), &n, &pts, &cerr); r {
	case 0:
		return int(n), time.Duration(pts), nil
	case C.LCD_EAGAIN:
		return 0, 0, errAgain
	default:
		return 0, 0, takeErr(r, cerr)
	}
}

// hostClocks reads CLOCK_MONOTONIC and CLOCK_REALTIME.
func hostClocks() (mono, real time.Duration) {
	m1 := C.lcd_clock_ns(C.CLOCK_MONOTONIC)
	r := C.lcd_clock_ns(C.CLOCK_REALTIME)
	m2 := C.lcd_clock_ns(C.CLOCK_MONOTONIC)
	return time.Duration(m1 + (m2-m1)/2), time.Duration(r)
}

type lavSource struct{ name, desc string }

// lavList lists the sources of an input device type (pulse, alsa) and the
// index of the default one (-1: none).
func lavList(format string) ([]lavSource, int, error) {
	if err := load(); err != nil {
		return nil, -1, err
	}
	cf := C.CString(format)
	defer C.free(unsafe.Pointer(cf))
	var names, descs, cerr *C.char
	var def C.int
	n := C.lcd_list(cf, &names, &descs, &def, &cerr)
	if n < 0 {
		return nil, -1, takeErr(n, cerr)
	}
	ns := strings.Split(C.GoString(names), "\n")
	ds := strings.Split(C.GoString(descs), "\n")
	C.free(unsafe.Pointer(names))
	C.free(unsafe.Pointer(descs))
	var out []lavSource
	for i := 0; i < int(n) && i < len(ns) && i < len(ds); i++ {
		out = append(out, lavSource{name: ns[i], desc: ds[i]})
	}
	return out, int(def), nil
}

// v4l2Format is one (pixel format, size, frame interval) a node offers.
type v4l2Format struct {
	fourcc     uint32
	compressed bool
	w, h       int // 0 when stepwise
	// stepwise sizes
	wmin, wmax, wstep, hmin, hmax, hstep int
	// fps: a discrete rate (fpsNum/fpsDen; 0 unknown) or a range
	fpsNum, fpsDen int
	fpsMin, fpsMax float64 // range when stepwise (fpsNum == 0)
}

// v4l2Node is what VIDIOC_QUERYCAP and the enumerations report.
type v4l2Node struct {
	path, card, bus string
	caps            uint32
	capture         bool
	formats         []v4l2Format
}

// queryV4L2 opens a node and reads its capabilities and formats.
func queryV4L2(path string) (v4l2Node, error) {
	const max = 512
	cp := C.CString(path)
	defer C.free(unsafe.Pointer(cp))
	var card, bus [64]C.char
	var caps C.uint32_t
	var n C.int
	fs := (*[max]C.lcd_v4l2_fmt)(C.malloc(C.size_t(max) * C.size_t(unsafe.Sizeof(C.lcd_v4l2_fmt{}))))
	defer C.free(unsafe.Pointer(fs))
	r := C.lcd_v4l2_query(cp, &card[0], 64, &bus[0], 64, &caps, &fs[0], max, &n)
	if r < 0 {
		return v4l2Node{path: path}, syscall.Errno(-r)
	}
	node := v4l2Node{path: path, card: C.GoString(&card[0]), bus: C.GoString(&bus[0]), caps: uint32(caps), capture: r == 1}
	for i := 0; i < int(n); i++ {
		f := fs[i]
		vf := v4l2Format{fourcc: uint32(f.fourcc), compressed: f.compressed != 0, w: int(f.w), h: int(f.h),
			wmin: int(f.wmin), wmax: int(f.wmax), wstep: int(f.wstep), hmin: int(f.hmin), hmax: int(f.hmax), hstep: int(f.hstep)}
		switch {
		case f.step_interval != 0:
			// Interval range: the shortest interval is the highest rate.
			if f.imin_num > 0 && f.imax_num > 0 {
				vf.fpsMax = float64(f.imin_den) / float64(f.imin_num)
				vf.fpsMin = float64(f.imax_den) / float64(f.imax_num)
			}
		case f.inum > 0:
			// An interval of num/den seconds is den/num frames per second.
			vf.fpsNum, vf.fpsDen = int(f.iden), int(f.inum)
		}
		node.formats = append(node.formats, vf)
	}
	return node, nil
}
