package record

import (
	"errors"
	"path/filepath"
	"time"

	"github.com/livecap/livecap/internal/media"
)

// segmenter decides where each packet goes: it opens a segment at the
// first IDR, cuts at the first IDR due after Segment, groups video into
// fragments by decode time, and routes audio across each cut. It runs on
// the recorder's goroutine.
//
// Audio across a cut at S (the new segment's IDR PTS): an AAC frame
// belongs to the segment in which it starts, so the frame straddling S
// stays in the old file, its duration cut to end at S like the file's
// video, and the new file's audio starts with the first frame at or after
// S, held back by an empty edit to its exact time (the movie timescale is
// the audio rate). Joined end to end
// (FFmpeg's concat demuxer, a playlist) the files give every frame once,
// in order, each at its own time: no hole, no repeat. The cost: a later
// file played alone decodes its first AAC frame without the one before
// it (as every HLS or FFmpeg-segmented file does). The first segment
// also carries the encoder priming before S, which its edit list hides.
type segmenter struct {
	r      *Recorder
	run    int // name variant after a collision (1: none)
	index  int // segments opened
	aFrame time.Duration
	lead   time.Duration // audio before S taken into the first segment

	cur     *segment // receiving video
	closing *segment // cut, waiting for the audio up to its end

	queue     []*media.Packet // recent audio, in PTS order, shared by segments
	lastDTS   time.Duration   // of the last video packet
	maxPTS    time.Duration   // latest video presentation time seen
	sawVideo  bool
	lastAudio time.Duration
	sawAudio  bool
	skipped   uint64
	dropped   uint64
	requested time.Duration // latest keyframe time asked of the encoder

	// The slices of the last finalized segment, for the next one to
	// open: a segment's video and index grow to the same sizes as the
	// one before.
	spareVideo []*media.Packet
	spareRA    [2][]randomAccess
}

func (g *segmenter) init(r *Recorder) {
	g.r, g.run = r, 1
	if a := r.o.Info.Audio; a != nil {
		fs := a.FrameSize
		if fs <= 0 {
			fs = 1024
		}
		g.aFrame = time.Duration(int64(fs) * int64(time.Second) / int64(a.SampleRate))
		g.lead = time.Duration(int64(max(a.Priming, fs)) * int64(time.Second) / int64(a.SampleRate))
	}
}

// drop counts a packet the recorder refuses (out of decode order) and
// returns it to its pool.
func (g *segmenter) drop(p *media.Packet) {
	g.dropped++
	g.r.mu.Lock()
	g.r.st.Dropped = g.dropped
	g.r.mu.Unlock()
	p.Release()
}

func (g *segmenter) video(p *media.Packet) error {
	r := g.r
	if g.sawVideo && p.DTS <= g.lastDTS {
		// Decode order is the contract (media.Packet); PTS may go back.
		r.o.Log.Warn().Dur("dts", p.DTS).Dur("last", g.lastDTS).Msg("video packet with a DTS that does not increase, dropped")
		g.drop(p)
		return nil
	}
	g.sawVideo, g.lastDTS = true, p.DTS
	g.maxPTS = max(g.maxPTS, p.PTS)
	if skip, err := r.applyControl(p); skip || err != nil {
		return err
	}
	if g.cur == nil {
		if !p.Key {
			g.skipped++
			r.mu.Lock()
			r.st.Skipped = g.skipped
			r.mu.Unlock()
			p.Release()
			return nil
		}
		return g.open(p)
	}
	seg := g.cur
	half := p.Duration / 2
	if half <= 0 {
		half = r.mux.frameD / 2
	}
	if p.Key && p.PTS >= seg.start+r.o.Segment-half {
		return g.cutAt(p)
	}
	if len(seg.video) > 0 && p.DTS-seg.video[0].DTS >= r.o.Fragment {
		// Audio up to the presentation time the video written reaches.
		if err := g.flush(seg, p.DTS, p.DTS+seg.start-seg.startDTS, false, false); err != nil {
			return err
		}
		seg.addVideo(p)
		// Audio becomes free to forget once written: look after each
		// fragment, not after every frame.
		g.trimAudio()
		return nil
	}
	seg.addVideo(p)
	return nil
}

