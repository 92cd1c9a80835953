package record

import (
	"context"
	"crypto/md5"
	"errors"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/livecap/livecap/internal/diskcheck"
	"github.com/livecap/livecap/internal/fanout"
)

var crashSpec = streamSpec{secs: 7, fps: 30, keyint: 30, rate: 48000, channels: 1}

// TestHelperRecorder is the subprocess of TestKill9: it records the test
// stream paced at 5× real time until it is killed.
func TestHelperRecorder(t *testing.T) {
	dir := os.Getenv("LIVECAP_RECORD_HELPER_DIR")
	if dir == "" {
		t.Skip("subprocess of TestKill9 only")
	}
	s := makeStream(t, crashSpec)
	r, err := New(Options{Dir: dir, Segment: 2 * time.Second, Info: s.info})
	if err != nil {
		t.Fatal(err)
	}
	hub := fanout.NewHub()
	q := hub.Add("record", fanout.Policy{Lossless: true})
	go r.Run(context.Background(), q)
	t0 := time.Now()
	os.WriteFile(filepath.Join(dir, "started"), nil, 0o644)
	for _, p := range s.packets {
		if d := time.Until(t0.Add(arrival(p) / 5)); d > 0 {
			time.Sleep(d)
		}
		hub.Publish(p)
	}
	time.Sleep(time.Hour) // killed before this ends
}

// Real SIGKILLs at random moments of a recording (2 s segments of 1 s
// fragments, paced at 5x: a segment's first second is 200 ms of wall
// time), the first second of a segment included: no file is ever empty;
// every file plays from a keyframe in whole fragments; Scan reports the
// unfinished one, writes its real durations (header-trusting players show
// its length), and a second Scan reports nothing.
func TestKill9(t *testing.T) {
	makeStream(t, crashSpec) // fail here, not in the child, if ffmpeg is missing
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 9))
	kills := []time.Duration{30 * time.Millisecond, 230 * time.Millisecond, 450 * time.Millisecond}
	for len(kills) < 6 {
		kills = append(kills, time.Duration(rng.Int64N(int64(1400*time.Millisecond))))
	}
	for _, at := range kills {
		dir := t.TempDir()
		cmd := exec.Command(os.Args[0], "-test.run=^TestHelperRecorder$", "-test.count=1")
		cmd.Env = append(os.Environ(), "LIVECAP_RECORD_HELPER_DIR="+dir)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(60 * time.Second)
		for {
			if _, err := os.Stat(filepath.Join(dir, "started")); err == nil {
				break
			}
			if time.Now().After(deadline) {
				cmd.Process.Kill()
				t.Fatal("the recorder subprocess did not start")
			}
			time.Sleep(time.Millisecond)
		}
		time.Sleep(at)
		cmd.Process.Signal(syscall.SIGKILL)
		cmd.Wait()
		os.Remove(filepath.Join(dir, "started"))

		before := listFiles(t, dir)
		for _, f := range before {
			st, err := os.Stat(f)
			if err != nil || st.Size() == 0 {
				t.Errorf("kill at %v: %s is empty (%v)", at, f, err)
			}
		}
		rec, err := Scan(dir)
		if err != nil {
			t.Fatalf("kill at %v: Scan: %v", at, err)
		}
		files := segmentFiles(t, dir)
		t.Logf("kill at %v (media %.2f s): %d files, %d reported", at, at.Seconds()*5, len(files), len(rec))
		for i, f := range files {
			fr := videoFrames(t, f)
			if len(fr) == 0 || !fr[0].key {
				t.Fatalf("kill at %v: %s: no frames or first not a keyframe", at, f)
			}
			// The segment before the last may have been waiting for the
			// audio up to its cut: its last fragment is then lost with the
			// process, like the last segment's.
			if i < len(files)-2 && len(fr) != 60 {
				t.Errorf("kill at %v: %s: %d frames, want 60 (a closed segment)", at, f, len(fr))
			}
			if len(fr)%30 != 0 {
				t.Errorf("kill at %v: %s: %d frames, want whole 1 s fragments", at, f, len(fr))
			}
			if e := decodeErrors(t, f); e != "" {
				t.Errorf("kill at %v: %s: decode errors: %s", at, f, e)
			}
			if g := gstDemux(t, f, "video_0", false); g.buffers != len(fr) || len(g.segments) != 1 {
				t.Errorf("kill at %v: %s: GStreamer gives %d frames in %d segments, FFmpeg %d", at, f, g.buffers, len(g.segments), len(fr))
			}
			if mi := readMediaInfo(t, f); mi.Video["FrameCount"] != strconv.Itoa(len(fr)) {
				t.Errorf("kill at %v: %s: mediainfo counts %s frames, FFmpeg %d", at, f, mi.Video["FrameCount"], len(fr))
			}
			// Every file now says how long it is.
			if md := mvhdDuration(t, f); math.Abs(md-float64(len(fr))/30) > 1.5*1024/48000+0.001 {
				t.Errorf("kill at %v: %s: mvhd says %.3f s for %d frames", at, f, md, len(fr))
			}
		}
		for _, r := range rec {
			if r.Finalized || !r.Repaired || r.Duration <= 0 {
				t.Errorf("kill at %v: Scan: %+v, want an unfinished file repaired with its duration", at, r)
			}
		}
		if again, err := Scan(dir); err != nil || len(again) != 0 {
			t.Errorf("kill at %v: second Scan: %+v %v, want nothing", at, again, err)
		}
	}
}

