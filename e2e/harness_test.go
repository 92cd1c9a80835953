package e2e

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/creack/pty"
)

// The one way e2e runs livecap while a test watches it: start (with an
// environment, optionally on a terminal or inside a shell pipeline), wait
// for an event, signal, interrupt, kill, sample memory.

// syncBuffer collects a process's output while the test reads it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

type memSample struct {
	at       time.Time
	rss, hwm int64 // kB
}

// run is one livecap process under test, its log and its memory.
type run struct {
	t        *testing.T
	cmd      *exec.Cmd
	out, err syncBuffer
	done     chan struct{}
	code     int

	mu      sync.Mutex
	samples []memSample
}

// runOptions say how a run is started; the zero value runs livecap with
// the test's environment, stdout and stderr on pipes.
type runOptions struct {
	env []string // added to os.Environ()
	// exactEnv, when set, is the whole environment instead.
	exactEnv []string
	// cols > 0 puts stderr on a pseudo-terminal that wide (stdout stays a
	// pipe), as a person at a terminal runs it.
	cols int
	// shell, when set, runs livecap inside bash followed by this text (a
	// pipeline or a redirection, such as "2>&1 | head -1"); the exit code is
	// livecap's own.
	shell string
	// onLine is called with each line livecap writes to stderr.
	onLine func(string)
}

func startRun(t *testing.T, env []string, args ...string) *run {
	return startWith(t, runOptions{env: env}, args...)
}

// startRunEnv starts livecap with exactly env.
func startRunEnv(t *testing.T, env []string, args ...string) *run {
	return startWith(t, runOptions{exactEnv: env}, args...)
}

// startWith starts livecap and samples its memory every 200 ms until it
// exits. The process is killed if the test ends first.
func startWith(t *testing.T, o runOptions, args ...string) *run {
	t.Helper()
	r := &run{t: t, done: make(chan struct{})}
	if o.shell != "" {
		script := `"$0" "$@" ` + o.shell + `; exit ${PIPESTATUS[0]}`
		r.cmd = exec.Command("bash", append([]string{"-c", script, binary}, args...)...)
	} else {
		r.cmd = exec.Command(binary, args...)
	}
	r.cmd.Env = append(os.Environ(), o.env...)
	if o.exactEnv != nil {
		r.cmd.Env = o.exactEnv
	}
	var errOut io.Writer = &r.err
	if o.onLine != nil {
		errOut = &lineWriter{next: errOut, onLine: o.onLine}
	}
	r.cmd.Stdout, r.cmd.Stderr = &r.out, errOut
	var copied chan struct{}
	if o.cols > 0 {
		ptmx, tty, err := pty.Open()
		if err != nil {
			t.Skipf("no pseudo-terminal: %v", err)
		}
		t.Cleanup(func() { ptmx.Close() })
		if err := pty.Setsize(ptmx, &pty.Winsize{Rows: 40, Cols: uint16(o.cols)}); err != nil {
			t.Fatal(err)
		}
		r.cmd.Env = append(r.cmd.Env, "NO_COLOR=1", "TERM=xterm")
		r.cmd.Stderr = tty
		defer tty.Close() // the child holds its own copy; EOF (EIO) comes when it exits
		copied = make(chan struct{})
		go func() { _, _ = io.Copy(errOut, ptmx); close(copied) }()
	}
	if err := r.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		err := r.cmd.Wait()
		if copied != nil {
			select {
			case <-copied:
			case <-time.After(5 * time.Second):
				t.Error("pseudo-terminal still open 5s after livecap exited")
			}
		}
		r.code = 0
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			r.code = ee.ExitCode()
			if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
				r.code = 128 + int(ws.Signal())
			}
		}
		close(r.done)
	}()
	go r.sample()
	t.Cleanup(func() {
		select {
		case <-r.done:
		default:
			_ = r.cmd.Process.Kill()
			<-r.done
		}
		r.saveLog()
	})
	return r
}

// lineWriter calls onLine for each complete line written through it.
type lineWriter struct {
	next    io.Writer
	onLine  func(string)
	partial []byte
}

func (w *lineWriter) Write(p []byte) (int, error) {
	w.partial = append(w.partial, p...)
	for {
		i := bytes.IndexByte(w.partial, '\n')
		if i < 0 {
			break
		}
		w.onLine(string(w.partial[:i]))
		w.partial = w.partial[i+1:]
	}
	return w.next.Write(p)
}

// signal sends sig to livecap (in a shell pipeline: to the shell's
// children, livecap among them).
func (r *run) signal(sig syscall.Signal) {
	_ = r.cmd.Process.Signal(sig)
}

func (r *run) sample() {
	path := fmt.Sprintf("/proc/%d/status", r.cmd.Process.Pid)
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	for {
		if b, err := os.ReadFile(path); err == nil {
			s := memSample{at: time.Now(), rss: statusKB(b, "VmRSS:"), hwm: statusKB(b, "VmHWM:")}
			r.mu.Lock()
			r.samples = append(r.samples, s)
			r.mu.Unlock()
		}
		select {
		case <-r.done:
			return
		case <-tick.C:
		}
	}
}

