package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/livecap/livecap/internal/testpeers"
)

// The faults on this machine rather than the network: a kill -9 and a full
// disk.

// d. livecap itself killed with SIGKILL mid-segment and mid-fragment.
func faultSigkill(t *testing.T, plan faultPlan, table *faultTable) {
	ngx := testpeers.StartNginx(t)
	dir := t.TempDir()
	const key = "faultDkey3318"
	p := startRun(t, nil, append(realtimeArgs(dir, "--rtmp", ngx.URL(key)), "--segment", "10s")...)
	started := p.mustEvent("segment_opened", time.Time{}, 20*time.Second)
	p.mustEvent("destination_connected", time.Time{}, 20*time.Second)
	// Into the second segment, half-way through a fragment, and half a
	// second after a stats event so that a gap before the kill can be
	// told from a frame the source skipped (recordingLoss).
	second := p.mustEvent("segment_opened", started.Time, 30*time.Second)
	stats := p.mustEvent("stats", second.Time.Add(time.Second), 10*time.Second)
	time.Sleep(time.Until(stats.Time.Add(500 * time.Millisecond)))
	tKill := time.Now()
	p.kill()
	peak := p.peakRSS(time.Time{}, tKill)
	ngx.Stop()
	p.noSecret(key)

	files := segments(t, dir)
	if len(files) != 2 {
		t.Fatalf("after SIGKILL: %v, want 2 segments", files)
	}
	rep, _ := analyzeFiles(t, files...)
	missing := recordingLoss(t, rep, p)
	lostTail := -1.0
	if last := rep.Files[len(rep.Files)-1].LastFrame; last != nil {
		// Frame n of the test source is due n/30 s after the first segment
		// opened (the source starts with the session).
		lostTail = tKill.Sub(started.Time).Seconds() - float64(*last+1)/30
	}
	recOK := decodesAll(t, files...)
	flvOK := checkFLVs(t, ngx, 1)
	table.add(faultRow{Fault: "d. livecap SIGKILL mid-segment", Missing: missing, ResumeS: -1, PeakRSSMB: peak,
		Decodes: recOK && flvOK, Note: fmt.Sprintf("lost tail %.2f s (limit %.1f s: one fragment)", lostTail, plan.maxKillTailS)})
	if missing != 0 {
		t.Errorf("recording: %d frames lost before the kill (barcode gaps %v)", missing, rep.Frames.MissingRanges)
	}
	if lostTail < 0 || lostTail > plan.maxKillTailS {
		t.Errorf("after SIGKILL the recording lost its last %.2f s, want ≤ %.1f s (one fragment)", lostTail, plan.maxKillTailS)
	}
	checkRSS(t, plan, peak)
}

// e. The disk fills mid-segment: the recording closes its segment and
// stops with a clear error, the stream goes on, the exit code says disk
// (3). Another program fills it either to the last byte (the next write
// fails with ENOSPC) or to under the recorder's low-water mark (4 MiB
// here: it must stop before the disk is full).
func faultDiskFull(t *testing.T, plan faultPlan, table *faultTable, leave int64) {
	if os.Geteuid() != 0 {
		t.Skip("mounting a small tmpfs needs root")
	}
	mnt := filepath.Join(t.TempDir(), "disk")
	if err := os.Mkdir(mnt, 0o755); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=16m", "tmpfs", mnt).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a tmpfs: %v: %s", err, out)
	}
	t.Cleanup(func() { _ = exec.Command("umount", "-l", mnt).Run() })
	dir := filepath.Join(mnt, "rec")
	ngx := testpeers.StartNginx(t)
	const key = "faultEkey6604"
	p := startRun(t, nil, append(realtimeArgs(dir, "--rtmp", ngx.URL(key)), "--expected-duration", "20s")...)
	p.mustEvent("destination_connected", time.Time{}, 20*time.Second)
	time.Sleep(plan.steady + 500*time.Millisecond) // mid-fragment
	tFill := time.Now()
	fillErr := fillDisk(filepath.Join(mnt, "filler"), leave)
	stopped := p.mustEvent("recording_stopped", tFill, 15*time.Second)
	flvAtStop := flvBytes(ngx)
	time.Sleep(plan.steady)
	streamedOn := flvBytes(ngx) > flvAtStop
	peak := p.peakRSS(tFill, time.Now())
	code := p.interrupt(30 * time.Second)
	ngx.Stop()
	p.noSecret(key)
	reason, _ := stopped.Fields["reason"].(string)
	t.Logf("filled the disk (%v); recording_stopped: %s; exit %d", fillErr, reason, code)
	if !streamedOn {
		t.Errorf("nginx got no media after the recording stopped: the stream must go on")
	}
	if code != 3 {
		t.Errorf("exit %d, want 3 (the disk filled)\n%s", code, tail(p.stderr(), 2000))
	}
	if reason == "" || !strings.Contains(reason, dir) && !strings.Contains(reason, mnt) {
		t.Errorf("recording_stopped reason %q should name the folder whose disk filled", reason)
	}
	files := segments(t, dir)
	if len(files) == 0 {
		t.Fatal("no recording")
	}
	rep, _ := analyzeFiles(t, files...)
	missing := recordingLoss(t, rep, p)
	recOK := decodesAll(t, files...)
	flvOK := checkFLVs(t, ngx, 1)
	// The stream outlived the recording: it has more frames.
	flvFrames := 0
	for _, f := range ngx.Recordings() {
		flvFrames += testpeers.Probe(t, f).Frames["video"]
	}
	if flvFrames < rep.Frames.Total+int(plan.steady.Seconds()*30*0.8) {
		t.Errorf("nginx got %d frames, the recording %d: the stream should have gone on %s after the recording stopped",
			flvFrames, rep.Frames.Total, plan.steady)
	}
	what := "e. disk filled to the last byte"
	if leave > 0 {
		what = fmt.Sprintf("e. disk filled to %d MiB free", leave>>20)
	}
	table.add(faultRow{Fault: what, Missing: missing, ResumeS: -1, PeakRSSMB: peak,
		Decodes: recOK && flvOK, Note: fmt.Sprintf("exit %d; recording %d frames, stream %d", code, rep.Frames.Total, flvFrames)})
	if missing != 0 {
		t.Errorf("recording: %d frames lost before the disk filled (barcode gaps %v)", missing, rep.Frames.MissingRanges)
	}
	checkRSS(t, plan, peak)
}
