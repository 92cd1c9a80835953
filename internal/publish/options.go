package publish

import (
	"context"
	"crypto/tls"
	"math/rand/v2"
	"net"
	"time"

	"github.com/rs/zerolog"

	"github.com/livecap/livecap/internal/events"
	"github.com/livecap/livecap/internal/fanout"
	"github.com/livecap/livecap/internal/media"
)

// The package's API: options, events, states and statistics of a
// destination, and its queue policy and backoff.

// DefaultPolicy bounds a destination's queue.
//
// 4 s of media: ingest servers want a keyframe at least every 2 s, so the
// queue can hold two whole GOPs; shedding (which drops whole GOPs from the
// head) then still leaves a decodable GOP, and a short network hiccup (a
// Wi-Fi roam, a TCP retransmit storm) is absorbed without a drop. More would
// only add latency after a reconnect, since what is queued is sent first.
//
// 16 MiB: the byte bound is a safety net for high bitrates or a keyframe
// interval set too long; at 4 Mbit/s 4 s is 2 MB, so it only bites above
// about 30 Mbit/s. Memory per destination never exceeds it (plus one GOP in
// flight while it is being shed).
//
// Stall matches the default WriteTimeout: a sink slower than that is
// recycled, so a source that can wait (--input --fast) stops waiting for it.
func DefaultPolicy() fanout.Policy {
	return fanout.Policy{MaxDuration: 4 * time.Second, MaxBytes: 16 << 20, Stall: 5 * time.Second}
}

// Backoff is the delay between connection attempts: Initial, doubling up to
// Max, each randomized by ±Jitter (a fraction) so that many instances that
// lost the same server do not reconnect in lockstep.
type Backoff struct {
	Initial time.Duration // default 1 s
	Max     time.Duration // default 30 s
	Jitter  float64       // default 0.2
}

func (b Backoff) withDefaults() Backoff {
	if b.Initial <= 0 {
		b.Initial = time.Second
	}
	if b.Max <= 0 {
		b.Max = 30 * time.Second
	}
	if b.Max < b.Initial {
		b.Max = b.Initial
	}
	if b.Jitter <= 0 || b.Jitter >= 1 {
		b.Jitter = 0.2
	}
	return b
}

// Delay for the n-th consecutive failure (n >= 1).
func (b Backoff) Delay(n int) time.Duration {
	d := b.Initial
	for i := 1; i < n && d < b.Max; i++ {
		d *= 2
	}
	if d > b.Max {
		d = b.Max
	}
	f := 1 + b.Jitter*(2*rand.Float64()-1)
	return time.Duration(float64(d) * f)
}

// EventType names what happened to a destination.
type EventType string

const (
	EventConnected     EventType = events.DestinationConnected
	EventLost          EventType = events.DestinationLost
	EventReconnecting  EventType = events.Reconnecting
	EventFramesDropped EventType = events.FramesDropped
	EventGaveUp        EventType = events.GaveUp
)

// Event is reported through Options.Events. Every string in it is redacted.
type Event struct {
	Type        EventType
	Destination string        // redacted URL
	Error       string        // redacted, for lost/reconnecting/gave_up
	Attempt     int           // reconnecting: consecutive failures so far
	Delay       time.Duration // reconnecting: wait before the next attempt
	// frames_dropped: totals so far (from the queue).
	DroppedVideo, DroppedAudio uint64
}

