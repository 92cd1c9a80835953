package record

// Runtime control of a running recorder: split now, pause, resume and
// chapter markers (livecap ctl, internal/control). The public methods are
// safe from any goroutine: they record the request, and the recorder's own
// goroutine acts on it at the next video packet, so nothing here touches a
// file from outside Run.
//
// Chapters are Nero chapters (moov/udta/chpl), which FFmpeg, VLC, mpv and
// MediaInfo read. The init segment of every file reserves a udta box of
// chapterSpace bytes holding an empty chpl and a free box; each marker
// rewrites that box in place (it never changes size, so nothing after it
// moves), and the file carries its chapters from the moment a marker is
// written, crash or not.

import (
	"encoding/binary"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/livecap/livecap/internal/events"
	"github.com/livecap/livecap/internal/media"
)

// Control event types (Event.Type).
const (
	RecordingPaused  = events.RecordingPaused
	RecordingResumed = events.RecordingResumed
	MarkerWritten    = events.Marker
)

// chapterSpace is the size of the udta box reserved in every init segment
// for chapters: room for about 40 markers of 90 bytes each per file.
const chapterSpace = 4096

// maxChapters: chpl counts its entries in one byte.
const maxChapters = 255

var (
	// ErrPaused: the verb needs a recording that is being written.
	ErrPaused = errors.New("the recording is paused (resume first)")
	// ErrNotPaused: resume of a recording that is not paused.
	ErrNotPaused = errors.New("the recording is not paused")
	// ErrNoSegment: nothing has been recorded yet (no first keyframe).
	ErrNoSegment = errors.New("no segment is open yet (waiting for the first keyframe)")
	// ErrStopped: the recorder has finished.
	ErrStopped = errors.New("the recording has stopped")
)

// ctlState is the recorder's share of runtime control.
type ctlState struct {
	pending atomic.Bool // any request below waits for the recorder goroutine

	// Recorder goroutine only.
	inPause bool // segment closed, media dropped
	waitKey bool // resumed: waiting for the IDR that opens the next segment

	mu      sync.Mutex
	split   bool
	pause   bool // requested
	resume  bool // requested
	paused  bool // as callers see it (set at request time)
	markers []marker
	stopped bool
	skipped uint64 // video frames not recorded while paused
}

type marker struct {
	name string
	at   time.Duration
}

// chapters is one file's reserved udta box and what it holds.
type chapters struct {
	off     int64    // udta box offset in the file
	entries []marker // at: from the file's presentation start
	buf     []byte
}

// recordingLocked says why a control verb that needs a segment being
// written (split, marker) cannot be taken now; c.mu is held.
func (r *Recorder) recordingLocked() error {
	switch c := &r.ctl; {
	case c.stopped:
		return ErrStopped
	case c.paused:
		return ErrPaused
	case r.Stats().Segments == 0:
		return ErrNoSegment
	}
	return nil
}

// Split asks for a new segment to start at the next video frame, which the
// encoder is asked to make an IDR. With pre-encoded input the split comes
// at the file's next keyframe.
func (r *Recorder) Split() error {
	c := &r.ctl
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := r.recordingLocked(); err != nil {
		return err
	}
	c.split = true
	c.pending.Store(true)
	if r.o.Keyframes != nil {
		r.o.Keyframes.RequestKeyframe(0)
	}
	return nil
}

// Pause closes the current segment at the next video frame and records
// nothing until Resume; the encoder and the streams go on.
func (r *Recorder) Pause() error {
	c := &r.ctl
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case c.stopped:
		return ErrStopped
	case c.paused:
		return ErrPaused
	}
	c.paused, c.pause, c.resume, c.split = true, true, false, false
	c.pending.Store(true)
	r.setPausedStat(true)
	return nil
}

func (r *Recorder) setPausedStat(v bool) {
	r.mu.Lock()
	r.st.Paused = v
	r.mu.Unlock()
}

// Resume starts a new segment at the next frame, asked of the encoder as
// an IDR.
func (r *Recorder) Resume() error {
	c := &r.ctl
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case c.stopped:
		return ErrStopped
	case !c.paused:
		return ErrNotPaused
	}
	c.paused, c.resume = false, true
	c.pending.Store(true)
	r.setPausedStat(false)
	if r.o.Keyframes != nil {
		r.o.Keyframes.RequestKeyframe(0)
	}
	return nil
}

