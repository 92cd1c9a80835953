package clock

import (
	"math"
	"sync"
	"time"

	"github.com/livecap/livecap/internal/media"
)

// AudioAligner turns audio as a device delivers it (each buffer stamped
// with the host-clock time of its first sample, but holding as many
// samples as the DEVICE clock produced) into a continuous stream whose
// sample count follows the HOST clock.
//
// Why resample instead of only re-stamping buffers: downstream, time is the
// sample count. An AAC frame is always 1024 samples and its duration is
// 1024/sampleRate; MP4, FLV and MPEG-TS audio timestamps advance by that
// fixed duration; and players use the audio output, which plays samples at
// the nominal rate, as their master clock. A device running 300 ppm fast
// delivers 1.08 s of extra samples per hour: with new timestamps but the
// same samples, either the timestamps overlap (players then ignore them or
// drop audio) or they jump, and in every case the audio plays 1 s late
// after an hour. The only way to keep both continuity and sync is to make
// the number of samples match the host clock: resample by the measured
// device/host rate ratio. The correction is a few hundred ppm, a pitch
// change far below audibility (1 cent is 578 ppm), done with a windowed-sinc
// interpolator so it adds no clicks, zipper noise or aliasing.
//
// The ratio is estimated by an exponentially weighted least-squares line
// through (input sample count, buffer PTS) pairs: callback jitter of a few
// ms averages out, and the fit (not the raw PTS) drives a gentle
// correction of the output position, so jitter never modulates the pitch.
//
// Discontinuities larger than 100 ms (a device hiccup that lost samples, or
// input running ahead of the host clock) are not stretched away: the
// aligner inserts silence or drops input once, re-anchors, and counts it in
// Stats so the caller can log it.
type AudioAligner struct {
	sr, ch int

	started bool
	pts0    time.Duration // PTS of the first input sample: origin of the fit's y
	// Exponentially weighted sums of the fit of host time y (s after
	// pts0) against input position x (s of nominal samples).
	w, sx, sy, sxx, sxy float64
	lastX, firstX       float64 // newest x, and oldest x still weighing
	inCount             int64   // input samples accepted (index of the next)
	skipIn              int64   // input samples still to drop

	// Resampler state: the next output sample (index outN) carries the
	// input content at position posInt+posFrac.
	outN    int64
	posInt  int64
	posFrac float64
	step    float64 // input samples per output sample
	// hist holds input from global sample index histStart on (zeros
	// before the first sample), interleaved.
	hist      []float32
	histStart int64

	sinc []float32 // sincTable()

	stats   AlignStats
	lastErr float64
	lastPPM float64
}

// AlignStats reports what the aligner did.
type AlignStats struct {
	// RatioPPM is the measured device clock error: +300 means the device
	// delivers 300 ppm more samples than the host clock allows.
	RatioPPM float64
	// ErrorMs is the current output position minus the fitted host time
	// of the same content.
	ErrorMs float64
	// Discontinuities counts gaps filled with silence or overruns dropped;
	// InsertedSamples and DroppedSamples are their totals (per channel).
	Discontinuities int
	InsertedSamples int64
	DroppedSamples  int64
}

const (
	alignTaps     = 32  // windowed-sinc length (input samples)
	alignPhases   = 512 // filter table resolution between input samples
	fitTau        = 30.0
	slopeMinSpan  = 2.0 // s of input before the fitted slope is trusted
	correctTau    = 2.0 // s to remove a position error
	stepTau       = 0.5 // s, smoothing of the resampling ratio
	maxCorrection = 1e-3
	maxSkew       = 5e-3 // fitted ratio is clamped to ±5000 ppm
	discontinuity = 100 * time.Millisecond
)

