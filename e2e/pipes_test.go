package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/livecap/livecap/internal/testpeers"
)

// Issue 11, item 6: the environment cannot stop a recording. A log reader
// that goes away, a closed terminal (SIGHUP) and a closed stdout under
// --latency-report: each run keeps recording, finalizes its files, emits
// stopped last and exits 0.

// checkWhole asserts that dir holds one recording of minFrames..maxFrames
// frames that decodes without an error. (A real-time source on a loaded
// machine skips frames; the stopped event counts them.)
func checkWhole(t *testing.T, dir string, minFrames, maxFrames int) {
	t.Helper()
	files := segments(t, dir)
	if len(files) != 1 {
		t.Fatalf("files %v, want one segment", files)
	}
	p := probe(t, files[0])
	v := p.stream("video")
	if v == nil || v.frames() < minFrames || v.frames() > maxFrames {
		t.Fatalf("%s: video %+v, want %d..%d frames", files[0], v, minFrames, maxFrames)
	}
	if a := p.stream("audio"); a == nil || a.frames() == 0 {
		t.Errorf("%s: no audio", files[0])
	}
	if e := decodeErrors(t, files[0]); e != "" {
		t.Errorf("%s: decode errors: %s", files[0], e)
	}
}

// `livecap ... --log-format json 2>&1 | head -1`: head exits after the
// first line, every later log write meets a broken pipe (it used to die of
// SIGPIPE, 141, on the second line, leaving a 0-byte segment).
func TestLogReaderGoneKeepsRecording(t *testing.T) {
	dir := t.TempDir()
	r := startWith(t, runOptions{shell: "2>&1 | head -1"}, "stream", "--video", "test", "--audio", "test",
		"--size", "320x180", "--segment", "1m", "--duration", "4s", "--record", dir, "--log-format", "json")
	if code := r.wait(30 * time.Second); code != 0 {
		t.Fatalf("exit %d, want 0\nstdout: %s", code, r.out.String())
	}
	if !strings.Contains(r.out.String(), `"event":"`) || strings.Count(r.out.String(), "\n") != 1 {
		t.Errorf("head saw %q, want one event line", r.out.String())
	}
	checkWhole(t, dir, 60, 120)
}

// A stderr that is closed before livecap starts: logs go nowhere, the
// recording is whole.
func TestClosedStderrKeepsRecording(t *testing.T) {
	dir := t.TempDir()
	r := startWith(t, runOptions{shell: "2>&-"}, "stream", "--video", "test", "--audio", "test",
		"--size", "320x180", "--duration", "3s", "--record", dir, "--log-format", "json")
	if code := r.wait(30 * time.Second); code != 0 {
		t.Fatalf("exit %d, want 0", code)
	}
	checkWhole(t, dir, 45, 90)
}

// Closing the terminal or the SSH session sends SIGHUP: a graceful stop
// like SIGTERM (it used to exit 129 at once, the segment unfinished).
// A second SIGHUP (kernel and shell both send one) does not force a stop.
func TestHangupFinalizes(t *testing.T) {
	dir := t.TempDir()
	r := startRun(t, nil, "stream", "--video", "test", "--audio", "test", "--size", "320x180",
		"--record", dir, "--log-format", "json")
	r.mustEvent("segment_opened", time.Time{}, 20*time.Second)
	time.Sleep(1500 * time.Millisecond) // a fragment or two on disk
	r.signal(syscall.SIGHUP)
	r.signal(syscall.SIGHUP)
	if code := r.wait(20 * time.Second); code != 0 {
		t.Fatalf("exit %d, want 0\n%s", code, tail(r.stderr(), 2000))
	}
	evs := parseEvents(t, r.stderr())
	last := evs[len(evs)-1]
	if last["event"] != "stopped" || last["reason"] != "hangup" || last["exit_code"] != float64(0) {
		t.Errorf("last event %v, want stopped with reason hangup and exit_code 0", last)
	}
	if len(ofType(evs, "segment_closed")) != 1 {
		t.Errorf("want the segment closed (finalized)")
	}
	checkWhole(t, dir, 30, 100000)
}

// --latency-report writes to stdout at exit; a stdout whose reader went
// away must not change the exit code (it used to be 141).
func TestLatencyReportClosedStdout(t *testing.T) {
	ngx := testpeers.StartNginx(t)
	dir := t.TempDir()
	r := startWith(t, runOptions{shell: "| true"}, "stream", "--video", "test", "--audio", "test", "--size", "320x180",
		"--duration", "3s", "--rtmp", ngx.URL("key"), "--record", dir, "--latency-report", "--log-format", "json")
	if code := r.wait(40 * time.Second); code != 0 {
		t.Fatalf("exit %d, want 0\n%s", code, tail(r.stderr(), 2000))
	}
	evs := parseEvents(t, r.stderr())
	last := evs[len(evs)-1]
	if last["event"] != "stopped" || last["exit_code"] != float64(0) {
		t.Errorf("last event %v, want stopped, exit_code 0", last)
	}
	n, _ := last["frames"].(float64)
	checkWhole(t, dir, int(n), int(n))
}

// --log-file: the log and the events go to the file (appended), nothing to
// stderr but a final error.
func TestLogFile(t *testing.T) {
	dir := t.TempDir()
	logf := filepath.Join(t.TempDir(), "livecap.log")
	if err := os.WriteFile(logf, []byte("earlier line\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	r := startRun(t, nil, "stream", "--video", "test", "--audio", "test", "--size", "320x180", "--fast",
		"--duration", "2s", "--record", dir, "--log-file", logf)
	if code := r.wait(30 * time.Second); code != 0 {
		t.Fatalf("exit %d\n%s", code, r.stderr())
	}
	if r.stderr() != "" {
		t.Errorf("stderr %q, want nothing", r.stderr())
	}
	b, err := os.ReadFile(logf)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(b), "earlier line\n") {
		t.Errorf("the log file was not appended to")
	}
	evs := parseEvents(t, strings.TrimPrefix(string(b), "earlier line\n"))
	if len(evs) < 3 || len(ofType(evs, "started")) != 1 || evs[len(evs)-1]["event"] != "stopped" {
		t.Errorf("events in the log file: %v", evs)
	}
	// A log file that cannot be opened is a usage error before anything starts.
	r2 := startRun(t, nil, "stream", "--video", "test", "--audio", "none", "--fast", "--duration", "1s", "--record", dir,
		"--log-file", filepath.Join(dir, "no", "such", "dir", "x.log"))
	if code := r2.wait(10 * time.Second); code != 2 || !strings.Contains(r2.stderr(), "invalid --log-file") {
		t.Errorf("exit %d, %q: want 2 naming --log-file", code, r2.stderr())
	}
}
