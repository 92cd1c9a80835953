package testsrc

import (
	"context"
	"math"
	"testing"
	"time"
)

func TestBeepOnsetsWithSkew(t *testing.T) {
	const secs = 60
	for _, ppm := range []float64{0, 300, -300} {
		for _, ch := range []int{1, 2} {
			s := mustSource(t, Options{SampleRate: 48000, Channels: ch, Audio: true, SkewPPM: ppm, Duration: secs * time.Second})
			eff := 48000 * (1 + ppm*1e-6)
			var c collected
			if err := s.Run(context.Background(), nil, c.audioFn(s)); err != nil {
				t.Fatal(err)
			}
			// Buffer PTS: host time of the first sample, continuous.
			var x []float32 // channel 0
			var n int64
			for bi, b := range c.audio {
				want := time.Duration(math.Round(float64(n) * 1e9 / eff))
				if b.PTS != want {
					t.Fatalf("ppm %v: buffer %d PTS %v, want %v (sample %d)", ppm, bi, b.PTS, want, n)
				}
				if bi < len(c.audio)-1 && b.Frames() != 480 {
					t.Fatalf("ppm %v: buffer %d has %d frames, want 480 (10 ms)", ppm, bi, b.Frames())
				}
				for j := 0; j < b.Frames(); j++ {
					for k := 1; k < ch; k++ {
						if b.Samples[j*ch+k] != b.Samples[j*ch] {
							t.Fatalf("channels differ")
						}
					}
					x = append(x, b.Samples[j*ch])
				}
				n += int64(b.Frames())
			}
			if want := int64(math.Ceil(secs * eff)); n != want {
				t.Errorf("ppm %v: %d samples in %d s, want %d", ppm, n, secs, want)
			}
			// Find onsets as an analyzer would: the first non-zero sample
			// after a long silence; phase 0 means the onset is one before.
			var onsets []int64
			silent := 1000
			for i, v := range x {
				if v == 0 {
					silent++
					continue
				}
				if silent > 1000 {
					onsets = append(onsets, int64(i)-1)
				}
				silent = 0
			}
			if len(onsets) != secs {
				t.Fatalf("ppm %v: %d onsets in %d s", ppm, len(onsets), secs)
			}
			period := time.Second / 48000
			for k, on := range onsets {
				if want := int64(math.Round(float64(k) * eff)); on != want {
					t.Fatalf("ppm %v: onset %d at sample %d, want %d", ppm, k, on, want)
				}
				if k == 0 {
					continue // sample 0 is the onset, nothing before it
				}
				host := time.Duration(float64(on) * 1e9 / eff)
				if d := host - time.Duration(k)*time.Second; d < -period || d > period {
					t.Errorf("ppm %v: onset %d at host %v, off by %v", ppm, k, host, d)
				}
				// 50 ms long, amplitude 0.5, then silence.
				var peak float32
				for _, v := range x[on : on+2400] {
					peak = max(peak, v)
				}
				if math.Abs(float64(peak)-0.5) > 1e-3 || x[on+2399] == 0 || x[on+2400] != 0 || x[on+2401] != 0 {
					t.Fatalf("ppm %v: beep %d: peak %v, last %v, after %v", ppm, k, peak, x[on+2399], x[on+2400])
				}
			}
			if ppm == 300 && onsets[59] != 2832850 { // 59 × 48014.4 = 2832849.6
				t.Errorf("+300 ppm: beep 59 at %d", onsets[59])
			}
		}
	}
}

func BenchmarkTestSourceAudio10ms(b *testing.B) {
	s := mustSource(b, Options{SampleRate: 48000, Channels: 2, Audio: true, SkewPPM: 300})
	b.ReportAllocs()
	var n int64
	for b.Loop() {
		s.audioBuffer(n, n+480)
		n += 480
	}
}
