// Package hooks runs the user's --on-segment command once for every closed
// segment, off the recording path.
//
// The recorder calls Segment and goes on at once: runs are queued (bounded)
// and executed by worker goroutines, so a slow, hanging or failing command
// never delays recording. When the queue is full the run is skipped, logged
// and counted rather than blocking. At exit Close waits a bounded time for
// what is still running or queued, then kills the rest.
//
// The command is executed directly (no shell): the segment path is appended
// as the last argument exactly as given, so spaces, quotes, $, ; or newlines
// in it are never interpreted.
package hooks

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/rs/zerolog"

	"github.com/livecap/livecap/internal/events"
)

// Event types, as they appear in Event.Type (and in livecap's JSON events).
const (
	EventStarted  = events.HookStarted  // a run began
	EventFinished = events.HookFinished // a run exited 0
	EventFailed   = events.HookFailed   // non-zero exit, not startable, killed, or timed out
	EventSkipped  = events.HookSkipped  // never run: the queue was full, or Close gave up
)

// Event reports one step of one run. Every run emits EventStarted and then
// exactly one of EventFinished or EventFailed; a run that never starts emits
// only EventSkipped.
type Event struct {
	Type string
	Path string
	// ExitCode is the command's exit status; -1 when it did not exit on its
	// own (not found, killed by a signal). Set on finished and failed.
	ExitCode int
	// Duration is the run's wall time, from start to exit.
	Duration time.Duration
	// Error says why a run failed or was skipped; empty otherwise.
	Error string
	// StderrTail is the last bytes the command wrote to stderr (failed runs).
	StderrTail string
	// Killed is true when livecap killed the run (Options.Timeout or Close).
	Killed bool
}

// Options tune a Runner. The zero value is usable.
type Options struct {
	// Concurrency is how many commands may run at once. 0 means 1: runs
	// then happen one after another, in the order the segments closed,
	// which is what an uploader usually wants.
	Concurrency int
	// QueueSize bounds the runs waiting for a free worker. 0 means 64
	// (32 hours of 30-minute segments). Beyond it runs are skipped.
	QueueSize int
	// Timeout kills a single run (and its process group) that takes longer.
	// 0 means no limit: only Close bounds a run.
	Timeout time.Duration
	// StderrTail is how many trailing bytes of the command's stderr are
	// kept for the log and the failed event. 0 means 2048.
	StderrTail int
	// Stdout receives the command's standard output. nil discards it, so
	// a chatty command cannot garble livecap's own output or status line.
	Stdout io.Writer
	// OnEvent, when set, is called for every event. It is called from the
	// worker goroutines, and from Segment's caller for a skipped run, so it
	// must be safe for concurrent use and return quickly.
	OnEvent func(Event)
}

// Stats count runs. Started = Succeeded + Failed once all runs have ended;
// Killed counts the failed runs that livecap killed (timeout or Close);
// Skipped counts runs never started (queue full, or abandoned at Close).
type Stats struct {
	Started   uint64 `json:"started"`
	Succeeded uint64 `json:"succeeded"`
	Failed    uint64 `json:"failed"`
	Skipped   uint64 `json:"skipped"`
	Killed    uint64 `json:"killed"`
}

// Runner runs one command per segment. Its methods are safe for concurrent
// use.
type Runner struct {
	argv []string
	log  zerolog.Logger
	opts Options

	mu     sync.Mutex // guards closed and sends on queue, never held while waiting
	closed bool
	queue  chan string

	ctx     context.Context // cancelled when Close's wait runs out: kills runs
	cancel  context.CancelFunc
	abandon atomic.Bool // Close gave up: skip whatever is still queued
	workers sync.WaitGroup

	started, succeeded, failed, skipped, killed atomic.Uint64

	closeOnce sync.Once
	final     Stats
}

