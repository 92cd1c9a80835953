package h264

import (
	"bytes"
	"encoding/binary"
)

// DecoderConfig builds the AVCDecoderConfigurationRecord (ISO/IEC
// 14496-15 5.3.3.1) of one SPS and one PPS, NAL length size 4: the body of
// an MP4 avcC box and of the FLV AVC sequence header. sps must be at least
// 4 bytes (NAL header, profile, constraints, level).
func DecoderConfig(sps, pps []byte) []byte {
	b := make([]byte, 0, 11+len(sps)+len(pps)+4)
	b = append(b, 1, sps[1], sps[2], sps[3], 0xFF, 0xE1)
	b = binary.BigEndian.AppendUint16(b, uint16(len(sps)))
	b = append(b, sps...)
	b = append(b, 1)
	b = binary.BigEndian.AppendUint16(b, uint16(len(pps)))
	b = append(b, pps...)
	switch sps[1] {
	case 100, 110, 122, 244:
		// High profiles carry chroma format and bit depths; our encoders
		// produce 4:2:0 8-bit.
		b = append(b, 0xFC|1, 0xF8, 0xF8, 0)
	}
	return b
}

// ConfigParameterSets reads the first SPS and PPS of an
// AVCDecoderConfigurationRecord. The returned slices are copies; a
// truncated record yields what could be read (nil for the rest).
func ConfigParameterSets(r []byte) (sps, pps []byte) {
	pos := 5
	// readSets reads a count byte (masked) and that many length-prefixed
	// units, returning a copy of the first.
	readSets := func(mask byte) []byte {
		if pos >= len(r) {
			return nil
		}
		count := int(r[pos] & mask)
		pos++
		var first []byte
		for k := 0; k < count; k++ {
			if pos+2 > len(r) {
				return first
			}
			l := int(r[pos])<<8 | int(r[pos+1])
			pos += 2
			if pos+l > len(r) {
				return first
			}
			if first == nil {
				first = bytes.Clone(r[pos : pos+l])
			}
			pos += l
		}
		return first
	}
	sps = readSets(0x1f)
	pps = readSets(0xff)
	return sps, pps
}

// ConfigLengthSize returns the NAL length size (1, 2 or 4; 3 is reserved
// and reported as is) that an AVCDecoderConfigurationRecord announces, or
// 0 when the record is too short to say.
func ConfigLengthSize(r []byte) int {
	if len(r) < 5 {
		return 0
	}
	return int(r[4]&3) + 1
}

// SetConfigLengthSize4 rewrites the record's lengthSizeMinusOne to 3, in
// place: for readers (mp4ff) that refuse other sizes while the samples are
// converted by ToAVCC.
func SetConfigLengthSize4(r []byte) {
	if len(r) >= 5 {
		r[4] |= 3
	}
}
