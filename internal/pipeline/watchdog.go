package pipeline

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/livecap/livecap/internal/capture"
)

// Watchdog notices a source that stops delivering: a camera unplugged or
// asleep, a capture session that failed, screen sharing stopped from the
// menu bar, a test source starved of CPU. Media of one kind (video or
// audio) that has not arrived for Lost is reported (OnLost, the status
// line); if it has not come back GiveUp later the pipeline stops
// gracefully (encoders drained, sinks finished) with an error wrapping
// capture.ErrSourceLost (exit code 4).
type Watchdog struct {
	Lost   time.Duration // 0: DefaultLost; < 0: no watchdog (fast runs)
	GiveUp time.Duration // 0: DefaultGiveUp
	// OnLost is called once per loss, with the kind ("video" or "audio"),
	// how long nothing has arrived, and why, when the source knows
	// (capture.LossReporter); OnBack when media of that kind arrives again.
	// Both must not block.
	OnLost func(kind string, gap time.Duration, reason string)
	OnBack func(kind string, gap time.Duration)
}

// Watchdog defaults (documented in docs/events.md, source_lost).
const (
	DefaultLost   = 3 * time.Second
	DefaultGiveUp = 10 * time.Second
	// firstMediaGrace: a camera takes a moment to deliver its first frame.
	firstMediaGrace = 5 * time.Second
)

// watch is the state of one watched kind.
type watch struct {
	kind string
	last atomic.Int64 // time.Now().UnixNano() of the last delivery
	lost atomic.Bool
	mu   sync.Mutex // orders OnLost before OnBack
	at   time.Time  // when the loss began (the last delivery)
}

// seen records a delivery; a lost kind is back.
func (w *watch) seen(wd *Watchdog) {
	now := time.Now()
	w.last.Store(now.UnixNano())
	if !w.lost.Load() {
		return
	}
	w.mu.Lock()
	if w.lost.Load() {
		w.lost.Store(false)
		if wd.OnBack != nil {
			wd.OnBack(w.kind, now.Sub(w.at))
		}
	}
	w.mu.Unlock()
}

// lostKinds is what the status line shows: "video", "audio",
// "video+audio", or "".
func (p *Pipeline) lostKinds() string {
	var k []string
	for _, w := range p.watches {
		if w.lost.Load() {
			k = append(k, w.kind)
		}
	}
	return strings.Join(k, "+")
}

// startWatchdog watches the kinds the pipeline encodes until ctx is done;
// on give-up it calls fail, which stops the run.
func (p *Pipeline) startWatchdog(ctx context.Context, fail func(error)) {
	wd := p.cfg.Watchdog
	p.wd = wd
	if wd.Lost < 0 {
		return
	}
	if wd.Lost == 0 {
		wd.Lost = DefaultLost
	}
	if wd.GiveUp <= 0 {
		wd.GiveUp = DefaultGiveUp
	}
	p.wd = wd
	grace := time.Now().Add(firstMediaGrace).UnixNano()
	for _, w := range p.watches {
		w.last.Store(grace)
	}
	tick := wd.Lost / 4
	if tick > 250*time.Millisecond {
		tick = 250 * time.Millisecond
	}
	go func() {
		t := time.NewTicker(tick)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case now := <-t.C:
				for _, w := range p.watches {
					last := time.Unix(0, w.last.Load())
					gap := now.Sub(last)
					if gap < wd.Lost {
						continue
					}
					w.mu.Lock()
					if !w.lost.Load() && w.last.Load() == last.UnixNano() {
						w.lost.Store(true)
						w.at = last
						if wd.OnLost != nil {
							wd.OnLost(w.kind, gap, p.lossReason())
						}
					}
					w.mu.Unlock()
					if w.lost.Load() && gap >= wd.Lost+wd.GiveUp {
						msg := fmt.Sprintf("no %s from the source for %v", w.kind, gap.Round(100*time.Millisecond))
						if r := p.lossReason(); r != "" {
							msg += ": " + r
						}
						fail(fmt.Errorf("%w: %s", capture.ErrSourceLost, msg))
						return
					}
				}
			}
		}
	}()
}

func (p *Pipeline) lossReason() string {
	if r, ok := p.cfg.Source.(capture.LossReporter); ok {
		return r.LostReason()
	}
	return ""
}
