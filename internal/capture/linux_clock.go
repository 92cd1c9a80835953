//go:build linux && cgo

package capture

import (
	"time"
)

// clockKind of a device's timestamps, detected on its first packet.
type clockKind int

const (
	clockUnknown clockKind = iota
	clockMono
	clockReal
	clockArrival // neither: stamp on arrival
)

// toSession maps a device timestamp onto the session timeline.
func (s *linuxSource) toSession(pts time.Duration, kind *clockKind) time.Duration {
	mono, real := hostClocks()
	near := func(ts, now time.Duration) bool { return ts > now-10*time.Second && ts < now+time.Second }
	if *kind == clockUnknown {
		switch {
		case pts != 0 && near(pts, real):
			*kind = clockReal
		case pts != 0 && near(pts, mono):
			*kind = clockMono
		default:
			*kind = clockArrival
		}
	}
	switch *kind {
	case clockMono:
		return pts + s.monoOff
	case clockReal:
		return pts - (real - mono) + s.monoOff
	}
	return mono + s.monoOff
}

// audioSettle holds the first audio back until the device's stamps make
// sense. A sound server reports the latency of a stream that has just
// started from the state of its source before the stream asked for low
// latency: a pulse null sink that was idle renders in 2 s blocks, so its
// monitor's first packets come 1.9 s late, stamped 600 ms in the past, and
// FFmpeg's time filter then takes a second to slew (overshooting into the
// future). Audio is used once the stamps of settleCount packets in a row
// lie in the past by less than maxLatency and agree with each other within
// settleSpread; after settleMax it is used whatever the stamps say.
type audioSettle struct {
	lags []time.Duration
}

const (
	settleCount  = 20
	settleSpread = 20 * time.Millisecond
	maxLatency   = 250 * time.Millisecond
	settleMax    = 4 * time.Second
)

// add takes one packet's stamp relative to its arrival (negative: in the
// past) and reports whether audio can be used from this packet on.
func (a *audioSettle) add(lag, since time.Duration) bool {
	if since > settleMax {
		return true
	}
	if lag > 5*time.Millisecond || lag < -maxLatency {
		a.lags = a.lags[:0]
		return false
	}
	a.lags = append(a.lags, lag)
	if len(a.lags) > settleCount {
		a.lags = a.lags[1:]
	}
	if len(a.lags) < settleCount {
		return false
	}
	lo, hi := a.lags[0], a.lags[0]
	for _, l := range a.lags {
		lo, hi = min(lo, l), max(hi, l)
	}
	return hi-lo <= settleSpread
}
