//go:build darwin

package vt

/*
#cgo CFLAGS: -Wall
#cgo LDFLAGS: -framework VideoToolbox -framework CoreMedia -framework CoreVideo -framework CoreFoundation -framework AudioToolbox
#include <stdlib.h>
#include "vt_darwin.h"
*/
import "C"

import (
	"errors"
	"fmt"
	"runtime/cgo"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/livecap/livecap/internal/capture"
	"github.com/livecap/livecap/internal/encoder"
	"github.com/livecap/livecap/internal/media"
)

func init() { encoder.Register(backend{}) }

type backend struct{}

func (backend) Name() string { return "videotoolbox" }

// osErr formats an OSStatus; many are four-character codes.
func osErr(what string, st C.int32_t) error {
	s := int32(st)
	u := uint32(s)
	b := []byte{byte(u >> 24), byte(u >> 16), byte(u >> 8), byte(u)}
	printable := true
	for _, c := range b {
		if c < 0x20 || c > 0x7e {
			printable = false
		}
	}
	if printable {
		return fmt.Errorf("%s: OSStatus %d ('%s')", what, s, b)
	}
	return fmt.Errorf("%s: OSStatus %d", what, s)
}

// ---- video ----

type videoEnc struct {
	s      encoder.VideoSettings
	out    encoder.Output
	h      cgo.Handle
	c      *C.lcvt_video
	frame  time.Duration
	forceK atomic.Bool

	mu     sync.Mutex
	cfg    media.VideoConfig
	asyncE error // first error the output callback reported
	closed bool

	dropped  atomic.Uint64 // frames VideoToolbox reported as dropped
	warnings []string      // properties the encoder does not support
}

// vtProperties names the LCVT_P_* bits of lcvt_video_open, in order.
var vtProperties = [C.LCVT_P_COUNT]string{
	"RealTime", "ProfileLevel (auto level)", "AllowFrameReordering (off)", "AverageBitRate",
	"DataRateLimits (1.5x average per second, 1x with cbr)", "MaxKeyFrameIntervalDuration", "MaxKeyFrameInterval",
	"ExpectedFrameRate", "PrioritizeEncodingSpeedOverQuality (--preset)",
}

func (backend) OpenVideo(s encoder.VideoSettings, out encoder.Output) (encoder.VideoEncoder, error) {
	if err := media.CheckSize(s.Width, s.Height); err != nil {
		return nil, fmt.Errorf("video %w", err)
	}
	if err := media.CheckFPS(s.FPS); err != nil {
		return nil, fmt.Errorf("video %w", err)
	}
	if s.Bitrate <= 0 {
		return nil, fmt.Errorf("video bitrate %d not supported (allowed: > 0 bits/s)", s.Bitrate)
	}
	e := &videoEnc{s: s, out: out, frame: time.Second / time.Duration(s.FPS)}
	e.cfg = media.VideoConfig{Width: s.Width, Height: s.Height, FPS: s.FPS, Bitrate: s.Bitrate}
	e.h = cgo.NewHandle(e)
	var c *C.lcvt_video
	var unsupported C.uint32_t
	if err := s.Tuning.Check(); err != nil {
		e.h.Delete()
		return nil, fmt.Errorf("VideoToolbox: %w", err)
	}
	tune := s.Tuning.WithDefaults()
	profile := C.int32_t(C.LCVT_HIGH)
	switch tune.Profile {
	case "baseline":
		profile = C.LCVT_BASELINE
	case "main":
		profile = C.LCVT_MAIN
	}
	st := C.lcvt_video_open(C.int32_t(s.Width), C.int32_t(s.Height), C.double(s.FPS), C.int32_t(s.Bitrate),
		C.double(s.KeyInterval.Seconds()), boolC(s.Realtime), profile, boolC(tune.RateControl == "cbr"),
		boolC(tune.SpeedOverQuality()), C.uintptr_t(e.h), &c, &unsupported)
	if st != 0 {
		e.h.Delete()
		return nil, osErr(fmt.Sprintf("VTCompressionSession %dx%d@%d %d bit/s", s.Width, s.Height, s.FPS, s.Bitrate), st)
	}
	e.c = c
	e.warnings = unsupportedWarnings(uint32(unsupported), vtProperties[:])
	return e, nil
}

// Warnings lists what the encoder accepted with a reservation: each
// property VideoToolbox rejected with kVTPropertyNotSupportedErr. The
// session goes on without it; the pipeline logs each one.
func (e *videoEnc) Warnings() []string { return e.warnings }

var (
	_ encoder.Warner      = (*videoEnc)(nil)
	_ capture.SkipCounter = (*videoEnc)(nil)
)

// Skipped reports frames VideoToolbox dropped (kVTEncodeInfo_FrameDropped):
// in real-time mode it may drop frames it cannot encode in time.
func (e *videoEnc) Skipped() uint64 { return e.dropped.Load() }

