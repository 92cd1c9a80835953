package h264

import (
	"bytes"
	"encoding/binary"
	"testing"
)

// FuzzAnnexBToAVCC feeds arbitrary bytes to the Annex-B → AVCC conversion
// (and to the parameter set readers that take encoder extradata). Nothing
// may panic, and:
//   - the output is well-formed AVCC: 4-byte lengths that add up exactly,
//     no empty NAL unit, none ending in a zero byte, no SPS, PPS or AUD;
//   - idr is true exactly when an IDR slice is kept;
//   - writing the output back as Annex-B and converting again gives the
//     same bytes (the conversion is a fixed point after one pass);
//   - NAL units built from the input to be valid (no start code inside, a
//     non-zero last byte), joined with 3- and 4-byte start codes, convert
//     to exactly the expected AVCC.
func FuzzAnnexBToAVCC(f *testing.F) {
	f.Add([]byte{0, 0, 0, 1, 0x09, 0xf0, 0, 0, 1, 0x67, 0x64, 0, 0x1f, 0, 0, 0, 1, 0x68, 0xee, 0x3c, 0x80, 0, 0, 0, 1, 0x65, 0x88, 0x84, 0, 0})
	f.Add([]byte{0, 0, 1, 0x41, 0x9a, 0, 0, 3, 1, 0, 0, 1, 0, 0, 1, 0x06, 5, 0, 0, 0, 0})
	f.Add([]byte{1, 0x64, 0, 0x1f, 0xff, 0xe1, 0, 4, 0x67, 0x64, 0, 0x1f, 1, 0, 4, 0x68, 0xee, 0x3c, 0x80})
	f.Add([]byte{0, 0, 1})
	f.Add([]byte{0x65, 1, 2, 3})
	f.Fuzz(func(t *testing.T, data []byte) {
		out, idr := AnnexBToAVCC(data)
		sawIDR := false
		for pos := 0; pos < len(out); {
			if len(out)-pos < 5 {
				t.Fatalf("%d bytes left at %d: no room for a length and a NAL header", len(out)-pos, pos)
			}
			n := int(binary.BigEndian.Uint32(out[pos:]))
			pos += 4
			if n == 0 || n > len(out)-pos {
				t.Fatalf("NAL length %d at %d with %d bytes left", n, pos-4, len(out)-pos)
			}
			nal := out[pos : pos+n]
			if nal[n-1] == 0 {
				t.Fatalf("NAL unit at %d ends with a zero byte", pos)
			}
			switch nal[0] & 0x1f {
			case NALSPS, NALPPS, NALAUD:
				t.Fatalf("NAL type %d kept", nal[0]&0x1f)
			case NALIDR:
				sawIDR = true
			}
			pos += n
		}
		if idr != sawIDR {
			t.Fatalf("idr %v, but an IDR slice kept is %v", idr, sawIDR)
		}
		if cap(out) != len(out) {
			t.Fatalf("cap %d for len %d", cap(out), len(out))
		}
		again, idr2 := AnnexBToAVCC(avccToAnnexB(out))
		if !bytes.Equal(again, out) || idr2 != idr {
			t.Fatalf("second pass differs:\n% x\n% x", out, again)
		}

		// Valid NAL units made from the input: each piece is split at a
		// 0xFF, emulation prevention keeps start codes out, and a trailing
		// zero gets rbsp_stop_one_bit's byte after it.
		var annexB, want []byte
		for i, piece := range bytes.Split(data, []byte{0xFF}) {
			if len(piece) == 0 {
				continue
			}
			nal := escape(piece)
			if nal[len(nal)-1] == 0 {
				nal = append(nal, 0x80)
			}
			if i%2 == 0 {
				annexB = append(annexB, 0, 0, 0, 1)
			} else {
				annexB = append(annexB, 0, 0, 1)
			}
			annexB = append(annexB, nal...)
			if i%3 == 2 {
				annexB = append(annexB, 0, 0) // trailing_zero_8bits
			}
			if KeepInAccessUnit(nal[0] & 0x1f) {
				want = binary.BigEndian.AppendUint32(want, uint32(len(nal)))
				want = append(want, nal...)
			}
		}
		if got, _ := AnnexBToAVCC(annexB); !bytes.Equal(got, want) {
			t.Fatalf("valid stream % x\ngot  % x\nwant % x", annexB, got, want)
		}

		// Extradata readers: any bytes, no panic, copies no larger than
		// the input.
		sps, pps := ParameterSets(data)
		if len(sps) > len(data) || len(pps) > len(data) {
			t.Fatalf("parameter sets of %d and %d bytes from %d", len(sps), len(pps), len(data))
		}
	})
}

func avccToAnnexB(b []byte) []byte {
	var out []byte
	for len(b) >= 4 {
		n := int(binary.BigEndian.Uint32(b))
		out = append(out, 0, 0, 0, 1)
		out = append(out, b[4:4+n]...)
		b = b[4+n:]
	}
	return out
}

// escape applies H.264 emulation prevention (7.4.1): after two zero bytes,
// a byte of 0..3 gets an emulation_prevention_three_byte before it.
func escape(b []byte) []byte {
	out := make([]byte, 0, len(b)+len(b)/2)
	zeros := 0
	for _, c := range b {
		if zeros >= 2 && c <= 3 {
			out = append(out, 3)
			zeros = 0
		}
		out = append(out, c)
		if c == 0 {
			zeros++
		} else {
			zeros = 0
		}
	}
	return out
}

// FuzzToAVCC checks the NAL length rewrite: whatever it accepts, it returns
// well-formed 4-byte AVCC with no parameter sets, AUD or empty units, no
// larger than the input allows, and a second pass leaves it unchanged.
func FuzzToAVCC(f *testing.F) {
	f.Add([]byte{0, 0, 0, 5, 0x65, 1, 2, 3, 4}, byte(2))
	f.Add([]byte{0, 0, 0, 2, 0x09, 0xf0, 0, 0, 0, 3, 0x67, 1, 2, 0, 0, 0, 2, 0x68, 1, 0, 0, 0, 2, 0x65, 9}, byte(2))
	f.Add([]byte{0, 3, 0x41, 1, 2, 0, 0, 0, 1, 0x06}, byte(1))
	f.Add([]byte{3, 0x41, 1, 2, 0, 1, 0x09}, byte(0))
	f.Add([]byte{0, 0, 0, 9, 0x65}, byte(2))
	f.Fuzz(func(t *testing.T, data []byte, ls byte) {
		lengthSize := []int{1, 2, 4}[int(ls)%3]
		out, err := ToAVCC(data, lengthSize)
		if err != nil {
			return
		}
		if len(out) > len(data)*4/lengthSize {
			t.Fatalf("%d bytes out of %d with %d-byte lengths", len(out), len(data), lengthSize)
		}
		nals, err := AppendNALs(nil, out)
		if err != nil {
			t.Fatalf("output not AVCC: %v", err)
		}
		for _, nal := range nals {
			if !KeepInAccessUnit(Type(nal)) {
				t.Fatalf("NAL type %d kept", Type(nal))
			}
		}
		if split := SplitNALs(out, 4); len(split) != len(nals) {
			t.Fatalf("SplitNALs found %d units, AppendNALs %d", len(split), len(nals))
		}
		again, err := ToAVCC(out, 4)
		if err != nil || !bytes.Equal(again, out) {
			t.Fatalf("second pass changed the output (err %v)", err)
		}
	})
}
