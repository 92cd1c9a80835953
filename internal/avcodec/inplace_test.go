//go:build linux && cgo

package avcodec

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/livecap/livecap/internal/encoder"
	"github.com/livecap/livecap/internal/media"
)

// I420 pictures are read in place, not copied (lc_video_send_inplace): the
// encoder must be done with the caller's planes when Encode returns. One
// buffer is reused for every frame and wiped right after each Encode, as
// a source that redraws into a pooled buffer does; the decoded pictures
// (read back by FFmpeg) must still be the ones drawn, not the wipe.
func TestInputPlanesFreeAfterEncode(t *testing.T) {
	if _, err := exec.LookPath("ffmpeg"); err != nil {
		t.Fatalf("ffmpeg not installed (the test needs the real decoder): %v", err)
	}
	const w, h, fps, n = 320, 240, 30, 40
	level := func(i int) byte { return byte(60 + 3*i) } // a flat grey per frame; the wipe is 0
	var c collector
	e := openVideo(t, encoder.VideoSettings{Width: w, Height: h, FPS: fps, Bitrate: 2_000_000, KeyInterval: time.Second}, c.out)
	buf := make([]byte, w*h*3/2)
	f := &media.VideoFrame{Width: w, Height: h, Format: media.I420,
		Planes:  [3][]byte{buf[:w*h], buf[w*h : w*h*5/4], buf[w*h*5/4:]},
		Strides: [3]int{w, w / 2, w / 2}}
	for i := 0; i < n; i++ {
		fill(f.Planes[0], level(i))
		fill(buf[w*h:], 128)
		f.PTS = time.Duration(i) * time.Second / fps
		if err := e.Encode(f); err != nil {
			t.Fatal(err)
		}
		fill(buf, 0) // the next picture is being drawn
	}
	if err := e.Flush(); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "v.h264")
	if err := writeAnnexB(path, e.Config(), c.pkts); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("ffmpeg", "-nostdin", "-v", "error", "-i", path, "-f", "rawvideo", "-pix_fmt", "gray", "-").Output()
	if err != nil {
		t.Fatalf("ffmpeg decode: %v", err)
	}
	if len(out) != n*w*h {
		t.Fatalf("decoded %d bytes, want %d frames of %d", len(out), n, w*h)
	}
	for i := 0; i < n; i++ {
		sum := 0
		for _, v := range out[i*w*h : (i+1)*w*h] {
			sum += int(v)
		}
		if mean, want := float64(sum)/(w*h), float64(level(i)); mean < want-10 || mean > want+10 {
			t.Errorf("frame %d: mean luma %.1f, drawn %v", i, mean, want)
		}
	}
}

func fill(b []byte, v byte) {
	for i := range b {
		b[i] = v
	}
}

// Opening a video encoder turns transparent huge pages off for the
// process (declineHugePages), as /proc/self/status shows.
func TestVideoDeclinesHugePages(t *testing.T) {
	openVideo(t, encoder.VideoSettings{Width: 320, Height: 240, FPS: 30, Bitrate: 500_000, KeyInterval: time.Second}, func(*media.Packet) {})
	st, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(st), "THP_enabled:\t0\n") {
		t.Errorf("huge pages still enabled after OpenVideo; /proc/self/status:\n%s", st)
	}
}
