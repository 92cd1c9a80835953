package capture

import "time"

// frameRepeater keeps a screen source at its configured rate. ScreenCaptureKit
// sends a picture only when the screen changes (idle frames carry no
// pixels), so a static screen would give no video for minutes, and the
// recorder's segments and the stream's keyframe cadence would overrun. When
// a frame is one interval overdue, the last picture is sent again with the
// next PTS. Real frames that would go back in time (captured before a
// repeat was sent) are dropped and counted as skipped.
//
// Plain Go, on every platform, so that it is unit-tested on Linux; the
// darwin source drives it from its delivery loop. Not safe for concurrent
// use.
type frameRepeater struct {
	interval time.Duration
	last     time.Duration // PTS of the last frame sent (real or repeated)
	have     bool
}

// accept reports whether a real frame with this PTS may be sent (it is
// after the last one), and records it.
func (r *frameRepeater) accept(pts time.Duration) bool {
	if r.have && pts <= r.last {
		return false
	}
	r.last, r.have = pts, true
	return true
}

// due returns the PTS of the repeat to send at session time now, if one is
// due: the last frame is more than one interval overdue (two intervals old).
func (r *frameRepeater) due(now time.Duration) (time.Duration, bool) {
	if !r.have || r.interval <= 0 || now-r.last < 2*r.interval {
		return 0, false
	}
	r.last += r.interval
	return r.last, true
}
