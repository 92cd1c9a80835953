// Package testpattern is the one definition of what livecap's test source
// puts into a picture and a sound so that A/V sync and frame continuity can
// be measured end to end. The test source (internal/capture/testsrc) draws
// it; the analyzer (internal/analyze) and tests read it back. Nothing else
// may restate these numbers.
//
// The layout:
//
//   - rows [0, Band(h)) of every picture are a barcode of Cells cells of
//     CellWidth(w) columns: cell 0 is white, cells 1..32 carry bits 31..0
//     of the frame index (white = 1), cell 33 is black (the guards tell a
//     test-pattern picture from any other);
//   - frame i is a flash (everything below the band white, neutral chroma)
//     when IsFlash(i, fps): at media time 0 s, 1 s, 2 s, ...;
//   - the audio carries a BeepDuration tone of BeepFrequency Hz and
//     BeepAmplitude whose first sample is captured at the host instant of
//     each flash.
package testpattern

import (
	"fmt"
	"time"

	"github.com/livecap/livecap/internal/media"
)

// Levels, BT.601 video range.
const (
	LumaBlack = 16
	LumaWhite = 235
	ChromaMid = 128
	// LumaThreshold separates a black from a white cell after lossy
	// coding: halfway between the two levels, rounded up.
	LumaThreshold = (LumaBlack + LumaWhite + 1) / 2
	// FlashThreshold: a picture whose mean luma below the band is above
	// this is a flash. Ordinary frames (75% colour bars and a grey ramp)
	// average about 110.
	FlashThreshold = 200
)

// Barcode layout.
const (
	// Cells is the number of cells across the band.
	Cells = 34
	// IndexBits is the number of frame-index bits, carried by cells
	// 1..IndexBits, most significant first.
	IndexBits = 32
)

// The beep.
const (
	BeepFrequency = 1000 // Hz
	BeepAmplitude = 0.5  // of full scale
	BeepDuration  = 50 * time.Millisecond
)

// Picture limits of the pattern: the barcode needs at least two columns a
// cell, the band and the counter at least 32 rows; sizes are even so the
// chroma planes cover the picture exactly.
const (
	MinWidth  = 2 * Cells
	MinHeight = 32
	MaxWidth  = media.MaxWidth
	MaxHeight = media.MaxHeight
	MinFPS    = media.MinFPS
	MaxFPS    = media.MaxFPS
)

// CheckSize returns an error naming the size and what is allowed when the
// pattern cannot be drawn at w×h.
func CheckSize(w, h int) error {
	if w < MinWidth || w > MaxWidth || w%2 != 0 || h < MinHeight || h > MaxHeight || h%2 != 0 {
		return fmt.Errorf("size %dx%d not allowed for the test pattern: width and height must be even, width %d..%d, height %d..%d",
			w, h, MinWidth, MaxWidth, MinHeight, MaxHeight)
	}
	return nil
}

// CheckFPS returns an error when the pattern cannot run at fps.
func CheckFPS(fps int) error {
	if fps < MinFPS || fps > MaxFPS {
		return fmt.Errorf("frame rate %d not allowed for the test pattern: use an integer %d..%d", fps, MinFPS, MaxFPS)
	}
	return nil
}

// Band returns the height B of the barcode band for a picture of height h:
// max(8, h/12) rounded down to an even number (so it ends on a chroma row
// boundary).
func Band(h int) int {
	b := h / 12
	if b < 8 {
		b = 8
	}
	return b &^ 1
}

// CellWidth is the width in columns of one barcode cell of a w-wide
// picture; columns from Cells*CellWidth(w) on are black.
func CellWidth(w int) int { return w / Cells }

// CellWhite says whether cell c of the barcode of frame index is white.
func CellWhite(c int, index uint32) bool {
	switch {
	case c == 0:
		return true
	case c >= 1 && c <= IndexBits:
		return index>>(IndexBits-c)&1 == 1
	}
	return false
}

// IsFlash says whether frame i of a fps-frames-per-second pattern is a
// flash.
func IsFlash(i int64, fps int) bool { return i%int64(fps) == 0 }

// DrawBarcode writes the barcode of index into the luma rows [0, Band(h))
// of a w×h plane with the given stride. Chroma is the caller's (neutral).
func DrawBarcode(y []byte, stride, w, h int, index uint32) {
	band, cell := Band(h), CellWidth(w)
	row := y[:w]
	for c := 0; c < Cells; c++ {
		v := byte(LumaBlack)
		if CellWhite(c, index) {
			v = LumaWhite
		}
		for x := c * cell; x < (c+1)*cell; x++ {
			row[x] = v
		}
	}
	for x := Cells * cell; x < w; x++ {
		row[x] = LumaBlack
	}
	for r := 1; r < band; r++ {
		copy(y[r*stride:r*stride+w], row)
	}
}

// Index turns the cells as read (white[c] for cell c) into the frame
// index; ok is false when the guard cells do not read as white and black,
// i.e. the picture is not the test pattern.
func Index(white *[Cells]bool) (index uint32, ok bool) {
	if !white[0] || white[Cells-1] {
		return 0, false
	}
	for c := 1; c <= IndexBits; c++ {
		index <<= 1
		if white[c] {
			index |= 1
		}
	}
	return index, true
}

// DecodeBarcode reads the frame index from the luma plane of a w×h
// picture of the pattern at its own size (no scaling), after any lossy
// coding: it averages the middle half of each cell over the middle half of
// the band and compares with LumaThreshold.
func DecodeBarcode(y []byte, stride, w, h int) (index uint32, ok bool) {
	band, cell := Band(h), CellWidth(w)
	if cell < 1 || band > h || len(y) < (band-1)*stride+w {
		return 0, false
	}
	r0, r1 := band/4, band-band/4
	x0, x1 := cell/4, cell-cell/4
	if x1 <= x0 {
		x1 = x0 + 1
	}
	var white [Cells]bool
	for c := range white {
		var sum, n int
		for r := r0; r < r1; r++ {
			for _, p := range y[r*stride+c*cell+x0 : r*stride+c*cell+x1] {
				sum += int(p)
			}
			n += x1 - x0
		}
		white[c] = sum >= LumaThreshold*n
	}
	return Index(&white)
}

// BeepExpr is an FFmpeg aevalsrc expression of the pattern's beeps, the
// first starting at phase seconds and one every second after it; tests
// and benchmarks make pattern audio with it.
func BeepExpr(phase float64) string {
	return fmt.Sprintf("%g*sin(2*PI*%d*(t-(%.6f)))*lt(mod(t-(%.6f)+1000\\,1)\\,%g)",
		BeepAmplitude, BeepFrequency, phase, phase, BeepDuration.Seconds())
}
