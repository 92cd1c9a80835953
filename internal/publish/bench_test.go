package publish

import (
	"context"
	"encoding/binary"
	"io"
	"net"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/livecap/livecap/internal/fanout"
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

// BenchmarkRTMPWriteTCP is the whole RTMP send path of one access unit
// (timeline, FLV header, chunking, write deadline, one writev of headers
// and the packet's own payload) into a loopback TCP socket drained by a
// reader: 0 allocations per AU.
func BenchmarkRTMPWriteTCP(b *testing.B) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	go func() {
		c, err := l.Accept()
		if err != nil {
			return
		}
		_, _ = io.Copy(io.Discard, c)
	}()
	conn, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close()
	s := &rtmpSession{o: &Options{WriteTimeout: 5 * time.Second}, conn: conn, tcp: conn, msid: 1, dead: make(chan struct{}), pings: make(chan uint32, 1)}
	s.cw = chunkWriter{w: conn, size: rtmpChunkSize}
	key := benchAU()
	key.Key = true
	if sent, err := s.write(key); err != nil || !sent {
		b.Fatal(sent, err)
	}
	p := benchAU()
	b.SetBytes(int64(len(p.Data)))
	b.ReportAllocs()
	for i := 1; b.Loop(); i++ {
		p.DTS = time.Duration(i) * time.Second / 30
		p.PTS = p.DTS
		if sent, err := s.write(p); err != nil || !sent {
			b.Fatal(sent, err)
		}
	}
}

type sessionConnector struct{ s session }

func (c sessionConnector) connect(context.Context) (session, error) { return c.s, nil }

// BenchmarkPublisherChain is one access unit (video and audio alternating)
// through the hub, a destination's queue, the interleaver, the RTMP session
// and a loopback socket, with WaitRoom's back-pressure as --input --fast
// uses it: allocations per AU in steady state, all goroutines counted.
func BenchmarkPublisherChain(b *testing.B) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	go func() {
		c, err := l.Accept()
		if err != nil {
			return
		}
		_, _ = io.Copy(io.Discard, c)
	}()
	conn, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close()
	o := Options{Info: benchInfo(), Log: zerolog.Nop(), WriteTimeout: 5 * time.Second}
	d, _ := ParseDestination("rtmp://127.0.0.1/live/bench")
	pub, err := New(d, o)
	if err != nil {
		b.Fatal(err)
	}
	p := pub.(*publisher)
	s := &rtmpSession{o: &p.o, d: d, conn: conn, tcp: conn, msid: 1, dead: make(chan struct{}), pings: make(chan uint32, 1)}
	s.cw = chunkWriter{w: conn, size: rtmpChunkSize}
	p.c = sessionConnector{s}
	hub := fanout.NewHub()
	q := hub.Add(p.Name(), DefaultPolicy())
	done := make(chan error, 1)
	go func() { done <- p.Run(context.Background(), q) }()
	// Packets made up front and reused: the chain, not the source, is
	// measured.
	const n = 64
	var vids, auds [n]media.Packet
	for i := range vids {
		vids[i] = *benchAU()
		auds[i] = media.Packet{Kind: media.Audio, Key: true, Data: make([]byte, 300), Duration: 21333 * time.Microsecond}
	}
	vids[0].Key = true
	ctx := context.Background()
	b.SetBytes(int64(len(vids[0].Data) + len(auds[0].Data)))
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		v, a := &vids[i%n], &auds[i%n]
		v.DTS = time.Duration(i) * time.Second / 30
		v.PTS, a.DTS, a.PTS = v.DTS, v.DTS, v.DTS
		if err := hub.WaitRoom(ctx); err != nil {
			b.Fatal(err)
		}
		hub.Publish(v)
		hub.Publish(a)
	}
	b.StopTimer()
	hub.Close()
	if err := <-done; err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(p.Stats().Writes)/float64(2*b.N), "writes/AU")
	if st := q.Stats(); st.DroppedVideo+st.DroppedAudio > 0 {
		b.Logf("dropped %d video %d audio (back-pressure did not hold)", st.DroppedVideo, st.DroppedAudio)
	}
}
