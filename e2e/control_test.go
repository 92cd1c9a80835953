package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/livecap/livecap/internal/control"
	"github.com/livecap/livecap/internal/testpeers"
)

// producedBy names the test that produces (and schema-checks) the event
// types TestEventsEveryType does not.
var producedBy = map[string]string{
	"control_request": "TestControlVerbs", "marker": "TestControlVerbs",
	"recording_paused": "TestControlVerbs", "recording_resumed": "TestControlVerbs",
	"frames_skipped": "TestSkippedFramesReported",
	"source_lost":    "TestSourceLostAndBack (Linux)", "source_back": "TestSourceLostAndBack (Linux)",
}

// Every control verb against a running 720p30 session that records and
// streams (x264 encoding in real time on a shared machine, plus four
// clients polling status): the reply, the event, the file (chapters read
// back by ffprobe and mediainfo), and the reply times (logged: p50/max).
func TestControlVerbs(t *testing.T) {
	testpeers.Need(t, "ffprobe")
	ngx := testpeers.StartNginx(t)
	ngx.Stop() // the destination is down at start: it retries with a long backoff
	dir := t.TempDir()
	sock := filepath.Join(dir, control.SocketName)

	var mu sync.Mutex
	count := map[string]int{}
	cond := sync.NewCond(&mu)
	r := startLivecap(t, func(line string) {
		var ev map[string]any
		if json.Unmarshal([]byte(line), &ev) != nil {
			return
		}
		if name, _ := ev["event"].(string); name != "" {
			mu.Lock()
			count[name]++
			cond.Broadcast()
			mu.Unlock()
		}
	}, "stream", "--video", "test", "--audio", "test", "--size", "1280x720", "--record", dir, "--segment", "1h",
		"--rtmp", ngx.URL("ctlkey"), "--retry-initial", "40s", "--retry-max", "60s", "--log-format", "json", "--duration", "60")
	waitEvent := func(name string, n int, within time.Duration) {
		t.Helper()
		deadline := time.Now().Add(within)
		mu.Lock()
		defer mu.Unlock()
		for count[name] < n {
			if time.Now().After(deadline) {
				t.Fatalf("no %d× %s within %s\n%s", n, name, within, tail(r.stderr(), 4000))
			}
			mu.Unlock()
			time.Sleep(10 * time.Millisecond)
			mu.Lock()
		}
	}
	waitEvent("segment_opened", 1, 30*time.Second)
	waitEvent("reconnecting", 1, 30*time.Second)
	st, err := os.Lstat(sock)
	if err != nil || st.Mode()&os.ModeSocket == 0 || st.Mode().Perm() != 0o600 {
		t.Fatalf("control socket %s: %v %v, want a 0600 socket", sock, st.Mode(), err)
	}

	// A second session on the same folder is refused before it starts.
	if res := livecap(t, 30*time.Second, nil, "stream", "--video", "test", "--audio", "test", "--record", dir, "--duration", "1"); res.code != 2 ||
		!strings.Contains(res.stderr, "another livecap session records there") {
		t.Errorf("second session on the folder: exit %d, %s", res.code, tail(res.stderr, 500))
	}

	// Events through the socket, with the ctl client.
	sub := exec.Command(binary, "ctl", "--record", dir, "subscribe")
	var subOut syncBuffer
	sub.Stdout = &subOut
	if err := sub.Start(); err != nil {
		t.Fatal(err)
	}
	defer sub.Process.Kill()

	c, err := control.Dial(sock, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var times []time.Duration
	var tmu sync.Mutex
	do := func(c *control.Client, req control.Request) control.Reply {
		t.Helper()
		t0 := time.Now()
		rep, err := c.Do(req, 10*time.Second)
		d := time.Since(t0)
		if err != nil {
			t.Fatalf("%+v: %v", req, err)
		}
		tmu.Lock()
		times = append(times, d)
		tmu.Unlock()
		return rep
	}
	// Four clients polling status meanwhile.
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for i := 0; i < 4; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			pc, err := control.Dial(sock, 5*time.Second)
			if err != nil {
				t.Error(err)
				return
			}
			defer pc.Close()
			for {
				select {
				case <-stop:
					return
				case <-time.After(20 * time.Millisecond):
				}
				if rep := do(pc, control.Request{Verb: "status"}); !rep.OK {
					t.Errorf("status: %+v", rep)
				}
			}
		}()
	}

	mustOK := func(req control.Request) control.Reply {
		t.Helper()
		rep := do(c, req)
		if !rep.OK {
			t.Fatalf("%+v: %+v", req, rep)
		}
		return rep
	}
	time.Sleep(1500 * time.Millisecond)
	mustOK(control.Request{Verb: "marker", Name: "one"})
	waitEvent("marker", 1, 10*time.Second)
	time.Sleep(500 * time.Millisecond)
	mustOK(control.Request{Verb: "split"})
	waitEvent("segment_opened", 2, 10*time.Second)
	time.Sleep(1200 * time.Millisecond)
	mustOK(control.Request{Verb: "marker", Name: "two"})
	waitEvent("marker", 2, 10*time.Second)
	time.Sleep(300 * time.Millisecond)
	mustOK(control.Request{Verb: "pause"})
	waitEvent("recording_paused", 1, 10*time.Second)
	if rep := do(c, control.Request{Verb: "marker", Name: "lost"}); rep.OK || !strings.Contains(rep.Error, "paused") {
		t.Errorf("marker while paused: %+v", rep)
	}
	if rep := do(c, control.Request{Verb: "pause"}); rep.OK {
		t.Errorf("second pause: %+v", rep)
	}
	st1 := mustOK(control.Request{Verb: "status"})
	if rec, _ := st1.Result["recording"].(map[string]any); rec["paused"] != true {
		t.Errorf("status while paused: %v", st1.Result)
	}
	time.Sleep(1500 * time.Millisecond)
	mustOK(control.Request{Verb: "resume"})
	waitEvent("recording_resumed", 1, 10*time.Second)
	waitEvent("segment_opened", 3, 10*time.Second)
	time.Sleep(1200 * time.Millisecond)
	mustOK(control.Request{Verb: "marker", Name: "three"})
	// The same verb through the command line.
	out, err := exec.Command(binary, "ctl", "--record", dir, "marker", "via ctl").Output()
	if err != nil || !strings.Contains(string(out), `"ok":true`) {
		t.Errorf("livecap ctl marker: %v %s", err, out)
	}
	waitEvent("marker", 4, 10*time.Second)
	if code := exec.Command(binary, "ctl", "--record", dir, "marker").Run(); exitOf(code) != 2 {
		t.Errorf("ctl marker without a name: exit %d, want 2", exitOf(code))
	}
	if code := exec.Command(binary, "ctl", "--record", dir, "reconnect", "nope").Run(); exitOf(code) != 1 {
		t.Errorf("ctl reconnect nope: exit %d, want 1", exitOf(code))
	}

	// Reconnect now: the server is back; the 40 s backoff is cut short.
	ngx.Start()
	t0 := time.Now()
	rep := mustOK(control.Request{Verb: "reconnect", Dest: "1"})
	waitEvent("destination_connected", 1, 15*time.Second)
	t.Logf("reconnect: destination live %s after the verb (backoff was 40 s); reply %v", time.Since(t0).Round(time.Millisecond), rep.Result)

	// SIGUSR1: split now.
	time.Sleep(1200 * time.Millisecond)
	r.cmd.Process.Signal(syscall.SIGUSR1)
	waitEvent("segment_opened", 4, 10*time.Second)
	time.Sleep(1200 * time.Millisecond)

	close(stop)
	wg.Wait()
	r.cmd.Process.Signal(syscall.SIGINT)
	if code := r.wait(30 * time.Second); code != 0 {
		t.Fatalf("exit %d\n%s", code, tail(r.stderr(), 3000))
	}
	sub.Wait()
	if _, err := os.Lstat(sock); !os.IsNotExist(err) {
		t.Errorf("the socket outlived the session: %v", err)
	}
	for _, want := range []string{`"event":"marker"`, `"event":"recording_paused"`, `"event":"control_request"`, `"event":"stopped"`} {
		if !strings.Contains(subOut.String(), want) {
			t.Errorf("ctl subscribe did not stream %s", want)
		}
	}

	evs := parseEvents(t, r.stderr()) // every line follows the schema
	if n := len(ofType(evs, "control_request")); n < 10 {
		t.Errorf("%d control_request events, want one per verb", n)
	}

	files := segments(t, dir)
	if len(files) != 4 {
		t.Fatalf("segments %v, want 4 (split, pause/resume, SIGUSR1)", files)
	}
	wantCh := [][]string{{"one"}, {"two"}, {"three", "via ctl"}, nil}
	for i, f := range files {
		fr := videoFrames(t, f)
		if len(fr) == 0 || !fr[0].Key {
			t.Errorf("%s: does not start on a keyframe", f)
		}
		if e := decodeErrors(t, f); e != "" {
			t.Errorf("%s: %s", f, e)
		}
		var titles []string
		var v struct {
			Chapters []struct {
				Start string            `json:"start_time"`
				Tags  map[string]string `json:"tags"`
			} `json:"chapters"`
		}
		b, err := exec.Command("ffprobe", "-v", "error", "-show_chapters", "-of", "json", f).Output()
		if err != nil || json.Unmarshal(b, &v) != nil {
			t.Fatalf("ffprobe chapters %s: %v", f, err)
		}
		last := -1.0
		for _, c := range v.Chapters {
			titles = append(titles, c.Tags["title"])
			s, _ := strconv.ParseFloat(c.Start, 64)
			if s < last || s < 0.5 {
				t.Errorf("%s: chapter %q at %.3f s (after %.3f; each was placed >= 1 s into its file)", f, c.Tags["title"], s, last)
			}
			last = s
		}
		if strings.Join(titles, "|") != strings.Join(wantCh[i], "|") {
			t.Errorf("%s: chapters %q, want %q", filepath.Base(f), titles, wantCh[i])
		}
		if len(wantCh[i]) > 0 {
			if mi, err := exec.LookPath("mediainfo"); err == nil {
				b, _ := exec.Command(mi, f).Output()
				if !strings.Contains(string(b), wantCh[i][0]) {
					t.Errorf("%s: mediainfo shows no chapter %q", f, wantCh[i][0])
				}
			}
		}
	}

	sort.Slice(times, func(i, j int) bool { return times[i] < times[j] })
	t.Logf("control replies under load: n=%d p50=%s p99=%s max=%s", len(times), times[len(times)/2],
		times[len(times)*99/100], times[len(times)-1])
}

