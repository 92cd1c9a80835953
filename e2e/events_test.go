package e2e

import (
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/livecap/livecap/internal/testpeers"
)

// startLivecap starts livecap with stderr read line by line (onLine may
// be nil) while the test watches the run.
func startLivecap(t *testing.T, onLine func(string), args ...string) *run {
	t.Helper()
	return startWith(t, runOptions{onLine: onLine}, args...)
}

// throttle is a TCP proxy that forwards what the client sends at most
// rate bytes per second, with small socket buffers: a destination on a
// path slower than the stream, whose queue grows until it sheds frames.
type throttle struct {
	Port  int
	rate  atomic.Int64 // bytes per second; 0: no limit
	l     net.Listener
	mu    sync.Mutex
	conns []net.Conn
}

func startThrottle(t *testing.T, targetPort int, rate int64) *throttle {
	t.Helper()
	// Set on the listening socket, so that accepted sockets have them from
	// the handshake on: a small receive buffer (a small window), and a
	// small MSS. Loopback's 64 KiB MSS would make the sender's kernel size
	// its send buffer for megabytes, which would absorb the whole stream
	// for a long while and hide the slow path from livecap.
	lc := net.ListenConfig{Control: func(_, _ string, c syscall.RawConn) error {
		var serr error
		err := c.Control(func(fd uintptr) {
			serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 8<<10)
			if serr == nil {
				serr = syscall.SetsockoptInt(int(fd), syscall.IPPROTO_TCP, syscall.TCP_MAXSEG, 1200)
			}
		})
		if err != nil {
			return err
		}
		return serr
	}}
	l, err := lc.Listen(t.Context(), "tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &throttle{l: l, Port: l.Addr().(*net.TCPAddr).Port}
	p.rate.Store(rate)
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			s, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", targetPort))
			if err != nil {
				c.Close()
				continue
			}
			p.mu.Lock()
			p.conns = append(p.conns, c, s)
			p.mu.Unlock()
			go func() { _, _ = io.Copy(c, s); c.Close() }()
			go func() {
				defer s.Close()
				buf := make([]byte, 512)
				for {
					n, err := c.Read(buf)
					if n > 0 {
						if _, werr := s.Write(buf[:n]); werr != nil {
							return
						}
						if r := p.rate.Load(); r > 0 {
							time.Sleep(time.Duration(int64(n) * int64(time.Second) / r))
						}
					}
					if err != nil {
						return
					}
				}
			}()
		}
	}()
	t.Cleanup(func() {
		l.Close()
		p.mu.Lock()
		for _, c := range p.conns {
			c.Close()
		}
		p.mu.Unlock()
	})
	return p
}

