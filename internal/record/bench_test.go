package record

import (
	"context"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/livecap/livecap/internal/fanout"
	"github.com/livecap/livecap/internal/media"
)

// BenchmarkRecorderAccessUnit measures fan-out plus the fMP4 writer per
// video access unit at 4 Mbit/s, 30 fps (16.7 kB AUs, an IDR every 2 s),
// with the 48 kHz AAC packets that come with each frame (1.56 per frame):
// Hub.Publish → lossless queue → Recorder (fragment building, writev to a
// real file). fsync is left out (noSync): it measures the disk, not us.
func BenchmarkRecorderAccessUnit(b *testing.B) {
	b.Run("file", func(b *testing.B) { benchRecorder(b, false) })
	// The same without the write(2) itself: what our code costs, without
	// the kernel's copy into the page cache.
	b.Run("discard", func(b *testing.B) { benchRecorder(b, true) })
}

func benchRecorder(b *testing.B, discard bool) {
	const fps = 30
	au := make([]byte, 4_000_000/8/fps)
	aac := make([]byte, 128_000/8*1024/48000)
	info := media.StreamInfo{
		Video: &media.VideoConfig{Width: 1280, Height: 720, FPS: fps,
			SPS: []byte{0x67, 0x64, 0x00, 0x1f, 0xac, 0xd9, 0x40, 0x50, 0x05, 0xbb, 0x01, 0x10, 0x00, 0x00, 0x03, 0x00, 0x10, 0x00, 0x00, 0x03, 0x03, 0xc0, 0xf1, 0x83, 0x19, 0x60},
			PPS: []byte{0x68, 0xeb, 0xe3, 0xcb, 0x22, 0xc0}},
		Audio: &media.AudioConfig{SampleRate: 48000, Channels: 1, ASC: []byte{0x11, 0x88}, Priming: 1024, FrameSize: 1024},
	}
	// Packets are made before the clock starts: allocating them is the
	// encoder's cost, not the fan-out's or the writer's.
	var packets []*media.Packet
	na := 0
	for i := 0; i < b.N; i++ {
		pts := frameTime(i, fps)
		for {
			apts := sampleTime(int64(na)*1024-1024, 48000)
			if apts > pts {
				break
			}
			packets = append(packets, &media.Packet{Kind: media.Audio, PTS: apts, DTS: apts, Duration: sampleTime(1024, 48000), Key: true, Data: aac})
			na++
		}
		packets = append(packets, &media.Packet{Kind: media.Video, PTS: pts, DTS: pts, Duration: frameTime(1, fps), Key: i%(2*fps) == 0, Data: au})
	}
	r, err := New(Options{Dir: b.TempDir(), Segment: 30 * time.Minute, Info: info, Log: zerolog.Nop(), noSync: true, discard: discard})
	if err != nil {
		b.Fatal(err)
	}
	hub := fanout.NewHub()
	q := hub.Add("record", fanout.Policy{Lossless: true})
	done := make(chan error, 1)
	b.SetBytes(int64(len(au)))
	b.ReportAllocs()
	b.ResetTimer()
	go func() { done <- r.Run(context.Background(), q) }()
	for _, p := range packets {
		hub.Publish(p)
	}
	hub.Close()
	if err := <-done; err != nil {
		b.Fatal(err)
	}
}
