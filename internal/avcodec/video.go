//go:build linux && cgo

package avcodec

/*
#cgo pkg-config: libavcodec libavutil
#cgo LDFLAGS: -Wl,--as-needed
#include "lcav.h"
*/
import "C"

import (
	"errors"
	"fmt"
	"math"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/livecap/livecap/internal/encoder"
	"github.com/livecap/livecap/internal/h264"
	"github.com/livecap/livecap/internal/media"
)

// DefaultPreset is the x264 preset: veryfast keeps 720p30 well under real
// time on one core with a quality loss that a live stream tolerates.
// --preset (encoder.Tuning) chooses another.
const DefaultPreset = "veryfast"

// videoTimeBase is the encoder time base (1/90000 s), the MPEG clock: x264
// writes it into the SPS timing info, and 90 kHz keeps that conventional.
// Exact nanosecond PTS are restored from a queue (see videoEncoder.pending).
const videoTimeBase = 90000

var x264Presets = []string{"ultrafast", "superfast", "veryfast", "faster", "fast", "medium", "slow", "slower", "veryslow", "placebo"}

// VideoEncoder encodes H.264 with libx264. It implements
// encoder.VideoEncoder.
type VideoEncoder struct {
	mu     sync.Mutex // serialises Encode, Flush and Close
	ctx    *C.AVCodecContext
	frame  *C.AVFrame // an I420 picture submitted in place (no buffer of its own)
	copy   *C.AVFrame // NV12 pictures are de-interleaved into this one, allocated on first use
	pkt    *C.AVPacket
	out    encoder.Output
	cfg    media.VideoConfig
	frameD time.Duration // nominal frame interval, the packet Duration

	forceKey atomic.Bool

	// held pins input pictures that libavcodec kept a reference to past
	// Encode (never expected; see lc_video_send_inplace): their memory must
	// stay where it is, so it is never unpinned.
	held runtime.Pinner

	// pending maps encoder ticks back to the exact input PTS, in input
	// order: there is no frame reordering (no B-frames), so packets leave
	// in the same order. A ring, so steady state does not allocate.
	pending  []ptsPair
	head, n  int
	lastPTS  time.Duration
	lastTick int64
	started  bool
	flushed  bool
	// keptInput: libavcodec kept an input picture (see held).
	keptInput bool
}

type ptsPair struct {
	tick int64
	pts  time.Duration
}

