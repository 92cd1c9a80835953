package publish

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/livecap/livecap/internal/media"
	"github.com/livecap/livecap/internal/testpeers"
)

// playFast feeds the packets as fast as the destination takes them, the
// way --input --fast does (WaitRoom's back-pressure, sinks woken per batch
// of 32), then ends the stream and waits for the publisher to return.
func (h *harness) playFast(ctx context.Context) error {
	for _, pk := range h.pk.Packets {
		if err := h.hub.WaitRoom(ctx); err != nil {
			return err
		}
		c := *pk
		c.Encoded = h.clk.Now()
		h.hub.Publish(&c)
	}
	h.hub.Close()
	select {
	case err := <-h.errc:
		return err
	case <-time.After(30 * time.Second):
		h.cancel()
		return <-h.errc
	}
}

// A backlog (a file read as fast as possible) goes out in batches: the
// access units already queued share one writev, far fewer writes than
// packets, and nginx records every frame, decodable by FFmpeg and
// GStreamer, timestamps in order.
func TestRTMPBacklogGoesOutInBatches(t *testing.T) {
	ng := testpeers.StartNginx(t)
	const secs = 20
	pk := testpeers.MakePackets(t, secs)
	h := start(t, pk, ng.URL(rtmpKey), Options{})
	h.hub.Batch(32)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := h.playFast(ctx); err != nil {
		t.Fatalf("Run: %v", err)
	}
	// nginx is still reading what the last writes put in the socket
	// buffers: stopping it now would cut the recording short.
	settle(t, ng)
	ng.Stop()
	recs := ng.Recordings()
	if len(recs) != 1 {
		t.Fatalf("recordings: %v", recs)
	}
	var video, audio int
	for _, p := range pk.Packets {
		if p.Kind == media.Video {
			video++
		} else {
			audio++
		}
	}
	r := checkDecodes(t, recs[0], video)
	gv, ga := testpeers.GstFrames(t, recs[0])
	st := h.p.Stats()
	t.Logf("%d packets (%d video, %d audio) in %d writes; ffprobe %v, GStreamer %d video %d audio; latency %v", len(pk.Packets), video, audio, st.Writes, r.Frames, gv, ga, st.Latency)
	if st.Queue.DroppedVideo+st.Queue.DroppedAudio != 0 {
		t.Errorf("dropped %d video %d audio under back-pressure", st.Queue.DroppedVideo, st.Queue.DroppedAudio)
	}
	if gv != video {
		t.Errorf("GStreamer decoded %d video frames, want %d", gv, video)
	}
	if st.Writes == 0 || st.Writes > uint64(len(pk.Packets))/4 {
		t.Errorf("%d writes for %d packets queued as a backlog, want at most a quarter", st.Writes, len(pk.Packets))
	}
	h.checkLatency()
}

// settle waits until nginx's recordings stop growing (for half a second).
func settle(t *testing.T, ng *testpeers.Nginx) {
	t.Helper()
	size := func() (n int64) {
		for _, r := range ng.Recordings() {
			if fi, err := os.Stat(r); err == nil {
				n += fi.Size()
			}
		}
		return n
	}
	last, since := size(), time.Now()
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if n := size(); n != last {
			last, since = n, time.Now()
		} else if time.Since(since) > 500*time.Millisecond {
			return
		}
	}
	t.Fatal("nginx's recording is still growing after 20 s")
}
