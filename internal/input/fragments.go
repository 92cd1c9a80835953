package input

import (
	"fmt"
	"time"

	"github.com/Eyevinn/mp4ff/mp4"

	"github.com/livecap/livecap/internal/media"
)

// rewind sets every track back to the start of the file.
func (r *Reader) rewind() {
	r.pos = 0
	r.fragEOF = false
	for _, t := range r.tracks {
		t.queue = t.base
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
		buf, err := r.readBox(h, maxMoof)
		if err != nil {
			return err
		}
		b, err := decodeBox(buf, h.start)
		if err != nil {
			return fmt.Errorf("moof: %w", err)
		}
		moof, ok := b.(*mp4.MoofBox)
		if !ok {
			return fmt.Errorf("moof at offset %d did not decode as a fragment", h.start)
		}
		r.addFragment(moof, h.start)
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

func (r *Reader) addFragment(moof *mp4.MoofBox, moofStart int64) {
	prevEnd := moofStart
	for i, traf := range moof.Trafs {
		if traf == nil || traf.Tfhd == nil {
			continue
		}
		tfhd := traf.Tfhd
		t := r.trackByID(tfhd.TrackID)
		var trex *mp4.TrexBox
		dts := int64(0)
		if t != nil {
			trex = t.trex
			dts = t.nextDTS
		}
		// ISO/IEC 14496-12 8.8.7: without an explicit base, the first traf
		// starts at the moof and each later one where the previous ended.
		base := prevEnd
		switch {
		case tfhd.HasBaseDataOffset():
			base = int64(tfhd.BaseDataOffset)
		case tfhd.DefaultBaseIfMoof() || i == 0:
			base = moofStart
		}
		if traf.Tfdt != nil {
			dts = int64(traf.Tfdt.BaseMediaDecodeTime())
		}
		pos := base
		for _, trun := range traf.Truns {
			if trun == nil {
				continue
			}
			trun.AddSampleDefaultValues(tfhd, trex)
			if trun.HasDataOffset() {
				pos = base + int64(trun.DataOffset)
			}
			for _, s := range trun.Samples {
				if t != nil && !t.done {
					if pos < 0 || pos > r.size || int64(s.Size) > r.size-pos {
						// The file ends inside this fragment's data.
						t.done = true
						r.truncated = true
					} else {
						t.push(sample{
							off:  pos,
							size: s.Size,
							dur:  s.Dur,
							dts:  dts,
							cto:  s.CompositionTimeOffset,
							sync: t.kind == media.Audio || !mp4.DecodeSampleFlags(s.Flags).SampleIsNonSync,
						})
					}
				}
				pos += int64(s.Size)
				dts += int64(s.Dur)
			}
		}
		prevEnd = pos
		if t != nil {
			t.nextDTS = dts
		}
	}
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
