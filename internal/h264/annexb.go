package h264

import "bytes"

var startCode = []byte{0, 0, 1}

// NextNAL returns the first NAL unit of the Annex-B byte stream b (without
// its start code) and the rest of the stream, which begins at the next start
// code. Trailing zero bytes are trimmed: they are either the leading zero of
// a 4-byte start code or trailing_zero_8bits, never NAL payload that a
// decoder needs. nal is nil when b holds no further NAL unit.
func NextNAL(b []byte) (nal, rest []byte) {
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

// AnnexBToAVCC converts one Annex-B access unit into AVCC form (each NAL
// unit prefixed by its 4-byte big-endian length), dropping SPS, PPS and AUD.
// The result is a freshly allocated slice of exactly the right size, since
// sinks keep it. idr reports whether the access unit holds an IDR slice.
func AnnexBToAVCC(au []byte) (avcc []byte, idr bool) {
	n := 0
	for nal, rest := NextNAL(au); nal != nil; nal, rest = NextNAL(rest) {
		typ := Type(nal)
		if typ == NALIDR {
			idr = true
		}
		if KeepInAccessUnit(typ) {
			n += 4 + len(nal)
		}
	}
	avcc = make([]byte, 0, n)
	for nal, rest := NextNAL(au); nal != nil; nal, rest = NextNAL(rest) {
		if !KeepInAccessUnit(Type(nal)) {
			continue
		}
		l := len(nal)
		avcc = append(avcc, byte(l>>24), byte(l>>16), byte(l>>8), byte(l))
		avcc = append(avcc, nal...)
	}
	return avcc, idr
}

// ParameterSets extracts the first SPS and PPS from encoder extradata,
// which libx264 writes in Annex-B form; an avcC record (first byte 1) is
// accepted too. The returned slices are copies.
func ParameterSets(extra []byte) (sps, pps []byte) {
	if len(extra) > 0 && extra[0] == 1 {
		return ConfigParameterSets(extra)
	}
	for nal, rest := NextNAL(extra); nal != nil; nal, rest = NextNAL(rest) {
		switch Type(nal) {
		case NALSPS:
			if sps == nil {
				sps = bytes.Clone(nal)
			}
		case NALPPS:
			if pps == nil {
				pps = bytes.Clone(nal)
			}
		}
	}
	return sps, pps
}
