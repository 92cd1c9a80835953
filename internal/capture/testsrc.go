package capture

import (
	"context"
	"fmt"
	"math"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/livecap/livecap/internal/media"
)

// The test source ("virtual camera") produces a picture and a sound that
// make A/V sync measurable end to end:
//
//   - every frame carries its index twice: as a large human-readable
//     counter and as a 34-cell barcode in the top band (see BarcodeBand);
//   - frame i is a full white flash when i%FPS == 0, i.e. at t = 0 s, 1 s, …;
//   - the audio carries a 50 ms, 1 kHz beep whose first sample is captured
//     at the same host instant as each flash.
//
// The analyzer (livecap analyze) finds flashes and beep onsets in what the
// pipeline wrote and reports their offset. Its reading of the barcode relies
// on the exact layout documented on BarcodeBand and BarcodeCells.

// Luma and chroma levels (BT.601 video range).
const (
	lumaBlack = 16
	lumaWhite = 235
	chromaMid = 128

	// BarcodeCells is the number of cells across the barcode band: cell 0
	// is always white, cells 1..32 carry bits 31..0 of the frame index
	// (white = 1), cell 33 is always black.
	BarcodeCells = 34

	// BeepFrequency, BeepAmplitude and BeepDuration describe the tone that
	// starts at each flash.
	BeepFrequency = 1000
	BeepAmplitude = 0.5
	BeepDuration  = 50 * time.Millisecond

	// audioBufferDur is the length of each audio buffer, counted in device
	// samples (what a real driver's IO buffer holds).
	audioBufferDur = 10 * time.Millisecond

	// maxAudioBacklog: in real time, when the consumer stalls for longer
	// than this, the emulated device's ring buffer overruns and the stale
	// audio is dropped, as a real microphone's would be.
	maxAudioBacklog = time.Second
)

// BarcodeBand returns the height B of the barcode band for a picture of
// height h: rows [0, B) carry the frame index. B = max(8, h/12) rounded
// down to an even number (so it ends on a chroma row boundary).
func BarcodeBand(h int) int {
	b := h / 12
	if b < 8 {
		b = 8
	}
	return b &^ 1
}

// DecodeBarcode reads the frame index from the luma plane of a w×h picture
// made by the test source, after any scaling-free lossy coding: it averages
// the middle half of each cell over the middle half of the band and
// thresholds halfway between black and white. ok is false when the guard
// cells (0 white, 33 black) do not read as such, e.g. on a picture that is
// not from the test source.
func DecodeBarcode(y []byte, stride, w, h int) (index uint32, ok bool) {
	band, cell := BarcodeBand(h), w/BarcodeCells
	if cell < 1 || band > h || len(y) < (band-1)*stride+w {
		return 0, false
	}
	r0, r1 := band/4, band-band/4
	x0, x1 := cell/4, cell-cell/4
	if x1 <= x0 {
		x1 = x0 + 1
	}
	white := func(c int) bool {
		var sum, n int
		for r := r0; r < r1; r++ {
			for _, p := range y[r*stride+c*cell+x0 : r*stride+c*cell+x1] {
				sum += int(p)
			}
			n += x1 - x0
		}
		return 2*sum > (lumaBlack+lumaWhite)*n
	}
	if !white(0) || white(BarcodeCells-1) {
		return 0, false
	}
	for c := 1; c <= 32; c++ {
		index <<= 1
		if white(c) {
			index |= 1
		}
	}
	return index, true
}

// TestOptions configures the test source. Zero values of the format fields
// take the defaults: 1280x720, 30 fps, 48000 Hz, mono.
type TestOptions struct {
	Width, Height, FPS   int // video; even size, FPS integer 1..120
	SampleRate, Channels int // audio: sample rate (a multiple of 100), 1 or 2 channels
	Video, Audio         bool
	// Realtime paces delivery on Clock; false is fast mode: as fast as the
	// callbacks return, on a virtual timeline.
	Realtime bool
	// SkewPPM is the emulated audio device clock error against the host
	// clock: the device produces SampleRate*(1+SkewPPM/1e6) samples per
	// host second while labelling them SampleRate. Within ±10000.
	SkewPPM float64
	// Duration stops the source after this much media time (0: until the
	// context is done).
	Duration time.Duration
	// Clock is the session clock (time since the base instant). In real
	// time it paces delivery; nil means a host clock whose base is the
	// start of Run. In fast mode it is not read; if it has a
	// Set(time.Duration) method (clock.Virtual) it is advanced to each
	// item's delivery instant just before the callback, so that whatever
	// stamps times from it sees the timeline a real-time run would.
	Clock Clock
}

