// Package testpeers starts real third-party peers on 127.0.0.1 for tests:
// nginx with the RTMP module as ingest, srt-live-transmit as SRT listener,
// a TCP proxy that can stop reading, ffprobe/ffmpeg to read back what the
// peers received, and an ffmpeg-made H.264/AAC packet source.
package testpeers

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"
)

// FreePort returns a TCP (udp=false) or UDP port free right now on 127.0.0.1.
func FreePort(t testing.TB, udp bool) int {
	t.Helper()
	if udp {
		c, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		return c.LocalAddr().(*net.UDPAddr).Port
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// Need skips the test when a program is missing.
func Need(t testing.TB, progs ...string) {
	t.Helper()
	for _, p := range progs {
		if _, err := exec.LookPath(p); err != nil {
			if _, err := os.Stat(p); err != nil {
				// The Linux CI installs every peer (scripts/setup.sh): a
				// missing one there is a failure, not a reason to skip.
				// Other systems' CI (the macOS workflow) have only some.
				if os.Getenv("CI") != "" && runtime.GOOS == "linux" {
					t.Fatalf("%s not installed (CI must install it: scripts/setup.sh)", p)
				}
				t.Skipf("%s not installed on this machine (%s)", p, runtime.GOOS)
			}
		}
	}
}

// Nginx is nginx with the RTMP module, recording every published stream.
type Nginx struct {
	Port      int
	App       string // the one application ("live")
	RecordDir string // every publish is recorded here as NAME-UNIQUE.flv
	Log       *bytes.Buffer

	t      testing.TB
	prefix string
	cmd    *exec.Cmd
	done   chan struct{}
}

const ngxModule = "/usr/lib/nginx/modules/ngx_rtmp_module.so"

// StartNginx starts nginx in its own prefix on a free port, with the
// application "live" and any extra applications named (all recording; an
// application named "denied" refuses every publish, as "deny publish all"
// does; "NAME>rtmp://..." relays what is published to NAME to that URL,
// nginx's push). It is stopped when the test ends.
func StartNginx(t testing.TB, extraApps ...string) *Nginx {
	t.Helper()
	Need(t, "nginx", ngxModule)
	dir := t.TempDir()
	n := &Nginx{t: t, Port: FreePort(t, false), App: "live", prefix: dir, RecordDir: filepath.Join(dir, "rec")}
	if err := os.MkdirAll(n.RecordDir, 0o777); err != nil {
		t.Fatal(err)
	}
	// Workers run as nobody when started as root: the prefix and record
	// folder must be theirs to write.
	_ = os.Chmod(dir, 0o777)
	_ = os.Chmod(n.RecordDir, 0o777)
	conf := fmt.Sprintf(`load_module %s;
daemon off;
master_process off;
error_log %s/error.log info;
pid %s/nginx.pid;
events { worker_connections 64; }
rtmp {
  server {
    listen 127.0.0.1:%d;
    chunk_size 4096;
%s  }
}
`, ngxModule, dir, dir, n.Port, ngxApps(append([]string{n.App}, extraApps...), n.RecordDir))
	if err := os.WriteFile(filepath.Join(dir, "nginx.conf"), []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{"logs", "client_body_temp", "proxy_temp", "fastcgi_temp", "uwsgi_temp", "scgi_temp"} {
		_ = os.MkdirAll(filepath.Join(dir, d), 0o777)
	}
	n.Start()
	t.Cleanup(n.Stop)
	return n
}

func ngxApps(apps []string, rec string) string {
	var b strings.Builder
	for _, a := range apps {
		deny := ""
		if a == "denied" {
			deny = "      deny publish all;\n"
		}
		if name, push, ok := strings.Cut(a, ">"); ok {
			a, deny = name, "      push "+push+";\n"
		}
		fmt.Fprintf(&b, "    application %s {\n      live on;\n%s      record all;\n      record_path %s;\n      record_unique on;\n    }\n", a, deny, rec)
	}
	return b.String()
}

// Start (re)starts the server and waits until it accepts connections.
func (n *Nginx) Start() {
	n.t.Helper()
	n.Log = &bytes.Buffer{}
	n.cmd = exec.Command("nginx", "-p", n.prefix, "-c", filepath.Join(n.prefix, "nginx.conf"))
	n.cmd.Stdout, n.cmd.Stderr = n.Log, n.Log
	n.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := n.cmd.Start(); err != nil {
		n.t.Fatal(err)
	}
	n.done = make(chan struct{})
	go func(c *exec.Cmd, done chan struct{}) { _ = c.Wait(); close(done) }(n.cmd, n.done)
	waitTCP(n.t, n.Port, n.done, func() string { return n.Log.String() + n.ErrorLog() })
}

// Kill stops the server abruptly (SIGKILL), as a crash would.
func (n *Nginx) Kill() {
	if n.cmd == nil || n.cmd.Process == nil {
		return
	}
	_ = syscall.Kill(-n.cmd.Process.Pid, syscall.SIGKILL)
	<-n.done
	n.cmd = nil
}

// Stop stops the server gracefully so that recordings are complete.
func (n *Nginx) Stop() {
	if n.cmd == nil || n.cmd.Process == nil {
		return
	}
	_ = n.cmd.Process.Signal(syscall.SIGQUIT)
	select {
	case <-n.done:
	case <-time.After(5 * time.Second):
		_ = syscall.Kill(-n.cmd.Process.Pid, syscall.SIGKILL)
		<-n.done
	}
	n.cmd = nil
}

// ErrorLog returns nginx's error log.
func (n *Nginx) ErrorLog() string {
	b, _ := os.ReadFile(filepath.Join(n.prefix, "error.log"))
	return string(b)
}

// URL is rtmp://127.0.0.1:PORT/APP/KEY.
func (n *Nginx) URL(key string) string {
	return fmt.Sprintf("rtmp://127.0.0.1:%d/%s/%s", n.Port, n.App, key)
}

// Recordings lists the FLV files recorded so far, oldest first.
func (n *Nginx) Recordings() []string {
	m, _ := filepath.Glob(filepath.Join(n.RecordDir, "*.flv"))
	return m
}

func waitTCP(t testing.TB, port int, done chan struct{}, log func() string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-done:
			t.Fatalf("peer exited at start: %s", log())
		default:
		}
		c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), 200*time.Millisecond)
		if err == nil {
			c.Close()
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("peer not listening on %d: %s", port, log())
}

// SRTListener is srt-live-transmit listening on a UDP port and writing what
// it receives to a file.
type SRTListener struct {
	Port       int
	Passphrase string
	Out        string // received MPEG-TS
	Log        *bytes.Buffer

	t    testing.TB
	cmd  *exec.Cmd
	done chan struct{}
	out  *os.File
}

// StartSRTListener starts srt-live-transmit as listener (passphrase may be
// empty). It keeps accepting after a caller disconnects.
func StartSRTListener(t testing.TB, passphrase string) *SRTListener {
	t.Helper()
	Need(t, "srt-live-transmit")
	s := &SRTListener{t: t, Port: FreePort(t, true), Passphrase: passphrase, Out: filepath.Join(t.TempDir(), "srt.ts")}
	s.Start()
	t.Cleanup(s.Stop)
	return s
}

// Start (re)starts the listener, appending to Out.
func (s *SRTListener) Start() {
	s.t.Helper()
	u := fmt.Sprintf("srt://127.0.0.1:%d?mode=listener", s.Port)
	if s.Passphrase != "" {
		u += "&passphrase=" + s.Passphrase
	}
	var err error
	s.out, err = os.OpenFile(s.Out, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		s.t.Fatal(err)
	}
	s.Log = &bytes.Buffer{}
	s.cmd = exec.Command("srt-live-transmit", "-q", u, "file://con")
	s.cmd.Stdout, s.cmd.Stderr = s.out, s.Log
	if err := s.cmd.Start(); err != nil {
		s.t.Fatal(err)
	}
	s.done = make(chan struct{})
	go func(c *exec.Cmd, done chan struct{}) { _ = c.Wait(); close(done) }(s.cmd, s.done)
	time.Sleep(300 * time.Millisecond) // UDP: no way to probe readiness
}

// Pause stops the process (SIGSTOP): it neither reads nor acknowledges.
func (s *SRTListener) Pause() { _ = s.cmd.Process.Signal(syscall.SIGSTOP) }

// Resume continues a paused listener.
func (s *SRTListener) Resume() { _ = s.cmd.Process.Signal(syscall.SIGCONT) }

// Kill ends the listener abruptly (SIGKILL), as a crash would, and closes
// Out; Start brings it back on the same port.
func (s *SRTListener) Kill() {
	if s.cmd == nil {
		return
	}
	_ = s.cmd.Process.Kill()
	<-s.done
	s.out.Close()
	s.cmd = nil
}

// Stop ends the listener and closes Out.
func (s *SRTListener) Stop() {
	if s.cmd == nil {
		return
	}
	_ = s.cmd.Process.Signal(syscall.SIGCONT)
	_ = s.cmd.Process.Signal(syscall.SIGINT)
	select {
	case <-s.done:
	case <-time.After(3 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.done
	}
	s.out.Close()
	s.cmd = nil
}

// URL is srt://127.0.0.1:PORT with the given query (may be empty).
func (s *SRTListener) URL(query string) string {
	u := fmt.Sprintf("srt://127.0.0.1:%d", s.Port)
	if query != "" {
		u += "?" + query
	}
	return u
}

// Trim keeps the non-empty lines of s.
func Trim(s string) []string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return out
}
