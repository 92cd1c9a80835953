package analyze

import (
	"math"
	"math/rand"
	"testing"
)

func TestFrameReader(t *testing.T) {
	for _, sz := range [][2]int{{320, 180}, {136, 76}, {1280, 720}} {
		w, h := sz[0], sz[1]
		buf := make([]byte, w*h*3/2)
		r := newFrameReader(w, h, w, h)
		for _, num := range []uint32{0, 1, 29, 30, 123456, 0xFFFFFFFF, 0x80000001} {
			for _, fl := range []bool{false, true} {
				drawFrame(buf, w, h, num, fl)
				fi := r.read(buf[:w*h])
				if !fi.readable || fi.num != num || fi.flash != fl {
					t.Fatalf("%dx%d frame %d flash %v: read %+v", w, h, num, fl, fi)
				}
			}
		}
		// A picture without the guard cells is unreadable.
		for i := range buf[:w*h] {
			buf[i] = 235
		}
		if fi := r.read(buf[:w*h]); fi.readable {
			t.Fatalf("all-white picture read as frame %d", fi.num)
		}
	}
}

// synthBeeps returns n samples of silence (plus noise) with 50 ms, 1 kHz,
// amplitude 0.5 beeps whose first sample is at each onset.
func synthBeeps(sr, n int, onsets []int, noise float64, preEcho bool) []float32 {
	x := make([]float32, n)
	rng := rand.New(rand.NewSource(1))
	for i := range x {
		x[i] = float32(noise * rng.NormFloat64())
	}
	for _, on := range onsets {
		if preEcho {
			// AAC-like pre-echo: a weak tone in the 10 ms before.
			for j := -sr / 100; j < 0; j++ {
				if on+j >= 0 {
					x[on+j] += float32(0.05 * math.Sin(2*math.Pi*1000*float64(j)/float64(sr)))
				}
			}
		}
		for j := 0; j < sr/20 && on+j < n; j++ {
			x[on+j] += float32(0.5 * math.Sin(2*math.Pi*1000*float64(j)/float64(sr)))
		}
	}
	return x
}

func TestBeepOnsetAccuracy(t *testing.T) {
	for _, c := range []struct {
		sr      int
		noise   float64
		preEcho bool
	}{{48000, 0, false}, {48000, 0.005, false}, {48000, 0.001, true}, {44100, 0, false}} {
		onsets := []int{c.sr/2 + 7, 3*c.sr/2 + 13, 5*c.sr/2 + 29, 7*c.sr/2 + 1}
		x := synthBeeps(c.sr, 4*c.sr, onsets, c.noise, c.preEcho)
		d := newBeepDetector(c.sr)
		// odd chunk sizes: the detector is streaming
		for i := 0; i < len(x); i += 997 {
			d.push(x[i:min(i+997, len(x))])
		}
		if len(d.onsets) != len(onsets) {
			t.Fatalf("%+v: found %d onsets %v, want %d", c, len(d.onsets), d.onsets, len(onsets))
		}
		for i, got := range d.onsets {
			errMs := (got - float64(onsets[i])) * 1000 / float64(c.sr)
			if math.Abs(errMs) > 0.1 {
				t.Errorf("%+v: onset %d at %.2f, want %d (%.3f ms off)", c, i, got, onsets[i], errMs)
			}
		}
	}
}

// A beep already sounding when the stream starts is not measured (its
// real onset is unknown).
func TestBeepCutAtStart(t *testing.T) {
	x := synthBeeps(48000, 48000, []int{0}, 0, false)[480:] // 10 ms in
	d := newBeepDetector(48000)
	d.push(x)
	if len(d.onsets) != 0 {
		t.Fatalf("onsets %v from a beep cut at the start", d.onsets)
	}
}

// A beep whose first 20 ms are missing after a stretch of silence (the
// microphone opened 20 ms after the session's base instant) rises like a
// whole beep; it is recognised by its length and not measured, while the
// whole beep a second later is.
func TestBeepCutAfterSilence(t *testing.T) {
	const sr = 48000
	x := synthBeeps(sr, 2*sr, []int{sr / 10, sr/10 + sr}, 0, false)
	for i := sr / 10; i < sr/10+sr/50; i++ {
		x[i] = 0 // the first 20 ms of the first beep never recorded
	}
	d := newBeepDetector(sr)
	d.push(x)
	if len(d.onsets) != 1 || math.Abs(d.onsets[0]-float64(sr/10+sr)) > 5 {
		t.Fatalf("onsets %v, want only the whole beep at %d", d.onsets, sr/10+sr)
	}
}

// Segments read by one detector: a beep straddling a sample-exact join is
// measured and placed in the right file; at a join that is not continuous
// it is dropped.
func TestOnsetAcrossFiles(t *testing.T) {
	const sr = 48000
	x := synthBeeps(sr, 2*sr, []int{sr - 480}, 0, false) // 10 ms before the join
	mk := func(det *beepDetector, samples []float32, start int64) *decoded {
		d := &decoded{sampleRate: sr, det: det, base: det.n}
		for i := 0; i < len(samples); i += 1024 {
			n := min(1024, len(samples)-i)
			d.audPTS = append(d.audPTS, start+int64(i)*1e6/sr)
			d.audSamples = append(d.audSamples, int64(n))
		}
		det.push(samples)
		return d
	}
	for _, gapUS := range []int64{0, 40000} {
		det := newBeepDetector(sr)
		a := &fileData{probe: &probeInfo{}, dec: mk(det, x[:sr], 0)}
		b := &fileData{probe: &probeInfo{}, dec: mk(det, x[sr:], 1e6+gapUS)}
		got := onsetTimes([]*fileData{a, b})
		if gapUS == 0 {
			if len(got) != 1 || got[0].file != 0 || abs64(got[0].t-990000) > 50 {
				t.Fatalf("continuous join: %+v, want one onset at 0.990 s in file 0", got)
			}
		} else if len(got) != 0 {
			t.Fatalf("join with a %d µs gap: %+v, want the straddling beep dropped", gapUS, got)
		}
	}
}
