package publish

import (
	"fmt"
	"time"
)

// LinkStats are a connection's transport figures, as the protocol library
// reports them (libsrt's srt_bstats for SRT). Counters are totals over
// every connection of the destination.
type LinkStats struct {
	RTT time.Duration // smoothed round-trip time of the current connection
	// SentPackets counts data packets sent, retransmissions included.
	SentPackets uint64
	// RetransPackets counts retransmitted packets.
	RetransPackets uint64
	// LostPackets counts packets the receiver reported missing (NAKs).
	LostPackets uint64
	// DroppedPackets counts packets libsrt dropped as too late to send.
	// livecap keeps this near zero by shedding whole GOPs in its own queue
	// first (Stats.Queue): a packet dropped here corrupts a picture.
	DroppedPackets uint64
	// SendBuffered and SendBufferedBytes are what the library holds
	// unacknowledged now (libsrt's averaged figures).
	SendBuffered      time.Duration
	SendBufferedBytes int
}

// add accumulates the counters of an earlier connection.
func (l *LinkStats) add(prev LinkStats) {
	l.SentPackets += prev.SentPackets
	l.RetransPackets += prev.RetransPackets
	l.LostPackets += prev.LostPackets
	l.DroppedPackets += prev.DroppedPackets
}

// LossPercent is the share of sent packets the receiver reported lost.
func (l LinkStats) LossPercent() float64 {
	if l.SentPackets == 0 {
		return 0
	}
	return 100 * float64(l.LostPackets) / float64(l.SentPackets)
}

// Short is the status-line form: "rtt 12ms lost 0.3% retx 120 drop 5".
func (l LinkStats) Short() string {
	return fmt.Sprintf("rtt %dms lost %.1f%% retx %d drop %d", l.RTT.Milliseconds(), l.LossPercent(), l.RetransPackets, l.DroppedPackets)
}

// linker is a session that reports link figures.
type linker interface {
	link() LinkStats
}
