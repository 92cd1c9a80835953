package record

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/livecap/livecap/internal/media"
)

// pooled copies packets into pooled packets sliced from small slabs of sp
// (several packets per slab, as package input's read-ahead makes them).
func pooled(sp *media.SlabPool, ps []*media.Packet, n *int) []*media.Packet {
	var out []*media.Packet
	var slab *media.Slab
	used := 0
	for _, p := range ps {
		if slab == nil || used+len(p.Data) > len(slab.B) {
			if slab != nil {
				slab.Release()
			}
			slab, used = sp.Get(len(p.Data)), 0
			*n++
		}
		q := sp.Packet(slab)
		data := slab.B[used : used+len(p.Data) : used+len(p.Data)]
		copy(data, p.Data)
		used += len(p.Data)
		q.Kind, q.PTS, q.DTS, q.Duration, q.Key, q.Data = p.Kind, p.PTS, p.DTS, p.Duration, p.Key, data
		out = append(out, q)
	}
	if slab != nil {
		slab.Release()
	}
	return out
}

// TestPooledPacketsRecordedIntact records the same stream twice, from plain
// packets and from pooled ones whose slabs are poisoned (overwritten) as
// they return to the pool: the files must be identical byte for byte, so
// the recorder (which holds a fragment of video and the audio a segment
// may still need) released nothing before it was on disk. Every slab must
// also come back: the recorder released everything it took.
func TestPooledPacketsRecordedIntact(t *testing.T) {
	s := makeStream(t, streamSpec{secs: 5, fps: 30, keyint: 30, rate: 48000, channels: 2})
	start := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	opts := func(dir string) Options {
		return Options{Dir: dir, Format: "mp4", Segment: 2 * time.Second, Start: start, Info: s.info, Keyframes: &keyReqs{}}
	}
	plainDir := filepath.Join(t.TempDir(), "plain")
	if err, _, _ := record(t, opts(plainDir), s.packets); err != nil {
		t.Fatal(err)
	}
	sp := media.NewSlabPool(16 << 10)
	var poisoned, slabs int
	sp.Poison = func(b []byte) {
		poisoned++ // one goroutine releases: the recorder's
		for i := range b {
			b[i] = 0xA5
		}
	}
	pooledDir := filepath.Join(t.TempDir(), "pooled")
	ps := pooled(sp, s.packets, &slabs)
	if err, _, _ := record(t, opts(pooledDir), ps); err != nil {
		t.Fatal(err)
	}
	a, b := listFiles(t, plainDir), listFiles(t, pooledDir)
	if len(a) != len(b) || len(a) < 3 {
		t.Fatalf("files %v and %v", a, b)
	}
	for i := range a {
		x, _ := os.ReadFile(a[i])
		y, _ := os.ReadFile(b[i])
		if !bytes.Equal(x, y) {
			t.Errorf("%s differs from the recording of plain packets (%d vs %d bytes)", filepath.Base(b[i]), len(y), len(x))
		}
	}
	var big int
	for _, p := range s.packets {
		if len(p.Data) > sp.Size {
			big++
		}
	}
	t.Logf("%d packets in %d slabs, %d returned and poisoned (%d packets over a slab, not pooled)", len(ps), slabs, poisoned, big)
	if poisoned != slabs {
		t.Errorf("%d of %d slabs came back to the pool: the recorder does not release everything it took", poisoned, slabs)
	}
}
