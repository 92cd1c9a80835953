// Package h264 is the one home of H.264 framing in livecap: Annex-B byte
// streams (what encoders emit), length-prefixed AVCC access units (what
// media.Packet carries, what MP4 and FLV store) and the
// AVCDecoderConfigurationRecord (avcC: what MP4 sample entries and the FLV
// sequence header carry). Nothing here decodes slices; it only finds,
// converts and checks NAL unit boundaries and parameter sets.
//
// Conversions that produce media.Packet.Data return freshly allocated
// slices of exactly their length (sinks keep them); readers that only look
// return sub-slices of their input.
package h264

// NAL unit types this project cares about (ITU-T H.264 table 7-1).
const (
	NALSlice = 1
	NALIDR   = 5
	NALSEI   = 6
	NALSPS   = 7
	NALPPS   = 8
	NALAUD   = 9
)

// Type is the nal_unit_type of a NAL unit (0 for an empty one).
func Type(nal []byte) byte {
	if len(nal) == 0 {
		return 0
	}
	return nal[0] & 0x1f
}

// KeepInAccessUnit says whether a NAL unit of type typ belongs in
// media.Packet.Data: parameter sets travel in the codec configuration
// (avcC, FLV sequence header, SPS/PPS before IDRs in MPEG-TS) and access
// unit delimiters are re-created by the muxers that need them.
func KeepInAccessUnit(typ byte) bool {
	return typ != NALSPS && typ != NALPPS && typ != NALAUD
}

// AUD is an access unit delimiter NAL unit (primary_pic_type 7: any slice
// type), for muxers that must begin each access unit with one (MPEG-TS).
var AUD = []byte{NALAUD, 0xF0}
