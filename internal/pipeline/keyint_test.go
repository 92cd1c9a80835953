package pipeline

import (
	"context"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/livecap/livecap/internal/capture"
	"github.com/livecap/livecap/internal/encoder"
	"github.com/livecap/livecap/internal/fanout"
	"github.com/livecap/livecap/internal/media"
)

// skippingSource delivers 30 fps video for secs seconds but skips every
// fourth frame, as a camera does when capture falls behind.
type skippingSource struct{ secs int }

func (s skippingSource) Video() (int, int, int, bool) { return 160, 96, 30, true }
func (s skippingSource) Audio() (int, int, bool)      { return 0, 0, false }
func (s skippingSource) Run(ctx context.Context, v capture.VideoFunc, _ capture.AudioFunc) error {
	const w, h = 160, 96
	y, u, vv := make([]byte, w*h), make([]byte, w*h/4), make([]byte, w*h/4)
	for i := 0; i < s.secs*30; i++ {
		if i%4 == 3 || ctx.Err() != nil {
			continue
		}
		for j := range y {
			y[j] = byte(i + j)
		}
		v(&media.VideoFrame{PTS: time.Duration(i) * time.Second / 30, Width: w, Height: h, Format: media.I420,
			Planes: [3][]byte{y, u, vv}, Strides: [3]int{w, w / 2, w / 2}})
	}
	return nil
}

// Keyframes stay at most --keyint apart in media time when the source
// skips frames (the encoder alone counts 60 frames: 2.7 s here).
func TestKeyIntervalInMediaTime(t *testing.T) {
	b, err := encoder.Default("")
	if err != nil {
		t.Skip(err)
	}
	const keyint = 2 * time.Second
	p, err := New(Config{Source: skippingSource{secs: 9}, Backend: b, Log: zerolog.Nop(),
		Video: encoder.VideoSettings{Width: 160, Height: 96, FPS: 30, Bitrate: 200_000, KeyInterval: keyint, Realtime: true}})
	if err != nil {
		t.Fatal(err)
	}
	q := p.Hub().Add("sink", fanout.Policy{Lossless: true})
	p.Attach()
	done := make(chan error, 1)
	go func() { done <- p.Run(context.Background()) }()
	var keys []time.Duration
	frames := 0
	for {
		pk, ok := q.Next(context.Background())
		if !ok {
			break
		}
		frames++
		if pk.Key {
			keys = append(keys, pk.PTS)
		}
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if want := 270 - 270/4; frames != want {
		t.Fatalf("%d frames, want %d", frames, want)
	}
	if len(keys) < 5 {
		t.Fatalf("keyframes at %v: want one at least every %v over 9 s", keys, keyint)
	}
	for i := 1; i < len(keys); i++ {
		if d := keys[i] - keys[i-1]; d > keyint {
			t.Errorf("keyframes %v and %v are %v apart, more than --keyint %v", keys[i-1], keys[i], d, keyint)
		}
	}
	if st := p.Stats(); st.ForcedIDR != 0 {
		t.Errorf("ForcedIDR %d: the key interval is not a forced (requested) IDR", st.ForcedIDR)
	}
}