// Options configure a publisher.
type Options struct {
	Info      media.StreamInfo
	Keyframes media.KeyframeRequester // may be nil
	Log       zerolog.Logger
	Backoff   Backoff
	// MaxAttempts bounds consecutive failed connection attempts; 0 means
	// retry forever (the right thing while recording).
	MaxAttempts int
	// Events, when set, is called from the publisher's goroutine; it must
	// not block.
	Events func(Event)
	// ConnectTimeout bounds one connection attempt (dial, handshake,
	// connect, publish), default 10 s.
	ConnectTimeout time.Duration
	// WriteTimeout is how long one packet may take to be accepted by the
	// network before the peer is declared dead and the connection
	// recycled, default 5 s.
	WriteTimeout time.Duration
	// Clock is the session clock that stamped media.Packet.Encoded. When
	// set, every packet sent is timed from Encoded to the return of the
	// write (flush included) that put its last byte on the socket: see
	// Stats.Latency. Nil: no latency figures.
	Clock media.Clock
	// StableAfter is how long a connection must stay live before it
	// counts as a success that resets the backoff and the attempt count,
	// default 10 s. A server that accepts the publish and then drops it
	// (nginx's "deny publish", a full ingest) is retried with growing
	// delays and MaxAttempts applies to it.
	StableAfter time.Duration
	// Interleave bounds how long a packet waits for the other track to
	// catch up, so that what goes on the wire is in DTS order across audio
	// and video (an audio encoder that delivers 60 ms after the video of
	// the same instant would otherwise make a server that syncs by arrival
	// play audio late). Default 250 ms; negative: off.
	Interleave time.Duration

	// Test seams and tuning of the RTMP connection.

	// Dial, when set, opens the TCP connection (default: net.Dialer).
	Dial func(ctx context.Context, network, addr string) (net.Conn, error)
	// TLSConfig for rtmps (default: the system roots, ServerName = host).
	TLSConfig *tls.Config
	// SendBuffer, when > 0, sets SO_SNDBUF (with the default dialer): a
	// stalled peer shows within seconds instead of after the kernel's
	// multi-megabyte buffers fill.
	SendBuffer int
}

// State of a destination.
type State string

const (
	StateConnecting State = "connecting"
	StateLive       State = "live"
	StateRetrying   State = "retrying"
	StateGaveUp     State = "gave_up"
	StateStopped    State = "stopped"
)

// Stats is a snapshot for the status line. Nothing in it is secret.
type Stats struct {
	Name       string // redacted URL
	State      State
	RetryIn    time.Duration // when retrying: time left before the next attempt
	Attempt    int           // consecutive failed attempts
	BytesSent  uint64        // payload bytes written to the network, all connections
	Bitrate    int           // bits per second over the last few seconds
	Reconnects int           // successful connections after the first
	LastError  string        // redacted
	Queue      fanout.Stats  // includes what the queue dropped
	// Writes counts the writes of media to the connection: one system
	// call each on RTMP over TCP, which sends the access units already
	// queued together (fewer writes than packets while a backlog drains).
	Writes uint64

	// Latency of the packets sent (all connections), from the encoder
	// handing a packet to Go (Packet.Encoded) to its last byte written to
	// the socket. It includes the time spent in the queue, reconnects
	// included: what a viewer of the stream waits for. Needs Options.Clock.
	Latency LatencyStats
	// WriteLatency is the write alone (FLV or TS muxing, the socket write
	// and flush): how long the network took to accept a packet.
	WriteLatency LatencyStats
	// Link is the transport's own figures (SRT: RTT, loss, retransmits,
	// libsrt's drops), nil when the protocol reports none.
	Link *LinkStats
}

// Publisher sends one destination's queue to its server.
type Publisher interface {
	// Run connects, streams and reconnects until ctx is done or the queue
	// is closed (both return nil) or MaxAttempts consecutive attempts
	// failed (a "gave up" error).
	Run(ctx context.Context, q *fanout.Queue) error
	Stats() Stats
	Name() string
}

// session is one live connection of a protocol.
type session interface {
	// write sends one packet; the session maps timestamps and writes
	// headers itself. sent is false for a packet it skipped (media before
	// the first keyframe of the connection). It returns an error when the
	// connection is unusable.
	write(p *media.Packet) (sent bool, err error)
	// sent is the payload bytes written on this connection.
	sent() uint64
	close()
}

// batcher is a session that sends several packets with one system call
// (RTMP: one writev). sent[i] says whether ps[i] went out, as write's sent.
type batcher interface {
	writeBatch(ps []*media.Packet, sent []bool) error
}

type connector interface {
	connect(ctx context.Context) (session, error)
}
