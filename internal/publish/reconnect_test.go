package publish

import (
	"context"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/livecap/livecap/internal/fanout"
)

// Reconnect cuts a 1-minute backoff short: the next attempt reaches a real
// listener on 127.0.0.1 long before the backoff would have ended.
func TestReconnectCutsBackoff(t *testing.T) {
	// A port that refuses: bind, note it, close.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	d, err := ParseDestination("rtmp://" + addr + "/live/key")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var evs []Event
	p, err := New(d, Options{Info: benchInfo(), Log: zerolog.Nop(), Backoff: Backoff{Initial: time.Minute, Max: time.Minute},
		Events: func(e Event) { mu.Lock(); evs = append(evs, e); mu.Unlock() }})
	if err != nil {
		t.Fatal(err)
	}
	if p.(Reconnecter).Reconnect() {
		t.Error("Reconnect before Run reported a wait cut short")
	}
	hub := fanout.NewHub()
	q := hub.Add(p.Name(), DefaultPolicy())
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx, q) }()
	waitFor := func(what string, cond func() bool) {
		t.Helper()
		for i := 0; !cond(); i++ {
			if i > 2000 {
				t.Fatalf("timed out waiting for %s", what)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	waitFor("retrying", func() bool { return p.Stats().State == StateRetrying })
	// Something now listens there (a plain TCP accept counts as an attempt).
	ln2, err := net.Listen("tcp", addr)
	if err != nil {
		t.Skipf("port %s taken meanwhile: %v", addr, err)
	}
	defer ln2.Close()
	accepted := make(chan struct{})
	go func() {
		if c, err := ln2.Accept(); err == nil {
			close(accepted)
			c.Close()
		}
	}()
	if !p.(Reconnecter).Reconnect() {
		t.Fatal("Reconnect of a retrying destination reported nothing to cut")
	}
	select {
	case <-accepted:
	case <-time.After(30 * time.Second): // the backoff is a minute
		t.Fatal("Reconnect did not start an attempt")
	}
	cancel()
	hub.Close()
	<-done
}
