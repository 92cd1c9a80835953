package meter

import (
	"testing"
	"time"
)

func TestRate(t *testing.T) {
	r := Rate{Window: 3 * time.Second}
	t0 := time.Unix(0, 0)
	if got := r.Update(t0, 0); got != 0 {
		t.Fatalf("first reading: %v", got)
	}
	// 1000 per second for 5 s, then 4000 per second: the window follows
	// within its 3 s.
	total := uint64(0)
	for i := 1; i <= 5; i++ {
		total += 1000
		if got := r.Update(t0.Add(time.Duration(i)*time.Second), total); got != 1000 {
			t.Fatalf("after %d s: %v, want 1000", i, got)
		}
	}
	for i := 6; i <= 9; i++ {
		total += 4000
		r.Update(t0.Add(time.Duration(i)*time.Second), total)
	}
	if got := r.rate; got != 4000 {
		t.Fatalf("after the change: %v, want 4000", got)
	}
	// A counter that restarts (a new connection) starts a new window.
	if got := r.Update(t0.Add(10*time.Second), 10); got != 4000 {
		t.Fatalf("reset keeps the last rate until a second reading: %v", got)
	}
	if got := r.Update(t0.Add(11*time.Second), 510); got != 500 {
		t.Fatalf("after reset: %v, want 500", got)
	}
	// The slice stays bounded by the window.
	for i := 12; i < 1000; i++ {
		r.Update(t0.Add(time.Duration(i)*time.Second), uint64(i))
	}
	if len(r.samples) > 5 {
		t.Fatalf("%d samples kept", len(r.samples))
	}
}
