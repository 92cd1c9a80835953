// Package testdesktop starts a real desktop for capture tests: an X server
// (Xvfb) and a sound server (PulseAudio, as a user daemon with a null sink
// and the native protocol on a private socket), each in its own temporary
// directory, stopped when the test ends. Tests capture from them the way a
// user's session is captured: x11grab on the display, pulse on the sink's
// monitor.
package testdesktop

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/livecap/livecap/internal/testpeers"
)

// X is a running Xvfb.
type X struct {
	Display string // ":N"
	W, H    int
}

// StartX starts Xvfb with one w x h x 24 screen on a free display number
// (Xvfb picks it: -displayfd) and waits until it accepts clients.
func StartX(t testing.TB, w, h int) *X {
	t.Helper()
	testpeers.Need(t, "Xvfb")
	r, wr, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	log := filepath.Join(t.TempDir(), "xvfb.log")
	lf, err := os.Create(log)
	if err != nil {
		t.Fatal(err)
	}
	defer lf.Close()
	cmd := exec.Command("Xvfb", "-displayfd", "3", "-screen", "0", fmt.Sprintf("%dx%dx24", w, h),
		"-nolisten", "tcp", "-noreset")
	cmd.ExtraFiles = []*os.File{wr}
	cmd.Stdout, cmd.Stderr = lf, lf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatalf("Xvfb: %v", err)
	}
	wr.Close()
	t.Cleanup(func() { stop(cmd) })
	num := make(chan string, 1)
	go func() {
		line, _ := bufio.NewReader(r).ReadString('\n')
		num <- strings.TrimSpace(line)
	}()
	select {
	case n := <-num:
		if _, err := strconv.Atoi(n); err != nil {
			b, _ := os.ReadFile(log)
			t.Fatalf("Xvfb did not start (display %q): %s", n, b)
		}
		return &X{Display: ":" + n, W: w, H: h}
	case <-time.After(20 * time.Second):
		b, _ := os.ReadFile(log)
		t.Fatalf("Xvfb did not report its display within 20s: %s", b)
	}
	return nil
}

// Pulse is a running PulseAudio daemon with one null sink.
type Pulse struct {
	Server  string // PULSE_SERVER value: unix:/path
	Sink    string // the null sink, also the default sink
	Monitor string // its monitor source (what the sink plays)
	dir     string
	cmd     *exec.Cmd
}

// Kill ends the server at once (SIGKILL), as a crash would.
func (p *Pulse) Kill() {
	if p.cmd != nil && p.cmd.Process != nil {
		_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
	}
}

// Env is what a client needs to reach this server.
func (p *Pulse) Env() []string {
	return []string{"PULSE_SERVER=" + p.Server}
}

