package publish

import (
	"encoding/binary"
	"io"
	"testing"
	"time"

	"github.com/livecap/livecap/internal/media"
)

// One access unit at 4 Mbit/s, 30 fps: 4e6/8/30 ≈ 16.7 kB.
func benchAU() *media.Packet {
	const n = 4_000_000 / 8 / 30
	d := make([]byte, n)
	binary.BigEndian.PutUint32(d, n-4)
	d[4] = 0x41 // non-IDR slice
	return &media.Packet{Kind: media.Video, Data: d, Duration: time.Second / 30}
}

func BenchmarkFLVVideoTag(b *testing.B) {
	p := benchAU()
	cw := chunkWriter{w: io.Discard, size: rtmpChunkSize}
	var h [flvVideoHeaderLen]byte
	b.SetBytes(int64(len(p.Data)))
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		flvVideoHeader(h[:], false, flvAVCNALU, 0)
		if err := cw.message(csidVideo, msgVideo, uint32(i*33), 1, h[:], p.Data); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkTSAccessUnit is the SRT path without the socket: AVCC split,
// AUD, PES and TS packets, into a discarding writer.
func BenchmarkTSAccessUnit(b *testing.B) {
	p := benchAU()
	p.Data[4] = 0x65 // an IDR, so that the first packet starts the timeline
	p.Key = true
	m, err := newTSMuxer(io.Discard, benchInfo())
	if err != nil {
		b.Fatal(err)
	}
	if _, err := m.write(p); err != nil {
		b.Fatal(err)
	}
	q := *benchAU()
	b.SetBytes(int64(len(q.Data)))
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		q.DTS = time.Duration(i) * time.Second / 30
		q.PTS = q.DTS
		if sent, err := m.write(&q); err != nil || !sent {
			b.Fatal(sent, err)
		}
	}
}

func benchInfo() media.StreamInfo {
	return media.StreamInfo{
		Video: &media.VideoConfig{Width: 1280, Height: 720, FPS: 30,
			SPS: []byte{0x67, 0x64, 0x00, 0x1f, 0xac, 0xd9, 0x40, 0x50, 0x05, 0xbb, 0x01, 0x10, 0x00, 0x00, 0x03, 0x00, 0x10, 0x00, 0x00, 0x03, 0x03, 0xc0, 0xf1, 0x83, 0x19, 0x60},
			PPS: []byte{0x68, 0xeb, 0xe3, 0xcb, 0x22, 0xc0}},
		Audio: &media.AudioConfig{SampleRate: 48000, Channels: 1, ASC: []byte{0x11, 0x88}, Priming: 1024, FrameSize: 1024},
	}
}
