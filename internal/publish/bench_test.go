package publish

import (
	"bufio"
	"encoding/binary"
	"io"
	"testing"
	"time"

	"github.com/bluenviron/mediacommon/v2/pkg/formats/mpegts"
	tscodecs "github.com/bluenviron/mediacommon/v2/pkg/formats/mpegts/codecs"
	flvtag "github.com/yutopp/go-flv/tag"

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
	cw := chunkWriter{w: bufio.NewWriterSize(io.Discard, 64<<10), size: rtmpChunkSize}
	var h [flvVideoHeaderLen]byte
	b.SetBytes(int64(len(p.Data)))
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		flvVideoHeader(h[:], false, flvtag.AVCPacketTypeNALU)
		if err := cw.message(csidVideo, msgVideo, uint32(i*33), 1, h[:], p.Data); err != nil {
			b.Fatal(err)
		}
		if err := cw.w.Flush(); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkTSAccessUnit(b *testing.B) {
	p := benchAU()
	s := &srtSession{}
	s.vt = &mpegts.Track{Codec: &tscodecs.H264{}}
	s.mux = &mpegts.Writer{W: io.Discard, Tracks: []*mpegts.Track{s.vt}}
	if err := s.mux.Initialize(); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(p.Data)))
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		s.nalus, _ = splitAVCC(s.nalus[:0], p.Data)
		t := ts90k(time.Duration(i) * time.Second / 30)
		if err := s.mux.WriteH264(s.vt, t, t, s.nalus); err != nil {
			b.Fatal(err)
		}
	}
}