// Every event type, produced by real runs and parsed back line by line:
//
//   - a run killed with -9 leaves an unfinished segment: segment_recovered;
//   - the main run records two segments (segment_opened/closed, a hook that
//     succeeds on the first and fails on the second: hook_started,
//     hook_finished, hook_failed, hooks_done) while streaming to nginx
//     (destination_connected) and to a second nginx killed mid-stream
//     (destination_lost, reconnecting, gave_up); --expected-duration far
//     beyond the disk gives disk_low at start; stats every 5 s; started,
//     recording_stopped, stopped;
//   - a destination on a path slower than the stream: frames_dropped;
//   - a recording onto a nearly full tmpfs: disk_low while recording;
//   - a hook that hangs past --on-segment-wait with runs queued behind it:
//     hook_skipped.
func TestEventsEveryType(t *testing.T) {
	ngx := testpeers.StartNginx(t)
	ngxB := testpeers.StartNginx(t)
	dir := filepath.Join(t.TempDir(), "rec")
	seen := map[string]int{}
	var all []map[string]any
	collect := func(stderr string) []map[string]any {
		evs := parseEvents(t, stderr)
		for _, e := range evs {
			seen[e["event"].(string)]++
		}
		all = append(all, evs...)
		return evs
	}

	// 1. A crash mid-fragment.
	crash := startLivecap(t, nil, "stream", "--video", "test", "--audio", "test", "--size", "160x96",
		"--record", dir, "--log-format", "json")
	time.Sleep(2500 * time.Millisecond)
	_ = crash.cmd.Process.Signal(syscall.SIGKILL)
	crash.wait(10 * time.Second)
	collect(crash.stderr())

	// 2. The main run.
	hookLog := filepath.Join(t.TempDir(), "hook.log")
	hook := writeScript(t, `printf '%s\n' "$1" >> `+shellQuote(hookLog)+`
case "$1" in *-0002.mp4) echo "upload refused for $1" >&2; exit 3;; esac`)
	const key, keyB = "mainKEY77", "secondKEY88"
	nameB := fmt.Sprintf("127.0.0.1:%d/", ngxB.Port)
	var killOnce sync.Once
	main := startLivecap(t, func(line string) {
		if strings.Contains(line, `"event":"destination_connected"`) && strings.Contains(line, nameB) {
			// Kill the second server a moment after it went live.
			killOnce.Do(func() { time.AfterFunc(time.Second, ngxB.Kill) })
		}
	}, "stream", "--video", "test", "--audio", "test", "--size", "160x96", "--bitrate", "300k",
		"--duration", "18s", "--segment", "10s", "--record", dir, "--log-format", "json",
		"--expected-duration", "1000000h", "--on-segment", hook,
		"--rtmp", ngx.URL(key), "--rtmp", ngxB.URL(keyB),
		"--retry-initial", "300ms", "--max-retries", "2")
	code := main.wait(60 * time.Second)
	stderr := main.stderr()
	if code != 0 {
		t.Fatalf("main run: exit %d\n%s", code, tail(stderr, 4000))
	}
	for _, secret := range []string{key, keyB} {
		if strings.Contains(stderr, secret) {
			t.Errorf("secret %q in the events", secret)
		}
	}
	evs := collect(stderr)
	checkMainRun(t, evs, dir, hookLog)

	// A destination on a path slower than the stream: its queue grows past
	// its bound and sheds frames while the connection stays up. The test
	// source compresses too well to outrun a socket buffer in seconds, so
	// this restreams 400 kB/s of noise (--input) through a 100 kB/s path.
	noise := filepath.Join(t.TempDir(), "noise.mp4")
	if out, err := exec.Command("ffmpeg", "-nostdin", "-v", "error", "-f", "lavfi", "-i", "nullsrc=s=320x180:r=30,geq=random(1)*255:128:128",
		"-f", "lavfi", "-i", "sine=f=440:sample_rate=48000", "-t", "14", "-c:v", "libx264", "-preset", "ultrafast", "-b:v", "3M",
		"-g", "30", "-pix_fmt", "yuv420p", "-c:a", "aac", "-b:a", "128k", "-shortest", noise).CombinedOutput(); err != nil {
		t.Fatalf("ffmpeg: %v\n%s", err, out)
	}
	const keySlow = "slowKEY99"
	slow := startThrottle(t, ngx.Port, 100_000)
	var unthrottle sync.Once
	sr := startLivecap(t, func(line string) {
		if strings.Contains(line, `"event":"frames_dropped"`) {
			// Seen: let the path catch up so that the end of the run does
			// not wait for it.
			unthrottle.Do(func() { slow.rate.Store(0) })
		}
	}, "stream", "--input", noise, "--log-format", "json",
		"--rtmp", fmt.Sprintf("rtmp://127.0.0.1:%d/live/%s", slow.Port, keySlow))
	code = sr.wait(40 * time.Second)
	if code != 0 {
		t.Fatalf("slow path run: exit %d\n%s", code, tail(sr.stderr(), 3000))
	}
	if strings.Contains(sr.stderr(), keySlow) {
		t.Error("stream key in the events")
	}
	fde := ofType(collect(sr.stderr()), "frames_dropped")
	if len(fde) == 0 || fde[0]["dropped_video"].(float64) == 0 {
		t.Errorf("frames_dropped events %v, want video frames dropped\n%s", fde, tail(sr.stderr(), 3000))
	}

	// 3. disk_low while recording, on a nearly full tmpfs (Linux, root).
	if tmp, ok := tryTmpfs(t, "12m"); ok {
		fillTo(t, tmp, 5<<20)
		r := livecap(t, 60*time.Second, nil, "stream", "--video", "test", "--audio", "test", "--fast",
			"--size", "320x180", "--bitrate", "2M", "--duration", "120s", "--record", tmp,
			"--disk-check", "off", "--log-format", "json")
		evs := collect(r.stderr)
		if r.code != 3 {
			t.Errorf("recording until the disk is low, nothing else to do: exit %d, want 3\n%s", r.code, tail(r.stderr, 2000))
		}
		var low bool
		for _, e := range ofType(evs, "disk_low") {
			_, low = e["min_free_bytes"]
		}
		if !low {
			t.Errorf("no disk_low event while recording:\n%s", tail(r.stderr, 2000))
		}
		rs := ofType(evs, "recording_stopped")
		if len(rs) != 1 || !strings.Contains(fmt.Sprint(rs[0]["reason"]), "low-water") {
			t.Errorf("recording_stopped events %v, want one naming the low disk", rs)
		}
		if st := ofType(evs, "stopped"); len(st) != 1 || st[0]["exit_code"] != float64(3) {
			t.Errorf("stopped events %v, want exit_code 3", st)
		}
	}

	// 4. A hook that hangs, with runs queued behind it: at exit the one
	// running is killed and the queued ones are skipped.
	r := livecap(t, 60*time.Second, nil, "stream", "--video", "test", "--audio", "test", "--fast",
		"--size", "160x96", "--duration", "40s", "--segment", "10s", "--record", t.TempDir(),
		"--on-segment", writeScript(t, "sleep 1000"), "--on-segment-wait", "500ms", "--log-format", "json")
	if r.code != 0 {
		t.Fatalf("hanging hook: exit %d\n%s", r.code, tail(r.stderr, 2000))
	}
	evs = collect(r.stderr)
	if n := len(ofType(evs, "hook_skipped")); n != 3 {
		t.Errorf("%d hook_skipped events, want 3 (4 segments, the first hook hangs)", n)
	}

	var missing []string
	for name := range eventSchema {
		if seen[name] == 0 && producedBy[name] == "" {
			missing = append(missing, name)
		}
	}
	sort.Strings(missing)
	if len(missing) > 0 {
		t.Errorf("event types never produced: %v", missing)
	}
	counts := make([]string, 0, len(seen))
	for k, v := range seen {
		counts = append(counts, fmt.Sprintf("%s=%d", k, v))
	}
	sort.Strings(counts)
	t.Logf("%d events: %s", len(all), strings.Join(counts, " "))
}

