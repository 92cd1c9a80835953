package testsrc

import (
	"testing"

	"github.com/livecap/livecap/internal/testpattern"
)

func TestFlashFramesAndLuma(t *testing.T) {
	for _, sz := range []struct{ w, h, fps int }{{320, 240, 25}, {1280, 720, 30}, {640, 360, 7}, {68, 32, 10}, {642, 362, 1}, {1920, 1080, 24}} {
		s := mustSource(t, Options{Width: sz.w, Height: sz.h, FPS: sz.fps, Video: true})
		band := testpattern.Band(sz.h)
		for i := int64(0); i < int64(3*sz.fps)+2; i++ {
			f := s.renderFrame(i)
			mean := meanBelowBand(f.Planes[0], f.Strides[0], sz.w, sz.h)
			flash := testpattern.IsFlash(i, sz.fps)
			if flash {
				for r := band; r < sz.h; r++ {
					for _, p := range f.Planes[0][r*sz.w : (r+1)*sz.w] {
						if p != lumaWhite {
							t.Fatalf("%dx%d frame %d: flash row %d has Y=%d", sz.w, sz.h, i, r, p)
						}
					}
				}
				for p := 1; p < 3; p++ {
					for _, c := range f.Planes[p] {
						if c != chromaMid {
							t.Fatalf("%dx%d frame %d: flash chroma %d", sz.w, sz.h, i, c)
						}
					}
				}
			} else if mean > 150 {
				t.Fatalf("%dx%d frame %d: mean luma %.1f, want well under 180 so it is no flash", sz.w, sz.h, i, mean)
			}
			if got, ok := testpattern.DecodeBarcode(f.Planes[0], f.Strides[0], sz.w, sz.h); !ok || int64(got) != i {
				t.Fatalf("%dx%d frame %d: barcode reads %d (guards ok %v)", sz.w, sz.h, i, got, ok)
			}
			f.Release()
		}
	}
}

func TestBarcodeLayout(t *testing.T) {
	// 1280/34 = 37 with 22 pixels left over; 100/34 = 2 with 32 left over.
	for _, sz := range []struct{ w, h int }{{1280, 720}, {100, 32}, {1920, 1080}} {
		s := mustSource(t, Options{Width: sz.w, Height: sz.h, FPS: 30, Video: true})
		band, cell := testpattern.Band(sz.h), testpattern.CellWidth(sz.w)
		for _, i := range []int64{0, 1, 2, 29, 30, 31, 12345, 1<<31 + 5, 0xFFFFFFFF, 0xA5A5A5A5} {
			f := s.renderFrame(i)
			y := f.Planes[0]
			if got, ok := testpattern.DecodeBarcode(y, sz.w, sz.w, sz.h); !ok || int64(got) != i {
				t.Errorf("%dx%d: frame %d decodes as %d (guards ok %v)", sz.w, sz.h, i, got, ok)
			}
			// Exact layout, every pixel of the band.
			for r := 0; r < band; r++ {
				for x := 0; x < sz.w; x++ {
					want := byte(lumaBlack)
					if c := x / cell; c < testpattern.Cells && testpattern.CellWhite(c, uint32(i)) {
						want = lumaWhite
					}
					if y[r*sz.w+x] != want {
						t.Fatalf("%dx%d frame %d: band pixel (%d,%d) = %d, want %d", sz.w, sz.h, i, x, r, y[r*sz.w+x], want)
					}
				}
			}
			for p := 1; p < 3; p++ {
				for _, c := range f.Planes[p][:band/2*sz.w/2] {
					if c != chromaMid {
						t.Fatalf("%dx%d frame %d: band chroma %d", sz.w, sz.h, i, c)
					}
				}
			}
			f.Release()
		}
	}
}

func BenchmarkTestSourceVideo720p(b *testing.B) {
	s := mustSource(b, Options{Width: 1280, Height: 720, FPS: 30, Video: true})
	b.SetBytes(1280 * 720 * 3 / 2)
	b.ReportAllocs()
	var i int64
	for b.Loop() {
		i++
		if i%30 == 0 {
			i++ // measure ordinary frames; flashes are cheaper
		}
		s.renderFrame(i).Release()
	}
}