func boolC(b bool) C.int32_t {
	if b {
		return 1
	}
	return 0
}

func (e *videoEnc) Encode(f *media.VideoFrame) error {
	e.mu.Lock()
	err, closed := e.asyncE, e.closed
	e.mu.Unlock()
	if closed {
		return errors.New("video encoder is closed")
	}
	if err != nil {
		return err
	}
	force := boolC(e.forceK.Swap(false))
	var st C.int32_t
	switch f.Format {
	case media.Native:
		if f.Native == nil {
			return errors.New("native video frame without a CVPixelBuffer")
		}
		// No copy: VideoToolbox retains the camera's buffer while it needs it.
		st = C.lcvt_video_encode_pixbuf(e.c, f.Native, C.int64_t(f.PTS), C.int64_t(e.frame), force)
	case media.I420, media.NV12:
		if f.Width != e.s.Width || f.Height != e.s.Height {
			return fmt.Errorf("frame size %dx%d differs from the encoder's %dx%d", f.Width, f.Height, e.s.Width, e.s.Height)
		}
		cw, ch := (f.Width+1)/2, (f.Height+1)/2
		need := [3]int{f.Strides[0]*(f.Height-1) + f.Width, f.Strides[1]*(ch-1) + cw, f.Strides[2]*(ch-1) + cw}
		planes := 3
		fmtC := C.int32_t(C.LCVT_I420)
		if f.Format == media.NV12 {
			need[1] = f.Strides[1]*(ch-1) + 2*cw
			planes = 2
			fmtC = C.LCVT_NV12
		}
		var p [3]*C.uint8_t
		for i := 0; i < planes; i++ {
			if len(f.Planes[i]) < need[i] {
				return fmt.Errorf("plane %d holds %d bytes, want at least %d for %dx%d", i, len(f.Planes[i]), need[i], f.Width, f.Height)
			}
			p[i] = (*C.uint8_t)(unsafe.Pointer(&f.Planes[i][0]))
		}
		st = C.lcvt_video_encode_planes(e.c, fmtC, C.int32_t(f.Width), C.int32_t(f.Height),
			p[0], C.int32_t(f.Strides[0]), p[1], C.int32_t(f.Strides[1]), p[2], C.int32_t(f.Strides[2]),
			C.int64_t(f.PTS), C.int64_t(e.frame), force)
	default:
		return fmt.Errorf("pixel format %d not supported (allowed: I420, NV12, Native)", f.Format)
	}
	if st != 0 {
		if force != 0 {
			e.forceK.Store(true) // not submitted: ask again on the next frame
		}
		return osErr("VTCompressionSessionEncodeFrame", st)
	}
	return nil
}

func (e *videoEnc) ForceKeyframe() { e.forceK.Store(true) }

func (e *videoEnc) Config() media.VideoConfig {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.cfg
}

func (e *videoEnc) Flush() error {
	e.mu.Lock()
	closed := e.closed
	e.mu.Unlock()
	if closed {
		return nil
	}
	if st := C.lcvt_video_flush(e.c); st != 0 {
		return osErr("VTCompressionSessionCompleteFrames", st)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.asyncE
}

func (e *videoEnc) Close() error {
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		return nil
	}
	e.closed = true
	e.mu.Unlock()
	// No output callback can run once lcvt_video_close returns
	// (CompleteFrames then Invalidate), so the handle dies after it.
	C.lcvt_video_close(e.c)
	e.c = nil
	e.h.Delete()
	return nil
}

// lcvtVideoPacket is called on a VideoToolbox thread for every encoded
// frame. It copies the bytes (the sample buffer dies when it returns) and
// hands the packet on; Output must not block for long.
//
//export lcvtVideoPacket
func lcvtVideoPacket(h C.uintptr_t, status C.int32_t, data *C.uint8_t, size C.size_t, pts, dts C.int64_t, key C.int32_t,
	sps *C.uint8_t, spsLen C.size_t, pps *C.uint8_t, ppsLen C.size_t) {
	e := cgo.Handle(h).Value().(*videoEnc)
	if status != 0 {
		e.mu.Lock()
		if e.asyncE == nil {
			e.asyncE = osErr("VideoToolbox encode", status)
		}
		e.mu.Unlock()
		return
	}
	if spsLen > 0 && ppsLen > 0 {
		s := C.GoBytes(unsafe.Pointer(sps), C.int(spsLen))
		p := C.GoBytes(unsafe.Pointer(pps), C.int(ppsLen))
		e.mu.Lock()
		if string(s) != string(e.cfg.SPS) || string(p) != string(e.cfg.PPS) {
			e.cfg.SPS, e.cfg.PPS = s, p // new slices: old Config copies stay valid
		}
		e.mu.Unlock()
	}
	e.out(&media.Packet{
		Kind:     media.Video,
		PTS:      time.Duration(pts),
		DTS:      time.Duration(dts),
		Duration: e.frame,
		Key:      key != 0,
		Data:     C.GoBytes(unsafe.Pointer(data), C.int(size)),
	})
}

