// Package clock owns the session's single timeline: a base instant taken at
// start, and the conversion of every source's timestamps onto it.
package clock

import (
	"sync/atomic"
	"time"
)

// Clock reports time elapsed since the session's base instant.
type Clock interface {
	Now() time.Duration
}

// Host is the real monotonic host clock, relative to the instant it was
// created (the base instant).
type Host struct{ base time.Time }

// NewHost takes the base instant now.
func NewHost() *Host { return &Host{base: time.Now()} }

// NewHostAt uses the given instant as base.
func NewHostAt(base time.Time) *Host { return &Host{base: base} }

// Now returns the monotonic time since base.
func (h *Host) Now() time.Duration { return time.Since(h.base) }

// Base returns the base instant.
func (h *Host) Base() time.Time { return h.base }

// Virtual is a clock that only moves when told to. Fast (not real-time)
// runs of the test source drive it, so that media time, not wall time,
// orders everything.
type Virtual struct{ now atomic.Int64 }

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
