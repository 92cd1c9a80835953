package publish

import (
	"testing"
	"time"
)

// TestSRTFlow drives the flow control with a simulated link: a healthy one
// (everything acknowledged within a millisecond) never holds a write back;
// a link at 1/6 of the stream's rate holds writes back so that the bytes
// in flight stay near what it delivers in RTT + 200 ms.
func TestSRTFlow(t *testing.T) {
	const msg = 1316
	t0 := time.Unix(0, 0)
	for _, tc := range []struct {
		name      string
		linkRate  float64 // bytes/s the link acknowledges
		wantBlock bool
	}{
		{"healthy", 1e9, false},
		{"slow", 6e6 / 8 / 6, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := srtFlow{ageLimit: 60 * time.Millisecond}
			f.rtt(2 * time.Millisecond)
			var acked float64
			written, blocked := 0, 0
			maxFlight := uint64(0)
			// 10 s of a 6 Mbit/s stream in 1 ms steps: 750 bytes a step.
			var pending float64
			for ms := 0; ms < 10000; ms++ {
				now := t0.Add(time.Duration(ms) * time.Millisecond)
				acked = min(acked+tc.linkRate/1000, float64(f.bytes))
				held := int((f.bytes - uint64(acked) + msg - 1) / msg)
				f.update(held, now)
				pending += 6e6 / 8 / 1000
				for pending >= msg {
					if !f.room(now) {
						blocked++
						pending = 0 // the queue behind sheds what cannot go
						break
					}
					f.wrote(msg, now)
					written++
					pending -= msg
				}
				if ms > 2000 {
					maxFlight = max(maxFlight, f.inFlight())
				}
			}
			t.Logf("%s: %d messages written, %d steps held back, max in flight %d bytes, window %d",
				tc.name, written, blocked, maxFlight, f.window())
			if (blocked > 0) != tc.wantBlock {
				t.Errorf("held back %d times, want blocking=%v", blocked, tc.wantBlock)
			}
			if tc.wantBlock {
				// At 125 kB/s, RTT 2 ms + 200 ms: about 25 kB; never more
				// than the floor plus one message.
				if maxFlight > srtMinWindow+msg {
					t.Errorf("max in flight %d bytes over the link's window", maxFlight)
				}
				if got := float64(written*msg) / 10; got < 0.8*tc.linkRate {
					t.Errorf("wrote %.0f B/s through a %.0f B/s link: the window starves it", got, tc.linkRate)
				}
			}
		})
	}
}