//export lcvtVideoDropped
func lcvtVideoDropped(h C.uintptr_t) {
	cgo.Handle(h).Value().(*videoEnc).dropped.Add(1)
}

// ---- audio ----

type audioEnc struct {
	s   encoder.AudioSettings
	out encoder.Output
	h   cgo.Handle
	c   *C.lcvt_audio
	cfg media.AudioConfig

	started bool
	first   time.Duration // PTS of the first input sample
	n       int64         // packets emitted
	closed  bool
}

// primingDefault is AudioToolbox's AAC-LC encoder delay, used when the
// converter does not report kAudioConverterPrimeInfo.
const primingDefault = 2112

func (backend) OpenAudio(s encoder.AudioSettings, out encoder.Output) (encoder.AudioEncoder, error) {
	if s.Channels < 1 || s.Channels > 2 {
		return nil, fmt.Errorf("audio channel count %d not supported (allowed: 1, 2)", s.Channels)
	}
	if s.Bitrate <= 0 {
		return nil, fmt.Errorf("audio bitrate %d not supported (allowed: > 0 bits/s)", s.Bitrate)
	}
	asc, err := ascFor(s.SampleRate, s.Channels) // also validates the rate
	if err != nil {
		return nil, err
	}
	e := &audioEnc{s: s, out: out}
	e.h = cgo.NewHandle(e)
	var c *C.lcvt_audio
	if st := C.lcvt_audio_open(C.int32_t(s.SampleRate), C.int32_t(s.Channels), C.int32_t(s.Bitrate), C.uintptr_t(e.h), &c); st != 0 {
		e.h.Delete()
		return nil, osErr(fmt.Sprintf("AudioConverter AAC-LC %d Hz %d ch %d bit/s (the bitrate may be outside what AudioToolbox offers for this rate and layout)",
			s.SampleRate, s.Channels, s.Bitrate), st)
	}
	e.c = c
	priming := int(C.lcvt_audio_priming(c))
	if priming < 0 {
		priming = primingDefault
	}
	var cookie *C.uint8_t
	var n C.uint32_t
	if st := C.lcvt_audio_cookie(c, &cookie, &n); st == 0 && n > 0 {
		b := C.GoBytes(unsafe.Pointer(cookie), C.int(n))
		C.free(unsafe.Pointer(cookie))
		if a, err := ascFromCookie(b); err == nil {
			asc = a
		} else {
			C.lcvt_audio_close(c)
			e.h.Delete()
			return nil, err
		}
	}
	e.cfg = media.AudioConfig{SampleRate: s.SampleRate, Channels: s.Channels, ASC: asc,
		Priming: priming, FrameSize: 1024, Bitrate: s.Bitrate}
	return e, nil
}

func (e *audioEnc) Encode(b *media.AudioBuffer) error {
	if e.closed {
		return errors.New("audio encoder is closed")
	}
	if b.SampleRate != e.s.SampleRate || b.Channels != e.s.Channels {
		return fmt.Errorf("audio buffer %d Hz %d ch differs from the encoder's %d Hz %d ch", b.SampleRate, b.Channels, e.s.SampleRate, e.s.Channels)
	}
	frames := b.Frames()
	if frames == 0 {
		return nil
	}
	if !e.started {
		e.started, e.first = true, b.PTS
	}
	// Packets are emitted from inside this call (lcvtAudioPacket), on this
	// goroutine: AudioConverter is synchronous.
	if st := C.lcvt_audio_encode(e.c, (*C.float)(unsafe.Pointer(&b.Samples[0])), C.int32_t(frames)); st != 0 {
		return osErr("AudioConverterFillComplexBuffer", st)
	}
	return nil
}

func (e *audioEnc) Config() media.AudioConfig { return e.cfg }

func (e *audioEnc) Flush() error {
	if e.closed || !e.started {
		return nil
	}
	if st := C.lcvt_audio_flush(e.c); st != 0 {
		return osErr("AudioConverter flush", st)
	}
	return nil
}

func (e *audioEnc) Close() error {
	if e.closed {
		return nil
	}
	e.closed = true
	C.lcvt_audio_close(e.c)
	e.c = nil
	e.h.Delete()
	return nil
}

//export lcvtAudioPacket
func lcvtAudioPacket(h C.uintptr_t, data *C.uint8_t, size C.uint32_t) {
	e := cgo.Handle(h).Value().(*audioEnc)
	pts := aacPTS(e.first, e.n, e.cfg.FrameSize, e.cfg.Priming, e.cfg.SampleRate)
	e.n++
	e.out(&media.Packet{
		Kind:     media.Audio,
		PTS:      pts,
		DTS:      pts,
		Duration: time.Duration(e.cfg.FrameSize) * time.Second / time.Duration(e.cfg.SampleRate),
		Key:      true,
		Data:     C.GoBytes(unsafe.Pointer(data), C.int(size)),
	})
}
