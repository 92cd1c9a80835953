package h264

import (
	"bytes"
	"testing"
)

func TestDecoderConfigRoundTrip(t *testing.T) {
	for _, sps := range [][]byte{
		{0x67, 0x64, 0x00, 0x1f, 0xac, 0xd9}, // High: carries the chroma/bit-depth tail
		{0x67, 0x42, 0xc0, 0x1e, 0x95},       // Constrained Baseline: no tail
	} {
		pps := []byte{0x68, 0xee, 0x3c, 0x80}
		rec := DecoderConfig(sps, pps)
		if rec[0] != 1 || rec[1] != sps[1] || rec[3] != sps[3] {
			t.Fatalf("header % x", rec[:6])
		}
		if ConfigLengthSize(rec) != 4 {
			t.Fatalf("length size %d", ConfigLengthSize(rec))
		}
		wantLen := 11 + len(sps) + len(pps)
		if sps[1] == 100 {
			wantLen += 4
		}
		if len(rec) != wantLen {
			t.Fatalf("profile %d: %d bytes, want %d", sps[1], len(rec), wantLen)
		}
		s, p := ConfigParameterSets(rec)
		if !bytes.Equal(s, sps) || !bytes.Equal(p, pps) {
			t.Fatalf("round trip % x / % x", s, p)
		}
		s, p = ParameterSets(rec)
		if !bytes.Equal(s, sps) || !bytes.Equal(p, pps) {
			t.Fatalf("ParameterSets on avcC: % x / % x", s, p)
		}
	}
}

func TestLengthSizes(t *testing.T) {
	rec := []byte{1, 0x64, 0, 0x1f, 0xfd} // lengthSizeMinusOne = 1
	if n := ConfigLengthSize(rec); n != 2 {
		t.Fatalf("length size %d, want 2", n)
	}
	SetConfigLengthSize4(rec)
	if n := ConfigLengthSize(rec); n != 4 || rec[4] != 0xff {
		t.Fatalf("after rewrite: %d (% x)", n, rec)
	}
	if ConfigLengthSize(rec[:4]) != 0 {
		t.Fatal("a 4-byte record has no length size")
	}
	// 2-byte lengths, an AUD and an SPS dropped, an empty unit dropped.
	in := []byte{0, 2, 0x09, 0xf0, 0, 3, 0x67, 1, 2, 0, 0, 0, 3, 0x65, 7, 8}
	out, err := ToAVCC(in, 2)
	if err != nil || !bytes.Equal(out, []byte{0, 0, 0, 3, 0x65, 7, 8}) {
		t.Fatalf("ToAVCC: % x, %v", out, err)
	}
	already := []byte{0, 0, 0, 2, 0x41, 1}
	if out, _ := ToAVCC(already, 4); &out[0] != &already[0] {
		t.Fatal("clean AVCC was copied")
	}
	if _, err := ToAVCC([]byte{0, 0, 0, 9, 0x65}, 4); err == nil {
		t.Fatal("a length past the end was accepted")
	}
	if _, err := AppendNALs(nil, []byte{0, 0, 0, 0}); err == nil {
		t.Fatal("an empty NAL unit was accepted by AppendNALs")
	}
}
