package testsrc

import "sync"

// A 5x7 bitmap font for the test source's burned-in counters. Only the
// glyphs the counters use are defined; anything else draws as a blank.
// Each glyph is 7 rows of 5 bits, most significant bit on the left.

const (
	glyphW = 5
	glyphH = 7
	// glyphAdvance is the horizontal pitch in font pixels (one column of
	// spacing between glyphs).
	glyphAdvance = glyphW + 1
)

var font5x7 = map[byte][glyphH]uint8{
	'0': {0x0E, 0x11, 0x13, 0x15, 0x19, 0x11, 0x0E},
	'1': {0x04, 0x0C, 0x04, 0x04, 0x04, 0x04, 0x0E},
	'2': {0x0E, 0x11, 0x01, 0x02, 0x04, 0x08, 0x1F},
	'3': {0x1F, 0x02, 0x04, 0x02, 0x01, 0x11, 0x0E},
	'4': {0x02, 0x06, 0x0A, 0x12, 0x1F, 0x02, 0x02},
	'5': {0x1F, 0x10, 0x1E, 0x01, 0x01, 0x11, 0x0E},
	'6': {0x06, 0x08, 0x10, 0x1E, 0x11, 0x11, 0x0E},
	'7': {0x1F, 0x01, 0x02, 0x04, 0x08, 0x08, 0x08},
	'8': {0x0E, 0x11, 0x11, 0x0E, 0x11, 0x11, 0x0E},
	'9': {0x0E, 0x11, 0x11, 0x0F, 0x01, 0x02, 0x0C},
	':': {0x00, 0x0C, 0x0C, 0x00, 0x0C, 0x0C, 0x00},
	'.': {0x00, 0x00, 0x00, 0x00, 0x00, 0x0C, 0x0C},
	'#': {0x0A, 0x0A, 0x1F, 0x0A, 0x1F, 0x0A, 0x0A},
}

// glyphSpans returns font5x7 turned into horizontal runs per glyph row, so
// that drawing a scaled glyph is a handful of row fills instead of a
// per-pixel loop over the bitmap. Built on first use: a run without the
// test source's video never pays for it.
type glyphSpan struct{ x0, x1 uint8 } // [x0, x1) in font pixels

var glyphSpans = sync.OnceValue(func() map[byte][glyphH][]glyphSpan {
	m := make(map[byte][glyphH][]glyphSpan, len(font5x7))
	for c, rows := range font5x7 {
		var g [glyphH][]glyphSpan
		for r, bits := range rows {
			for x := 0; x < glyphW; {
				if bits&(1<<(glyphW-1-x)) == 0 {
					x++
					continue
				}
				x0 := x
				for x < glyphW && bits&(1<<(glyphW-1-x)) != 0 {
					x++
				}
				g[r] = append(g[r], glyphSpan{uint8(x0), uint8(x)})
			}
		}
		m[c] = g
	}
	return m
})

// textWidth is the width in pixels of s drawn at scale (no trailing gap).
func textWidth(s []byte, scale int) int {
	if len(s) == 0 {
		return 0
	}
	return (len(s)*glyphAdvance - 1) * scale
}

// drawText draws s into a luma plane with its top-left corner at (x, y),
// each font pixel a scale×scale block of value. Pixels outside the plane
// [0,w)×[0,h) are clipped.
func drawText(plane []byte, stride, w, h, x, y, scale int, s []byte, value byte) {
	spans := glyphSpans()
	for i := 0; i < len(s); i++ {
		g, ok := spans[s[i]]
		if !ok {
			continue
		}
		gx := x + i*glyphAdvance*scale
		for r := 0; r < glyphH; r++ {
			for _, sp := range g[r] {
				x0 := clamp(gx+int(sp.x0)*scale, 0, w)
				x1 := clamp(gx+int(sp.x1)*scale, 0, w)
				if x0 >= x1 {
					continue
				}
				y0 := clamp(y+r*scale, 0, h)
				y1 := clamp(y+(r+1)*scale, 0, h)
				for yy := y0; yy < y1; yy++ {
					fill(plane[yy*stride+x0:yy*stride+x1], value)
				}
			}
		}
	}
}

func clamp(v, lo, hi int) int {
	if v < lo {
		return lo
	}
	if v > hi {
		return hi
	}
	return v
}

// fill sets every byte of b to v. Doubling copies keep it near memset speed
// (the compiler only turns a plain loop into memclr for zero).
func fill(b []byte, v byte) {
	if len(b) == 0 {
		return
	}
	b[0] = v
	for n := 1; n < len(b); n *= 2 {
		copy(b[n:], b[:n])
	}
}