func (g *segmenter) audio(p *media.Packet) error {
	r := g.r
	if !r.mux.hasA {
		p.Release()
		return nil
	}
	if g.sawAudio && p.PTS <= g.lastAudio {
		r.o.Log.Warn().Dur("pts", p.PTS).Dur("last", g.lastAudio).Msg("audio packet out of order, dropped")
		g.drop(p)
		return nil
	}
	g.sawAudio, g.lastAudio = true, p.PTS
	g.queue = append(g.queue, p)
	if c := g.closing; c != nil && p.PTS >= c.end {
		// Every audio packet before the cut now has its duration: the
		// closed segment can be completed.
		if err := g.complete(c, false); err != nil {
			return err
		}
	}
	if g.cur == nil {
		// Before the first IDR: keep a little for the first segment's lead.
		cut := 0
		for cut < len(g.queue) && g.queue[cut].PTS < p.PTS-g.lead-time.Second {
			cut++
		}
		g.dropAudio(cut)
	}
	return nil
}

// name is the file name of segment index in the current name variant.
func (g *segmenter) name(index int) string {
	o := g.r.o
	return fileName(o.Prefix, o.Start, g.run, index, o.Format)
}

// open starts a segment at the IDR p. Its file is created with its first
// fragment; the name is chosen now so that segment_opened can say it.
func (g *segmenter) open(p *media.Packet) error {
	r := g.r
	g.index++
	seg := &segment{index: g.index, start: p.PTS, startDTS: p.DTS, presEnd: p.PTS, video: g.spareVideo, ra: g.spareRA}
	g.spareVideo, g.spareRA = nil, [2][]randomAccess{}
	if g.index == 1 {
		// The first segment starts with the priming, so that the decoder
		// output lines up with the first video frame after the edit.
		seg.aFrom = p.PTS - g.lead
	} else {
		// Later ones start with the first frame at or after S: the one
		// straddling S is the previous segment's.
		seg.aFrom = p.PTS
	}
	name := g.name(seg.index)
	for !r.o.discard && r.dir.taken(name) && g.run < 1000 {
		g.run++ // never overwrite: switch every later name to a new variant
		name = g.name(seg.index)
	}
	seg.file = newSegFile(&r.dir, name, r.o.noSync || r.o.discard, r.o.discard)
	seg.file.rename = func() string {
		g.run++
		r.o.Log.Warn().Str("path", seg.file.path).Msg("segment name taken meanwhile; using the next variant")
		return filepath.Join(r.o.Dir, g.name(seg.index))
	}
	seg.addVideo(p)
	g.cur = seg
	if r.o.Keyframes != nil && r.o.Segment > 0 {
		// The next boundary, and the one after: an encoder running ahead
		// of the recorder (a fast test source) may be past the next one
		// before this segment opens, and a late request gives a long
		// segment. An IDR asked for a boundary that moved is only an
		// extra keyframe.
		for _, at := range [...]time.Duration{p.PTS + r.o.Segment, p.PTS + 2*r.o.Segment} {
			if at > g.requested {
				r.o.Keyframes.RequestKeyframe(at)
				g.requested = at
			}
		}
	}
	r.mu.Lock()
	r.st.Path, r.st.Bytes, r.st.Segments = seg.file.path, 0, g.index
	r.mu.Unlock()
	r.o.Log.Info().Str("path", seg.file.path).Int("index", seg.index).Msg("segment opened")
	r.emit(Event{Type: SegmentOpened, Path: seg.file.path, Index: seg.index})
	return nil
}

// cutAt ends the current segment at the IDR p and opens the next one.
func (g *segmenter) cutAt(p *media.Packet) error {
	if err := g.closeAt(p.PTS, p.DTS); err != nil {
		return err
	}
	return g.open(p)
}

// closeAt ends the current segment where the video packet of pts and dts
// begins (the next segment's IDR, or a pause): it completes once the
// audio up to pts has arrived.
func (g *segmenter) closeAt(pts, dts time.Duration) error {
	if g.closing != nil {
		// Audio lags by more than a segment: close the older one with what
		// it has rather than hold two cuts.
		if err := g.complete(g.closing, true); err != nil {
			return err
		}
	}
	seg := g.cur
	end := pts
	for _, v := range seg.video {
		// A pause at a frame that B-frames decoded earlier come after.
		end = max(end, v.PTS+v.Duration)
	}
	seg.cut, seg.end, seg.endDTS = true, end, dts
	g.cur = nil
	g.closing = seg
	if !g.r.mux.hasA || (g.sawAudio && g.lastAudio >= seg.end) {
		return g.complete(seg, false)
	}
	return nil
}