// OpenVideo opens a libx264 encoder: High profile, tune zerolatency, no
// B-frames, average bitrate s.Bitrate capped by a one-second VBV, an IDR at
// least every s.KeyInterval and otherwise only on ForceKeyframe (scene-cut
// detection is off, so a flash or a cut does not add keyframes that would
// break the segment and GOP timing others rely on).
func OpenVideo(s encoder.VideoSettings, out encoder.Output) (*VideoEncoder, error) {
	if err := checkVideoSettings(s); err != nil {
		return nil, err
	}
	if out == nil {
		return nil, errors.New("libavcodec video: nil output callback")
	}
	if err := s.Tuning.Check(); err != nil {
		return nil, fmt.Errorf("libx264: %w", err)
	}
	tune := s.Tuning.WithDefaults()
	preset := tune.Preset
	if !contains(x264Presets, preset) {
		return nil, fmt.Errorf("libx264: %q is not an x264 preset (allowed: %v)", preset, x264Presets)
	}
	codec, err := findEncoder("libx264")
	if err != nil {
		return nil, err
	}
	declineHugePages()
	e := &VideoEncoder{out: out, pending: make([]ptsPair, 8)}
	e.ctx = C.lc_alloc_context(codec)
	if e.ctx == nil {
		return nil, errors.New("libavcodec video: out of memory allocating the codec context")
	}
	ok := false
	defer func() {
		if !ok {
			e.free()
		}
	}()
	keyint := int(math.Round(s.KeyInterval.Seconds() * float64(s.FPS)))
	if keyint < 1 {
		keyint = 1
	}
	c := e.ctx
	c.width = C.int(s.Width)
	c.height = C.int(s.Height)
	c.pix_fmt = C.AV_PIX_FMT_YUV420P
	c.time_base = C.AVRational{num: 1, den: videoTimeBase}
	c.framerate = C.AVRational{num: C.int(s.FPS), den: 1}
	c.bit_rate = C.int64_t(s.Bitrate)
	c.rc_max_rate = C.int64_t(s.Bitrate)
	c.rc_buffer_size = C.int(s.Bitrate) // bits: one second of stream
	c.gop_size = C.int(keyint)
	c.max_b_frames = 0
	// SPS/PPS go to extradata only, not in front of every IDR: containers
	// and protocols carry them in their own configuration records.
	c.flags |= C.AV_CODEC_FLAG_GLOBAL_HEADER
	opts := [][2]string{
		{"preset", preset},
		{"tune", "zerolatency"},
		{"profile", tune.Profile},
		{"sc_threshold", "0"},
		{"forced-idr", "1"},
	}
	if tune.RateControl == "cbr" {
		// Constant bit rate as ingest servers prefer it: HRD signalled
		// and filler data up to the rate, within the same VBV.
		opts = append(opts, [2]string{"nal-hrd", "cbr"})
	}
	for _, o := range opts {
		if err := setOpt(c, o[0], o[1]); err != nil {
			return nil, fmt.Errorf("libx264: %w", err)
		}
	}
	if ret := C.lc_open(c, codec); ret < 0 {
		return nil, avError(fmt.Sprintf("libx264: opening %dx%d@%d at %d bit/s", s.Width, s.Height, s.FPS, s.Bitrate), ret)
	}
	extra := C.GoBytes(unsafe.Pointer(c.extradata), c.extradata_size)
	sps, pps := h264.ParameterSets(extra)
	if sps == nil || pps == nil {
		return nil, fmt.Errorf("libx264: no SPS/PPS in the %d bytes of extradata", len(extra))
	}
	e.cfg = media.VideoConfig{Width: s.Width, Height: s.Height, FPS: s.FPS, SPS: sps, PPS: pps, Bitrate: s.Bitrate}
	e.frameD = time.Duration(math.Round(float64(time.Second) / float64(s.FPS)))

	// No picture buffer: I420 frames are read in place (Encode), and
	// the NV12 conversion buffer is allocated when the first NV12 frame
	// comes. A 720p picture is 1.4 MB that a test source or a camera
	// delivering I420 never needs twice.
	if e.frame = C.lc_frame_alloc(); e.frame == nil {
		return nil, errors.New("libavcodec video: out of memory allocating a frame")
	}
	if e.pkt = C.lc_packet_alloc(); e.pkt == nil {
		return nil, errors.New("libavcodec video: out of memory allocating a packet")
	}
	ok = true
	return e, nil
}

// declineHugePages turns transparent huge pages off for the process before
// libx264 allocates its pictures. x264 rounds every buffer of 1.75 MB or
// more up to 2 MB and asks for huge pages (madvise MADV_HUGEPAGE), so each
// is resident whole from its first touch; with 4 KB pages only what x264
// writes is. Whole job 720p30: anon RSS 37.2 -> 31.1 MB, with no
// measurable CPU cost (BenchmarkEncodeVideo720p, 5 alternating runs of
// 300 frames: median 3.48 s with huge pages off, 3.61 s on). It applies to
// the whole process and is inherited by children; nothing else in livecap
// asks for huge pages (Go does not). A kernel without the prctl (before
// 3.15) keeps huge pages: that costs memory, not correctness.
var declineHugePages = sync.OnceFunc(func() { C.lc_decline_huge_pages() })

func checkVideoSettings(s encoder.VideoSettings) error {
	switch {
	case media.CheckSize(s.Width, s.Height) != nil:
		return fmt.Errorf("video %w", media.CheckSize(s.Width, s.Height))
	case media.CheckFPS(s.FPS) != nil:
		return fmt.Errorf("video %w", media.CheckFPS(s.FPS))
	case media.CheckBitrate(s.Bitrate) != nil:
		return fmt.Errorf("video %w", media.CheckBitrate(s.Bitrate))
	case s.KeyInterval <= 0:
		return fmt.Errorf("keyframe interval %v: must be positive", s.KeyInterval)
	}
	return nil
}

// Config returns the stream parameters with SPS and PPS (no start codes).
func (e *VideoEncoder) Config() media.VideoConfig { return e.cfg }

