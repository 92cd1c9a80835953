// Package clocktest provides a session clock for tests that run media
// faster than real time.
package clocktest

import (
	"sync/atomic"
	"time"

	"github.com/livecap/livecap/internal/clock"
)

// Virtual is a clock that only moves when told to. A fast (not real-time)
// test source advances it to each item's delivery instant (see
// testsrc.Options.Clock), so that media time, not wall time, orders
// everything that stamps times from it.
type Virtual struct{ now atomic.Int64 }

var _ clock.Clock = (*Virtual)(nil)

// Now returns the virtual time.
func (v *Virtual) Now() time.Duration { return time.Duration(v.now.Load()) }

// Set moves the virtual clock to t; it never goes backwards.
func (v *Virtual) Set(t time.Duration) {
	for {
		cur := v.now.Load()
		if int64(t) <= cur || v.now.CompareAndSwap(cur, int64(t)) {
			return
		}
	}
}
