package publish

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/livecap/livecap/internal/fanout"
	"github.com/livecap/livecap/internal/media"
)

// panicky is a session (or connector) that panics where a buggy protocol
// implementation could.
type panicky struct {
	inConnect bool
	writes    int
}

func (p *panicky) connect(context.Context) (session, error) {
	if p.inConnect {
		panic("boom in connect rtmp://h/app/SECRETKEY")
	}
	return p, nil
}

func (p *panicky) write(*media.Packet) (bool, error) {
	if p.writes++; p.writes > 3 {
		var m map[string]int
		m["x"]++ // a nil map write, as a real bug would
	}
	return true, nil
}

func (p *panicky) sent() uint64 { return 0 }
func (p *panicky) close()       {}

// A panic in a destination's code is that destination's error: logged
// (redacted), retried with backoff, and the process goes on.
func TestPanicIsTheDestinationsError(t *testing.T) {
	for _, inConnect := range []bool{true, false} {
		d, _ := ParseDestination("rtmp://127.0.0.1/app/SECRETKEY")
		var log syncBuf
		pub, err := New(d, Options{Info: benchInfo(), Log: zerolog.New(&log), MaxAttempts: 2, StableAfter: time.Hour,
			Backoff: Backoff{Initial: 10 * time.Millisecond}})
		if err != nil {
			t.Fatal(err)
		}
		p := pub.(*publisher)
		p.c = &panicky{inConnect: inConnect}
		hub := fanout.NewHub()
		q := hub.Add(p.Name(), DefaultPolicy())
		go func() {
			for i := 0; i < 200; i++ {
				hub.Publish(&media.Packet{Kind: media.Video, Key: i%30 == 0, DTS: time.Duration(i) * 33 * time.Millisecond, Data: []byte{0, 0, 0, 1, 0x65}})
				time.Sleep(2 * time.Millisecond)
			}
		}()
		err = p.Run(context.Background(), q)
		if err == nil || !strings.Contains(err.Error(), "gave up after 2 attempts") || !strings.Contains(err.Error(), "internal error while") {
			t.Fatalf("inConnect=%v: %v", inConnect, err)
		}
		if strings.Contains(err.Error()+log.String(), "SECRETKEY") {
			t.Errorf("the key leaks: %v\n%s", err, log.String())
		}
		if !strings.Contains(log.String(), "panic") || !strings.Contains(log.String(), "stack") {
			t.Errorf("the panic is not logged with its stack:\n%s", log.String())
		}
		t.Logf("inConnect=%v: %v", inConnect, err)
	}
}
