package e2e

import (
	"errors"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/livecap/livecap/internal/analyze"
	"github.com/livecap/livecap/internal/diskcheck"
	"github.com/livecap/livecap/internal/testpeers"
)

// The fault suite (issue 7, part 3; the faults of issue 3). Each fault runs
// the real binary on the real-time test source against real peers, breaks
// something, and measures what a user would check afterwards:
//
//   - frames missing from the recording (the barcode on every test-source
//     frame, read by livecap analyze): 0, except the tail after SIGKILL;
//   - seconds from the peer's return to the stream resuming, from the
//     destination_connected events of the JSON log;
//   - peak resident memory of livecap while the fault lasts, sampled from
//     /proc every 200 ms;
//   - whether every file decodes: the recording and what the peers got.
//
// LIVECAP_FAULTS=full runs the durations of the issue (5 restarts, a 30 s
// stall, 60 s refused); unset, a shorter form for CI. LIVECAP_FAULT_TABLE
// names a file to write the figures table to (scripts/fault-suite.sh).

// faultPlan holds the durations of one form of the suite.
type faultPlan struct {
	full         bool
	restarts     int           // a: nginx killed and restarted
	restartDown  time.Duration // a: down time per restart
	stall        time.Duration // b: peer stops reading
	refused      time.Duration // c: port closed
	downAtStart  time.Duration // f: destination comes up after
	srtDown      time.Duration // g: listener killed, back after
	srtPause     time.Duration // g: listener SIGSTOPped
	steady       time.Duration // media before and after each fault
	maxRSSMB     float64       // bound on peak RSS
	maxKillTailS float64       // d: lost tail after SIGKILL
}

func planFromEnv() faultPlan {
	p := faultPlan{restarts: 2, restartDown: 2 * time.Second, stall: 10 * time.Second, refused: 15 * time.Second,
		downAtStart: 10 * time.Second, srtDown: 2 * time.Second, srtPause: 10 * time.Second,
		steady: 4 * time.Second, maxRSSMB: 200, maxKillTailS: 1.5}
	if os.Getenv("LIVECAP_FAULTS") == "full" {
		p.full, p.restarts, p.stall, p.refused = true, 5, 30*time.Second, 60*time.Second
	}
	return p
}

// faultRow is one line of the figures table. Negative values: not
// applicable.
type faultRow struct {
	Fault     string
	Missing   int64
	ResumeS   float64
	PeakRSSMB float64
	Decodes   bool
	Note      string
}

type faultTable struct {
	mu   sync.Mutex
	rows []faultRow
}

func (ft *faultTable) add(r faultRow) {
	ft.mu.Lock()
	ft.rows = append(ft.rows, r)
	ft.mu.Unlock()
}

func (ft *faultTable) String() string {
	ft.mu.Lock()
	defer ft.mu.Unlock()
	rows := append([]faultRow(nil), ft.rows...)
	sort.Slice(rows, func(i, j int) bool { return rows[i].Fault < rows[j].Fault })
	var b strings.Builder
	fmt.Fprintf(&b, "| %-36s | %14s | %8s | %11s | %10s | %s\n", "fault", "frames missing", "resume s", "peak RSS MB", "all decode", "note")
	fmt.Fprintf(&b, "|%s|%s|%s|%s|%s|------\n", strings.Repeat("-", 38), strings.Repeat("-", 16), strings.Repeat("-", 10), strings.Repeat("-", 13), strings.Repeat("-", 12))
	for _, r := range rows {
		missing, resume := "-", "-"
		if r.Missing >= 0 {
			missing = strconv.FormatInt(r.Missing, 10)
		}
		if r.ResumeS >= 0 {
			resume = fmt.Sprintf("%.1f", r.ResumeS)
		}
		dec := "yes"
		if !r.Decodes {
			dec = "NO"
		}
		fmt.Fprintf(&b, "| %-36s | %14s | %8s | %11.1f | %10s | %s\n", r.Fault, missing, resume, r.PeakRSSMB, dec, r.Note)
	}
	return b.String()
}

