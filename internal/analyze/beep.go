package analyze

import (
	"math"
	"sort"

	"github.com/livecap/livecap/internal/testpattern"
)

// beepDetector finds the onsets of 1 kHz beeps in a mono stream, one sample
// at a time, with bounded memory (hours of audio never sit in memory).
//
// The envelope of the 1 kHz component is the magnitude of the signal mixed
// down by e^{-i·2π·1kHz·t} and averaged over a trailing window of one
// 1 kHz period (N samples). That window nulls the 2 kHz image exactly in
// steady state and, at an onset, the envelope rises linearly from 0 to the
// beep amplitude over exactly N samples: it crosses half the amplitude when
// N/2 beep samples are inside the window. Interpolating that crossing
// gives the onset to a small fraction of a sample. The 2 kHz image term
// sums to zero over any N/2 samples, so it does not bias the crossing.
//
// AAC spreads a sharp onset over its transform block (pre-echo): some
// energy appears a few ms before the real onset. The detector therefore
// measures the beep's plateau level after detection and takes the LAST
// upward crossing of half that level before the plateau, not the first
// sample above a fixed threshold.
type beepDetector struct {
	sr   int
	win  int // N: samples in one 1 kHz period (rounded)
	cos  []float64
	sin  []float64
	ring []complex128 // last win mixed samples
	sum  complex128
	n    int64 // samples consumed

	env  []float32 // envelope history, ring of len mask+1
	mask int64

	detectAt int64     // -1: none pending
	quietFor int64     // consecutive samples below the detection threshold
	armed    bool      // quiet long enough since the last beep
	onsets   []float64 // onset sample positions (fractional)
}

const (
	detectLevel = 0.05 // envelope level that starts a detection (beep: 0.5)
)

func newBeepDetector(sampleRate int) *beepDetector {
	d := &beepDetector{sr: sampleRate, detectAt: -1, armed: true}
	d.win = max(2, int(math.Round(float64(sampleRate)/testpattern.BeepFrequency)))
	// The mixer's phase repeats every sr/gcd(sr, f) samples; a table of
	// that period keeps the phase exact however long the stream.
	period := sampleRate / gcd(sampleRate, testpattern.BeepFrequency)
	d.cos = make([]float64, period)
	d.sin = make([]float64, period)
	for i := range period {
		a := 2 * math.Pi * float64(int64(i)*testpattern.BeepFrequency%int64(sampleRate)) / float64(sampleRate)
		d.cos[i], d.sin[i] = math.Cos(a), math.Sin(a)
	}
	d.ring = make([]complex128, d.win)
	size := int64(1)
	for size < int64(sampleRate)/4 {
		size <<= 1
	}
	d.env = make([]float32, size)
	d.mask = size - 1
	return d
}

func gcd(a, b int) int {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

func (d *beepDetector) ms(v float64) int64 { return int64(v * float64(d.sr) / 1000) }

func (d *beepDetector) push(samples []float32) {
	plateauWait := d.ms(60)
	for _, x := range samples {
		n := d.n
		p := n % int64(len(d.cos))
		m := complex(float64(x)*d.cos[p], -float64(x)*d.sin[p])
		k := n % int64(d.win)
		d.sum += m - d.ring[k]
		d.ring[k] = m
		if k == 0 && n > 0 && n%65536 < int64(d.win) {
			// Re-sum now and then so rounding never accumulates.
			var s complex128
			for _, v := range d.ring {
				s += v
			}
			d.sum = s
		}
		e := 2 * math.Hypot(real(d.sum), imag(d.sum)) / float64(d.win)
		d.env[n&d.mask] = float32(e)
		d.n++

		if e < detectLevel {
			d.quietFor++
		} else {
			d.quietFor = 0
		}
		switch {
		case d.detectAt < 0 && d.armed && e >= detectLevel:
			d.detectAt = n
			d.armed = false
		case d.detectAt >= 0 && n-d.detectAt >= plateauWait:
			d.measure(n)
			d.detectAt = -1
		case d.detectAt < 0 && !d.armed && d.quietFor >= d.ms(20):
			// The beep (and any codec ringing) is over.
			d.armed = true
		}
	}
}

// measure locates the onset of the beep detected at d.detectAt; now is the
// newest sample index.
func (d *beepDetector) measure(now int64) {
	start := d.detectAt
	vals := make([]float64, 0, now-start+1)
	for i := start; i <= now; i++ {
		vals = append(vals, float64(d.env[i&d.mask]))
	}
	sorted := append([]float64(nil), vals...)
	sort.Float64s(sorted)
	plateau := sorted[len(sorted)*3/4]
	if plateau < 2*detectLevel {
		return
	}
	half := plateau / 2
	// First sample at 3/4 of the plateau: the beep is certainly on.
	top := int64(-1)
	for i := start; i <= now; i++ {
		if float64(d.env[i&d.mask]) >= 0.75*plateau {
			top = i
			break
		}
	}
	if top < 0 {
		return
	}
	oldest := max(0, now-d.mask, start-d.ms(40))
	cross := func(level float64) (int64, bool) {
		for i := top - 1; i >= oldest; i-- {
			if float64(d.env[i&d.mask]) < level {
				return i, true
			}
		}
		return 0, false
	}
	level := half
	i, ok := cross(level)
	if !ok {
		return // the beep began before the stream (or the history)
	}
	// Pre-echo leaves a pedestal under the ramp: take half-way between
	// the level just before the ramp and the plateau.
	if j := i - int64(d.win)/2 - 2; j >= oldest {
		if pre := float64(d.env[j&d.mask]); pre < half/2 {
			level = (pre + plateau) / 2
			if i, ok = cross(level); !ok {
				return
			}
		}
	}
	if i < int64(d.win)-1 {
		return // window not yet full: a beep cut by the stream start
	}
	// A beep whose start is missing (audio that began, or resumed, in the
	// middle of it: a microphone opened a few ms after the session's base
	// instant) rises from silence like a whole one but is shorter. Its
	// rise is not the beep's onset: keep only beeps that last most of
	// testpattern.BeepDuration between the half-level crossings.
	fall := int64(-1)
	for j := top; j <= now; j++ {
		if float64(d.env[j&d.mask]) < level {
			fall = j
			break
		}
	}
	if fall >= 0 && fall-i < d.ms(0.8*float64(testpattern.BeepDuration.Milliseconds())) {
		return
	}
	e0, e1 := float64(d.env[i&d.mask]), float64(d.env[(i+1)&d.mask])
	frac := 0.0
	if e1 > e0 {
		frac = (level - e0) / (e1 - e0)
	}
	d.onsets = append(d.onsets, float64(i)+frac+1-float64(d.win)/2)
}
