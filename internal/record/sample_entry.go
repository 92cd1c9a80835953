package record

// Sample entries: what a track's stsd says about its codec.

import (
	"math"

	"github.com/livecap/livecap/internal/h264"
	"github.com/livecap/livecap/internal/media"
)

// avc1 writes the H.264 sample entry: avcC, then colr and pasp so that
// players do not guess the colour space or the pixel shape.
func avc1(w *boxWriter, v *media.VideoConfig, mov bool) {
	off := w.open("avc1")
	w.zero(6)
	w.u16(1) // data reference index
	w.u16(0) // version
	w.u16(0) // revision
	w.u32(0) // vendor
	if mov {
		w.u32(0x200) // temporal quality: normal
		w.u32(0x200) // spatial quality: normal
	} else {
		w.zero(8)
	}
	w.u16(uint16(v.Width))
	w.u16(uint16(v.Height))
	w.u32(0x00480000) // 72 dpi
	w.u32(0x00480000)
	w.u32(0)
	w.u16(1) // frame count
	var name [32]byte
	const compressor = "livecap H.264"
	name[0] = byte(len(compressor))
	copy(name[1:], compressor)
	w.raw(name[:])
	w.u16(0x18)   // depth
	w.u16(0xffff) // pre_defined -1: no colour table
	avcC := w.open("avcC")
	w.raw(h264.DecoderConfig(v.SPS, v.PPS))
	w.end(avcC)
	pic := h264.Describe(v.SPS, v.Height)
	c := pic.Colour
	if mov {
		colr := w.open("colr")
		w.str("nclc")
		w.u16(c.Primaries)
		w.u16(c.Transfer)
		w.u16(c.Matrix)
		w.end(colr)
	} else {
		colr := w.open("colr")
		w.str("nclx")
		w.u16(c.Primaries)
		w.u16(c.Transfer)
		w.u16(c.Matrix)
		if c.FullRange {
			w.u8(0x80)
		} else {
			w.u8(0)
		}
		w.end(colr)
	}
	pasp := w.open("pasp")
	w.u32(pic.SARWidth)
	w.u32(pic.SARHeight)
	w.end(pasp)
	w.end(off)
}

// mp4a writes the AAC sample entry. MP4: version 0 with esds inside (ISO/IEC
// 14496-14). MOV: QuickTime's version-1 sound description, whose esds sits
// in a wave box (frma, mp4a, esds, terminator) followed by a chan box, as
// Apple's QuickTime File Format Specification and FFmpeg's mov muxer
// (mov_write_audio_tag) lay it out.
func mp4a(w *boxWriter, a *media.AudioConfig, mov bool) {
	off := w.open("mp4a")
	w.zero(6)
	w.u16(1) // data reference index
	rate := a.SampleRate
	if rate > math.MaxUint16 {
		rate = 0 // the 16.16 field cannot hold it; the esds is authoritative
	}
	frame := a.FrameSize
	if frame <= 0 {
		frame = 1024
	}
	if mov {
		w.u16(1) // version 1
		w.u16(0) // revision
		w.u32(0) // vendor
		w.u16(uint16(a.Channels))
		w.u16(16)     // sample size
		w.u16(0xfffe) // compression ID -2: compressed, variable bit rate
		w.u16(0)      // packet size
		w.u32(uint32(rate) << 16)
		w.u32(uint32(frame)) // samples per packet
		w.u32(0)             // bytes per packet (variable)
		w.u32(0)             // bytes per frame (variable)
		w.u32(2)             // bytes per sample (16-bit)
		wave := w.open("wave")
		frma := w.open("frma")
		w.str("mp4a")
		w.end(frma)
		inner := w.open("mp4a")
		w.u32(0)
		w.end(inner)
		esds(w, a)
		w.u32(8) // terminator atom
		w.u32(0)
		w.end(wave)
		if tag, ok := channelLayoutTag(a.Channels); ok {
			chan_ := w.full("chan", 0, 0)
			w.u32(tag)
			w.u32(0) // channel bitmap
			w.u32(0) // number of channel descriptions
			w.end(chan_)
		}
	} else {
		w.zero(8) // version, revision, vendor
		w.u16(uint16(a.Channels))
		w.u16(16)
		w.u32(0) // pre_defined, reserved
		w.u32(uint32(rate) << 16)
		esds(w, a)
	}
	w.end(off)
}

// channelLayoutTag is Core Audio's layout tag for an AAC channel count:
// kAudioChannelLayoutTag_Mono (100<<16 | 1) and _Stereo (101<<16 | 2).
// Other counts get no chan box; the AudioSpecificConfig says it all.
func channelLayoutTag(channels int) (uint32, bool) {
	switch channels {
	case 1:
		return 100<<16 | 1, true
	case 2:
		return 101<<16 | 2, true
	}
	return 0, false
}

// esds writes the MPEG-4 elementary stream descriptor (ISO/IEC 14496-1
// 7.2.6.5) of an AAC stream: the encoder's own AudioSpecificConfig, so a
// mono stream says mono.
func esds(w *boxWriter, a *media.AudioConfig) {
	off := w.full("esds", 0, 0)
	desc := func(tag byte, n int) {
		w.u8(tag)
		w.u8(0x80 | byte(n>>21&0x7f))
		w.u8(0x80 | byte(n>>14&0x7f))
		w.u8(0x80 | byte(n>>7&0x7f))
		w.u8(byte(n & 0x7f))
	}
	asc := a.ASC
	dsi := 5 + len(asc)
	dcd := 13 + dsi
	es := 3 + 5 + dcd + 5 + 1
	desc(0x03, es)
	w.u16(audioTrackID) // ES_ID
	w.u8(0)             // flags
	desc(0x04, dcd)
	w.u8(0x40) // object type: MPEG-4 audio
	w.u8(0x15) // stream type audio (5 << 2), upstream 0, reserved 1
	w.u8(0)    // buffer size DB (24 bits)
	w.u16(0)
	w.u32(uint32(a.Bitrate)) // max bitrate
	w.u32(uint32(a.Bitrate)) // average bitrate
	desc(0x05, len(asc))
	w.raw(asc)
	desc(0x06, 1)
	w.u8(0x02) // SLConfig predefined: MP4
	w.end(off)
}
