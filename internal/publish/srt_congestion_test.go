package publish

import (
	"context"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/livecap/livecap/internal/media"
	"github.com/livecap/livecap/internal/testpeers"
)

// udpLink is a UDP relay of our own between an SRT caller and a listener
// that behaves like a slow link: the caller-to-listener direction is
// serialised at rate bits/s through a drop-tail queue of queue bytes (a
// router's buffer); the return direction (ACKs, NAKs) is not limited.
type udpLink struct {
	Port              int
	rate, queue       int
	forwarded, tailed atomic.Int64 // datagrams delivered / dropped at the queue

	front, back *net.UDPConn
	caller      atomic.Pointer[net.UDPAddr]
	mu          sync.Mutex
	q           [][]byte
	qBytes      int
	wake        chan struct{}
}

func startUDPLink(t *testing.T, toPort, rate, queue int) *udpLink {
	t.Helper()
	front, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	back, err := net.DialUDP("udp", nil, &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: toPort})
	if err != nil {
		t.Fatal(err)
	}
	l := &udpLink{Port: front.LocalAddr().(*net.UDPAddr).Port, rate: rate, queue: queue, front: front, back: back,
		wake: make(chan struct{}, 1)}
	done := make(chan struct{})
	t.Cleanup(func() { close(done); front.Close(); back.Close() })
	go func() { // caller -> queue
		b := make([]byte, 2048)
		for {
			n, from, err := front.ReadFromUDP(b)
			if err != nil {
				return
			}
			l.caller.Store(from)
			l.mu.Lock()
			if l.qBytes+n > l.queue {
				l.tailed.Add(1)
			} else {
				l.q = append(l.q, append([]byte(nil), b[:n]...))
				l.qBytes += n
			}
			l.mu.Unlock()
			select {
			case l.wake <- struct{}{}:
			default:
			}
		}
	}()
	go func() { // queue -> listener at rate
		next := time.Now()
		for {
			l.mu.Lock()
			if len(l.q) == 0 {
				l.mu.Unlock()
				select {
				case <-l.wake:
					continue
				case <-done:
					return
				}
			}
			d := l.q[0]
			l.q = l.q[1:]
			l.qBytes -= len(d)
			l.mu.Unlock()
			if now := time.Now(); next.Before(now) {
				next = now
			}
			next = next.Add(time.Duration(len(d)+28) * 8 * time.Second / time.Duration(l.rate))
			time.Sleep(time.Until(next))
			if _, err := back.Write(d); err != nil {
				return
			}
			l.forwarded.Add(1)
		}
	}()
	go func() { // listener -> caller, unlimited
		b := make([]byte, 2048)
		for {
			n, err := back.Read(b)
			if err != nil {
				return
			}
			if c := l.caller.Load(); c != nil {
				front.WriteToUDP(b[:n], c)
			}
		}
	}()
	return l
}

// TestSRTCongestionShedsGOPs streams 6 Mbit/s through a 1 Mbit/s link to
// srt-live-transmit: livecap must shed whole GOPs in its own queue (and
// report them), not let libsrt send what the receiver then drops, and the
// listener must receive a stream that decodes without errors.
func TestSRTCongestionShedsGOPs(t *testing.T) {
	const secs = 12
	pk := testpeers.MakePacketsCBR(t, secs, 640, 360, 6_000_000)
	l := testpeers.StartSRTListener(t, "")
	link := startUDPLink(t, l.Port, 1_000_000, 256<<10)
	// A latency that one keyframe fits in at this link rate (a 6 Mbit/s
	// keyframe takes about a second at 1 Mbit/s).
	url := "srt://127.0.0.1:" + strconv.Itoa(link.Port) + "?latency=3000"
	h := start(t, pk, url, Options{WriteTimeout: 20 * time.Second})
	var st Stats
	var sentV int
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
	defer cancel()
	if err := h.play(ctx); err != nil {
		t.Fatalf("Run: %v", err)
	}
	st = h.p.Stats()
	l.Stop()
	for _, p := range pk.Packets {
		if p.Kind == media.Video {
			sentV++
		}
	}
	r := testpeers.Probe(t, l.Out)
	lk := LinkStats{}
	if st.Link != nil {
		lk = *st.Link
	}
	t.Logf("sent %d video frames at 6 Mbit/s through 1 Mbit/s; queue dropped %d video + %d audio (%d frames_dropped events); link: %s, %d sent; relay forwarded %d, dropped %d datagrams",
		sentV, st.Queue.DroppedVideo, st.Queue.DroppedAudio, h.count(EventFramesDropped), lk.Short(), lk.SentPackets, link.forwarded.Load(), link.tailed.Load())
	t.Logf("listener decoded %v; decode errors: %.300q", r.Frames, r.DecodeErrors)
	if st.Queue.DroppedVideo == 0 {
		t.Errorf("no video dropped in the queue: congestion was not shed")
	}
	if h.count(EventFramesDropped) == 0 {
		t.Errorf("no frames_dropped event")
	}
	if st.Link == nil || st.Link.SentPackets == 0 {
		t.Errorf("no link figures in Stats: %+v", st.Link)
	}
	if r.Frames["video"] == 0 || r.Frames["video"] >= sentV {
		t.Errorf("listener decoded %d of %d video frames", r.Frames["video"], sentV)
	}
	if r.DecodeErrors != "" {
		t.Errorf("the listener's stream does not decode cleanly (whole GOPs were not kept): %.500s", r.DecodeErrors)
	}
}