// ForceKeyframe makes the next frame passed to Encode an IDR. Safe to call
// from any goroutine, including from the output callback.
func (e *VideoEncoder) ForceKeyframe() { e.forceKey.Store(true) }

// Encode copies the frame into the encoder (the caller may release it as
// soon as Encode returns) and emits the access units it yields. With
// zerolatency that is the frame's own access unit, before Encode returns.
func (e *VideoEncoder) Encode(f *media.VideoFrame) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.ctx == nil {
		return errors.New("libx264: Encode after Close")
	}
	if e.flushed {
		return errors.New("libx264: Encode after Flush")
	}
	if e.keptInput {
		return errors.New("libx264: Encode after the encoder kept an input picture")
	}
	if f.Width != e.cfg.Width || f.Height != e.cfg.Height {
		return fmt.Errorf("libx264: frame is %dx%d, the encoder was opened for %dx%d", f.Width, f.Height, e.cfg.Width, e.cfg.Height)
	}
	if e.started && f.PTS <= e.lastPTS {
		return fmt.Errorf("libx264: frame PTS %v does not rise (previous %v)", f.PTS, e.lastPTS)
	}
	nv12 := 0
	switch f.Format {
	case media.I420:
		if err := checkPlane(f, 0, e.cfg.Width, e.cfg.Height); err != nil {
			return err
		}
		cw, ch := (e.cfg.Width+1)/2, (e.cfg.Height+1)/2
		if err := checkPlane(f, 1, cw, ch); err != nil {
			return err
		}
		if err := checkPlane(f, 2, cw, ch); err != nil {
			return err
		}
	case media.NV12:
		nv12 = 1
		if err := checkPlane(f, 0, e.cfg.Width, e.cfg.Height); err != nil {
			return err
		}
		if err := checkPlane(f, 1, 2*((e.cfg.Width+1)/2), (e.cfg.Height+1)/2); err != nil {
			return err
		}
	default:
		return fmt.Errorf("libx264: pixel format %d not supported (allowed: I420, NV12)", f.Format)
	}

	// 90 kHz ticks, kept strictly rising for x264 even if two frames are
	// closer than 11 µs.
	tick := floorDiv(int64(f.PTS)*9, 100000) // ns → 90 kHz without overflow for centuries
	if e.started && tick <= e.lastTick {
		tick = e.lastTick + 1
	}
	key := 0
	if e.forceKey.Swap(false) {
		key = 1
	}
	var ret C.int
	if nv12 == 0 {
		ret = e.sendInPlace(f, tick, key)
	} else {
		ret = e.sendNV12(f, tick, key)
	}
	if ret < 0 {
		if key != 0 {
			e.forceKey.Store(true) // the request still stands
		}
		return avError("libx264: sending a frame", ret)
	}
	if e.keptInput {
		return errors.New("libx264: libavcodec kept a reference to the input picture after encoding it (not expected with a packet drained after each frame); stopping rather than encode a picture being redrawn")
	}
	e.started = true
	e.lastPTS, e.lastTick = f.PTS, tick
	e.push(ptsPair{tick, f.PTS})
	return e.drain()
}

// sendInPlace submits an I420 frame without copying it (libx264 copies
// it into its own picture during the call).
func (e *VideoEncoder) sendInPlace(f *media.VideoFrame, tick int64, key int) C.int {
	var held C.int
	p0, p1, p2 := &f.Planes[0][0], &f.Planes[1][0], &f.Planes[2][0]
	ret := C.lc_video_send_inplace(e.ctx, e.frame,
		(*C.uint8_t)(p0), C.int(len(f.Planes[0])),
		(*C.uint8_t)(p0), C.int(f.Strides[0]),
		(*C.uint8_t)(p1), C.int(f.Strides[1]),
		(*C.uint8_t)(p2), C.int(f.Strides[2]),
		C.int64_t(tick), C.int(key), &held)
	if held != 0 {
		// C still points at these planes: keep them where they are
		// forever and stop; carrying on would encode whatever the
		// caller draws into them next.
		e.held.Pin(p0)
		e.held.Pin(p1)
		e.held.Pin(p2)
		e.keptInput = true
	}
	return ret
}

