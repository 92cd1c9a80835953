package record

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
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
	for _, p := range s.packets {
		if d := time.Until(t0.Add(arrival(p) / 5)); d > 0 {
			time.Sleep(d)
		}
		hub.Publish(p)
	}
	time.Sleep(time.Hour) // killed before this ends
}

// kill -9 in the middle of a recording: every file on disk plays up to its
// last complete fragment, and Scan reports the unfinished one.
func TestKill9(t *testing.T) {
	makeStream(t, crashSpec) // fail here, not in the child, if ffmpeg is missing
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperRecorder$", "-test.count=1")
	cmd.Env = append(os.Environ(), "LIVECAP_RECORD_HELPER_DIR="+dir)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	// Wait until the third segment holds a fragment (media time 5 s), then
	// kill at some point inside the next one.
	deadline := time.Now().Add(60 * time.Second)
	for {
		files, _ := filepath.Glob(filepath.Join(dir, "*.mp4"))
		if len(files) >= 3 {
			if st, err := os.Stat(files[2]); err == nil && st.Size() > 0 {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatal("the recorder subprocess did not reach its third segment")
		}
		time.Sleep(5 * time.Millisecond)
	}
	time.Sleep(70 * time.Millisecond)
	cmd.Process.Signal(syscall.SIGKILL)
	cmd.Wait()

	files := listFiles(t, dir)
	if len(files) != 3 {
		t.Fatalf("files after kill -9: %v, want 3", files)
	}
	for i, f := range files {
		fr := videoFrames(t, f)
		if len(fr) == 0 || !fr[0].key {
			t.Fatalf("%s: no frames or first not a keyframe", f)
		}
		if i < 2 && len(fr) != 60 {
			t.Errorf("%s: %d frames, want 60 (a closed segment)", f, len(fr))
		}
		if i == 2 && (len(fr) == 0 || len(fr)%30 != 0) {
			t.Errorf("%s: %d frames, want whole 1 s fragments", f, len(fr))
		}
		if e := decodeErrors(t, f); e != "" {
			t.Errorf("%s: decode errors after kill -9: %s", f, e)
		}
	}
	rec, err := Scan(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(rec) != 1 || rec[0].Path != files[2] || rec[0].Finalized || rec[0].Repaired {
		t.Fatalf("Scan: %+v, want only %s, not finalized, whole", rec, files[2])
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
