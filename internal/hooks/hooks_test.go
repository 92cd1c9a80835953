package hooks

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"
)

// recorder collects events; it is the OnEvent callback of the tests.
type recorder struct {
	mu  sync.Mutex
	evs []Event
	ch  chan Event
}

func newRecorder() *recorder { return &recorder{ch: make(chan Event, 1024)} }

func (r *recorder) on(e Event) {
	r.mu.Lock()
	r.evs = append(r.evs, e)
	r.mu.Unlock()
	r.ch <- e
}

// next waits for the next event of type typ, failing after a generous
// bound so a broken runner cannot hang the suite.
func (r *recorder) next(t *testing.T, typ string) Event {
	t.Helper()
	deadline := time.After(20 * time.Second)
	for {
		select {
		case e := <-r.ch:
			if e.Type == typ {
				return e
			}
		case <-deadline:
			t.Fatalf("no %s event", typ)
		}
	}
}

func (r *recorder) all() []Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Event(nil), r.evs...)
}

func testLog(t *testing.T) (zerolog.Logger, *syncBuf) {
	b := &syncBuf{}
	return zerolog.New(b), b
}

type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuf) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// shellQuote quotes s for Split (single quotes, ' as '\”).
func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

// TestPathReachesCommandVerbatim: the path is one argv entry, byte for
// byte, however hostile it is to a shell. The command line itself goes
// through Split, as --on-segment does.
func TestPathReachesCommandVerbatim(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "got")
	cmdline := `/bin/sh -c 'printf %s "$2" > "$1"; printf %s "$#" > "$1.n"' sh ` + shellQuote(out)
	argv, err := Split(cmdline)
	if err != nil {
		t.Fatal(err)
	}
	rec := newRecorder()
	log, _ := testLog(t)
	r, err := New(argv, log, Options{OnEvent: rec.on})
	if err != nil {
		t.Fatal(err)
	}
	seg := filepath.Join(dir, `it's a "seg" $HOME; rm -rf x `+"`id`"+` *.mp4`+"\n"+`line2 \ end.mp4`)
	if err := os.WriteFile(seg, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	r.Segment(seg)
	e := rec.next(t, EventFinished)
	st := r.Close(5 * time.Second)

	got, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != seg {
		t.Errorf("command got %q, want %q", got, seg)
	}
	if n, _ := os.ReadFile(out + ".n"); string(n) != "2" {
		t.Errorf("script saw %s arguments, want 2 (the out file and the path)", n)
	}
	if e.Path != seg || e.ExitCode != 0 || e.Duration <= 0 {
		t.Errorf("finished event %+v", e)
	}
	if st != (Stats{Started: 1, Succeeded: 1}) {
		t.Errorf("stats %+v", st)
	}
}

// TestFailureCountedAndNextRuns: a failing run is logged with its stderr
// tail and exit code, counted, and the next segment's run still happens.
func TestFailureCountedAndNextRuns(t *testing.T) {
	dir := t.TempDir()
	script := filepath.Join(dir, "hook.sh")
	os.WriteFile(script, []byte(`#!/bin/sh
case "$1" in
*bad*) echo "upload of $1 refused: quota exceeded" >&2; exit 3 ;;
esac
echo "$1" >> "$(dirname "$0")/done"
`), 0o755)
	rec := newRecorder()
	log, logs := testLog(t)
	r, err := New([]string{script}, log, Options{OnEvent: rec.on})
	if err != nil {
		t.Fatal(err)
	}
	r.Segment("/rec/bad-1.mp4")
	r.Segment("/rec/good-2.mp4")
	r.Segment("/rec/good-3.mp4")
	st := r.Close(10 * time.Second)
	if st != (Stats{Started: 3, Succeeded: 2, Failed: 1}) {
		t.Fatalf("stats %+v", st)
	}
	done, _ := os.ReadFile(filepath.Join(dir, "done"))
	if string(done) != "/rec/good-2.mp4\n/rec/good-3.mp4\n" {
		t.Errorf("runs after the failure: %q", done)
	}
	var failed []Event
	var order []string
	for _, e := range rec.all() {
		order = append(order, e.Type+" "+e.Path)
		if e.Type == EventFailed {
			failed = append(failed, e)
		}
	}
	// Concurrency 1: in the order the segments closed, one at a time.
	want := []string{
		"hook_started /rec/bad-1.mp4", "hook_failed /rec/bad-1.mp4",
		"hook_started /rec/good-2.mp4", "hook_finished /rec/good-2.mp4",
		"hook_started /rec/good-3.mp4", "hook_finished /rec/good-3.mp4",
	}
	if strings.Join(order, "\n") != strings.Join(want, "\n") {
		t.Errorf("events:\n%s\nwant:\n%s", strings.Join(order, "\n"), strings.Join(want, "\n"))
	}
	if len(failed) != 1 || failed[0].ExitCode != 3 || !strings.Contains(failed[0].StderrTail, "quota exceeded") || failed[0].Killed {
		t.Errorf("failed event %+v", failed)
	}
	if !strings.Contains(logs.String(), "quota exceeded") || !strings.Contains(logs.String(), `"exit_code":3`) {
		t.Errorf("log lacks the stderr tail or exit code:\n%s", logs)
	}
}

