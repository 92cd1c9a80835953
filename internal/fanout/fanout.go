// Package fanout hands every encoded packet to every sink without a copy
// and without letting one sink wait on another.
//
// Each sink owns a Queue and drains it from its own goroutine. Publish never
// blocks: a lossless queue (the recorder's) grows; a bounded queue (a live
// destination's) sheds whole GOPs from its head when it holds more than its
// duration or byte budget, so what remains always resumes on a keyframe and
// its memory stays bounded.
//
// Pooled packets (media.Packet.Retain/Release): the hub takes one
// reference per queue it enqueues a packet to and Publish consumes the
// caller's; a queue releases what it sheds; a sink releases every packet
// it takes from its queue once it no longer reads it.
package fanout

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/livecap/livecap/internal/media"
)

// Policy says how a queue behaves when its sink falls behind.
type Policy struct {
	// Lossless queues never drop; they grow while the sink is slow.
	Lossless bool
	// MaxDuration bounds the media time held (newest PTS - oldest PTS).
	MaxDuration time.Duration
	// MaxBytes bounds the payload bytes held.
	MaxBytes int
	// Stall is how long a sink may take nothing before WaitRoom stops
	// waiting for it (it is connecting for too long, or stalled, and will
	// shed instead). A publisher sets it to its write timeout, since a peer
	// slower than that is recycled, not waited for. Default 5 s.
	Stall time.Duration
}

// DefaultStall is Policy.Stall when it is not set.
const DefaultStall = 5 * time.Second

// Stats describe a queue at one instant.
type Stats struct {
	Packets  int
	Bytes    int
	Duration time.Duration
	// Dropped counts what the queue shed because its sink was too slow or
	// asked to skip to a keyframe.
	DroppedVideo   uint64 // video frames
	DroppedAudio   uint64 // audio frames
	DroppedBytes   uint64
	DropEvents     uint64 // times a GOP (or more) was shed
	DeliveredBytes uint64
	// Wakeups counts the times the sink, asleep on an empty queue, was
	// woken for new packets: at most once per burst (see Hub.Batch).
	Wakeups uint64
}

// Queue is one sink's view of the packet stream.
type Queue struct {
	name   string
	policy Policy

	mu      sync.Mutex
	ring    []*media.Packet // power-of-two capacity
	head    int
	n       int
	bytes   int
	closed  bool
	waitKey bool // shed incoming packets until the next video keyframe
	st      Stats
	// sleeping: the sink found the queue empty and waits on notify. A
	// push signals notify only then (the empty to non-empty transition of
	// a sink that waits), so a sink that keeps up costs no wake-up per
	// packet and a busy one none at all.
	sleeping bool
	notify   chan struct{}
	// drops is signalled whenever the queue drops a packet.
	drops chan struct{}
	// takes counts the packets the sink took: WaitRoom tells a sink that is
	// draining its queue (or has just been added and is starting) from a
	// stalled one by whether it moved, without a clock read per packet.
	takes uint64
	// WaitRoom's own view of takes (under Hub.waitMu): the count it last
	// saw and when it saw it change (at first: when the queue was made).
	seenTakes uint64
	seenAt    int64 // unix ns
	// isHigh: the queue is past half its budget (high), counted in
	// Hub.nhigh. wantRoom: WaitRoom waits for this queue to come down to
	// its low-water mark, which a take then signals.
	isHigh   bool
	wantRoom bool
	hub      *Hub
	timer    *time.Timer // NextUntil's, reused (one consumer)
}

func newQueue(name string, p Policy) *Queue {
	if p.Stall <= 0 {
		p.Stall = DefaultStall
	}
	return &Queue{name: name, policy: p, ring: make([]*media.Packet, 256), notify: make(chan struct{}, 1), drops: make(chan struct{}, 1),
		seenAt: time.Now().UnixNano()}
}

// Drops is signalled (coalesced) each time the queue drops packets: a
// sink reports its loss from it while it is itself blocked, which is when
// a queue sheds.
func (q *Queue) Drops() <-chan struct{} { return q.drops }

