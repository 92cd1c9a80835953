package pipeline

import (
	"sort"
	"time"
)

// RequestKeyframe implements media.KeyframeRequester.
func (p *Pipeline) RequestKeyframe(at time.Duration) {
	if p.packets != nil {
		return // pre-encoded input: keyframes are where the file has them
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if at <= 0 {
		p.kfNext = true
		return
	}
	i := sort.Search(len(p.kfReqs), func(i int) bool { return p.kfReqs[i] >= at })
	if i < len(p.kfReqs) && p.kfReqs[i] == at {
		return
	}
	p.kfReqs = append(p.kfReqs, 0)
	copy(p.kfReqs[i+1:], p.kfReqs[i:])
	p.kfReqs[i] = at
}

// keyDue reports whether the frame at pts must be an IDR to keep keyframes
// at most Video.KeyInterval of media time apart. The encoder counts the
// interval in frames; a source that skips frames would stretch it (at 30
// fps with a quarter of the frames skipped, a 2 s GOP lasts 2.7 s, and
// ingest servers warn).
func (p *Pipeline) keyDue(pts time.Duration) bool {
	ki := p.cfg.Video.KeyInterval
	if ki <= 0 || p.cfg.Video.FPS <= 0 {
		return false
	}
	half := time.Second / time.Duration(2*p.cfg.Video.FPS)
	return pts-time.Duration(p.lastKey.Load()) >= ki-half
}

// wantKeyframe reports (and consumes) whether the frame at pts must be an IDR.
func (p *Pipeline) wantKeyframe(pts time.Duration) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	want := p.kfNext
	p.kfNext = false
	n := 0
	for n < len(p.kfReqs) && p.kfReqs[n] <= pts {
		n++
	}
	if n > 0 {
		want = true
		p.kfReqs = append(p.kfReqs[:0], p.kfReqs[n:]...)
	}
	return want
}
