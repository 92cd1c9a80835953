package media

import (
	"sync"
	"sync/atomic"
)

// Retain adds a reference to a pooled packet (no-op otherwise).
func (p *Packet) Retain() {
	if p.Pooled() {
		atomic.AddInt32(&p.refs, 1)
	}
}

// Release drops one reference; the last one returns the packet and its
// memory to its pool. No-op for a packet that is not pooled.
func (p *Packet) Release() {
	if !p.Pooled() {
		return
	}
	switch n := atomic.AddInt32(&p.refs, -1); {
	case n == 0:
		p.owner.free()
	case n < 0:
		panic("media: Packet released more often than it was retained")
	}
}

// Pooled reports whether p is reference-counted (from a pool). A copy of
// a pooled packet (c := *p) is not: it holds no reference, its Retain and
// Release do nothing, and its Data is valid only while the original is.
func (p *Packet) Pooled() bool { return p.owner != nil && &p.owner.Packet == p }

// Slab is a reference-counted block of memory from a SlabPool that
// several pooled packets slice their Data from (one large read holds many
// samples). It goes back to its pool when its last packet, and its
// owner, have released it.
type Slab struct {
	B    []byte
	refs int32
	pool *SlabPool
}

// Release drops one reference to the slab.
func (s *Slab) Release() {
	switch n := atomic.AddInt32(&s.refs, -1); {
	case n == 0:
		if s.pool != nil {
			if s.pool.Poison != nil {
				s.pool.Poison(s.B)
			}
			select {
			case s.pool.free <- s:
			default: // enough kept: this one goes to the garbage collector
			}
		}
	case n < 0:
		panic("media: Slab released more often than it was retained")
	}
}

// SlabPool hands out slabs of one size, and pooled packets that slice
// them. It keeps what comes back in bounded free lists (not a sync.Pool,
// which every garbage collection empties: the steady state would then
// allocate a slab after each one).
type SlabPool struct {
	Size int
	// Poison, when set (tests), is called on a slab's memory as it goes
	// back to the pool: overwriting it makes any use after release show.
	Poison func([]byte)
	free   chan *Slab
	// Free packets: a stack under a mutex, cheaper than a channel for the
	// two operations every access unit makes (taken by the reader, given
	// back by its last sink).
	mu      sync.Mutex
	packets []*pooledPacket
}

// Free-list bounds: what a pool keeps at most once its packets are back.
const (
	keepSlabs   = 16
	keepPackets = 4096
)

// NewSlabPool returns a pool of slabs of size bytes.
func NewSlabPool(size int) *SlabPool {
	return &SlabPool{Size: size, free: make(chan *Slab, keepSlabs)}
}

// Get returns a slab of at least n bytes (n > Size: a slab of its own,
// not pooled) holding one reference, its owner's.
func (sp *SlabPool) Get(n int) *Slab {
	if n > sp.Size {
		return &Slab{B: make([]byte, n), refs: 1}
	}
	var s *Slab
	select {
	case s = <-sp.free:
	default:
		s = &Slab{B: make([]byte, sp.Size), pool: sp}
	}
	s.refs = 1
	return s
}

type pooledPacket struct {
	Packet
	slab *Slab
	sp   *SlabPool
}

func (pp *pooledPacket) free() {
	s, sp := pp.slab, pp.sp
	*pp = pooledPacket{}
	if s != nil {
		s.Release()
	}
	sp.mu.Lock()
	if len(sp.packets) < keepPackets {
		sp.packets = append(sp.packets, pp)
	}
	sp.mu.Unlock()
}

// Packet returns a pooled packet holding one reference (the caller's),
// whose Data the caller slices from slab s (nil: Data is the caller's own
// memory, left to the garbage collector). The packet takes a reference to
// s, dropped when the packet is freed.
func (sp *SlabPool) Packet(s *Slab) *Packet {
	var pp *pooledPacket
	sp.mu.Lock()
	if n := len(sp.packets); n > 0 {
		pp = sp.packets[n-1]
		sp.packets[n-1] = nil
		sp.packets = sp.packets[:n-1]
	}
	sp.mu.Unlock()
	if pp == nil {
		pp = new(pooledPacket)
	}
	if s != nil {
		atomic.AddInt32(&s.refs, 1)
	}
	pp.slab, pp.sp = s, sp
	pp.refs = 1
	pp.owner = pp
	return &pp.Packet
}
