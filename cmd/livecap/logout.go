package main

import (
	"io"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"github.com/rs/zerolog"
)

// Where the log goes must never decide whether the recording goes on: a
// pipe whose reader went away (`livecap ... 2>&1 | head -1`), a closed
// terminal, a reader that stops reading. So SIGPIPE is ignored (a write to
// a broken pipe returns EPIPE instead of killing the process), and every
// log line goes through a logOutput: the session's goroutines hand it the
// line and go on; one goroutine of its own writes the lines in order. A
// line that cannot be written, or that does not fit in its buffer, is
// dropped and counted; the count is in the stopped event.

func init() {
	signal.Ignore(syscall.SIGPIPE)
	// zerolog reports a failed write on stderr, which is what failed.
	zerolog.ErrorHandler = func(error) {}
}

// logBufferMax bounds the log lines waiting for a slow reader.
const logBufferMax = 1 << 20

// logFlushWait bounds the wait at exit for lines still waiting.
const logFlushWait = 2 * time.Second

type logOutput struct {
	out io.Writer

	mu      sync.Mutex
	wake    *sync.Cond
	queue   [][]byte
	queued  int // bytes in queue
	busy    bool
	broken  bool // a write failed: the output is gone
	closed  bool
	dropped uint64
	idle    chan struct{} // closed and remade when the queue empties
}

func newLogOutput(out io.Writer) *logOutput {
	l := &logOutput{out: out, idle: make(chan struct{})}
	l.wake = sync.NewCond(&l.mu)
	go l.run()
	return l
}

// Write queues one log line (zerolog writes each event with one Write).
// It never blocks on the output and never fails.
func (l *logOutput) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.broken || l.closed || l.queued+len(p) > logBufferMax {
		l.dropped++
		return len(p), nil
	}
	l.queue = append(l.queue, append([]byte(nil), p...))
	l.queued += len(p)
	l.wake.Signal()
	return len(p), nil
}

func (l *logOutput) run() {
	l.mu.Lock()
	for {
		for len(l.queue) == 0 {
			l.busy = false
			close(l.idle)
			l.idle = make(chan struct{})
			if l.closed {
				l.mu.Unlock()
				return
			}
			l.wake.Wait()
		}
		b := l.queue[0]
		l.queue[0] = nil
		l.queue = l.queue[1:]
		l.queued -= len(b)
		l.busy = true
		l.mu.Unlock()
		_, err := l.out.Write(b)
		l.mu.Lock()
		if err != nil && !l.broken {
			// EPIPE, EIO from a hung-up terminal, a full disk under
			// --log-file: nothing more will get through.
			l.broken = true
			l.dropped += uint64(len(l.queue)) + 1
			l.queue, l.queued = nil, 0
		}
	}
}

// Dropped is the number of lines that were not written.
func (l *logOutput) Dropped() uint64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.dropped
}

// Flush waits until every queued line is written, or wait has passed.
func (l *logOutput) Flush(wait time.Duration) {
	t := time.NewTimer(wait)
	defer t.Stop()
	for {
		l.mu.Lock()
		empty := len(l.queue) == 0 && !l.busy
		idle := l.idle
		l.mu.Unlock()
		if empty {
			return
		}
		select {
		case <-idle:
		case <-t.C:
			return
		}
	}
}

// Close flushes (bounded) and stops the writer; later lines are dropped.
func (l *logOutput) Close() {
	l.Flush(logFlushWait)
	l.mu.Lock()
	l.closed = true
	l.wake.Signal()
	l.mu.Unlock()
}

// openLogFile opens --log-file for appending (created 0644 if missing).
func openLogFile(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return nil, usageErr("invalid --log-file %q: %v", path, unwrapPathErr(err))
	}
	return f, nil
}