func (q *Queue) signalDrop() {
	select {
	case q.drops <- struct{}{}:
	default:
	}
}

// Name is the sink's name, for logs and status.
func (q *Queue) Name() string { return q.name }

func (q *Queue) at(i int) *media.Packet { return q.ring[(q.head+i)&(len(q.ring)-1)] }

func (q *Queue) push(p *media.Packet) {
	q.mu.Lock()
	if q.closed {
		q.mu.Unlock()
		return
	}
	if q.waitKey {
		if p.Kind == media.Video && p.Key {
			q.waitKey = false
		} else {
			q.countDrop(p)
			q.mu.Unlock()
			return
		}
	}
	if q.n == len(q.ring) {
		q.grow()
	}
	p.Retain() // the queue's reference, which its sink or a shedding drops
	q.ring[(q.head+q.n)&(len(q.ring)-1)] = p
	q.n++
	q.bytes += len(p.Data)
	if !q.policy.Lossless {
		q.enforce()
	}
	q.updateHigh()
	wake := q.rouse(q.hub == nil || q.n >= q.hub.batch)
	q.mu.Unlock()
	if wake {
		q.wake()
	}
}

// rouse, with q.mu held, reports whether the sink sleeps and should be
// woken (when is true), and counts the wake-up; the caller calls wake
// once it has unlocked.
func (q *Queue) rouse(when bool) bool {
	if !q.sleeping || !when {
		return false
	}
	q.sleeping = false
	q.st.Wakeups++
	return true
}

// wake tells the sink waiting on notify.
func (q *Queue) wake() {
	select {
	case q.notify <- struct{}{}:
	default:
	}
}

// flush wakes the sink if it sleeps while packets are queued (Batch).
func (q *Queue) flush() {
	q.mu.Lock()
	wake := q.rouse(q.n > 0)
	q.mu.Unlock()
	if wake {
		q.wake()
	}
}

func (q *Queue) grow() {
	nr := make([]*media.Packet, len(q.ring)*2)
	for i := 0; i < q.n; i++ {
		nr[i] = q.at(i)
	}
	q.ring = nr
	q.head = 0
}

func (q *Queue) duration() time.Duration {
	if q.n < 2 {
		return 0
	}
	return q.at(q.n-1).DTS - q.at(0).DTS
}

func (q *Queue) over() bool {
	return (q.policy.MaxBytes > 0 && q.bytes > q.policy.MaxBytes) ||
		(q.policy.MaxDuration > 0 && q.duration() > q.policy.MaxDuration)
}

// enforce sheds whole GOPs from the head while the queue is over budget.
// The head may be the middle of a GOP whose start the sink already sent:
// dropping up to the next keyframe then leaves the stream decodable.
func (q *Queue) enforce() {
	if !q.over() {
		return
	}
	q.st.DropEvents++
	for q.over() {
		// Find the next video keyframe after the head.
		k := -1
		for i := 1; i < q.n; i++ {
			if p := q.at(i); p.Kind == media.Video && p.Key {
				k = i
				break
			}
		}
		if k < 0 {
			// Only one (partial) GOP is held: shed it all and take nothing
			// until the next keyframe arrives.
			q.dropHead(q.n)
			q.waitKey = true
			return
		}
		q.dropHead(k)
	}
}

func (q *Queue) countDrop(p *media.Packet) {
	q.signalDrop()
	if p.Kind == media.Video {
		q.st.DroppedVideo++
	} else {
		q.st.DroppedAudio++
	}
	q.st.DroppedBytes += uint64(len(p.Data))
}

func (q *Queue) dropHead(k int) {
	for i := 0; i < k; i++ {
		idx := q.head & (len(q.ring) - 1)
		p := q.ring[idx]
		q.ring[idx] = nil
		q.countDrop(p)
		q.bytes -= len(p.Data)
		q.head++
		q.n--
		p.Release()
	}
	q.head &= len(q.ring) - 1
}

