//go:build linux && cgo

package capture

import (
	"os/exec"
	"path/filepath"
	"testing"
)

// BenchmarkCameraPicture is the per-picture cost of the camera path at
// 1280x720: a raw YUYV or NV12 buffer converted to I420 by swscale, or an
// MJPEG frame decoded and converted (what a webcam at 720p30 costs per
// frame, 33 ms apart). Reading the file costs a little on top.
func BenchmarkCameraPicture(b *testing.B) {
	if _, err := exec.LookPath("ffmpeg"); err != nil {
		b.Skip("ffmpeg not installed")
	}
	dir := b.TempDir()
	for _, f := range []struct {
		name, format, pix string
		opts              map[string]string
	}{
		{"yuyv422", "rawvideo", "yuyv422", map[string]string{"pixel_format": "yuyv422", "video_size": "1280x720"}},
		{"nv12", "rawvideo", "nv12", map[string]string{"pixel_format": "nv12", "video_size": "1280x720"}},
		{"mjpeg", "mjpeg", "yuvj422p", nil},
	} {
		path := filepath.Join(dir, f.name)
		args := []string{"-nostdin", "-v", "error", "-y", "-f", "lavfi", "-i", "testsrc2=s=1280x720:r=30", "-frames:v", "30"}
		if f.format == "mjpeg" {
			args = append(args, "-c:v", "mjpeg", "-pix_fmt", f.pix, "-q:v", "4", "-f", "mjpeg", path)
		} else {
			args = append(args, "-pix_fmt", f.pix, "-f", "rawvideo", path)
		}
		if out, err := exec.Command("ffmpeg", args...).CombinedOutput(); err != nil {
			b.Fatalf("ffmpeg: %v %s", err, out)
		}
		b.Run(f.name, func(b *testing.B) {
			buf := make([]byte, 1280*720*3/2)
			var d *lavDev
			open := func() {
				var err error
				if d, err = lavOpen(f.format, path, f.opts, false); err != nil {
					b.Fatal(err)
				}
				if err := d.videoSetup(1280, 720); err != nil {
					b.Fatal(err)
				}
			}
			open()
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				for {
					_, err := d.readVideo(buf)
					if err == nil {
						break
					}
					if err == errAgain {
						continue
					}
					d.close() // end of the file: again from the start
					b.StopTimer()
					open()
					b.StartTimer()
				}
			}
			b.StopTimer()
			d.close()
		})
	}
}