// New checks argv (program + fixed arguments, see Split) and starts the
// workers. The program must be found now (in PATH when it has no slash):
// a typo is a usage error at start, not a failure per segment hours later.
func New(argv []string, log zerolog.Logger, opts Options) (*Runner, error) {
	if len(argv) == 0 || argv[0] == "" {
		return nil, errors.New("on-segment: empty command; give a program to run")
	}
	prog, err := exec.LookPath(argv[0])
	if err != nil {
		return nil, fmt.Errorf("on-segment: program %q not found or not executable: %w", argv[0], err)
	}
	if opts.Concurrency <= 0 {
		opts.Concurrency = 1
	}
	if opts.QueueSize <= 0 {
		opts.QueueSize = 64
	}
	if opts.StderrTail <= 0 {
		opts.StderrTail = 2048
	}
	if opts.Timeout < 0 {
		return nil, fmt.Errorf("on-segment: timeout %v is negative; use 0 for no limit or a positive duration", opts.Timeout)
	}
	a := append([]string{prog}, argv[1:]...)
	r := &Runner{
		argv:  a,
		log:   log.With().Str("component", "on-segment").Logger(),
		opts:  opts,
		queue: make(chan string, opts.QueueSize),
	}
	r.ctx, r.cancel = context.WithCancel(context.Background())
	r.workers.Add(opts.Concurrency)
	for i := 0; i < opts.Concurrency; i++ {
		go r.work()
	}
	return r, nil
}

// Segment queues a run of the command with path as its last argument and
// returns at once. It never blocks: when the queue is full, or after Close,
// the run is skipped, logged and counted.
func (r *Runner) Segment(path string) {
	r.mu.Lock()
	reason := ""
	if r.closed {
		reason = "livecap is stopping"
	} else {
		select {
		case r.queue <- path:
		default:
			reason = fmt.Sprintf("%d runs already waiting (the command is slower than segments close)", cap(r.queue))
		}
	}
	r.mu.Unlock()
	if reason != "" {
		r.skip(path, reason)
	}
}

// Stats returns the counts so far.
func (r *Runner) Stats() Stats {
	return Stats{
		Started:   r.started.Load(),
		Succeeded: r.succeeded.Load(),
		Failed:    r.failed.Load(),
		Skipped:   r.skipped.Load(),
		Killed:    r.killed.Load(),
	}
}

// Close stops accepting segments, waits up to wait for the runs still
// running or queued, then kills what is left (each run's whole process
// group, so a shell's children go too) and skips what never started. It
// returns within about wait + 1.5 s. Calling it again returns the same Stats.
func (r *Runner) Close(wait time.Duration) Stats {
	r.closeOnce.Do(func() {
		r.mu.Lock()
		r.closed = true
		close(r.queue)
		r.mu.Unlock()

		done := make(chan struct{})
		go func() { r.workers.Wait(); close(done) }()
		timer := time.NewTimer(wait)
		defer timer.Stop()
		select {
		case <-done:
		case <-timer.C:
			r.abandon.Store(true)
			r.cancel()
			// Killed runs return from Wait within killWaitDelay; do not
			// let a stuck worker hold livecap's exit hostage beyond that.
			select {
			case <-done:
			case <-time.After(killWaitDelay + 500*time.Millisecond):
				r.log.Warn().Msg("on-segment: a command did not end after being killed; exiting without it")
			}
		}
		r.cancel()
		r.final = r.Stats()
		s := r.final
		ev := r.log.Info()
		if s.Failed+s.Skipped > 0 {
			ev = r.log.Warn()
		}
		ev.Uint64("started", s.Started).Uint64("succeeded", s.Succeeded).Uint64("failed", s.Failed).
			Uint64("skipped", s.Skipped).Uint64("killed", s.Killed).Msg("on-segment: done")
	})
	return r.final
}

// killWaitDelay bounds how long a run's Wait may block, after the process
// exits or is killed, on its stderr pipe held open by a grandchild that
// left the process group.
const killWaitDelay = time.Second

func (r *Runner) work() {
	defer r.workers.Done()
	for path := range r.queue {
		if r.abandon.Load() {
			r.skip(path, "livecap stopped before it could run (the wait at exit ran out)")
			continue
		}
		r.run(path)
	}
}

func (r *Runner) skip(path, reason string) {
	r.skipped.Add(1)
	// Warn, per segment: the user must know which file was not handled.
	r.log.Warn().Str("path", path).Str("reason", reason).Msg("on-segment: run skipped")
	r.emit(Event{Type: EventSkipped, Path: path, ExitCode: -1, Error: reason})
}

