package e2e

import (
	"fmt"
	"testing"
	"time"
)

// Two hours of media from the test source whose audio clock runs ±300 ppm
// off the host clock (as real microphones do): without compensation that is
// ±2.16 s of drift by the end. The analyzer must find every flash/beep pair
// within 20 ms from start to end, and the 30-minute segments must join
// without a missing or repeated frame.
func TestTwoHoursOfSkewStayInSync(t *testing.T) {
	if testing.Short() {
		t.Skip("two hours of media: skipped with -short")
	}
	for _, ppm := range []int{+300, -300} {
		t.Run(fmt.Sprintf("%+dppm", ppm), func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			r := livecap(t, 12*time.Minute, nil, "stream", "--video", "test", "--audio", "test", "--fast",
				"--size", "160x96", "--fps", "10", "--bitrate", "100k", "--channels", "1", "--audio-bitrate", "48k",
				"--duration", "2h", "--segment", "30m", "--audio-skew-ppm", fmt.Sprint(ppm),
				"--record", dir, "--log-format", "json")
			if r.code != 0 {
				t.Fatalf("exit %d\n%s", r.code, tail(r.stderr, 3000))
			}
			files := segments(t, dir)
			if len(files) != 4 {
				t.Fatalf("got %d segments, want 4 of 30 minutes: %v", len(files), files)
			}
			rep, _ := analyzeFiles(t, files...)
			checkSync(t, fmt.Sprintf("2 h at %+d ppm", ppm), rep, 7100)
			if d := rep.Sync.DriftMsPerHour; d < -5 || d > 5 {
				t.Errorf("drift %.2f ms/hour, want |drift| < 5 ms/hour (uncompensated: %d ms/hour)", d, ppm*36/10)
			}
			t.Logf("start %+.2f ms, end %+.2f ms, drift %+.2f ms/hour", rep.Sync.StartMs, rep.Sync.EndMs, rep.Sync.DriftMsPerHour)
			if rep.Frames.Missing != 0 || rep.Frames.Repeated != 0 || rep.Frames.Total != 2*3600*10 {
				t.Errorf("frames: %d decoded, %d missing, %d repeated; want %d, 0, 0", rep.Frames.Total, rep.Frames.Missing, rep.Frames.Repeated, 2*3600*10)
			}
			for _, j := range rep.Joins {
				if !j.Continuous {
					t.Errorf("join %d -> %d not continuous: %+v", j.FromFile, j.ToFile, j)
				}
			}
		})
	}
}