// segmentFiles lists the .mp4/.mov files of dir (a .partial promoted by
// Scan included; none may be left).
func segmentFiles(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	for _, f := range listFiles(t, dir) {
		if strings.HasSuffix(f, ".partial") {
			t.Errorf("%s left behind", f)
		}
		if strings.HasSuffix(f, ".mp4") || strings.HasSuffix(f, ".mov") {
			out = append(out, f)
		}
	}
	return out
}

// Files in the record folder that livecap did not write are never
// touched, whatever their name: FFmpeg MP4s cut short as a partial
// download leaves them (moov at the end, so missing; moov first, the data
// cut; fragmented, the last fragment cut), and a 0-byte file.
func TestScanLeavesForeignFiles(t *testing.T) {
	needTool(t, "ffmpeg")
	dir := t.TempDir()
	src := filepath.Join(t.TempDir(), "src")
	gen := func(name string, flags ...string) {
		args := []string{"-v", "error", "-f", "lavfi", "-i", "testsrc2=size=320x180:rate=30:duration=6",
			"-f", "lavfi", "-i", "sine=d=6", "-c:v", "libx264", "-c:a", "aac"}
		args = append(args, flags...)
		run(t, "ffmpeg", append(args, src+name)...)
		b, err := os.ReadFile(src + name)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "livecap-20261121-153000-00"+name), b[:len(b)*2/3], 0o644); err != nil {
			t.Fatal(err)
		}
	}
	gen("01.mp4")
	gen("02.mp4", "-movflags", "+faststart")
	gen("03.mov", "-movflags", "frag_keyframe+empty_moov")
	os.WriteFile(filepath.Join(dir, "empty.mp4"), nil, 0o644)
	os.WriteFile(filepath.Join(dir, ".x.mp4.partial"), []byte("\x00\x00\x00\x08ftyp"), 0o644)
	type snap struct {
		size int64
		mod  time.Time
		sum  [md5.Size]byte
	}
	take := func() map[string]snap {
		m := map[string]snap{}
		for _, f := range listFiles(t, dir) {
			st, _ := os.Stat(f)
			b, _ := os.ReadFile(f)
			m[f] = snap{st.Size(), st.ModTime(), md5.Sum(b)}
		}
		return m
	}
	was := take()
	rec, err := Scan(dir)
	if err != nil || len(rec) != 0 {
		t.Errorf("Scan of foreign files: %+v %v, want nothing reported", rec, err)
	}
	now := take()
	if len(now) != len(was) {
		t.Errorf("files were %d, now %d", len(was), len(now))
	}
	for f, s := range was {
		if now[f] != s {
			t.Errorf("%s changed: %+v -> %+v", f, s, now[f])
		}
	}
}

