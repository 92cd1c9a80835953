package testsrc

import (
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/livecap/livecap/internal/media"
	"github.com/livecap/livecap/internal/testpattern"
)

const (
	lumaBlack = testpattern.LumaBlack
	lumaWhite = testpattern.LumaWhite
	chromaMid = testpattern.ChromaMid
)

// BT.601 75% colour bars (Y, U, V): white, yellow, cyan, green, magenta,
// red, blue. Their mean luma (~110) keeps ordinary frames far below the
// flash detector's threshold.
var bars = [7][3]byte{
	{180, 128, 128}, {162, 44, 142}, {131, 156, 44}, {112, 72, 58},
	{84, 184, 198}, {65, 100, 212}, {35, 212, 114},
}

func (s *Source) initVideo() {
	w, h := s.o.Width, s.o.Height
	s.band = testpattern.Band(h)
	s.barsEnd = (s.band + (h-s.band)*2/3) &^ 1
	// Patterns are two periods wide so a scrolled row is one copy from
	// offset off.
	s.barsY = make([]byte, 2*w)
	s.rampY = make([]byte, 2*w)
	s.barsU = make([]byte, w)
	s.barsV = make([]byte, w)
	for x := 0; x < 2*w; x++ {
		b := (x % w) * len(bars) / w
		s.barsY[x] = bars[b][0]
		// A luma ramp, black to 75% grey and back, for smooth gradients.
		p := x % w
		if p >= w/2 {
			p = w - p
		}
		s.rampY[x] = byte(lumaBlack + (180-lumaBlack)*p/(w/2))
	}
	for x := 0; x < w; x++ {
		b := ((2 * x) % w) * len(bars) / w
		s.barsU[x] = bars[b][1]
		s.barsV[x] = bars[b][2]
	}
	s.scale = max(1, min(h/60, w/(10*glyphAdvance+2)))
	s.pool.size = w*h + 2*(w/2)*(h/2)
}

// framePool recycles frame memory once the consumer calls Release.
type framePool struct {
	mu   sync.Mutex
	free []*frameBuf
	size int
}

type frameBuf struct {
	data    []byte
	frame   media.VideoFrame
	pool    *framePool
	inUse   atomic.Bool
	release func()
}

// maxPooled bounds the memory kept for reuse; an encoder holding more
// frames than this just costs allocations.
const maxPooled = 8

func (p *framePool) get() *frameBuf {
	p.mu.Lock()
	if n := len(p.free); n > 0 {
		b := p.free[n-1]
		p.free = p.free[:n-1]
		p.mu.Unlock()
		b.inUse.Store(true)
		return b
	}
	p.mu.Unlock()
	b := &frameBuf{data: make([]byte, p.size), pool: p}
	b.release = b.put // one closure per buffer, not per frame
	b.inUse.Store(true)
	return b
}

func (b *frameBuf) put() {
	if !b.inUse.CompareAndSwap(true, false) {
		return // released twice: ignore rather than hand it out twice
	}
	p := b.pool
	p.mu.Lock()
	if len(p.free) < maxPooled {
		p.free = append(p.free, b)
	}
	p.mu.Unlock()
}

// renderFrame draws frame i into a pooled buffer.
func (s *Source) renderFrame(i int64) *media.VideoFrame {
	w, h, fps := s.o.Width, s.o.Height, int64(s.o.FPS)
	cw, ch := w/2, h/2
	fb := s.pool.get()
	y := fb.data[:w*h]
	u := fb.data[w*h : w*h+cw*ch]
	v := fb.data[w*h+cw*ch:]

	s.drawBarcode(y, u, v, i)
	band := s.band
	if testpattern.IsFlash(i, s.o.FPS) {
		// Flash: everything below the band white, neutral chroma.
		fill(y[band*w:], lumaWhite)
		fill(u[band/2*cw:], chromaMid)
		fill(v[band/2*cw:], chromaMid)
	} else {
		// Bars scroll left by a quarter picture per second; the ramp
		// scrolls right at the same speed. Offsets are even so luma and
		// chroma stay aligned.
		off := int(i*int64(w)/(4*fps)) % w &^ 1
		for r := band; r < s.barsEnd; r++ {
			copy(y[r*w:(r+1)*w], s.barsY[off:off+w])
		}
		roff := (w - off) % w
		for r := s.barsEnd; r < h; r++ {
			copy(y[r*w:(r+1)*w], s.rampY[roff:roff+w])
		}
		coff := off / 2
		for r := band / 2; r < s.barsEnd/2; r++ {
			copy(u[r*cw:(r+1)*cw], s.barsU[coff:coff+cw])
			copy(v[r*cw:(r+1)*cw], s.barsV[coff:coff+cw])
		}
		fill(u[s.barsEnd/2*cw:], chromaMid)
		fill(v[s.barsEnd/2*cw:], chromaMid)
		s.drawBox(y, u, v, i)
		s.drawCounter(y, u, v, i)
	}

	f := &fb.frame
	*f = media.VideoFrame{
		PTS:     s.framePTS(i),
		Width:   w,
		Height:  h,
		Format:  media.I420,
		Planes:  [3][]byte{y, u, v},
		Strides: [3]int{w, cw, cw},
		Release: fb.release,
	}
	return f
}

