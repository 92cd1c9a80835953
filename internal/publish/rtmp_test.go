package publish

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/livecap/livecap/internal/testpeers"
)

const rtmpKey = "SeCrEtStreamKey42"

func TestRTMPToNginx(t *testing.T) {
	ng := testpeers.StartNginx(t)
	pk := testpeers.MakePackets(t, 4)
	h := start(t, pk, ng.URL(rtmpKey+"?auth=TokEnXyz"), Options{})
	if err := h.play(context.Background()); err != nil {
		t.Fatalf("Run: %v", err)
	}
	ng.Stop()
	recs := ng.Recordings()
	if len(recs) != 1 {
		t.Fatalf("recordings: %v", recs)
	}
	r := checkDecodes(t, recs[0], 100)
	t.Logf("recorded %v frames, first packets %v", r.Frames, r.First)
	if st := h.p.Stats(); st.BytesSent == 0 || st.State != StateStopped {
		t.Errorf("stats %+v", st)
	}
	if pk.KeyRequests.Load() == 0 {
		t.Error("no keyframe requested after connect")
	}
	h.checkLatency()
	h.noSecrets(rtmpKey, "TokEnXyz")
}

func TestRTMPRefused(t *testing.T) {
	ng := testpeers.StartNginx(t)
	pk := testpeers.MakePackets(t, 1)
	cases := map[string]struct{ url, want string }{
		"unknown app":        {strings.Replace(ng.URL(rtmpKey), "/live/", "/nosuchapp/", 1), "application"},
		"connection refused": {"rtmp://127.0.0.1:1/live/" + rtmpKey, "refused"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			h := start(t, pk, c.url, Options{MaxAttempts: 2, Backoff: Backoff{Initial: 50 * time.Millisecond}, ConnectTimeout: 3 * time.Second})
			var err error
			select {
			case err = <-h.errc:
			case <-time.After(10 * time.Second):
				t.Fatal("Run did not give up")
			}
			if err == nil || !strings.Contains(err.Error(), "gave up after 2 attempts") || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want gave up ... %s", err, c.want)
			}
			if strings.Contains(err.Error(), rtmpKey) || strings.Contains(err.Error(), "\n") {
				t.Fatalf("error leaks the key or spans lines: %q", err)
			}
			t.Logf("error: %v", err)
			if h.count(EventGaveUp) != 1 {
				t.Error("no gave_up event")
			}
			h.noSecrets(rtmpKey)
		})
	}
}

// The server is killed mid-stream and comes back: the publisher reconnects
// and the new recording starts on a keyframe and decodes.
func TestRTMPServerRestart(t *testing.T) {
	ng := testpeers.StartNginx(t)
	pk := testpeers.MakePackets(t, 8)
	h := start(t, pk, ng.URL(rtmpKey), Options{})
	restarted := make(chan struct{})
	go func() {
		defer close(restarted)
		time.Sleep(2500 * time.Millisecond)
		ng.Kill()
		time.Sleep(1500 * time.Millisecond)
		ng.Start()
	}()
	if err := h.play(context.Background()); err != nil {
		t.Fatalf("Run: %v", err)
	}
	<-restarted
	ng.Stop()
	recs := ng.Recordings()
	if len(recs) != 2 {
		t.Fatalf("want 2 recordings (before and after the restart), got %v", recs)
	}
	checkDecodes(t, recs[1], 30)
	if h.count(EventLost) == 0 || h.count(EventConnected) != 2 {
		t.Errorf("events: lost %d connected %d", h.count(EventLost), h.count(EventConnected))
	}
	if st := h.p.Stats(); st.Reconnects != 1 {
		t.Errorf("reconnects %d", st.Reconnects)
	}
	h.noSecrets(rtmpKey)
}