// A file cut in the middle of a fragment (a crash during a write) still
// plays up to its last complete fragment; Scan cuts the partial one off and
// the file then decodes cleanly, and a second Scan finds nothing to do.
func TestTruncatedMidFragment(t *testing.T) {
	s := makeStream(t, streamSpec{secs: 7, fps: 30, keyint: 30, rate: 48000, channels: 1})
	dir := t.TempDir()
	err, _, files := record(t, Options{Dir: dir, Segment: time.Hour, Info: s.info}, s.packets)
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != 1 {
		t.Fatalf("files %v", files)
	}
	st, _ := os.Stat(files[0])
	// Cut 3000 bytes into the last fragment's mdat (~1 s of video and audio).
	if err := os.Truncate(files[0], st.Size()-40000); err != nil {
		t.Fatal(err)
	}
	fr := videoFrames(t, files[0])
	if len(fr) < 180 {
		t.Errorf("cut file: %d frames, want at least the 180 of its 6 complete fragments", len(fr))
	}
	rec, err := Scan(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(rec) != 1 || !rec[0].Repaired || rec[0].Fragments != 6 || !rec[0].Finalized {
		t.Fatalf("Scan: %+v, want one repaired file with 6 fragments", rec)
	}
	if st2, _ := os.Stat(files[0]); st2.Size() != rec[0].Kept {
		t.Errorf("size %d after repair, Kept %d", st2.Size(), rec[0].Kept)
	}
	if fr := videoFrames(t, files[0]); len(fr) != 180 {
		t.Errorf("repaired file: %d frames, want 180", len(fr))
	}
	if e := decodeErrors(t, files[0]); e != "" {
		t.Errorf("repaired file: decode errors: %s", e)
	}
	if rec, err := Scan(dir); err != nil || len(rec) != 0 {
		t.Errorf("second Scan: %+v %v, want nothing", rec, err)
	}
}

// Names never overwrite: a recording started in the same second as one
// already in the folder gets names of its own that sort after it.
func TestNamesNeverOverwrite(t *testing.T) {
	s := makeStream(t, streamSpec{secs: 7, fps: 30, keyint: 30, rate: 48000, channels: 1})
	dir := t.TempDir()
	start := time.Date(2026, 11, 21, 15, 30, 0, 0, time.Local)
	sentinel := filepath.Join(dir, "livecap-20261121-153000-0001.mp4")
	os.WriteFile(sentinel, []byte("someone else's"), 0o644)
	err, _, files := record(t, Options{Dir: dir, Segment: 4 * time.Second, Start: start, Info: s.info}, s.packets)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"livecap-20261121-153000-0001.mp4", "livecap-20261121-153000_2-0001.mp4", "livecap-20261121-153000_2-0002.mp4"}
	if len(files) != len(want) {
		t.Fatalf("files %v, want %v", files, want)
	}
	for i := range want {
		if filepath.Base(files[i]) != want[i] {
			t.Errorf("file %d: %s, want %s", i, filepath.Base(files[i]), want[i])
		}
	}
	if b, _ := os.ReadFile(sentinel); string(b) != "someone else's" {
		t.Error("existing file was overwritten")
	}
}

// mountTmpfs mounts a size-limited tmpfs, the small real filesystem of the
// disk tests; skipped where mounting is not permitted.
func mountTmpfs(t *testing.T, size string) string {
	t.Helper()
	dir := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size="+size, "tmpfs", dir).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a tmpfs (%v: %s)", err, strings.TrimSpace(string(out)))
	}
	t.Cleanup(func() { exec.Command("umount", dir).Run() })
	return dir
}

