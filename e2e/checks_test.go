package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Issue 11, item 9: what can be checked is checked before anything
// starts: one line naming the value and what is allowed, exit 2, no
// started (and so no stopped), nothing recorded.
func TestRefusedBeforeStart(t *testing.T) {
	media := t.TempDir()
	hevc := filepath.Join(media, "hevc.mp4")
	audioOnly := filepath.Join(media, "audio.m4a")
	for _, c := range [][]string{
		{"-f", "lavfi", "-i", "testsrc=s=320x180:r=30", "-f", "lavfi", "-i", "sine=f=440:sample_rate=48000",
			"-t", "2", "-c:v", "libx265", "-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest", hevc},
		{"-f", "lavfi", "-i", "sine=f=440:sample_rate=48000", "-t", "2", "-c:a", "aac", audioOnly},
	} {
		if out, err := exec.Command("ffmpeg", append([]string{"-nostdin", "-v", "error", "-y"}, c...)...).CombinedOutput(); err != nil {
			t.Skipf("ffmpeg cannot make the input (%v): %s", err, out)
		}
	}
	cases := []struct {
		name string
		args []string
		says string
	}{
		{"hook program missing", []string{"--video", "test", "--audio", "test", "--on-segment", "/no/such/uploader --token x"}, "on-segment"},
		{"HEVC input", []string{"--input", hevc}, "H.264 only"},
		{"audio-only input", []string{"--input", audioOnly}, "audio only"},
		{"no video", []string{"--video", "none", "--audio", "test"}, "audio only"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			args := append([]string{"stream", "--record", dir, "--duration", "2s", "--log-format", "json"}, c.args...)
			r := livecap(t, 30*time.Second, nil, args...)
			lines := strings.Split(strings.TrimSpace(r.stderr), "\n")
			if r.code != 2 || len(lines) != 1 || !strings.Contains(lines[0], c.says) {
				t.Fatalf("exit %d, stderr %q: want exit 2 and one line saying %q", r.code, r.stderr, c.says)
			}
			if strings.Contains(r.stderr, `"event"`) {
				t.Errorf("an event before the refusal: %s", r.stderr)
			}
			if ents, _ := os.ReadDir(dir); len(ents) != 0 {
				t.Errorf("%d files in the record folder after a refusal", len(ents))
			}
		})
	}
}
