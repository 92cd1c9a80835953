package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// --on-segment gets every closed segment's path as its last argument, byte
// for byte, in order, even when the record folder's path has spaces and
// quotes: no shell ever sees it.
func TestHookPathWithSpacesAndQuotes(t *testing.T) {
	dir := filepath.Join(t.TempDir(), `rec dir "q" 'x' $HOME;`)
	out := filepath.Join(t.TempDir(), "paths")
	// NUL-terminated records: the only byte a path cannot contain.
	hook := writeScript(t, `for last; do :; done; printf '%s\0' "$last" >> `+shellQuote(out))
	r := livecap(t, 60*time.Second, nil, "stream", "--video", "test", "--audio", "test", "--fast",
		"--size", "160x96", "--duration", "35s", "--segment", "10s", "--record", dir,
		"--on-segment", hook+" --upload", "--log-format", "json")
	if r.code != 0 {
		t.Fatalf("exit %d\n%s", r.code, tail(r.stderr, 3000))
	}
	files := segments(t, dir)
	if len(files) != 4 {
		t.Fatalf("recorded %v, want 4 segments", files)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatalf("the hook never ran: %v\n%s", err, tail(r.stderr, 2000))
	}
	got := strings.Split(strings.TrimSuffix(string(b), "\x00"), "\x00")
	if strings.Join(got, "\n") != strings.Join(files, "\n") {
		t.Errorf("hook got\n%q\nwant, in order,\n%q", got, files)
	}
	if n := strings.Count(r.stderr, `"event":"hook_finished"`); n != 4 {
		t.Errorf("%d hook_finished events, want 4", n)
	}
}

// A hook that hangs never delays recording, and at exit livecap waits
// --on-segment-wait for it, kills it, and says so.
func TestHookThatHangs(t *testing.T) {
	dir := t.TempDir()
	const wait = 2 * time.Second
	start := time.Now()
	r := livecap(t, 60*time.Second, nil, "stream", "--video", "test", "--audio", "test", "--fast",
		"--size", "160x96", "--duration", "25s", "--segment", "10s", "--record", dir,
		"--on-segment", writeScript(t, "sleep 1000"), "--on-segment-wait", wait.String(), "--log-format", "json")
	took := time.Since(start)
	if r.code != 0 {
		t.Fatalf("exit %d\n%s", r.code, tail(r.stderr, 3000))
	}
	// Recording was not held up: every segment is whole.
	files := segments(t, dir)
	if len(files) != 3 {
		t.Fatalf("recorded %v, want 3 segments", files)
	}
	total := 0
	for _, f := range files {
		total += probe(t, f).stream("video").frames()
	}
	if total != 25*30 {
		t.Errorf("segments hold %d frames, want %d", total, 25*30)
	}
	// Bounded exit: the wait, the kill (killWaitDelay 1 s) and the rest of
	// a --fast run that by itself takes about a second.
	if took > wait+6*time.Second {
		t.Errorf("livecap took %v with --on-segment-wait %v", took, wait)
	}
	var killed, skipped int
	for _, e := range parseEvents(t, r.stderr) {
		switch e["event"] {
		case "hook_failed":
			if e["killed"] == true {
				killed++
			}
		case "hook_skipped":
			skipped++
		case "hooks_done":
			if e["killed"] != float64(1) || e["skipped"] != float64(2) {
				t.Errorf("hooks_done %v, want killed 1, skipped 2", e)
			}
		}
	}
	if killed != 1 || skipped != 2 {
		t.Errorf("%d hook_failed killed, %d hook_skipped; want 1 and 2\n%s", killed, skipped, tail(r.stderr, 2000))
	}
	t.Logf("exit after %v with --on-segment-wait %v", took.Round(time.Millisecond), wait)
}