// sendNV12 de-interleaves an NV12 frame into the encoder's own I420
// picture and submits that.
func (e *VideoEncoder) sendNV12(f *media.VideoFrame, tick int64, key int) C.int {
	if e.copy == nil {
		if e.copy = C.lc_frame_alloc(); e.copy == nil {
			return C.int(-C.ENOMEM)
		}
		e.copy.format = C.int(C.AV_PIX_FMT_YUV420P)
		e.copy.width = e.ctx.width
		e.copy.height = e.ctx.height
		if ret := C.lc_frame_get_buffer(e.copy); ret < 0 {
			C.lc_frame_free(&e.copy)
			return ret
		}
	}
	return C.lc_video_send(e.ctx, e.copy, 1,
		(*C.uint8_t)(&f.Planes[0][0]), C.int(f.Strides[0]),
		(*C.uint8_t)(&f.Planes[1][0]), C.int(f.Strides[1]),
		nil, 0, C.int64_t(tick), C.int(key))
}

// checkPlane makes sure plane i holds rows×width bytes at its stride, so
// the C copy cannot read outside the Go slice.
func checkPlane(f *media.VideoFrame, i, width, rows int) error {
	st := f.Strides[i]
	if st < width {
		return fmt.Errorf("libx264: plane %d stride %d is less than its width %d", i, st, width)
	}
	if need := st*(rows-1) + width; len(f.Planes[i]) < need {
		return fmt.Errorf("libx264: plane %d holds %d bytes, needs %d for %d rows at stride %d", i, len(f.Planes[i]), need, rows, st)
	}
	return nil
}

func (e *VideoEncoder) push(p ptsPair) {
	if e.n == len(e.pending) {
		grown := make([]ptsPair, 2*len(e.pending))
		for i := 0; i < e.n; i++ {
			grown[i] = e.pending[(e.head+i)%len(e.pending)]
		}
		e.pending, e.head = grown, 0
	}
	e.pending[(e.head+e.n)%len(e.pending)] = p
	e.n++
}

// ptsFor returns the input PTS of the frame encoded with the given tick,
// dropping older entries (x264 never drops frames, so normally the head
// matches).
func (e *VideoEncoder) ptsFor(tick int64) time.Duration {
	for e.n > 0 {
		p := e.pending[e.head]
		e.head = (e.head + 1) % len(e.pending)
		e.n--
		if p.tick == tick {
			return p.pts
		}
	}
	return time.Duration(tick * 100000 / 9)
}

// drain hands every packet the encoder has ready to the output.
func (e *VideoEncoder) drain() error {
	for {
		ret := C.lc_receive_packet(e.ctx, e.pkt)
		if ret == C.LC_EAGAIN || ret == C.LC_EOF {
			return nil
		}
		if ret < 0 {
			return avError("libx264: receiving a packet", ret)
		}
		au := unsafe.Slice((*byte)(unsafe.Pointer(e.pkt.data)), int(e.pkt.size))
		data, idr := h264.AnnexBToAVCC(au)
		pts := e.ptsFor(int64(e.pkt.pts))
		C.lc_packet_unref(e.pkt)
		if len(data) == 0 {
			continue
		}
		p := &media.Packet{
			Kind:     media.Video,
			PTS:      pts,
			DTS:      pts,
			Duration: e.frameD,
			Key:      idr,
			Data:     data,
		}
		e.out(p)
	}
}

// Flush drains every frame still inside the encoder to the output. The
// encoder accepts no frame afterwards.
func (e *VideoEncoder) Flush() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.ctx == nil {
		return errors.New("libx264: Flush after Close")
	}
	if e.flushed {
		return nil
	}
	e.flushed = true
	if ret := C.lc_send_frame(e.ctx, nil); ret < 0 && ret != C.LC_EOF {
		return avError("libx264: flushing", ret)
	}
	return e.drain()
}

// Close frees the encoder. It does not flush; it is safe to call twice.
func (e *VideoEncoder) Close() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.free()
	return nil
}

func (e *VideoEncoder) free() {
	if e.frame != nil {
		C.lc_frame_free(&e.frame)
	}
	if e.copy != nil {
		C.lc_frame_free(&e.copy)
	}
	if e.pkt != nil {
		C.lc_packet_free(&e.pkt)
	}
	if e.ctx != nil {
		C.lc_free_context(&e.ctx)
	}
}

// floorDiv divides rounding toward minus infinity, so negative times map
// onto ticks the same way positive ones do.
func floorDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