func (r *Runner) emit(e Event) {
	if r.opts.OnEvent != nil {
		r.opts.OnEvent(e)
	}
}

func (r *Runner) run(path string) {
	ctx := r.ctx
	var cancel context.CancelFunc = func() {}
	if r.opts.Timeout > 0 {
		ctx, cancel = context.WithTimeout(ctx, r.opts.Timeout)
	}
	defer cancel()

	// exec.Cmd.Args is handed to execve as is: the path is one argv entry,
	// byte for byte.
	cmd := exec.CommandContext(ctx, r.argv[0], append(r.argv[1:len(r.argv):len(r.argv)], path)...)
	tail := &tailBuffer{max: r.opts.StderrTail}
	cmd.Stderr = tail
	// A nil Stdout is /dev/null (no pipe a grandchild could hold open);
	// stdin stays nil (/dev/null) too: a hook must not read livecap's
	// terminal.
	if r.opts.Stdout != nil {
		cmd.Stdout = r.opts.Stdout
	}
	// Its own process group: the terminal's Ctrl-C goes to livecap only
	// (which then grants the bounded wait), and a kill reaches the
	// command's children too.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error {
		// Negative pid: the whole group. SIGKILL: the bounded wait was the
		// grace period.
		if err := syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL); err != nil && !errors.Is(err, syscall.ESRCH) {
			return err
		}
		return nil
	}
	cmd.WaitDelay = killWaitDelay

	if r.ctx.Err() != nil { // Close gave up while this run was dequeued
		r.skip(path, "livecap stopped before it could run (the wait at exit ran out)")
		return
	}
	r.started.Add(1)
	r.emit(Event{Type: EventStarted, Path: path})
	r.log.Debug().Str("path", path).Msg("on-segment: run started")
	t0 := time.Now()
	err := cmd.Run()
	d := time.Since(t0)

	code := -1
	if cmd.ProcessState != nil {
		code = cmd.ProcessState.ExitCode()
	}
	killed := ctx.Err() != nil && (cmd.ProcessState == nil || !cmd.ProcessState.Success())
	// The process exited 0 but a grandchild kept stderr open past
	// WaitDelay: the command itself succeeded.
	if errors.Is(err, exec.ErrWaitDelay) && code == 0 {
		err = nil
	}
	if err == nil {
		r.succeeded.Add(1)
		r.log.Info().Str("path", path).Dur("duration", d).Msg("on-segment: run finished")
		r.emit(Event{Type: EventFinished, Path: path, ExitCode: 0, Duration: d})
		return
	}

	r.failed.Add(1)
	msg := err.Error()
	if killed {
		r.killed.Add(1)
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			msg = fmt.Sprintf("killed after the %v timeout", r.opts.Timeout)
		} else {
			msg = "killed: still running when the wait at exit ran out"
		}
	}
	st := tail.String()
	// Only the program name is logged, never its arguments: they may hold
	// a token or password for the upload.
	r.log.Warn().Str("program", r.argv[0]).Str("path", path).Int("exit_code", code).Dur("duration", d).
		Str("error", msg).Str("stderr", st).Msg("on-segment: run failed")
	r.emit(Event{Type: EventFailed, Path: path, ExitCode: code, Duration: d, Error: msg, StderrTail: st, Killed: killed})
}

// tailBuffer keeps the last max bytes written to it.
type tailBuffer struct {
	mu  sync.Mutex
	max int
	buf []byte
	cut bool // bytes were dropped from the front
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	n := len(p)
	if len(p) >= t.max {
		t.buf = append(t.buf[:0], p[len(p)-t.max:]...)
		t.cut = true
		return n, nil
	}
	if over := len(t.buf) + len(p) - t.max; over > 0 {
		t.buf = append(t.buf[:0], t.buf[over:]...)
		t.cut = true
	}
	t.buf = append(t.buf, p...)
	return n, nil
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.cut {
		return "…" + string(t.buf)
	}
	return string(t.buf)
}
