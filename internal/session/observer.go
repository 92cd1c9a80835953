package session

import (
	"sync"

	"github.com/livecap/livecap/internal/hooks"
	"github.com/livecap/livecap/internal/publish"
	"github.com/livecap/livecap/internal/record"
)

// publishEvent forwards a destination's event and wakes what waits for a
// destination's state to change.
func (s *Session) publishEvent(e publish.Event) {
	s.obs.Publish(e)
	select {
	case s.changed <- struct{}{}:
	default:
	}
}

// gate passes events on until it is closed (after stopped): stopped is
// the last event of a run, even when a second signal leaves goroutines
// behind it that are still finishing.
type gate struct {
	mu     sync.RWMutex
	closed bool
	next   Observer
}

func (g *gate) close() { g.mu.Lock(); g.closed = true; g.mu.Unlock() }

func (g *gate) do(f func(Observer)) {
	g.mu.RLock()
	defer g.mu.RUnlock()
	if !g.closed {
		f(g.next)
	}
}

func (g *gate) Session(e Event)         { g.do(func(o Observer) { o.Session(e) }) }
func (g *gate) Record(e record.Event)   { g.do(func(o Observer) { o.Record(e) }) }
func (g *gate) Publish(e publish.Event) { g.do(func(o Observer) { o.Publish(e) }) }
func (g *gate) Hook(e hooks.Event)      { g.do(func(o Observer) { o.Hook(e) }) }

type nopObserver struct{}

func (nopObserver) Session(Event)         {}
func (nopObserver) Record(record.Event)   {}
func (nopObserver) Publish(publish.Event) {}
func (nopObserver) Hook(hooks.Event)      {}
