package publish

import (
	"time"

	"github.com/livecap/livecap/internal/media"
)

// FLV tag bodies as RTMP carries them (video message type 9, audio 8),
// from the FLV specification v10.1, annex E.

const (
	flvVideoHeaderLen = 5 // frame type|codec, AVCPacketType, composition time (24 bit)
	flvAudioHeaderLen = 2 // sound format|rate|size|type, AACPacketType

	flvFrameKey   = 1
	flvFrameInter = 2
	flvCodecAVC   = 7
	flvSoundAAC   = 10

	flvAVCSequenceHeader = 0
	flvAVCNALU           = 1
	flvAACSequenceHeader = 0
	flvAACRaw            = 1
)

// flvVideoHeader fills the 5-byte AVC video tag header; cts is the
// composition time offset (PTS - DTS) in milliseconds.
func flvVideoHeader(b []byte, key bool, pt byte, cts int32) {
	ft := byte(flvFrameInter)
	if key {
		ft = flvFrameKey
	}
	b[0] = ft<<4 | flvCodecAVC
	b[1] = pt
	b[2], b[3], b[4] = byte(cts>>16), byte(cts>>8), byte(cts)
}

// compositionTime is PTS - DTS of a video packet in milliseconds (rounded,
// within FLV's signed 24 bits): non-zero for B-frames.
func compositionTime(p *media.Packet) int32 {
	d := p.PTS - p.DTS
	ms := int64((d + time.Millisecond/2).Milliseconds())
	if d < 0 {
		ms = -int64((-d + time.Millisecond/2).Milliseconds())
	}
	return int32(max(min(ms, 1<<23-1), -(1 << 23)))
}

// flvAudioHeader fills the 2-byte AAC audio tag header. For AAC the rate,
// size and type bits are fixed (44 kHz, 16 bit, stereo) by the FLV spec;
// the real values come from the AudioSpecificConfig.
func flvAudioHeader(b []byte, pt byte) {
	b[0] = flvSoundAAC<<4 | 3<<2 | 1<<1 | 1
	b[1] = pt
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

// onMetaData is the @setDataFrame data message body that tells the server
// (and every FLV it records) what the stream carries.
func onMetaData(info media.StreamInfo) []byte {
	var props []amfProp
	if v := info.Video; v != nil {
		props = append(props,
			amfProp{"width", v.Width}, amfProp{"height", v.Height},
			amfProp{"framerate", v.FPS}, amfProp{"videocodecid", flvCodecAVC},
			amfProp{"videodatarate", float64(v.Bitrate) / 1000})
	}
	if a := info.Audio; a != nil {
		props = append(props,
			amfProp{"audiocodecid", flvSoundAAC},
			amfProp{"audiodatarate", float64(a.Bitrate) / 1000},
			amfProp{"audiosamplerate", a.SampleRate}, amfProp{"audiosamplesize", 16},
			amfProp{"stereo", a.Channels == 2})
	}
	props = append(props, amfProp{"encoder", "livecap"})
	b := amfString(nil, "@setDataFrame")
	b = amfString(b, "onMetaData")
	return amfECMAArray(b, props)
}
