// Package meter turns running counters (bytes sent, frames encoded) into
// rates averaged over a sliding window, for the status line and stats: the
// one rate meter of the status line and of every destination.
package meter

import "time"

type sample struct {
	t     time.Time
	total uint64
}

// Rate is the per-second rate of a counter over the last Window (at least
// the last two readings). The zero value needs Window set; not safe for
// concurrent use.
type Rate struct {
	// Window is how far back the average reaches: long enough that a
	// keyframe every two seconds does not make a bit rate jump.
	Window  time.Duration
	samples []sample // oldest first
	rate    float64
}

// Update records the counter's value at now and returns the rate per
// second over the window. A counter that went backwards (a new
// connection) starts the window again.
func (r *Rate) Update(now time.Time, total uint64) float64 {
	if n := len(r.samples); n > 0 && total < r.samples[n-1].total {
		r.samples = r.samples[:0]
	}
	r.samples = append(r.samples, sample{t: now, total: total})
	for len(r.samples) > 2 && now.Sub(r.samples[1].t) >= r.Window {
		r.samples = r.samples[1:]
	}
	first := r.samples[0]
	if dt := now.Sub(first.t).Seconds(); dt > 0 {
		r.rate = float64(total-first.total) / dt
	}
	return r.rate
}
