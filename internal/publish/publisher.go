// Package publish sends the encoded stream live to RTMP/RTMPS and SRT
// destinations. Each destination runs on its own goroutine from its own
// bounded fan-out queue, connects in the background, reconnects with
// backoff, and never blocks anything but itself: a dead or slow server can
// only make its own queue shed GOPs.
package publish

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"

	"github.com/livecap/livecap/internal/fanout"
	"github.com/livecap/livecap/internal/media"
	"github.com/livecap/livecap/internal/meter"
)

// New makes a publisher for d. Nothing connects before Run.
func New(d *Destination, o Options) (Publisher, error) {
	if d == nil {
		return nil, errors.New("publish: nil destination")
	}
	if o.Info.Video == nil {
		return nil, fmt.Errorf("destination %s: live streaming needs a video track", d.Redacted())
	}
	if o.ConnectTimeout <= 0 {
		o.ConnectTimeout = 10 * time.Second
	}
	if o.WriteTimeout <= 0 {
		o.WriteTimeout = 5 * time.Second
	}
	if o.StableAfter <= 0 {
		o.StableAfter = 10 * time.Second
	}
	if o.Interleave == 0 {
		o.Interleave = 250 * time.Millisecond
	}
	o.Backoff = o.Backoff.withDefaults()
	p := &publisher{d: d, o: o, rate: meter.Rate{Window: 2 * time.Second}, log: o.Log.With().Str("destination", d.Redacted()).Logger(), wake: make(chan struct{}, 1), liveAgain: make(chan struct{}, 1)}
	p.state = StateConnecting
	switch d.Scheme {
	case "rtmp", "rtmps":
		p.c = &rtmpConnector{d: d, o: &p.o}
	case "srt":
		c, err := newSRTConnector(d, &p.o)
		if err != nil {
			return nil, fmt.Errorf("destination %s: %s", d.Redacted(), d.scrub(err.Error()))
		}
		p.c = c
	default:
		return nil, fmt.Errorf("destination %s: unknown scheme", d.Redacted())
	}
	return p, nil
}

type publisher struct {
	d   *Destination
	o   Options
	c   connector
	log zerolog.Logger

	mu         sync.Mutex
	q          *fanout.Queue
	state      State
	retryAt    time.Time
	attempt    int
	bytesPrev  uint64 // bytes of finished connections
	cur        session
	reconnects int
	connected  bool
	lastErr    string
	rate       meter.Rate // of BytesSent
	linkPrev   *LinkStats // totals of finished connections

	// Written by the streaming goroutine, read by Stats: atomic inside.
	latency, writeLatency latencyHist
	writes                atomic.Uint64

	// stream's, reused: a batch of packets and what was sent of it.
	batch []*media.Packet
	sent  [batchPackets]bool

	wake      chan struct{} // Reconnect: cut the backoff wait short (reconnect.go)
	liveAgain chan struct{} // stream tells watchDrops the destination is live
}

func (p *publisher) Name() string { return p.d.Redacted() }

func (p *publisher) emit(e Event) {
	if p.o.Events != nil {
		e.Destination = p.d.Redacted()
		p.o.Events(e)
	}
}

func (p *publisher) Stats() Stats {
	p.mu.Lock()
	defer p.mu.Unlock()
	s := Stats{Name: p.d.Redacted(), State: p.state, Attempt: p.attempt, Reconnects: p.reconnects, LastError: p.lastErr}
	s.BytesSent = p.bytesPrev
	if p.cur != nil {
		s.BytesSent += p.cur.sent()
	}
	if p.state == StateRetrying {
		if s.RetryIn = time.Until(p.retryAt); s.RetryIn < 0 {
			s.RetryIn = 0
		}
	}
	s.Bitrate = int(p.rate.Update(time.Now(), s.BytesSent) * 8)
	if p.q != nil {
		s.Queue = p.q.Stats()
	}
	if l, ok := p.cur.(linker); ok {
		ls := l.link()
		if p.linkPrev != nil {
			ls.add(*p.linkPrev)
		}
		s.Link = &ls
	} else if p.linkPrev != nil {
		ls := *p.linkPrev
		s.Link = &ls
	}
	s.Writes = p.writes.Load()
	s.Latency = p.latency.Snapshot()
	s.WriteLatency = p.writeLatency.Snapshot()
	return s
}

func (p *publisher) setState(s State) {
	p.mu.Lock()
	p.state = s
	p.mu.Unlock()
}