// SkipToKeyframe sheds everything up to the next video keyframe, counting
// it as dropped: a publisher calls it after a reconnect so the stream
// resumes on a keyframe. Packets already queued from a keyframe on stay.
func (q *Queue) SkipToKeyframe() {
	q.mu.Lock()
	q.skipToKeyframe()
	q.updateHigh()
	room := q.roomNow()
	q.mu.Unlock()
	if room {
		q.room()
	}
}

func (q *Queue) skipToKeyframe() {
	for q.n > 0 {
		if p := q.at(0); p.Kind == media.Video && p.Key {
			return
		}
		q.dropHead(1)
	}
	q.waitKey = true
}

// Drop counts a packet the sink took but could not deliver (its
// connection failed under it) as dropped, as if the queue had shed it, and
// signals Drops: loss is never silent. The sink still releases it.
func (q *Queue) Drop(p *media.Packet) {
	q.mu.Lock()
	q.countDrop(p)
	q.mu.Unlock()
}

// take removes the head; q.mu is held and q.n > 0. room says that a
// waiting WaitRoom is to be told: the take brought the queue down to its
// low-water mark (hysteresis: a source held back resumes with room for a
// burst, not one packet per packet taken).
func (q *Queue) take() (p *media.Packet, room bool) {
	idx := q.head & (len(q.ring) - 1)
	p = q.ring[idx]
	q.ring[idx] = nil
	q.head = (q.head + 1) & (len(q.ring) - 1)
	q.n--
	q.bytes -= len(p.Data)
	q.takes++
	q.st.DeliveredBytes += uint64(len(p.Data))
	if q.isHigh {
		q.updateHigh()
	}
	return p, q.roomNow()
}

// roomNow reports (once) that the queue came down to its low-water mark
// while WaitRoom waits for it; q.mu is held.
func (q *Queue) roomNow() bool {
	if q.wantRoom && q.low() {
		q.wantRoom = false
		return true
	}
	return false
}

// updateHigh keeps isHigh and the hub's count of high queues current;
// q.mu is held.
func (q *Queue) updateHigh() {
	if hi := !q.closed && q.high(); hi != q.isHigh {
		q.isHigh = hi
		if q.hub != nil {
			if hi {
				q.hub.nhigh.Add(1)
			} else {
				q.hub.nhigh.Add(-1)
			}
		}
	}
}

// room tells a waiting WaitRoom to look again.
func (q *Queue) room() {
	if h := q.hub; h != nil && h.waiting.Load() > 0 {
		select {
		case h.room <- struct{}{}:
		default:
		}
	}
}

// TryNext returns the oldest queued packet if there is one, without waiting.
// As with Next, the sink owns the queue's reference to it: it calls
// p.Release once it no longer reads the packet.
func (q *Queue) TryNext() (*media.Packet, bool) {
	q.mu.Lock()
	if q.n == 0 {
		q.mu.Unlock()
		return nil, false
	}
	p, room := q.take()
	q.mu.Unlock()
	if room {
		q.room()
	}
	return p, true
}

// Next returns the oldest queued packet, waiting for one. It returns false
// when the queue is closed and drained, or when ctx is done.
func (q *Queue) Next(ctx context.Context) (*media.Packet, bool) {
	p, ok, _ := q.NextUntil(ctx, time.Time{})
	return p, ok
}

// NextUntil is Next that waits at most until deadline (zero: no limit);
// timedOut says that it returned for that reason. One goroutine (the
// queue's sink) calls Next, TryNext and NextUntil.
func (q *Queue) NextUntil(ctx context.Context, deadline time.Time) (p *media.Packet, ok, timedOut bool) {
	for {
		q.mu.Lock()
		if q.n > 0 {
			p, room := q.take()
			q.mu.Unlock()
			if room {
				q.room()
			}
			return p, true, false
		}
		closed := q.closed
		q.sleeping = !closed
		q.mu.Unlock()
		if closed {
			return nil, false, false
		}
		var tc <-chan time.Time
		if !deadline.IsZero() {
			d := time.Until(deadline)
			if d <= 0 {
				return nil, false, true
			}
			if q.timer == nil {
				q.timer = time.NewTimer(d)
			} else {
				q.timer.Reset(d)
			}
			tc = q.timer.C
		}
		select {
		case <-q.notify:
		case <-ctx.Done():
			if q.timer != nil {
				q.timer.Stop()
			}
			return nil, false, false
		case <-tc:
		}
		if q.timer != nil {
			q.timer.Stop()
		}
	}
}