// Paused reports whether the recording is paused (as requested).
func (r *Recorder) Paused() bool {
	r.ctl.mu.Lock()
	defer r.ctl.mu.Unlock()
	return r.ctl.paused
}

// PausedFrames is how many video frames were not recorded because the
// recording was paused.
func (r *Recorder) PausedFrames() uint64 {
	r.ctl.mu.Lock()
	defer r.ctl.mu.Unlock()
	return r.ctl.skipped
}

// Marker adds a chapter named name at media time at (the session's media
// clock, the PTS timeline of the packets) to the current segment. It is
// written by the recorder goroutine at its next video packet, and a
// MarkerWritten event follows.
func (r *Recorder) Marker(name string, at time.Duration) error {
	if len(name) > 255 {
		return fmt.Errorf("marker name of %d bytes: at most 255", len(name))
	}
	c := &r.ctl
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := r.recordingLocked(); err != nil {
		return err
	}
	c.markers = append(c.markers, marker{name: name, at: at})
	c.pending.Store(true)
	return nil
}

// applyControl runs on the recorder goroutine for every video packet,
// after its order check. It is one atomic load unless a request is pending
// or the recording is paused. skip: p was consumed or must not be recorded.
func (r *Recorder) applyControl(p *media.Packet) (skip bool, err error) {
	c := &r.ctl
	if !c.pending.Load() && !c.inPause && !c.waitKey {
		return false, nil
	}
	c.mu.Lock()
	pause, resume, split, ms := c.pause, c.resume, c.split, c.markers
	c.pause, c.resume, c.markers = false, false, nil
	if p.Key {
		c.split = false // consumed below; otherwise it waits for the IDR
	}
	c.pending.Store(c.split)
	c.mu.Unlock()

	g := &r.seg
	if g.cur != nil {
		for _, m := range ms {
			r.writeMarker(g.cur, m)
		}
	} else if len(ms) > 0 {
		// Resumed, waiting for the IDR that opens the next segment: the
		// markers go into it.
		c.mu.Lock()
		c.markers = append(ms, c.markers...)
		c.pending.Store(true)
		c.mu.Unlock()
	}
	if pause {
		path := ""
		if g.cur != nil {
			path = g.cur.file.path
			if err := g.closeAt(p.PTS, p.DTS); err != nil {
				return true, err
			}
		}
		c.inPause, c.waitKey = true, false
		r.o.Log.Info().Msg("recording paused")
		r.emit(Event{Type: RecordingPaused, Path: path})
	}
	if resume {
		c.inPause, c.waitKey = false, true
	}
	if c.inPause || (c.waitKey && !p.Key) {
		c.mu.Lock()
		c.skipped++
		c.mu.Unlock()
		p.Release() // not recorded
		return true, nil
	}
	if c.waitKey {
		// This IDR opens the next segment (r.cur is nil: handleVideo opens it).
		c.waitKey = false
		r.o.Log.Info().Msg("recording resumed")
		r.emit(Event{Type: RecordingResumed})
		return false, nil
	}
	if split && p.Key && g.cur != nil && p.PTS > g.cur.start {
		return true, g.cutAt(p)
	}
	return false, nil
}

// stopControl: the recorder has finished; later requests are refused.
func (r *Recorder) stopControl() {
	r.ctl.mu.Lock()
	r.ctl.stopped = true
	r.ctl.mu.Unlock()
}

// writeMarker adds m to seg's chapters, in the init still in memory or in
// place in the file. A marker that cannot be written is reported in its
// event; it never stops the recording.
func (r *Recorder) writeMarker(seg *segment, m marker) {
	if seg.chap == nil && !seg.init {
		// The init is built with the first fragment: hold the chapter
		// until withChapters places the box.
		seg.chap = &chapters{off: -1}
	}
	ch := seg.chap
	rel := m.at - seg.start
	if rel < 0 {
		rel = 0
	}
	ev := Event{Type: MarkerWritten, Path: seg.file.path, Index: seg.index, Name: m.name, Duration: rel}
	var err error
	switch {
	case ch == nil:
		err = errors.New("this file has no room for chapters")
	case len(ch.entries) >= maxChapters:
		err = fmt.Errorf("this file already holds %d chapters, the most a chpl box can", maxChapters)
	default:
		ch.entries = append(ch.entries, marker{name: m.name, at: rel})
		if ch.buf, err = encodeChapters(ch.buf[:0], ch.entries); err != nil {
			ch.entries = ch.entries[:len(ch.entries)-1]
			break
		}
		if ch.off < 0 {
			// placed by withChapters
		} else if !seg.init {
			copy(seg.initB[ch.off:], ch.buf)
		} else if perr := seg.file.patch(ch.off, ch.buf); perr != nil {
			err = fmt.Errorf("write chapter: %w", perr)
		}
	}
	ev.Err = err
	if err != nil {
		r.o.Log.Warn().Err(err).Str("name", m.name).Msg("marker not written into the file")
	}
	r.emit(ev)
}

