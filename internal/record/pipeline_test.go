package record

import (
	"context"
	"math"
	"testing"
	"time"

	"github.com/rs/zerolog"

	_ "github.com/livecap/livecap/internal/avcodec" // the Linux encoder backend
	"github.com/livecap/livecap/internal/capture/testsrc"
	"github.com/livecap/livecap/internal/clock/clocktest"
	"github.com/livecap/livecap/internal/encoder"
	"github.com/livecap/livecap/internal/fanout"
	"github.com/livecap/livecap/internal/pipeline"
)

// The real chain: test source (fast mode) → libavcodec encoders → fan-out
// → recorder, which asks the pipeline for the IDRs it cuts at. Every frame
// lands in exactly one file, each file starts at the requested IDR, and the
// beep that starts with every flash (each whole second) comes out of each
// file's audio at a whole second of that file.
func TestPipelineToFiles(t *testing.T) {
	backend, err := encoder.Default("")
	if err != nil {
		t.Skip(err)
	}
	const fps, secs, seg = 30, 7, 3
	vc := &clocktest.Virtual{}
	src, err := testsrc.New(testsrc.Options{Width: 320, Height: 180, FPS: fps, Video: true, Audio: true, Clock: vc})
	if err != nil {
		t.Fatal(err)
	}
	p, err := pipeline.New(pipeline.Config{Source: src, Backend: backend, Clock: vc, Duration: secs * time.Second,
		Video: encoder.VideoSettings{Width: 320, Height: 180, FPS: fps, Bitrate: 500_000, KeyInterval: 2 * time.Second, Realtime: true},
		Audio: encoder.AudioSettings{SampleRate: 48000, Channels: 1, Bitrate: 96_000}, Log: zerolog.Nop()})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	errc := make(chan error, 1)
	go func() { errc <- p.Run(ctx) }()
	info, err := p.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	r, err := New(Options{Dir: dir, Segment: seg * time.Second, Info: info, Keyframes: p, Log: zerolog.Nop()})
	if err != nil {
		t.Fatal(err)
	}
	q := p.Hub().Add("record", fanout.Policy{Lossless: true})
	p.Attach()
	if err := r.Run(ctx, q); err != nil {
		t.Fatal(err)
	}
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	files := listFiles(t, dir)
	want := []int{90, 90, 30}
	if len(files) != len(want) {
		t.Fatalf("files %v", files)
	}
	total := 0
	for i, f := range files {
		fr := videoFrames(t, f)
		if len(fr) != want[i] || !fr[0].key {
			t.Errorf("%s: %d frames, want %d from a keyframe", f, len(fr), want[i])
		}
		total += len(fr)
		if e := decodeErrors(t, f); e != "" {
			t.Errorf("%s: decode errors: %s", f, e)
		}
		on := onsetsFromZero(t, f)
		if len(on) == 0 {
			t.Errorf("%s: no beep", f)
		}
		for _, o := range on {
			if d := o - math.Round(o); math.Abs(d) > 0.002 {
				t.Errorf("%s: beep at %.4f s: %.2f ms off the flash", f, o, d*1000)
			}
		}
	}
	if total != fps*secs {
		t.Errorf("%d frames in all, want %d", total, fps*secs)
	}
}
