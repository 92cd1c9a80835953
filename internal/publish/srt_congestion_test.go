package publish

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/livecap/livecap/internal/media"
	"github.com/livecap/livecap/internal/testpeers"
)

// TestSRTCongestionShedsGOPs streams 6 Mbit/s through a 1 Mbit/s link to
// srt-live-transmit: livecap must shed whole GOPs in its own queue (and
// report them), not let libsrt send what the receiver then drops, and the
// listener must receive a stream that decodes without errors.
func TestSRTCongestionShedsGOPs(t *testing.T) {
	const secs = 12
	pk := testpeers.MakePacketsCBR(t, secs, 640, 360, 6_000_000)
	l := testpeers.StartSRTListener(t, "")
	// Our own 1 Mbit/s link, with a router buffer of 2 s (256 KB).
	link, err := testpeers.NewUDPLink(l.Port, 1_000_000, 256<<10)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(link.Close)
	// A latency that one keyframe fits in at this link rate (a 6 Mbit/s
	// keyframe takes about a second at 1 Mbit/s).
	url := "srt://127.0.0.1:" + strconv.Itoa(link.Port) + "?latency=3000"
	h := start(t, pk, url, Options{WriteTimeout: 20 * time.Second})
	var st Stats
	var sentV int
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
	defer cancel()
	h.pk.Play(ctx, h.hub)
	st = h.p.Stats()
	// The link comes back to full speed for the end, so that the stop is
	// graceful: what is queued goes out whole (a stop that cuts a frame
	// short would be a decode error of its own).
	link.SetRate(1_000_000_000)
	h.hub.Close()
	select {
	case err := <-h.errc:
		if err != nil {
			t.Fatalf("Run: %v", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("Run did not end after the stream did")
	}
	l.Stop()
	if fin := h.p.Stats(); fin.Link != nil {
		t.Logf("after the link came back for the end: %s, %d sent", fin.Link.Short(), fin.Link.SentPackets)
	}
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
	t.Logf("during congestion: sent %d video frames at 6 Mbit/s through 1 Mbit/s; queue dropped %d video + %d audio (%d frames_dropped events); link: %s, %d sent; relay forwarded %d, dropped %d datagrams (all run)",
		sentV, st.Queue.DroppedVideo, st.Queue.DroppedAudio, h.count(EventFramesDropped), lk.Short(), lk.SentPackets, link.Forwarded.Load(), link.Dropped.Load())
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
