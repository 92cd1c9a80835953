package publish

import (
	"testing"
	"time"

	"github.com/livecap/livecap/internal/testpeers"
)

// Wire order over SRT: the same interleaver sits in front of the SRT
// session. With audio handed over 60 ms after its video, the PES that
// srt-live-transmit delivers arrive in step.
func TestSRTWireInterleave(t *testing.T) {
	pk := testpeers.MakePackets(t, 4)
	for _, c := range []struct {
		name   string
		window time.Duration
	}{{"off", -1}, {"on", 0}} {
		t.Run(c.name, func(t *testing.T) {
			srt := testpeers.StartSRTArrivals(t)
			h := start(t, pk, srt.URL(), Options{Interleave: c.window, MaxAttempts: 3})
			deadline := time.Now().Add(10 * time.Second)
			for h.p.Stats().State != StateLive {
				if time.Now().After(deadline) {
					t.Fatalf("not live: %+v", h.p.Stats())
				}
				time.Sleep(10 * time.Millisecond)
			}
			h.playLagged(audioLag)
			if err := <-h.errc; err != nil {
				t.Fatal(err)
			}
			time.Sleep(500 * time.Millisecond) // the listener's latency
			med, p95, mx, n := skew(srt.Arrivals())
			t.Logf("interleave %s, SRT: arrival skew over %d audio PES: median %v, p95 %v, max %v", c.name, n, med, p95, mx)
			if n < 100 {
				t.Fatalf("%d audio PES", n)
			}
			if c.window >= 0 && med.Abs() > 5*time.Millisecond {
				t.Errorf("skew median %v (max %v), want within 5 ms", med, mx)
			}
		})
	}
}
