package publish

import (
	"context"
	"time"

	"github.com/livecap/livecap/internal/fanout"
	"github.com/livecap/livecap/internal/media"
)

// interleaver puts a destination's packets on the wire in DTS order across
// audio and video, at one latency. Encoders deliver each track in order but
// not the tracks against each other: a live AAC encoder hands over a frame
// some 60 ms after the video frame of the same instant, and a server that
// syncs by arrival (MediaMTX re-serving RTSP) then plays audio that late.
//
// A packet goes out when the other track can no longer bring anything
// earlier: it already brought a packet at least as late, or, at the lag
// that track has shown lately (arrival minus DTS, the highest of its last
// ilLagPackets), its packet of the same instant would have arrived by now.
// So video waits for the audio's lag and both tracks leave at the same
// latency, not in bursts one audio frame apart. Nothing waits longer than
// window (a track that stalls or ends must not hold the other back). It
// takes from the queue only what it needs to decide, so the backlog stays
// in the queue, where the shedding policy sees it. Every protocol gets it:
// it sits between the queue and the session.
type interleaver struct {
	q      *fanout.Queue
	window time.Duration // < 0: off
	both   bool          // the stream has audio and video
	pend   [2]ilFIFO     // by media.Kind
	closed bool

	t0     time.Time
	now    time.Time // next's last clock reading, which ready uses
	seen   [2]bool
	last   [2]time.Duration // highest DTS pulled, per track
	seenAt [2]time.Time     // when each track last brought a packet
	lags   [2]lagWindow
}

// ilLagPackets: about one second of either track.
const ilLagPackets = 32

type ilEntry struct {
	p  *media.Packet
	at time.Time
}

// ilFIFO is a queue that reuses its array: no allocation once warm.
type ilFIFO struct {
	e    []ilEntry
	head int
}

func (f *ilFIFO) len() int       { return len(f.e) - f.head }
func (f *ilFIFO) peek() ilEntry  { return f.e[f.head] }
func (f *ilFIFO) push(e ilEntry) { f.e = append(f.e, e) }
func (f *ilFIFO) pop() *media.Packet {
	p := f.e[f.head].p
	f.e[f.head] = ilEntry{}
	if f.head++; f.head == len(f.e) {
		f.e, f.head = f.e[:0], 0
	}
	return p
}

func newInterleaver(q *fanout.Queue, info media.StreamInfo, window time.Duration) *interleaver {
	return &interleaver{q: q, window: window, both: info.Audio != nil && info.Video != nil, t0: time.Now()}
}

func kindIndex(k media.Kind) int {
	if k == media.Audio {
		return 1
	}
	return 0
}

func (il *interleaver) push(p *media.Packet, now time.Time) {
	k := kindIndex(p.Kind)
	il.pend[k].push(ilEntry{p, now})
	if !il.seen[k] || p.DTS > il.last[k] {
		il.last[k] = p.DTS
	}
	il.seen[k] = true
	il.seenAt[k] = now
	il.lags[k].add(now.Sub(il.t0) - p.DTS)
}

// lagWindow is a track's last ilLagPackets arrival-minus-DTS lags. Adding
// one is a store; the median is computed when asked for, once per change:
// a backlog (a file read as fast as possible) rarely asks, since both
// tracks then have a packet pending, and a live stream asks about once
// per packet, a sort of 32 values 77 times a second.
type lagWindow struct {
	ring  [ilLagPackets]time.Duration // by arrival
	n     int                         // lags added in all
	med   time.Duration
	dirty bool
}

func (w *lagWindow) add(v time.Duration) {
	w.ring[w.n%ilLagPackets] = v
	w.n++
	w.dirty = true
}

// median is the median of the window (0 when empty): the median, not the
// highest, so that one late packet (scheduling jitter) does not delay the
// other track by its lateness.
func (w *lagWindow) median() time.Duration {
	if w.dirty {
		var s [ilLagPackets]time.Duration
		n := copy(s[:], w.ring[:min(w.n, ilLagPackets)])
		for i := 1; i < n; i++ { // insertion sort: 32 values at most
			for j := i; j > 0 && s[j] < s[j-1]; j-- {
				s[j], s[j-1] = s[j-1], s[j]
			}
		}
		w.med, w.dirty = s[n/2], false
	}
	return w.med
}

