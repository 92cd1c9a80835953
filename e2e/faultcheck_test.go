package e2e

import (
	"errors"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/livecap/livecap/internal/analyze"
	"github.com/livecap/livecap/internal/diskcheck"
	"github.com/livecap/livecap/internal/testpeers"
)

// ---- running livecap ----

// realtimeArgs: the real-time test source at a small size, recording to dir.
func realtimeArgs(dir string, extra ...string) []string {
	return append([]string{"stream", "--video", "test", "--audio", "test", "--size", "320x180", "--bitrate", "500k",
		"--record", dir, "--log-format", "json"}, extra...)
}

// resumeAfter measures when the stream flows again after a fault that
// lasted from faultAt to back: the first destination_connected after
// faultAt when the publisher reconnected, or else the first growth of what
// the peer received (size) after back, once the data queued before the
// fault has drained. It returns seconds from back (-1: never) and how it
// was measured.
func (r *run) resumeAfter(faultAt, back time.Time, size func() int64, timeout time.Duration) (float64, string) {
	deadline := time.Now().Add(timeout)
	last := size()
	var firstGrowth, lastGrowth time.Time
	for time.Now().Before(deadline) {
		if ev, ok := r.waitEvent("destination_connected", faultAt, 0); ok {
			return math.Max(0, ev.Time.Sub(back).Seconds()), "reconnect"
		}
		now := time.Now()
		if n := size(); n > last {
			if firstGrowth.IsZero() {
				firstGrowth = now
			}
			lastGrowth, last = now, n
		}
		// No reconnect, yet the peer's file has kept growing for 3 s:
		// the same connection carries the stream again.
		if !firstGrowth.IsZero() && now.Sub(firstGrowth) > 3*time.Second && now.Sub(lastGrowth) < time.Second {
			return math.Max(0, firstGrowth.Sub(back).Seconds()), "same connection"
		}
		time.Sleep(100 * time.Millisecond)
	}
	return -1, "never"
}

// stopGracefully interrupts the run (right after a stats event), stops
// its peer, and checks what every graceful stop must give: exit 0 and no
// secret in anything livecap printed.
func (r *run) stopGracefully(stopPeer func(), secrets ...string) {
	r.t.Helper()
	code := r.interrupt(30 * time.Second)
	stopPeer()
	r.noSecret(secrets...)
	if code != 0 {
		r.t.Errorf("exit %d after a graceful stop, want 0\n%s", code, tail(r.stderr(), 2000))
	}
}

// ---- checking what was written ----

// checkRecording analyzes and decodes every segment in dir. It returns the
// frames the recording lost (see recordingLoss) and whether all decode.
func checkRecording(t *testing.T, dir string, p *run) (lost int64, ok bool) {
	t.Helper()
	files := segments(t, dir)
	if len(files) == 0 {
		t.Errorf("no recording in %s", dir)
		return -1, false
	}
	rep, _ := analyzeFiles(t, files...)
	lost = recordingLoss(t, rep, p)
	if lost != 0 || rep.Frames.Repeated != 0 || rep.Frames.Unreadable != 0 {
		t.Errorf("recording: %d frames lost (barcode gaps %v), %d repeated, %d unreadable, want none",
			lost, rep.Frames.MissingRanges, rep.Frames.Repeated, rep.Frames.Unreadable)
	}
	return lost, decodesAll(t, files...)
}

// recordingLoss counts the frames the encoder made that the recording
// lacks. The barcode numbers every frame the source is due to make, so a
// gap is either a frame lost on the way to disk or one the real-time
// source skipped because it did not get the CPU in time (on a machine
// shared with other jobs, as a camera drops frames). The periodic stats
// events tell the two apart: by the last one, round(elapsed × fps) + 1
// frames were due and `frames` were encoded; the difference is what the
// source skipped (plus the one or two frames in flight in the encoder, so
// the estimate errs by that much in livecap's favour). Gaps after the last
// stats event cannot be attributed and count as lost.
func recordingLoss(t *testing.T, rep analyze.Report, p *run) int64 {
	t.Helper()
	var ranges [][2]int64
	if f := firstFrame(rep); f > 0 {
		ranges = append(ranges, [2]int64{0, f - 1})
	}
	for _, r := range rep.Frames.MissingRanges {
		ranges = append(ranges, [2]int64{int64(r[0]), int64(r[1])})
	}
	var gaps int64
	for _, r := range ranges {
		gaps += r[1] - r[0] + 1
	}
	if gaps == 0 {
		return 0
	}
	var upTo, skipped int64 = -1, 0
	if evs := p.events("stats"); len(evs) > 0 {
		last := evs[len(evs)-1].Fields
		elapsed, _ := last["elapsed_s"].(float64)
		frames, _ := last["frames"].(float64)
		if n, ok := last["source_skipped"].(float64); ok {
			// The source counts what it skipped: frames+skipped is the
			// index it reached.
			skipped = int64(n)
			upTo = int64(frames) + skipped - 1
		} else {
			upTo = int64(math.Floor(elapsed * 30))
			skipped = max(0, upTo+1-int64(frames))
		}
	}
	var before int64
	for _, r := range ranges {
		if r[0] <= upTo {
			before += min(r[1], upTo) - r[0] + 1
		}
	}
	lost := max(0, before-skipped) + gaps - before
	t.Logf("recording: %d barcode gaps %v; the source skipped %d frames by frame %d (CPU starvation): %d lost by livecap",
		gaps, ranges, skipped, upTo, lost)
	return lost
}

