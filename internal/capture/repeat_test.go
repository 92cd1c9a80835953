package capture

import (
	"testing"
	"time"
)

func TestFrameRepeater(t *testing.T) {
	ms := time.Millisecond
	r := frameRepeater{interval: 100 * ms}
	if _, ok := r.due(time.Second); ok {
		t.Fatal("a repeat before any frame")
	}
	if !r.accept(1000 * ms) {
		t.Fatal("first frame refused")
	}
	// Within two intervals of the last frame: nothing due.
	for _, now := range []time.Duration{1000 * ms, 1150 * ms, 1199 * ms} {
		if pts, ok := r.due(now); ok {
			t.Fatalf("repeat due at %v (pts %v) after a frame at 1 s", now, pts)
		}
	}
	// A static screen for 0.55 s after 1.2 s: one repeat per interval,
	// each one interval after the one before.
	var got []time.Duration
	for now := 1200 * ms; now <= 1750*ms; now += 50 * ms {
		if pts, ok := r.due(now); ok {
			got = append(got, pts)
		}
	}
	want := []time.Duration{1100 * ms, 1200 * ms, 1300 * ms, 1400 * ms, 1500 * ms, 1600 * ms}
	if len(got) != len(want) {
		t.Fatalf("repeats %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("repeats %v, want %v", got, want)
		}
	}
	// A real frame captured before the last repeat is refused (it would
	// go back in time); a later one is taken and resets the cadence.
	if r.accept(1550 * ms) {
		t.Fatal("a frame older than the last repeat was accepted")
	}
	if !r.accept(1610 * ms) {
		t.Fatal("a frame after the last repeat was refused")
	}
	if _, ok := r.due(1700 * ms); ok {
		t.Fatal("repeat due right after a real frame")
	}
	if pts, ok := r.due(1810 * ms); !ok || pts != 1710*ms {
		t.Fatalf("repeat after the real frame: %v %v, want 1.71 s", pts, ok)
	}
}
