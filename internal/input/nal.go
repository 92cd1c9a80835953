package input

import (
	"encoding/binary"
	"fmt"
)

// H.264 NAL unit types the packets must not carry (see media.Packet.Data):
// parameter sets travel in StreamInfo and every sink writes its own, and an
// access unit delimiter means nothing inside a container.
const (
	nalSPS = 7
	nalPPS = 8
	nalAUD = 9
)

// ToAVCC rewrites one H.264 sample whose NAL units carry lengthSize-byte
// big-endian length prefixes (1, 2 or 4, from the avcC record) into the form
// media.Packet wants: 4-byte lengths, without SPS, PPS or AUD units. When the
// sample is already in that form it is returned as is, without a copy.
//
// A length that runs past the end of the sample is an error naming the
// offset; an empty NAL unit is dropped. The output is never longer than
// 4/lengthSize times the input, so its size is bounded by the input's.
func ToAVCC(sample []byte, lengthSize int) ([]byte, error) {
	switch lengthSize {
	case 1, 2, 4:
	default:
		return nil, fmt.Errorf("input: NAL length size %d is not supported (1, 2 or 4)", lengthSize)
	}
	// First pass: validate, and learn whether anything must change.
	clean := lengthSize == 4
	outLen := 0
	for pos := 0; pos < len(sample); {
		n, err := nalLength(sample, pos, lengthSize)
		if err != nil {
			return nil, err
		}
		pos += lengthSize
		if n == 0 {
			clean = false
			continue
		}
		switch sample[pos] & 0x1f {
		case nalSPS, nalPPS, nalAUD:
			clean = false
		default:
			outLen += 4 + n
		}
		pos += n
	}
	if clean {
		return sample, nil
	}
	out := make([]byte, 0, outLen)
	for pos := 0; pos < len(sample); {
		n, _ := nalLength(sample, pos, lengthSize)
		pos += lengthSize
		if n == 0 {
			continue
		}
		nal := sample[pos : pos+n]
		pos += n
		switch nal[0] & 0x1f {
		case nalSPS, nalPPS, nalAUD:
			continue
		}
		out = binary.BigEndian.AppendUint32(out, uint32(n))
		out = append(out, nal...)
	}
	return out, nil
}

// nalLength reads the length prefix at pos and checks that the unit it
// announces lies inside the sample.
func nalLength(b []byte, pos, lengthSize int) (int, error) {
	if len(b)-pos < lengthSize {
		return 0, fmt.Errorf("input: truncated NAL length prefix at offset %d of a %d-byte sample", pos, len(b))
	}
	var n uint64
	for i := 0; i < lengthSize; i++ {
		n = n<<8 | uint64(b[pos+i])
	}
	if n > uint64(len(b)-pos-lengthSize) {
		return 0, fmt.Errorf("input: NAL length %d at offset %d runs past the end of a %d-byte sample", n, pos, len(b))
	}
	return int(n), nil
}

// splitNALs returns the NAL units of a length-prefixed sample (nil on a
// malformed one). Used to find in-band parameter sets of avc3 streams.
func splitNALs(sample []byte, lengthSize int) [][]byte {
	var nals [][]byte
	for pos := 0; pos < len(sample); {
		n, err := nalLength(sample, pos, lengthSize)
		if err != nil {
			return nil
		}
		pos += lengthSize
		nals = append(nals, sample[pos:pos+n])
		pos += n
	}
	return nals
}
