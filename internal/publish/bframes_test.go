package publish

import (
	"context"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/livecap/livecap/internal/input"
	"github.com/livecap/livecap/internal/media"
	"github.com/livecap/livecap/internal/testpeers"
)

// An x264 file with B-frames (FFmpeg's and OBS's default) restreamed to
// nginx: every FLV tag carries its composition time, so each decoded frame
// of what nginx recorded is the source's frame, in presentation order
// (frame hashes equal), and GStreamer decodes the same count.
func TestRTMPBFramesToNginx(t *testing.T) {
	testpeers.Need(t, "ffmpeg")
	src := filepath.Join(t.TempDir(), "bf.mp4")
	if out, err := exec.Command("ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", "testsrc2=s=320x240:r=30:d=4",
		"-f", "lavfi", "-i", "sine=f=440:d=4:sample_rate=48000", "-c:v", "libx264", "-preset", "fast", "-bf", "2", "-g", "30",
		"-pix_fmt", "yuv420p", "-c:a", "aac", "-ac", "2", "-movflags", "+faststart", src).CombinedOutput(); err != nil {
		t.Fatalf("ffmpeg: %v: %s", err, out)
	}
	r, err := input.Open(src, input.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	pk := &testpeers.Packets{Info: r.Info()}
	reordered := 0
	if err := r.Run(context.Background(), func(p *media.Packet) {
		c := *p
		c.Data = append([]byte(nil), p.Data...)
		if c.Kind == media.Video && c.PTS != c.DTS {
			reordered++
		}
		pk.Packets = append(pk.Packets, &c)
	}); err != nil {
		t.Fatal(err)
	}
	if reordered == 0 {
		t.Fatal("the input has no frame with PTS != DTS: not a B-frame file")
	}
	ng := testpeers.StartNginx(t)
	h := start(t, pk, ng.URL(rtmpKey), Options{MaxAttempts: 1})
	if err := h.play(context.Background()); err != nil {
		t.Fatal(err)
	}
	ng.Stop()
	recs := ng.Recordings()
	if len(recs) != 1 {
		t.Fatalf("recordings %v", recs)
	}
	want, got := frameHashes(t, src), frameHashes(t, recs[0])
	if len(got) != len(want) || strings.Join(got, ",") != strings.Join(want, ",") {
		n := 0
		for i := range min(len(got), len(want)) {
			if got[i] != want[i] {
				n++
			}
		}
		t.Fatalf("nginx's recording: %d frames, source %d, %d of them differ", len(got), len(want), n)
	}
	v, _ := testpeers.GstFrames(t, recs[0])
	t.Logf("%d frames (%d with PTS != DTS) identical after decode; GStreamer decoded %d", len(got), reordered, v)
	if v < len(want) {
		t.Errorf("GStreamer decoded %d of %d frames", v, len(want))
	}
}

// frameHashes is the MD5 of each decoded video frame, in presentation order.
func frameHashes(t *testing.T, file string) []string {
	t.Helper()
	out, err := exec.Command("ffmpeg", "-v", "error", "-i", file, "-map", "0:v", "-f", "framemd5", "-").Output()
	if err != nil {
		t.Fatalf("framemd5 %s: %v", file, err)
	}
	var h []string
	for _, l := range testpeers.Trim(string(out)) {
		if strings.HasPrefix(l, "#") {
			continue
		}
		f := strings.Split(l, ",")
		h = append(h, strings.TrimSpace(f[len(f)-1]))
	}
	return h
}
