package record

import "encoding/binary"

// boxWriter appends ISO-BMFF boxes to a byte slice. open/full reserve the
// size field, end fills it in; nothing is allocated beyond the slice's
// growth.
type boxWriter struct{ b []byte }

func (w *boxWriter) open(typ string) int {
	off := len(w.b)
	w.b = append(w.b, 0, 0, 0, 0)
	w.b = append(w.b, typ...)
	return off
}

// full opens a full box (version and flags after the header).
func (w *boxWriter) full(typ string, version byte, flags uint32) int {
	off := w.open(typ)
	w.u32(uint32(version)<<24 | flags&0xffffff)
	return off
}

func (w *boxWriter) end(off int) {
	binary.BigEndian.PutUint32(w.b[off:], uint32(len(w.b)-off))
}

func (w *boxWriter) u8(v uint8)   { w.b = append(w.b, v) }
func (w *boxWriter) u16(v uint16) { w.b = binary.BigEndian.AppendUint16(w.b, v) }
func (w *boxWriter) u32(v uint32) { w.b = binary.BigEndian.AppendUint32(w.b, v) }
func (w *boxWriter) u64(v uint64) { w.b = binary.BigEndian.AppendUint64(w.b, v) }
func (w *boxWriter) str(s string) { w.b = append(w.b, s...) }
func (w *boxWriter) raw(b []byte) { w.b = append(w.b, b...) }
func (w *boxWriter) zero(n int) {
	for i := 0; i < n; i++ {
		w.b = append(w.b, 0)
	}
}

// matrix is the identity transformation matrix of mvhd and tkhd.
func (w *boxWriter) matrix() {
	for _, v := range [9]uint32{0x00010000, 0, 0, 0, 0x00010000, 0, 0, 0, 0x40000000} {
		w.u32(v)
	}
}

// pascal writes a counted string (QuickTime hdlr names, compressor names).
func (w *boxWriter) pascal(s string) { w.u8(uint8(len(s))); w.str(s) }
