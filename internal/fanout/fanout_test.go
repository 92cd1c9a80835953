package fanout

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/livecap/livecap/internal/media"
)

const frame = time.Second / 30

// gop makes n video frames (the first a keyframe) with one audio packet
// after each, starting at t0.
func gop(t0 time.Duration, n int, size int) []*media.Packet {
	var out []*media.Packet
	for i := 0; i < n; i++ {
		t := t0 + time.Duration(i)*frame
		out = append(out,
			&media.Packet{Kind: media.Video, PTS: t, DTS: t, Key: i == 0, Data: make([]byte, size)},
			&media.Packet{Kind: media.Audio, PTS: t, DTS: t, Key: true, Data: make([]byte, 10)})
	}
	return out
}

// A sink that never reads must not delay another sink: the second sink gets
// every packet while the first is blocked forever.
func TestBlockedSinkNeverDelaysAnother(t *testing.T) {
	h := NewHub()
	blocked := h.Add("blocked", Policy{Lossless: true})
	_ = blocked // never drained: a sink stuck in a write forever
	bounded := h.Add("stuck-stream", Policy{MaxDuration: time.Second, MaxBytes: 1 << 20})
	rec := h.Add("recorder", Policy{Lossless: true})

	const total = 30 * 60 * 2 // one minute of 30 fps video + audio
	var got int
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			if _, ok := rec.Next(context.Background()); !ok {
				return
			}
			got++
		}
	}()
	for g := 0; g < 60; g++ {
		for _, p := range gop(time.Duration(g)*time.Second, 30, 1000) {
			h.Publish(p)
		}
	}
	h.Close()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("recorder sink did not finish: a blocked sink delayed it")
	}
	if got != total {
		t.Fatalf("recorder got %d packets, want %d", got, total)
	}
	st := bounded.Stats()
	if st.Duration > time.Second || st.Bytes > 1<<20 {
		t.Fatalf("bounded queue over budget: %+v", st)
	}
	if st.DroppedVideo == 0 {
		t.Fatal("bounded queue dropped nothing")
	}
	if got := blocked.Stats().Packets; got != total {
		t.Fatalf("lossless queue holds %d, want %d", got, total)
	}
}

// What a bounded queue keeps always starts on a video keyframe, or in the
// middle of the GOP the sink is already sending, never in a GOP it skipped.
func TestBoundedQueueDropsWholeGOPs(t *testing.T) {
	h := NewHub()
	q := h.Add("dest", Policy{MaxDuration: 2 * time.Second})
	for g := 0; g < 10; g++ {
		for _, p := range gop(time.Duration(g)*time.Second, 30, 100) {
			h.Publish(p)
		}
	}
	h.Close()
	first := true
	var frames int
	for {
		p, ok := q.Next(context.Background())
		if !ok {
			break
		}
		if first {
			if p.Kind != media.Video || !p.Key {
				t.Fatalf("queue resumes on %v key=%v, want a video keyframe", p.Kind, p.Key)
			}
			first = false
		}
		if p.Kind == media.Video {
			frames++
		}
	}
	st := q.Stats()
	if frames+int(st.DroppedVideo) != 300 {
		t.Fatalf("kept %d + dropped %d video frames, want 300", frames, st.DroppedVideo)
	}
	if frames%30 != 0 || frames == 0 || frames > 90 {
		t.Fatalf("kept %d frames: want whole GOPs within 2 s budget", frames)
	}
}

// A queue whose budget is smaller than one GOP sheds it and waits for the
// next keyframe instead of sending a partial GOP.
func TestWaitsForKeyframeWhenOneGOPOverflows(t *testing.T) {
	h := NewHub()
	q := h.Add("dest", Policy{MaxBytes: 5000})
	for _, p := range gop(0, 30, 1000) {
		h.Publish(p)
	}
	for _, p := range gop(time.Second, 3, 100) {
		h.Publish(p)
	}
	h.Close()
	p, ok := q.Next(context.Background())
	if !ok || p.Kind != media.Video || !p.Key || p.PTS != time.Second {
		t.Fatalf("first packet after overflow: %+v ok=%v, want the keyframe at 1s", p, ok)
	}
}

func TestSkipToKeyframe(t *testing.T) {
	h := NewHub()
	q := h.Add("dest", Policy{Lossless: true})
	ps := gop(0, 5, 10)
	for _, p := range ps[2:] { // starts mid-GOP
		h.Publish(p)
	}
	q.SkipToKeyframe()
	for _, p := range gop(time.Second, 2, 10) {
		h.Publish(p)
	}
	p, _ := q.Next(context.Background())
	if !p.Key || p.PTS != time.Second {
		t.Fatalf("after SkipToKeyframe got %+v", p)
	}
	if st := q.Stats(); st.DroppedVideo != 4 {
		t.Fatalf("dropped %d video frames, want 4", st.DroppedVideo)
	}
}