// A peer that stops reading: the write deadline recycles the connection,
// the queue stays within its bounds, and the stream resumes.
func TestRTMPStalledPeer(t *testing.T) {
	stall := 30 * time.Second
	if testing.Short() {
		stall = 8 * time.Second
	}
	ng := testpeers.StartNginx(t)
	px := testpeers.StartProxy(t, ng.Port)
	pk := testpeers.MakePackets(t, int(stall/time.Second)+8)
	url := strings.Replace(ng.URL(rtmpKey), ":"+itoa(ng.Port)+"/", ":"+itoa(px.Port)+"/", 1)
	h := start(t, pk, url, Options{WriteTimeout: 3 * time.Second, ConnectTimeout: 3 * time.Second, SendBuffer: 32 << 10})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	maxQueued := 0
	monitored := make(chan struct{})
	go func() {
		defer close(monitored)
		time.Sleep(2 * time.Second)
		px.Stall(stall)
		for ctx.Err() == nil {
			if b := h.q.Stats().Bytes; b > maxQueued {
				maxQueued = b
			}
			time.Sleep(100 * time.Millisecond)
		}
	}()
	if err := h.play(ctx); err != nil {
		t.Fatalf("Run: %v", err)
	}
	cancel()
	<-monitored
	ng.Stop()
	recs := ng.Recordings()
	if len(recs) < 2 {
		t.Fatalf("want a new recording after the stall, got %v", recs)
	}
	checkDecodes(t, recs[len(recs)-1], 30)
	st := h.p.Stats()
	if pol := DefaultPolicy(); maxQueued > pol.MaxBytes || st.Queue.DroppedVideo == 0 {
		t.Errorf("queue peaked at %d bytes, dropped %d video frames", maxQueued, st.Queue.DroppedVideo)
	}
	t.Logf("stall %v: queue peak %d bytes, dropped %d video %d audio, reconnects %d, frames_dropped events %d", stall, maxQueued, st.Queue.DroppedVideo, st.Queue.DroppedAudio, st.Reconnects, h.count(EventFramesDropped))
	// The stalled connection was reset (SO_LINGER 0), not closed
	// gracefully: no stale media kept the old publish alive, so the ingest
	// never refused the reconnect as "Already publishing".
	h.evMu.Lock()
	for _, e := range h.events {
		if strings.Contains(e.Error, "already being published") {
			t.Errorf("%s: %s", e.Type, e.Error)
		}
	}
	h.evMu.Unlock()
	// The queue shed while the peer was stalled: reported as it happened.
	if h.count(EventFramesDropped) == 0 {
		t.Error("no frames_dropped event while the queue shed")
	}
	h.noSecrets(rtmpKey)
}

func itoa(n int) string { return strconv.Itoa(n) }

// The usual quick receiver: ffmpeg -listen 1. It sends onFCPublish without
// a transaction id; the stream must get through, and both FFmpeg and
// GStreamer must decode what it wrote.
func TestRTMPToFFmpegListen(t *testing.T) {
	ff := testpeers.StartFFmpegListener(t, "/live/"+rtmpKey)
	time.Sleep(300 * time.Millisecond) // it has one connection: no probing
	pk := testpeers.MakePackets(t, 4)
	h := start(t, pk, ff.URL("/live/"+rtmpKey), Options{Backoff: Backoff{Initial: 200 * time.Millisecond}})
	if err := h.play(context.Background()); err != nil {
		t.Fatalf("Run: %v", err)
	}
	if err := ff.Wait(10 * time.Second); err != nil {
		t.Fatalf("ffmpeg: %v\n%s", err, ff.Log)
	}
	r := checkDecodes(t, ff.Out, 100)
	v, a := testpeers.GstFrames(t, ff.Out)
	t.Logf("ffprobe %v; GStreamer decoded %d video %d audio", r.Frames, v, a)
	if v < 100 || a < 100 {
		t.Errorf("GStreamer decoded %d video, %d audio frames", v, a)
	}
	if h.count(EventConnected) != 1 {
		t.Errorf("connected %d times", h.count(EventConnected))
	}
	h.noSecrets(rtmpKey)
}

