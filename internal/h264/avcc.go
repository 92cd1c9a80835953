package h264

import (
	"encoding/binary"
	"errors"
	"fmt"
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
		return nil, fmt.Errorf("h264: NAL length size %d is not supported (1, 2 or 4)", lengthSize)
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
		if KeepInAccessUnit(Type(sample[pos:])) {
			outLen += 4 + n
		} else {
			clean = false
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
		if !KeepInAccessUnit(Type(nal)) {
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
		return 0, fmt.Errorf("h264: truncated NAL length prefix at offset %d of a %d-byte sample", pos, len(b))
	}
	var n uint64
	for i := 0; i < lengthSize; i++ {
		n = n<<8 | uint64(b[pos+i])
	}
	if n > uint64(len(b)-pos-lengthSize) {
		return 0, fmt.Errorf("h264: NAL length %d at offset %d runs past the end of a %d-byte sample", n, pos, len(b))
	}
	return int(n), nil
}

// SplitNALs returns the NAL units of a sample with lengthSize-byte length
// prefixes (nil on a malformed one). The units are sub-slices of sample.
func SplitNALs(sample []byte, lengthSize int) [][]byte {
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

// AppendNALs appends the NAL units of a media.Packet access unit (4-byte
// lengths) to dst, without allocating beyond dst's growth. An empty unit
// or a length that runs past the end is an error.
func AppendNALs(dst [][]byte, au []byte) ([][]byte, error) {
	for len(au) > 0 {
		if len(au) < 4 {
			return dst, errors.New("access unit is not AVCC: truncated NAL length")
		}
		n := binary.BigEndian.Uint32(au)
		au = au[4:]
		if n == 0 || uint64(n) > uint64(len(au)) {
			return dst, fmt.Errorf("access unit is not AVCC: NAL length %d with %d bytes left", n, len(au))
		}
		dst = append(dst, au[:n])
		au = au[n:]
	}
	return dst, nil
}