func exitOf(err error) int {
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode()
	}
	if err != nil {
		return -1
	}
	return 0
}

// Two named destinations on one nginx (one given OBS-style, --server with
// --key-file): events, stats and the status line name them, both streams
// arrive, the key from the file never appears, and ctl reconnect finds a
// destination by name.
func TestNamedDestinations(t *testing.T) {
	ngx := testpeers.StartNginx(t)
	dir := t.TempDir()
	keyFile := filepath.Join(dir, "key")
	if err := os.WriteFile(keyFile, []byte("filekey777\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	sock := filepath.Join(dir, "c.sock")
	r := startRun(t, nil, "stream", "--video", "test", "--audio", "test", "--size", "320x180", "--duration", "7",
		"--rtmp", "main="+ngx.URL("clikey555"), "--server", fmt.Sprintf("backup=rtmp://127.0.0.1:%d/live", ngx.Port),
		"--key-file", keyFile, "--control", sock, "--log-format", "json")
	r.mustEvent("stats", time.Time{}, 30*time.Second)
	c, err := control.Dial(sock, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := c.Do(control.Request{Verb: "reconnect", Dest: "backup"}, 5*time.Second)
	if err != nil || !rep.OK {
		t.Errorf("reconnect backup: %+v %v", rep, err)
	}
	if rep, _ := c.Do(control.Request{Verb: "reconnect", Dest: "nope"}, 5*time.Second); rep.OK || !strings.Contains(rep.Error, "must be one of main, backup") {
		t.Errorf("reconnect nope: %+v", rep)
	}
	c.Close()
	if code := r.wait(60 * time.Second); code != 0 {
		t.Fatalf("exit %d\n%s", code, tail(r.stderr(), 3000))
	}
	r.noSecret("filekey777")
	var connected []string
	for _, ev := range r.events("destination_connected") {
		connected = append(connected, ev.Fields["destination"].(string))
	}
	sort.Strings(connected)
	want := fmt.Sprintf("backup=rtmp://127.0.0.1:%d/live/**** main=rtmp://127.0.0.1:%d/live/****", ngx.Port, ngx.Port)
	if strings.Join(connected, " ") != want {
		t.Errorf("destination_connected %q, want %q", connected, want)
	}
	stats := r.events("stats")
	if len(stats) == 0 {
		t.Fatal("no stats event")
	}
	var names []string
	for _, d := range stats[len(stats)-1].Fields["destinations"].([]any) {
		names = append(names, d.(map[string]any)["name"].(string))
	}
	if len(names) != 2 || !strings.HasPrefix(names[0], "main=") || !strings.HasPrefix(names[1], "backup=") {
		t.Errorf("stats destination names %q", names)
	}
	ngx.Stop()
	var got []string
	for _, f := range ngx.Recordings() {
		b := filepath.Base(f)
		switch {
		case strings.HasPrefix(b, "clikey555"):
			got = append(got, "main")
		case strings.HasPrefix(b, "filekey777"):
			got = append(got, "backup")
		}
	}
	sort.Strings(got)
	if strings.Join(got, ",") != "backup,main" {
		t.Errorf("nginx recorded %v (%v), want both streams", got, ngx.Recordings())
	}
}
