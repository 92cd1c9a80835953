package publish

import (
	"context"
	"net"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/livecap/livecap/internal/media"
	"github.com/livecap/livecap/internal/testpeers"
)

// silentListener is a UDP socket that reads everything and never answers:
// an SRT caller's handshake gets no reply at all.
func silentListener(t *testing.T) int {
	t.Helper()
	c, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	go func() {
		b := make([]byte, 2048)
		for {
			if _, _, err := c.ReadFrom(b); err != nil {
				return
			}
		}
	}()
	return c.LocalAddr().(*net.UDPAddr).Port
}

// stopWithin cancels the publisher and checks that Run returns within the
// 3 s that issue 11 allows for a stop in any state; it returns how long it
// took.
func (h *harness) stopWithin(state string) time.Duration {
	h.t.Helper()
	t0 := time.Now()
	h.cancel()
	select {
	case err := <-h.errc:
		d := time.Since(t0)
		if err != nil {
			h.t.Errorf("%s: Run: %v", state, err)
		}
		h.t.Logf("stop while %s: Run returned in %v", state, d)
		return d
	case <-time.After(3 * time.Second):
		h.t.Fatalf("stop while %s: Run still running 3 s after the stop", state)
	}
	return 0
}

// waitEvent waits until n events of typ were reported.
func (h *harness) waitEvent(typ EventType, n int, within time.Duration) {
	h.t.Helper()
	end := time.Now().Add(within)
	for h.count(typ) < n {
		if time.Now().After(end) {
			h.t.Fatalf("%d %s events within %v, want %d (events %+v)", h.count(typ), typ, within, n, h.eventsCopy())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (h *harness) eventsCopy() []Event {
	h.evMu.Lock()
	defer h.evMu.Unlock()
	return append([]Event(nil), h.events...)
}

// feed publishes the packets in real time, over and over, until ctx is
// done; it does not close the hub.
func (h *harness) feed(ctx context.Context) {
	for ctx.Err() == nil {
		h.pk.Play(ctx, h.hub)
	}
}

func TestSRTNoListenerRetriesAndStops(t *testing.T) {
	for _, tc := range []struct {
		name string
		port func(t *testing.T) int
	}{
		{"listener down", func(t *testing.T) int { return testpeers.FreePort(t, true) }},
		{"silent listener", silentListener},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pk := testpeers.MakePackets(t, 1)
			url := "srt://127.0.0.1:" + strconv.Itoa(tc.port(t)) + "?streamid=SeCrEtId"
			h := start(t, pk, url, Options{ConnectTimeout: 1500 * time.Millisecond,
				Backoff: Backoff{Initial: 100 * time.Millisecond, Max: 400 * time.Millisecond}})
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			go h.feed(ctx)
			h.waitEvent(EventReconnecting, 2, 10*time.Second)
			ev := h.eventsCopy()
			for _, e := range ev {
				if e.Type == EventReconnecting && e.Attempt < 1 {
					t.Errorf("reconnecting event without an attempt count: %+v", e)
				}
			}
			if st := h.p.Stats(); st.State != StateConnecting && st.State != StateRetrying {
				t.Errorf("state %s", st.State)
			}
			// Stop in the middle of a connection attempt (the attempt
			// takes ConnectTimeout, the backoff at most 400 ms).
			time.Sleep(300 * time.Millisecond)
			h.stopWithin(string(h.p.Stats().State))
			h.noSecrets("SeCrEtId")
		})
	}
}

// TestSRTStopInEveryState stops a publisher that is live, live with a
// listener that stopped reading (SIGSTOP), and retrying.
func TestSRTStopInEveryState(t *testing.T) {
	pk := testpeers.MakePackets(t, 2)
	t.Run("live", func(t *testing.T) {
		l := testpeers.StartSRTListener(t, "")
		h := start(t, pk, l.URL(""), Options{})
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		go h.feed(ctx)
		h.waitEvent(EventConnected, 1, 10*time.Second)
		time.Sleep(time.Second)
		h.stopWithin("live")
	})
	t.Run("listener paused", func(t *testing.T) {
		l := testpeers.StartSRTListener(t, "")
		h := start(t, pk, l.URL(""), Options{WriteTimeout: 20 * time.Second})
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		go h.feed(ctx)
		h.waitEvent(EventConnected, 1, 10*time.Second)
		time.Sleep(500 * time.Millisecond)
		l.Pause()
		defer l.Resume()
		time.Sleep(2 * time.Second) // libsrt's buffer fills; the write waits
		h.stopWithin("live, listener paused")
	})
	t.Run("listener paused until lost", func(t *testing.T) {
		l := testpeers.StartSRTListener(t, "")
		h := start(t, pk, l.URL(""), Options{WriteTimeout: 2 * time.Second, ConnectTimeout: 10 * time.Second,
			Backoff: Backoff{Initial: 100 * time.Millisecond, Max: 100 * time.Millisecond}})
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		go h.feed(ctx)
		h.waitEvent(EventConnected, 1, 10*time.Second)
		l.Pause()
		defer l.Resume()
		h.waitEvent(EventReconnecting, 1, 20*time.Second)
		time.Sleep(time.Second) // connecting to the paused listener
		h.stopWithin("connecting to a paused listener")
	})
	t.Run("retrying", func(t *testing.T) {
		l := testpeers.StartSRTListener(t, "")
		h := start(t, pk, l.URL(""), Options{Backoff: Backoff{Initial: 10 * time.Second, Max: 10 * time.Second}})
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		go h.feed(ctx)
		h.waitEvent(EventConnected, 1, 10*time.Second)
		l.Kill()
		h.waitEvent(EventReconnecting, 1, 20*time.Second)
		h.stopWithin("retrying")
	})
}

// TestSRTListenerBack kills the listener while streaming and brings it back
// after 15 s (60 s with LIVECAP_LONG=1): the publisher retries with
// backoff, reports reconnecting, and streams again to the same listener.
func TestSRTListenerBack(t *testing.T) {
	gaps := []time.Duration{15 * time.Second}
	if os.Getenv("LIVECAP_LONG") != "" {
		gaps = append(gaps, 60*time.Second)
	}
	pk := testpeers.MakePackets(t, 2)
	for _, gap := range gaps {
		t.Run(gap.String(), func(t *testing.T) {
			l := testpeers.StartSRTListener(t, "")
			h := start(t, pk, l.URL("streamid=SeCrEtId"), Options{ConnectTimeout: 3 * time.Second,
				Backoff: Backoff{Initial: 500 * time.Millisecond, Max: 4 * time.Second}})
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			go h.feed(ctx)
			h.waitEvent(EventConnected, 1, 10*time.Second)
			time.Sleep(2 * time.Second)
			l.Kill()
			killed := time.Now()
			time.Sleep(gap)
			n := h.count(EventReconnecting)
			if n < 2 {
				t.Errorf("%d reconnecting events in %v without a listener", n, gap)
			}
			var delays []time.Duration
			for _, e := range h.eventsCopy() {
				if e.Type == EventReconnecting {
					delays = append(delays, e.Delay.Round(10*time.Millisecond))
				}
			}
			t.Logf("listener gone %v: %d reconnecting events, delays %v", gap, n, delays)
			l.Start()
			h.waitEvent(EventConnected, 2, 15*time.Second)
			t.Logf("connected again %v after the listener came back (%v after the kill)",
				time.Since(killed)-gap, time.Since(killed).Round(time.Millisecond))
			time.Sleep(2 * time.Second)
			h.stopWithin("live again")
			l.Stop()
			r := testpeers.Probe(t, l.Out)
			if r.Frames["video"] < 90 {
				t.Errorf("listener decoded %v frames", r.Frames)
			}
			h.noSecrets("SeCrEtId")
		})
	}
}

// TestSRTTwoDestinationsOneDown streams to a listener while a second SRT
// destination has none (both read one hub, as in a session): the live one
// gets every frame, the other retries, and neither blocks the other.
func TestSRTTwoDestinationsOneDown(t *testing.T) {
	pk := testpeers.MakePackets(t, 4)
	l := testpeers.StartSRTListener(t, "")
	down := start(t, pk, "srt://127.0.0.1:"+strconv.Itoa(testpeers.FreePort(t, true)), Options{ConnectTimeout: time.Second,
		Backoff: Backoff{Initial: 100 * time.Millisecond, Max: 300 * time.Millisecond}})
	d, err := ParseDestination(l.URL(""))
	if err != nil {
		t.Fatal(err)
	}
	up, err := New(d, Options{Info: pk.Info, Keyframes: pk})
	if err != nil {
		t.Fatal(err)
	}
	upQ := down.hub.Add(up.Name(), DefaultPolicy())
	upDone := make(chan error, 1)
	go func() { upDone <- up.Run(context.Background(), upQ) }()
	time.Sleep(500 * time.Millisecond) // connected (the other is retrying)
	pk.Play(context.Background(), down.hub)
	down.hub.Close()
	select {
	case err := <-upDone:
		if err != nil {
			t.Fatalf("live destination: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("live destination did not finish")
	}
	if n := down.count(EventReconnecting); n < 2 {
		t.Errorf("destination without a listener: %d reconnecting events", n)
	}
	down.stopWithin(string(down.p.Stats().State))
	l.Stop()
	video := 0
	for _, p := range pk.Packets {
		if p.Kind == media.Video {
			video++
		}
	}
	r := checkDecodes(t, l.Out, video)
	if r.Frames["video"] != video {
		t.Errorf("live destination: %d of %d video frames", r.Frames["video"], video)
	}
	t.Logf("live destination: %v of %d video frames; the other retried %d times", r.Frames, video, down.count(EventReconnecting))
}