func TestFaults(t *testing.T) {
	if testing.Short() {
		t.Skip("real-time fault suite: skipped with -short")
	}
	if runtime.GOOS != "linux" {
		t.Skip("the fault suite needs Linux: nginx-rtmp, srt-live-transmit, tmpfs and /proc memory sampling (the Linux CI runs it)")
	}
	testpeers.Need(t, "ffmpeg", "ffprobe")
	plan := planFromEnv()
	table := &faultTable{}
	t.Run("suite", func(t *testing.T) {
		t.Run("a_nginx_restarts", func(t *testing.T) { t.Parallel(); faultNginxRestarts(t, plan, table) })
		t.Run("b_peer_stalls", func(t *testing.T) { t.Parallel(); faultPeerStalls(t, plan, table) })
		t.Run("c_server_refused", func(t *testing.T) { t.Parallel(); faultRefused(t, plan, table) })
		t.Run("d_sigkill", func(t *testing.T) { t.Parallel(); faultSigkill(t, plan, table) })
		t.Run("e_disk_full", func(t *testing.T) { t.Parallel(); faultDiskFull(t, plan, table, 0) })
		t.Run("e_disk_low", func(t *testing.T) { t.Parallel(); faultDiskFull(t, plan, table, 2<<20) })
		t.Run("f_down_at_start", func(t *testing.T) { t.Parallel(); faultDownAtStart(t, plan, table) })
		t.Run("g_srt_killed", func(t *testing.T) { t.Parallel(); faultSRTKilled(t, plan, table) })
		t.Run("g_srt_paused", func(t *testing.T) { t.Parallel(); faultSRTPaused(t, plan, table) })
		t.Run("h_rtmps", func(t *testing.T) { t.Parallel(); faultRTMPS(t, plan, table) })
	})
	form := "short (CI)"
	if plan.full {
		form = "full"
	}
	out := fmt.Sprintf("livecap fault suite, %s form\n%s", form, table)
	t.Log("\n" + out)
	if f := os.Getenv("LIVECAP_FAULT_TABLE"); f != "" {
		if err := os.WriteFile(f, []byte(out), 0o644); err != nil {
			t.Errorf("writing the table: %v", err)
		}
	}
}

// ---- the faults ----

// a. The ingest server killed (kill -9) and restarted several times.
func faultNginxRestarts(t *testing.T, plan faultPlan, table *faultTable) {
	ngx := testpeers.StartNginx(t)
	dir := t.TempDir()
	const key = "faultAkey9137"
	p := startRun(t, nil, realtimeArgs(dir, "--rtmp", ngx.URL(key))...)
	p.mustEvent("destination_connected", time.Time{}, 20*time.Second)
	var worst, peak float64
	for i := 0; i < plan.restarts; i++ {
		time.Sleep(plan.steady)
		tDown := time.Now()
		ngx.Kill()
		time.Sleep(plan.restartDown)
		tBack := time.Now()
		ngx.Start()
		ev := p.mustEvent("destination_connected", tDown, 45*time.Second)
		resume := math.Max(0, ev.Time.Sub(tBack).Seconds())
		worst = math.Max(worst, resume)
		peak = math.Max(peak, p.peakRSS(tDown, ev.Time.Add(time.Second)))
		t.Logf("restart %d: resumed %.2f s after the server came back", i+1, resume)
	}
	time.Sleep(plan.steady)
	code := p.interrupt(30 * time.Second)
	ngx.Stop()
	p.noSecret(key)
	if code != 0 {
		t.Errorf("exit %d after a graceful stop, want 0\n%s", code, tail(p.stderr(), 2000))
	}
	missing, recOK := checkRecording(t, dir, p)
	flvOK := checkFLVs(t, ngx, plan.restarts+1)
	table.add(faultRow{Fault: fmt.Sprintf("a. nginx kill -9 + restart x%d", plan.restarts), Missing: missing,
		ResumeS: worst, PeakRSSMB: peak, Decodes: recOK && flvOK, Note: "resume: worst of the restarts"})
	checkRSS(t, plan, peak)
}

