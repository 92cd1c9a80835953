package publish

import (
	"context"
	"fmt"
	"math"
	"sort"
	"testing"
	"time"

	"github.com/livecap/livecap/internal/fanout"
	"github.com/livecap/livecap/internal/media"
	"github.com/livecap/livecap/internal/testpeers"
)

// audioLag is how late a live AAC encoder hands over a frame after the
// video frame of the same instant (issue 12: about 60 ms).
const audioLag = 60 * time.Millisecond

// playLagged feeds the packets in real time with audio audioLag late, the
// way the live encoders deliver them, then closes the hub.
func (h *harness) playLagged(lag time.Duration) {
	type ev struct {
		at time.Duration
		p  *media.Packet
	}
	first := h.pk.Packets[0].DTS
	var evs []ev
	for _, p := range h.pk.Packets {
		at := p.DTS - first
		if p.Kind == media.Audio {
			at += lag
		}
		evs = append(evs, ev{at, p})
	}
	sort.SliceStable(evs, func(i, j int) bool { return evs[i].at < evs[j].at })
	start := time.Now()
	for _, e := range evs {
		time.Sleep(time.Until(start.Add(e.at)))
		c := *e.p
		c.Encoded = h.clk.Now()
		h.hub.Publish(&c)
	}
	h.hub.Close()
}

// skew is, for each audio message, its arrival offset (arrival - RTMP time)
// minus that of the video message nearest in time: 0 when the tracks
// arrive in step, +60 ms when audio trails by 60 ms.
func skew(arr []testpeers.Arrival) (median, p95, maxAbs time.Duration, n int) {
	var vid []testpeers.Arrival
	for _, a := range arr {
		if a.Video {
			vid = append(vid, a)
		}
	}
	if len(vid) == 0 {
		return 0, 0, 0, 0
	}
	off := func(a testpeers.Arrival) time.Duration {
		return a.At.Sub(arr[0].At) - time.Duration(a.TS)*time.Millisecond
	}
	var sk []time.Duration
	for _, a := range arr {
		if a.Video {
			continue
		}
		i := sort.Search(len(vid), func(i int) bool { return vid[i].TS >= a.TS })
		best := -1
		for _, j := range []int{i - 1, i} {
			if j >= 0 && j < len(vid) && (best < 0 || absDiff(vid[j].TS, a.TS) < absDiff(vid[best].TS, a.TS)) {
				best = j
			}
		}
		d := off(a) - off(vid[best])
		sk = append(sk, d)
		if ad := time.Duration(math.Abs(float64(d))); ad > maxAbs {
			maxAbs = ad
		}
	}
	sort.Slice(sk, func(i, j int) bool { return sk[i] < sk[j] })
	abs := make([]time.Duration, len(sk))
	for i, d := range sk {
		abs[i] = d.Abs()
	}
	sort.Slice(abs, func(i, j int) bool { return abs[i] < abs[j] })
	return sk[len(sk)/2], abs[len(abs)*95/100], maxAbs, len(sk)
}

func absDiff(a, b uint32) uint32 {
	if a > b {
		return a - b
	}
	return b - a
}

// With audio delivered 60 ms after video, the interleaver puts both on
// the wire in step (goal: median and max arrival skew at most 5 ms);
// without it, audio trails by the encoder's lag.
func TestRTMPWireInterleave(t *testing.T) {
	pk := testpeers.MakePackets(t, 4)
	for _, c := range []struct {
		name   string
		window time.Duration
	}{{"off", -1}, {"on", 0}} {
		t.Run(c.name, func(t *testing.T) {
			srv := testpeers.StartRTMPServer(t, testpeers.RTMPGood)
			h := start(t, pk, srv.URL(rtmpKey), Options{Interleave: c.window, MaxAttempts: 1})
			for h.p.Stats().State != StateLive {
				time.Sleep(10 * time.Millisecond)
			}
			h.playLagged(audioLag)
			if err := <-h.errc; err != nil {
				t.Fatal(err)
			}
			med, p95, mx, n := skew(srv.Arrivals())
			t.Logf("interleave %s: arrival skew over %d audio messages: median %v, p95 %v, max %v", c.name, n, med, p95, mx)
			if n < 100 {
				t.Fatalf("%d audio messages", n)
			}
			// The median only: the maximum includes this machine's
			// scheduling jitter in feeding the packets (the same with
			// interleaving off), which no sender can remove.
			if c.window >= 0 && med.Abs() > 5*time.Millisecond {
				t.Errorf("skew median %v (max %v), want within 5 ms", med, mx)
			}
			if c.window < 0 && med < audioLag/2 {
				t.Errorf("without interleaving the skew is %v: the test does not model the encoder's lag", med)
			}
		})
	}
}

