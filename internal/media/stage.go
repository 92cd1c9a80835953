package media

import "time"

// Clock reports time elapsed since the session's base instant: the one
// timeline every stage stamps (package clock implements it).
type Clock interface {
	Now() time.Duration
}

// KeyframeRequester asks the video encoder stage for an IDR. The pipeline
// implements it: RequestKeyframe(at) makes the first frame whose PTS is at
// or after `at` an IDR; at <= 0 (or in the past) means the next frame. The
// recorder schedules one at each segment boundary, a publisher asks for one
// after each (re)connect. Safe for concurrent use.
type KeyframeRequester interface {
	RequestKeyframe(at time.Duration)
}