// TestSource is the synthetic camera and microphone. It implements Source.
type TestSource struct {
	o TestOptions

	// Video geometry and precomputed rows.
	band         int // barcode band height (rows)
	cell         int // barcode cell width
	barsEnd      int // first row below the colour bars (even)
	barsY        []byte
	barsU, barsV []byte
	rampY        []byte
	scale        int // counter font scale
	pool         framePool

	// Audio.
	effRate   float64   // device samples per host second
	bufFrames int       // device sample frames per buffer
	beep      []float32 // one beep, mono, from its onset

	skipped atomic.Uint64
}

// NewTestSource validates o and precomputes what every frame reuses.
func NewTestSource(o TestOptions) (*TestSource, error) {
	if !o.Video && !o.Audio {
		return nil, fmt.Errorf("test source: neither video nor audio requested; enable at least one")
	}
	if o.Width == 0 && o.Height == 0 {
		o.Width, o.Height = 1280, 720
	}
	if o.FPS == 0 {
		o.FPS = 30
	}
	if o.SampleRate == 0 {
		o.SampleRate = 48000
	}
	if o.Channels == 0 {
		o.Channels = 1
	}
	if o.Video {
		if o.Width < 2*BarcodeCells || o.Width > 7680 || o.Width%2 != 0 ||
			o.Height < 32 || o.Height > 4320 || o.Height%2 != 0 {
			return nil, fmt.Errorf("test source: size %dx%d not allowed: width and height must be even, width %d..7680, height 32..4320",
				o.Width, o.Height, 2*BarcodeCells)
		}
		if o.FPS < 1 || o.FPS > 120 {
			return nil, fmt.Errorf("test source: frame rate %d not allowed: use an integer 1..120", o.FPS)
		}
	}
	if o.Audio {
		if o.SampleRate < 8000 || o.SampleRate > 192000 || o.SampleRate%100 != 0 {
			return nil, fmt.Errorf("test source: sample rate %d not allowed: use 8000..192000 Hz, a multiple of 100 (48000 is usual)", o.SampleRate)
		}
		if o.Channels != 1 && o.Channels != 2 {
			return nil, fmt.Errorf("test source: %d audio channels not allowed: use 1 or 2", o.Channels)
		}
		if math.IsNaN(o.SkewPPM) || math.Abs(o.SkewPPM) > 10000 {
			return nil, fmt.Errorf("test source: audio skew %v ppm not allowed: use -10000..10000", o.SkewPPM)
		}
	}
	if o.Duration < 0 {
		return nil, fmt.Errorf("test source: duration %v not allowed: use 0 (no limit) or more", o.Duration)
	}
	s := &TestSource{o: o}
	if o.Video {
		s.initVideo()
	}
	if o.Audio {
		s.initAudio()
	}
	return s, nil
}

// Video implements Source.
func (s *TestSource) Video() (w, h, fps int, ok bool) {
	return s.o.Width, s.o.Height, s.o.FPS, s.o.Video
}

// Audio implements Source.
func (s *TestSource) Audio() (sampleRate, channels int, ok bool) {
	return s.o.SampleRate, s.o.Channels, s.o.Audio
}

// Skipped returns how many video frames real-time pacing dropped because
// the consumer fell more than two frame intervals behind.
func (s *TestSource) Skipped() uint64 { return s.skipped.Load() }

// TestDevices lists the test source as `livecap devices` shows it.
func TestDevices() []Device {
	return []Device{
		{Kind: "video", Index: 0, Name: "livecap test pattern (flash + frame barcode)", ID: "test",
			Formats: []string{"any even WxH from 68x32 to 7680x4320", "1..120 fps"}},
		{Kind: "audio", Index: 0, Name: "livecap test tone (1 kHz beep at each flash)", ID: "test",
			Formats: []string{"48000 Hz mono", "48000 Hz stereo"}},
	}
}

// framePTS is the presentation time of frame i, computed from the index so
// that no rounding accumulates over hours.
func (s *TestSource) framePTS(i int64) time.Duration {
	return time.Duration(i) * time.Second / time.Duration(s.o.FPS)
}

// sampleTime is the host instant at which device sample n is captured.
func (s *TestSource) sampleTime(n int64) time.Duration {
	return time.Duration(math.Round(float64(n) * 1e9 / s.effRate))
}

