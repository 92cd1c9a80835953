package e2e

import (
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Issue 11, item 8: frames the source skips are never silent. A real
// stall (SIGSTOP for 1.5 s, then SIGCONT) makes the real-time test source
// fall behind and skip about 45 frames: a frames_skipped event says so
// while the run goes on, stopped has the totals, keyframes stay at most
// --keyint apart in the file, and --max-skipped fails the run (exit 9)
// with the files finalized.
func TestSkippedFramesReported(t *testing.T) {
	cases := []struct {
		name       string
		maxSkipped string
		code       int
		reason     string
	}{
		{"reported", "", 0, "duration"},
		{"under a percentage", "60%", 0, "duration"},
		{"over a count", "10", 9, "max_skipped"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			args := []string{"stream", "--video", "test", "--audio", "test", "--size", "320x180", "--keyint", "2s",
				"--duration", "10s", "--record", dir, "--log-format", "json"}
			if c.maxSkipped != "" {
				args = append(args, "--max-skipped", c.maxSkipped)
			}
			r := startRun(t, nil, args...)
			r.mustEvent("segment_opened", time.Time{}, 20*time.Second)
			time.Sleep(1500 * time.Millisecond)
			r.signal(syscall.SIGSTOP)
			time.Sleep(1500 * time.Millisecond)
			r.signal(syscall.SIGCONT)
			code := r.wait(40 * time.Second)
			if code != c.code {
				t.Fatalf("exit %d, want %d\n%s", code, c.code, tail(r.stderr(), 3000))
			}
			evs := parseEvents(t, r.stderr())
			last := evs[len(evs)-1]
			skipped, _ := last["source_skipped"].(float64)
			if last["event"] != "stopped" || last["reason"] != c.reason || skipped < 25 {
				t.Fatalf("last event %v: want stopped, reason %s, source_skipped about 45", last, c.reason)
			}
			if c.code == 0 && len(ofType(evs, "frames_skipped")) == 0 {
				t.Errorf("no frames_skipped event while the run went on")
			}
			// The recording holds what was encoded, and it is whole.
			frames, _ := last["frames"].(float64)
			files := segments(t, dir)
			if len(files) != 1 {
				t.Fatalf("files %v", files)
			}
			fr := videoFrames(t, files[0])
			if len(fr) != int(frames) {
				t.Errorf("%d frames in the file, stopped says %v", len(fr), frames)
			}
			if e := decodeErrors(t, files[0]); e != "" {
				t.Errorf("decode errors: %s", e)
			}
			// --keyint 2s holds in media time across the skipped frames: a
			// frame 2 s or more after the last keyframe is a keyframe (the
			// first frame after the stall may itself come later than that).
			lastKey := 0.0
			for _, f := range fr {
				if f.Key {
					lastKey = f.PTS
				} else if f.PTS-lastKey >= 2.0 {
					t.Errorf("frame at %.3f s is not a keyframe %.3f s after the last one: more than --keyint 2s", f.PTS, f.PTS-lastKey)
					break
				}
			}
		})
	}
}

// On a terminal the status line says how many frames were skipped, and
// the frames_skipped warning is a log line above it.
func TestStatusLineShowsSkipped(t *testing.T) {
	r := startWith(t, runOptions{cols: 160}, "stream", "--video", "test", "--audio", "test",
		"--size", "160x96", "--duration", "8s", "--record", t.TempDir())
	time.Sleep(2500 * time.Millisecond) // the status line is up
	r.signal(syscall.SIGSTOP)
	time.Sleep(1500 * time.Millisecond)
	r.signal(syscall.SIGCONT)
	if code := r.wait(40 * time.Second); code != 0 {
		t.Fatalf("exit %d\n%q", code, tail(r.stderr(), 3000))
	}
	skippedRe := regexp.MustCompile(`^\d\d:\d\d:\d\d  \d+ fps  \S+ [kM]b/s  skipped (\d+)`)
	n := 0
	for _, c := range strings.Split(r.stderr(), eraseLine)[1:] {
		last := c[strings.LastIndexByte(c, '\n')+1:]
		if m := skippedRe.FindStringSubmatch(last); m != nil {
			n = max(n, atoi(m[1]))
		}
	}
	if n < 20 {
		t.Errorf("the status line showed at most %d skipped frames after a 1.5 s stall, want about 45:\n%q", n, tail(r.stderr(), 2000))
	}
	if !strings.Contains(r.stderr(), "WRN frames skipped") {
		t.Errorf("no frames_skipped warning on the terminal")
	}
}