// sincTable returns the filter: sincTable()[p*alignTaps+k] is the
// coefficient for tap k at phase p/alignPhases; one extra phase makes
// interpolation between phases simple. It is built on first use (about
// 11 M instructions, a sixth of livecap's start-up when it was built at
// package init), so a run that resamples no audio never pays for it.
var sincTable = sync.OnceValue(func() []float32 {
	t := make([]float32, (alignPhases+1)*alignTaps)
	const beta = 8.6 // Kaiser window: stopband around -85 dB
	i0b := besselI0(beta)
	// Cut-off slightly below Nyquist: the ratio is within 0.5% of 1, so
	// only the top few percent of the band is sacrificed.
	const fc = 0.94
	for p := 0; p <= alignPhases; p++ {
		frac := float64(p) / alignPhases
		var sum float64
		row := t[p*alignTaps : (p+1)*alignTaps]
		for k := range alignTaps {
			// tap k multiplies input sample floor(pos) - taps/2 + 1 + k
			x := float64(k-alignTaps/2+1) - frac
			v := fc
			if x != 0 {
				v = math.Sin(math.Pi*fc*x) / (math.Pi * x)
			}
			r := x / (alignTaps / 2)
			wnd := 0.0
			if r > -1 && r < 1 {
				wnd = besselI0(beta*math.Sqrt(1-r*r)) / i0b
			}
			row[k] = float32(v * wnd)
			sum += v * wnd
		}
		for k := range row {
			row[k] = float32(float64(row[k]) / sum) // unity gain at DC
		}
	}
	return t
})

func besselI0(x float64) float64 {
	sum, term := 1.0, 1.0
	for k := 1; k < 50; k++ {
		term *= (x / 2) / float64(k)
		sum += term * term
	}
	return sum
}

// NewAudioAligner returns an aligner for interleaved float32 audio with
// the given nominal sample rate and channel count.
func NewAudioAligner(sampleRate, channels int) *AudioAligner {
	return &AudioAligner{sr: sampleRate, ch: channels, step: 1, sinc: sincTable()}
}

// Stats returns counters and the current estimates.
func (a *AudioAligner) Stats() AlignStats {
	s := a.stats
	s.RatioPPM = a.lastPPM
	s.ErrorMs = a.lastErr * 1000
	return s
}

// fit returns the fitted host time (s after pts0) at input position x (s),
// and the slope (host s per nominal input s).
func (a *AudioAligner) fit(x float64) (float64, float64) {
	mx, my := a.sx/a.w, a.sy/a.w
	slope := 1.0
	if x-a.firstX >= slopeMinSpan {
		vx := a.sxx/a.w - mx*mx
		if vx > 0 {
			slope = (a.sxy/a.w - mx*my) / vx
			slope = min(max(slope, 1-maxSkew), 1+maxSkew)
		}
	}
	return my + slope*(x-mx), slope
}

// Push accepts one input buffer and returns the output produced so far
// (possibly none). Output buffers are contiguous: each one's PTS is the
// first output PTS plus the samples output before it, over the sample
// rate. The aligner lags its input by 16 samples (the interpolator's
// look-ahead).
func (a *AudioAligner) Push(b *media.AudioBuffer) []*media.AudioBuffer {
	if b == nil || b.Frames() == 0 || b.Channels != a.ch {
		return nil
	}
	sr := float64(a.sr)
	if !a.started {
		a.started = true
		a.pts0 = b.PTS
		a.histStart = -alignTaps / 2 // zeros before the first sample
		a.hist = make([]float32, alignTaps/2*a.ch)
	}
	x := float64(a.inCount) / sr
	y := (b.PTS - a.pts0).Seconds()
	samples := b.Samples
	if a.w > 0 && a.skipIn == 0 {
		pred, _ := a.fit(x)
		switch d := y - pred; {
		case d > discontinuity.Seconds():
			// Samples were lost (device hiccup): fill the hole with
			// silence once, so this buffer's content lands at its PTS.
			n := int64(math.Round(d * sr))
			a.hist = append(a.hist, make([]float32, n*int64(a.ch))...)
			a.inCount += n
			x = float64(a.inCount) / sr
			a.stats.Discontinuities++
			a.stats.InsertedSamples += n
		case d < -discontinuity.Seconds():
			// More samples than host time allows: drop the excess.
			n := int64(math.Round(-d * sr))
			a.skipIn = n
			a.stats.Discontinuities++
			a.stats.DroppedSamples += n
		}
	}
	if a.skipIn > 0 {
		drop := min(a.skipIn, int64(len(samples)/a.ch))
		samples = samples[drop*int64(a.ch):]
		a.skipIn -= drop
		// The first kept sample was captured drop samples after the PTS.
		y += float64(drop) / sr
		if len(samples) == 0 {
			return nil
		}
	}
	a.observe(x, y)
	a.hist = append(a.hist, samples...)
	a.inCount += int64(len(samples) / a.ch)

	// Steer: output time of the next output sample vs the fitted host
	// time of the input content it will carry.
	pos := float64(a.posInt) + a.posFrac
	tFit, slope := a.fit(pos / sr)
	outT := float64(a.outN) / sr
	e := outT - tFit
	a.lastErr = e
	a.lastPPM = (1/slope - 1) * 1e6
	corr := min(max(e/correctTau, -maxCorrection), maxCorrection)
	target := (1 / slope) * (1 + corr)
	// Each buffer's PTS jitter moves the fit a little: applied directly,
	// those per-buffer steps of the rate would be frequency modulation
	// (audible as noise around a pure tone). A one-pole low-pass with a
	// time constant well inside the correction loop's keeps the rate
	// smooth while leaving the loop stable.
	if a.outN == 0 {
		a.step = target
	} else {
		k := min(1, float64(len(samples)/a.ch)/sr/stepTau)
		a.step += (target - a.step) * k
	}

	return a.produce()
}

