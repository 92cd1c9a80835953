package publish

import (
	"encoding/binary"
	"math"
	"time"

	flvtag "github.com/yutopp/go-flv/tag"

	"github.com/livecap/livecap/internal/media"
)

// FLV tag bodies as RTMP carries them (video message type 9, audio 8).

const (
	flvVideoHeaderLen = 5 // frame type|codec, AVCPacketType, composition time (24 bit)
	flvAudioHeaderLen = 2 // sound format|rate|size|type, AACPacketType
)

// flvVideoHeader fills the 5-byte AVC video tag header. Composition time is
// 0: our encoders emit no B-frames, so PTS == DTS.
func flvVideoHeader(b []byte, key bool, pt flvtag.AVCPacketType) {
	ft := flvtag.FrameTypeInterFrame
	if key {
		ft = flvtag.FrameTypeKeyFrame
	}
	b[0] = byte(ft)<<4 | byte(flvtag.CodecIDAVC)
	b[1] = byte(pt)
	b[2], b[3], b[4] = 0, 0, 0
}

// flvAudioHeader fills the 2-byte AAC audio tag header. For AAC the rate,
// size and type bits are fixed (44 kHz, 16 bit, stereo) by the FLV spec;
// the real values come from the AudioSpecificConfig.
func flvAudioHeader(b []byte, pt flvtag.AACPacketType) {
	b[0] = byte(flvtag.SoundFormatAAC)<<4 | byte(flvtag.SoundRate44kHz)<<2 | byte(flvtag.SoundSize16Bit)<<1 | byte(flvtag.SoundTypeStereo)
	b[1] = byte(pt)
}

// flvTimeline maps packets onto one RTMP connection's timeline: FLV time 0
// is the first video keyframe sent; audio uses the same offset, so A/V sync
// is exact. RTMP timestamps are 32-bit milliseconds that wrap after 49.7
// days; comparisons are done modulo 2^32 (serial arithmetic) so that a
// long stream wraps like RTMP expects instead of freezing its clock.
type flvTimeline struct {
	started      bool
	base         time.Duration
	lastV, lastA uint32
	haveA        bool
	// waitKey: a video access unit could not be sent, so the rest of its
	// GOP cannot be decoded: video resumes at the next keyframe.
	waitKey bool
}

// stamp returns the RTMP timestamp of p, or ok false for a packet that is
// not to be sent: media before the first keyframe, an empty access unit,
// one too large for an RTMP message (and video after it until a keyframe).
// Per track, timestamps never go backwards (a late packet gets the last
// one), since servers and players reject or mishandle that.
func (t *flvTimeline) stamp(p *media.Packet) (ts uint32, ok bool) {
	if len(p.Data) == 0 {
		return 0, false
	}
	if p.Kind == media.Video {
		if len(p.Data)+flvVideoHeaderLen > rtmpMaxMessage {
			t.waitKey = true
			return 0, false
		}
		if t.waitKey {
			if !p.Key {
				return 0, false
			}
			t.waitKey = false
		}
	} else if len(p.Data)+flvAudioHeaderLen > rtmpMaxMessage {
		return 0, false
	}
	if !t.started {
		if p.Kind != media.Video || !p.Key {
			return 0, false // media starts at a video keyframe
		}
		t.started, t.base = true, p.DTS
	}
	if p.DTS < t.base {
		return 0, false // audio from before the first keyframe sent
	}
	// Unsigned: DTS-base cannot overflow, whatever the two values.
	ts = uint32((uint64(p.DTS) - uint64(t.base) + uint64(time.Millisecond/2)) / uint64(time.Millisecond))
	if p.Kind == media.Video {
		if int32(ts-t.lastV) < 0 {
			ts = t.lastV
		}
		t.lastV = ts
	} else {
		if t.haveA && int32(ts-t.lastA) < 0 {
			ts = t.lastA
		}
		t.lastA, t.haveA = ts, true
	}
	return ts, true
}

// AMF0 encoding of the few values RTMP commands and onMetaData need.

func amfString(b []byte, s string) []byte {
	b = append(b, 0x02)
	b = binary.BigEndian.AppendUint16(b, uint16(len(s)))
	return append(b, s...)
}

func amfNumber(b []byte, f float64) []byte {
	b = append(b, 0x00)
	return binary.BigEndian.AppendUint64(b, math.Float64bits(f))
}

func amfBool(b []byte, v bool) []byte {
	if v {
		return append(b, 0x01, 1)
	}
	return append(b, 0x01, 0)
}

func amfNull(b []byte) []byte { return append(b, 0x05) }

type amfProp struct {
	k string
	v any // string, float64, int, bool
}

func amfProps(b []byte, props []amfProp) []byte {
	for _, p := range props {
		b = binary.BigEndian.AppendUint16(b, uint16(len(p.k)))
		b = append(b, p.k...)
		switch v := p.v.(type) {
		case string:
			b = amfString(b, v)
		case float64:
			b = amfNumber(b, v)
		case int:
			b = amfNumber(b, float64(v))
		case bool:
			b = amfBool(b, v)
		default:
			b = amfNull(b)
		}
	}
	return append(b, 0, 0, 0x09)
}

func amfObject(b []byte, props []amfProp) []byte {
	return amfProps(append(b, 0x03), props)
}

func amfECMAArray(b []byte, props []amfProp) []byte {
	b = append(b, 0x08)
	b = binary.BigEndian.AppendUint32(b, uint32(len(props)))
	return amfProps(b, props)
}

// onMetaData is the @setDataFrame data message body that tells the server
// (and every FLV it records) what the stream carries.
func onMetaData(info media.StreamInfo) []byte {
	var props []amfProp
	if v := info.Video; v != nil {
		props = append(props,
			amfProp{"width", v.Width}, amfProp{"height", v.Height},
			amfProp{"framerate", v.FPS}, amfProp{"videocodecid", int(flvtag.CodecIDAVC)},
			amfProp{"videodatarate", float64(v.Bitrate) / 1000})
	}
	if a := info.Audio; a != nil {
		props = append(props,
			amfProp{"audiocodecid", int(flvtag.SoundFormatAAC)},
			amfProp{"audiodatarate", float64(a.Bitrate) / 1000},
			amfProp{"audiosamplerate", a.SampleRate}, amfProp{"audiosamplesize", 16},
			amfProp{"stereo", a.Channels == 2})
	}
	props = append(props, amfProp{"encoder", "livecap"})
	b := amfString(nil, "@setDataFrame")
	b = amfString(b, "onMetaData")
	return amfECMAArray(b, props)
}