func TestConcurrentPublishAndDrain(t *testing.T) {
	h := NewHub()
	var wg sync.WaitGroup
	counts := make([]int, 4)
	for i := range counts {
		q := h.Add("s", Policy{Lossless: true})
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			for {
				if _, ok := q.Next(context.Background()); !ok {
					return
				}
				counts[i]++
			}
		}(i)
	}
	ps := gop(0, 1000, 1)
	for _, p := range ps {
		h.Publish(p)
	}
	h.Close()
	wg.Wait()
	for i, c := range counts {
		if c != len(ps) {
			t.Fatalf("sink %d got %d of %d", i, c, len(ps))
		}
	}
}

func BenchmarkPublishTwoSinks(b *testing.B) {
	h := NewHub()
	q1 := h.Add("rec", Policy{Lossless: true})
	q2 := h.Add("dest", Policy{MaxDuration: 4 * time.Second, MaxBytes: 16 << 20})
	p := &media.Packet{Kind: media.Video, Key: true, Data: make([]byte, 16700)}
	ctx := context.Background()
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		h.Publish(p)
		q1.Next(ctx)
		q2.Next(ctx)
	}
}

// WaitRoom slows a source that can wait to a sink that is draining, from
// the first packet on (the sink starts draining a while after it was
// added, as a publisher does once connected), but never waits for a sink
// that takes nothing for its Stall.
func TestWaitRoom(t *testing.T) {
	h := NewHub()
	stalled := h.Add("stalled", Policy{MaxDuration: time.Second, Stall: 300 * time.Millisecond})
	slow := h.Add("slow", Policy{MaxDuration: time.Second, Stall: 5 * time.Second})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var maxHeld time.Duration
	go func() {
		time.Sleep(500 * time.Millisecond) // connecting
		for {
			if _, ok := slow.Next(ctx); !ok {
				return
			}
			time.Sleep(time.Millisecond)
		}
	}()
	for g := 0; g < 4; g++ {
		for _, p := range gop(time.Duration(g)*time.Second, 30, 100) {
			if err := h.WaitRoom(ctx); err != nil {
				t.Fatal(err)
			}
			h.Publish(p)
			if d := slow.Stats().Duration; d > maxHeld {
				maxHeld = d
			}
		}
	}
	if st := slow.Stats(); st.DroppedVideo != 0 {
		t.Fatalf("the draining sink dropped %d frames: WaitRoom did not hold the source back", st.DroppedVideo)
	}
	if stalled.Stats().DroppedVideo == 0 {
		t.Fatal("the stalled sink should shed GOPs, not hold the source")
	}
	select {
	case <-stalled.Drops():
	default:
		t.Fatal("the stalled sink shed without signalling Drops")
	}
	h.Close()
}

// WaitRoom sleeps until a sink takes a packet: no polling, no allocation.
func BenchmarkWaitRoomUncongested(b *testing.B) {
	h := NewHub()
	q := h.Add("d", Policy{MaxDuration: 4 * time.Second})
	p := &media.Packet{Kind: media.Video, Key: true, Data: make([]byte, 100)}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if err := h.WaitRoom(ctx); err != nil {
			b.Fatal(err)
		}
		h.Publish(p)
		q.Next(ctx)
	}
}

// A source held back by WaitRoom resumes only once the queue it waited on
// is down to a quarter of its budget (hysteresis): it then publishes a
// burst, instead of being woken for every packet the sink takes.
func TestWaitRoomHysteresis(t *testing.T) {
	h := NewHub()
	pol := Policy{MaxDuration: 4 * time.Second}
	q := h.Add("dest", pol)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			p, ok := q.Next(ctx)
			if !ok {
				return
			}
			p.Release()
			time.Sleep(50 * time.Microsecond)
		}
	}()
	blocks := 0
	const gops = 20
	for g := 0; g < gops; g++ {
		for _, p := range gop(time.Duration(g)*time.Second, 30, 100) {
			high := q.Stats().Duration > pol.MaxDuration/2
			if err := h.WaitRoom(ctx); err != nil {
				t.Fatal(err)
			}
			if high {
				blocks++
				if d := q.Stats().Duration; d > pol.MaxDuration/4 {
					t.Fatalf("WaitRoom let the source go on with %v queued, want at most %v (the low-water mark)", d, pol.MaxDuration/4)
				}
			}
			h.Publish(p)
		}
	}
	h.Close()
	<-done
	// 20 s of media, one wait per second of it at most (high 2 s, low 1 s).
	if blocks == 0 || blocks > gops {
		t.Fatalf("the source waited %d times for %d s of media, want 1 to %d", blocks, gops, gops)
	}
	if st := q.Stats(); st.DroppedVideo+st.DroppedAudio != 0 {
		t.Fatalf("dropped %d video %d audio: back-pressure did not hold", st.DroppedVideo, st.DroppedAudio)
	}
}