// checkMainRun checks what the main run's events say against the files.
func checkMainRun(t *testing.T, evs []map[string]any, dir, hookLog string) {
	t.Helper()
	if len(evs) == 0 || evs[len(evs)-1]["event"] != "stopped" {
		t.Fatalf("the last event is not stopped")
	}
	if st := evs[len(evs)-1]; st["reason"] != "duration" || st["exit_code"] != float64(0) {
		t.Errorf("stopped %v, want reason duration, exit_code 0", st)
	}
	rec := ofType(evs, "segment_recovered")
	if len(rec) != 1 {
		t.Errorf("%d segment_recovered events, want 1", len(rec))
	}
	closed := ofType(evs, "segment_closed")
	if len(closed) != 2 {
		t.Fatalf("%d segment_closed events, want 2", len(closed))
	}
	// 18 s at 30 fps is 540 frames: each is in a file or reported skipped.
	// A loaded machine makes the real-time test source skip frames (as a
	// camera does): a frame skipped at the 10 s cut moves the second
	// segment's IDR later, frames skipped at the end shorten the second
	// segment. So the durations are checked against the skips reported,
	// and nothing else may shorten them.
	last := evs[len(evs)-1]
	skipped := last["source_skipped"].(float64) + last["encoder_skipped"].(float64)
	slack := skipped / 30
	var inFiles, total float64
	for i, e := range closed {
		p := e["path"].(string)
		st, err := os.Stat(p)
		if err != nil {
			t.Errorf("segment_closed path: %v", err)
			continue
		}
		if int64(e["bytes"].(float64)) != st.Size() {
			t.Errorf("%s: segment_closed bytes %v, file has %d", p, e["bytes"], st.Size())
		}
		d := e["duration_s"].(float64)
		if i == 0 && (d < 10-0.1 || d > 10+slack+0.1) {
			t.Errorf("%s: duration_s %v, want 10 (+%.3f s for the %v frames skipped)", p, d, slack, skipped)
		}
		total += d
		inFiles += e["frames"].(float64)
		if filepath.Dir(p) != dir {
			t.Errorf("segment_closed path %q not in %q", p, dir)
		}
	}
	if total < 18-slack-0.1 || total > 18+0.1 {
		t.Errorf("segments hold %.3f s, want 18 (-%.3f s for the %v frames skipped)", total, slack, skipped)
	}
	if inFiles != last["frames"] || inFiles+skipped != 540 {
		t.Errorf("segments hold %v frames, stopped says %v encoded and %v skipped: want 540 in all, every encoded one in a file",
			inFiles, last["frames"], skipped)
	}
	if n := len(ofType(evs, "stats")); n < 3 {
		t.Errorf("%d stats events in 18 s, want 3 (every 5 s)", n)
	}
	for _, s := range ofType(evs, "stats") {
		if len(s["destinations"].([]any)) != 2 {
			t.Errorf("stats with %d destinations, want 2", len(s["destinations"].([]any)))
		}
	}
	rc := ofType(evs, "reconnecting")
	gu := ofType(evs, "gave_up")
	if len(gu) != 1 || gu[0]["attempts"] != float64(2) {
		t.Errorf("gave_up events %v, want one after 2 attempts", gu)
	}
	for _, e := range rc {
		if d := e["delay_s"].(float64); d <= 0 || d > 2 {
			t.Errorf("reconnecting delay_s %v, want 0.3 s doubling with jitter", d)
		}
	}
	hf := ofType(evs, "hook_failed")
	if len(hf) != 1 || hf[0]["exit_code"] != float64(3) || !strings.Contains(fmt.Sprint(hf[0]["stderr_tail"]), "upload refused") {
		t.Errorf("hook_failed events %v, want one with exit_code 3 and the command's stderr", hf)
	}
	if b, _ := os.ReadFile(hookLog); strings.Count(string(b), "\n") != 2 {
		t.Errorf("hook ran for %q, want both segments", b)
	}
}

// writeScript writes an executable sh script and returns its path.
func writeScript(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "hook.sh")
	if err := os.WriteFile(p, []byte("#!/bin/sh\n"+body+"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

// tryTmpfs mounts a size-limited tmpfs, a small real filesystem; false
// where mounting is not permitted (not root, not Linux).
func tryTmpfs(t *testing.T, size string) (string, bool) {
	t.Helper()
	dir := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size="+size, "tmpfs", dir).CombinedOutput(); err != nil {
		t.Logf("no tmpfs (%v: %s): disk_low while recording not produced", err, strings.TrimSpace(string(out)))
		return "", false
	}
	t.Cleanup(func() { _ = exec.Command("umount", dir).Run() })
	return dir, true
}

// fillTo leaves about left bytes free on the filesystem at dir.
func fillTo(t *testing.T, dir string, left int64) {
	t.Helper()
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		t.Fatal(err)
	}
	free := int64(st.Bavail) * int64(st.Bsize)
	if free <= left {
		t.Fatalf("only %d bytes free", free)
	}
	if err := os.WriteFile(filepath.Join(dir, "filler"), make([]byte, free-left), 0o644); err != nil {
		t.Fatal(err)
	}
}