// b. A peer that stops reading (the TCP proxy in front of nginx stalls).
func faultPeerStalls(t *testing.T, plan faultPlan, table *faultTable) {
	ngx := testpeers.StartNginx(t)
	proxy := testpeers.StartProxy(t, ngx.Port)
	dir := t.TempDir()
	const key = "faultBkey5521"
	url := fmt.Sprintf("rtmp://127.0.0.1:%d/%s/%s", proxy.Port, ngx.App, key)
	p := startRun(t, nil, realtimeArgs(dir, "--rtmp", url)...)
	p.mustEvent("destination_connected", time.Time{}, 20*time.Second)
	time.Sleep(plan.steady)
	tStall := time.Now()
	proxy.Stall(plan.stall)
	time.Sleep(plan.stall)
	tBack := time.Now()
	// The publisher either kept its connection through the stall or gave
	// it up and reconnects; either way the stream must flow again.
	resume, how := p.resumeAfter(tStall, tBack, func() int64 { return flvBytes(ngx) }, 45*time.Second)
	peak := p.peakRSS(tStall, tBack.Add(time.Duration(math.Max(resume, 0)*float64(time.Second))+time.Second))
	time.Sleep(plan.steady)
	code := p.interrupt(30 * time.Second)
	ngx.Stop()
	p.noSecret(key)
	if code != 0 {
		t.Errorf("exit %d after a graceful stop, want 0\n%s", code, tail(p.stderr(), 2000))
	}
	dropped := len(p.events("frames_dropped"))
	missing, recOK := checkRecording(t, dir, p)
	flvOK := checkFLVs(t, ngx, 1)
	table.add(faultRow{Fault: fmt.Sprintf("b. peer stops reading %s", plan.stall), Missing: missing, ResumeS: resume,
		PeakRSSMB: peak, Decodes: recOK && flvOK, Note: fmt.Sprintf("resume by %s; %d frames_dropped events", how, dropped)})
	checkRSS(t, plan, peak)
	if resume < 0 {
		t.Errorf("the stream did not resume after the stall")
	}
}

// c. The server's port refused for a long while (nginx stopped), then back.
func faultRefused(t *testing.T, plan faultPlan, table *faultTable) {
	ngx := testpeers.StartNginx(t)
	dir := t.TempDir()
	const key = "faultCkey7730"
	p := startRun(t, nil, realtimeArgs(dir, "--rtmp", ngx.URL(key))...)
	p.mustEvent("destination_connected", time.Time{}, 20*time.Second)
	time.Sleep(plan.steady)
	tDown := time.Now()
	ngx.Stop()
	time.Sleep(plan.refused)
	tBack := time.Now()
	ngx.Start()
	// Backoff doubles to 30 s by default: the next attempt may be that far.
	ev := p.mustEvent("destination_connected", tDown, 45*time.Second)
	resume := math.Max(0, ev.Time.Sub(tBack).Seconds())
	peak := p.peakRSS(tDown, ev.Time.Add(time.Second))
	time.Sleep(plan.steady)
	code := p.interrupt(30 * time.Second)
	ngx.Stop()
	p.noSecret(key)
	if code != 0 {
		t.Errorf("exit %d after a graceful stop, want 0\n%s", code, tail(p.stderr(), 2000))
	}
	attempts := len(p.events("reconnecting"))
	missing, recOK := checkRecording(t, dir, p)
	flvOK := checkFLVs(t, ngx, 2)
	table.add(faultRow{Fault: fmt.Sprintf("c. server refused %s", plan.refused), Missing: missing, ResumeS: resume,
		PeakRSSMB: peak, Decodes: recOK && flvOK, Note: fmt.Sprintf("%d reconnect attempts, default backoff (1 s doubling to 30 s)", attempts)})
	checkRSS(t, plan, peak)
}

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

// f. A destination that is down at start comes up later: the stream starts
// then, and the recording from t=0 is complete.
func faultDownAtStart(t *testing.T, plan faultPlan, table *faultTable) {
	ngx := testpeers.StartNginx(t)
	ngx.Stop() // its port is known and closed
	dir := t.TempDir()
	const key = "faultFkey2287"
	p := startRun(t, nil, realtimeArgs(dir, "--rtmp", ngx.URL(key))...)
	p.mustEvent("segment_opened", time.Time{}, 20*time.Second)
	time.Sleep(plan.downAtStart)
	tBack := time.Now()
	ngx.Start()
	ev := p.mustEvent("destination_connected", time.Time{}, 45*time.Second)
	resume := math.Max(0, ev.Time.Sub(tBack).Seconds())
	peak := p.peakRSS(time.Time{}, ev.Time.Add(time.Second))
	time.Sleep(plan.steady)
	code := p.interrupt(30 * time.Second)
	ngx.Stop()
	p.noSecret(key)
	if code != 0 {
		t.Errorf("exit %d after a graceful stop, want 0\n%s", code, tail(p.stderr(), 2000))
	}
	missing, recOK := checkRecording(t, dir, p)
	flvOK := checkFLVs(t, ngx, 1)
	table.add(faultRow{Fault: fmt.Sprintf("f. destination down at start (%s)", plan.downAtStart), Missing: missing,
		ResumeS: resume, PeakRSSMB: peak, Decodes: recOK && flvOK, Note: "missing counts from frame 0"})
	checkRSS(t, plan, peak)
}

