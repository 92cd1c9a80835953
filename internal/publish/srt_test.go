package publish

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

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
			if err := h.play(context.Background()); err != nil {
				t.Fatalf("Run: %v", err)
			}
			time.Sleep(500 * time.Millisecond) // the listener's latency buffer
			l.Stop()
			r := checkDecodes(t, l.Out, 90)
			t.Logf("received %v frames; first packets at %v", r.Frames, r.First)
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
