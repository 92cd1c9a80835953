package input

import (
	"errors"
	"fmt"

	"github.com/Eyevinn/mp4ff/bits"
	"github.com/Eyevinn/mp4ff/mp4"
)

// rethrow makes decodeBox re-panic instead of returning an error, so that
// the fuzz target sees a panic inside mp4ff rather than hiding it.
var rethrow = false

var errNoBox = errors.New("no box")

// boxHeader is a top-level box as found in the file.
type boxHeader struct {
	typ       string
	start     int64
	size      int64 // clamped to the end of the file when truncated
	hdrLen    int64
	truncated bool // the box claims to run past the end of the file
}

// boxName is a box type as a string; the top-level types a file is made
// of are constants, so that looking for the next fragment allocates
// nothing.
func boxName(b []byte) string {
	for _, n := range [...]string{"moof", "mdat", "moov", "free", "skip", "ftyp", "styp", "sidx", "mfra", "uuid", "meta", "wide", "emsg", "prft"} {
		if string(b) == n {
			return n
		}
	}
	return string(b)
}

func (r *Reader) readHeader(pos int64) (boxHeader, error) {
	b := r.hdr[:]
	if r.size-pos < 8 {
		return boxHeader{}, errNoBox
	}
	if _, err := r.ra.ReadAt(b[:8], pos); err != nil {
		return boxHeader{}, err
	}
	h := boxHeader{typ: boxName(b[4:8]), start: pos, hdrLen: 8}
	size := uint64(uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3]))
	switch size {
	case 0: // to the end of the file
		size = uint64(r.size - pos)
	case 1:
		if r.size-pos < 16 {
			return boxHeader{}, errNoBox
		}
		if _, err := r.ra.ReadAt(b[8:16], pos+8); err != nil {
			return boxHeader{}, err
		}
		size = 0
		for _, c := range b[8:16] {
			size = size<<8 | uint64(c)
		}
		h.hdrLen = 16
	}
	if size < uint64(h.hdrLen) {
		return boxHeader{}, fmt.Errorf("box %q at offset %d has size %d, smaller than its header", h.typ, pos, size)
	}
	if size > uint64(r.size-pos) {
		h.truncated = true
		size = uint64(r.size - pos)
	}
	h.size = int64(size)
	return h, nil
}

// decodeBox decodes one whole box held in buf. mp4ff decodes from a
// bounded slice, so no allocation can exceed the box. A panic in the parser
// on a damaged file becomes an error: a bad input file must not bring down
// a live stream.
func decodeBox(buf []byte, pos int64) (b mp4.Box, err error) {
	defer func() {
		if p := recover(); p != nil {
			if rethrow {
				panic(p)
			}
			b, err = nil, fmt.Errorf("malformed box at offset %d: %v", pos, p)
		}
	}()
	return mp4.DecodeBoxSR(uint64(pos), bits.NewFixedSliceReader(buf))
}

func (r *Reader) readBox(h boxHeader, limit int64) ([]byte, error) {
	if h.truncated {
		return nil, fmt.Errorf("box %q at offset %d runs past the end of the %d-byte file", h.typ, h.start, r.size)
	}
	if h.size > limit {
		return nil, fmt.Errorf("box %q at offset %d is %d bytes; at most %d are accepted", h.typ, h.start, h.size, limit)
	}
	buf := make([]byte, h.size)
	if _, err := r.ra.ReadAt(buf, h.start); err != nil {
		return nil, fmt.Errorf("reading box %q at offset %d: %w", h.typ, h.start, err)
	}
	if h.hdrLen == 16 {
		// mp4ff accepts a 64-bit size only on mdat; a small box has no
		// need of one, so rewrite the header in the 32-bit form.
		if h.size-8 > 0xffffffff {
			return nil, fmt.Errorf("box %q at offset %d is too large", h.typ, h.start)
		}
		buf = buf[8:]
		sz := uint32(h.size - 8)
		buf[0], buf[1], buf[2], buf[3] = byte(sz>>24), byte(sz>>16), byte(sz>>8), byte(sz)
		copy(buf[4:8], h.typ)
	}
	return buf, nil
}
