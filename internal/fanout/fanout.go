// Package fanout hands every encoded packet to every sink without a copy
// and without letting one sink wait on another.
//
// Each sink owns a Queue and drains it from its own goroutine. Publish never
// blocks: a lossless queue (the recorder's) grows; a bounded queue (a live
// destination's) sheds whole GOPs from its head when it holds more than its
// duration or byte budget, so what remains always resumes on a keyframe and
// its memory stays bounded.
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
}

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
	notify  chan struct{}
	// lastTake is when the sink last took a packet (unix ns): a sink that
	// is draining its queue can be waited for, a stalled one cannot.
	lastTake atomic.Int64
}

func newQueue(name string, p Policy) *Queue {
	return &Queue{name: name, policy: p, ring: make([]*media.Packet, 256), notify: make(chan struct{}, 1)}
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
	q.ring[(q.head+q.n)&(len(q.ring)-1)] = p
	q.n++
	q.bytes += len(p.Data)
	if !q.policy.Lossless {
		q.enforce()
	}
	q.mu.Unlock()
	select {
	case q.notify <- struct{}{}:
	default:
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
	}
	q.head &= len(q.ring) - 1
}

// SkipToKeyframe sheds everything up to the next video keyframe, counting
// it as dropped: a publisher calls it after a reconnect so the stream
// resumes on a keyframe. Packets already queued from a keyframe on stay.
func (q *Queue) SkipToKeyframe() {
	q.mu.Lock()
	defer q.mu.Unlock()
	for q.n > 0 {
		if p := q.at(0); p.Kind == media.Video && p.Key {
			return
		}
		q.dropHead(1)
	}
	q.waitKey = true
}

// Next returns the oldest queued packet, waiting for one. It returns false
// when the queue is closed and drained, or when ctx is done.
func (q *Queue) Next(ctx context.Context) (*media.Packet, bool) {
	for {
		q.mu.Lock()
		if q.n > 0 {
			idx := q.head & (len(q.ring) - 1)
			p := q.ring[idx]
			q.ring[idx] = nil
			q.head = (q.head + 1) & (len(q.ring) - 1)
			q.n--
			q.bytes -= len(p.Data)
			q.st.DeliveredBytes += uint64(len(p.Data))
			q.mu.Unlock()
			q.lastTake.Store(time.Now().UnixNano())
			return p, true
		}
		closed := q.closed
		q.mu.Unlock()
		if closed {
			return nil, false
		}
		select {
		case <-q.notify:
		case <-ctx.Done():
			return nil, false
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
	q.mu.Unlock()
	select {
	case q.notify <- struct{}{}:
	default:
	}
}

// Hub distributes packets to every registered queue.
type Hub struct {
	mu     sync.RWMutex
	queues []*Queue
	closed bool
}

// NewHub returns an empty hub.
func NewHub() *Hub { return &Hub{} }

// Add registers a sink. A sink added late starts with the next packet; it
// should SkipToKeyframe (or wait for one) before using it.
func (h *Hub) Add(name string, p Policy) *Queue {
	q := newQueue(name, p)
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
// modified afterwards.
func (h *Hub) Publish(p *media.Packet) {
	h.mu.RLock()
	for _, q := range h.queues {
		q.push(p)
	}
	h.mu.RUnlock()
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

// drainingWithin: a sink that took a packet this recently is draining and
// worth waiting for. It matches a publisher's write timeout (5 s): a peer
// slower than that is recycled, not waited for.
const drainingWithin = 5 * time.Second

// LosslessHighWater is how much a lossless queue may hold before WaitRoom
// waits for its sink.
const LosslessHighWater = 8 << 20

// congested reports whether the queue is past half its budget (a lossless
// one: past LosslessHighWater) while its sink is actively draining it.
func (q *Queue) congested(now int64) bool {
	last := q.lastTake.Load()
	if last == 0 || now-last > int64(drainingWithin) {
		return false // not draining (connecting, or stalled): nothing to wait for
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closed {
		return false
	}
	if q.policy.Lossless {
		return q.bytes > LosslessHighWater
	}
	return (q.policy.MaxBytes > 0 && q.bytes > q.policy.MaxBytes/2) ||
		(q.policy.MaxDuration > 0 && q.duration() > q.policy.MaxDuration/2)
}

// WaitRoom gives backpressure to a source that can wait (a file read as
// fast as possible): it blocks while any queue whose sink is draining holds
// more than half its budget, so a fast source slows to its slowest live
// sink instead of making it shed GOPs. A live source never calls it: a
// camera cannot wait, and one sink must never delay another.
func (h *Hub) WaitRoom(ctx context.Context) error {
	var t *time.Timer
	for {
		now := time.Now().UnixNano()
		full := false
		h.mu.RLock()
		for _, q := range h.queues {
			if q.congested(now) {
				full = true
				break
			}
		}
		h.mu.RUnlock()
		if !full {
			if t != nil {
				t.Stop()
			}
			return nil
		}
		if t == nil {
			t = time.NewTimer(time.Millisecond)
		} else {
			t.Reset(time.Millisecond)
		}
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
	}
}