// fill leaves about `left` bytes free on the filesystem at dir.
func fill(t *testing.T, dir string, left uint64) {
	t.Helper()
	free, err := diskcheck.Free(dir)
	if err != nil {
		t.Fatal(err)
	}
	if free <= left {
		t.Fatalf("only %d bytes free", free)
	}
	if err := os.WriteFile(filepath.Join(dir, "filler"), make([]byte, free-left), 0o644); err != nil {
		t.Fatal(err)
	}
}

// A real full disk: the write fails with ENOSPC, the file is cut back to its
// last complete fragment and stays playable, Run says so.
func TestDiskFull(t *testing.T) {
	s := makeStream(t, streamSpec{secs: 7, fps: 30, keyint: 30, rate: 48000, channels: 1})
	dir := mountTmpfs(t, "8m")
	fill(t, dir, 200<<10) // the 7 s stream needs about 430 kB
	rec := filepath.Join(dir, "rec")
	err, events, files := record(t, Options{Dir: rec, Segment: time.Hour, Info: s.info}, s.packets)
	if !errors.Is(err, ErrDiskFull) || !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("Run: %v, want ErrDiskFull", err)
	}
	t.Logf("Run: %v", err)
	if len(files) != 1 {
		t.Fatalf("files %v", files)
	}
	fr := videoFrames(t, files[0])
	if len(fr) == 0 || len(fr)%30 != 0 {
		t.Errorf("%s: %d frames, want whole 1 s fragments", files[0], len(fr))
	}
	if e := decodeErrors(t, files[0]); e != "" {
		t.Errorf("decode errors: %s", e)
	}
	if r, err := Scan(rec); err != nil || len(r) != 0 {
		t.Errorf("Scan after a full disk: %+v %v, want a whole, finalized file", r, err)
	}
	if last := events[len(events)-1]; last.Type != RecordingStopped || !errors.Is(last.Err, ErrDiskFull) {
		t.Errorf("last event %+v", last)
	}
}

// The low-water watch stops the recording before the disk is full: the
// segment is closed cleanly (finalized, whole) and Run returns ErrDiskLow
// naming the free space and the threshold.
func TestDiskLow(t *testing.T) {
	s := makeStream(t, streamSpec{secs: 7, fps: 30, keyint: 30, rate: 48000, channels: 1})
	dir := mountTmpfs(t, "8m")
	fill(t, dir, 1<<20)
	free, _ := diskcheck.Free(dir)
	rec := filepath.Join(dir, "rec")
	minFree := free - 150<<10 // crossed after two or three fragments
	err, events, files := record(t, Options{Dir: rec, Segment: time.Hour, Info: s.info, MinFree: minFree}, s.packets)
	if !errors.Is(err, ErrDiskLow) || !strings.Contains(err.Error(), diskcheck.Human(minFree)) {
		t.Fatalf("Run: %v, want ErrDiskLow naming %s", err, diskcheck.Human(minFree))
	}
	t.Logf("Run: %v", err)
	sawLow := false
	for _, e := range events {
		sawLow = sawLow || (e.Type == DiskLow && e.MinFree == minFree && e.Free < minFree)
	}
	if !sawLow {
		t.Error("no disk_low event")
	}
	if len(files) != 1 {
		t.Fatalf("files %v", files)
	}
	fr := videoFrames(t, files[0])
	if len(fr) < 60 || len(fr) >= 210 {
		t.Errorf("%d frames, want a stop after some fragments", len(fr))
	}
	if e := decodeErrors(t, files[0]); e != "" {
		t.Errorf("decode errors: %s", e)
	}
	if r, err := Scan(rec); err != nil || len(r) != 0 {
		t.Errorf("Scan: %+v %v, want a finalized file", r, err)
	}
}