// withChapters gives seg's encoded init b its chapter box, holding the
// markers that came before the init was built.
func (r *Recorder) withChapters(seg *segment, b []byte) []byte {
	held := seg.chap
	b, seg.chap = addChapterSpace(b)
	if held != nil && len(held.entries) > 0 {
		if seg.chap == nil {
			r.o.Log.Warn().Int("markers", len(held.entries)).Msg("markers not written: this file has no room for chapters")
			return b
		}
		seg.chap.entries = held.entries
		seg.chap.buf, _ = encodeChapters(seg.chap.buf[:0], held.entries) // they fitted when taken
		copy(b[seg.chap.off:], seg.chap.buf)
	}
	return b
}

// addChapterSpace appends the reserved udta box to the moov of an encoded
// init segment (ftyp+moov, moov last) and fixes moov's size. The offsets
// already located in the init stay valid: everything is appended.
func addChapterSpace(b []byte) ([]byte, *chapters) {
	var moov int64 = -1
	for p := int64(0); p+8 <= int64(len(b)); {
		size := int64(binary.BigEndian.Uint32(b[p:]))
		if size < 8 || p+size > int64(len(b)) {
			return b, nil
		}
		if string(b[p+4:p+8]) == "moov" && p+size == int64(len(b)) {
			moov = p
		}
		p += size
	}
	if moov < 0 {
		return b, nil
	}
	size := binary.BigEndian.Uint32(b[moov:])
	if uint64(size)+chapterSpace > 1<<32-1 {
		return b, nil
	}
	ch := &chapters{off: int64(len(b))}
	ch.buf, _ = encodeChapters(make([]byte, 0, chapterSpace), nil)
	out := append(b, ch.buf...)
	binary.BigEndian.PutUint32(out[moov:], size+chapterSpace)
	return out, ch
}

// encodeChapters builds the udta box of exactly chapterSpace bytes:
// udta{ ©swr livecap (the scan's marker, fmp4.go), chpl v1 (FFmpeg's
// layout: movenc.c mov_write_chpl_tag), free }. Chapter start times are in
// 100 ns units from the file's presentation start.
func encodeChapters(dst []byte, ms []marker) ([]byte, error) {
	chplSize := 8 + 4 + 4 + 1
	for _, m := range ms {
		chplSize += 8 + 1 + len(m.name)
	}
	swrSize := 8 + 4 + len(Marker)
	free := chapterSpace - 8 - swrSize - chplSize
	if free < 8 {
		return dst, fmt.Errorf("no room left for chapter %q in this file (%d bytes reserved)", ms[len(ms)-1].name, chapterSpace)
	}
	dst = binary.BigEndian.AppendUint32(dst, chapterSpace)
	dst = append(dst, "udta"...)
	dst = appendMarker(dst)
	dst = binary.BigEndian.AppendUint32(dst, uint32(chplSize))
	dst = append(dst, "chpl"...)
	dst = binary.BigEndian.AppendUint32(dst, 0x01000000) // version 1, flags 0
	dst = binary.BigEndian.AppendUint32(dst, 0)          // reserved
	dst = append(dst, byte(len(ms)))
	for _, m := range ms {
		dst = binary.BigEndian.AppendUint64(dst, uint64(m.at/100))
		dst = append(dst, byte(len(m.name)))
		dst = append(dst, m.name...)
	}
	dst = binary.BigEndian.AppendUint32(dst, uint32(free))
	dst = append(dst, "free"...)
	dst = append(dst, make([]byte, free-8)...)
	return dst, nil
}