// due is when the head of track k may go out if nothing else arrives,
// and whether it may go now.
func (il *interleaver) due(k int, now time.Time) (time.Time, bool) {
	e := il.pend[k].peek()
	j := 1 - k
	if il.seen[j] && il.last[j] >= e.p.DTS {
		return now, true
	}
	if il.seen[j] && now.Sub(il.seenAt[j]) > il.window {
		// Track j has brought nothing for a whole window: it ended or
		// stalled (a file whose audio is shorter, a microphone lost), and
		// waiting for it would only delay every packet of this track.
		return now, true
	}
	at := e.at.Add(il.window)
	if il.seen[j] {
		// When track j's packet of this instant would arrive at its lag.
		if t := il.t0.Add(e.p.DTS + il.lags[j].median()); t.Before(at) {
			at = t
		}
	}
	return at, !now.Before(at)
}

// pop returns the pending packet with the lowest DTS (video first on a tie).
func (il *interleaver) pop() *media.Packet {
	v, a := &il.pend[0], &il.pend[1]
	switch {
	case v.len() == 0:
		return a.pop()
	case a.len() == 0:
		return v.pop()
	case a.peek().p.DTS < v.peek().p.DTS:
		return a.pop()
	default:
		return v.pop()
	}
}

// skipToKeyframe is the queue's, after a reconnect.
func (il *interleaver) skipToKeyframe() { il.q.SkipToKeyframe() }

// next returns the next packet to send, in DTS order within the window. It
// returns false when the queue ended and everything pending went out, or
// when ctx is done.
func (il *interleaver) next(ctx context.Context) (*media.Packet, bool) {
	if il.window < 0 || !il.both {
		if n := il.pend[0].len() + il.pend[1].len(); n > 0 {
			return il.pop(), true
		}
		return il.q.Next(ctx)
	}
	for {
		now := time.Now()
		il.now = now
		p, ok, deadline, waiting := il.take(now)
		switch {
		case ok:
			return p, true
		case waiting:
			p, ok, timedOut := il.q.NextUntil(ctx, deadline)
			switch {
			case ok:
				il.now = time.Now()
				il.push(p, il.now)
			case timedOut:
			case ctx.Err() != nil:
				return nil, false
			default:
				il.closed = true
			}
		case il.closed:
			return nil, false
		default:
			p, ok := il.q.Next(ctx)
			if !ok {
				if ctx.Err() != nil {
					return nil, false
				}
				il.closed = true
				continue
			}
			il.now = time.Now()
			il.push(p, il.now)
		}
	}
}

// take moves what is queued into the window, without waiting, until both
// tracks have a candidate, and pops the next packet if it may go out at
// now. Otherwise waiting says that one track holds packets that are due
// at deadline unless the other track's next one arrives first.
func (il *interleaver) take(now time.Time) (p *media.Packet, ok bool, deadline time.Time, waiting bool) {
	for il.pend[0].len() == 0 || il.pend[1].len() == 0 {
		p, ok := il.q.TryNext()
		if !ok {
			break
		}
		il.push(p, now)
	}
	nv, na := il.pend[0].len(), il.pend[1].len()
	switch {
	case nv > 0 && na > 0, il.closed && nv+na > 0:
		return il.pop(), true, time.Time{}, false
	case nv+na > 0:
		k := 0
		if na > 0 {
			k = 1
		}
		deadline, ready := il.due(k, now)
		if ready {
			return il.pop(), true, time.Time{}, false
		}
		return nil, false, deadline, true
	}
	return nil, false, time.Time{}, false
}

// ready returns the next packet only if it may go out now without
// waiting for anything that is not queued yet (the rest of a batch after
// next). It reads no clock: now is next's last reading, which can only
// make it less ready.
func (il *interleaver) ready() (*media.Packet, bool) {
	if il.window < 0 || !il.both {
		if n := il.pend[0].len() + il.pend[1].len(); n > 0 {
			return il.pop(), true
		}
		return il.q.TryNext()
	}
	p, ok, _, _ := il.take(il.now)
	return p, ok
}
