// Package clock owns the session's single timeline: a base instant taken at
// start, and the conversion of every source's timestamps onto it.
package clock

import "time"

// Clock reports time elapsed since the session's base instant. It is the
// one clock type of the program: capture sources, the pipeline, the input
// reader and the publishers all take it. Host is the implementation;
// clocktest.Virtual is the one tests drive.
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
