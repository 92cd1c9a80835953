package input

import (
	"fmt"
	"time"
)

// rewind sets every track back to the start of the file.
func (r *Reader) rewind() {
	r.pos = 0
	r.fragEOF = false
	for _, t := range r.tracks {
		if len(t.base) == 0 {
			t.queue = t.queue[:0] // a fragmented file: keep the queue's array for the next pass
		} else {
			t.queue = t.base
		}
		t.head = 0
		t.nextDTS = t.baseEnd
		t.done = false
		t.headOK = false
		t.gotKey = false
		t.passStarted = false
	}
}

func (t *track) pending() int {
	if t == nil {
		return 0
	}
	return len(t.queue) - t.head
}

// maxQueued bounds the read-ahead: when one track has ended (audio
// shorter than video) or a file groups long runs of one track, fill stops
// looking for the other track's next sample once this many samples wait,
// instead of reading the rest of the file's fragment headers into memory.
const maxQueued = 1 << 16

func (r *Reader) queued() int {
	n := 0
	for _, t := range r.tracks {
		n += t.pending()
	}
	return n
}

// fill reads fragments until t has a pending sample, the file ends or the
// read-ahead is full.
func (r *Reader) fill(t *track) error {
	for t != nil && t.pending() == 0 && !r.fragEOF && r.queued() < maxQueued {
		if err := r.readFragment(); err != nil {
			return err
		}
	}
	return nil
}

// readFragment parses the next moof, queueing its samples; at the end of
// the file it sets fragEOF.
func (r *Reader) readFragment() error {
	for r.pos < r.size {
		h, err := r.readHeader(r.pos)
		if err != nil {
			if err == errNoBox {
				break
			}
			return err
		}
		if h.truncated {
			// A recording cut short: whatever follows is incomplete.
			if h.typ == "moof" {
				r.truncated = true
			}
			break
		}
		r.pos += h.size
		if h.typ != "moof" {
			continue
		}
		if h.size > maxMoof {
			return fmt.Errorf("box %q at offset %d is %d bytes; at most %d are accepted", h.typ, h.start, h.size, maxMoof)
		}
		if int64(cap(r.moofBuf)) < h.size {
			r.moofBuf = make([]byte, h.size)
		}
		buf := r.moofBuf[:h.size]
		if _, err := r.ra.ReadAt(buf, h.start); err != nil {
			return fmt.Errorf("reading box %q at offset %d: %w", h.typ, h.start, err)
		}
		if err := r.parseMoof(buf, h.start); err != nil {
			return fmt.Errorf("moof: %w", err)
		}
		return nil
	}
	r.pos = r.size
	r.fragEOF = true
	return nil
}

func (r *Reader) trackByID(id uint32) *track {
	for _, t := range r.tracks {
		if t.id == id {
			return t
		}
	}
	return nil
}

func (t *track) push(s sample) {
	// Drop what was emitted before growing, so the queue holds at most a
	// couple of fragments; never write into base, which is shared by loops.
	if t.head > 0 && t.head == len(t.queue) {
		if len(t.base) > 0 && &t.queue[0] == &t.base[0] {
			t.queue = nil
		} else {
			t.queue = t.queue[:0]
		}
		t.head = 0
	}
	t.queue = append(t.queue, s)
}

// next returns the pending sample with the smallest decode time across the
// tracks, reading fragments as needed; ok is false at the end of the file.
func (r *Reader) next() (t *track, s sample, at time.Duration, ok bool, err error) {
	var best time.Duration
	for _, tr := range r.tracks {
		if tr.pending() == 0 {
			if err := r.fill(tr); err != nil {
				return nil, sample{}, 0, false, err
			}
			if tr.pending() == 0 {
				continue
			}
		}
		if !tr.headOK {
			tr.headAt, tr.headOK = tr.present(tr.queue[tr.head].dts), true
		}
		if t == nil || tr.headAt < best {
			t, best = tr, tr.headAt
		}
	}
	if t == nil {
		return nil, sample{}, 0, false, nil
	}
	s = t.queue[t.head]
	t.head++
	t.headOK = false
	return t, s, best, true, nil
}
