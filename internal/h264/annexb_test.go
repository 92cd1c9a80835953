package h264

import (
	"bytes"
	"testing"
)

func TestAnnexBToAVCC(t *testing.T) {
	aud := []byte{0x09, 0xf0}
	sps := []byte{0x67, 0x64, 0x00, 0x1f}
	pps := []byte{0x68, 0xee, 0x3c, 0x80}
	sei := []byte{0x06, 0x05, 0x01, 0xaa, 0x80}
	idr := []byte{0x65, 0x88, 0x84, 0x00, 0x00, 0x03, 0x01}
	var in []byte
	in = append(in, 0, 0, 0, 1)
	in = append(in, aud...)
	in = append(in, 0, 0, 1) // 3-byte start codes occur too
	in = append(in, sps...)
	in = append(in, 0, 0, 0, 1)
	in = append(in, pps...)
	in = append(in, 0, 0, 0, 1)
	in = append(in, sei...)
	in = append(in, 0, 0, 0, 1)
	in = append(in, idr...)
	in = append(in, 0, 0) // trailing_zero_8bits

	got, isIDR := AnnexBToAVCC(in)
	want := append([]byte{0, 0, 0, byte(len(sei))}, sei...)
	want = append(want, 0, 0, 0, byte(len(idr)))
	want = append(want, idr...)
	if !bytes.Equal(got, want) || !isIDR {
		t.Fatalf("got % x (idr %v)\nwant % x", got, isIDR, want)
	}
	if cap(got) != len(got) {
		t.Errorf("cap %d for len %d: the packet should own exactly its bytes", cap(got), len(got))
	}

	slice := []byte{0, 0, 0, 1, 0x41, 0x9a, 0x02}
	if got, isIDR := AnnexBToAVCC(slice); isIDR || !bytes.Equal(got, []byte{0, 0, 0, 3, 0x41, 0x9a, 0x02}) {
		t.Fatalf("non-IDR: % x idr %v", got, isIDR)
	}

	s, p := ParameterSets(in)
	if !bytes.Equal(s, sps) || !bytes.Equal(p, pps) {
		t.Fatalf("Annex-B parameter sets % x / % x", s, p)
	}
	avcC := []byte{1, 0x64, 0x00, 0x1f, 0xff, 0xe1, 0, byte(len(sps))}
	avcC = append(avcC, sps...)
	avcC = append(avcC, 1, 0, byte(len(pps)))
	avcC = append(avcC, pps...)
	s, p = ParameterSets(avcC)
	if !bytes.Equal(s, sps) || !bytes.Equal(p, pps) {
		t.Fatalf("avcC parameter sets % x / % x", s, p)
	}
	if s, p := ParameterSets(avcC[:9]); s != nil || p != nil {
		t.Fatalf("truncated avcC gave % x / % x", s, p)
	}
}
