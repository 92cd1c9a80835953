package testpeers

import (
	"fmt"
	"io"
	"sync"
	"testing"
	"time"

	"github.com/haivision/srtgo"
)

// SRTArrivals is an SRT listener of our own (libsrt through srtgo, live
// mode, default latency) that records when each PES (video and audio)
// that libsrt delivers arrived, by decode time: wire order over SRT,
// without a relay program's output buffering in the way (srt-live-transmit
// writes its output in bursts about a video frame apart).
type SRTArrivals struct {
	Port int

	mu       sync.Mutex
	arrivals []Arrival
	l        *srtgo.SrtSocket
	done     chan struct{}
}

// StartSRTArrivals starts the listener; it is stopped when the test ends.
func StartSRTArrivals(t testing.TB) *SRTArrivals {
	t.Helper()
	srtgo.InitSRT()
	s := &SRTArrivals{Port: FreePort(t, true), done: make(chan struct{})}
	s.l = srtgo.NewSrtSocket("127.0.0.1", uint16(s.Port), map[string]string{"mode": "listener", "transtype": "live", "blocking": "1"})
	if s.l == nil {
		t.Fatal("srt listener socket")
	}
	if err := s.l.Listen(1); err != nil {
		t.Fatal(err)
	}
	go func() {
		defer close(s.done)
		c, _, err := s.l.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		s.read(c)
	}()
	t.Cleanup(func() {
		s.l.Close()
		select {
		case <-s.done:
		case <-time.After(2 * time.Second):
		}
	})
	return s
}

// URL is srt://127.0.0.1:PORT.
func (s *SRTArrivals) URL() string { return fmt.Sprintf("srt://127.0.0.1:%d", s.Port) }

// Arrivals returns the PES received so far; TS is the DTS (PTS when the
// PES has no DTS) in milliseconds.
func (s *SRTArrivals) Arrivals() []Arrival {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Arrival(nil), s.arrivals...)
}

func (s *SRTArrivals) read(r io.Reader) {
	msg := make([]byte, 1500)
	for {
		n, err := r.Read(msg)
		if err != nil || n == 0 {
			return
		}
		now := time.Now()
		for off := 0; off+188 <= n; off += 188 {
			s.packet(msg[off:off+188], now)
		}
	}
}

func (s *SRTArrivals) packet(p []byte, now time.Time) {
	{
		if p[0] != 0x47 {
			return
		}
		if p[1]&0x40 == 0 { // not a payload unit start
			return
		}
		i := 4
		if afc := p[3] >> 4 & 3; afc == 2 || afc == 3 {
			i += 1 + int(p[4])
		}
		if afc := p[3] >> 4 & 3; afc == 2 || i+14 > len(p) {
			return
		}
		b := p[i:]
		if b[0] != 0 || b[1] != 0 || b[2] != 1 {
			return
		}
		sid := b[3]
		video := sid&0xF0 == 0xE0
		if !video && sid&0xE0 != 0xC0 {
			return
		}
		flags := b[7] >> 6
		if flags&2 == 0 {
			return
		}
		ts := pts33(b[9:14])
		if flags == 3 && len(b) >= 19 {
			ts = pts33(b[14:19])
		}
		s.mu.Lock()
		s.arrivals = append(s.arrivals, Arrival{Video: video, TS: uint32(ts / 90), At: now})
		s.mu.Unlock()
	}
}

func pts33(b []byte) int64 {
	return int64(b[0]>>1&7)<<30 | int64(b[1])<<22 | int64(b[2]>>1)<<15 | int64(b[3])<<7 | int64(b[4]>>1)
}
