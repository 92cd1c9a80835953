package publish

import (
	"math"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"
)

// nearestRank is the reference percentile: the value of rank ceil(q*n)
// in sorted order.
func nearestRank(sorted []time.Duration, q float64) time.Duration {
	r := int(math.Ceil(q * float64(len(sorted))))
	return sorted[max(r, 1)-1]
}

// TestLatencyHistogram checks the histogram's percentiles against a sorted
// slice of the same values, for distributions inside, below and above the
// bucket range.
func TestLatencyHistogram(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	dists := map[string]func() time.Duration{
		"log-uniform 10us..10s": func() time.Duration {
			return time.Duration(float64(histLow) * math.Pow(10, 6*rng.Float64()))
		},
		"exponential 2ms": func() time.Duration {
			return histLow + time.Duration(rng.ExpFloat64()*float64(2*time.Millisecond))
		},
		"constant 3.3ms": func() time.Duration { return 3300 * time.Microsecond },
		"bimodal, 2% at 800ms": func() time.Duration {
			if rng.IntN(50) == 0 {
				return 800*time.Millisecond + time.Duration(rng.IntN(1000))*time.Microsecond
			}
			return 900*time.Microsecond + time.Duration(rng.IntN(400))*time.Microsecond
		},
		"partly out of range": func() time.Duration {
			return time.Duration(float64(time.Microsecond) * math.Pow(10, 8*rng.Float64()))
		},
	}
	// Half the width of a bucket, as a ratio: the largest error of its
	// geometric middle.
	tol := math.Pow(10, 0.5/histPerDecade)
	for name, gen := range dists {
		for _, n := range []int{1, 7, 100, 10000} {
			var h latencyHist
			vals := make([]time.Duration, n)
			for i := range vals {
				vals[i] = gen()
				h.Record(vals[i])
			}
			slices.Sort(vals)
			s := h.Snapshot()
			if s.Count != uint64(n) || s.Max != vals[n-1] {
				t.Fatalf("%s n=%d: count %d max %v, want %d %v", name, n, s.Count, s.Max, n, vals[n-1])
			}
			for _, c := range []struct {
				q   float64
				got time.Duration
			}{{0.50, s.P50}, {0.99, s.P99}} {
				want := nearestRank(vals, c.q)
				switch {
				case want < histLow:
					if c.got >= histLow {
						t.Errorf("%s n=%d p%v: %v for %v, under the range", name, n, c.q*100, c.got, want)
					}
				case want >= histHigh:
					if c.got < histHigh || c.got > s.Max {
						t.Errorf("%s n=%d p%v: %v for %v, over the range (max %v)", name, n, c.q*100, c.got, want, s.Max)
					}
				default:
					if r := float64(c.got) / float64(want); r > tol || r < 1/tol {
						t.Errorf("%s n=%d p%v: %v, exact %v (ratio %.4f, allowed %.4f)", name, n, c.q*100, c.got, want, r, tol)
					}
				}
				if c.got > s.Max {
					t.Errorf("%s n=%d p%v: %v over the max %v", name, n, c.q*100, c.got, s.Max)
				}
			}
		}
	}

	var h latencyHist
	if s := h.Snapshot(); s != (LatencyStats{}) {
		t.Errorf("empty histogram: %+v", s)
	}
	h.Record(-time.Millisecond) // clocks that disagree: counted as 0
	if s := h.Snapshot(); s.Count != 1 || s.Max != 0 || s.P99 != 0 {
		t.Errorf("negative sample: %+v", s)
	}
	if got := (LatencyStats{Count: 3, P50: 1234567, P99: 45678901, Max: 2 * time.Second}).String(); got != "p50 1.23ms p99 45.7ms max 2s (n=3)" {
		t.Errorf("String: %q", got)
	}
}

// TestLatencyBuckets checks the bucket bounds: increasing, from histLow to
// histHigh, and every value lands in the bucket whose bounds hold it.
func TestLatencyBuckets(t *testing.T) {
	if histBounds[0] != histLow || histBounds[len(histBounds)-1] != histHigh {
		t.Fatalf("bounds %v .. %v", histBounds[0], histBounds[len(histBounds)-1])
	}
	for i := 1; i < len(histBounds); i++ {
		if histBounds[i] <= histBounds[i-1] {
			t.Fatalf("bounds not increasing at %d: %v, %v", i, histBounds[i-1], histBounds[i])
		}
	}
	for _, d := range []time.Duration{0, 1, histLow - 1, histLow, histLow + 1, time.Millisecond, histHigh - 1, histHigh, math.MaxInt64} {
		i := bucket(d)
		if i > 0 && d < histBounds[i-1] || i < len(histBounds) && d >= histBounds[i] {
			t.Errorf("%v in bucket %d", d, i)
		}
	}
}

// TestLatencyConcurrent records on one goroutine while another takes
// snapshots, as the publisher and the status line do (run with -race).
func TestLatencyConcurrent(t *testing.T) {
	var h latencyHist
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := range 20000 {
			h.Record(time.Duration(i) * time.Microsecond)
		}
	}()
	var last uint64
	for range 200 {
		s := h.Snapshot()
		if s.Count < last || s.P50 > s.P99 || s.P99 > s.Max {
			t.Fatalf("inconsistent snapshot %+v (previous count %d)", s, last)
		}
		last = s.Count
	}
	wg.Wait()
	if s := h.Snapshot(); s.Count != 20000 || s.Max != 19999*time.Microsecond {
		t.Fatalf("final %+v", s)
	}
}

// BenchmarkLatencyRecord is the per-packet cost of the instrumentation.
func BenchmarkLatencyRecord(b *testing.B) {
	var h latencyHist
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		h.Record(time.Duration(i&0xFFFFF) * time.Microsecond)
	}
}

// bucket's narrowed search finds what a search of every bound finds, at
// every bound, around it, at every power of two and in between.
func TestLatencyBucketNarrowed(t *testing.T) {
	check := func(d time.Duration) {
		if d < 0 {
			return
		}
		if got, want := bucket(d), searchBounds(d, 0, len(histBounds)); got != want {
			t.Fatalf("bucket(%v) = %d, want %d", d, got, want)
		}
	}
	for _, b := range histBounds {
		check(b - 1)
		check(b)
		check(b + 1)
	}
	for n := 0; n < 63; n++ {
		p := time.Duration(1) << n
		check(p - 1)
		check(p)
		check(p + 1)
	}
	check(math.MaxInt64)
	x := uint64(1)
	for i := 0; i < 100000; i++ {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
		check(time.Duration(x >> (1 + x%40)))
	}
}
