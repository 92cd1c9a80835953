// Package media holds the types shared by every stage of the pipeline: raw
// frames from capture, encoded packets from the encoders, and the codec
// configuration that containers and protocols need.
//
// All timestamps are time.Duration values relative to the session's base
// instant (see package clock): one timeline for audio and video.
package media

import (
	"time"
	"unsafe"
)

// Kind says whether a packet or track carries video or audio.
type Kind uint8

const (
	Video Kind = iota
	Audio
)

func (k Kind) String() string {
	if k == Video {
		return "video"
	}
	return "audio"
}

// Packet is one encoded access unit. It is immutable once handed to the
// fan-out: every sink receives the same *Packet and must not modify it
// (nor its Data).
//
// A packet may come from a pool (package input's are): it is then
// reference-counted and its memory is reused once the last holder calls
// Release. The fan-out takes one reference per queue it enqueues to and
// Publish consumes the producer's; every sink calls Release exactly once
// per packet it took, when it no longer reads it (written, dropped or
// skipped). A packet that is not pooled (encoders, tests) has no-op
// Retain and Release. Forgetting a Release is safe (the memory goes to
// the garbage collector); releasing early or twice is not.
//
// Timestamp invariants, which every producer (encoders, package input)
// guarantees and every sink may rely on:
//
//   - Packets of one kind arrive in decode order, and DTS strictly
//     increases from one packet of a kind to the next.
//   - PTS >= DTS. For video, PTS-DTS is the composition offset
//     (CompositionOffset): 0 for an encoder without frame reordering, which
//     sets PTS = DTS; positive for frames that a later-decoded B-frame
//     precedes in presentation. PTS is not monotonic in decode order when
//     there are B-frames: sinks order by DTS and carry the offset (fMP4
//     trun composition offsets, FLV CompositionTime, TS PES PTS and DTS).
//   - Audio has no reordering: PTS == DTS.
//   - Video presentation of a stream starts at the PTS of its first IDR;
//     with B-frames that IDR's DTS is earlier (by the encoder's reorder
//     delay), and DTS may therefore be negative near the start.
type Packet struct {
	Kind Kind
	// PTS and DTS are relative to the session base instant. For audio, PTS
	// is the presentation time of the first sample that decoding this
	// packet yields, encoder priming included: the first AAC packets carry
	// negative PTS so that the first real sample lands exactly on its
	// capture time.
	PTS time.Duration
	DTS time.Duration
	// Duration of the access unit (one frame interval, or 1024 samples).
	Duration time.Duration
	// Key is true for an IDR access unit (video) and for every audio packet.
	Key bool
	// Data: for H.264 the NAL units of one access unit in AVCC form (each
	// prefixed by a 4-byte big-endian length, no SPS/PPS, no AUD; package
	// h264 converts); for AAC one raw AAC frame (no ADTS header).
	Data []byte
	// Seq counts packets of this kind from 0, for loss accounting.
	Seq uint64
	// Encoded is the host-clock instant (time since base) at which the
	// encoder handed this packet to Go; used for latency measurement.
	Encoded time.Duration

	refs  int32         // atomic; meaningful only for a pooled packet
	owner *pooledPacket // the pool's container of this packet; nil: not pooled
}

// CompositionOffset is PTS-DTS: how long after its decode time the access
// unit is presented. Never negative (see the invariants on Packet); 0 for
// audio and for video without frame reordering.
func (p *Packet) CompositionOffset() time.Duration { return p.PTS - p.DTS }

// VideoConfig describes an H.264 stream.
type VideoConfig struct {
	Width, Height int
	FPS           int    // nominal frames per second
	SPS, PPS      []byte // without start codes or length prefixes
	Bitrate       int    // bits per second (target)
}

// AudioConfig describes an AAC-LC stream.
type AudioConfig struct {
	SampleRate int
	Channels   int
	// ASC is the MPEG-4 AudioSpecificConfig the encoder produced.
	ASC []byte
	// Priming is the encoder delay in samples (1024 for FFmpeg's aac,
	// 2112 for AudioToolbox). Packet PTS already account for it; containers
	// with edit lists use it to hide the priming samples.
	Priming int
	// FrameSize is the number of samples per packet (1024 for AAC-LC).
	FrameSize int
	Bitrate   int
}

// StreamInfo is what every sink learns before the first packet.
type StreamInfo struct {
	Video *VideoConfig // nil when there is no video
	Audio *AudioConfig // nil when there is no audio
}

// PixelFormat of a raw video frame.
type PixelFormat uint8

const (
	// I420: planar Y, U, V (4:2:0).
	I420 PixelFormat = iota
	// NV12: Y plane and interleaved UV plane (4:2:0).
	NV12
	// Native: an opaque platform buffer (CVPixelBufferRef on darwin) in
	// VideoFrame.Native, handed to the encoder without a copy.
	Native
)

// VideoFrame is one raw picture from a capture source.
type VideoFrame struct {
	PTS           time.Duration // capture instant, relative to base
	Width, Height int
	Format        PixelFormat
	Planes        [3][]byte
	Strides       [3]int
	Native        unsafe.Pointer
	// Release, when set, is called once the encoder no longer needs the
	// frame's memory.
	Release func()
}

// AudioBuffer is a run of interleaved float32 PCM samples from a source.
type AudioBuffer struct {
	// PTS is the host-clock instant (relative to base) of the first sample.
	PTS        time.Duration
	SampleRate int
	Channels   int
	Samples    []float32 // interleaved, len = frames*Channels
}

// Frames is the number of sample frames in the buffer.
func (b *AudioBuffer) Frames() int {
	if b.Channels == 0 {
		return 0
	}
	return len(b.Samples) / b.Channels
}
