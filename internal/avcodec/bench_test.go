//go:build linux && cgo

package avcodec

import (
	"testing"
	"time"

	"github.com/livecap/livecap/internal/encoder"
	"github.com/livecap/livecap/internal/media"
)

// BenchmarkEncodeVideo720p: one op is one 1280x720 I420 frame through
// libx264 (veryfast, 4 Mbit/s,
// 30 fps), packet conversion included. Frames are drawn beforehand and
// cycled, so only the encoder is measured.
func BenchmarkEncodeVideo720p(b *testing.B) {
	const w, h, fps = 1280, 720, 30
	frames := make([]*media.VideoFrame, fps)
	for i := range frames {
		frames[i] = testFrame(w, h, fps, i+1, media.I420, 0) // i+1: no white flash
	}
	var bytesOut int
	e := openVideo(b, encoder.VideoSettings{Width: w, Height: h, FPS: fps, Bitrate: 4_000_000, KeyInterval: 2 * time.Second, Realtime: true},
		func(p *media.Packet) { bytesOut += len(p.Data) })
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		f := frames[i%len(frames)]
		f.PTS = time.Duration(i) * time.Second / fps
		if err := e.Encode(f); err != nil {
			b.Fatal(err)
		}
	}
	if err := e.Flush(); err != nil {
		b.Fatal(err)
	}
	b.StopTimer()
	sec := b.Elapsed().Seconds()
	b.ReportMetric(float64(b.N)/sec, "fps")
	b.ReportMetric(float64(bytesOut)*8/(float64(b.N)/fps)/1e6, "Mbit/s")
}

// BenchmarkEncodeAudio: one op is 1024 sample frames of 48 kHz stereo PCM
// (one AAC frame), fed as 10 ms buffers like a capture device delivers.
func BenchmarkEncodeAudio(b *testing.B) {
	const rate, ch = 48000, 2
	pcm := sine(rate, ch, 0, rate) // one second, cycled
	chunk := rate / 100
	e, err := OpenAudio(encoder.AudioSettings{SampleRate: rate, Channels: ch, Bitrate: 128000}, func(*media.Packet) {})
	if err != nil {
		b.Fatal(err)
	}
	defer e.Close()
	buf := &media.AudioBuffer{SampleRate: rate, Channels: ch}
	b.ReportAllocs()
	b.ResetTimer()
	fed, off := 0, 0
	for i := 0; i < b.N; i++ {
		for target := (i + 1) * 1024; fed < target; {
			n := min(chunk, target-fed, rate-off)
			buf.Samples = pcm[off*ch : (off+n)*ch]
			if err := e.Encode(buf); err != nil {
				b.Fatal(err)
			}
			fed += n
			off = (off + n) % rate
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "frames/s")
}
