package e2e

import (
	"bytes"
	be "encoding/binary"
	"math"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The main job on the test source: segments that each start on a keyframe,
// last --segment (within one frame) but the last, hold every frame fed, and
// together last as long as the run.
func TestRecordSegmentsFast(t *testing.T) {
	for _, format := range []string{"mp4", "mov"} {
		t.Run(format, func(t *testing.T) {
			dir := t.TempDir()
			const fps, secs, seg = 30, 35, 10
			r := livecap(t, 3*time.Minute, nil, "stream", "--video", "test", "--audio", "test",
				"--fast", "--size", "320x180", "--fps", "30", "--bitrate", "600k",
				"--record", dir, "--format", format, "--duration", "35s", "--segment", "10s",
				"--log-format", "json")
			if r.code != 0 {
				t.Fatalf("exit %d\n%s", r.code, tail(r.stderr, 3000))
			}
			files := segments(t, dir)
			if len(files) != 4 {
				t.Fatalf("got %d files, want 4: %v", len(files), files)
			}
			total := 0
			var totalDur float64
			for i, f := range files {
				if !strings.HasSuffix(f, "."+format) {
					t.Errorf("%s: want .%s", f, format)
				}
				p := probe(t, f)
				v, a := p.stream("video"), p.stream("audio")
				if v == nil || a == nil || v.CodecName != "h264" || a.CodecName != "aac" {
					t.Fatalf("%s: streams %+v, want h264 + aac", f, p.Streams)
				}
				if format == "mov" && !strings.Contains(p.Format.FormatName, "mov") {
					t.Errorf("%s: format %s", f, p.Format.FormatName)
				}
				frames := videoFrames(t, f)
				if len(frames) == 0 || !frames[0].Key {
					t.Fatalf("%s: first frame is not a keyframe", f)
				}
				want := fps * seg
				if i == len(files)-1 {
					want = fps*secs - 3*fps*seg
				}
				if d := len(frames) - want; d < -1 || d > 1 {
					t.Errorf("%s: %d frames, want %d (±1)", f, len(frames), want)
				}
				total += v.frames()
				dur := float64(len(frames)) / fps
				totalDur += dur
				if e := decodeErrors(t, f); e != "" {
					t.Errorf("%s: decode errors:\n%s", f, e)
				}
			}
			if total != fps*secs {
				t.Errorf("segments hold %d frames in all, want %d (none lost or repeated)", total, fps*secs)
			}
			if math.Abs(totalDur-secs) > 1.0/fps {
				t.Errorf("segments last %.3fs in all, want %ds", totalDur, secs)
			}
		})
	}
}

// SIGINT finalizes every file and exits 0; names sort in recording order
// and a second run never overwrites the first.
func TestRealtimeInterruptFinalizes(t *testing.T) {
	dir := t.TempDir()
	for run := 0; run < 2; run++ {
		r := startRun(t, nil, "stream", "--video", "test", "--audio", "test",
			"--size", "320x180", "--bitrate", "500k", "--record", dir, "--segment", "10s", "--log-format", "json")
		time.Sleep(3 * time.Second)
		r.signal(syscall.SIGINT)
		if code := r.wait(20 * time.Second); code != 0 {
			t.Fatalf("after SIGINT: exit %d\n%s", code, tail(r.stderr(), 2000))
		}
	}
	files := segments(t, dir)
	if len(files) != 2 {
		t.Fatalf("got %v, want two files (one per run, none overwritten)", files)
	}
	for _, f := range files {
		p := probe(t, f)
		v := p.stream("video")
		if v == nil || v.frames() < 30 {
			t.Fatalf("%s: %+v: want at least a second of video", f, p.Streams)
		}
		if e := decodeErrors(t, f); e != "" {
			t.Errorf("%s: decode errors: %s", f, e)
		}
	}
}

// After kill -9 every file on disk plays up to its last fragment.
func TestKill9KeepsFilesPlayable(t *testing.T) {
	dir := t.TempDir()
	r := startRun(t, nil, "stream", "--video", "test", "--audio", "test",
		"--size", "320x180", "--bitrate", "500k", "--record", dir, "--segment", "10s", "--log-format", "json")
	time.Sleep(12500 * time.Millisecond) // into the second segment, mid-fragment
	r.kill()
	files := segments(t, dir)
	if len(files) != 2 {
		t.Fatalf("got %v, want 2 segments", files)
	}
	// The first segment was closed before the kill: all of it is there (a
	// real-time source on a loaded machine may have skipped a few frames,
	// as a camera would).
	p := probe(t, files[0])
	if v := p.stream("video"); v == nil || v.frames() < 280 || v.seconds(v.Duration) < 9.9 {
		t.Fatalf("first segment: %+v, want 10 s of video", p.Streams)
	}
	p = probe(t, files[1])
	if v := p.stream("video"); v == nil || v.frames() < 30 {
		t.Fatalf("second segment after kill -9: %+v, want at least the fragments before the kill", p.Streams)
	}
	for _, f := range files {
		if e := decodeErrors(t, f); e != "" {
			t.Errorf("%s: decode errors after kill -9: %s", f, e)
		}
	}

	// The next start finds the unfinished segment, reports it, and never
	// overwrites it.
	before, _ := os.ReadFile(files[1])
	rr := livecap(t, 60*time.Second, nil, "stream", "--video", "test", "--audio", "test", "--fast",
		"--size", "160x96", "--record", dir, "--duration", "2s", "--log-format", "json")
	if rr.code != 0 {
		t.Fatalf("restart: exit %d\n%s", rr.code, tail(rr.stderr, 2000))
	}
	if !strings.Contains(rr.stderr, `"event":"segment_recovered"`) || !strings.Contains(rr.stderr, filepath.Base(files[1])) {
		t.Errorf("restart did not report the unfinished segment %s:\n%s", files[1], tail(rr.stderr, 2000))
	}
	after := segments(t, dir)
	if len(after) != 3 {
		t.Fatalf("after restart: %v, want the two old files and one new", after)
	}
	// The repair cuts an incomplete tail and writes the real durations into
	// the header (so players that trust it show the length): the media
	// from the first fragment on is untouched.
	kept, _ := os.ReadFile(files[1])
	media := bytes.Index(before, []byte("moof")) - 4
	if media < 0 || len(kept) <= media || len(kept) > len(before) || string(kept[media:]) != string(before[media:len(kept)]) {
		t.Errorf("the unfinished segment was changed beyond its header and an incomplete tail (%d -> %d bytes)", len(before), len(kept))
	}
	if i := bytes.Index(kept, []byte("mvhd")); i < 0 || i+24 > len(kept) || be.BigEndian.Uint32(kept[i+20:]) == 0 {
		t.Errorf("the repaired segment still declares no duration")
	}
	if e := decodeErrors(t, files[1]); e != "" {
		t.Errorf("%s after recovery: %s", files[1], e)
	}
}

// Bad input: one line naming the value and what is allowed, exit 2, and
// nothing started (no file written).
func TestBadInput(t *testing.T) {
	file := filepath.Join(t.TempDir(), "afile")
	os.WriteFile(file, []byte("x"), 0o644)
	ro := filepath.Join(t.TempDir(), "ro")
	os.Mkdir(ro, 0o555)
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"--bitrate", "0"}, `--bitrate "0"`},
		{[]string{"--bitrate", "fast"}, `--bitrate "fast"`},
		{[]string{"--duration", "-5s"}, `--duration "-5s"`},
		{[]string{"--duration", "soon"}, `--duration "soon"`},
		{[]string{"--segment", "5s"}, `--segment "5s"`},
		{[]string{"--size", "1280*720"}, `--size "1280*720"`},
		{[]string{"--fps", "0"}, `--fps 0`},
		{[]string{"--fps", "121"}, `--fps 121`},
		{[]string{"--format", "avi"}, `--format "avi"`},
		{[]string{"--record", file}, file},
		{[]string{"--rtmp", "http://example.com/app/key"}, "rtmp"},
		{[]string{"--srt", "srt://127.0.0.1"}, "port"},
		{[]string{"--srt", "srt://127.0.0.1:9000?passphrase=short"}, "passphrase"},
	}
	if os.Geteuid() != 0 { // root writes anywhere
		cases = append(cases, struct {
			args []string
			want string
		}{[]string{"--record", ro}, "not writable"})
	}
	for _, c := range cases {
		dir := t.TempDir()
		args := append([]string{"stream", "--video", "test", "--audio", "test", "--duration", "5s"}, c.args...)
		hasRecord := false
		for _, a := range c.args {
			hasRecord = hasRecord || a == "--record"
		}
		if !hasRecord {
			args = append(args, "--record", dir)
		}
		r := livecap(t, 20*time.Second, nil, args...)
		lines := strings.Split(strings.TrimSpace(r.stderr), "\n")
		if r.code != 2 || len(lines) != 1 || !strings.Contains(r.stderr, c.want) {
			t.Errorf("%v: exit %d, stderr %q: want exit 2 and one line naming %q", c.args, r.code, r.stderr, c.want)
		}
		if strings.Contains(r.stderr, "short") && strings.Contains(c.args[1], "passphrase=short") {
			t.Errorf("%v: the passphrase leaked into the error: %q", c.args, r.stderr)
		}
		if n := len(segments(t, dir)); n != 0 {
			t.Errorf("%v: %d files written before the error", c.args, n)
		}
	}
}

// The disk check refuses when asked and names both figures.
func TestDiskCheckRefuse(t *testing.T) {
	dir := t.TempDir()
	r := livecap(t, 20*time.Second, nil, "stream", "--video", "test", "--audio", "test", "--record", dir,
		"--expected-duration", "1000000h", "--disk-check", "refuse", "--duration", "5s")
	if r.code != 3 || !strings.Contains(r.stderr, "free space") || !strings.Contains(r.stderr, "estimated") {
		t.Fatalf("exit %d, stderr %q: want exit 3 naming free space and the estimate", r.code, r.stderr)
	}
	r = livecap(t, 60*time.Second, nil, "stream", "--video", "test", "--audio", "test", "--record", dir, "--fast",
		"--size", "160x90", "--expected-duration", "1000000h", "--duration", "2s", "--log-format", "json")
	if r.code != 0 || !strings.Contains(r.stderr, `"event":"disk_low"`) {
		t.Fatalf("warn mode: exit %d, stderr %s", r.code, tail(r.stderr, 2000))
	}
}