// Stats returns a snapshot of the queue's counters.
func (q *Queue) Stats() Stats {
	q.mu.Lock()
	defer q.mu.Unlock()
	s := q.st
	s.Packets = q.n
	s.Bytes = q.bytes
	s.Duration = q.duration()
	return s
}

func (q *Queue) close() {
	q.mu.Lock()
	q.closed = true
	q.sleeping = false
	q.updateHigh()
	q.mu.Unlock()
	q.wake()
	q.room() // a closed queue is waited for no more
}

// Hub distributes packets to every registered queue.
type Hub struct {
	mu     sync.RWMutex
	queues []*Queue
	closed bool

	// batch: a sleeping sink is woken once its queue holds this many
	// packets (1: at once). Set before the first Publish.
	batch int

	// WaitRoom's: a sink signals room when its queue comes down to its
	// low-water mark while WaitRoom waits.
	waitMu  sync.Mutex
	waiting atomic.Int32
	room    chan struct{}
	timer   *time.Timer
	// nhigh counts the queues past half their budget: while it is 0,
	// WaitRoom returns at once, without a lock or a clock.
	nhigh atomic.Int32
}

// NewHub returns an empty hub.
func NewHub() *Hub { return &Hub{room: make(chan struct{}, 1), batch: 1} }

// Batch is for a hub fed by a source that waits for room (WaitRoom: a
// file read as fast as possible), never a live one: a sink that sleeps on
// an empty queue is woken once n packets are queued for it, when WaitRoom
// is about to wait, or at Flush or Close, so it takes a burst per wake-up
// instead of one packet each. Call it before the first Publish.
func (h *Hub) Batch(n int) { h.batch = max(n, 1) }

// Flush wakes every sink that sleeps while packets are queued for it
// (see Batch).
func (h *Hub) Flush() {
	if h.batch <= 1 {
		return
	}
	h.mu.RLock()
	for _, q := range h.queues {
		q.flush()
	}
	h.mu.RUnlock()
}

// Add registers a sink. A sink added late starts with the next packet; it
// should SkipToKeyframe (or wait for one) before using it.
func (h *Hub) Add(name string, p Policy) *Queue {
	q := newQueue(name, p)
	q.hub = h
	h.mu.Lock()
	if h.closed {
		q.closed = true
	} else {
		h.queues = append(h.queues, q)
	}
	h.mu.Unlock()
	return q
}

// Remove unregisters a queue and closes it: its sink sees the end of the
// stream after draining what is queued.
func (h *Hub) Remove(q *Queue) {
	h.mu.Lock()
	for i, x := range h.queues {
		if x == q {
			h.queues = append(h.queues[:i:i], h.queues[i+1:]...)
			break
		}
	}
	h.mu.Unlock()
	q.close()
}

// Publish hands p to every queue. It never blocks on a sink. p must not be
// modified afterwards. It consumes the caller's reference to a pooled
// packet: each queue holds its own.
func (h *Hub) Publish(p *media.Packet) {
	h.mu.RLock()
	for _, q := range h.queues {
		q.push(p)
	}
	h.mu.RUnlock()
	p.Release()
}

// Close ends the stream: every queue drains and then reports the end.
func (h *Hub) Close() {
	h.mu.Lock()
	qs := h.queues
	h.queues = nil
	h.closed = true
	h.mu.Unlock()
	for _, q := range qs {
		q.close()
	}
}