// sleeping reports whether q's sink waits on an empty queue.
func sleeping(q *Queue) bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.sleeping
}

func waitAsleep(t *testing.T, q *Queue) {
	t.Helper()
	for i := 0; !sleeping(q); i++ {
		if i > 5000 {
			t.Fatal("the sink never went to sleep on its empty queue")
		}
		time.Sleep(time.Millisecond)
	}
}

// A sink is woken only when it sleeps on an empty queue: packets queued
// while it works cost no wake-up, and it takes them all before sleeping.
func TestWakeOnlyAnEmptyQueuesSink(t *testing.T) {
	h := NewHub()
	q := h.Add("rec", Policy{Lossless: true})
	ps := gop(0, 50, 10)
	for _, p := range ps {
		h.Publish(p)
	}
	got := make(chan int)
	go func() {
		n := 0
		for {
			if _, ok := q.Next(context.Background()); !ok {
				got <- n
				return
			}
			n++
		}
	}()
	waitAsleep(t, q)
	if w := q.Stats().Wakeups; w != 0 {
		t.Fatalf("%d wake-ups for packets queued before the sink waited", w)
	}
	h.Publish(&media.Packet{Kind: media.Audio, Data: make([]byte, 10)})
	waitAsleep(t, q)
	if w := q.Stats().Wakeups; w != 1 {
		t.Fatalf("%d wake-ups for one packet to a sleeping sink, want 1", w)
	}
	h.Close()
	if n := <-got; n != len(ps)+1 {
		t.Fatalf("the sink got %d packets, want %d", n, len(ps)+1)
	}
}

// With Batch, a sink that keeps up is woken once per burst; WaitRoom hands
// over what is held before it waits (no dead-lock on a batch larger than
// the queue's budget) and Close hands over the tail.
func TestBatchWakesPerBurst(t *testing.T) {
	for _, tc := range []struct {
		name  string
		pol   Policy
		batch int
	}{
		{"lossless", Policy{Lossless: true}, 16},
		{"batch over the budget", Policy{MaxDuration: time.Second}, 1000},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := NewHub()
			h.Batch(tc.batch)
			q := h.Add("s", tc.pol)
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			got := make(chan int)
			go func() {
				n := 0
				for {
					p, ok := q.Next(ctx)
					if !ok {
						got <- n
						return
					}
					p.Release()
					n++
				}
			}()
			var ps []*media.Packet
			for g := 0; g < 10; g++ {
				ps = append(ps, gop(time.Duration(g)*time.Second, 30, 100)...)
			}
			ps = ps[:len(ps)-3] // a tail shorter than a batch
			for _, p := range ps {
				if err := h.WaitRoom(ctx); err != nil {
					t.Fatalf("WaitRoom: %v (packets held for a batch while the source waited)", err)
				}
				h.Publish(p)
			}
			h.Close()
			if n := <-got; n != len(ps) {
				t.Fatalf("the sink got %d of %d packets", n, len(ps))
			}
			st := q.Stats()
			if st.DroppedVideo+st.DroppedAudio != 0 {
				t.Fatalf("dropped %d video %d audio", st.DroppedVideo, st.DroppedAudio)
			}
			if max := uint64(len(ps)/min(tc.batch, 30) + 2); st.Wakeups > max {
				t.Fatalf("%d wake-ups for %d packets, want at most %d", st.Wakeups, len(ps), max)
			}
			t.Logf("%d packets, %d wake-ups", len(ps), st.Wakeups)
		})
	}
}

// WaitRoom's lock-free fast path counts the queues past half their budget:
// the count follows pushes, takes, shedding and removal exactly.
func TestHighCountFollowsQueues(t *testing.T) {
	h := NewHub()
	a := h.Add("a", Policy{MaxDuration: 1500 * time.Millisecond})
	b := h.Add("b", Policy{Lossless: true})
	check := func(want int32, when string) {
		t.Helper()
		if n := h.nhigh.Load(); n != want {
			t.Fatalf("%s: %d queues counted high, want %d", when, n, want)
		}
	}
	for _, p := range gop(0, 30, 100) { // 1 s: a is high, b is not
		h.Publish(p)
	}
	check(1, "after 1 s of media")
	for a.Stats().Duration > 750*time.Millisecond {
		a.TryNext()
	}
	check(0, "after a drained to half its budget")
	for _, p := range gop(time.Second, 30, 1<<20/30*9) { // 9 MiB: b is high
		h.Publish(p)
	}
	check(2, "after 9 MiB more")
	a.SkipToKeyframe()
	for a.Stats().Packets > 1 {
		a.TryNext()
	}
	check(1, "after a drained")
	h.Remove(b)
	check(0, "after b was removed")
	if err := h.WaitRoom(context.Background()); err != nil {
		t.Fatal(err)
	}
	h.Close()
}