func statusKB(status []byte, field string) int64 {
	sc := bufio.NewScanner(bytes.NewReader(status))
	for sc.Scan() {
		if f := strings.Fields(sc.Text()); len(f) >= 2 && f[0] == field {
			n, _ := strconv.ParseInt(f[1], 10, 64)
			return n
		}
	}
	return 0
}

// peakRSS is the largest resident set sampled between from and to (zero
// times: unbounded), in MB. VmHWM, the kernel's own high-water mark, covers
// peaks between two samples: the window's last VmHWM is used when larger
// and the process had no larger peak before the window.
func (r *run) peakRSS(from, to time.Time) float64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	var peak, hwmBefore, hwmIn int64
	for _, s := range r.samples {
		switch {
		case !from.IsZero() && s.at.Before(from):
			hwmBefore = max(hwmBefore, s.hwm)
		case !to.IsZero() && s.at.After(to):
		default:
			peak = max(peak, s.rss)
			hwmIn = max(hwmIn, s.hwm)
		}
	}
	if hwmIn > hwmBefore {
		// The high-water mark rose inside the window: that peak is ours.
		peak = max(peak, hwmIn)
	}
	return float64(peak) / 1024
}

func (r *run) stderr() string { return r.err.String() }

// saveLog keeps the whole log of a failed fault in LIVECAP_FAULT_LOGS (a
// folder), where it outlives the test's temporary folders.
func (r *run) saveLog() {
	dir := os.Getenv("LIVECAP_FAULT_LOGS")
	if dir == "" || !r.t.Failed() {
		return
	}
	_ = os.MkdirAll(dir, 0o755)
	name := strings.NewReplacer("/", "_", " ", "_").Replace(r.t.Name())
	f := filepath.Join(dir, fmt.Sprintf("%s-%d.log", name, r.cmd.Process.Pid))
	if err := os.WriteFile(f, []byte(r.stderr()), 0o644); err == nil {
		r.t.Logf("livecap's log: %s", f)
	}
}

// interrupt sends SIGINT and waits for the exit code. It stops right
// after a stats event, so that recordingLoss can attribute every gap but
// the last few frames to the source or to livecap.
func (r *run) interrupt(timeout time.Duration) int {
	r.waitEvent("stats", time.Now(), 6*time.Second)
	_ = r.cmd.Process.Signal(syscall.SIGINT)
	return r.wait(timeout)
}

func (r *run) wait(timeout time.Duration) int {
	select {
	case <-r.done:
	case <-time.After(timeout):
		// SIGQUIT makes the Go runtime print every goroutine's stack:
		// where it hangs goes to the log.
		_ = r.cmd.Process.Signal(syscall.SIGQUIT)
		select {
		case <-r.done:
		case <-time.After(3 * time.Second):
			_ = r.cmd.Process.Kill()
			<-r.done
		}
		r.t.Errorf("livecap still running %s after being asked to stop (goroutine dump in its log)", timeout)
	}
	return r.code
}

func (r *run) kill() {
	_ = r.cmd.Process.Signal(syscall.SIGKILL)
	<-r.done
}

// noSecret fails the test if a secret appears in anything livecap printed.
func (r *run) noSecret(secrets ...string) {
	all := r.out.String() + r.err.String()
	for _, s := range secrets {
		if strings.Contains(all, s) {
			r.t.Errorf("secret %q appears in livecap's output", s)
		}
	}
}

type logEvent struct {
	Name   string
	Time   time.Time
	Fields map[string]any
}

// events returns every JSON log line whose event is name.
func (r *run) events(name string) []logEvent {
	var evs []logEvent
	for _, line := range strings.Split(r.stderr(), "\n") {
		if !strings.Contains(line, `"event":"`+name+`"`) {
			continue
		}
		var m map[string]any
		if json.Unmarshal([]byte(line), &m) != nil || m["event"] != name {
			continue
		}
		ts, _ := m["time"].(string)
		at, err := time.Parse(time.RFC3339Nano, ts)
		if err != nil {
			continue
		}
		evs = append(evs, logEvent{Name: name, Time: at, Fields: m})
	}
	return evs
}

// waitEvent waits for the first event name logged after `after`.
func (r *run) waitEvent(name string, after time.Time, timeout time.Duration) (logEvent, bool) {
	deadline := time.Now().Add(timeout)
	for {
		for _, ev := range r.events(name) {
			if ev.Time.After(after) {
				return ev, true
			}
		}
		if time.Now().After(deadline) {
			return logEvent{}, false
		}
		select {
		case <-r.done:
			// One last look: the line may have come with the exit.
			for _, ev := range r.events(name) {
				if ev.Time.After(after) {
					return ev, true
				}
			}
			return logEvent{}, false
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func (r *run) mustEvent(name string, after time.Time, timeout time.Duration) logEvent {
	r.t.Helper()
	ev, ok := r.waitEvent(name, after, timeout)
	if !ok {
		r.t.Fatalf("no %s event within %s\n%s", name, timeout, tail(r.stderr(), 3000))
	}
	return ev
}
