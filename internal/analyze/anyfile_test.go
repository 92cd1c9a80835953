package analyze

import (
	"bytes"
	"context"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// ffmpegMake runs ffmpeg with args (inputs and output) and fails the test
// on error.
func ffmpegMake(t *testing.T, args ...string) {
	t.Helper()
	cmd := exec.Command("ffmpeg", append([]string{"-nostdin", "-hide_banner", "-loglevel", "error", "-y"}, args...)...)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("ffmpeg %v: %v\n%s", args, err, out)
	}
}

// ordinary is an ordinary recording, not the test pattern: FFmpeg's
// testsrc2 and a 440 Hz sine, keyframes every 15 frames.
func ordinary(t *testing.T, dir, name string, extra ...string) string {
	out := filepath.Join(dir, name)
	args := []string{"-f", "lavfi", "-i", "testsrc2=s=320x180:r=30:d=4", "-f", "lavfi", "-i", "sine=f=440:r=48000:d=4"}
	args = append(args, extra...)
	args = append(args, "-c:v", "libx264", "-preset", "ultrafast", "-g", "15", "-sc_threshold", "0", "-pix_fmt", "yuv420p",
		"-c:a", "aac", "-ac", "2", out)
	ffmpegMake(t, args...)
	return out
}

func analyzeText(t *testing.T, paths []string, o Options) (*Report, string) {
	t.Helper()
	r, err := Files(context.Background(), paths, o)
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := r.WriteText(&b); err != nil {
		t.Fatal(err)
	}
	return r, b.String()
}

// A recording that is not the test pattern is reported, not failed: its
// timestamps, keyframes and A/V start, and no sync or frame numbers.
func TestOrdinaryRecording(t *testing.T) {
	needFFmpeg(t)
	p := ordinary(t, t.TempDir(), "plain.mp4")
	r, txt := analyzeText(t, []string{p}, Options{})
	if r.Pattern || !r.Passed || r.Err() != nil {
		t.Fatalf("ordinary file: pattern %v, passed %v, failed %v\n%s", r.Pattern, r.Passed, r.Failed, txt)
	}
	f := r.Files[0]
	if f.VideoFrames != 120 || f.Keyframes != 8 || !f.FirstIsKeyframe ||
		math.Abs(f.KeyframeIntervalMinS-0.5) > 0.001 || math.Abs(f.KeyframeIntervalMaxS-0.5) > 0.001 ||
		f.VideoPTSGaps != 0 || f.VideoPTSBackwards != 0 || math.Abs(f.FrameIntervalMs-33.333) > 0.01 ||
		f.DecodeErrors != 0 || f.AudioGaps != 0 || f.AVStartOffsetMs == nil || math.Abs(*f.AVStartOffsetMs) > 1 {
		t.Fatalf("facts: %+v\n%s", f, txt)
	}
	if f.FirstFrame != nil || f.Flashes != 0 || r.Sync.Pairs != 0 || r.Frames.Missing != 0 {
		t.Fatalf("pattern measures reported on an ordinary file: %+v %+v", f, r.Frames)
	}
	for _, want := range []string{"not the livecap test pattern", "keyframes: 8, every 0.50..0.50 s", "first picture = +0.0 ms", "decode errors: 0"} {
		if !strings.Contains(txt, want) {
			t.Errorf("text report lacks %q:\n%s", want, txt)
		}
	}
	// Asking for an offset limit on it is a failed check that says why.
	r, _ = analyzeText(t, []string{p}, Options{MaxOffset: 20 * time.Millisecond})
	if r.Passed || !isCheck(r.Err()) || !strings.Contains(r.Failed[0], "no test pattern") {
		t.Fatalf("--max-offset on an ordinary file: passed %v, %v", r.Passed, r.Failed)
	}
}

