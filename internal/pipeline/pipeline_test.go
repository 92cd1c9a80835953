package pipeline

import (
	"context"
	"testing"
	"time"

	_ "github.com/livecap/livecap/internal/avcodec"
	"github.com/livecap/livecap/internal/capture/testsrc"
	"github.com/livecap/livecap/internal/encoder"
	"github.com/livecap/livecap/internal/fanout"
	"github.com/livecap/livecap/internal/media"
)

func newTestPipeline(t *testing.T, d time.Duration) *Pipeline {
	t.Helper()
	b, err := encoder.Default("")
	if err != nil {
		t.Skip(err)
	}
	src, err := testsrc.New(testsrc.Options{Width: 160, Height: 96, FPS: 30,
		SampleRate: 48000, Channels: 1, Video: true, Audio: true, Duration: d})
	if err != nil {
		t.Fatal(err)
	}
	p, err := New(Config{Source: src, Backend: b,
		Video:    encoder.VideoSettings{Width: 160, Height: 96, FPS: 30, Bitrate: 200_000, KeyInterval: 2 * time.Second},
		Audio:    encoder.AudioSettings{SampleRate: 48000, Channels: 1, Bitrate: 64_000},
		Duration: d})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// A keyframe scheduled at a media time lands on exactly the first frame at
// or after it, whatever the encoder's own keyframe interval: that is what
// makes segment cuts exact.
func TestScheduledKeyframes(t *testing.T) {
	p := newTestPipeline(t, 4*time.Second)
	q := p.Hub().Add("sink", fanout.Policy{Lossless: true})
	p.RequestKeyframe(1500 * time.Millisecond)
	p.RequestKeyframe(2510 * time.Millisecond) // between frames: the next one
	p.Attach()
	done := make(chan error, 1)
	go func() { done <- p.Run(context.Background()) }()
	var keys []time.Duration
	var video, audio int
	var lastAudioEnd time.Duration
	for {
		pk, ok := q.Next(context.Background())
		if !ok {
			break
		}
		if pk.Kind == media.Video {
			if pk.Seq != uint64(video) {
				t.Fatalf("video seq %d, want %d", pk.Seq, video)
			}
			video++
			if pk.Key {
				keys = append(keys, pk.PTS)
			}
		} else {
			audio++
			lastAudioEnd = pk.PTS + pk.Duration
		}
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	frame := time.Second / 30
	want := []time.Duration{0, 45 * frame, 76 * frame}
	if len(keys) != len(want) {
		t.Fatalf("keyframes at %v, want %v", keys, want)
	}
	for i := range want {
		if d := keys[i] - want[i]; d < -time.Millisecond || d > time.Millisecond {
			t.Fatalf("keyframes at %v, want %v", keys, want)
		}
	}
	if video != 120 {
		t.Errorf("%d video frames for 4 s at 30 fps, want 120", video)
	}
	// Audio is trimmed at --duration sample-accurately and flushed: it
	// covers the whole 4 s (the last packet is padded).
	if lastAudioEnd < 4*time.Second || lastAudioEnd > 4*time.Second+22*time.Millisecond {
		t.Errorf("audio ends at %v, want 4s (+ at most one padded AAC frame)", lastAudioEnd)
	}
	if st := p.Stats(); st.ForcedIDR != 2 || st.VideoFrames != 120 {
		t.Errorf("stats %+v", st)
	}
}

// Packets produced before the sinks attach are held, not lost.
func TestPrerollHeldUntilAttach(t *testing.T) {
	p := newTestPipeline(t, time.Second)
	done := make(chan error, 1)
	go func() { done <- p.Run(context.Background()) }()
	info, err := p.Info(context.Background())
	if err != nil || info.Video == nil || info.Audio == nil || len(info.Video.SPS) == 0 {
		t.Fatalf("info %+v, %v", info, err)
	}
	time.Sleep(200 * time.Millisecond) // the fast source is well ahead by now
	q := p.Hub().Add("late", fanout.Policy{Lossless: true})
	p.Attach()
	var video int
	first := true
	for {
		pk, ok := q.Next(context.Background())
		if !ok {
			break
		}
		if pk.Kind == media.Video {
			if first && (!pk.Key || pk.PTS != 0) {
				t.Fatalf("first video packet %+v, want the IDR at 0", pk)
			}
			first = false
			video++
		}
	}
	<-done
	if video != 30 {
		t.Fatalf("%d video frames, want 30", video)
	}
}