// g. SRT: the listener killed and restarted.
func faultSRTKilled(t *testing.T, plan faultPlan, table *faultTable) {
	const pass, sid = "faultGpass0123", "faultGsid"
	srt := testpeers.StartSRTListener(t, pass)
	dir := t.TempDir()
	p := startRun(t, nil, realtimeArgs(dir, "--srt", srt.URL("streamid="+sid+"&passphrase="+pass))...)
	p.mustEvent("destination_connected", time.Time{}, 20*time.Second)
	time.Sleep(plan.steady)
	tDown := time.Now()
	srt.Kill()
	// What the first listener got stays in its own file; the restarted
	// one writes a new one.
	first := strings.TrimSuffix(srt.Out, ".ts") + "-1.ts"
	if err := os.Rename(srt.Out, first); err != nil {
		t.Fatal(err)
	}
	time.Sleep(plan.srtDown)
	tBack := time.Now()
	srt.Start()
	ev := p.mustEvent("destination_connected", tDown, 45*time.Second)
	resume := math.Max(0, ev.Time.Sub(tBack).Seconds())
	peak := p.peakRSS(tDown, ev.Time.Add(time.Second))
	time.Sleep(plan.steady)
	code := p.interrupt(30 * time.Second)
	srt.Stop()
	p.noSecret(pass, sid)
	if code != 0 {
		t.Errorf("exit %d after a graceful stop, want 0\n%s", code, tail(p.stderr(), 2000))
	}
	missing, recOK := checkRecording(t, dir, p)
	// The first listener died mid-access-unit: its file ends on a cut
	// frame, as any receiver's would.
	tsOK := checkPeerFileCut(t, first, 60) && checkPeerFile(t, srt.Out, 60)
	table.add(faultRow{Fault: "g. SRT listener killed + restarted", Missing: missing, ResumeS: resume, PeakRSSMB: peak,
		Decodes: recOK && tsOK, Note: fmt.Sprintf("down %s", plan.srtDown)})
	checkRSS(t, plan, peak)
}

// g. SRT: the listener paused (SIGSTOP): it neither reads nor acknowledges.
func faultSRTPaused(t *testing.T, plan faultPlan, table *faultTable) {
	const pass, sid = "faultGpass4567", "faultGsid2"
	srt := testpeers.StartSRTListener(t, pass)
	dir := t.TempDir()
	p := startRun(t, nil, realtimeArgs(dir, "--srt", srt.URL("streamid="+sid+"&passphrase="+pass))...)
	p.mustEvent("destination_connected", time.Time{}, 20*time.Second)
	time.Sleep(plan.steady)
	tPause := time.Now()
	srt.Pause()
	time.Sleep(plan.srtPause)
	tBack := time.Now()
	srt.Resume()
	size := func() int64 {
		fi, err := os.Stat(srt.Out)
		if err != nil {
			return 0
		}
		return fi.Size()
	}
	resume, how := p.resumeAfter(tPause, tBack, size, 45*time.Second)
	peak := p.peakRSS(tPause, time.Now())
	time.Sleep(plan.steady)
	code := p.interrupt(30 * time.Second)
	srt.Stop()
	p.noSecret(pass, sid)
	if code != 0 {
		t.Errorf("exit %d after a graceful stop, want 0\n%s", code, tail(p.stderr(), 2000))
	}
	missing, recOK := checkRecording(t, dir, p)
	tsOK := checkPeerFile(t, srt.Out, 150)
	table.add(faultRow{Fault: fmt.Sprintf("g. SRT listener paused %s", plan.srtPause), Missing: missing, ResumeS: resume,
		PeakRSSMB: peak, Decodes: recOK && tsOK, Note: "resume by " + how})
	checkRSS(t, plan, peak)
	if resume < 0 {
		t.Errorf("the SRT stream did not resume after the pause")
	}
}

