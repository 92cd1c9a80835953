package publish

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/livecap/livecap/internal/input"
	"github.com/livecap/livecap/internal/media"
	"github.com/livecap/livecap/internal/testpeers"
)

// TestTSBFrames muxes an x264 file with B-frames (-bf 2, FFmpeg's and OBS's
// default) through the SRT path's TS muxer: every frame is there, in its
// presentation order, and each decoded picture is identical to the source's
// (FFmpeg framemd5 of both); GStreamer's tsdemux decodes every frame too.
func TestTSBFrames(t *testing.T) {
	testpeers.Need(t, "ffmpeg", "gst-launch-1.0")
	dir := t.TempDir()
	src := filepath.Join(dir, "src.mp4")
	out, err := exec.Command("ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", "testsrc2=s=320x240:r=30:d=4",
		"-f", "lavfi", "-i", "sine=f=1000:r=48000:d=4", "-c:v", "libx264", "-preset", "veryfast", "-bf", "2", "-g", "30",
		"-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest", src).CombinedOutput()
	if err != nil {
		t.Fatalf("ffmpeg: %v: %s", err, out)
	}
	r, err := input.Open(src, input.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var pk []*media.Packet
	reordered := 0
	if err := r.Run(context.Background(), func(p *media.Packet) {
		c := *p
		c.Data = append([]byte(nil), p.Data...)
		if c.Kind == media.Video && c.PTS != c.DTS {
			reordered++
		}
		pk = append(pk, &c)
	}); err != nil {
		t.Fatal(err)
	}
	if reordered == 0 {
		t.Fatal("the source has no reordered frames")
	}
	b := muxAll(t, r.Info(), pk)
	rep := parseTS(t, b)
	ts := filepath.Join(dir, "out.ts")
	if err := os.WriteFile(ts, b, 0o644); err != nil {
		t.Fatal(err)
	}
	hashes := func(f string) []string {
		o, err := exec.Command("ffmpeg", "-v", "error", "-i", f, "-map", "0:v", "-f", "framemd5", "-").Output()
		if err != nil {
			t.Fatalf("framemd5 %s: %v", f, err)
		}
		var h []string
		for _, l := range strings.Split(string(o), "\n") {
			if l == "" || l[0] == '#' {
				continue
			}
			f := strings.Split(l, ",")
			h = append(h, strings.TrimSpace(f[len(f)-1]))
		}
		return h
	}
	want, got := hashes(src), hashes(ts)
	t.Logf("%d frames (%d with PTS != DTS, %d PES with a DTS); TS decodes %d frames", len(want), reordered, rep.dts[pidVideo], len(got))
	if len(got) != len(want) {
		t.Fatalf("TS decodes %d frames, source %d", len(got), len(want))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("frame %d differs from the source (presentation order lost?)", i)
		}
	}
	if rep.dts[pidVideo] != reordered {
		t.Errorf("%d PES with a DTS, want %d", rep.dts[pidVideo], reordered)
	}
	g, err := exec.Command("gst-launch-1.0", "-v", "filesrc", "location="+ts, "!", "tsdemux", "!", "h264parse", "!",
		"avdec_h264", "!", "fakesink", "name=v", "silent=false", "sync=false").CombinedOutput()
	if err != nil {
		t.Fatalf("gst-launch: %v\n%s", err, lastLines(string(g), 10))
	}
	if n := bytes.Count(g, []byte("GstFakeSink:v: last-message = chain")); n != len(want) {
		t.Errorf("GStreamer decoded %d frames of %d", n, len(want))
	}
}
