package testpattern

import (
	"strings"
	"testing"
)

func TestBand(t *testing.T) {
	for h, want := range map[int]int{720: 60, 240: 20, 32: 8, 1080: 90, 350: 28} {
		if got := Band(h); got != want {
			t.Errorf("Band(%d) = %d, want %d", h, got, want)
		}
	}
}

// Every index drawn at every size reads back, and the guards reject
// pictures that are not the pattern.
func TestBarcodeRoundTrip(t *testing.T) {
	for _, sz := range [][2]int{{MinWidth, MinHeight}, {100, 32}, {1280, 720}, {1920, 1080}} {
		w, h := sz[0], sz[1]
		y := make([]byte, w*h)
		for _, i := range []uint32{0, 1, 29, 30, 12345, 1<<31 + 5, 0xFFFFFFFF, 0xA5A5A5A5} {
			DrawBarcode(y, w, w, h, i)
			if got, ok := DecodeBarcode(y, w, w, h); !ok || got != i {
				t.Errorf("%dx%d: %d reads as %d (guards ok %v)", w, h, i, got, ok)
			}
			cell := CellWidth(w)
			for x := 0; x < w; x++ {
				want := byte(LumaBlack)
				if c := x / cell; c < Cells && CellWhite(c, i) {
					want = LumaWhite
				}
				if y[(Band(h)-1)*w+x] != want {
					t.Fatalf("%dx%d index %d: pixel %d of the band's last row = %d, want %d", w, h, i, x, y[(Band(h)-1)*w+x], want)
				}
			}
		}
		for _, v := range []byte{LumaBlack, LumaWhite} {
			for j := range y {
				y[j] = v
			}
			if n, ok := DecodeBarcode(y, w, w, h); ok {
				t.Errorf("%dx%d: a uniform picture (%d) reads as frame %d", w, h, v, n)
			}
		}
	}
}

func TestLimits(t *testing.T) {
	for _, sz := range [][2]int{{MinWidth - 2, 100}, {321, 240}, {320, MinHeight - 2}, {MaxWidth + 2, 720}} {
		err := CheckSize(sz[0], sz[1])
		if err == nil || !strings.Contains(err.Error(), "68..7680") {
			t.Errorf("CheckSize(%d, %d) = %v", sz[0], sz[1], err)
		}
	}
	if err := CheckSize(MinWidth, MinHeight); err != nil {
		t.Error(err)
	}
	if CheckFPS(0) == nil || CheckFPS(121) == nil || CheckFPS(MaxFPS) != nil {
		t.Error("CheckFPS bounds")
	}
	if !IsFlash(0, 30) || IsFlash(29, 30) || !IsFlash(60, 30) {
		t.Error("IsFlash")
	}
}
