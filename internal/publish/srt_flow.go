package publish

import "time"

// srtFlow decides when the SRT session may hand libsrt more media. libsrt
// in live mode has no congestion control: it takes every write and sends
// it at once, retransmits what is lost at full speed, and drops what is
// too late (the receiver does, too). Over a link slower than the stream
// that corrupts every picture. srtFlow holds writes back instead, so that
// the fan-out queue behind the session fills and sheds whole GOPs, as a
// full TCP window does for RTMP:
//
//   - by age: the oldest message libsrt holds must be younger than
//     ageLimit (half the receiver's latency), or it would arrive too late
//     to be played;
//   - by bytes in flight: at most what the link delivered recently (the
//     highest acknowledged rate over the last second) times the smallest
//     RTT seen plus srtQueueBudget, so that a slow link's router queue is
//     not flooded (and its drops not retransmitted into it again).
//
// It does not allocate in the steady state.
type srtFlow struct {
	ageLimit time.Duration

	marks []flowMark // per message written and not yet acknowledged
	head  int
	msgs  uint64 // messages written
	bytes uint64 // bytes written

	acked     uint64 // bytes acknowledged (or dropped by libsrt)
	sampleAt  time.Time
	sampleAck uint64
	rates     [srtRateSamples]float64 // bytes/s per sample period
	ri        int
	minRTT    time.Duration
}

type flowMark struct {
	start uint64 // bytes written before this message
	at    time.Time
}

const (
	// srtQueueBudget is how much queueing delay in-flight media may add
	// on top of the RTT.
	srtQueueBudget = 200 * time.Millisecond
	srtRatePeriod  = 100 * time.Millisecond
	srtRateSamples = 10 // one second of delivery-rate samples
	// srtMinWindow and srtStartWindow bound the bytes in flight from
	// below, and before the first delivery samples.
	srtMinWindow   = 32 << 10
	srtStartWindow = 128 << 10
	// srtMaxMarks bounds the write history (5 MB of messages).
	srtMaxMarks = 4096
)

func (f *srtFlow) wrote(n int, at time.Time) {
	if f.head > 0 && len(f.marks) == cap(f.marks) {
		k := copy(f.marks, f.marks[f.head:]) // compact in place
		f.marks, f.head = f.marks[:k], 0
	}
	if len(f.marks)-f.head >= srtMaxMarks {
		f.head++ // forget the oldest: the age reads young, never old
	}
	f.marks = append(f.marks, flowMark{start: f.bytes, at: at})
	f.msgs++
	f.bytes += uint64(n)
}

// rtt records a round-trip sample.
func (f *srtFlow) rtt(d time.Duration) {
	if d > 0 && (f.minRTT == 0 || d < f.minRTT) {
		f.minRTT = d
	}
}

// update takes the number of messages libsrt holds now (SRTO_SNDDATA).
func (f *srtFlow) update(held int, now time.Time) {
	if held < 0 || uint64(held) > f.msgs {
		held = 0
	}
	done := f.msgs - uint64(held) // messages acknowledged or dropped
	// The first unacknowledged message is number done (0-based); marks
	// hold messages msgs-(len-head) .. msgs-1.
	first := f.msgs - uint64(len(f.marks)-f.head)
	if done > first {
		f.head += int(min(done-first, uint64(len(f.marks)-f.head)))
	}
	if f.head == len(f.marks) {
		f.marks, f.head = f.marks[:0], 0
		f.acked = f.bytes
	} else {
		f.acked = f.marks[f.head].start
	}
	if f.sampleAt.IsZero() {
		f.sampleAt, f.sampleAck = now, f.acked
		return
	}
	if dt := now.Sub(f.sampleAt); dt >= srtRatePeriod {
		f.rates[f.ri%srtRateSamples] = float64(f.acked-f.sampleAck) / dt.Seconds()
		f.ri++
		f.sampleAt, f.sampleAck = now, f.acked
	}
}

// age of the oldest message libsrt holds (0: none).
func (f *srtFlow) age(now time.Time) time.Duration {
	if f.head == len(f.marks) {
		return 0
	}
	return now.Sub(f.marks[f.head].at)
}

func (f *srtFlow) inFlight() uint64 { return f.bytes - f.acked }

// window is the most bytes in flight allowed now.
func (f *srtFlow) window() uint64 {
	if f.ri < srtRateSamples/2 {
		return srtStartWindow
	}
	best := 0.0
	for _, r := range f.rates {
		best = max(best, r)
	}
	w := uint64(best * (f.minRTT + srtQueueBudget).Seconds())
	return max(w, srtMinWindow)
}

// room reports whether more media may be written now.
func (f *srtFlow) room(now time.Time) bool {
	return f.age(now) <= f.ageLimit && f.inFlight() <= f.window()
}
