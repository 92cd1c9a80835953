package input

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/livecap/livecap/internal/media"
)

// The moof of every fragment is parsed here rather than by mp4ff, whose
// decoder makes some 24 objects per fragment (boxes, children slices, a
// sample slice per trun): restreaming a fragmented recording would
// allocate on every fragment. Only what the samples need is read (tfhd,
// tfdt, trun; mfhd and anything else is skipped), with the semantics of
// mp4ff v0.56.0's DecodeTrunSR and AddSampleDefaultValues, which the tests
// compare against.

var errShortBox = errors.New("box runs past its parent")

// child splits the first box off b: its type (compared with
// string(typ) == "...", which allocates nothing), its payload and what
// follows.
func child(b []byte) (typ, payload, rest []byte, err error) {
	if len(b) < 8 {
		return nil, nil, nil, errShortBox
	}
	size := uint64(binary.BigEndian.Uint32(b))
	hdr := uint64(8)
	switch size {
	case 0:
		size = uint64(len(b))
	case 1:
		if len(b) < 16 {
			return nil, nil, nil, errShortBox
		}
		size, hdr = binary.BigEndian.Uint64(b[8:]), 16
	}
	if size < hdr || size > uint64(len(b)) {
		return nil, nil, nil, errShortBox
	}
	return b[4:8], b[hdr:size], b[size:], nil
}

// tfhd flags (ISO/IEC 14496-12 8.8.7.1).
const (
	tfhdBaseDataOffset    = 0x000001
	tfhdSampleDescription = 0x000002
	tfhdDefaultDuration   = 0x000008
	tfhdDefaultSize       = 0x000010
	tfhdDefaultFlags      = 0x000020
	tfhdDefaultBaseIsMoof = 0x020000
)

// trun flags (8.8.8.1).
const (
	trunDataOffset  = 0x000001
	trunFirstFlags  = 0x000004
	trunDuration    = 0x000100
	trunSize        = 0x000200
	trunFlags       = 0x000400
	trunCTO         = 0x000800
	sampleIsNonSync = 0x00010000
)

type tfhd struct {
	trackID                   uint32
	flags                     uint32
	baseDataOffset            uint64
	dur, size, smpFlags       uint32 // defaults, from tfhd or else trex
	hasBaseDataOffset         bool
	defaultBaseIsMoof         bool
	hasDur, hasSize, hasFlags bool
}

func parseTfhd(p []byte) (h tfhd, err error) {
	if len(p) < 8 {
		return h, errShortBox
	}
	h.flags = binary.BigEndian.Uint32(p) & 0xffffff
	h.trackID = binary.BigEndian.Uint32(p[4:])
	p = p[8:]
	u32 := func() uint32 {
		if len(p) < 4 {
			err = errShortBox
			return 0
		}
		v := binary.BigEndian.Uint32(p)
		p = p[4:]
		return v
	}
	if h.flags&tfhdBaseDataOffset != 0 {
		hi := u32()
		h.baseDataOffset = uint64(hi)<<32 | uint64(u32())
		h.hasBaseDataOffset = true
	}
	if h.flags&tfhdSampleDescription != 0 {
		u32()
	}
	if h.flags&tfhdDefaultDuration != 0 {
		h.dur, h.hasDur = u32(), true
	}
	if h.flags&tfhdDefaultSize != 0 {
		h.size, h.hasSize = u32(), true
	}
	if h.flags&tfhdDefaultFlags != 0 {
		h.smpFlags, h.hasFlags = u32(), true
	}
	h.defaultBaseIsMoof = h.flags&tfhdDefaultBaseIsMoof != 0
	return h, err
}

// parseMoof queues the samples of the moof box b (header included), which
// starts at file offset moofStart, as addFragment did with mp4ff's boxes.
func (r *Reader) parseMoof(b []byte, moofStart int64) (err error) {
	defer func() {
		if p := recover(); p != nil {
			if rethrow {
				panic(p)
			}
			err = fmt.Errorf("malformed moof at offset %d: %v", moofStart, p)
		}
	}()
	_, body, _, err := child(b)
	if err != nil {
		return err
	}
	prevEnd := moofStart
	for i := 0; len(body) > 0; {
		typ, payload, rest, err := child(body)
		if err != nil {
			return fmt.Errorf("moof at offset %d: %w", moofStart, err)
		}
		body = rest
		if string(typ) != "traf" {
			continue
		}
		if prevEnd, err = r.parseTraf(payload, i, moofStart, prevEnd); err != nil {
			return fmt.Errorf("moof at offset %d: %w", moofStart, err)
		}
		i++
	}
	return nil
}

