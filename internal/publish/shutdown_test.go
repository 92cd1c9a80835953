package publish

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/livecap/livecap/internal/testpeers"
)

// A stop (ctx cancelled: SIGINT, --duration) ends a publisher promptly in
// every state: connecting to a server that never answers, live, blocked
// writing to a peer that stopped reading, and waiting to retry.
func TestRTMPStopInEveryState(t *testing.T) {
	pk := testpeers.MakePackets(t, 30)
	ng := testpeers.StartNginx(t)
	stall := testpeers.StartRTMPServer(t, testpeers.RTMPStall)
	px := testpeers.StartProxy(t, ng.Port)
	viaProxy := strings.Replace(ng.URL(rtmpKey), ":"+itoa(ng.Port)+"/", ":"+itoa(px.Port)+"/", 1)
	cases := []struct {
		name  string
		url   string
		o     Options
		ready func(h *harness) bool
	}{
		{"connecting", stall.URL(rtmpKey), Options{ConnectTimeout: 30 * time.Second},
			func(h *harness) bool { return stall.Conns.Load() > 0 }},
		{"live", ng.URL(rtmpKey), Options{},
			func(h *harness) bool { return h.p.Stats().State == StateLive && h.p.Stats().BytesSent > 100<<10 }},
		{"blocked write", viaProxy, Options{WriteTimeout: 30 * time.Second, SendBuffer: 16 << 10},
			func(h *harness) bool {
				if h.p.Stats().State == StateLive && h.p.Stats().BytesSent > 50<<10 {
					px.Stall(time.Minute)
					time.Sleep(2 * time.Second) // the buffers fill, the write blocks
					return true
				}
				return false
			}},
		{"retrying", "rtmp://127.0.0.1:1/live/" + rtmpKey, Options{Backoff: Backoff{Initial: time.Minute}},
			func(h *harness) bool { return h.p.Stats().State == StateRetrying }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := start(t, pk, c.url, c.o)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			go h.playLoop(ctx)
			deadline := time.Now().Add(15 * time.Second)
			for !c.ready(h) {
				if time.Now().After(deadline) {
					t.Fatalf("never reached the state: %+v", h.p.Stats())
				}
				time.Sleep(20 * time.Millisecond)
			}
			t0 := time.Now()
			h.cancel()
			select {
			case err := <-h.errc:
				took := time.Since(t0)
				t.Logf("stopped in %v (%v)", took, err)
				if err != nil {
					t.Errorf("Run returned %v on a stop", err)
				}
			case <-time.After(3 * time.Second):
				t.Fatalf("Run still running 3 s after the stop: %+v", h.p.Stats())
			}
			if n := h.count(EventLost) + h.count(EventReconnecting); c.name != "retrying" && n != 0 {
				t.Errorf("a stop reported %d lost/reconnecting events", n)
			}
		})
	}
}
