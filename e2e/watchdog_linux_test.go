//go:build linux

package e2e

import (
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/livecap/livecap/internal/testdesktop"
)

func init() {
	producedBy["source_lost"] = "TestSourceLostAndBack"
	producedBy["source_back"] = "TestSourceLostAndBack"
}

// TestSourceLostAndBack: a microphone that goes quiet mid-run (a PulseAudio
// sink suspended under a running capture: its monitor delivers nothing, no
// error) is reported by the watchdog as source_lost for audio, naming the
// device; when the sink resumes, source_back; the session goes on to its
// --duration and exits 0 with a recording that has its video throughout.
func TestSourceLostAndBack(t *testing.T) {
	x := testdesktop.StartX(t, 320, 240)
	p := testdesktop.StartPulse(t, "lcwatch")
	env := append([]string{"DISPLAY=" + x.Display}, p.Env()...)
	rec := t.TempDir()
	r := startRun(t, env, "stream", "--video", "screen", "--size", "320x240", "--audio", p.Monitor,
		"--record", rec, "--duration", "25s", "--log-format", "json")
	r.mustEvent("segment_opened", time.Time{}, 30*time.Second)
	suspend := func(on string) {
		t.Helper()
		if out, err := exec.Command("pactl", "-s", p.Server, "suspend-sink", p.Sink, on).CombinedOutput(); err != nil {
			t.Fatalf("pactl suspend-sink %s: %v %s", on, err, out)
		}
	}
	time.Sleep(2 * time.Second)
	at := time.Now()
	suspend("1")
	lost := r.mustEvent("source_lost", at, 15*time.Second)
	if k := lost.Fields["kind"]; k != "audio" {
		t.Errorf("source_lost kind %v, want audio (the screen kept delivering)", k)
	}
	if reason, _ := lost.Fields["reason"].(string); !strings.Contains(reason, "pulse:"+p.Monitor) {
		t.Errorf("source_lost reason %q does not name the microphone pulse:%s", reason, p.Monitor)
	}
	if gap, _ := lost.Fields["gap_s"].(float64); gap < 3 {
		t.Errorf("source_lost after %.1f s of silence, want at least the documented 3 s", gap)
	}
	suspend("0")
	back := r.mustEvent("source_back", lost.Time, 15*time.Second)
	if k := back.Fields["kind"]; k != "audio" {
		t.Errorf("source_back kind %v, want audio", k)
	}
	if code := r.wait(60 * time.Second); code != 0 {
		t.Fatalf("exit %d, want 0 (the source came back)\n%s", code, tail(r.stderr(), 3000))
	}
	evs := parseEvents(t, r.stderr()) // every line against the schema
	var stopped map[string]any
	for _, e := range evs {
		if e["event"] == "stopped" {
			stopped = e
		}
	}
	if stopped == nil || stopped["reason"] != "duration" {
		t.Errorf("stopped %v, want reason duration", stopped)
	}
	files := segments(t, rec)
	if len(files) == 0 {
		t.Fatal("no recording")
	}
	if pr := probe(t, files[0]); pr.stream("video") == nil || pr.stream("video").frames() < 25*20 {
		t.Errorf("recording: %+v, want the screen's video for the whole 25 s", pr.Streams)
	}
	t.Logf("source_lost %v after the suspend (gap %.1f s), back after %v", lost.Time.Sub(at).Round(100*time.Millisecond), lost.Fields["gap_s"], back.Time.Sub(lost.Time).Round(100*time.Millisecond))
}
