package publish

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/livecap/livecap/internal/media"
	"github.com/livecap/livecap/internal/testpeers"
)

const srtPass = "PaSsPhRaSe-0123"

func TestMain(m *testing.M) {
	code := m.Run()
	Cleanup()
	os.Exit(code)
}

func TestSRTToListener(t *testing.T) {
	for _, pass := range []string{"", srtPass} {
		name := "plain"
		if pass != "" {
			name = "passphrase"
		}
		t.Run(name, func(t *testing.T) {
			l := testpeers.StartSRTListener(t, pass)
			pk := testpeers.MakePackets(t, 4)
			q := "streamid=SeCrEtId&latency=120"
			if pass != "" {
				q += "&passphrase=" + pass
			}
			h := start(t, pk, l.URL(q), Options{})
			t0 := time.Now()
			if err := h.play(context.Background()); err != nil {
				t.Fatalf("Run: %v", err)
			}
			// No wait here: Run lingers until the listener has played out
			// the tail, so every frame sent is in the file now.
			t.Logf("play + linger took %v for %v of media", time.Since(t0), pk.Packets[len(pk.Packets)-1].DTS)
			l.Stop()
			video, audio := 0, 0
			for _, p := range pk.Packets {
				if p.Kind == media.Video {
					video++
				} else if p.PTS >= 0 {
					audio++
				}
			}
			r := checkDecodes(t, l.Out, 90)
			t.Logf("received %v frames of %d video, %d audio; first packets at %v", r.Frames, video, audio, r.First)
			if r.Frames["video"] != video {
				t.Errorf("tail lost: %d of %d video frames arrived", r.Frames["video"], video)
			}
			h.checkLatency()
			h.noSecrets(srtPass, "SeCrEtId")
		})
	}
}

func TestSRTWrongPassphrase(t *testing.T) {
	l := testpeers.StartSRTListener(t, srtPass)
	pk := testpeers.MakePackets(t, 1)
	h := start(t, pk, l.URL("passphrase=WrongPassphrase9"), Options{MaxAttempts: 2, Backoff: Backoff{Initial: 50 * time.Millisecond}, ConnectTimeout: 3 * time.Second})
	var err error
	select {
	case err = <-h.errc:
	case <-time.After(15 * time.Second):
		t.Fatal("Run did not give up")
	}
	if err == nil || !strings.Contains(err.Error(), "gave up") || strings.Contains(err.Error(), "WrongPassphrase9") {
		t.Fatalf("error %v", err)
	}
	t.Logf("error: %v", err)
	h.noSecrets("WrongPassphrase9", srtPass)
}