// limits returns how many frames and device samples fall before Duration
// (0: unlimited).
func (s *TestSource) limits() (frames, samples int64) {
	if s.o.Duration <= 0 {
		return 0, 0
	}
	d := int64(s.o.Duration)
	// Frame i is included when i/FPS < Duration.
	frames = (d*int64(s.o.FPS) + int64(time.Second) - 1) / int64(time.Second)
	// Sample n is included when n/effRate < Duration.
	samples = int64(math.Ceil(s.o.Duration.Seconds() * s.effRate))
	return frames, samples
}

// Run implements Source. A nil callback (or a kind not enabled) means that
// kind is not produced. It returns nil when Duration is reached or ctx is
// done.
func (s *TestSource) Run(ctx context.Context, v VideoFunc, a AudioFunc) error {
	if !s.o.Video {
		v = nil
	}
	if !s.o.Audio {
		a = nil
	}
	if v == nil && a == nil {
		return nil
	}
	if !s.o.Realtime {
		s.runFast(ctx, v, a)
		return nil
	}
	clk := s.o.Clock
	if clk == nil {
		clk = hostClock{time.Now()}
	}
	var wg sync.WaitGroup
	if v != nil {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s.runVideoRealtime(ctx, clk, v)
		}()
	}
	if a != nil {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s.runAudioRealtime(ctx, clk, a)
		}()
	}
	wg.Wait()
	return nil
}

type hostClock struct{ base time.Time }

func (h hostClock) Now() time.Duration { return time.Since(h.base) }

// runFast delivers video and audio from one goroutine in the order a
// real-time run would (each audio buffer at the host instant of its last
// sample), without waiting.
func (s *TestSource) runFast(ctx context.Context, v VideoFunc, a AudioFunc) {
	setter, _ := s.o.Clock.(interface{ Set(time.Duration) })
	frameLimit, sampleLimit := s.limits()
	var (
		fi int64 // next frame
		bi int64 // next audio buffer
	)
	for ctx.Err() == nil {
		haveV := v != nil && (frameLimit == 0 || fi < frameLimit)
		first, end := bi*int64(s.bufFrames), (bi+1)*int64(s.bufFrames)
		if sampleLimit > 0 && end > sampleLimit {
			end = sampleLimit
		}
		haveA := a != nil && end > first
		if !haveV && !haveA {
			return
		}
		var tv, ta time.Duration
		if haveV {
			tv = s.framePTS(fi)
		}
		if haveA {
			ta = s.sampleTime(end - 1)
		}
		if haveV && (!haveA || tv <= ta) {
			if setter != nil {
				setter.Set(tv)
			}
			v(s.renderFrame(fi))
			fi++
		} else {
			if setter != nil {
				setter.Set(ta)
			}
			a(s.audioBuffer(first, end))
			bi++
		}
	}
}

// sleepUntil waits until clk reaches t; false when ctx ended first.
func sleepUntil(ctx context.Context, clk Clock, t time.Duration, timer *time.Timer) bool {
	for {
		now := clk.Now()
		if now >= t {
			return true
		}
		timer.Reset(t - now)
		select {
		case <-ctx.Done():
			timer.Stop()
			return false
		case <-timer.C:
		}
	}
}

func (s *TestSource) runVideoRealtime(ctx context.Context, clk Clock, v VideoFunc) {
	frameLimit, _ := s.limits()
	interval := time.Second / time.Duration(s.o.FPS)
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for i := int64(0); frameLimit == 0 || i < frameLimit; i++ {
		t := s.framePTS(i)
		if !sleepUntil(ctx, clk, t, timer) {
			return
		}
		// A real camera does not queue frames for a consumer that fell
		// behind: skip to the first frame at most two intervals late, so
		// latency stays bounded and the counter shows the gap.
		if now := clk.Now(); now-t > 2*interval {
			// Smallest j with now - t(j) <= 2 intervals.
			j := ((now-2*interval)*time.Duration(s.o.FPS) + time.Second - 1) / time.Second
			if int64(j) > i {
				s.skipped.Add(uint64(int64(j) - i))
				i = int64(j) - 1
				continue
			}
		}
		if ctx.Err() != nil {
			return
		}
		v(s.renderFrame(i))
	}
}

func (s *TestSource) runAudioRealtime(ctx context.Context, clk Clock, a AudioFunc) {
	_, sampleLimit := s.limits()
	bf := int64(s.bufFrames)
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	// A microphone opened late (the session began before Run) starts
	// capturing now, not at the base instant: begin with the buffer that
	// contains the current instant.
	bi := int64(clk.Now().Seconds()*s.effRate) / bf
	for {
		first, end := bi*bf, (bi+1)*bf
		if sampleLimit > 0 && end > sampleLimit {
			end = sampleLimit
		}
		if end <= first {
			return
		}
		if !sleepUntil(ctx, clk, s.sampleTime(end-1), timer) {
			return
		}
		if now := clk.Now(); now-s.sampleTime(end-1) > maxAudioBacklog {
			bi = int64(now.Seconds()*s.effRate) / bf
			continue
		}
		if ctx.Err() != nil {
			return
		}
		a(s.audioBuffer(first, end))
		bi++
	}
}

