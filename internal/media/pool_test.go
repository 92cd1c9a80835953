package media

import "testing"

func TestPooledPacketRefs(t *testing.T) {
	sp := NewSlabPool(1024)
	var poisoned int
	sp.Poison = func(b []byte) {
		poisoned++
		for i := range b {
			b[i] = 0xA5
		}
	}
	s := sp.Get(100)
	copy(s.B, "payload")
	p := sp.Packet(s)
	p.Data = s.B[:7]
	s.Release() // the owner's: the packet keeps the slab
	if !p.Pooled() {
		t.Fatal("a packet from SlabPool.Packet is pooled")
	}
	c := *p // a copy holds no reference: its Release must do nothing
	if c.Pooled() {
		t.Error("a copy of a pooled packet claims to be pooled")
	}
	c.Release()
	p.Retain() // a second holder
	p.Release()
	if poisoned != 0 || string(p.Data) != "payload" {
		t.Fatalf("released while referenced: poisoned %d, data %q", poisoned, p.Data)
	}
	p.Release() // the last reference
	if poisoned != 1 {
		t.Fatalf("the slab went back %d times, want 1", poisoned)
	}
	var plain Packet
	plain.Retain()
	plain.Release() // not pooled: no-op
	defer func() {
		if recover() == nil {
			t.Error("releasing a slab more often than retained does not panic")
		}
	}()
	s.Release()
}