// complete writes what a cut segment still holds and finalizes it. final
// means no later audio will come: the last packet's own Duration is used.
func (g *segmenter) complete(seg *segment, final bool) error {
	if g.closing == seg {
		g.closing = nil
	}
	err := g.flush(seg, seg.endDTS, seg.end, final, true)
	if err != nil {
		var we *writeError
		if errors.As(err, &we) {
			g.finalize(seg, false)
		}
		return err
	}
	if ferr := g.finalize(seg, true); ferr != nil {
		return ferr
	}
	g.trimAudio()
	return nil
}

// finish is the clean stop: everything held is written and every file
// finalized.
func (g *segmenter) finish() error {
	var first error
	if c := g.closing; c != nil {
		first = g.complete(c, true)
		if errors.As(first, new(*writeError)) {
			g.abort()
			return first
		}
	}
	if seg := g.cur; seg != nil {
		g.cur = nil
		endDTS, end := seg.startDTS, seg.start
		for _, p := range seg.video {
			d := p.Duration
			if d <= 0 {
				d = g.r.mux.frameD
			}
			endDTS = max(endDTS, p.DTS+d)
			end = max(end, p.PTS+d)
		}
		seg.end, seg.endDTS = end, endDTS
		err := g.flush(seg, endDTS, end, true, true)
		if err == nil || errors.As(err, new(*writeError)) {
			if ferr := g.finalize(seg, err == nil); err == nil {
				err = ferr
			}
		}
		if first == nil {
			first = err
		}
	}
	return first
}

// abort is the stop after a failed write: nothing more is written; each
// open file keeps what it has up to its last complete fragment.
func (g *segmenter) abort() {
	for _, seg := range []*segment{g.closing, g.cur} {
		if seg != nil {
			g.finalize(seg, false)
		}
	}
	g.closing, g.cur = nil, nil
}

// flush writes one fragment of seg and accounts for it.
func (g *segmenter) flush(seg *segment, vEndDTS, aEnd time.Duration, final, last bool) error {
	r := g.r
	nv, na, err := seg.flush(&r.mux, g.queue, vEndDTS, aEnd, final, last)
	if err != nil {
		return err
	}
	if nv+na == 0 {
		return nil
	}
	r.flushed = true
	r.mu.Lock()
	r.st.Frames += uint64(nv)
	r.st.Audio += uint64(na)
	if seg == g.cur {
		r.st.Path, r.st.Bytes = seg.file.path, seg.file.good
	}
	r.mu.Unlock()
	return nil
}

// finalize closes seg's file and reports it.
func (g *segmenter) finalize(seg *segment, clean bool) error {
	r := g.r
	err := seg.finalize(&r.mux, clean)
	g.recycle(seg)
	if seg.written() {
		f := seg.file
		dur := seg.duration()
		r.o.Log.Info().Str("path", f.path).Dur("duration", dur).Int64("bytes", f.good).Int("frames", seg.frames).Msg("segment closed")
		r.emit(Event{Type: SegmentClosed, Path: f.path, Index: seg.index, Duration: dur, Bytes: f.good, Frames: seg.frames})
		if r.o.OnSegmentComplete != nil {
			r.o.OnSegmentComplete(f.path, dur)
		}
	}
	return err
}

// recycle keeps the slices of the finalized seg for the next segment.
func (g *segmenter) recycle(seg *segment) {
	clear(seg.video) // after a failed write: left to the garbage collector, as they were
	g.spareVideo, seg.video = seg.video[:0], nil
	g.spareRA = [2][]randomAccess{seg.ra[0][:0], seg.ra[1][:0]}
	seg.ra = [2][]randomAccess{}
}

// trimAudio forgets audio that no open or future segment needs: the next
// segment starts at an IDR presented after every frame seen so far.
func (g *segmenter) trimAudio() {
	keep := g.maxPTS - g.aFrame - 100*time.Millisecond
	n := 0
	for n < len(g.queue) {
		p := g.queue[n]
		if p.PTS >= keep {
			break
		}
		needed := false
		for _, s := range [...]*segment{g.cur, g.closing} {
			if s != nil && p.PTS >= s.aFrom && (!s.aAny || p.PTS > s.aLast) && (!s.cut || p.PTS < s.end) {
				needed = true
			}
		}
		if needed {
			break
		}
		n++
	}
	g.dropAudio(n)
}

func (g *segmenter) dropAudio(n int) {
	if n == 0 {
		return
	}
	for _, p := range g.queue[:n] {
		p.Release() // written, or needed by no segment: never read again
	}
	clear(g.queue[:n])
	g.queue = append(g.queue[:0], g.queue[n:]...)
}
