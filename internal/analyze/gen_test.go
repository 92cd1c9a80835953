package analyze

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/livecap/livecap/internal/testpattern"
)

// genSpec describes a test file made with ffmpeg: video drawn here with the
// test source's layout, beeps from aevalsrc.
type genSpec struct {
	w, h, fps int
	seconds   float64
	// numbers[i] is the frame number written into picture i; nil: 0, 1, 2…
	numbers []uint32
	// beepDelay shifts the beeps in the audio content (seconds, + late).
	beepDelay float64
	// itsOffset shifts the whole audio stream's timestamps (container
	// level, + late).
	itsOffset float64
	ext       string // mp4, mov, flv, ts
}

func needFFmpeg(t testing.TB) {
	t.Helper()
	for _, tool := range []string{"ffmpeg", "ffprobe"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not installed", tool)
		}
	}
}

// drawFrame writes one I420 picture: the barcode band carrying num and,
// below it, white for a flash or a dark grey gradient otherwise.
func drawFrame(buf []byte, w, h int, num uint32, flash bool) {
	y := buf[:w*h]
	testpattern.DrawBarcode(y, w, w, h, num)
	for r := testpattern.Band(h); r < h; r++ {
		row := y[r*w : (r+1)*w]
		for x := range row {
			if flash {
				row[x] = testpattern.LumaWhite
			} else {
				row[x] = byte(40 + (x*80)/w)
			}
		}
	}
	for i := w * h; i < len(buf); i++ {
		buf[i] = testpattern.ChromaMid
	}
}

func generate(t testing.TB, dir, name string, g genSpec) string {
	t.Helper()
	if g.w == 0 {
		g.w, g.h = 320, 180
	}
	if g.fps == 0 {
		g.fps = 30
	}
	n := int(g.seconds * float64(g.fps))
	if g.numbers == nil {
		g.numbers = make([]uint32, n)
		for i := range g.numbers {
			g.numbers[i] = uint32(i)
		}
	}
	n = len(g.numbers)
	dur := float64(n) / float64(g.fps)
	// Beeps follow the flashes (numbers[0] decides the phase).
	first := (g.fps - int(g.numbers[0])%g.fps) % g.fps
	phase := float64(first)/float64(g.fps) + g.beepDelay
	expr := testpattern.BeepExpr(phase)
	out := filepath.Join(dir, name+"."+g.ext)
	args := []string{"-nostdin", "-hide_banner", "-loglevel", "error", "-y",
		"-f", "rawvideo", "-pix_fmt", "yuv420p", "-s", fmt.Sprintf("%dx%d", g.w, g.h), "-r", fmt.Sprint(g.fps), "-i", "pipe:0"}
	if g.itsOffset != 0 {
		args = append(args, "-itsoffset", fmt.Sprintf("%.6f", g.itsOffset))
	}
	args = append(args, "-f", "lavfi", "-i", fmt.Sprintf("aevalsrc=exprs=%s:s=48000:c=mono:d=%.6f", expr, dur),
		"-map", "0:v", "-map", "1:a",
		"-c:v", "libx264", "-preset", "ultrafast", "-g", fmt.Sprint(g.fps), "-pix_fmt", "yuv420p", "-crf", "23",
		"-c:a", "aac", "-b:a", "96k")
	switch g.ext {
	case "ts":
		args = append(args, "-f", "mpegts")
	case "flv":
		args = append(args, "-f", "flv")
	}
	args = append(args, out)
	cmd := exec.Command("ffmpeg", args...)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, g.w*g.h*3/2)
	for _, num := range g.numbers {
		drawFrame(buf, g.w, g.h, num, testpattern.IsFlash(int64(num), g.fps))
		if _, err := stdin.Write(buf); err != nil {
			t.Fatalf("write frame: %v (%s)", err, stderr.String())
		}
	}
	stdin.Close()
	if err := cmd.Wait(); err != nil {
		t.Fatalf("ffmpeg: %v: %s", err, stderr.String())
	}
	if _, err := os.Stat(out); err != nil {
		t.Fatal(err)
	}
	return out
}
