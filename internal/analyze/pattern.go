package analyze

import (
	"math"

	"github.com/livecap/livecap/internal/testpattern"
)

// frameReader decodes one scaled-down gray picture. The geometry of the
// band and cells is defined on the source picture (srcW x srcH); the
// decoder sees the picture scaled to w x h, so every region is mapped and
// only its central part is averaged, away from edges blurred by scaling
// and compression.
type frameReader struct {
	w, h int
	// cells[i] = [x0, x1) in scaled columns; rows [y0, y1) of the band.
	cells      [testpattern.Cells][2]int
	y0, y1     int
	belowStart int // first scaled row below the band (plus a margin)
}

func newFrameReader(srcW, srcH, w, h int) *frameReader {
	r := &frameReader{w: w, h: h}
	band := float64(testpattern.Band(srcH)) * float64(h) / float64(srcH)
	r.y0 = int(band * 0.25)
	r.y1 = int(math.Ceil(band * 0.75))
	if r.y1 <= r.y0 {
		r.y1 = r.y0 + 1
	}
	cell := float64(testpattern.CellWidth(srcW)) * float64(w) / float64(srcW)
	for i := range r.cells {
		x0 := int(math.Ceil((float64(i) + 0.25) * cell))
		x1 := int((float64(i) + 0.75) * cell)
		if x1 <= x0 {
			x0 = int((float64(i) + 0.5) * cell)
			x1 = x0 + 1
		}
		r.cells[i] = [2]int{min(x0, w-1), min(max(x1, x0+1), w)}
	}
	r.belowStart = min(int(math.Ceil(band))+1, h-1)
	return r
}

type frameInfo struct {
	num      uint32
	readable bool
	flash    bool
}

func (r *frameReader) read(pix []byte) frameInfo {
	var fi frameInfo
	var white [testpattern.Cells]bool
	for i, c := range r.cells {
		sum, n := 0, 0
		for y := r.y0; y < r.y1; y++ {
			row := pix[y*r.w : (y+1)*r.w]
			for x := c[0]; x < c[1]; x++ {
				sum += int(row[x])
				n++
			}
		}
		white[i] = sum >= testpattern.LumaThreshold*n
	}
	fi.num, fi.readable = testpattern.Index(&white)
	sum := 0
	below := pix[r.belowStart*r.w : r.h*r.w]
	for _, v := range below {
		sum += int(v)
	}
	fi.flash = len(below) > 0 && sum > testpattern.FlashThreshold*len(below)
	return fi
}
