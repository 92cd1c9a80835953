package record

import (
	"bytes"
	"context"
	"encoding/binary"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/livecap/livecap/internal/fanout"
)

// countBoxes counts the top-level boxes of type typ in the file at path.
func countBoxes(t *testing.T, path, typ string) int {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for p := 0; p+8 <= len(b); {
		size := int(binary.BigEndian.Uint32(b[p:]))
		if size < 8 {
			t.Fatalf("%s: box of size %d at %d", path, size, p)
		}
		if string(b[p+4:p+8]) == typ {
			n++
		}
		p += size
	}
	return n
}

// TestFragmentSyncPacing records the same stream with the wall clock
// running as live capture runs it (a fragment a second) and a hundred
// times faster (a file copied with --fast). Live, every fragment is
// synced as it is written; fast, fragments are synced at most once per
// syncEvery of wall-clock time, but a file is still synced before its
// name appears and when it closes. Both give the same bytes.
func TestFragmentSyncPacing(t *testing.T) {
	s := makeStream(t, streamSpec{secs: 8, fps: 30, keyint: 30, rate: 48000, channels: 1})
	start := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	rec := func(step time.Duration) (syncs int, files []string) {
		dir := t.TempDir()
		now := start
		clock := func() time.Time { now = now.Add(step); return now }
		r, err := New(Options{Dir: dir, Segment: 4 * time.Second, Start: start, Info: s.info, Log: zerolog.Nop(), Keyframes: &keyReqs{}, clock: clock})
		if err != nil {
			t.Fatal(err)
		}
		hub := fanout.NewHub()
		q := hub.Add("record", fanout.Policy{Lossless: true})
		done := make(chan error, 1)
		go func() { done <- r.Run(context.Background(), q) }()
		for _, p := range s.packets {
			hub.Publish(p)
		}
		hub.Close()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		return r.dir.syncs, listFiles(t, dir)
	}
	liveSyncs, live := rec(time.Second)
	fastSyncs, fast := rec(10 * time.Millisecond)
	if len(live) != 2 || len(fast) != 2 {
		t.Fatalf("files: live %v, fast %v; want 2 each", live, fast)
	}
	moofs := 0
	for i := range live {
		a, _ := os.ReadFile(live[i])
		b, _ := os.ReadFile(fast[i])
		if !bytes.Equal(a, b) {
			t.Errorf("%s and %s differ: pacing the syncs changed what is written", filepath.Base(live[i]), filepath.Base(fast[i]))
		}
		moofs += countBoxes(t, live[i], "moof")
	}
	if moofs < 6 {
		t.Fatalf("%d fragments in 8 s of media; want one a second", moofs)
	}
	// Live: one sync per fragment (the first of each file with its
	// creation), and one as each file closes.
	if liveSyncs < moofs+len(live) {
		t.Errorf("live: %d syncs for %d fragments in %d files; want every fragment synced as it is written", liveSyncs, moofs, len(live))
	}
	// Fast: 80 ms of wall clock for the whole recording: each file is
	// synced when it appears and when it closes, nothing in between.
	if fastSyncs != 2*len(fast) {
		t.Errorf("fast: %d syncs for %d files; want %d (creation and close of each)", fastSyncs, len(fast), 2*len(fast))
	}
	t.Logf("%d fragments: %d syncs live, %d fast", moofs, liveSyncs, fastSyncs)
}
