package control

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// recHandler records what it was asked; it is the session's side of the
// interface, so the tests here exercise the socket, not a session.
type recHandler struct {
	mu    sync.Mutex
	calls []string
}

func (h *recHandler) add(s string) {
	h.mu.Lock()
	h.calls = append(h.calls, s)
	h.mu.Unlock()
}
func (h *recHandler) Split() (Result, error) { h.add("split"); return Result{"segment": 2}, nil }
func (h *recHandler) Marker(n string) (Result, error) {
	h.add("marker " + n)
	return Result{"name": n}, nil
}
func (h *recHandler) Reconnect(d string) (Result, error) {
	h.add("reconnect " + d)
	if d == "nope" {
		return nil, fmt.Errorf("no destination %q", d)
	}
	return Result{}, nil
}
func (h *recHandler) Pause() (Result, error)  { h.add("pause"); return nil, nil }
func (h *recHandler) Resume() (Result, error) { panic("boom") }
func (h *recHandler) Status() (Result, error) { return Result{"state": "recording"}, nil }

func sockPath(t testing.TB) string {
	// t.TempDir can exceed the socket path limit; /tmp stays short.
	d, err := os.MkdirTemp("", "lcctl")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(d) })
	return filepath.Join(d, SocketName)
}

func TestVerbsAndErrors(t *testing.T) {
	p := sockPath(t)
	h := &recHandler{}
	s, err := Listen(p, h)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	st, err := os.Lstat(p)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 || st.Mode()&os.ModeSocket == 0 {
		t.Fatalf("socket mode %v, want a 0600 socket", st.Mode())
	}
	c, err := Dial(p, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	cases := []struct {
		req     Request
		ok      bool
		errPart string
	}{
		{Request{Verb: "split"}, true, ""},
		{Request{Verb: "marker", Name: "intro"}, true, ""},
		{Request{Verb: "marker"}, false, "invalid marker name"},
		{Request{Verb: "marker", Name: "a\nb"}, false, "control characters"},
		{Request{Verb: "marker", Name: strings.Repeat("x", MaxMarkerName+1)}, false, "at most 100 bytes"},
		{Request{Verb: "reconnect", Dest: "nope"}, false, `no destination "nope"`},
		{Request{Verb: "reconnect"}, true, ""},
		{Request{Verb: "pause"}, true, ""},
		{Request{Verb: "resume"}, false, "internal error: boom"},
		{Request{Verb: "status"}, true, ""},
		{Request{Verb: "explode"}, false, `invalid verb "explode": must be one of split, marker`},
		{Request{}, false, "no verb"},
	}
	for _, tc := range cases {
		rep, err := c.Do(tc.req, time.Second)
		if err != nil {
			t.Fatalf("%+v: %v", tc.req, err)
		}
		if rep.OK != tc.ok || !strings.Contains(rep.Error, tc.errPart) || strings.Contains(rep.Error, "\n") {
			t.Errorf("%+v: got %+v, want ok=%v error containing %q", tc.req, rep, tc.ok, tc.errPart)
		}
	}
	if rep, _ := c.Do(Request{Verb: "status"}, time.Second); rep.Result["state"] != "recording" {
		t.Errorf("status result %v", rep.Result)
	}
	want := "split,marker intro,reconnect nope,reconnect ,pause"
	if got := strings.Join(h.calls, ","); got != want {
		t.Errorf("handler calls %q, want %q", got, want)
	}

	// Raw garbage and an unknown field: a one-line error, the connection stays.
	raw, err := net.Dial("unix", p)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	for _, l := range []string{"not json", `{"verb":"split","extra":1}`} {
		fmt.Fprintln(raw, l)
		var rep Reply
		if err := json.NewDecoder(raw).Decode(&rep); err != nil || rep.OK || !strings.Contains(rep.Error, "invalid request") {
			t.Errorf("%q: reply %+v %v", l, rep, err)
		}
	}
	// An overlong line: refused and closed.
	raw2, _ := net.Dial("unix", p)
	defer raw2.Close()
	raw2.Write([]byte(strings.Repeat("a", 3*maxLine)))
	var rep Reply
	raw2.SetReadDeadline(time.Now().Add(2 * time.Second))
	if err := json.NewDecoder(raw2).Decode(&rep); err != nil || !strings.Contains(rep.Error, "at most 4096 bytes") {
		t.Errorf("overlong: %+v %v", rep, err)
	}
}

func TestStaleAndInUse(t *testing.T) {
	p := sockPath(t)
	s, err := Listen(p, &recHandler{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Listen(p, &recHandler{}); !errors.Is(err, ErrInUse) {
		t.Fatalf("second Listen: %v, want ErrInUse", err)
	}
	s.Close()
	if _, err := os.Lstat(p); !os.IsNotExist(err) {
		t.Fatalf("Close left the socket: %v", err)
	}
	// A stale socket (bound, never closed: a killed session).
	ln, err := net.Listen("unix", p)
	if err != nil {
		t.Fatal(err)
	}
	ln.(*net.UnixListener).SetUnlinkOnClose(false)
	ln.Close()
	os.Chmod(p, 0o600)
	if _, err := Dial(p, time.Second); err == nil || !strings.Contains(err.Error(), "stale") {
		t.Errorf("Dial of a stale socket: %v", err)
	}
	s2, err := Listen(p, &recHandler{})
	if err != nil {
		t.Fatalf("Listen over a stale socket: %v", err)
	}
	s2.Close()
	// A regular file is never removed.
	os.WriteFile(p, []byte("x"), 0o600)
	if _, err := Listen(p, &recHandler{}); err == nil || !strings.Contains(err.Error(), "not a socket") {
		t.Errorf("Listen over a file: %v", err)
	}
	// Too long a path.
	long := "/tmp/" + strings.Repeat("d", MaxPath)
	if _, err := Listen(long, &recHandler{}); err == nil || !strings.Contains(err.Error(), "at most 103") {
		t.Errorf("long path: %v", err)
	}
}

func TestDialRefusesLooseMode(t *testing.T) {
	p := sockPath(t)
	s, err := Listen(p, &recHandler{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	os.Chmod(p, 0o666)
	if _, err := Dial(p, time.Second); err == nil || !strings.Contains(err.Error(), "not owner-only") {
		t.Errorf("Dial of a 0666 socket: %v", err)
	}
}

func TestSubscribe(t *testing.T) {
	p := sockPath(t)
	s, err := Listen(p, &recHandler{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	c, err := Dial(p, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	got := make(chan string, 10)
	go c.Subscribe(time.Second, func(l []byte) bool { got <- string(l); return true })
	// Wait until the subscription is registered.
	for i := 0; s.nsubs.Load() == 0; i++ {
		if i > 200 {
			t.Fatal("no subscriber registered")
		}
		time.Sleep(5 * time.Millisecond)
	}
	s.Write([]byte(`{"level":"info","message":"no event field"}` + "\n"))
	s.Write([]byte(`{"level":"info","event":"marker","name":"x"}` + "\n"))
	select {
	case l := <-got:
		if l != `{"level":"info","event":"marker","name":"x"}` {
			t.Errorf("event line %q", l)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no event")
	}
	// A subscriber that does not read loses events, and is told how many.
	c2, _ := Dial(p, time.Second)
	defer c2.Close()
	c2.Do(Request{Verb: VerbSubscribe}, time.Second)
	for s.nsubs.Load() < 2 {
		time.Sleep(5 * time.Millisecond)
	}
	big := `{"event":"stats","pad":"` + strings.Repeat("p", 4000) + `"}` + "\n"
	for i := 0; i < 3*subscriberBuf; i++ {
		s.Write([]byte(big))
	}
	var sawDrop bool
	c2.c.SetReadDeadline(time.Now().Add(10 * time.Second))
	for i := 0; i < 4*subscriberBuf && !sawDrop; i++ {
		l, err := c2.br.ReadBytes('\n')
		if err != nil {
			break
		}
		sawDrop = strings.Contains(string(l), "control_events_dropped")
	}
	if !sawDrop {
		t.Error("a slow subscriber was not told about dropped events")
	}
}
