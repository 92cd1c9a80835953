package analyze

import (
	"context"
	"testing"
)

// BenchmarkAnalyze10Min: analyzing 10 minutes of 320x180 30 fps H.264 +
// AAC (MP4) from the test pattern. Run with -benchtime=1x; generating the
// media is not timed.
func BenchmarkAnalyze10Min(b *testing.B) {
	needFFmpeg(b)
	p := generate(b, b.TempDir(), "tenmin", genSpec{seconds: 600, ext: "mp4"})
	b.ResetTimer()
	for range b.N {
		r, err := Files(context.Background(), []string{p}, Options{})
		if err != nil {
			b.Fatal(err)
		}
		if r.Sync.Pairs < 598 || r.Sync.MaxAbsMs > 2 || r.Frames.Total != 18000 {
			b.Fatalf("pairs %d, max |offset| %.2f ms, frames %d", r.Sync.Pairs, r.Sync.MaxAbsMs, r.Frames.Total)
		}
	}
}
