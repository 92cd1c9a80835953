package testpeers

import (
	"bytes"
	"fmt"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// FFmpegListener is `ffmpeg -listen 1 -i rtmp://127.0.0.1:PORT/APP/KEY`
// copying what it receives into an FLV file: the usual quick receiver.
type FFmpegListener struct {
	Port int
	Out  string
	Log  *bytes.Buffer

	cmd  *exec.Cmd
	done chan struct{}
	err  error
}

// StartFFmpegListener starts it on a free port; path is "/app/key" (or
// any path). There is no way to probe readiness without taking its one
// connection: a publisher's retries cover the start.
func StartFFmpegListener(t testing.TB, path string) *FFmpegListener {
	t.Helper()
	Need(t, "ffmpeg")
	f := &FFmpegListener{Port: FreePort(t, false), Out: filepath.Join(t.TempDir(), "ffmpeg.flv"), Log: &bytes.Buffer{}}
	f.cmd = exec.Command("ffmpeg", "-hide_banner", "-v", "info", "-y", "-listen", "1",
		"-i", fmt.Sprintf("rtmp://127.0.0.1:%d%s", f.Port, path), "-c", "copy", "-f", "flv", f.Out)
	f.cmd.Stdout, f.cmd.Stderr = f.Log, f.Log
	f.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := f.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	f.done = make(chan struct{})
	go func() { f.err = f.cmd.Wait(); close(f.done) }()
	t.Cleanup(func() { f.Stop(time.Second) })
	return f
}

// URL is the URL to publish to.
func (f *FFmpegListener) URL(path string) string {
	return fmt.Sprintf("rtmp://127.0.0.1:%d%s", f.Port, path)
}

// Wait waits for ffmpeg to end on its own (the publisher closed) and
// returns its error.
func (f *FFmpegListener) Wait(d time.Duration) error {
	select {
	case <-f.done:
		return f.err
	case <-time.After(d):
		f.Stop(0)
		return fmt.Errorf("ffmpeg did not end within %v: %s", d, lastLines(f.Log.String(), 5))
	}
}

// Stop ends ffmpeg (SIGINT, then SIGKILL after grace).
func (f *FFmpegListener) Stop(grace time.Duration) {
	select {
	case <-f.done:
		return
	default:
	}
	_ = f.cmd.Process.Signal(syscall.SIGINT)
	select {
	case <-f.done:
	case <-time.After(grace):
		_ = syscall.Kill(-f.cmd.Process.Pid, syscall.SIGKILL)
		<-f.done
	}
}
