package main

import (
	"bytes"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"
)

// blockingWriter blocks every Write until released, as a pipe nobody reads.
type blockingWriter struct {
	release chan struct{}
	mu      sync.Mutex
	got     bytes.Buffer
}

func (w *blockingWriter) Write(p []byte) (int, error) {
	<-w.release
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.got.Write(p)
}

type brokenWriter struct{ n int }

func (w *brokenWriter) Write(p []byte) (int, error) {
	w.n++
	return 0, errors.New("write |1: broken pipe")
}

// A reader that does not read never blocks the writers; what does not
// fit is dropped and counted; lines come out in order once it reads.
func TestLogOutputNeverBlocks(t *testing.T) {
	w := &blockingWriter{release: make(chan struct{})}
	l := newLogOutput(w)
	line := strings.Repeat("x", 1023) + "\n"
	done := make(chan struct{})
	go func() {
		for i := 0; i < 2000; i++ { // 2 MB: twice the buffer
			if n, err := l.Write([]byte(line)); n != len(line) || err != nil {
				t.Errorf("Write = %d, %v", n, err)
			}
		}
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Write blocked on a reader that does not read")
	}
	if d := l.Dropped(); d < 900 || d > 1100 {
		t.Errorf("dropped %d of 2000 1 kB lines with a 1 MiB buffer, want about 1000", d)
	}
	close(w.release)
	l.Close()
	w.mu.Lock()
	defer w.mu.Unlock()
	if n := strings.Count(w.got.String(), "\n"); uint64(n)+l.Dropped() != 2000 {
		t.Errorf("%d lines written + %d dropped, want 2000", n, l.Dropped())
	}
}

// After a failed write (EPIPE) nothing more is tried; every line is
// counted as dropped.
func TestLogOutputBroken(t *testing.T) {
	w := &brokenWriter{}
	l := newLogOutput(w)
	for i := 0; i < 50; i++ {
		l.Write([]byte("line\n"))
	}
	l.Close()
	if l.Dropped() != 50 {
		t.Errorf("dropped %d, want 50", l.Dropped())
	}
	if w.n != 1 {
		t.Errorf("%d writes to a broken output, want 1", w.n)
	}
}