// observe adds one (x, y) point to the exponentially weighted fit.
func (a *AudioAligner) observe(x, y float64) {
	if a.w > 0 {
		// Forget by the input time elapsed since the last point.
		f := math.Exp(-(x - a.lastX) / fitTau)
		a.w *= f
		a.sx *= f
		a.sy *= f
		a.sxx *= f
		a.sxy *= f
		a.firstX = max(a.firstX, x-3*fitTau)
	} else {
		a.firstX = x
	}
	a.w++
	a.sx += x
	a.sy += y
	a.sxx += x * x
	a.sxy += x * y
	a.lastX = x
}

// produce interpolates every output sample whose filter window is inside
// the input received so far.
func (a *AudioAligner) produce() []*media.AudioBuffer {
	ch := a.ch
	have := a.histStart + int64(len(a.hist)/ch) // end of input
	first := a.outN
	var out []float32
	for a.posInt+alignTaps/2 < have {
		ph := a.posFrac * alignPhases
		p := int(ph)
		t := float32(ph - float64(p))
		r0 := a.sinc[p*alignTaps : (p+1)*alignTaps]
		r1 := a.sinc[(p+1)*alignTaps : (p+2)*alignTaps]
		base := int(a.posInt-alignTaps/2+1-a.histStart) * ch
		for c := range ch {
			var acc float32
			in := a.hist[base+c:]
			for k := range alignTaps {
				acc += in[k*ch] * (r0[k] + t*(r1[k]-r0[k]))
			}
			out = append(out, acc)
		}
		a.outN++
		a.posFrac += a.step
		adv := math.Floor(a.posFrac)
		a.posInt += int64(adv)
		a.posFrac -= adv
	}
	// Keep only what the next output sample's window needs.
	if keep := a.posInt - alignTaps/2 + 1; keep > a.histStart {
		n := int(keep-a.histStart) * ch
		n = min(n, len(a.hist))
		a.hist = append(a.hist[:0], a.hist[n:]...)
		a.histStart += int64(n / ch)
	}
	if len(out) == 0 {
		return nil
	}
	return []*media.AudioBuffer{{
		PTS:        a.pts0 + samplesToDuration(first, a.sr),
		SampleRate: a.sr,
		Channels:   ch,
		Samples:    out,
	}}
}

// samplesToDuration is n/sr seconds, exact to the nanosecond below, without
// overflow for any realistic n.
func samplesToDuration(n int64, sr int) time.Duration {
	r := int64(sr)
	return time.Duration(n/r)*time.Second + time.Duration(n%r*int64(time.Second)/r)
}