// h. RTMPS through a TLS terminator: trusted through SSL_CERT_FILE the
// stream arrives and decodes; untrusted, a clear redacted error and an
// unharmed recording.
func faultRTMPS(t *testing.T, plan faultPlan, table *faultTable) {
	ngx := testpeers.StartNginx(t)
	term := testpeers.StartTLSTerminator(t, ngx.Port)
	const key = "faultHkey8842"

	dir := t.TempDir()
	p := startRun(t, []string{"SSL_CERT_FILE=" + term.CAFile}, append(realtimeArgs(dir, "--rtmp", term.URL(ngx.App, key)), "--duration", "8s")...)
	code := p.wait(60 * time.Second)
	peak := p.peakRSS(time.Time{}, time.Now())
	p.noSecret(key)
	if code != 0 {
		t.Errorf("rtmps: exit %d\n%s", code, tail(p.stderr(), 2000))
	}
	if len(p.events("destination_connected")) == 0 || term.Handshakes.Load() == 0 {
		t.Errorf("rtmps: never connected through TLS (%d handshakes)\n%s", term.Handshakes.Load(), tail(p.stderr(), 2000))
	}
	ngx.Stop()
	missing, recOK := checkRecording(t, dir, p)
	flvOK := checkFLVs(t, ngx, 1)
	var flvFrames int
	for _, f := range ngx.Recordings() {
		flvFrames += testpeers.Probe(t, f).Frames["video"]
	}
	if flvFrames < 150 {
		t.Errorf("rtmps: nginx got %d video frames of 240", flvFrames)
	}
	table.add(faultRow{Fault: "h. RTMPS, CA trusted (SSL_CERT_FILE)", Missing: missing, ResumeS: -1, PeakRSSMB: peak,
		Decodes: recOK && flvOK, Note: fmt.Sprintf("nginx got %d video frames through TLS", flvFrames)})

	// Without SSL_CERT_FILE the test CA is unknown.
	ngx.Start()
	dir = t.TempDir()
	failedBefore := term.Failed.Load()
	p = startRunEnv(t, envWithout("SSL_CERT_FILE", "SSL_CERT_DIR"), append(realtimeArgs(dir, "--rtmp", term.URL(ngx.App, key)), "--duration", "6s")...)
	code = p.wait(60 * time.Second)
	peak = p.peakRSS(time.Time{}, time.Now())
	p.noSecret(key)
	if code != 0 {
		t.Errorf("rtmps, untrusted: exit %d, want 0 (the recording is what counts)\n%s", code, tail(p.stderr(), 2000))
	}
	if n := len(p.events("destination_connected")); n != 0 {
		t.Errorf("rtmps, untrusted: connected %d times to a server with an unknown CA", n)
	}
	var errLine string
	for _, ev := range p.events("reconnecting") {
		if s, _ := ev.Fields["error"].(string); s != "" {
			errLine = s
			break
		}
	}
	if !strings.Contains(errLine, "certificate") {
		t.Errorf("rtmps, untrusted: error %q should say the certificate is not trusted", errLine)
	}
	if !strings.Contains(errLine, "127.0.0.1") {
		t.Errorf("rtmps, untrusted: error %q should name the server", errLine)
	}
	t.Logf("untrusted certificate: %s (%d refused handshakes)", errLine, term.Failed.Load()-failedBefore)
	missing2, recOK2 := checkRecording(t, dir, p)
	table.add(faultRow{Fault: "h. RTMPS, unknown CA", Missing: missing2, ResumeS: -1, PeakRSSMB: peak,
		Decodes: recOK2, Note: "error: " + shorten(errLine, 90)})
	checkRSS(t, plan, peak)
}

// ---- running livecap ----

// realtimeArgs: the real-time test source at a small size, recording to dir.
func realtimeArgs(dir string, extra ...string) []string {
	return append([]string{"stream", "--video", "test", "--audio", "test", "--size", "320x180", "--bitrate", "500k",
		"--record", dir, "--log-format", "json"}, extra...)
}