// firstFrame counts frames missing before the first one recorded: the
// recording starts at frame 0.
func firstFrame(rep analyze.Report) int64 {
	if len(rep.Files) > 0 && rep.Files[0].FirstFrame != nil {
		return int64(*rep.Files[0].FirstFrame)
	}
	return 0
}

func decodesAll(t *testing.T, files ...string) bool {
	t.Helper()
	ok := true
	for _, f := range files {
		if e := decodeErrors(t, f); e != "" {
			t.Errorf("%s: decode errors:\n%s", f, shorten(e, 1500))
			ok = false
		}
	}
	return ok
}

// checkFLVs checks what nginx recorded: at least want publishes, each of
// which decodes and starts on a keyframe.
func checkFLVs(t *testing.T, ngx *testpeers.Nginx, want int) bool {
	t.Helper()
	flvs := ngx.Recordings()
	if len(flvs) < want {
		t.Errorf("nginx recorded %d streams, want at least %d (one per connection)", len(flvs), want)
	}
	ok := len(flvs) > 0
	for _, f := range flvs {
		ok = checkPeerFile(t, f, 1) && ok
	}
	return ok
}

// checkPeerFile: what a peer received decodes without error, starts on a
// keyframe and holds at least minFrames video frames.
func checkPeerFile(t *testing.T, file string, minFrames int) bool {
	t.Helper()
	return checkPeer(t, file, minFrames, false)
}

// checkPeerFileCut is checkPeerFile for the file of a peer that was killed:
// its last frame may be cut short (decoding it reports an error), which is
// the peer's loss, not the sender's; everything before its last second
// must decode cleanly.
func checkPeerFileCut(t *testing.T, file string, minFrames int) bool {
	t.Helper()
	return checkPeer(t, file, minFrames, true)
}

func checkPeer(t *testing.T, file string, minFrames int, cut bool) bool {
	t.Helper()
	pr := testpeers.Probe(t, file)
	ok := true
	errs := pr.DecodeErrors
	if e := decodeErrors(t, file); e != "" {
		errs += "\n" + e
	}
	if errs = strings.TrimSpace(errs); errs != "" && cut {
		end := pr.Last["video"] - pr.First["video"] - 1
		head, _ := exec.Command("ffmpeg", "-nostdin", "-v", "error", "-i", file, "-t", fmt.Sprintf("%.3f", end), "-f", "null", "-").CombinedOutput()
		if h := strings.TrimSpace(string(head)); h != "" {
			errs = h
		} else {
			t.Logf("%s (peer killed): only its last second has decode errors: %s", file, shorten(errs, 300))
			errs = ""
		}
	}
	if errs != "" {
		t.Errorf("%s: decode errors: %s", file, shorten(errs, 1500))
		ok = false
	}
	if pr.Frames["video"] < minFrames {
		t.Errorf("%s: %d video frames, want at least %d", file, pr.Frames["video"], minFrames)
		return false
	}
	if fs := videoFrames(t, file); len(fs) == 0 || !fs[0].Key {
		t.Errorf("%s: does not start on a keyframe", file)
		ok = false
	}
	return ok
}

// flvBytes is the size of everything nginx has recorded so far.
func flvBytes(ngx *testpeers.Nginx) int64 {
	var n int64
	for _, f := range ngx.Recordings() {
		if fi, err := os.Stat(f); err == nil {
			n += fi.Size()
		}
	}
	return n
}

// fillDisk writes path until the file system has only leave bytes free
// (0: to the last byte).
func fillDisk(path string, leave int64) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer f.Close()
	if leave > 0 {
		free, err := diskcheck.Free(filepath.Dir(path))
		if err != nil {
			return err
		}
		n := int64(free) - leave
		buf := make([]byte, 1<<20)
		for n > 0 {
			w, err := f.Write(buf[:min(n, int64(len(buf)))])
			if err != nil {
				return err
			}
			n -= int64(w)
		}
		return f.Sync()
	}
	buf := make([]byte, 256<<10)
	for _, size := range []int{len(buf), 4096, 1} {
		for {
			if _, err := f.Write(buf[:size]); err != nil {
				if !errors.Is(err, syscall.ENOSPC) {
					return err
				}
				break
			}
		}
	}
	return nil
}

func checkRSS(t *testing.T, plan faultPlan, peak float64) {
	t.Helper()
	if peak <= 0 || peak > plan.maxRSSMB {
		t.Errorf("peak RSS %.1f MB during the fault, want under %.0f MB", peak, plan.maxRSSMB)
	}
}

// envWithout is the test's environment minus the named variables.
func envWithout(names ...string) []string {
	var env []string
next:
	for _, kv := range os.Environ() {
		for _, n := range names {
			if strings.HasPrefix(kv, n+"=") {
				continue next
			}
		}
		env = append(env, kv)
	}
	return env
}

func shorten(s string, n int) string {
	s = strings.ReplaceAll(s, "\n", " ")
	if len(s) > n {
		return s[:n] + "..."
	}
	return s
}
