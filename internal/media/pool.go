package media

import (
	"sync"
	"sync/atomic"
	"unsafe"
)

// Retain adds a reference to a pooled packet (no-op otherwise).
func (p *Packet) Retain() {
	if p.free != nil {
		atomic.AddInt32(&p.refs, 1)
	}
}

// Release drops one reference; the last one returns the packet and its
// memory to its pool. No-op for a packet that is not pooled.
func (p *Packet) Release() {
	if p.free == nil {
		return
	}
	switch n := atomic.AddInt32(&p.refs, -1); {
	case n == 0:
		p.free(p)
	case n < 0:
		panic("media: Packet released more often than it was retained")
	}
}

// Pooled reports whether p is reference-counted (from a pool).
func (p *Packet) Pooled() bool { return p.free != nil }

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
			s.pool.p.Put(s)
		}
	case n < 0:
		panic("media: Slab released more often than it was retained")
	}
}

// SlabPool hands out slabs of one size, and pooled packets that slice
// them.
type SlabPool struct {
	Size int
	// Poison, when set (tests), is called on a slab's memory as it goes
	// back to the pool: overwriting it makes any use after release show.
	Poison  func([]byte)
	p       sync.Pool
	packets sync.Pool
}

// NewSlabPool returns a pool of slabs of size bytes.
func NewSlabPool(size int) *SlabPool { return &SlabPool{Size: size} }

// Get returns a slab of at least n bytes (n > Size: a slab of its own,
// not pooled) holding one reference, its owner's.
func (sp *SlabPool) Get(n int) *Slab {
	if n > sp.Size {
		return &Slab{B: make([]byte, n), refs: 1}
	}
	s, _ := sp.p.Get().(*Slab)
	if s == nil {
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

func freePacket(p *Packet) {
	pp := (*pooledPacket)(unsafePacket(p))
	s, sp := pp.slab, pp.sp
	*pp = pooledPacket{}
	if s != nil {
		s.Release()
	}
	sp.packets.Put(pp)
}

// Packet returns a pooled packet holding one reference (the caller's),
// whose Data the caller slices from slab s (nil: Data is the caller's own
// memory, left to the garbage collector). The packet takes a reference to
// s, dropped when the packet is freed.
func (sp *SlabPool) Packet(s *Slab) *Packet {
	pp, _ := sp.packets.Get().(*pooledPacket)
	if pp == nil {
		pp = new(pooledPacket)
	}
	if s != nil {
		atomic.AddInt32(&s.refs, 1)
	}
	pp.slab, pp.sp = s, sp
	pp.refs = 1
	pp.free = freePacket
	return &pp.Packet
}

// unsafePacket converts a *Packet that SlabPool.Packet made back to its
// container: Packet is pooledPacket's first field.
func unsafePacket(p *Packet) unsafe.Pointer { return unsafe.Pointer(p) }