// drawBarcode writes the machine-readable frame index into rows [0, band).
func (s *Source) drawBarcode(y, u, v []byte, i int64) {
	cw := s.o.Width / 2
	testpattern.DrawBarcode(y, s.o.Width, s.o.Width, s.o.Height, uint32(i))
	fill(u[:s.band/2*cw], chromaMid)
	fill(v[:s.band/2*cw], chromaMid)
}

// drawBox draws a coloured square bouncing around the area below the band.
func (s *Source) drawBox(y, u, v []byte, i int64) {
	w, h, fps := s.o.Width, s.o.Height, int64(s.o.FPS)
	size := max(2, (h/6)&^1)
	rangeX := int64(w - size)
	rangeY := int64(h - s.band - size)
	// Triangle waves: across in 3 s, down in 2 s.
	px := int(bounce(i*2*rangeX/(3*fps), rangeX)) &^ 1
	py := (s.band + int(bounce(i*2*rangeY/(2*fps), rangeY))) &^ 1
	if py < s.band {
		py = s.band
	}
	// A black frame keeps the box visible over a bar of its own colour;
	// the colour changes every second.
	hue := bars[1+(i/fps)%6]
	fillRect(y, u, v, w, px, py, px+size, py+size, lumaBlack, chromaMid, chromaMid)
	bw := max(2, (size/10)&^1)
	fillRect(y, u, v, w, px+bw, py+bw, px+size-bw, py+size-bw, hue[0], hue[1], hue[2])
}

// fillRect paints [x0,x1)×[y0,y1) of an I420 picture of width w; the
// corners must be even so luma and chroma cover the same area.
func fillRect(y, u, v []byte, w, x0, y0, x1, y1 int, cy, cu, cv byte) {
	if x1 <= x0 || y1 <= y0 {
		return
	}
	for r := y0; r < y1; r++ {
		fill(y[r*w+x0:r*w+x1], cy)
	}
	cw := w / 2
	for r := y0 / 2; r < y1/2; r++ {
		fill(u[r*cw+x0/2:r*cw+x1/2], cu)
		fill(v[r*cw+x0/2:r*cw+x1/2], cv)
	}
}

// bounce folds t into a triangle wave 0..n..0.
func bounce(t, n int64) int64 {
	if n <= 0 {
		return 0
	}
	t %= 2 * n
	if t > n {
		t = 2*n - t
	}
	return t
}

// drawCounter burns in the frame number (large) and the media time
// HH:MM:SS.ff (half size) on a black plate, for people looking at the
// picture; the barcode is for machines.
func (s *Source) drawCounter(y, u, v []byte, i int64) {
	w, h, fps := s.o.Width, s.o.Height, int64(s.o.FPS)
	var buf [24]byte
	num := strconv.AppendInt(append(buf[:0], '#'), i, 10)
	sec := i / fps
	var tb [16]byte
	tc := append(tb[:0],
		byte('0'+sec/36000%10), byte('0'+sec/3600%10), ':',
		byte('0'+sec/600%6), byte('0'+sec/60%10), ':',
		byte('0'+sec/10%6), byte('0'+sec%10), '.',
		byte('0'+i%fps/10%10), byte('0'+i%fps%10))

	big, small := s.scale, max(1, s.scale/2)
	pad := big
	tw := max(textWidth(num, big), textWidth(tc, small))
	th := glyphH*big + pad + glyphH*small
	// Plate in the lower left, inside the bars, even-aligned for chroma.
	x0 := (w / 16) &^ 1
	y0 := max(s.band+2, (s.band+(h-s.band)/5)) &^ 1
	x1 := min(w, x0+tw+2*pad+1) &^ 1
	y1 := min(h, y0+th+2*pad+1) &^ 1
	fillRect(y, u, v, w, x0, y0, x1, y1, lumaBlack, chromaMid, chromaMid)
	drawText(y, w, x1, y1, x0+pad, y0+pad, big, num, lumaWhite)
	drawText(y, w, x1, y1, x0+pad, y0+pad+glyphH*big+pad, small, tc, lumaWhite)
}
