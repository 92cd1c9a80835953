package analyze

import (
	"math"
	"sort"
	"time"
)

type flash struct {
	t    int64 // session µs
	file int
	num  *uint32
}

type beep struct {
	t    int64
	file int
	used bool
}

// onsetTimes places every beep onset on the session timeline. Files that
// share a detector were read as one stream; an onset near the boundary of
// two files whose audio does not join (more than 2 ms apart) is dropped:
// the detector saw the end of one file glued to the start of the other.
func onsetTimes(files []*fileData) []beep {
	var out []beep
	type span struct {
		file       int
		base, end  int64 // detector sample positions
		first      []int64
		continuous bool // audio joins the previous file's
		startUS    int64
	}
	var spans []span
	for i, f := range files {
		d := f.dec
		if d.det == nil {
			continue
		}
		sp := span{file: i, base: d.base, first: make([]int64, len(d.audSamples))}
		var total int64
		for j, n := range d.audSamples {
			sp.first[j] = total
			total += n
		}
		sp.end = d.base + total
		if len(spans) > 0 && len(d.audPTS) > 0 {
			p := spans[len(spans)-1]
			pf := files[p.file]
			if pf.dec.det == d.det && p.end == d.base && len(pf.dec.audPTS) > 0 {
				_, prevEnd := audioSpan(pf.dec)
				sp.continuous = abs64(d.audPTS[0]+f.shift-prevEnd-pf.shift) <= 2000
			}
		}
		spans = append(spans, sp)
	}
	for k, sp := range spans {
		d := files[sp.file].dec
		guard := float64(d.det.ms(60))
		for _, pos := range d.det.onsets {
			if pos < float64(sp.base) || pos >= float64(sp.end) {
				continue
			}
			if float64(sp.base) > 0 && pos < float64(sp.base)+guard && k > 0 && !sp.continuous && spans[k-1].end == sp.base {
				continue
			}
			if k+1 < len(spans) && spans[k+1].base == sp.end && !spans[k+1].continuous && pos > float64(sp.end)-guard {
				continue
			}
			t := sampleTime(d, sp.first, pos-float64(sp.base))
			out = append(out, beep{t: t + files[sp.file].shift, file: sp.file})
		}
	}
	return out
}

// audioSpan returns the first and end presentation times (µs) of a file's
// decoded audio.
func audioSpan(d *decoded) (start, end int64) {
	n := len(d.audPTS)
	return d.audPTS[0], d.audPTS[n-1] + d.audSamples[n-1]*1e6/int64(d.sampleRate)
}

// sampleTime maps a fractional sample position (in the concatenation of
// decoded audio frames) to its presentation time in µs; first[j] is the
// position of frame j's first sample.
func sampleTime(d *decoded, first []int64, pos float64) int64 {
	j := sort.Search(len(first), func(j int) bool { return float64(first[j]) > pos }) - 1
	j = max(j, 0)
	return d.audPTS[j] + int64(math.Round((pos-float64(first[j]))*1e6/float64(d.sampleRate)))
}

// minDriftSpan is the shortest span of pairs over which a drift per hour is
// reported.
const minDriftSpan = 10 * time.Minute

func pairUp(flashes []flash, beeps []beep, opts Options) Sync {
	var s Sync
	var pairs []Pair
	sort.Slice(beeps, func(a, b int) bool { return beeps[a].t < beeps[b].t })
	win := int64(pairWindow / time.Microsecond)
	for _, f := range flashes {
		i := sort.Search(len(beeps), func(i int) bool { return beeps[i].t >= f.t })
		best := -1
		for _, k := range []int{i - 1, i} {
			if k < 0 || k >= len(beeps) || beeps[k].used || abs64(beeps[k].t-f.t) > win {
				continue
			}
			if best < 0 || abs64(beeps[k].t-f.t) < abs64(beeps[best].t-f.t) {
				best = k
			}
		}
		if best < 0 {
			s.UnpairedFlashes++
			continue
		}
		beeps[best].used = true
		pairs = append(pairs, Pair{File: f.file, Frame: f.num, VideoS: us2s(f.t), OffsetMs: us2ms(beeps[best].t - f.t)})
	}
	s.UnpairedBeeps = len(beeps) - len(pairs)
	s.Pairs = len(pairs)
	if len(pairs) == 0 {
		return s
	}
	offs := make([]float64, len(pairs))
	var sum, sumT, sumTT, sumTO float64
	s.MinMs, s.MaxMs = math.Inf(1), math.Inf(-1)
	t0 := pairs[0].VideoS
	for i, p := range pairs {
		o := p.OffsetMs
		offs[i] = o
		sum += o
		s.MinMs = math.Min(s.MinMs, o)
		s.MaxMs = math.Max(s.MaxMs, o)
		s.MaxAbsMs = math.Max(s.MaxAbsMs, math.Abs(o))
		t := (p.VideoS - t0) / 3600
		sumT += t
		sumTT += t * t
		sumTO += t * o
	}
	n := float64(len(pairs))
	s.MeanMs = sum / n
	var ss float64
	for _, o := range offs {
		ss += (o - s.MeanMs) * (o - s.MeanMs)
	}
	s.StdDevMs = math.Sqrt(ss / n)
	s.MedianMs = median(offs)
	s.SpanS = pairs[len(pairs)-1].VideoS - t0
	if den := n*sumTT - sumT*sumT; len(pairs) >= 2 && den > 0 {
		slope := (n*sumTO - sumT*sum) / den // ms per hour
		s.DriftMs = slope * s.SpanS / 3600
		if s.SpanS >= minDriftSpan.Seconds() {
			s.DriftMsPerHour = slope
		}
	}
	k := min(5, len(offs))
	s.StartMs = median(offs[:k])
	s.EndMs = median(offs[len(offs)-k:])

	iv := opts.Interval.Seconds()
	for i := 0; i < len(pairs); {
		b := math.Floor((pairs[i].VideoS - t0) / iv)
		j := i
		for j < len(pairs) && math.Floor((pairs[j].VideoS-t0)/iv) == b {
			j++
		}
		seg := offs[i:j]
		bk := Bucket{StartS: b * iv, Pairs: j - i, MedianMs: median(seg), MinMs: math.Inf(1), MaxMs: math.Inf(-1)}
		for _, o := range seg {
			bk.MinMs = math.Min(bk.MinMs, o)
			bk.MaxMs = math.Max(bk.MaxMs, o)
		}
		s.Series = append(s.Series, bk)
		i = j
	}
	if opts.Pairs {
		s.All = pairs
	}
	return s
}

func median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	c := append([]float64(nil), v...)
	sort.Float64s(c)
	if len(c)%2 == 1 {
		return c[len(c)/2]
	}
	return (c[len(c)/2-1] + c[len(c)/2]) / 2
}