// resumeAfter measures when the stream flows again after a fault that
// lasted from faultAt to back: the first destination_connected after
// faultAt when the publisher reconnected, or else the first growth of what
// the peer received (size) after back, once the data queued before the
// fault has drained. It returns seconds from back (-1: never) and how it
// was measured.
func (r *run) resumeAfter(faultAt, back time.Time, size func() int64, timeout time.Duration) (float64, string) {
	deadline := time.Now().Add(timeout)
	last := size()
	var firstGrowth, lastGrowth time.Time
	for time.Now().Before(deadline) {
		if ev, ok := r.waitEvent("destination_connected", faultAt, 0); ok {
			return math.Max(0, ev.Time.Sub(back).Seconds()), "reconnect"
		}
		now := time.Now()
		if n := size(); n > last {
			if firstGrowth.IsZero() {
				firstGrowth = now
			}
			lastGrowth, last = now, n
		}
		// No reconnect, yet the peer's file has kept growing for 3 s:
		// the same connection carries the stream again.
		if !firstGrowth.IsZero() && now.Sub(firstGrowth) > 3*time.Second && now.Sub(lastGrowth) < time.Second {
			return math.Max(0, firstGrowth.Sub(back).Seconds()), "same connection"
		}
		time.Sleep(100 * time.Millisecond)
	}
	return -1, "never"
}

// ---- checking what was written ----

// checkRecording analyzes and decodes every segment in dir. It returns the
// frames the recording lost (see recordingLoss) and whether all decode.
func checkRecording(t *testing.T, dir string, p *run) (lost int64, ok bool) {
	t.Helper()
	files := segments(t, dir)
	if len(files) == 0 {
		t.Errorf("no recording in %s", dir)
		return -1, false
	}
	rep, _ := analyzeFiles(t, files...)
	lost = recordingLoss(t, rep, p)
	if lost != 0 || rep.Frames.Repeated != 0 || rep.Frames.Unreadable != 0 {
		t.Errorf("recording: %d frames lost (barcode gaps %v), %d repeated, %d unreadable, want none",
			lost, rep.Frames.MissingRanges, rep.Frames.Repeated, rep.Frames.Unreadable)
	}
	return lost, decodesAll(t, files...)
}

// recordingLoss counts the frames the encoder made that the recording
// lacks. The barcode numbers every frame the source is due to make, so a
// gap is either a frame lost on the way to disk or one the real-time
// source skipped because it did not get the CPU in time (on a machine
// shared with other jobs, as a camera drops frames). The periodic stats
// events tell the two apart: by the last one, round(elapsed × fps) + 1
// frames were due and `frames` were encoded; the difference is what the
// source skipped (plus the one or two frames in flight in the encoder, so
// the estimate errs by that much in livecap's favour). Gaps after the last
// stats event cannot be attributed and count as lost.
func recordingLoss(t *testing.T, rep analyze.Report, p *run) int64 {
	t.Helper()
	var ranges [][2]int64
	if f := firstFrame(rep); f > 0 {
		ranges = append(ranges, [2]int64{0, f - 1})
	}
	for _, r := range rep.Frames.MissingRanges {
		ranges = append(ranges, [2]int64{int64(r[0]), int64(r[1])})
	}
	var gaps int64
	for _, r := range ranges {
		gaps += r[1] - r[0] + 1
	}
	if gaps == 0 {
		return 0
	}
	var upTo, skipped int64 = -1, 0
	if evs := p.events("stats"); len(evs) > 0 {
		last := evs[len(evs)-1].Fields
		elapsed, _ := last["elapsed_s"].(float64)
		frames, _ := last["frames"].(float64)
		upTo = int64(math.Floor(elapsed * 30))
		skipped = max(0, upTo+1-int64(frames))
	}
	var before int64
	for _, r := range ranges {
		if r[0] <= upTo {
			before += min(r[1], upTo) - r[0] + 1
		}
	}
	lost := max(0, before-skipped) + gaps - before
	t.Logf("recording: %d barcode gaps %v; the source skipped about %d frames by frame %d (CPU starvation): %d lost by livecap",
		gaps, ranges, skipped, upTo, lost)
	return lost
}

// firstFrame counts frames missing before the first one recorded: the
// recording starts at frame 0.
func firstFrame(rep analyze.Report) int64 {
	if len(rep.Files) > 0 && rep.Files[0].FirstFrame != nil {
		return int64(*rep.Files[0].FirstFrame)
	}
	return 0
}

func decodesAll(t *testing.T, files ...string) bool {
	t.Helper()
	ok := true
	for _, f := range files {
		if e := decodeErrors(t, f); e != "" {
			t.Errorf("%s: decode errors:\n%s", f, shorten(e, 1500))
			ok = false
		}
	}
	return ok
}

