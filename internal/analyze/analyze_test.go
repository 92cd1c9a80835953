package analyze

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"math"
	"strings"
	"testing"
	"time"
)

func isCheck(err error) bool {
	var ce *CheckError
	return errors.As(err, &ce)
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

func seq(from, n int) []uint32 {
	s := make([]uint32, n)
	for i := range s {
		s[i] = uint32(from + i)
	}
	return s
}

// TestSegmentsJoin: two segments whose frame numbers follow each other join
// without a gap (timestamps restart in each file, as separate recordings
// do); a third with 5 frames lost fails the check unless gaps are allowed.
// These files are encoded separately, so their audio does not join
// sample-exactly (AAC end padding): beeps cut by a file start are not
// measured, 4 pairs out of 6 flashes.
func TestSegmentsJoin(t *testing.T) {
	needFFmpeg(t)
	dir := t.TempDir()
	a := generate(t, dir, "seg1", genSpec{numbers: seq(0, 90), ext: "mp4"})
	b := generate(t, dir, "seg2", genSpec{numbers: seq(90, 90), ext: "mp4"})
	c := generate(t, dir, "seg3", genSpec{numbers: seq(185, 60), ext: "mp4"})

	r, err := Files(context.Background(), []string{a, b}, Options{MaxOffset: 5 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if !r.Passed || len(r.Joins) != 1 || !r.Joins[0].Continuous || r.Frames.Total != 180 || r.Sync.Pairs != 4 {
		var txt bytes.Buffer
		r.WriteText(&txt)
		t.Fatalf("two continuous segments:\n%s", txt.String())
	}
	if f := r.Files[1]; *f.FirstFrame != 90 || *f.LastFrame != 179 || math.Abs(f.VideoDurationS-3) > 0.001 {
		t.Fatalf("second file: %+v", f)
	}

	r, err = Files(context.Background(), []string{a, b, c}, Options{MaxOffset: 5 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	var txt bytes.Buffer
	r.WriteText(&txt)
	if r.Passed || !isCheck(r.Err()) || r.Frames.Missing != 5 ||
		len(r.Frames.MissingRanges) != 1 || r.Frames.MissingRanges[0] != [2]uint32{180, 184} ||
		r.Joins[1].Continuous || r.Joins[1].MissingFrames != 5 {
		t.Fatalf("gap of 5 frames not reported:\n%s", txt.String())
	}
	if !strings.Contains(txt.String(), "GAP of 5 frames") || !strings.Contains(txt.String(), "missing: 180-184") {
		t.Fatalf("text report:\n%s", txt.String())
	}
	// The sync is still measured across the three files (pairs on one
	// session timeline, the beep phase follows the frame numbers).
	if r.Sync.Pairs != 6 || r.Sync.MaxAbsMs > 2 {
		t.Fatalf("sync over 3 files: %+v", r.Sync)
	}

	r, err = Files(context.Background(), []string{a, b, c}, Options{AllowGaps: true})
	if err != nil || !r.Passed || r.Err() != nil {
		t.Fatalf("--allow-gaps: err %v, failed %v", err, r.Failed)
	}
}

// TestRepeatedAndOffsetLimit: repeated frame numbers are reported, and an
// offset above the limit fails the check with a CheckError; the JSON form
// carries the documented fields.
func TestRepeatedAndOffsetLimit(t *testing.T) {
	needFFmpeg(t)
	dir := t.TempDir()
	nums := append(seq(0, 50), seq(48, 40)...) // 48, 49 shown twice
	p := generate(t, dir, "rep", genSpec{numbers: nums, beepDelay: 0.030, ext: "ts"})
	r, err := Files(context.Background(), []string{p}, Options{MaxOffset: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if r.Frames.Repeated != 2 || r.Frames.Missing != 0 || r.Passed {
		t.Fatalf("frames %+v, failed %v", r.Frames, r.Failed)
	}
	if len(r.Failed) != 2 || !strings.Contains(r.Failed[0], "exceeds 20ms") {
		t.Fatalf("failed checks: %q", r.Failed)
	}
	js, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	var back map[string]any
	json.Unmarshal(js, &back)
	sync := back["sync"].(map[string]any)
	if _, ok := sync["max_abs_ms"]; !ok || back["passed"] != false {
		t.Fatalf("json: %s", js)
	}
}

func TestUsageErrors(t *testing.T) {
	for _, c := range []struct {
		paths []string
		opts  Options
	}{
		{nil, Options{}},
		{[]string{"/nonexistent/file.mp4"}, Options{}},
		{[]string{t.TempDir()}, Options{}},
		{[]string{"x"}, Options{MaxOffset: -time.Millisecond}},
	} {
		_, err := Files(context.Background(), c.paths, c.opts)
		if !errors.Is(err, ErrUsage) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%v %+v: got %v, want one-line usage error", c.paths, c.opts, err)
		}
	}
}
