package e2e

import (
	"encoding/json"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/livecap/livecap/internal/analyze"
	"github.com/livecap/livecap/internal/testpeers"
)

func analyzeFiles(t *testing.T, files ...string) (analyze.Report, string) {
	t.Helper()
	args := append([]string{"analyze", "--json", "--allow-gaps"}, files...)
	out, err := exec.Command(binary, args...).Output()
	if err != nil {
		t.Fatalf("analyze %v: %v\n%s", files, err, out)
	}
	var r analyze.Report
	if err := json.Unmarshal(out, &r); err != nil {
		t.Fatalf("analyze output: %v\n%s", err, out)
	}
	return r, string(out)
}

// checkSync asserts the acceptance: median |offset| ≤ 5 ms, max ≤ 20 ms.
func checkSync(t *testing.T, what string, r analyze.Report, minPairs int) {
	t.Helper()
	if r.Sync.Pairs < minPairs {
		t.Errorf("%s: %d flash/beep pairs, want at least %d", what, r.Sync.Pairs, minPairs)
	}
	if m := r.Sync.MedianMs; m < -5 || m > 5 {
		t.Errorf("%s: median A/V offset %.2f ms, want within ±5 ms", what, m)
	}
	if r.Sync.MaxAbsMs > 20 {
		t.Errorf("%s: max |A/V offset| %.2f ms, want ≤ 20 ms", what, r.Sync.MaxAbsMs)
	}
	t.Logf("%s: %d pairs, median %+.2f ms, max |offset| %.2f ms", what, r.Sync.Pairs, r.Sync.MedianMs, r.Sync.MaxAbsMs)
}

// One encode, three consumers: the recording, nginx-rtmp and an SRT
// listener with a passphrase all decode, hold the same media and stay in
// sync; no secret appears in any output.
func TestStreamAndRecordInSync(t *testing.T) {
	ngx := testpeers.StartNginx(t)
	const pass = "s3cretPassphrase"
	srt := testpeers.StartSRTListener(t, pass)
	dir := t.TempDir()
	const key = "streamKEY123"
	rtmpURL := ngx.URL(key)
	srtURL := srt.URL("streamid=cam1secret&passphrase=" + pass)
	r := livecap(t, 90*time.Second, nil, "stream", "--video", "test", "--audio", "test",
		"--size", "320x180", "--bitrate", "600k", "--duration", "12s",
		"--rtmp", rtmpURL, "--srt", srtURL, "--record", dir, "--log-format", "json")
	if r.code != 0 {
		t.Fatalf("exit %d\n%s", r.code, tail(r.stderr, 3000))
	}
	for _, secret := range []string{key, pass, "cam1secret"} {
		if strings.Contains(r.stderr+r.stdout, secret) {
			t.Errorf("secret %q appears in livecap's output", secret)
		}
	}
	for _, ev := range []string{`"event":"started"`, `"event":"destination_connected"`, `"event":"segment_closed"`, `"event":"stopped"`} {
		if !strings.Contains(r.stderr, ev) {
			t.Errorf("no %s event in the log", ev)
		}
	}
	ngx.Stop()
	srt.Stop()

	files := segments(t, dir)
	if len(files) != 1 {
		t.Fatalf("recording: %v", files)
	}
	rep, _ := analyzeFiles(t, files...)
	checkSync(t, "recording", rep, 10)

	flvs := ngx.Recordings()
	if len(flvs) != 1 {
		t.Fatalf("nginx recorded %v, want one FLV", flvs)
	}
	for _, f := range []string{flvs[0], srt.Out} {
		pr := testpeers.Probe(t, f)
		if pr.Codecs["video"] != "h264" || pr.Codecs["audio"] != "aac" {
			t.Errorf("%s: codecs %v", f, pr.Codecs)
		}
		if pr.DecodeErrors != "" {
			t.Errorf("%s: decode errors: %s", f, pr.DecodeErrors)
		}
		if pr.Frames["video"] < 300 {
			t.Errorf("%s: %d video frames, want ≥ 300 of 360", f, pr.Frames["video"])
		}
		if pr.NonMonotonic["video"] > 0 || pr.NonMonotonic["audio"] > 0 {
			t.Errorf("%s: timestamps went backwards: %v", f, pr.NonMonotonic)
		}
	}
	rep, _ = analyzeFiles(t, flvs[0])
	checkSync(t, "nginx-rtmp (FLV)", rep, 9)
	rep, _ = analyzeFiles(t, srt.Out)
	checkSync(t, "SRT listener (MPEG-TS)", rep, 9)
}

// A destination that is down at start and one that refuses are never
// fatal to the recording; the refusal is reported, redacted.
func TestDestinationDownNeverHurtsRecording(t *testing.T) {
	dir := t.TempDir()
	port := testpeers.FreePort(t, false)
	down := "rtmp://127.0.0.1:" + itoa(port) + "/live/downKEY"
	r := livecap(t, 90*time.Second, nil, "stream", "--video", "test", "--audio", "test",
		"--size", "320x180", "--bitrate", "500k", "--duration", "6s",
		"--rtmp", down, "--record", dir, "--log-format", "json", "--retry-initial", "500ms")
	if r.code != 0 {
		t.Fatalf("exit %d\n%s", r.code, tail(r.stderr, 3000))
	}
	if strings.Contains(r.stderr, "downKEY") {
		t.Error("stream key in the log")
	}
	if !strings.Contains(r.stderr, `"event":"reconnecting"`) {
		t.Error("no reconnecting event for the destination that is down")
	}
	files := segments(t, dir)
	if len(files) != 1 {
		t.Fatalf("recording: %v", files)
	}
	if v := probe(t, files[0]).stream("video"); v == nil || v.frames() < 170 {
		t.Fatalf("recording: %+v, want 6 s of video", v)
	}

	// Streaming only, to a destination that never comes: a bounded number
	// of attempts, then exit 6.
	r = livecap(t, 60*time.Second, nil, "stream", "--video", "test", "--audio", "test",
		"--size", "320x180", "--rtmp", down, "--max-retries", "2", "--retry-initial", "200ms", "--log-format", "json")
	if r.code != 6 || !strings.Contains(r.stderr, `"event":"gave_up"`) {
		t.Fatalf("streaming only to a dead destination: exit %d, want 6\n%s", r.code, tail(r.stderr, 2000))
	}
	if strings.Contains(r.stderr, "downKEY") {
		t.Error("stream key in the log")
	}
}

func itoa(i int) string { return strconv.Itoa(i) }
