package publish

import (
	"context"
	"errors"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/livecap/livecap/internal/fanout"
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

// failingSession accepts nothing: its first write fails, as a connection
// that breaks under a batch does.
type failingSession struct{ writes atomic.Int32 }

func (f *failingSession) write(*media.Packet) (bool, error) { return false, errors.New("broken pipe") }
func (f *failingSession) writeBatch(ps []*media.Packet, sent []bool) error {
	f.writes.Add(1)
	return errors.New("broken pipe")
}
func (f *failingSession) sent() uint64 { return 0 }
func (f *failingSession) close()       {}

// The packets of a batch whose write failed are counted as dropped (and
// reported): a broken connection loses them, never silently.
func TestFailedBatchCountsAsDropped(t *testing.T) {
	d, _ := ParseDestination("rtmp://127.0.0.1/live/batch")
	var evMu sync.Mutex
	var evs []Event
	pub, err := New(d, Options{Info: benchInfo(), Log: zerolog.Nop(), MaxAttempts: 1, Backoff: Backoff{Initial: time.Millisecond},
		Events: func(e Event) { evMu.Lock(); evs = append(evs, e); evMu.Unlock() }})
	if err != nil {
		t.Fatal(err)
	}
	p := pub.(*publisher)
	fs := &failingSession{}
	p.c = sessionConnector{fs}
	hub := fanout.NewHub()
	q := hub.Add(p.Name(), DefaultPolicy())
	var video, audio uint64
	for i := 0; i < 10; i++ { // queued before the publisher runs: one batch
		ts := time.Duration(i) * time.Second / 30
		v := benchAU()
		v.Key, v.DTS, v.PTS = i == 0, ts, ts
		hub.Publish(v)
		hub.Publish(&media.Packet{Kind: media.Audio, Key: true, DTS: ts, PTS: ts, Data: make([]byte, 300)})
		video++
		audio++
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx, q) }()
	// The first batch (everything queued) fails and the destination gives
	// up (MaxAttempts 1).
	if err := <-done; err == nil {
		t.Fatal("Run returned nil, want a gave-up error")
	}
	hub.Close()
	st := q.Stats()
	if st.DroppedVideo != video || st.DroppedAudio != audio {
		t.Fatalf("dropped %d video %d audio after %d failed writes, want all %d and %d", st.DroppedVideo, st.DroppedAudio, fs.writes.Load(), video, audio)
	}
	if w := fs.writes.Load(); w != 1 {
		t.Fatalf("%d writes, want 1 batch", w)
	}
	evMu.Lock()
	defer evMu.Unlock()
	for _, e := range evs {
		if e.Type == EventFramesDropped && e.DroppedVideo == video && e.DroppedAudio == audio {
			return
		}
	}
	t.Fatalf("no frames_dropped event with %d video %d audio: %+v", video, audio, evs)
}
