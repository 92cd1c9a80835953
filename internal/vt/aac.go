package vt

import (
	"errors"
	"fmt"
	"time"
)

// ascFromCookie extracts the AudioSpecificConfig from an AudioConverter
// AAC magic cookie. The cookie is an MPEG-4 ES_Descriptor (ISO/IEC
// 14496-1 7.2.6.5: tag 0x03) whose DecoderConfigDescriptor (tag 0x04)
// holds a DecoderSpecificInfo (tag 0x05) with the ASC. Some converters
// hand over the bare ASC; that is returned as is.
func ascFromCookie(c []byte) ([]byte, error) {
	if len(c) == 0 {
		return nil, errors.New("empty AAC magic cookie")
	}
	if c[0] != 0x03 && c[0] != 0x04 {
		// Not a descriptor: an ASC starts with the 5-bit object type (AAC-LC
		// is 2: first byte 0x10..0x17).
		if len(c) >= 2 && c[0]>>3 != 0 && c[0]>>3 < 31 {
			return append([]byte(nil), c...), nil
		}
		return nil, fmt.Errorf("AAC magic cookie starts with 0x%02x, want an ES_Descriptor (0x03) or an AudioSpecificConfig", c[0])
	}
	b := c
	for len(b) > 0 {
		tag, body, rest, err := descriptor(b)
		if err != nil {
			return nil, err
		}
		switch tag {
		case 0x03: // ES_Descriptor: ES_ID(16) flags(8) [dependsOn(16)] [URL] [OCR(16)]
			if len(body) < 3 {
				return nil, errors.New("AAC magic cookie: short ES_Descriptor")
			}
			flags := body[2]
			p := body[3:]
			if flags&0x80 != 0 { // streamDependenceFlag
				if len(p) < 2 {
					return nil, errors.New("AAC magic cookie: short ES_Descriptor")
				}
				p = p[2:]
			}
			if flags&0x40 != 0 { // URL_Flag
				if len(p) < 1 || len(p) < 1+int(p[0]) {
					return nil, errors.New("AAC magic cookie: short ES_Descriptor URL")
				}
				p = p[1+int(p[0]):]
			}
			if flags&0x20 != 0 { // OCRstreamFlag
				if len(p) < 2 {
					return nil, errors.New("AAC magic cookie: short ES_Descriptor")
				}
				p = p[2:]
			}
			b = p
			continue
		case 0x04: // DecoderConfigDescriptor: 13 fixed bytes, then sub-descriptors
			if len(body) < 13 {
				return nil, errors.New("AAC magic cookie: short DecoderConfigDescriptor")
			}
			b = body[13:]
			continue
		case 0x05:
			if len(body) < 2 {
				return nil, fmt.Errorf("AAC magic cookie: AudioSpecificConfig of %d bytes, want at least 2", len(body))
			}
			return append([]byte(nil), body...), nil
		}
		b = rest
	}
	return nil, errors.New("AAC magic cookie holds no DecoderSpecificInfo (AudioSpecificConfig)")
}

// descriptor splits one MPEG-4 descriptor: a tag byte, a size in 1 to 4
// bytes of 7 bits (high bit = more), the body.
func descriptor(b []byte) (tag byte, body, rest []byte, err error) {
	if len(b) < 2 {
		return 0, nil, nil, errors.New("AAC magic cookie: truncated descriptor")
	}
	tag = b[0]
	size := 0
	i := 1
	for ; i < len(b) && i <= 4; i++ {
		size = size<<7 | int(b[i]&0x7f)
		if b[i]&0x80 == 0 {
			break
		}
	}
	i++
	if i > len(b) || size > len(b)-i {
		return 0, nil, nil, fmt.Errorf("AAC magic cookie: descriptor 0x%02x of %d bytes overruns the %d-byte cookie", tag, size, len(b))
	}
	return tag, b[i : i+size], b[i+size:], nil
}

// ascFor builds the 2-byte AudioSpecificConfig of AAC-LC, for a converter
// that reports no cookie.
func ascFor(sampleRate, channels int) ([]byte, error) {
	rates := []int{96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025, 8000, 7350}
	idx := -1
	for i, r := range rates {
		if r == sampleRate {
			idx = i
		}
	}
	if idx < 0 {
		return nil, fmt.Errorf("AAC sample rate %d Hz has no index (allowed: %v)", sampleRate, rates)
	}
	if channels < 1 || channels > 7 {
		return nil, fmt.Errorf("AAC channel count %d not supported (allowed: 1-7)", channels)
	}
	const aacLC = 2
	return []byte{byte(aacLC<<3 | idx>>1), byte(idx&1<<7 | channels<<3)}, nil
}

// aacPTS is the presentation time of the n-th AAC packet (from 0): the
// encoder's output starts `priming` samples before the first input sample,
// so packet n decodes to input samples from n*frame - priming on. The first
// packets therefore carry negative PTS relative to the first buffer, and
// the first real sample lands exactly on its capture time (media.Packet).
func aacPTS(first time.Duration, n int64, frame, priming, rate int) time.Duration {
	s := n*int64(frame) - int64(priming)
	// Split to keep s*1e9 from overflowing in very long sessions.
	sec, rem := s/int64(rate), s%int64(rate)
	return first + time.Duration(sec)*time.Second + time.Duration(rem)*time.Second/time.Duration(rate)
}
