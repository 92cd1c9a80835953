package testsrc

import (
	"context"
	"testing"
	"time"

	"github.com/livecap/livecap/internal/media"
	"github.com/livecap/livecap/internal/testpattern"
)

func TestRealtimeDelivers(t *testing.T) {
	if testing.Short() {
		t.Skip("real-time test")
	}
	s := mustSource(t, Options{Width: 160, Height: 120, FPS: 30, SampleRate: 48000, Channels: 1,
		Video: true, Audio: true, Realtime: true, Duration: time.Second})
	var c collected
	start := time.Now()
	if err := s.Run(context.Background(), c.video, c.audioFn(s)); err != nil {
		t.Fatal(err)
	}
	el := time.Since(start)
	if len(c.errs) > 0 {
		t.Fatal(c.errs[0])
	}
	if len(c.frames)+int(s.Skipped()) != 30 || len(c.frames) < 25 {
		t.Errorf("real time, 1 s at 30 fps: %d frames delivered, %d skipped", len(c.frames), s.Skipped())
	}
	if len(c.audio) != 100 {
		t.Errorf("real time, 1 s: %d audio buffers, want 100", len(c.audio))
	}
	// Loose: paced, not fast-mode speed.
	if el < 900*time.Millisecond {
		t.Errorf("a real-time second took only %v", el)
	}
}

func TestRealtimeSkipsForSlowConsumerAndStopsOnCancel(t *testing.T) {
	if testing.Short() {
		t.Skip("real-time test")
	}
	s := mustSource(t, Options{Width: 160, Height: 120, FPS: 30, Video: true, Realtime: true, Duration: time.Second})
	var idx []int64
	slow := func(f *media.VideoFrame) {
		y, _ := testpattern.DecodeBarcode(f.Planes[0], f.Strides[0], f.Width, f.Height)
		idx = append(idx, int64(y))
		f.Release()
		time.Sleep(150 * time.Millisecond)
	}
	if err := s.Run(context.Background(), slow, nil); err != nil {
		t.Fatal(err)
	}
	if int(s.Skipped())+len(idx) != 30 || s.Skipped() == 0 || len(idx) > 12 {
		t.Errorf("slow consumer: %d delivered %v, %d skipped", len(idx), idx, s.Skipped())
	}
	for i := 1; i < len(idx); i++ {
		if idx[i] <= idx[i-1] {
			t.Errorf("frame indices not increasing: %v", idx)
		}
	}

	// No duration: runs until cancelled, then returns nil promptly.
	s = mustSource(t, Options{Width: 160, Height: 120, FPS: 30, Video: true, Audio: true, Realtime: true})
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	var c collected
	done := make(chan error)
	go func() { done <- s.Run(ctx, c.video, c.audioFn(s)) }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return after its context ended")
	}
	if len(c.frames) == 0 || len(c.audio) == 0 {
		t.Errorf("nothing delivered in 300 ms: %d frames, %d buffers", len(c.frames), len(c.audio))
	}
}
