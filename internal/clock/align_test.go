package clock

import (
	"math"
	"math/rand"
	"testing"
	"time"

	"github.com/livecap/livecap/internal/media"
)

// skewedSource emulates a device whose clock runs ppm fast (or slow): it
// delivers 10 ms buffers (in device samples) stamped with the host time of
// their first sample plus callback jitter.
type skewedSource struct {
	sr, ch   int
	ppm      float64
	base     time.Duration
	jitter   time.Duration
	k        int64 // device samples delivered
	rng      *rand.Rand
	tone     float64 // Hz in device time; 0: a ramp (content irrelevant)
	hiccupAt int64   // device sample index where samples are lost
	hiccupN  int64
	lost     int64
}

func (s *skewedSource) hostTime(k float64) float64 {
	return s.base.Seconds() + k/(float64(s.sr)*(1+s.ppm*1e-6))
}

func (s *skewedSource) next() *media.AudioBuffer {
	n := s.sr / 100
	if s.hiccupN > 0 && s.k >= s.hiccupAt {
		s.k += s.hiccupN // lost: never delivered
		s.lost += s.hiccupN
		s.hiccupN = 0
	}
	pts := s.hostTime(float64(s.k))
	if s.jitter > 0 {
		pts += (s.rng.Float64()*2 - 1) * s.jitter.Seconds()
	}
	b := &media.AudioBuffer{PTS: time.Duration(pts * 1e9), SampleRate: s.sr, Channels: s.ch, Samples: make([]float32, n*s.ch)}
	if s.tone > 0 {
		for i := range n {
			v := float32(0.5 * math.Sin(2*math.Pi*s.tone*float64(s.k+int64(i))/float64(s.sr)))
			for c := range s.ch {
				b.Samples[i*s.ch+c] = v
			}
		}
	}
	s.k += int64(n)
	return b
}

// posError is the output's time of the next output sample minus the true
// host time of the input content it carries.
func posError(a *AudioAligner, s *skewedSource) float64 {
	out := (a.pts0 + samplesToDuration(a.outN, a.sr)).Seconds()
	// input index -> device sample index
	pos := float64(a.posInt) + a.posFrac
	return out - s.hostTime(pos-float64(a.stats.InsertedSamples)+float64(a.stats.DroppedSamples)+float64(s.lost))
}

// TestAlignerDrift: two simulated hours at ±300 ppm with ±2 ms callback
// jitter: after a few seconds the output position stays within 2 ms of
// the host time of its content, and the output is continuous.
func TestAlignerDrift(t *testing.T) {
	const sr = 8000 // low rate: the same arithmetic per sample, 6x faster
	for _, ppm := range []float64{300, -300} {
		s := &skewedSource{sr: sr, ch: 1, ppm: ppm, base: 3 * time.Second, jitter: 2 * time.Millisecond, rng: rand.New(rand.NewSource(7))}
		a := NewAudioAligner(sr, 1)
		var outN int64
		var first time.Duration
		maxErr, maxErrAt := 0.0, 0.0
		for s.hostTime(float64(s.k)) < 2*3600+3 {
			for _, o := range a.Push(s.next()) {
				if outN == 0 {
					first = o.PTS
				} else if want := first + samplesToDuration(outN, sr); o.PTS != want {
					t.Fatalf("output not continuous: PTS %v, want %v", o.PTS, want)
				}
				outN += int64(o.Frames())
			}
			if tt := s.hostTime(float64(s.k)) - 3; tt > 5 {
				if e := math.Abs(posError(a, s)); e > maxErr {
					maxErr, maxErrAt = e, tt
				}
			}
		}
		st := a.Stats()
		t.Logf("%+.0f ppm: measured %+.1f ppm, max |error| after 5 s: %.3f ms (at %.0f s), %d output samples for %d input",
			ppm, st.RatioPPM, maxErr*1000, maxErrAt, outN, s.k)
		if maxErr > 0.002 {
			t.Errorf("%+.0f ppm: position error %.3f ms at %.0f s, want ≤ 2 ms", ppm, maxErr*1000, maxErrAt)
		}
		if math.Abs(st.RatioPPM-ppm) > 5 || st.Discontinuities != 0 {
			t.Errorf("%+.0f ppm: stats %+v", ppm, st)
		}
		// 2 h of host time at the nominal rate, give or take the lag
		if want := int64(2 * 3600 * sr); math.Abs(float64(outN-want)) > sr/50 {
			t.Errorf("%+.0f ppm: %d output samples, want about %d", ppm, outN, want)
		}
	}
}

// TestAlignerSineQuality: a 1 kHz tone through a +300/-300 ppm correction,
// with ±2 ms PTS jitter, keeps THD+N below -60 dB once the rate estimate
// has settled (10 s; residual after an ideal notch, over 250 ms blocks).
func TestAlignerSineQuality(t *testing.T) {
	const sr = 48000
	for _, ppm := range []float64{300, -300} {
		s := &skewedSource{sr: sr, ch: 2, ppm: ppm, jitter: 2 * time.Millisecond, rng: rand.New(rand.NewSource(3)), tone: 1000}
		a := NewAudioAligner(sr, 2)
		var left []float64
		for len(left) < 15*sr {
			for _, o := range a.Push(s.next()) {
				for i := 0; i < o.Frames(); i++ {
					left = append(left, float64(o.Samples[2*i]))
					if o.Samples[2*i] != o.Samples[2*i+1] {
						t.Fatal("channels differ")
					}
				}
			}
		}
		f := 1000 * (1 + ppm*1e-6) // the tone in host time
		worst := math.Inf(-1)
		for blk := 10; blk < 15; blk++ {
			seg := left[blk*sr : blk*sr+sr/4]
			worst = math.Max(worst, thdN(seg, f/sr))
		}
		t.Logf("%+.0f ppm: worst THD+N %.1f dB", ppm, worst)
		if worst > -60 {
			t.Errorf("%+.0f ppm: THD+N %.1f dB, want < -60 dB", ppm, worst)
		}
	}
}