// ---- audio ----

func (s *TestSource) initAudio() {
	s.effRate = float64(s.o.SampleRate) * (1 + s.o.SkewPPM*1e-6)
	s.bufFrames = int(int64(s.o.SampleRate) * int64(audioBufferDur) / int64(time.Second))
	// The beep is defined in device samples: the device believes it runs
	// at SampleRate, so the tone it records lasts 50 ms of its own clock.
	n := int(int64(s.o.SampleRate) * int64(BeepDuration) / int64(time.Second))
	s.beep = make([]float32, n)
	for j := range s.beep {
		s.beep[j] = float32(BeepAmplitude * math.Sin(2*math.Pi*BeepFrequency*float64(j)/float64(s.o.SampleRate)))
	}
}

// beepOnset is the device sample at which the beep for the flash at host
// time k seconds begins: the world's event at k s, as this device samples it.
func (s *TestSource) beepOnset(k int64) int64 {
	return int64(math.Round(float64(k) * s.effRate))
}

// audioBuffer renders device samples [first, end). Each buffer is freshly
// allocated: AudioBuffer has no release hook, and consumers (the drift
// aligner) may keep it.
func (s *TestSource) audioBuffer(first, end int64) *media.AudioBuffer {
	ch := s.o.Channels
	out := make([]float32, int(end-first)*ch)
	// Flashes whose beep can overlap this buffer: the one at or before
	// the first sample and any that start inside it.
	k := int64(float64(first) / s.effRate)
	if s.beepOnset(k) > first && k > 0 {
		k--
	}
	for ; ; k++ {
		on := s.beepOnset(k)
		if on >= end {
			break
		}
		lo, hi := max(on, first), min(on+int64(len(s.beep)), end)
		for n := lo; n < hi; n++ {
			x := s.beep[n-on]
			for c := 0; c < ch; c++ {
				out[int(n-first)*ch+c] = x
			}
		}
	}
	return &media.AudioBuffer{
		PTS:        s.sampleTime(first),
		SampleRate: s.o.SampleRate,
		Channels:   ch,
		Samples:    out,
	}
}

// ---- video ----

// BT.601 75% colour bars (Y, U, V): white, yellow, cyan, green, magenta,
// red, blue. Their mean luma (~110) keeps ordinary frames far below the
// flash detector's threshold.
var bars = [7][3]byte{
	{180, 128, 128}, {162, 44, 142}, {131, 156, 44}, {112, 72, 58},
	{84, 184, 198}, {65, 100, 212}, {35, 212, 114},
}

func (s *TestSource) initVideo() {
	w, h := s.o.Width, s.o.Height
	s.band = BarcodeBand(h)
	s.cell = w / BarcodeCells
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
func (s *TestSource) renderFrame(i int64) *media.VideoFrame {
	w, h, fps := s.o.Width, s.o.Height, int64(s.o.FPS)
	cw, ch := w/2, h/2
	fb := s.pool.get()
	y := fb.data[:w*h]
	u := fb.data[w*h : w*h+cw*ch]
	v := fb.data[w*h+cw*ch:]

	s.drawBarcode(y, u, v, i)
	band := s.band
	if i%fps == 0 {
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
func (s *TestSource) drawBarcode(y, u, v []byte, i int64) {
	w, cw := s.o.Width, s.o.Width/2
	row := y[:w]
	for c := 0; c < BarcodeCells; c++ {
		val := byte(lumaBlack)
		switch {
		case c == 0:
			val = lumaWhite
		case c == BarcodeCells-1:
		case uint32(i)>>(32-c)&1 == 1:
			val = lumaWhite
		}
		fill(row[c*s.cell:(c+1)*s.cell], val)
	}
	fill(row[BarcodeCells*s.cell:], lumaBlack)
	for r := 1; r < s.band; r++ {
		copy(y[r*w:(r+1)*w], row)
	}
	fill(u[:s.band/2*cw], chromaMid)
	fill(v[:s.band/2*cw], chromaMid)
}

// drawBox draws a coloured square bouncing around the area below the band.
func (s *TestSource) drawBox(y, u, v []byte, i int64) {
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
func (s *TestSource) drawCounter(y, u, v []byte, i int64) {
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