// parseTraf queues the samples of traf number i (from 0) and returns the
// end of its data (where a next traf without a base offset starts).
func (r *Reader) parseTraf(b []byte, i int, moofStart, prevEnd int64) (int64, error) {
	var (
		h       tfhd
		hasTfhd bool
		tfdt    int64
		hasTfdt bool
	)
	for rest := b; len(rest) > 0; {
		typ, p, next, err := child(rest)
		if err != nil {
			return prevEnd, err
		}
		rest = next
		switch string(typ) {
		case "tfhd":
			if h, err = parseTfhd(p); err != nil {
				return prevEnd, fmt.Errorf("tfhd: %w", err)
			}
			hasTfhd = true
		case "tfdt":
			if len(p) < 8 {
				return prevEnd, fmt.Errorf("tfdt: %w", errShortBox)
			}
			if p[0] != 0 { // version 1: 64-bit
				if len(p) < 12 {
					return prevEnd, fmt.Errorf("tfdt: %w", errShortBox)
				}
				tfdt = int64(binary.BigEndian.Uint64(p[4:]))
			} else {
				tfdt = int64(binary.BigEndian.Uint32(p[4:]))
			}
			hasTfdt = true
		}
	}
	if !hasTfhd {
		return prevEnd, nil // as mp4ff's path did: a traf without tfhd is skipped
	}
	t := r.trackByID(h.trackID)
	dts := int64(0)
	if t != nil {
		dts = t.nextDTS
		if trex := t.trex; trex != nil {
			if !h.hasDur {
				h.dur = trex.DefaultSampleDuration
			}
			if !h.hasSize {
				h.size = trex.DefaultSampleSize
			}
			if !h.hasFlags {
				h.smpFlags = trex.DefaultSampleFlags
			}
		}
	}
	base := prevEnd
	switch {
	case h.hasBaseDataOffset:
		base = int64(h.baseDataOffset)
	case h.defaultBaseIsMoof || i == 0:
		base = moofStart
	}
	if hasTfdt {
		dts = tfdt
	}
	pos := base
	for rest := b; len(rest) > 0; {
		typ, p, next, err := child(rest)
		if err != nil {
			return prevEnd, err
		}
		rest = next
		if string(typ) != "trun" {
			continue
		}
		if pos, dts, err = r.parseTrun(p, t, &h, base, pos, dts); err != nil {
			return prevEnd, fmt.Errorf("trun: %w", err)
		}
	}
	if t != nil {
		t.nextDTS = dts
	}
	return pos, nil
}

// parseTrun queues the samples of one trun (payload p) of track t (nil:
// a track the reader does not use, whose data is only skipped).
func (r *Reader) parseTrun(p []byte, t *track, h *tfhd, base, pos, dts int64) (int64, int64, error) {
	if len(p) < 8 {
		return pos, dts, errShortBox
	}
	flags := binary.BigEndian.Uint32(p) & 0xffffff
	count := uint64(binary.BigEndian.Uint32(p[4:]))
	p = p[8:]
	per := uint64(0)
	for _, f := range [...]uint32{trunDuration, trunSize, trunFlags, trunCTO} {
		if flags&f != 0 {
			per += 4
		}
	}
	head := uint64(0)
	if flags&trunDataOffset != 0 {
		head += 4
	}
	if flags&trunFirstFlags != 0 {
		head += 4
	}
	if uint64(len(p)) != head+count*per {
		return pos, dts, fmt.Errorf("expected size %d, got %d", 16+head+count*per, 8+8+len(p))
	}
	if count > 1024 && per == 0 {
		return pos, dts, fmt.Errorf("sampleCount %d is big but no sample data present", count)
	}
	if flags&trunDataOffset != 0 {
		pos = base + int64(int32(binary.BigEndian.Uint32(p)))
		p = p[4:]
	}
	var first uint32
	if flags&trunFirstFlags != 0 {
		first = binary.BigEndian.Uint32(p)
		p = p[4:]
	}
	for i := uint64(0); i < count; i++ {
		dur, size, sflags := h.dur, h.size, h.smpFlags
		var cto int32
		if flags&trunDuration != 0 {
			dur = binary.BigEndian.Uint32(p)
			p = p[4:]
		}
		if flags&trunSize != 0 {
			size = binary.BigEndian.Uint32(p)
			p = p[4:]
		}
		if flags&trunFlags != 0 {
			sflags = binary.BigEndian.Uint32(p)
			p = p[4:]
		} else if i == 0 && flags&trunFirstFlags != 0 {
			sflags = first
		}
		if flags&trunCTO != 0 {
			cto = int32(binary.BigEndian.Uint32(p))
			p = p[4:]
		}
		if t != nil && !t.done {
			if pos < 0 || pos > r.size || int64(size) > r.size-pos {
				// The file ends inside this fragment's data.
				t.done = true
				r.truncated = true
			} else {
				t.push(sample{
					off:  pos,
					size: size,
					dur:  dur,
					dts:  dts,
					cto:  cto,
					sync: t.kind == media.Audio || sflags&sampleIsNonSync == 0,
				})
			}
		}
		pos += int64(size)
		dts += int64(dur)
	}
	return pos, dts, nil
}