// StartPulse starts PulseAudio as a foreground user daemon with a null
// sink named sink and the native protocol on a private socket, all state
// kept in a temporary directory (it runs as root too: -n skips the
// default configuration, and no system bus is needed).
//
// extra modules ("module-pipe-source source_name=x file=/path ...") are
// loaded too.
func StartPulse(t testing.TB, sink string, extra ...string) *Pulse {
	t.Helper()
	testpeers.Need(t, "pulseaudio", "pactl")
	dir, err := os.MkdirTemp("", "lcpulse-") // short: socket paths are limited to 108 bytes
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	for _, d := range []string{"rt", "state", "home"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	sock := filepath.Join(dir, "native")
	p := &Pulse{Server: "unix:" + sock, Sink: sink, Monitor: sink + ".monitor", dir: dir}
	lf, err := os.Create(filepath.Join(dir, "pulse.log"))
	if err != nil {
		t.Fatal(err)
	}
	defer lf.Close()
	args := []string{"--daemonize=no", "--exit-idle-time=-1", "-n", "--disallow-exit",
		"--disable-shm=yes", "--use-pid-file=no", "--log-target=stderr",
		"--load=module-null-sink sink_name=" + sink + " rate=48000 channels=2",
		"--load=module-native-protocol-unix socket=" + sock + " auth-anonymous=1"}
	for _, m := range extra {
		args = append(args, "--load="+m)
	}
	cmd := exec.Command("pulseaudio", args...)
	cmd.Env = append(os.Environ(), "XDG_RUNTIME_DIR="+filepath.Join(dir, "rt"), "HOME="+filepath.Join(dir, "home"),
		"PULSE_STATE_PATH="+filepath.Join(dir, "state"), "PULSE_RUNTIME_PATH="+filepath.Join(dir, "rt"),
		"DBUS_SESSION_BUS_ADDRESS=disabled:", "DISPLAY=")
	cmd.Stdout, cmd.Stderr = lf, lf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatalf("pulseaudio: %v", err)
	}
	p.cmd = cmd
	t.Cleanup(func() { stop(cmd) })
	deadline := time.Now().Add(20 * time.Second)
	for {
		out, err := exec.Command("pactl", "-s", p.Server, "info").CombinedOutput()
		if err == nil && strings.Contains(string(out), "Default Sink: "+sink) {
			return p
		}
		if time.Now().After(deadline) {
			b, _ := os.ReadFile(filepath.Join(dir, "pulse.log"))
			t.Fatalf("pulseaudio not ready within 20s: %s\n%s", out, b)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// Play starts ffplay on display x, sending sound to pulse p, showing path
// borderless at the top left corner at w x h. It is stopped when the test
// ends.
func Play(t testing.TB, x *X, p *Pulse, path string, extra ...string) *exec.Cmd {
	t.Helper()
	testpeers.Need(t, "ffplay")
	args := append([]string{"-hide_banner", "-loglevel", "error", "-nostats", "-noborder", "-left", "0", "-top", "0",
		"-x", strconv.Itoa(x.W), "-y", strconv.Itoa(x.H), "-autoexit"}, extra...)
	args = append(args, path)
	cmd := exec.Command("ffplay", args...)
	cmd.Env = append(os.Environ(), "DISPLAY="+x.Display, "SDL_AUDIODRIVER=pulseaudio", "SDL_VIDEODRIVER=x11")
	cmd.Env = append(cmd.Env, p.Env()...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatalf("ffplay: %v", err)
	}
	t.Cleanup(func() { stop(cmd) })
	return cmd
}

// stop ends a process group started here: SIGTERM, then SIGKILL after 3 s.
func stop(cmd *exec.Cmd) {
	if cmd.Process == nil {
		return
	}
	_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
	done := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(3 * time.Second):
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-done
	}
}

// Painter paints the root window of an X server in one colour, speaking
// the X11 protocol itself (no X library here): ChangeWindowAttributes sets
// the background, ClearArea repaints, GetInputFocus is the round trip that
// says the server has done both.
type Painter struct {
	c            net.Conn
	root         uint32
	white, black uint32
}

// Painter connects to the display (no authorization: Xvfb is started
// without -auth).
func (x *X) Painter(t testing.TB) *Painter {
	t.Helper()
	c, err := net.Dial("unix", "/tmp/.X11-unix/X"+strings.TrimPrefix(x.Display, ":"))
	if err != nil {
		t.Fatalf("X connection: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	// Little-endian, protocol 11.0, no authorization.
	if _, err := c.Write([]byte{'l', 0, 11, 0, 0, 0, 0, 0, 0, 0, 0, 0}); err != nil {
		t.Fatal(err)
	}
	head := make([]byte, 8)
	if _, err := io.ReadFull(c, head); err != nil {
		t.Fatal(err)
	}
	body := make([]byte, int(binary.LittleEndian.Uint16(head[6:]))*4)
	if _, err := io.ReadFull(c, body); err != nil {
		t.Fatal(err)
	}
	if head[0] != 1 {
		t.Fatalf("X server refused the connection: %q", body)
	}
	vendorLen := int(binary.LittleEndian.Uint16(body[16:]))
	formats := int(body[21])
	scr := 32 + (vendorLen+3)&^3 + 8*formats
	return &Painter{c: c, root: binary.LittleEndian.Uint32(body[scr:]),
		white: binary.LittleEndian.Uint32(body[scr+8:]), black: binary.LittleEndian.Uint32(body[scr+12:])}
}

// Paint fills the root window white or black and returns once the server
// has done it.
func (p *Painter) Paint(white bool) error {
	pixel := p.black
	if white {
		pixel = p.white
	}
	var b [32]byte
	le := binary.LittleEndian
	b[0] = 2 // ChangeWindowAttributes
	le.PutUint16(b[2:], 4)
	le.PutUint32(b[4:], p.root)
	le.PutUint32(b[8:], 2) // CWBackPixel
	le.PutUint32(b[12:], pixel)
	b[16] = 61 // ClearArea, whole window
	le.PutUint16(b[18:], 4)
	le.PutUint32(b[20:], p.root)
	// x, y, width, height = 0: to the edges
	req := append(b[:], 43, 0, 1, 0) // GetInputFocus
	if _, err := p.c.Write(req); err != nil {
		return err
	}
	var reply [32]byte
	if _, err := io.ReadFull(p.c, reply[:]); err != nil {
		return err
	}
	if reply[0] != 1 {
		return fmt.Errorf("X error %d", reply[1])
	}
	return nil
}