// Run implements Publisher.
func (p *publisher) Run(ctx context.Context, q *fanout.Queue) error {
	p.mu.Lock()
	p.q = q
	p.mu.Unlock()
	defer p.setState(StateStopped)
	wctx, stopWatch := context.WithCancel(ctx)
	watched := make(chan struct{})
	go func() { defer close(watched); p.watchDrops(wctx, q) }()
	defer func() { stopWatch(); <-watched }()
	il := newInterleaver(q, p.o.Info, p.o.Interleave)
	failures := 0
	for {
		if ctx.Err() != nil {
			return nil
		}
		p.setState(StateConnecting)
		s, err := p.connect(ctx)
		if err == nil {
			t0 := time.Now()
			err = p.stream(ctx, il, s)
			if err == nil || ctx.Err() != nil {
				return nil // ctx done or the queue ended
			}
			msg := p.d.scrub(err.Error())
			p.log.Warn().Str("error", msg).Msg("destination lost")
			p.emit(Event{Type: EventLost, Error: msg})
			if live := time.Since(t0); live >= p.o.StableAfter {
				failures = 0
			} else {
				// Accepted, then dropped within StableAfter: a failed
				// attempt like any other, so the backoff grows.
				failures++
				if !errors.Is(err, errInternal) {
					err = fmt.Errorf("%s: the server accepted the publish, then dropped it after %v (a refusal, as nginx's deny publish does, or an unstable ingest)", msg, live.Round(time.Millisecond))
				}
			}
		} else {
			if ctx.Err() != nil {
				return nil
			}
			failures++
		}
		if failures > 0 {
			msg := p.d.scrub(err.Error())
			p.mu.Lock()
			p.lastErr = msg
			p.attempt = failures
			p.mu.Unlock()
			if p.o.MaxAttempts > 0 && failures >= p.o.MaxAttempts {
				p.setState(StateGaveUp)
				p.log.Error().Str("error", msg).Int("attempts", failures).Msg("destination gave up")
				p.emit(Event{Type: EventGaveUp, Error: msg, Attempt: failures})
				// Stay out of the fan-out's way: the queue keeps shedding on
				// its own, nothing reads it any more.
				return fmt.Errorf("destination %s: gave up after %d attempts: %s", p.d.Redacted(), failures, msg)
			}
		}
		n := failures
		if n == 0 {
			n = 1 // a lost connection waits the initial delay before its first retry
		}
		delay := p.o.Backoff.Delay(n)
		p.mu.Lock()
		p.state = StateRetrying
		p.retryAt = time.Now().Add(delay)
		errMsg := p.lastErr
		p.mu.Unlock()
		p.log.Info().Int("attempt", failures).Dur("delay", delay).Str("error", errMsg).Msg("reconnecting")
		p.emit(Event{Type: EventReconnecting, Attempt: failures, Delay: delay, Error: errMsg})
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-t.C:
			select { // a Reconnect that raced the timer is spent
			case <-p.wake:
			default:
			}
		case <-p.wake:
			t.Stop()
		}
	}
}

// errInternal marks a panic recovered in a destination's code.
var errInternal = errors.New("internal error")

// panicError turns a panic in a destination's code into that destination's
// error: logged with its stack (redacted), retried like any failure. A
// destination never takes the process down.
func (p *publisher) panicError(where string, r any) error {
	msg := p.d.scrub(fmt.Sprint(r))
	p.log.Error().Str("panic", msg).Str("stack", p.d.scrub(string(debug.Stack()))).Msg("destination failed with a panic; it is restarted")
	return fmt.Errorf("%w while %s: %s", errInternal, where, msg)
}

func (p *publisher) connect(ctx context.Context) (s session, err error) {
	defer func() {
		if r := recover(); r != nil {
			s, err = nil, p.panicError("connecting", r)
		}
	}()
	return p.c.connect(ctx)
}

