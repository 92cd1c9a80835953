package session

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/livecap/livecap/internal/events"
)

// Frames the source or the encoder skip are never silent: a frames_skipped
// event (at most every skipEventEvery) says so while the run goes on, the
// stopped event has the totals, and --max-skipped fails the run.
const (
	skipCheckEvery = time.Second
	skipEventEvery = 5 * time.Second
	// A percentage limit is judged live once this much video was produced
	// (one skipped frame in the first ten is not a trend), and at the end.
	skipPercentAfter = 10 * time.Second
)

// SkipLimit is --max-skipped: a count (Count) or a share of the frames the
// source produced (Percent > 0). The zero value is no limit.
type SkipLimit struct {
	Count   uint64
	Percent float64
	set     bool
}

// ParseSkipLimit reads "N" (frames) or "P%" (of the frames produced).
func ParseSkipLimit(s string) (SkipLimit, error) {
	v := strings.TrimSpace(s)
	if p, ok := strings.CutSuffix(v, "%"); ok {
		f, err := strconv.ParseFloat(strings.TrimSpace(p), 64)
		if err != nil || f < 0 || f >= 100 || f != f {
			return SkipLimit{}, fmt.Errorf("invalid --max-skipped %q: a percentage must be from 0%% to under 100%%, such as 1%%", s)
		}
		return SkipLimit{Percent: f, set: true}, nil
	}
	n, err := strconv.ParseUint(v, 10, 64)
	if err != nil {
		return SkipLimit{}, fmt.Errorf("invalid --max-skipped %q: must be a frame count such as 30, or a percentage such as 1%%", s)
	}
	return SkipLimit{Count: n, set: true}, nil
}

func (l SkipLimit) String() string {
	if l.Percent > 0 {
		return strconv.FormatFloat(l.Percent, 'g', -1, 64) + "%"
	}
	return strconv.FormatUint(l.Count, 10)
}

func percent(n, of uint64) float64 {
	if of == 0 {
		return 0
	}
	return float64(n) * 100 / float64(of)
}

// exceeded reports whether skipped of produced frames is over the limit;
// a percentage is judged only once enough was produced, or at the end.
func (l SkipLimit) exceeded(skipped, produced uint64, enough bool) bool {
	switch {
	case !l.set:
		return false
	case l.Percent > 0:
		return enough && percent(skipped, produced) > l.Percent
	}
	return skipped > l.Count
}

// watchSkips reports skipped frames and enforces MaxSkipped until ctx is
// done; a run over the limit is stopped gracefully.
func (s *Session) watchSkips(ctx context.Context, stop context.CancelFunc) {
	t := time.NewTicker(skipCheckEvery)
	defer t.Stop()
	var reported uint64
	var lastEvent time.Time
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			st := s.pipe.Stats()
			skipped := st.SourceSkipped + st.EncoderSkipped
			if skipped > reported && now.Sub(lastEvent) >= skipEventEvery {
				s.obs.Session(Event{Name: events.FramesSkipped, Skipped: st.SourceSkipped, EncoderSkipped: st.EncoderSkipped,
					NewSkipped: skipped - reported, Frames: st.VideoFrames})
				reported, lastEvent = skipped, now
			}
			if s.checkSkips(false) != nil {
				s.setReason(ReasonMaxSkipped)
				stop()
				return
			}
		}
	}
}

// checkSkips returns (and keeps) a SkippedError when the run is over
// MaxSkipped; atEnd judges a percentage whatever was produced.
func (s *Session) checkSkips(atEnd bool) error {
	st := s.pipe.Stats()
	skipped := st.SourceSkipped + st.EncoderSkipped
	produced := st.VideoFrames + skipped
	enough := atEnd
	if fps := s.cfg.FPS; fps > 0 && produced >= uint64(skipPercentAfter/time.Second)*uint64(fps) {
		enough = true
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.skipErr == nil && s.cfg.MaxSkipped.exceeded(skipped, produced, enough) {
		s.skipErr = &SkippedError{Skipped: skipped, Produced: produced, Limit: s.cfg.MaxSkipped}
	}
	return s.skipErr
}
