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
	"sync"
	"time"
	"unsafe"

	"github.com/livecap/livecap/internal/encoder"
	"github.com/livecap/livecap/internal/media"
)

// aacFrameSize is the number of samples per AAC-LC access unit.
const aacFrameSize = 1024

// aacSampleRates are the rates with an MPEG-4 sampling frequency index,
// which is what FFmpeg's aac encoder accepts.
var aacSampleRates = []int{96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025, 8000, 7350}

// AudioEncoder encodes AAC-LC with FFmpeg's native aac encoder. It
// implements encoder.AudioEncoder.
type AudioEncoder struct {
	mu    sync.Mutex // serialises Encode, Flush and Close
	ctx   *C.AVCodecContext
	frame *C.AVFrame
	pkt   *C.AVPacket
	out   encoder.Output
	cfg   media.AudioConfig

	// planes view the frame's planar float buffers; fill counts the
	// samples (per channel) already in them.
	planes [][]float32
	fill   int
	// base is the PTS of the first input sample; sent counts the samples
	// submitted since. Every timestamp derives from these two integers, so
	// rounding never accumulates.
	base    time.Duration
	sent    int64
	started bool
	flushed bool
}

// OpenAudio opens an AAC-LC encoder at s.SampleRate with s.Channels
// channels (the default layout for that count) and s.Bitrate bit/s.
func OpenAudio(s encoder.AudioSettings, out encoder.Output) (*AudioEncoder, error) {
	if err := checkAudioSettings(s); err != nil {
		return nil, err
	}
	if out == nil {
		return nil, errors.New("aac: nil output callback")
	}
	codec, err := findEncoder("aac")
	if err != nil {
		return nil, err
	}
	e := &AudioEncoder{out: out}
	if e.ctx = C.lc_alloc_context(codec); e.ctx == nil {
		return nil, errors.New("aac: out of memory allocating the codec context")
	}
	ok := false
	defer func() {
		if !ok {
			e.free()
		}
	}()
	c := e.ctx
	c.sample_fmt = C.AV_SAMPLE_FMT_FLTP
	c.sample_rate = C.int(s.SampleRate)
	C.lc_layout_default(&c.ch_layout, C.int(s.Channels))
	c.bit_rate = C.int64_t(s.Bitrate)
	// One tick per sample: the encoder's packet PTS are then sample
	// counts, which map to time without rounding drift.
	c.time_base = C.AVRational{num: 1, den: C.int(s.SampleRate)}
	c.flags |= C.AV_CODEC_FLAG_GLOBAL_HEADER // AudioSpecificConfig in extradata
	if ret := C.lc_open(c, codec); ret < 0 {
		return nil, avError(fmt.Sprintf("aac: opening %d Hz, %d channels at %d bit/s", s.SampleRate, s.Channels, s.Bitrate), ret)
	}
	if c.frame_size != aacFrameSize {
		return nil, fmt.Errorf("aac: encoder frame size %d, expected %d", c.frame_size, aacFrameSize)
	}
	asc := C.GoBytes(unsafe.Pointer(c.extradata), c.extradata_size)
	if len(asc) < 2 {
		return nil, fmt.Errorf("aac: no AudioSpecificConfig in extradata (%d bytes)", len(asc))
	}
	e.cfg = media.AudioConfig{
		SampleRate: s.SampleRate,
		Channels:   s.Channels,
		ASC:        asc,
		Priming:    int(c.initial_padding),
		FrameSize:  aacFrameSize,
		Bitrate:    s.Bitrate,
	}

	if e.frame = C.lc_frame_alloc(); e.frame == nil {
		return nil, errors.New("aac: out of memory allocating a frame")
	}
	e.frame.format = C.int(C.AV_SAMPLE_FMT_FLTP)
	e.frame.nb_samples = aacFrameSize
	e.frame.sample_rate = c.sample_rate
	if ret := C.lc_layout_copy(&e.frame.ch_layout, &c.ch_layout); ret < 0 {
		return nil, avError("aac: copying the channel layout", ret)
	}
	if ret := C.lc_frame_get_buffer(e.frame); ret < 0 {
		return nil, avError("aac: allocating the sample buffer", ret)
	}
	if e.pkt = C.lc_packet_alloc(); e.pkt == nil {
		return nil, errors.New("aac: out of memory allocating a packet")
	}
	e.planes = make([][]float32, s.Channels)
	ok = true
	return e, nil
}

func checkAudioSettings(s encoder.AudioSettings) error {
	if !containsInt(aacSampleRates, s.SampleRate) {
		return fmt.Errorf("audio sample rate %d Hz: AAC allows %v", s.SampleRate, aacSampleRates)
	}
	if s.Channels < 1 || s.Channels > 8 {
		return fmt.Errorf("audio channels %d: must be 1..8", s.Channels)
	}
	if s.Bitrate <= 0 {
		return fmt.Errorf("audio bitrate %d bit/s: must be positive", s.Bitrate)
	}
	return nil
}

// Config returns the stream parameters, the AudioSpecificConfig and the
// encoder delay (Priming, 1024 samples for this encoder).
func (e *AudioEncoder) Config() media.AudioConfig { return e.cfg }

