package input

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/livecap/livecap/internal/h264"
	"github.com/livecap/livecap/internal/media"
)

// ErrNoSamples is returned by Run when Loop is set and a pass over the file
// yields no packet (looping would spin).
var ErrNoSamples = errors.New("input: the file holds no samples")

// Run emits every packet of the file, video and audio merged in decode
// order, through out (packets are immutable once handed over). The packets
// are pooled (media.Packet.Release): out receives the one reference, which
// it passes on (fanout.Hub.Publish consumes it) or releases. It returns nil
// at the end of the input (never, with Loop) or once ctx is done, and an
// error if the file cannot be read.
func (r *Reader) Run(ctx context.Context, out func(*media.Packet)) error {
	r.rewind()
	defer r.dropWindow()
	start := time.Now()
	var (
		offset   time.Duration
		first    = true
		firstDTS time.Duration
		timer    *time.Timer
	)
	defer func() {
		if timer != nil {
			timer.Stop()
		}
	}()
	for {
		n := 0
		for {
			if ctx.Err() != nil {
				return nil
			}
			t, s, at, ok, err := r.next()
			if err != nil {
				return fmt.Errorf("input: %w", err)
			}
			if !ok {
				break
			}
			if t.kind == media.Video && !t.gotKey {
				// A decoder can start nowhere but at a keyframe.
				if !s.sync {
					continue
				}
				t.gotKey = true
			}
			pk, err := r.packet(t, s, at)
			if err != nil {
				return fmt.Errorf("input: %w", err)
			}
			if len(pk.Data) == 0 {
				// An empty sample (or one of nothing but parameter sets)
				// is no access unit a decoder or muxer wants.
				pk.Release()
				continue
			}
			if !t.passStarted {
				t.passStarted = true
				t.passFirst = pk.DTS
			}
			t.passEnd = pk.DTS + pk.Duration
			pk.PTS += offset
			pk.DTS += offset
			if first {
				first = false
				firstDTS = pk.DTS
			}
			if r.o.Realtime {
				wait := time.Until(start.Add(pk.DTS - firstDTS))
				if wait > 0 {
					if timer == nil {
						timer = time.NewTimer(wait)
					} else {
						timer.Reset(wait)
					}
					select {
					case <-ctx.Done():
						pk.Release()
						return nil
					case <-timer.C:
					}
				}
			}
			// Seq and Encoded are the pipeline's to set.
			out(pk)
			n++
		}
		if !r.o.Loop {
			return nil
		}
		if n == 0 {
			return ErrNoSamples
		}
		// Start the next pass where every track's previous one ended.
		var step time.Duration
		for _, t := range r.tracks {
			if t.passStarted && t.passEnd-t.passFirst > step {
				step = t.passEnd - t.passFirst
			}
		}
		offset += step
		r.rewind()
	}
}

// packet reads the bytes of one sample and makes its packet (timestamps
// relative to the file, before any loop offset); at is t.present(s.dts).
func (r *Reader) packet(t *track, s sample, at time.Duration) (*media.Packet, error) {
	if s.size > maxSampleSize {
		return nil, fmt.Errorf("%s sample at offset %d is %d bytes; at most %d are accepted", t.kind, s.off, s.size, maxSampleSize)
	}
	data, slab, err := r.sampleBytes(s)
	if err != nil {
		return nil, fmt.Errorf("reading %s sample at offset %d: %w", t.kind, s.off, err)
	}
	pk := r.pool.Packet(slab)
	pk.Kind = t.kind
	pk.DTS = at - r.zero
	if s.dur != t.durTicks || t.dur == 0 {
		t.durTicks, t.dur = s.dur, ticks(int64(s.dur), t.timescale)
	}
	pk.Duration = t.dur
	pk.Key = s.sync
	pk.PTS = pk.DTS
	if t.kind == media.Video {
		if s.cto != 0 {
			pk.PTS = t.present(s.dts+int64(s.cto)) - r.zero
		}
		// media.Packet wants PTS >= DTS: a file with negative composition
		// offsets (ctts or trun version 1) has its decode times moved
		// earlier by the most negative offset seen in its header.
		if t.ctoShift != 0 {
			pk.DTS = t.present(s.dts-t.ctoShift) - r.zero
		}
		pk.DTS = min(pk.DTS, pk.PTS)
		if pk.Data, err = h264.ToAVCC(data, t.lengthSize); err != nil {
			pk.Release()
			return nil, fmt.Errorf("video sample at offset %d: %w", s.off, err)
		}
	} else {
		pk.Data = data
	}
	return pk, nil
}

// readAhead is how much of the file one read brings in: the samples it
// holds are sliced from it (a pooled slab) instead of one pread each.
const readAhead = 1 << 20

// sampleBytes returns the bytes of s, sliced from the read-ahead window
// (read anew from s.off when s is not inside it), and the slab they live
// in. The window is never written again while any packet references it.
func (r *Reader) sampleBytes(s sample) ([]byte, *media.Slab, error) {
	size := int64(s.size)
	end := s.off + size
	if w := r.win; w != nil && s.off >= r.winOff && end <= r.winOff+int64(r.winLen) {
		a, b := s.off-r.winOff, end-r.winOff
		return w.B[a:b:b], w, nil
	}
	r.dropWindow()
	n := max(int64(r.pool.Size), size)
	if rest := r.size - s.off; n > rest {
		n = max(rest, size)
	}
	w := r.pool.Get(int(n))
	got, err := r.ra.ReadAt(w.B[:n], s.off)
	r.reads++
	if int64(got) < size {
		w.Release()
		if err == nil || errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return nil, nil, err
	}
	r.win, r.winOff, r.winLen = w, s.off, got
	return w.B[:size:size], w, nil
}

// dropWindow gives up the reader's reference to its read-ahead window.
func (r *Reader) dropWindow() {
	if r.win != nil {
		r.win.Release()
		r.win = nil
	}
}