// watchDrops reports a queue's losses as they happen (at most once a
// second): a queue sheds while its sink is blocked, so the sink's own
// goroutine cannot be the one to tell. While the destination is not live
// (down, retrying) its queue sheds every GOP; that is one loss, reported
// with its totals once the destination is live again (the reconnect's
// skip to a keyframe signals) or when it stops, not every GOP for as long
// as the server is away (reconnecting events say what is going on).
func (p *publisher) watchDrops(ctx context.Context, q *fanout.Queue) {
	defer func() {
		if r := recover(); r != nil {
			_ = p.panicError("reporting drops", r)
		}
	}()
	var lastV, lastA uint64
	report := func(final bool) {
		p.mu.Lock()
		live := p.state == StateLive
		p.mu.Unlock()
		if !live && !final {
			return
		}
		st := q.Stats()
		if st.DroppedVideo != lastV || st.DroppedAudio != lastA {
			lastV, lastA = st.DroppedVideo, st.DroppedAudio
			p.log.Warn().Uint64("video", st.DroppedVideo).Uint64("audio", st.DroppedAudio).Msg("frames dropped")
			p.emit(Event{Type: EventFramesDropped, DroppedVideo: st.DroppedVideo, DroppedAudio: st.DroppedAudio})
		}
	}
	t := time.NewTimer(time.Hour)
	t.Stop()
	for {
		select {
		case <-ctx.Done():
			report(true)
			return
		case <-q.Drops():
		case <-p.liveAgain:
		}
		report(false)
		t.Reset(time.Second)
		select {
		case <-ctx.Done():
			t.Stop()
			report(true)
			return
		case <-t.C:
		}
	}
}

// stream pumps the queue into one live session. It returns nil when ctx is
// done or the queue ended, an error when the connection failed.
func (p *publisher) stream(ctx context.Context, il *interleaver, s session) (err error) {
	p.mu.Lock()
	p.cur = s
	p.state = StateLive
	p.attempt = 0
	reconnect := p.connected
	if p.connected {
		p.reconnects++
	}
	p.connected = true
	p.mu.Unlock()
	defer func() {
		if r := recover(); r != nil {
			err = p.panicError("streaming", r)
		}
		s.close()
		p.mu.Lock()
		p.bytesPrev += s.sent()
		if l, ok := s.(linker); ok {
			ls := l.link()
			if p.linkPrev != nil {
				ls.add(*p.linkPrev)
			} else {
				p.linkPrev = &LinkStats{}
			}
			*p.linkPrev = ls
		}
		p.cur = nil
		p.mu.Unlock()
	}()
	p.log.Info().Msg("destination connected")
	p.emit(Event{Type: EventConnected})
	select { // what the queue shed while the destination was down
	case p.liveAgain <- struct{}{}:
	default:
	}

	// Media resumes on a keyframe: after a reconnect, drop the partial GOP
	// at the head (counted: it is lost to this destination), and ask for a
	// fresh IDR so that the wait is one frame, not one GOP. The first
	// connection has lost nothing: what precedes the first keyframe (the
	// AAC priming frame) is skipped by the session's timeline, as every
	// stream starts.
	if reconnect {
		il.skipToKeyframe()
	}
	if p.o.Keyframes != nil {
		p.o.Keyframes.RequestKeyframe(0)
	}
	clk := p.o.Clock
	bw, _ := s.(batcher)
	for {
		pk, ok := il.next(ctx)
		if !ok {
			return nil
		}
		batch := append(p.batch[:0], pk)
		if bw != nil {
			// What is already queued and due goes out with it, in one
			// system call; nothing waits for more.
			n := len(pk.Data)
			for len(batch) < batchPackets && n < batchBytes {
				pk, ok := il.ready()
				if !ok {
					break
				}
				batch = append(batch, pk)
				n += len(pk.Data)
			}
		}
		p.batch = batch
		var t0 time.Duration
		if clk != nil {
			t0 = clk.Now()
		}
		var err error
		sent := p.sent[:len(batch)]
		if bw != nil {
			err = bw.writeBatch(batch, sent)
		} else {
			sent[0], err = s.write(batch[0])
		}
		p.writes.Add(1)
		if err == nil && clk != nil {
			t1 := clk.Now()
			k := 0
			for i, pk := range batch {
				if sent[i] {
					p.latency.Record(t1 - pk.Encoded)
					k++
				}
			}
			p.writeLatency.RecordN(t1-t0, uint64(k))
		}
		// Every session copies what it sends (RTMP chunks, TS packets)
		// before write returns: the packets are read no more. When the
		// write failed, none of them is known to have reached the server:
		// they count as dropped (the stream resumes at a keyframe).
		for i, pk := range batch {
			if err != nil {
				il.q.Drop(pk)
			}
			pk.Release()
			batch[i] = nil
		}
		if err != nil {
			p.mu.Lock()
			p.lastErr = p.d.scrub(err.Error())
			p.mu.Unlock()
			return err
		}
	}
}

// A batch (see batcher) is at most batchPackets packets, and stops
// growing once it holds batchBytes of payload: a bounded writev, and a
// bounded amount taken out of the queue's sight.
const (
	batchPackets = 64
	batchBytes   = 256 << 10
)

// Cleanup releases libsrt; call it once before the process exits, after
// every publisher has returned.
func Cleanup() { srtCleanup() }