// LosslessHighWater is how much a lossless queue may hold before WaitRoom
// waits for its sink, and LosslessLowWater how little it holds when the
// source resumes.
const (
	LosslessHighWater = 8 << 20
	LosslessLowWater  = LosslessHighWater / 2
)

// high reports whether the queue is past half its budget (a lossless one:
// past LosslessHighWater); q.mu is held.
func (q *Queue) high() bool {
	if q.policy.Lossless {
		return q.bytes > LosslessHighWater
	}
	return (q.policy.MaxBytes > 0 && q.bytes > q.policy.MaxBytes/2) ||
		(q.policy.MaxDuration > 0 && q.duration() > q.policy.MaxDuration/2)
}

// low reports whether the queue is down to a quarter of its budget (a
// lossless one: LosslessLowWater); q.mu is held.
func (q *Queue) low() bool {
	if q.policy.Lossless {
		return q.bytes <= LosslessLowWater
	}
	return (q.policy.MaxBytes <= 0 || q.bytes <= q.policy.MaxBytes/4) &&
		(q.policy.MaxDuration <= 0 || q.duration() <= q.policy.MaxDuration/4)
}

// congested reports whether the queue is high while its sink is draining
// it or starting; h.waitMu is held. A sink is draining while its take
// count moves between looks, starting for Policy.Stall after the queue was
// made; one whose count stays still for Policy.Stall is not waited for.
// wake is when a congested queue stops counting if its sink takes nothing.
func (q *Queue) congested(now *int64) (full bool, wake int64) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closed || !q.high() {
		return false, 0
	}
	if *now == 0 {
		*now = time.Now().UnixNano()
	}
	if q.takes != q.seenTakes {
		q.seenTakes, q.seenAt = q.takes, *now
	}
	wake = q.seenAt + int64(q.policy.Stall)
	if *now >= wake {
		return false, 0 // stalled, or connecting for too long: not waited for
	}
	// Under q.mu with the look: the take that brings the queue down to
	// its low-water mark sees this and signals.
	q.wantRoom = true
	return true, wake
}

// WaitRoom gives backpressure to a source that can wait (a file read as
// fast as possible): it blocks while any queue whose sink is draining (or
// was just added and is starting: from the first packet on) holds more
// than half its budget, until that queue is down to a quarter, so a fast
// source slows to its slowest live sink instead of making it shed GOPs,
// and resumes for a burst, not packet by packet. A sink that takes nothing
// for its Policy.Stall is not waited for. A live source never calls it: a
// camera cannot wait, and one sink must never delay another. It wakes when
// a sink drains its queue to the low-water mark, not by polling, and reads
// the clock only when it is about to wait.
func (h *Hub) WaitRoom(ctx context.Context) error {
	if h.nhigh.Load() == 0 {
		// No queue is high (the source's own pushes counted, and sinks
		// only ever lower it): nothing to wait for.
		return nil
	}
	h.waitMu.Lock()
	defer h.waitMu.Unlock()
	flushed := false
	for {
		// Announce the wait before looking, so that a take between the
		// look and the select still signals.
		h.waiting.Add(1)
		var now int64
		full := false
		var wake int64
		h.mu.RLock()
		for _, q := range h.queues {
			if f, w := q.congested(&now); f {
				if !full || w < wake {
					wake = w
				}
				full = true
			}
		}
		h.mu.RUnlock()
		if !full {
			h.waiting.Add(-1)
			return nil
		}
		if !flushed {
			// What was held back for a batch goes to its sinks before the
			// source waits on them.
			h.Flush()
			flushed = true
		}
		d := time.Duration(wake - now)
		if h.timer == nil {
			h.timer = time.NewTimer(d)
		} else {
			h.timer.Reset(d)
		}
		var err error
		select {
		case <-ctx.Done():
			err = ctx.Err()
		case <-h.room:
		case <-h.timer.C:
		}
		h.timer.Stop()
		h.waiting.Add(-1)
		if err != nil {
			return err
		}
	}
}