// checkFLVs checks what nginx recorded: at least want publishes, each of
// which decodes and starts on a keyframe.
func checkFLVs(t *testing.T, ngx *testpeers.Nginx, want int) bool {
	t.Helper()
	flvs := ngx.Recordings()
	if len(flvs) < want {
		t.Errorf("nginx recorded %d streams, want at least %d (one per connection)", len(flvs), want)
	}
	ok := len(flvs) > 0
	for _, f := range flvs {
		ok = checkPeerFile(t, f, 1) && ok
	}
	return ok
}

// checkPeerFile: what a peer received decodes without error, starts on a
// keyframe and holds at least minFrames video frames.
func checkPeerFile(t *testing.T, file string, minFrames int) bool {
	t.Helper()
	return checkPeer(t, file, minFrames, false)
}

// checkPeerFileCut is checkPeerFile for the file of a peer that was killed:
// its last frame may be cut short (decoding it reports an error), which is
// the peer's loss, not the sender's; everything before its last second
// must decode cleanly.
func checkPeerFileCut(t *testing.T, file string, minFrames int) bool {
	t.Helper()
	return checkPeer(t, file, minFrames, true)
}

func checkPeer(t *testing.T, file string, minFrames int, cut bool) bool {
	t.Helper()
	pr := testpeers.Probe(t, file)
	ok := true
	errs := pr.DecodeErrors
	if e := decodeErrors(t, file); e != "" {
		errs += "\n" + e
	}
	if errs = strings.TrimSpace(errs); errs != "" && cut {
		end := pr.Last["video"] - pr.First["video"] - 1
		head, _ := exec.Command("ffmpeg", "-nostdin", "-v", "error", "-i", file, "-t", fmt.Sprintf("%.3f", end), "-f", "null", "-").CombinedOutput()
		if h := strings.TrimSpace(string(head)); h != "" {
			errs = h
		} else {
			t.Logf("%s (peer killed): only its last second has decode errors: %s", file, shorten(errs, 300))
			errs = ""
		}
	}
	if errs != "" {
		t.Errorf("%s: decode errors: %s", file, shorten(errs, 1500))
		ok = false
	}
	if pr.Frames["video"] < minFrames {
		t.Errorf("%s: %d video frames, want at least %d", file, pr.Frames["video"], minFrames)
		return false
	}
	if fs := videoFrames(t, file); len(fs) == 0 || !fs[0].Key {
		t.Errorf("%s: does not start on a keyframe", file)
		ok = false
	}
	return ok
}

// flvBytes is the size of everything nginx has recorded so far.
func flvBytes(ngx *testpeers.Nginx) int64 {
	var n int64
	for _, f := range ngx.Recordings() {
		if fi, err := os.Stat(f); err == nil {
			n += fi.Size()
		}
	}
	return n
}

// fillDisk writes path until the file system has only leave bytes free
// (0: to the last byte).
func fillDisk(path string, leave int64) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer f.Close()
	if leave > 0 {
		free, err := diskcheck.Free(filepath.Dir(path))
		if err != nil {
			return err
		}
		n := int64(free) - leave
		buf := make([]byte, 1<<20)
		for n > 0 {
			w, err := f.Write(buf[:min(n, int64(len(buf)))])
			if err != nil {
				return err
			}
			n -= int64(w)
		}
		return f.Sync()
	}
	buf := make([]byte, 256<<10)
	for _, size := range []int{len(buf), 4096, 1} {
		for {
			if _, err := f.Write(buf[:size]); err != nil {
				if !errors.Is(err, syscall.ENOSPC) {
					return err
				}
				break
			}
		}
	}
	return nil
}

func checkRSS(t *testing.T, plan faultPlan, peak float64) {
	t.Helper()
	if peak <= 0 || peak > plan.maxRSSMB {
		t.Errorf("peak RSS %.1f MB during the fault, want under %.0f MB", peak, plan.maxRSSMB)
	}
}

// envWithout is the test's environment minus the named variables.
func envWithout(names ...string) []string {
	var env []string
next:
	for _, kv := range os.Environ() {
		for _, n := range names {
			if strings.HasPrefix(kv, n+"=") {
				continue next
			}
		}
		env = append(env, kv)
	}
	return env
}

func shorten(s string, n int) string {
	s = strings.ReplaceAll(s, "\n", " ")
	if len(s) > n {
		return s[:n] + "..."
	}
	return s
}
