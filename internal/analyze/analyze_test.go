package analyze

import (
	"bytes"
	"context"
	"errors"
	"math"
	"testing"
	"time"

	"github.com/livecap/livecap/internal/exitcode"
)

func exitCode(err error) int {
	var ee *exitcode.Error
	if errors.As(err, &ee) {
		return ee.Code
	}
	return -1
}

// TestKnownOffsets: files made by ffmpeg with a known audio offset, in the
// content (beeps moved) or in the container (audio stream starting later),
// through H.264+AAC in MP4, FLV and MPEG-TS, are measured within 2 ms.
func TestKnownOffsets(t *testing.T) {
	needFFmpeg(t)
	dir := t.TempDir()
	cases := []struct {
		name      string
		ext       string
		delay     float64
		itsOffset float64
		want      float64 // ms
	}{
		{"zero-mp4", "mp4", 0, 0, 0},
		{"late100-mp4", "mp4", 0.100, 0, 100},
		{"late100-flv", "flv", 0.100, 0, 100},
		{"late100-ts", "ts", 0.100, 0, 100},
		{"early60-mp4", "mp4", -0.060, 0, -60},
		{"early60-flv", "flv", -0.060, 0, -60},
		{"early60-ts", "ts", -0.060, 0, -60},
		{"start100-mp4", "mp4", 0, 0.100, 100},
		{"start100-ts", "ts", 0, 0.100, 100},
		{"start100-flv", "flv", 0, 0.100, 100},
		{"zero-mov", "mov", 0, 0, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := generate(t, dir, c.name, genSpec{seconds: 6, beepDelay: c.delay, itsOffset: c.itsOffset, ext: c.ext})
			r, err := Files(context.Background(), []string{p}, Options{MaxOffset: 150 * time.Millisecond, Pairs: true})
			if err != nil {
				t.Fatal(err)
			}
			var txt bytes.Buffer
			r.WriteText(&txt)
			s := r.Sync
			if s.Pairs < 5 {
				t.Fatalf("only %d pairs:\n%s", s.Pairs, txt.String())
			}
			if math.Abs(s.MedianMs-c.want) > 2 || math.Abs(s.MinMs-c.want) > 2 || math.Abs(s.MaxMs-c.want) > 2 {
				t.Fatalf("offset median %.2f ms (range %.2f..%.2f), want %.0f ± 2 ms:\n%s", s.MedianMs, s.MinMs, s.MaxMs, c.want, txt.String())
			}
			if r.Frames.Missing != 0 || r.Frames.Repeated != 0 || r.Frames.Unreadable != 0 || r.Frames.Total != 180 {
				t.Fatalf("frames: %+v", r.Frames)
			}
			if !r.Passed || r.Err() != nil {
				t.Fatalf("check failed: %v", r.Failed)
			}
			t.Logf("%s: median %+.3f ms, range %+.3f..%+.3f ms", c.name, s.MedianMs, s.MinMs, s.MaxMs)
		})
	}
}