// TestSecretArgsNotLogged: the command's arguments may carry a token; the
// log names only the program.
func TestSecretArgsNotLogged(t *testing.T) {
	log, logs := testLog(t)
	r, err := New([]string{"/bin/sh", "-c", "exit 1", "TOKEN-s3cr3t"}, log, Options{})
	if err != nil {
		t.Fatal(err)
	}
	r.Segment("/rec/a.mp4")
	if st := r.Close(10 * time.Second); st.Failed != 1 {
		t.Fatalf("stats %+v", st)
	}
	if strings.Contains(logs.String(), "s3cr3t") {
		t.Errorf("log holds an argument:\n%s", logs)
	}
}

// TestHangingHookKilledAtClose: Close waits its bound, then kills the
// run's whole process group (the shell and its sleeping child, which
// holds the stderr pipe), skips what is queued, and returns promptly.
func TestHangingHookKilledAtClose(t *testing.T) {
	dir := t.TempDir()
	pidFile := filepath.Join(dir, "pid")
	rec := newRecorder()
	log, _ := testLog(t)
	r, err := New([]string{"/bin/sh", "-c", `sleep 60 & echo $! > "$0.tmp"; mv "$0.tmp" "$0"; wait`, pidFile}, log,
		Options{OnEvent: rec.on, QueueSize: 4})
	if err != nil {
		t.Fatal(err)
	}
	r.Segment("/rec/1.mp4") // hangs
	rec.next(t, EventStarted)
	r.Segment("/rec/2.mp4") // queued behind it, never runs

	var childPid int
	for i := 0; i < 200 && childPid == 0; i++ {
		b, _ := os.ReadFile(pidFile)
		childPid, _ = strconv.Atoi(strings.TrimSpace(string(b)))
		time.Sleep(10 * time.Millisecond)
	}
	if childPid == 0 {
		t.Fatal("the hook never started its child")
	}

	const wait = 300 * time.Millisecond
	t0 := time.Now()
	st := r.Close(wait)
	took := time.Since(t0)
	// Not a speed measurement: Close must honour its own bound (wait +
	// kill grace) rather than wait for the 60 s sleep.
	if took < wait || took > wait+killWaitDelay+3*time.Second { // slack for a loaded CI machine
		t.Errorf("Close took %v with wait %v", took, wait)
	}
	if st != (Stats{Started: 1, Failed: 1, Killed: 1, Skipped: 1}) {
		t.Errorf("stats %+v", st)
	}
	var failed, skipped *Event
	for _, e := range rec.all() {
		e := e
		switch e.Type {
		case EventFailed:
			failed = &e
		case EventSkipped:
			skipped = &e
		}
	}
	if failed == nil || !failed.Killed || failed.ExitCode != -1 || failed.Path != "/rec/1.mp4" {
		t.Errorf("failed event %+v", failed)
	}
	if skipped == nil || skipped.Path != "/rec/2.mp4" {
		t.Errorf("skipped event %+v", skipped)
	}
	// The grandchild went with the group (gone, or a zombie awaiting init).
	for i := 0; ; i++ {
		b, err := os.ReadFile("/proc/" + strconv.Itoa(childPid) + "/stat")
		if err != nil || strings.Contains(string(b), ") Z ") {
			break
		}
		if i == 200 {
			t.Fatalf("the hook's child %d survived Close: %s", childPid, b)
		}
		time.Sleep(10 * time.Millisecond)
	}
	// Segment after Close is a counted skip, not a panic.
	r.Segment("/rec/3.mp4")
	if r.Stats().Skipped != 2 {
		t.Errorf("stats after a late Segment %+v", r.Stats())
	}
	if st2 := r.Close(0); st2 != st {
		t.Errorf("second Close %+v, first %+v", st2, st)
	}
}

