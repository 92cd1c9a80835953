package publish

import (
	"context"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/livecap/livecap/internal/fanout"
	"github.com/livecap/livecap/internal/testpeers"
)

// Hostile servers of our own: whatever a server does, the destination
// fails with an error that says what happened, is retried, gives up after
// MaxAttempts, and nothing else (the recording's lossless queue, the
// process) notices.
func TestRTMPHostileServers(t *testing.T) {
	pk := testpeers.MakePackets(t, 2)
	cases := []struct {
		name string
		mode testpeers.RTMPMode
		want string
	}{
		{"garbage after handshake", testpeers.RTMPGarbage, "broke the RTMP protocol"},
		{"huge chunks and messages", testpeers.RTMPHuge, "more than 32 chunk streams"},
		{"stalls after handshake", testpeers.RTMPStall, "no answer within"},
		{"closes mid-handshake", testpeers.RTMPCloseInHandshake, "stopped after 701 of 3073 handshake bytes"},
		{"accepts publish then drops", testpeers.RTMPDropAfterPublish, "accepted the publish, then dropped it after"},
		{"already publishing", testpeers.RTMPAlreadyPublishing, "already being published"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			srv := testpeers.StartRTMPServer(t, c.mode)
			hwm0 := peakRSS(t)
			h := start(t, pk, srv.URL(rtmpKey), Options{MaxAttempts: 2, Backoff: Backoff{Initial: 50 * time.Millisecond}, ConnectTimeout: time.Second})
			rec, recorded := drain(h.hub)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			go h.playLoop(ctx)
			var err error
			select {
			case err = <-h.errc:
			case <-time.After(20 * time.Second):
				t.Fatal("Run did not give up")
			}
			cancel()
			if err == nil || !strings.Contains(err.Error(), "gave up after 2 attempts") || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want gave up ... %q", err, c.want)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Fatalf("error spans lines: %q", err)
			}
			t.Logf("error: %v", err)
			if n := srv.Conns.Load(); n != 2 {
				t.Errorf("server saw %d connections, want 2 (one retry)", n)
			}
			if h.count(EventReconnecting) != 1 || h.count(EventGaveUp) != 1 {
				t.Errorf("reconnecting %d, gave_up %d events", h.count(EventReconnecting), h.count(EventGaveUp))
			}
			h.hub.Close()
			if n := <-recorded; n == 0 || n != atomic.LoadInt64(&h.published) {
				t.Errorf("the recorder's queue got %d of %d packets", n, h.published)
			}
			_ = rec
			grew := peakRSS(t) - hwm0
			t.Logf("server sent %d bytes; peak RSS grew %d kB", srv.BytesSent.Load(), grew>>10)
			if grew > 24<<20 {
				t.Errorf("peak RSS grew by %d MB under a hostile server", grew>>20)
			}
			h.noSecrets(rtmpKey)
		})
	}
}

// A server that answers with commands that do not decode, and an
// onFCPublish without a transaction id (ffmpeg -listen's), is published to.
func TestRTMPJunkCommands(t *testing.T) {
	srv := testpeers.StartRTMPServer(t, testpeers.RTMPGood)
	srv.Junk = true
	pk := testpeers.MakePackets(t, 2)
	h := start(t, pk, srv.URL(rtmpKey), Options{MaxAttempts: 1})
	if err := h.play(context.Background()); err != nil {
		t.Fatalf("Run: %v", err)
	}
	if srv.Publishes.Load() != 1 || len(srv.Arrivals()) < 100 {
		t.Fatalf("publishes %d, media messages %d", srv.Publishes.Load(), len(srv.Arrivals()))
	}
}

// drain is a lossless sink (the recorder's place) that counts packets.
func drain(hub *fanout.Hub) (*fanout.Queue, chan int64) {
	q := hub.Add("recorder", fanout.Policy{Lossless: true})
	done := make(chan int64, 1)
	go func() {
		var n int64
		for {
			if _, ok := q.Next(context.Background()); !ok {
				done <- n
				return
			}
			n++
		}
	}()
	return q, done
}

// peakRSS is the process's peak resident set (VmHWM), in bytes.
func peakRSS(t *testing.T) int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Skip("no /proc")
	}
	for _, l := range strings.Split(string(b), "\n") {
		if f := strings.Fields(l); len(f) >= 2 && f[0] == "VmHWM:" {
			n, _ := strconv.ParseInt(f[1], 10, 64)
			return n << 10
		}
	}
	return 0
}

// A destination that is down: its queue sheds every GOP while nobody
// reads it. That is reported once, with the totals, when it stops (or is
// live again), not every GOP for as long as the server is away.
func TestRTMPDownDestinationReportsOnce(t *testing.T) {
	pk := testpeers.MakePackets(t, 8)
	h := start(t, pk, "rtmp://127.0.0.1:1/live/"+rtmpKey, Options{Backoff: Backoff{Initial: 200 * time.Millisecond, Max: 400 * time.Millisecond}})
	ctx, cancel := context.WithCancel(context.Background())
	go h.playLoop(ctx)
	time.Sleep(7 * time.Second) // 4 s fill the queue, then it sheds
	if n := h.count(EventFramesDropped); n != 0 {
		t.Errorf("%d frames_dropped events while the destination was down", n)
	}
	cancel()
	h.cancel()
	<-h.errc
	st := h.p.Stats()
	if h.count(EventFramesDropped) != 1 || st.Queue.DroppedVideo == 0 {
		t.Errorf("frames_dropped events %d, queue dropped %d video", h.count(EventFramesDropped), st.Queue.DroppedVideo)
	}
	h.evMu.Lock()
	for _, e := range h.events {
		if e.Type == EventFramesDropped && e.DroppedVideo != st.Queue.DroppedVideo {
			t.Errorf("the report says %d video frames, the queue %d", e.DroppedVideo, st.Queue.DroppedVideo)
		}
	}
	h.evMu.Unlock()
	t.Logf("down 7 s: %d reconnecting events, one frames_dropped with %d video %d audio", h.count(EventReconnecting), st.Queue.DroppedVideo, st.Queue.DroppedAudio)
}
