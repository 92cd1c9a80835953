package record_test

import (
	"context"
	"math"
	"os"
	"testing"
	"time"

	"github.com/rs/zerolog"

	_ "github.com/livecap/livecap/internal/avcodec" // the Linux encoder backend
	"github.com/livecap/livecap/internal/encoder"
	"github.com/livecap/livecap/internal/record"
	"github.com/livecap/livecap/internal/session"
)

// The real chain, started the way the command starts it (internal/session):
// test source (fast mode) → libavcodec encoders → fan-out → recorder, which
// asks the pipeline for the IDRs it cuts at. Every frame lands in exactly
// one file, each file starts at the requested IDR, and the beep that starts
// with every flash (each whole second) comes out of each file's audio at a
// whole second of that file.
func TestPipelineToFiles(t *testing.T) {
	if _, err := encoder.Default(""); err != nil {
		t.Skip(err)
	}
	const fps, secs, seg = 30, 7, 3
	dir := t.TempDir()
	s, err := session.New(session.Config{
		Video: "test", Audio: "test", Fast: true,
		Width: 320, Height: 180, FPS: fps, Bitrate: 500_000, KeyInterval: 2 * time.Second,
		SampleRate: 48000, Channels: 1, AudioBitrate: 96_000,
		Duration:  secs * time.Second,
		RecordDir: dir, Format: "mp4", Segment: seg * time.Second, DiskCheck: "off",
		Log:     zerolog.Nop(),
		Signals: make(chan os.Signal),
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := s.Run(ctx); err != nil {
		t.Fatal(err)
	}
	files := record.ListFiles(t, dir)
	want := []int{90, 90, 30}
	if len(files) != len(want) {
		t.Fatalf("files %v", files)
	}
	total := 0
	for i, f := range files {
		keys := record.VideoKeys(t, f)
		if len(keys) != want[i] || !keys[0] {
			t.Errorf("%s: %d frames, want %d from a keyframe", f, len(keys), want[i])
		}
		total += len(keys)
		if e := record.DecodeErrors(t, f); e != "" {
			t.Errorf("%s: decode errors: %s", f, e)
		}
		on := record.OnsetsFromZero(t, f)
		if len(on) == 0 {
			t.Errorf("%s: no beep", f)
		}
		for _, o := range on {
			if i > 0 && o < 1024.0/48000+0.002 {
				// A later segment's first AAC frame is decoded without the
				// frame before it (that one ended the previous file, so
				// that joined files neither gap nor repeat): a beep right
				// at the cut is found late in that file alone.
				// TestBFramesAndJoins checks it in the joined files.
				continue
			}
			if d := o - math.Round(o); math.Abs(d) > 0.002 {
				t.Errorf("%s: beep at %.4f s: %.2f ms off the flash", f, o, d*1000)
			}
		}
	}
	if total != fps*secs {
		t.Errorf("%d frames in all, want %d", total, fps*secs)
	}
}