// TestSegmentNeverBlocks: with one run hanging and the queue full,
// Segment returns at once and counts each overflow as skipped.
func TestSegmentNeverBlocks(t *testing.T) {
	rec := newRecorder()
	log, logs := testLog(t)
	r, err := New([]string{"/bin/sh", "-c", "exec sleep 60"}, log, Options{OnEvent: rec.on, QueueSize: 2})
	if err != nil {
		t.Fatal(err)
	}
	r.Segment("/rec/0.mp4")
	rec.next(t, EventStarted) // the worker holds 0; the queue is empty

	done := make(chan struct{})
	go func() {
		for i := 1; i <= 100; i++ {
			r.Segment("/rec/" + strconv.Itoa(i) + ".mp4")
		}
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second): // a hang, not a speed bound
		t.Fatal("Segment blocked while a hook hangs")
	}
	if st := r.Stats(); st.Skipped != 98 || st.Started != 1 {
		t.Errorf("stats %+v, want 1 started, 2 queued, 98 skipped", st)
	}
	if !strings.Contains(logs.String(), `"path":"/rec/100.mp4"`) {
		t.Error("a skipped run is not logged with its path")
	}
	st := r.Close(0)
	if st != (Stats{Started: 1, Failed: 1, Killed: 1, Skipped: 100}) {
		t.Errorf("stats at Close %+v", st)
	}
}

// TestConcurrency: with Concurrency 2, two runs are under way together.
func TestConcurrency(t *testing.T) {
	dir := t.TempDir()
	rec := newRecorder()
	log, _ := testLog(t)
	// Each run waits until both have started (a rendezvous through files).
	r, err := New([]string{"/bin/sh", "-c", `touch "$1.started"; for i in $(seq 200); do [ -e "$0/a.started" ] && [ -e "$0/b.started" ] && exit 0; sleep 0.05; done; exit 9`, dir},
		log, Options{OnEvent: rec.on, Concurrency: 2})
	if err != nil {
		t.Fatal(err)
	}
	r.Segment(filepath.Join(dir, "a"))
	r.Segment(filepath.Join(dir, "b"))
	if st := r.Close(20 * time.Second); st != (Stats{Started: 2, Succeeded: 2}) {
		t.Errorf("stats %+v (exit 9 means the runs did not overlap)", st)
	}
}

// TestTimeout kills one slow run and goes on with the next.
func TestTimeout(t *testing.T) {
	rec := newRecorder()
	log, _ := testLog(t)
	r, err := New([]string{"/bin/sh", "-c", `case "$0" in *slow*) exec sleep 60;; esac`}, log,
		Options{OnEvent: rec.on, Timeout: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	r.Segment("/rec/slow.mp4")
	r.Segment("/rec/fast.mp4")
	e := rec.next(t, EventFailed)
	if !e.Killed || !strings.Contains(e.Error, "timeout") {
		t.Errorf("failed event %+v", e)
	}
	rec.next(t, EventFinished)
	if st := r.Close(5 * time.Second); st != (Stats{Started: 2, Succeeded: 1, Failed: 1, Killed: 1}) {
		t.Errorf("stats %+v", st)
	}
}

// TestProgramNotFound: a missing program is refused by New (a usage
// error); one that vanishes later is a counted failure per run.
func TestProgramNotFound(t *testing.T) {
	log, _ := testLog(t)
	if _, err := New([]string{"livecap-no-such-uploader"}, log, Options{}); err == nil || !strings.Contains(err.Error(), `"livecap-no-such-uploader" not found`) {
		t.Errorf("New with a missing program: %v", err)
	}
	if _, err := New(nil, log, Options{}); err == nil {
		t.Error("New with no command: no error")
	}

	dir := t.TempDir()
	script := filepath.Join(dir, "up.sh")
	os.WriteFile(script, []byte("#!/bin/sh\nexit 0\n"), 0o755)
	rec := newRecorder()
	r, err := New([]string{script}, log, Options{OnEvent: rec.on})
	if err != nil {
		t.Fatal(err)
	}
	os.Remove(script)
	r.Segment("/rec/a.mp4")
	e := rec.next(t, EventFailed)
	if e.ExitCode != -1 || e.Killed || e.Error == "" {
		t.Errorf("failed event %+v", e)
	}
	if st := r.Close(time.Second); st != (Stats{Started: 1, Failed: 1}) {
		t.Errorf("stats %+v", st)
	}
}

func TestTailBuffer(t *testing.T) {
	b := &tailBuffer{max: 8}
	b.Write([]byte("abc"))
	if b.String() != "abc" {
		t.Errorf("%q", b.String())
	}
	b.Write([]byte("defghij"))
	if b.String() != "…cdefghij" {
		t.Errorf("%q", b.String())
	}
	b.Write([]byte("0123456789"))
	if b.String() != "…23456789" {
		t.Errorf("%q", b.String())
	}
}
