package input

import (
	"context"
	"hash/crc32"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/livecap/livecap/internal/fanout"
	"github.com/livecap/livecap/internal/media"
)

type auKey struct {
	kind media.Kind
	dts  time.Duration
}

// TestPooledPayloadsNeverReusedUnderASink runs the input through the
// fan-out to a slow lossless sink (which holds packets a while, the way
// the recorder holds a fragment), a shedding sink (a live destination
// whose queue drops GOPs) and a fast one, with every slab poisoned
// (overwritten) as it returns to the pool and every packet struct zeroed.
// Each payload is checked against the file's bytes (a checksum per access
// unit, made by a pass that releases nothing) when taken and again just
// before its release: any buffer reused under a sink fails it.
func TestPooledPayloadsNeverReusedUnderASink(t *testing.T) {
	for _, c := range []struct {
		name  string
		extra []string
	}{
		{"progressive", []string{"-preset", "ultrafast"}},
		{"fragmented", []string{"-preset", "ultrafast", "-movflags", "frag_keyframe+empty_moov"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			path := makeFile(t, t.TempDir(), "in.mp4", 6, c.extra...)
			r, err := Open(path, Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()

			// The reference: nothing released, so nothing can be reused.
			want := map[auKey]uint32{}
			var held []*media.Packet
			if err := r.Run(context.Background(), func(p *media.Packet) {
				if !p.Pooled() {
					t.Fatal("input packets are expected to be pooled")
				}
				want[auKey{p.Kind, p.DTS}] = crc32.ChecksumIEEE(p.Data)
				held = append(held, p)
			}); err != nil {
				t.Fatal(err)
			}
			for _, p := range held {
				p.Release()
			}
			if len(want) < 300 {
				t.Fatalf("only %d access units", len(want))
			}
			if r.reads*20 > len(want) {
				t.Errorf("%d sample reads for %d access units: the read-ahead is not working", r.reads, len(want))
			}
			t.Logf("%d access units, %d sample reads", len(want), r.reads)

			// Small windows, so that many slabs cycle through the pool
			// while sinks hold packets of several.
			var poisoned atomic.Int64
			r.pool = media.NewSlabPool(16 << 10)
			r.pool.Poison = func(b []byte) {
				poisoned.Add(1)
				for i := range b {
					b[i] = 0xA5
				}
			}

			var bad atomic.Int64
			check := func(where string, p *media.Packet) {
				w, ok := want[auKey{p.Kind, p.DTS}]
				if !ok || crc32.ChecksumIEEE(p.Data) != w {
					if bad.Add(1) <= 5 {
						t.Errorf("%s: %v packet at DTS %v: payload differs from the file (known %v)", where, p.Kind, p.DTS, ok)
					}
				}
			}
			const passes = 8
			hub := fanout.NewHub()
			slow := hub.Add("slow", fanout.Policy{Lossless: true})
			shed := hub.Add("shed", fanout.Policy{MaxBytes: 64 << 10, Stall: time.Millisecond})
			fast := hub.Add("fast", fanout.Policy{Lossless: true})
			var wg sync.WaitGroup
			var got [3]atomic.Int64
			sink := func(i int, q *fanout.Queue, hold int, pause time.Duration) {
				defer wg.Done()
				var window []*media.Packet
				for {
					p, ok := q.Next(context.Background())
					if !ok {
						break
					}
					got[i].Add(1)
					check(q.Name()+" take", p)
					window = append(window, p)
					if len(window) > hold {
						o := window[0]
						window = window[1:]
						check(q.Name()+" release", o)
						o.Release()
					}
					if pause > 0 && got[i].Load()%16 == 0 {
						time.Sleep(pause)
					}
				}
				for _, o := range window {
					check(q.Name()+" release", o)
					o.Release()
				}
			}
			wg.Add(3)
			go sink(0, slow, 40, 2*time.Millisecond)
			go sink(1, shed, 2, 5*time.Millisecond)
			go sink(2, fast, 0, 0)
			for range passes {
				if err := r.Run(context.Background(), hub.Publish); err != nil {
					t.Fatal(err)
				}
			}
			hub.Close()
			wg.Wait()
			st := shed.Stats()
			t.Logf("slow %d, shed %d (dropped %d video %d audio), fast %d; %d slabs poisoned",
				got[0].Load(), got[1].Load(), st.DroppedVideo, st.DroppedAudio, got[2].Load(), poisoned.Load())
			if n := int64(passes * len(want)); got[0].Load() != n || got[2].Load() != n {
				t.Errorf("lossless sinks got %d and %d packets, want %d", got[0].Load(), got[2].Load(), n)
			}
			if st.DroppedVideo == 0 {
				t.Error("the shedding sink dropped nothing: the test does not exercise shedding")
			}
			if poisoned.Load() < 50 {
				t.Error("no slab went back to the pool: nothing was reused, nothing was proved")
			}
		})
	}
}