// Encode buffers interleaved PCM into 1024-sample planar frames and emits
// every packet the encoder yields. Buffers must be contiguous: timestamps
// follow the sample count from the first buffer's PTS, and later buffer
// PTS are not consulted.
func (e *AudioEncoder) Encode(b *media.AudioBuffer) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.ctx == nil {
		return errors.New("aac: Encode after Close")
	}
	if e.flushed {
		return errors.New("aac: Encode after Flush")
	}
	if b.SampleRate != e.cfg.SampleRate || b.Channels != e.cfg.Channels {
		return fmt.Errorf("aac: buffer is %d Hz, %d channels; the encoder was opened for %d Hz, %d channels",
			b.SampleRate, b.Channels, e.cfg.SampleRate, e.cfg.Channels)
	}
	if len(b.Samples)%b.Channels != 0 {
		return fmt.Errorf("aac: buffer holds %d samples, not a multiple of %d channels", len(b.Samples), b.Channels)
	}
	if !e.started {
		e.base, e.started = b.PTS, true
	}
	ch := e.cfg.Channels
	s := b.Samples
	for len(s) > 0 {
		if e.fill == 0 {
			if err := e.writable(); err != nil {
				return err
			}
		}
		n := min(aacFrameSize-e.fill, len(s)/ch)
		deinterleave(e.planes, e.fill, s[:n*ch])
		e.fill += n
		s = s[n*ch:]
		if e.fill == aacFrameSize {
			if err := e.send(); err != nil {
				return err
			}
		}
	}
	return nil
}

// deinterleave copies interleaved frames into planar buffers at offset at.
func deinterleave(planes [][]float32, at int, src []float32) {
	if len(planes) == 2 {
		l, r := planes[0][at:], planes[1][at:]
		n := len(src) / 2
		if n == 0 {
			return
		}
		_, _ = l[n-1], r[n-1] // one bounds check for the loop
		for i := 0; i < n; i++ {
			l[i], r[i] = src[2*i], src[2*i+1]
		}
		return
	}
	ch := len(planes)
	for c, p := range planes {
		p = p[at:]
		for i, j := 0, c; j < len(src); i, j = i+1, j+ch {
			p[i] = src[j]
		}
	}
}

// writable makes sure the encoder no longer references the frame's buffers
// (av_frame_make_writable copies them if it does) and refreshes the views.
func (e *AudioEncoder) writable() error {
	if ret := C.lc_frame_make_writable(e.frame); ret < 0 {
		return avError("aac: making the frame writable", ret)
	}
	for i := range e.planes {
		e.planes[i] = unsafe.Slice((*float32)(unsafe.Pointer(C.lc_plane(e.frame, C.int(i)))), aacFrameSize)
	}
	return nil
}

// send submits the full frame and drains the packets it releases.
func (e *AudioEncoder) send() error {
	e.frame.pts = C.int64_t(e.sent)
	if ret := C.lc_send_frame(e.ctx, e.frame); ret < 0 {
		return avError("aac: sending a frame", ret)
	}
	e.sent += aacFrameSize
	e.fill = 0
	return e.drain()
}

func (e *AudioEncoder) drain() error {
	for {
		ret := C.lc_receive_packet(e.ctx, e.pkt)
		if ret == C.LC_EAGAIN || ret == C.LC_EOF {
			return nil
		}
		if ret < 0 {
			return avError("aac: receiving a packet", ret)
		}
		start := int64(e.pkt.pts) // in samples; the first is -Priming
		end := start + int64(e.pkt.duration)
		data := C.GoBytes(unsafe.Pointer(e.pkt.data), e.pkt.size)
		C.lc_packet_unref(e.pkt)
		pts := e.base + samplesToDuration(start, e.cfg.SampleRate)
		p := &media.Packet{
			Kind:     media.Audio,
			PTS:      pts,
			DTS:      pts,
			Duration: samplesToDuration(end, e.cfg.SampleRate) - samplesToDuration(start, e.cfg.SampleRate),
			Key:      true,
			Data:     data,
		}
		e.out(p)
	}
}

// samplesToDuration converts a sample count to time, rounded to the
// nearest nanosecond, without overflow for any realistic count.
func samplesToDuration(n int64, rate int) time.Duration {
	r := int64(rate)
	sec := floorDiv(n, r)
	rem := n - sec*r
	return time.Duration(sec*int64(time.Second) + floorDiv(2*rem*int64(time.Second)+r, 2*r))
}

// Flush pads the last partial frame with silence, submits it, and drains
// the encoder (its delay included) to the output. The encoder accepts no
// PCM afterwards.
func (e *AudioEncoder) Flush() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.ctx == nil {
		return errors.New("aac: Flush after Close")
	}
	if e.flushed {
		return nil
	}
	e.flushed = true
	if e.fill > 0 {
		for _, p := range e.planes {
			clear(p[e.fill:])
		}
		if err := e.send(); err != nil {
			return err
		}
	}
	if ret := C.lc_send_frame(e.ctx, nil); ret < 0 && ret != C.LC_EOF {
		return avError("aac: flushing", ret)
	}
	return e.drain()
}

// Close frees the encoder. It does not flush; it is safe to call twice.
func (e *AudioEncoder) Close() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.free()
	return nil
}

func (e *AudioEncoder) free() {
	e.planes = nil
	if e.frame != nil {
		C.lc_frame_free(&e.frame)
	}
	if e.pkt != nil {
		C.lc_packet_free(&e.pkt)
	}
	if e.ctx != nil {
		C.lc_free_context(&e.ctx)
	}
}

func containsInt(list []int, v int) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}
