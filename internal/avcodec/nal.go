package avcodec

import "bytes"

// H.264 NAL unit types this package cares about (ITU-T H.264 table 7-1).
const (
	nalSlice = 1
	nalIDR   = 5
	nalSEI   = 6
	nalSPS   = 7
	nalPPS   = 8
	nalAUD   = 9
)

var startCode = []byte{0, 0, 1}

// nextNAL returns the first NAL unit of the Annex-B byte stream b (without
// its start code) and the rest of the stream, which begins at the next start
// code. Trailing zero bytes are trimmed: they are either the leading zero of
// a 4-byte start code or trailing_zero_8bits, never NAL payload that a
// decoder needs. nal is nil when b holds no further NAL unit.
func nextNAL(b []byte) (nal, rest []byte) {
	for {
		i := bytes.Index(b, startCode)
		if i < 0 {
			return nil, nil
		}
		b = b[i+3:]
		j := bytes.Index(b, startCode)
		if j < 0 {
			nal, rest = b, nil
		} else {
			nal, rest = b[:j], b[j:]
		}
		for len(nal) > 0 && nal[len(nal)-1] == 0 {
			nal = nal[:len(nal)-1]
		}
		if len(nal) > 0 {
			return nal, rest
		}
		// An empty unit (two start codes in a row): skip it.
		b = rest
	}
}

// keepInAccessUnit says whether a NAL unit belongs in media.Packet.Data:
// parameter sets travel in the codec configuration (avcC, FLV sequence
// header, SPS/PPS before IDRs in MPEG-TS) and access unit delimiters are
// re-created by the muxers that need them.
func keepInAccessUnit(typ byte) bool {
	return typ != nalSPS && typ != nalPPS && typ != nalAUD
}

// annexBToAVCC converts one Annex-B access unit into AVCC form (each NAL
// unit prefixed by its 4-byte big-endian length), dropping SPS, PPS and AUD.
// The result is a freshly allocated slice of exactly the right size, since
// sinks keep it. idr reports whether the access unit holds an IDR slice.
func annexBToAVCC(au []byte) (avcc []byte, idr bool) {
	n := 0
	for nal, rest := nextNAL(au); nal != nil; nal, rest = nextNAL(rest) {
		typ := nal[0] & 0x1f
		if typ == nalIDR {
			idr = true
		}
		if keepInAccessUnit(typ) {
			n += 4 + len(nal)
		}
	}
	avcc = make([]byte, 0, n)
	for nal, rest := nextNAL(au); nal != nil; nal, rest = nextNAL(rest) {
		if !keepInAccessUnit(nal[0] & 0x1f) {
			continue
		}
		l := len(nal)
		avcc = append(avcc, byte(l>>24), byte(l>>16), byte(l>>8), byte(l))
		avcc = append(avcc, nal...)
	}
	return avcc, idr
}

// parameterSets extracts the first SPS and PPS from encoder extradata, which
// libx264 writes in Annex-B form; an avcC record (first byte 1) is accepted
// too. The returned slices are copies.
func parameterSets(extra []byte) (sps, pps []byte) {
	if len(extra) > 0 && extra[0] == 1 {
		return avcCParameterSets(extra)
	}
	for nal, rest := nextNAL(extra); nal != nil; nal, rest = nextNAL(rest) {
		switch nal[0] & 0x1f {
		case nalSPS:
			if sps == nil {
				sps = bytes.Clone(nal)
			}
		case nalPPS:
			if pps == nil {
				pps = bytes.Clone(nal)
			}
		}
	}
	return sps, pps
}

// avcCParameterSets reads the first SPS and PPS of an
// AVCDecoderConfigurationRecord (ISO/IEC 14496-15 5.3.3.1).
func avcCParameterSets(r []byte) (sps, pps []byte) {
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