// Lost frames, a late audio start and damaged data are each reported.
func TestOrdinaryRecordingFaults(t *testing.T) {
	needFFmpeg(t)
	dir := t.TempDir()
	// Frames 30..39 dropped, timestamps kept: one 366.7 ms step.
	gaps := ordinary(t, dir, "gaps.mkv", "-vf", "select='not(between(n\\,30\\,39))'", "-fps_mode", "passthrough")
	r, txt := analyzeText(t, []string{gaps}, Options{})
	if f := r.Files[0]; f.VideoFrames != 110 || f.VideoPTSGaps != 1 || math.Abs(f.MaxFrameIntervalM-366.667) > 1 {
		t.Fatalf("dropped frames: %+v\n%s", f, txt)
	}

	// Audio delayed by 200 ms at the input: FFmpeg's AAC encoder then
	// starts it 1024 samples (its priming) earlier, 178.7 ms after video,
	// as ffprobe's start_time says too.
	late := filepath.Join(dir, "late.mp4")
	ffmpegMake(t, "-f", "lavfi", "-i", "testsrc2=s=320x180:r=30:d=4", "-itsoffset", "0.2", "-f", "lavfi", "-i", "sine=r=48000:d=3",
		"-c:v", "libx264", "-preset", "ultrafast", "-c:a", "aac", late)
	r, txt = analyzeText(t, []string{late}, Options{})
	if f := r.Files[0]; f.AVStartOffsetMs == nil || math.Abs(*f.AVStartOffsetMs-(200-1024.0/48)) > 1.5 {
		t.Fatalf("audio 178.7 ms late: %+v\n%s", f, txt)
	}

	// Flip bytes in the media data: the decoders complain, the report
	// counts it and quotes them.
	data, err := os.ReadFile(ordinary(t, dir, "good.ts"))
	if err != nil {
		t.Fatal(err)
	}
	for i := 20000; i < len(data)-20000; i += 3000 {
		data[i] ^= 0x55
	}
	bad := filepath.Join(dir, "bad.ts")
	if err := os.WriteFile(bad, data, 0o644); err != nil {
		t.Fatal(err)
	}
	r, txt = analyzeText(t, []string{bad}, Options{})
	if f := r.Files[0]; f.DecodeErrors == 0 || len(f.DecodeErrorLines) == 0 || !strings.Contains(txt, "decode errors: ") {
		t.Fatalf("damaged file: %+v\n%s", f, txt)
	}
}

// Segments cut from one timeline join without a gap; the report says so
// without frame numbers.
func TestOrdinarySegmentsJoin(t *testing.T) {
	needFFmpeg(t)
	dir := t.TempDir()
	ffmpegMake(t, "-f", "lavfi", "-i", "testsrc2=s=320x180:r=30:d=4", "-f", "lavfi", "-i", "sine=r=48000:d=4",
		"-c:v", "libx264", "-preset", "ultrafast", "-g", "30", "-c:a", "aac",
		"-f", "segment", "-segment_time", "2", "-reset_timestamps", "0", filepath.Join(dir, "seg%d.ts"))
	segs := []string{filepath.Join(dir, "seg0.ts"), filepath.Join(dir, "seg1.ts")}
	r, txt := analyzeText(t, segs, Options{})
	if r.Pattern || !r.Passed || len(r.Joins) != 1 {
		t.Fatalf("segments:\n%s", txt)
	}
	j := r.Joins[0]
	if !j.SameTimeline || math.Abs(j.PTSGapMs) > 0.5 || j.AudioGapMs == nil || math.Abs(*j.AudioGapMs) > 25 {
		t.Fatalf("join %+v\n%s", j, txt)
	}
}

// A few seconds of the pattern give a drift over what was measured, never
// an hourly figure extrapolated from it.
func TestDriftNotExtrapolated(t *testing.T) {
	needFFmpeg(t)
	p := generate(t, t.TempDir(), "short", genSpec{seconds: 6, ext: "mp4"})
	r, txt := analyzeText(t, []string{p}, Options{})
	if !r.Pattern || r.Sync.Pairs < 5 || r.Sync.DriftMsPerHour != 0 || math.Abs(r.Sync.DriftMs) > 2 ||
		!strings.Contains(txt, "no hourly figure") {
		t.Fatalf("short pattern file: %+v\n%s", r.Sync, txt)
	}
}