// The same through nginx: what nginx relays (push) arrives at our server
// in step, so a server that syncs by arrival behind an nginx relay plays
// audio with its video.
func TestRTMPWireInterleaveViaNginx(t *testing.T) {
	pk := testpeers.MakePackets(t, 4)
	for _, c := range []struct {
		name   string
		window time.Duration
	}{{"off", -1}, {"on", 0}} {
		t.Run(c.name, func(t *testing.T) {
			srv := testpeers.StartRTMPServer(t, testpeers.RTMPGood)
			ng := testpeers.StartNginx(t, "relay>"+fmt.Sprintf("rtmp://127.0.0.1:%d/live", srv.Port))
			h := start(t, pk, fmt.Sprintf("rtmp://127.0.0.1:%d/relay/%s", ng.Port, rtmpKey), Options{Interleave: c.window, MaxAttempts: 1})
			for h.p.Stats().State != StateLive {
				time.Sleep(10 * time.Millisecond)
			}
			h.playLagged(audioLag)
			if err := <-h.errc; err != nil {
				t.Fatal(err)
			}
			med, p95, mx, n := skew(srv.Arrivals())
			t.Logf("interleave %s, through nginx: arrival skew over %d audio messages: median %v, p95 %v, max %v", c.name, n, med, p95, mx)
			if n < 100 {
				t.Fatalf("%d audio messages relayed (nginx: %s)", n, ng.ErrorLog())
			}
			if c.window >= 0 && med.Abs() > 5*time.Millisecond {
				t.Errorf("skew median %v (max %v), want within 5 ms", med, mx)
			}
		})
	}
}

// Interleaving keeps DTS order across tracks and holds nothing longer
// than its window when one track stops.
func TestInterleaverOrderAndWindow(t *testing.T) {
	hub := fanout.NewHub()
	q := hub.Add("d", fanout.Policy{Lossless: true})
	info := benchInfo()
	il := newInterleaver(q, info, 100*time.Millisecond)
	ctx := context.Background()
	// Video 0..9 at 33 ms, audio 0..14 at 21 ms, audio handed over after
	// all the video (as a late encoder would), all at once.
	for i := 0; i < 10; i++ {
		hub.Publish(&media.Packet{Kind: media.Video, Key: i == 0, DTS: time.Duration(i) * 33 * time.Millisecond, Duration: 33 * time.Millisecond, Data: []byte{1}})
	}
	for i := 0; i < 15; i++ {
		hub.Publish(&media.Packet{Kind: media.Audio, Key: true, DTS: time.Duration(i) * 21 * time.Millisecond, Duration: 21 * time.Millisecond, Data: []byte{1}})
	}
	var last time.Duration = -1
	var got []string
	for i := 0; i < 25; i++ {
		t0 := time.Now()
		p, ok := il.next(ctx)
		if !ok {
			t.Fatal("ended early")
		}
		if wait := time.Since(t0); wait > 150*time.Millisecond {
			t.Fatalf("packet %d waited %v, over the 100 ms window", i, wait)
		}
		got = append(got, fmt.Sprintf("%v@%v", p.Kind, p.DTS))
		if p.DTS < last {
			t.Fatalf("out of DTS order: %v", got)
		}
		last = p.DTS
	}
	hub.Close()
	if _, ok := il.next(ctx); ok {
		t.Fatal("a packet after the end")
	}
}

// When one track ends (a file read with --fast whose audio is shorter),
// the other is not held back packet after packet: after one window
// without audio, video flows at the source's pace, not paced at real time.
func TestInterleaverTrackEnds(t *testing.T) {
	hub := fanout.NewHub()
	q := hub.Add("d", fanout.Policy{Lossless: true})
	il := newInterleaver(q, benchInfo(), 100*time.Millisecond)
	ctx := context.Background()
	hub.Publish(&media.Packet{Kind: media.Audio, Key: true, DTS: 0, Duration: 21 * time.Millisecond, Data: []byte{1}})
	t0 := time.Now()
	for i := 0; i < 30; i++ {
		hub.Publish(&media.Packet{Kind: media.Video, Key: i == 0, DTS: time.Duration(i) * 33 * time.Millisecond, Data: []byte{1}})
		if _, ok := il.next(ctx); !ok {
			t.Fatal("ended early")
		}
	}
	// Paced at real time that is 1 s; the window alone is 100 ms.
	if d := time.Since(t0); d > 400*time.Millisecond {
		t.Fatalf("30 video frames took %v after the audio ended", d)
	}
}

// The lag window's median is that of the last ilLagPackets values, however
// adds and reads interleave.
func TestLagWindowMedian(t *testing.T) {
	var w lagWindow
	var all []time.Duration
	x := uint32(7)
	for i := 0; i < 500; i++ {
		x = x*1664525 + 1013904223
		v := time.Duration(x%100000) * time.Microsecond
		if i%50 == 49 {
			v = 3 * time.Second // a late packet now and then
		}
		w.add(v)
		all = append(all, v)
		if i%3 == 0 {
			continue // several adds between reads
		}
		last := append([]time.Duration(nil), all[max(0, len(all)-ilLagPackets):]...)
		sort.Slice(last, func(i, j int) bool { return last[i] < last[j] })
		if got, want := w.median(), last[len(last)/2]; got != want {
			t.Fatalf("after %d lags: median %v, want %v", i+1, got, want)
		}
	}
}
