package input

import (
	"context"
	"encoding/csv"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/livecap/livecap/internal/media"
)

// makeFile encodes a short test pattern and tone with ffmpeg into dir/name;
// extra holds the codec and muxer options of the case.
func makeFile(t testing.TB, dir, name string, seconds float64, extra ...string) string {
	t.Helper()
	if _, err := exec.LookPath("ffmpeg"); err != nil {
		t.Skip("ffmpeg not installed")
	}
	out := filepath.Join(dir, name)
	args := []string{"-hide_banner", "-loglevel", "error", "-y",
		"-f", "lavfi", "-i", "testsrc=size=320x240:rate=30",
		"-f", "lavfi", "-i", "sine=frequency=1000:sample_rate=48000",
		"-t", strconv.FormatFloat(seconds, 'f', -1, 64),
		"-c:v", "libx264", "-g", "30", "-c:a", "aac", "-b:a", "64k"}
	args = append(args, extra...)
	args = append(args, out)
	if b, err := exec.Command("ffmpeg", args...).CombinedOutput(); err != nil {
		t.Fatalf("ffmpeg %v: %v\n%s", args, err, b)
	}
	return out
}

type probed struct {
	kind     media.Kind
	pts, dts float64
	key      bool
	size     int
}

// probe lists the packets of path as ffprobe sees them, per kind, in file
// order.
func probe(t *testing.T, path string) map[media.Kind][]probed {
	t.Helper()
	b, err := exec.Command("ffprobe", "-v", "error", "-show_entries",
		"packet=codec_type,pts_time,dts_time,flags,size", "-of", "csv=p=0", path).Output()
	if err != nil {
		t.Fatalf("ffprobe %s: %v", path, err)
	}
	rd := csv.NewReader(strings.NewReader(string(b)))
	rd.FieldsPerRecord = -1
	recs, err := rd.ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	res := map[media.Kind][]probed{}
	for _, r := range recs {
		if len(r) < 5 {
			continue
		}
		var p probed
		switch r[0] {
		case "video":
			p.kind = media.Video
		case "audio":
			p.kind = media.Audio
		default:
			continue
		}
		p.pts, _ = strconv.ParseFloat(r[1], 64)
		p.dts, _ = strconv.ParseFloat(r[2], 64)
		p.size, _ = strconv.Atoi(r[3])
		p.key = strings.Contains(r[4], "K")
		res[p.kind] = append(res[p.kind], p)
	}
	return res
}

func runAll(t *testing.T, r *Reader) []*media.Packet {
	t.Helper()
	var pks []*media.Packet
	if err := r.Run(context.Background(), func(p *media.Packet) { pks = append(pks, p) }); err != nil {
		t.Fatal(err)
	}
	return pks
}

func TestMatchesFFprobe(t *testing.T) {
	dir := t.TempDir()
	cases := []struct {
		name    string
		args    []string
		priming int
		bframes bool
	}{
		{"progressive.mp4", []string{"-preset", "ultrafast"}, 1024, false},
		{"bframes.mp4", []string{"-preset", "veryfast", "-bf", "2"}, 1024, true},
		{"frag.mp4", []string{"-preset", "ultrafast", "-movflags", "frag_keyframe+empty_moov"}, 0, false},
		{"frag-moof.mp4", []string{"-preset", "ultrafast", "-movflags", "frag_keyframe+empty_moov+default_base_moof"}, 0, false},
		{"progressive.mov", []string{"-preset", "ultrafast"}, 1024, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			path := makeFile(t, dir, c.name, 2, c.args...)
			r, err := Open(path, Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			info := r.Info()
			if v := info.Video; v == nil || v.Width != 320 || v.Height != 240 || v.FPS != 30 ||
				len(v.SPS) == 0 || v.SPS[0]&0x1f != 7 || len(v.PPS) == 0 || v.PPS[0]&0x1f != 8 || v.Bitrate <= 0 {
				t.Errorf("video info %+v", v)
			}
			if a := info.Audio; a == nil || a.SampleRate != 48000 || a.Channels != 1 || a.FrameSize != 1024 ||
				a.Priming != c.priming || len(a.ASC) < 2 {
				t.Errorf("audio info %+v, want priming %d", a, c.priming)
			}

			want := probe(t, path)
			pks := runAll(t, r)
			got := map[media.Kind][]*media.Packet{}
			var lastDTS time.Duration = math.MinInt64
			for _, p := range pks {
				if p.DTS < lastDTS {
					t.Fatalf("%s packet %d DTS %v after %v: not in decode order", p.Kind, p.Seq, p.DTS, lastDTS)
				}
				lastDTS = p.DTS
				got[p.Kind] = append(got[p.Kind], p)
			}
			const tol = 2e-6 // ffprobe prints 6 decimals
			for _, k := range []media.Kind{media.Video, media.Audio} {
				if len(got[k]) != len(want[k]) {
					t.Fatalf("%s: %d packets, ffprobe %d", k, len(got[k]), len(want[k]))
				}
				for i, p := range got[k] {
					w := want[k][i]
					if math.Abs(p.PTS.Seconds()-w.pts) > tol || math.Abs(p.DTS.Seconds()-w.dts) > tol {
						t.Fatalf("%s packet %d: pts %v dts %v, ffprobe %.6f %.6f", k, i, p.PTS, p.DTS, w.pts, w.dts)
					}
					if p.Key != w.key {
						t.Fatalf("%s packet %d: key %v, ffprobe %v", k, i, p.Key, w.key)
					}
					if len(p.Data) != w.size {
						t.Fatalf("%s packet %d: %d bytes, ffprobe %d", k, i, len(p.Data), w.size)
					}
					if i > 0 && (k == media.Audio || !c.bframes) && p.PTS <= got[k][i-1].PTS {
						t.Fatalf("%s packet %d: PTS %v not after %v", k, i, p.PTS, got[k][i-1].PTS)
					}
				}
			}
			if v := got[media.Video]; v[0].PTS != 0 || !v[0].Key {
				t.Errorf("first video packet: PTS %v key %v, want 0 and a keyframe", v[0].PTS, v[0].Key)
			}
			if a := got[media.Audio]; a[0].PTS != -time.Duration(c.priming)*time.Second/48000 {
				t.Errorf("first audio PTS %v, want -%d samples", a[0].PTS, c.priming)
			}
		})
	}
}

