package testsrc

import (
	"math"
	"time"

	"github.com/livecap/livecap/internal/media"
	"github.com/livecap/livecap/internal/testpattern"
)

func (s *Source) initAudio() {
	s.effRate = float64(s.o.SampleRate) * (1 + s.o.SkewPPM*1e-6)
	s.bufFrames = int(int64(s.o.SampleRate) * int64(audioBufferDur) / int64(time.Second))
	// The beep is defined in device samples: the device believes it runs
	// at SampleRate, so the tone it records lasts 50 ms of its own clock.
	n := int(int64(s.o.SampleRate) * int64(testpattern.BeepDuration) / int64(time.Second))
	s.beep = make([]float32, n)
	for j := range s.beep {
		s.beep[j] = float32(testpattern.BeepAmplitude * math.Sin(2*math.Pi*testpattern.BeepFrequency*float64(j)/float64(s.o.SampleRate)))
	}
}

// beepOnset is the device sample at which the beep for the flash at host
// time k seconds begins: the world's event at k s, as this device samples it.
func (s *Source) beepOnset(k int64) int64 {
	return int64(math.Round(float64(k) * s.effRate))
}

// audioBuffer renders device samples [first, end). Each buffer is freshly
// allocated: AudioBuffer has no release hook, and consumers (the drift
// aligner) may keep it.
func (s *Source) audioBuffer(first, end int64) *media.AudioBuffer {
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
