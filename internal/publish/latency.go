package publish

import (
	"fmt"
	"math"
	"math/bits"
	"sync/atomic"
	"time"
)

// LatencyStats summarizes a latency distribution. Percentiles come from a
// fixed log-spaced histogram (see latencyHist), so they are within about 2.5%
// of the exact value; Max is exact. All zero when nothing was measured.
type LatencyStats struct {
	Count    uint64
	P50, P99 time.Duration
	Max      time.Duration
}

// String is a short human form, "p50 1.2ms p99 4.8ms max 9.1ms (n=1800)",
// for status lines and reports.
func (l LatencyStats) String() string {
	if l.Count == 0 {
		return "no packets measured"
	}
	return fmt.Sprintf("p50 %v p99 %v max %v (n=%d)", round(l.P50), round(l.P99), round(l.Max), l.Count)
}

// round keeps three significant digits, enough for a latency figure.
func round(d time.Duration) time.Duration {
	switch {
	case d >= time.Second:
		return d.Round(10 * time.Millisecond)
	case d >= 100*time.Millisecond:
		return d.Round(time.Millisecond)
	case d >= 10*time.Millisecond:
		return d.Round(100 * time.Microsecond)
	case d >= time.Millisecond:
		return d.Round(10 * time.Microsecond)
	default:
		return d.Round(time.Microsecond)
	}
}

// Histogram layout: bucket 0 holds everything under histLow, bucket
// histBuckets-1 everything at or over histHigh, and the buckets between
// split [histLow, histHigh) into histPerDecade geometric steps per decade.
// 50 per decade makes each bucket 4.7% wide, so reporting its geometric
// middle is off by at most 2.3%: finer than the run-to-run noise of any
// latency on a shared machine, for 2.4 KB per histogram.
const (
	histLow       = 10 * time.Microsecond
	histHigh      = 10 * time.Second
	histDecades   = 6 // log10(histHigh/histLow)
	histPerDecade = 50
	histBuckets   = histDecades*histPerDecade + 2
)

// histBounds[i] is the lower bound of bucket i+1 (so histBounds[0] is
// histLow and histBounds[len-1] is histHigh). Computed once: recording a
// value is a binary search over it, no floating point and no allocation.
var histBounds = func() [histBuckets - 1]time.Duration {
	var b [histBuckets - 1]time.Duration
	for i := range b {
		b[i] = time.Duration(math.Round(float64(histLow) * math.Pow(10, float64(i)/histPerDecade)))
	}
	b[len(b)-1] = histHigh // exact, whatever the float rounding
	return b
}()

// latencyHist counts durations into fixed buckets. Record is wait-free and
// never allocates (it runs once per packet on the publisher's goroutine);
// Snapshot may run on any goroutine at the same time.
type latencyHist struct {
	counts [histBuckets]atomic.Uint64
	max    atomic.Int64
}

// bucket returns the index of the bucket d (>= 0) falls in: the number of
// bounds <= d, searched for only among the few bounds (at most 16) between
// the powers of two around d.
func bucket(d time.Duration) int {
	r := histPow[bits.Len64(uint64(d))]
	return searchBounds(d, int(r[0]), int(r[1]))
}

// searchBounds is the number of bounds <= d, knowing that it is in
// [lo, hi].
func searchBounds(d time.Duration, lo, hi int) int {
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if histBounds[m] <= d {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo
}

// histPow[n] is the range of bucket for the durations of bit length n,
// [2^(n-1), 2^n - 1] (n = 0: just 0).
var histPow = func() (r [64][2]uint16) {
	for n := range r {
		var a, b time.Duration
		if n > 0 {
			a, b = 1<<(n-1), 1<<(n-1)|(1<<(n-1)-1)
		}
		r[n] = [2]uint16{uint16(searchBounds(a, 0, len(histBounds))), uint16(searchBounds(b, 0, len(histBounds)))}
	}
	return r
}()

// Record adds one measurement; a negative one (clocks that are not the
// same, or a virtual clock) counts as 0.
func (h *latencyHist) Record(d time.Duration) {
	if d < 0 {
		d = 0
	}
	h.counts[bucket(d)].Add(1)
	for {
		m := h.max.Load()
		if int64(d) <= m || h.max.CompareAndSwap(m, int64(d)) {
			return
		}
	}
}

// RecordN adds n measurements of the same duration d.
func (h *latencyHist) RecordN(d time.Duration, n uint64) {
	if n == 0 {
		return
	}
	if d < 0 {
		d = 0
	}
	h.counts[bucket(d)].Add(n)
	for {
		m := h.max.Load()
		if int64(d) <= m || h.max.CompareAndSwap(m, int64(d)) {
			return
		}
	}
}

// Snapshot computes the summary. Counters are read one by one, so a
// snapshot taken while packets are recorded may miss the newest: Count is
// the sum of what was read, which keeps the percentiles consistent with it.
func (h *latencyHist) Snapshot() LatencyStats {
	var c [histBuckets]uint64
	var n uint64
	for i := range h.counts {
		c[i] = h.counts[i].Load()
		n += c[i]
	}
	if n == 0 {
		return LatencyStats{}
	}
	s := LatencyStats{Count: n, Max: time.Duration(h.max.Load())}
	s.P50 = percentile(&c, n, 0.50, s.Max)
	s.P99 = percentile(&c, n, 0.99, s.Max)
	return s
}

// percentile returns the nearest-rank q-quantile (the value of rank
// ceil(q*n) in sorted order) estimated by the middle of its bucket, never
// more than the exact maximum.
func percentile(c *[histBuckets]uint64, n uint64, q float64, max time.Duration) time.Duration {
	rank := uint64(math.Ceil(q * float64(n)))
	if rank < 1 {
		rank = 1
	}
	var cum uint64
	i := 0
	for ; i < len(c); i++ {
		cum += c[i]
		if cum >= rank {
			break
		}
	}
	var v time.Duration
	switch {
	case i == 0:
		v = histLow / 2 // under the range: its middle, capped by max below
	case i >= histBuckets-1:
		v = max // over the range: only the maximum is known
	default:
		lo, hi := histBounds[i-1], histBounds[i]
		v = time.Duration(math.Sqrt(float64(lo) * float64(hi)))
	}
	if v > max {
		v = max
	}
	return v
}