// thdN returns the power of what is left after removing the best-fitting
// sinusoid (frequency searched near f, in cycles/sample), relative to the
// sinusoid's power, in dB: THD+N with an ideal notch.
func thdN(x []float64, f float64) float64 {
	lo, hi := f*(1-3e-3), f*(1+3e-3)
	best := math.Inf(1)
	// coarse scan, then golden-section refinement around the best
	step := (hi - lo) / 60
	bf := f
	for g := lo; g <= hi; g += step {
		if r := sineResidual(x, g); r < best {
			best, bf = r, g
		}
	}
	a, b := bf-step, bf+step
	const phi = 0.6180339887498949
	c, d := b-phi*(b-a), a+phi*(b-a)
	rc, rd := sineResidual(x, c), sineResidual(x, d)
	for range 40 {
		if rc < rd {
			b, d, rd = d, c, rc
			c = b - phi*(b-a)
			rc = sineResidual(x, c)
		} else {
			a, c, rc = c, d, rd
			d = a + phi*(b-a)
			rd = sineResidual(x, d)
		}
	}
	return sineResidual(x, (a+b)/2)
}

// sineResidual fits a·cos + b·sin + c at frequency f and returns the
// residual power relative to the fitted tone's, in dB.
func sineResidual(x []float64, f float64) float64 {
	var m [3][4]float64
	for n, v := range x {
		w := 2 * math.Pi * f * float64(n)
		r := [3]float64{math.Cos(w), math.Sin(w), 1}
		for i := range 3 {
			for j := range 3 {
				m[i][j] += r[i] * r[j]
			}
			m[i][3] += r[i] * v
		}
	}
	for i := range 3 { // Gauss-Jordan
		for k := range 3 {
			if k != i {
				q := m[k][i] / m[i][i]
				for j := range 4 {
					m[k][j] -= q * m[i][j]
				}
			}
		}
	}
	a, b, c := m[0][3]/m[0][0], m[1][3]/m[1][1], m[2][3]/m[2][2]
	var res float64
	for n, v := range x {
		w := 2 * math.Pi * f * float64(n)
		d := v - (a*math.Cos(w) + b*math.Sin(w) + c)
		res += d * d
	}
	sig := (a*a + b*b) / 2 * float64(len(x))
	return 10 * math.Log10(res/sig)
}

// TestAlignerDiscontinuity: a device hiccup that loses 250 ms is filled
// with silence once (counted), and the position error recovers at once.
func TestAlignerDiscontinuity(t *testing.T) {
	const sr = 16000
	s := &skewedSource{sr: sr, ch: 1, ppm: 100, jitter: time.Millisecond, rng: rand.New(rand.NewSource(1)), hiccupAt: 10 * sr, hiccupN: sr / 4}
	a := NewAudioAligner(sr, 1)
	for s.hostTime(float64(s.k)) < 20 {
		a.Push(s.next())
		if tt := s.hostTime(float64(s.k)); tt > 5 && math.Abs(posError(a, s)) > 0.002 {
			t.Fatalf("at %.2f s: position error %.3f ms", tt, posError(a, s)*1000)
		}
	}
	st := a.Stats()
	if st.Discontinuities != 1 || math.Abs(float64(st.InsertedSamples-sr/4)) > sr/500 || st.DroppedSamples != 0 {
		t.Fatalf("stats %+v, want one insertion of %d samples", st, sr/4)
	}
}

// TestAlignerOverrun: input that jumps 300 ms ahead of the host clock (a
// device delivering a backlog with early timestamps) is dropped once.
func TestAlignerOverrun(t *testing.T) {
	const sr = 16000
	s := &skewedSource{sr: sr, ch: 1, rng: rand.New(rand.NewSource(1))}
	a := NewAudioAligner(sr, 1)
	for s.hostTime(float64(s.k)) < 20 {
		b := s.next()
		if s.k > 10*sr {
			b.PTS -= 300 * time.Millisecond // this content belongs 300 ms earlier
		}
		a.Push(b)
	}
	st := a.Stats()
	if st.Discontinuities != 1 || math.Abs(float64(st.DroppedSamples-3*sr/10)) > sr/500 {
		t.Fatalf("stats %+v, want one drop of %d samples", st, 3*sr/10)
	}
	if e := st.ErrorMs; math.Abs(e) > 1 {
		t.Fatalf("error %.3f ms after the drop", e)
	}
}

func BenchmarkAlignerStereo48k(b *testing.B) {
	s := &skewedSource{sr: 48000, ch: 2, ppm: 300, jitter: 2 * time.Millisecond, rng: rand.New(rand.NewSource(1)), tone: 1000}
	bufs := make([]*media.AudioBuffer, 100)
	for i := range bufs {
		bufs[i] = s.next()
	}
	a := NewAudioAligner(48000, 2)
	b.SetBytes(int64(len(bufs[0].Samples) * 4))
	b.ResetTimer()
	for i := range b.N {
		src := bufs[i%len(bufs)]
		buf := *src
		buf.PTS = time.Duration(i) * 10 * time.Millisecond * 1000000 / 1000300
		a.Push(&buf)
	}
}