// A one-segment URL (rtmp://host/mystream, MediaMTX's form): the segment is
// the application and the publish name is empty, as FFmpeg sends it.
func TestRTMPOneSegmentURL(t *testing.T) {
	ng := testpeers.StartNginx(t, "mystream")
	pk := testpeers.MakePackets(t, 2)
	h := start(t, pk, "rtmp://127.0.0.1:"+itoa(ng.Port)+"/mystream", Options{MaxAttempts: 1})
	if err := h.play(context.Background()); err != nil {
		t.Fatalf("Run: %v\n%s", err, ng.ErrorLog())
	}
	ng.Stop()
	recs := ng.Recordings()
	if len(recs) != 1 {
		t.Fatalf("recordings: %v", recs)
	}
	checkDecodes(t, recs[0], 50)
	if p := h.p.Name(); strings.Contains(p, "mystream") {
		t.Errorf("name %q shows the one segment", p)
	}
}

// nginx's "deny publish": the connection is accepted and the publish
// refused. It is a failed attempt like any other: the backoff grows and
// MaxAttempts ends it, and the error says the publish was refused.
func TestRTMPDenyPublish(t *testing.T) {
	ng := testpeers.StartNginx(t, "denied")
	pk := testpeers.MakePackets(t, 1)
	h := start(t, pk, "rtmp://127.0.0.1:"+itoa(ng.Port)+"/denied/"+rtmpKey, Options{MaxAttempts: 3, Backoff: Backoff{Initial: 50 * time.Millisecond}})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go h.playLoop(ctx)
	var err error
	select {
	case err = <-h.errc:
	case <-time.After(20 * time.Second):
		t.Fatal("Run did not give up")
	}
	if err == nil || !strings.Contains(err.Error(), "gave up after 3 attempts") || !strings.Contains(err.Error(), "accepted the publish, then dropped it") {
		t.Fatalf("error %v\n%s", err, ng.ErrorLog())
	}
	t.Logf("error: %v; connected %d lost %d reconnecting %d", err, h.count(EventConnected), h.count(EventLost), h.count(EventReconnecting))
	h.noSecrets(rtmpKey)
}

// rtmps through a TLS front (nginx-rtmp has no TLS of its own): the
// certificate is verified against Options.TLSConfig's roots, messages go
// through one buffered TLS writer, and nginx records a stream that FFmpeg
// and GStreamer decode. An untrusted certificate is refused and says so.
func TestRTMPSToNginx(t *testing.T) {
	ng := testpeers.StartNginx(t)
	term := testpeers.StartTLSTerminator(t, ng.Port)
	caPEM, err := os.ReadFile(term.CAFile)
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(caPEM)
	pk := testpeers.MakePackets(t, 3)
	h := start(t, pk, term.URL("live", rtmpKey), Options{TLSConfig: &tls.Config{RootCAs: roots}})
	if err := h.play(context.Background()); err != nil {
		t.Fatalf("Run: %v", err)
	}
	ng.Stop()
	recs := ng.Recordings()
	if len(recs) != 1 {
		t.Fatalf("recordings %v; stats %+v; log %s", recs, h.p.Stats(), h.logBuf.String())
	}
	checkDecodes(t, recs[0], 80)
	if v, a := testpeers.GstFrames(t, recs[0]); v < 80 || a < 80 {
		t.Errorf("GStreamer decoded %d video %d audio", v, a)
	}
	h.noSecrets(rtmpKey)

	u := start(t, pk, term.URL("live", rtmpKey), Options{MaxAttempts: 1})
	select {
	case err := <-u.errc:
		if err == nil || !strings.Contains(err.Error(), "tls handshake") || !strings.Contains(err.Error(), "certificate") {
			t.Fatalf("untrusted certificate: %v", err)
		}
		t.Logf("untrusted: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("no refusal")
	}
}