// TestLoop checks that timestamps keep rising across the seam (Seq is the
// pipeline's: TestSeqAndEncodedOwnedByPipeline).
func TestLoop(t *testing.T) {
	path := makeFile(t, t.TempDir(), "loop.mp4", 1, "-preset", "ultrafast")
	r, err := Open(path, Options{Loop: true})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	last := map[media.Kind]*media.Packet{}
	n := map[media.Kind]int{}
	err = r.Run(ctx, func(p *media.Packet) {
		if l := last[p.Kind]; l != nil {
			if p.DTS < l.DTS+l.Duration || p.PTS <= l.PTS {
				t.Errorf("%s: packet pts %v dts %v follows pts %v dts %v dur %v",
					p.Kind, p.PTS, p.DTS, l.PTS, l.DTS, l.Duration)
				cancel()
			}
		}
		last[p.Kind] = p
		n[p.Kind]++
		if n[media.Video] >= 3*30+5 {
			cancel()
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	if v := last[media.Video]; v == nil || v.PTS < 3*time.Second {
		t.Fatalf("after 3 loops of 1 s the last video PTS is %v", v.PTS)
	}
}

// TestRealtime checks the pacing: a 1-second file cannot be emitted in
// much less than a second, and cancelling stops Run at once.
func TestRealtime(t *testing.T) {
	path := makeFile(t, t.TempDir(), "rt.mp4", 1, "-preset", "ultrafast", "-movflags", "frag_keyframe+empty_moov")
	r, err := Open(path, Options{Realtime: true})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	start := time.Now()
	var lastDTS time.Duration
	if err := r.Run(context.Background(), func(p *media.Packet) { lastDTS = p.DTS }); err != nil {
		t.Fatal(err)
	}
	if el := time.Since(start); el < lastDTS-10*time.Millisecond {
		t.Fatalf("real-time run took %v for packets up to %v", el, lastDTS)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	var got time.Duration
	if err := r.Run(ctx, func(p *media.Packet) { got = p.DTS }); err != nil {
		t.Fatal(err)
	}
	if got > 500*time.Millisecond {
		t.Fatalf("cancelled after 200 ms, yet emitted a packet at %v", got)
	}
}

// TestTruncated reads a fragmented recording cut in the middle of a
// fragment, as a crash leaves it: every complete sample comes out, no error.
func TestTruncated(t *testing.T) {
	dir := t.TempDir()
	path := makeFile(t, dir, "full.mp4", 2, "-preset", "ultrafast", "-movflags", "frag_keyframe+empty_moov")
	full, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	cut := filepath.Join(dir, "cut.mp4")
	if err := os.WriteFile(cut, full[:len(full)*3/4], 0o644); err != nil {
		t.Fatal(err)
	}
	r, err := Open(cut, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	pks := runAll(t, r)
	if len(pks) < 40 || !r.Truncated() {
		t.Fatalf("%d packets, truncated=%v", len(pks), r.Truncated())
	}
}

func TestRejects(t *testing.T) {
	dir := t.TempDir()
	for name, data := range map[string][]byte{
		"empty":    nil,
		"text":     []byte("hello, this is not a movie at all"),
		"bigmoov":  {0, 0, 0, 100, 'm', 'o', 'o', 'v', 0, 0},
		"tinymoov": {0, 0, 0, 4, 'm', 'o', 'o', 'v'},
	} {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		if r, err := Open(p, Options{}); err == nil {
			r.Close()
			t.Errorf("%s: opened", name)
		} else {
			t.Logf("%s: %v", name, err)
		}
	}
	if _, err := Open(filepath.Join(dir, "missing.mp4"), Options{}); err == nil {
		t.Error("missing file opened")
	}
}

func BenchmarkRun(b *testing.B) {
	path := makeFile(b, b.TempDir(), "bench.mp4", 10, "-preset", "ultrafast", "-movflags", "frag_keyframe+empty_moov")
	r, err := Open(path, Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer r.Close()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := r.Run(context.Background(), func(*media.Packet) {}); err != nil {
			b.Fatal(err)
		}
	}
}
