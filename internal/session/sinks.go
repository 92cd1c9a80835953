package session

import (
	"context"
	"sync"
	"time"

	"github.com/livecap/livecap/internal/publish"
)

// sinks is the state of the recorder and destinations of a running session.
type sinks struct {
	wg        sync.WaitGroup
	mu        sync.Mutex
	recErr    error
	recActive bool
	pubActive int
	pubErrs   []error
	cancels   []context.CancelFunc
}

// drain waits for the sinks to finish what they hold: a live destination
// gets up to drainTimeout, one that is not live is stopped at once (it has
// nowhere to send).
func (s *Session) drain(sk *sinks, pubs []publish.Publisher, cancelAll context.CancelFunc) {
	drained := make(chan struct{})
	go func() { sk.wg.Wait(); close(drained) }()
	deadline := time.NewTimer(drainTimeout)
	defer deadline.Stop()
	for {
		for i, p := range pubs {
			if p.Stats().State != publish.StateLive {
				sk.cancels[i]()
			}
		}
		select {
		case <-drained:
			return
		case <-deadline.C:
			cancelAll()
			<-drained
			return
		case <-s.changed:
		}
	}
}

// waitLive waits until every publisher is live, or max has passed.
func (s *Session) waitLive(ctx context.Context, pubs []publish.Publisher, max time.Duration) {
	t := time.NewTimer(max)
	defer t.Stop()
	for {
		live := true
		for _, p := range pubs {
			live = live && p.Stats().State == publish.StateLive
		}
		if live {
			return
		}
		select {
		case <-s.changed:
		case <-t.C:
			return
		case <-ctx.Done():
			return
		}
	}
}
