package e2e

import (
	"encoding/json"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/livecap/livecap/internal/exitcode"
	"github.com/livecap/livecap/internal/testpeers"
)

// lastStopped returns the exit_code of the stopped event, -1 without one.
func lastStopped(stderr string) int {
	code := -1
	for _, line := range strings.Split(stderr, "\n") {
		var ev struct {
			Event    string `json:"event"`
			ExitCode *int   `json:"exit_code"`
		}
		if json.Unmarshal([]byte(line), &ev) == nil && ev.Event == "stopped" && ev.ExitCode != nil {
			code = *ev.ExitCode
		}
	}
	return code
}

// Each documented exit code, produced by a real run.
func TestExitCodes(t *testing.T) {
	test := []string{"stream", "--video", "test", "--audio", "test", "--size", "160x96", "--log-format", "json"}
	args := func(extra ...string) []string { return append(append([]string{}, test...), extra...) }
	want := func(t *testing.T, r result, code int) {
		t.Helper()
		if r.code != code {
			t.Fatalf("exit %d, want %d\n%s", r.code, code, tail(r.stderr, 2000))
		}
		// Every line is JSON, the error line at the end too.
		for _, line := range strings.Split(strings.TrimSpace(r.stderr), "\n") {
			if line != "" && !json.Valid([]byte(line)) {
				t.Errorf("not a JSON line: %q", line)
			}
		}
	}

	t.Run("0 success", func(t *testing.T) {
		r := livecap(t, 30*time.Second, nil, args("--fast", "--duration", "2s", "--record", t.TempDir())...)
		want(t, r, exitcode.OK)
		if c := lastStopped(r.stderr); c != 0 {
			t.Errorf("stopped event exit_code %d", c)
		}
	})

	t.Run("1 runtime failure", func(t *testing.T) {
		// The record folder disappears mid-run: the next segment cannot
		// be created, the recording fails, nothing is left to do.
		dir := t.TempDir() + "/rec"
		run := startLivecap(t, nil, args("--record", dir, "--segment", "10s", "--duration", "30s")...)
		time.Sleep(2 * time.Second)
		if err := os.RemoveAll(dir); err != nil {
			t.Fatal(err)
		}
		code := run.wait(30 * time.Second)
		if code != exitcode.Failure || lastStopped(run.stderr()) != exitcode.Failure {
			t.Fatalf("exit %d, want 1\n%s", code, tail(run.stderr(), 2000))
		}
	})

	t.Run("2 bad usage", func(t *testing.T) {
		for _, bad := range [][]string{
			args("--size", "0x0", "--record", t.TempDir()),
			args("--fps", "500", "--record", t.TempDir()),
			args("--rtmp", "http://example.com/x"),
			{"stream", "--log-format", "json", "--no-such-flag"},
			args(), // nothing to do
		} {
			r := livecap(t, 30*time.Second, nil, bad...)
			want(t, r, exitcode.Usage)
		}
	})

	t.Run("3 not enough disk", func(t *testing.T) {
		r := livecap(t, 30*time.Second, nil, args("--record", t.TempDir(), "--expected-duration", "1000000h", "--disk-check", "refuse")...)
		want(t, r, exitcode.Disk)
		if !strings.Contains(r.stderr, "--disk-check refuse") {
			t.Errorf("the error does not say why: %s", r.stderr)
		}
	})

	t.Run("4 device", func(t *testing.T) {
		if runtime.GOOS != "linux" {
			t.Skip("camera capture exists on this OS: --video 0 may open a real camera")
		}
		r := livecap(t, 30*time.Second, nil, "stream", "--video", "0", "--audio", "none", "--record", t.TempDir(), "--log-format", "json")
		want(t, r, exitcode.Device)
	})

	t.Run("5 encoder", func(t *testing.T) {
		if runtime.GOOS != "linux" {
			t.Skip("the failure is provoked through a broken libavcodec; VideoToolbox has none")
		}
		// A broken FFmpeg install: libavcodec/libavutil that do not load
		// (found first through LD_LIBRARY_PATH).
		fake := t.TempDir()
		for v := 55; v <= 65; v++ {
			for _, lib := range []string{"libavutil", "libavcodec"} {
				if err := os.WriteFile(filepath.Join(fake, lib+".so."+itoa(v)), []byte("not a library"), 0o644); err != nil {
					t.Fatal(err)
				}
			}
		}
		r := livecap(t, 30*time.Second, []string{"LD_LIBRARY_PATH=" + fake}, args("--fast", "--duration", "2s", "--record", t.TempDir())...)
		want(t, r, exitcode.Encoder)
	})

	t.Run("6 every destination gave up", func(t *testing.T) {
		dead := "rtmp://127.0.0.1:" + itoa(testpeers.FreePort(t, false)) + "/live/deadKEY"
		r := livecap(t, 60*time.Second, nil, args("--rtmp", dead, "--max-retries", "1", "--retry-initial", "200ms")...)
		want(t, r, exitcode.AllGaveUp)
		if lastStopped(r.stderr) != exitcode.AllGaveUp || strings.Contains(r.stderr, "deadKEY") {
			t.Errorf("stopped event or redaction wrong:\n%s", r.stderr)
		}
	})

	t.Run("7 analyze check", func(t *testing.T) {
		dir := t.TempDir()
		want(t, livecap(t, 30*time.Second, nil, args("--fast", "--duration", "4s", "--record", dir)...), 0)
		files := segments(t, dir)
		r := livecap(t, 60*time.Second, nil, append([]string{"analyze", "--max-offset", "1us"}, files...)...)
		if r.code != exitcode.Check {
			t.Fatalf("analyze with a 1 µs limit: exit %d, want 7\n%s", r.code, r.stderr)
		}
		if r := livecap(t, 60*time.Second, nil, append([]string{"analyze", "--max-offset", "20ms"}, files...)...); r.code != 0 {
			t.Fatalf("analyze with a 20 ms limit: exit %d, want 0\n%s", r.code, r.stderr)
		}
	})

	// 8 (camera, microphone or screen permission denied) exists on macOS
	// only, where capture asks for permission: Linux has no device capture
	// to deny, so it cannot be produced here, and is not faked.

	t.Run("130 second interrupt", func(t *testing.T) {
		// A hook that hangs keeps the graceful stop waiting (up to
		// --on-segment-wait); a second SIGINT stops at once.
		var closed = make(chan struct{}, 1)
		run := startLivecap(t, func(line string) {
			if strings.Contains(line, `"event":"hook_started"`) {
				select {
				case closed <- struct{}{}:
				default:
				}
			}
		}, args("--record", t.TempDir(), "--on-segment", writeScript(t, "sleep 1000"), "--on-segment-wait", "60s")...)
		time.Sleep(1500 * time.Millisecond)
		_ = run.cmd.Process.Signal(syscall.SIGINT)
		select {
		case <-closed:
		case <-time.After(20 * time.Second):
			t.Fatalf("no hook started after the first SIGINT\n%s", run.stderr())
		}
		_ = run.cmd.Process.Signal(syscall.SIGINT)
		start := time.Now()
		code := run.wait(10 * time.Second)
		if code != exitcode.Interrupted || lastStopped(run.stderr()) != exitcode.Interrupted {
			t.Fatalf("exit %d, want 130\n%s", code, tail(run.stderr(), 2000))
		}
		t.Logf("stopped %v after the second SIGINT", time.Since(start).Round(time.Millisecond))
	})
}

// --help lists the exit codes, for the root command and for stream.
func TestExitCodesInHelp(t *testing.T) {
	for _, args := range [][]string{{"--help"}, {"stream", "--help"}} {
		r := livecap(t, 10*time.Second, nil, args...)
		if r.code != 0 {
			t.Fatalf("%v: exit %d", args, r.code)
		}
		out := r.stdout + r.stderr
		for _, code := range []string{"0 ", "1 ", "2 ", "3 ", "4 ", "5 ", "6 ", "7 ", "8 ", "9 ", "130 "} {
			if !strings.Contains(out, "\n  "+code) {
				t.Errorf("%v: exit code %q not listed:\n%s", args, code, out)
			}
		}
		if !strings.Contains(out, "Exit codes:") {
			t.Errorf("%v: no exit code section", args)
		}
	}
}
