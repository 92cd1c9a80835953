package session

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/rs/zerolog"

	"github.com/livecap/livecap/internal/capture"
	"github.com/livecap/livecap/internal/clock"
	"github.com/livecap/livecap/internal/diskcheck"
	"github.com/livecap/livecap/internal/events"
	"github.com/livecap/livecap/internal/fanout"
	"github.com/livecap/livecap/internal/hooks"
	"github.com/livecap/livecap/internal/input"
	"github.com/livecap/livecap/internal/pipeline"
	"github.com/livecap/livecap/internal/publish"
	"github.com/livecap/livecap/internal/record"
)

// Timeouts of the start and the end of a session.
const (
	// infoTimeout bounds the wait for the encoder's first configuration.
	infoTimeout = 15 * time.Second
	// liveWait: restreaming a file as fast as possible, destinations get
	// this long to go live before the file starts (it waits; nothing is
	// lost).
	liveWait = 10 * time.Second
	// drainTimeout: at the end, a live destination gets this long to send
	// what it holds (SRT's linger included); one that is not live stops at
	// once. A healthy link sends a full queue in milliseconds; a stalled or
	// congested one must not hold the exit past issue 11's 3 s.
	drainTimeout = 2500 * time.Millisecond
)

// Session is one run of capture → encode → record and stream.
type Session struct {
	cfg     Config
	obs     Observer // gate: nothing after stopped
	gate    *gate
	host    *clock.Host
	pipe    *pipeline.Pipeline
	input   *input.Reader // --input, nil otherwise
	backend string
	hooks   *hooks.Runner
	// sources names the capture devices for the started event: video,
	// audio ("" when there is none).
	sources [2]string

	// changed is signalled (never blocking) whenever a destination reports
	// an event: what waits for destinations to go live, or for the ones
	// that are not live at the end, looks again then.
	changed chan struct{}

	reasonOnce sync.Once
	reason     atomic.Value // string
	stopOnce   sync.Once

	mu       sync.Mutex
	started  time.Time
	recorder *record.Recorder
	pubs     []publish.Publisher
	skipErr  error // --max-skipped exceeded
}

// New checks what can only be checked by opening it (free disk, the
// input file, the capture devices, the encoders, the hook program) and
// reports unfinished segments a crash left in the record folder. Every
// refusal happens here, before anything is recorded or sent.
func New(cfg Config) (*Session, error) {
	if cfg.Fragment <= 0 {
		cfg.Fragment = time.Second
	}
	obs := cfg.Observer
	if obs == nil {
		obs = nopObserver{}
	}
	s := &Session{cfg: cfg, gate: &gate{next: obs}, changed: make(chan struct{}, 1)}
	s.obs = s.gate
	s.reason.Store(ReasonEnd)
	if err := s.checkDisk(); err != nil {
		return nil, err
	}
	s.host = clock.NewHost()
	if cfg.RecordDir != "" {
		s.recoverUnfinished()
	}
	if len(cfg.Hook) > 0 {
		// Its events are logged (Observer.Hook), not its log lines.
		r, err := hooks.New(cfg.Hook, cfg.Log.Level(zerolog.Disabled), hooks.Options{OnEvent: s.obs.Hook})
		if err != nil {
			return nil, &ConfigError{fmt.Errorf("invalid --on-segment: %v", err)}
		}
		s.hooks = r
	}
	if err := s.openPipeline(); err != nil {
		if s.hooks != nil {
			s.hooks.Close(0)
		}
		return nil, err
	}
	return s, nil
}

// checkDisk compares free disk with what the recording will take.
func (s *Session) checkDisk() error {
	c := &s.cfg
	if c.RecordDir == "" || c.DiskCheck == "off" {
		return nil
	}
	res, err := diskcheck.Check(c.RecordDir, c.Bitrate, c.AudioBitrate, c.Expected)
	if err != nil {
		c.Log.Warn().Err(err).Msg("cannot read free disk space")
		return nil
	}
	if res.OK {
		return nil
	}
	msg := res.Message(c.RecordDir, c.Expected)
	if c.DiskCheck == "refuse" {
		return &DiskRefusedError{Msg: msg}
	}
	s.obs.Session(Event{Name: events.DiskLow, Disk: res, Msg: msg})
	return nil
}

// recoverUnfinished reports (and makes whole) segments a crash left
// unfinished in the record folder. It never overwrites or removes a file.
func (s *Session) recoverUnfinished() {
	found, err := record.Scan(s.cfg.RecordDir)
	if err != nil {
		s.cfg.Log.Warn().Err(err).Msg("cannot scan the record folder for unfinished segments")
		return
	}
	for _, r := range found {
		s.obs.Session(Event{Name: events.SegmentRecovered, Recovered: r})
	}
}

func (s *Session) setReason(r string) { s.reasonOnce.Do(func() { s.reason.Store(r) }) }
func (s *Session) stopReason() string { return s.reason.Load().(string) }

// Run runs the session until the source ends, Duration is reached, a
// signal arrives or nothing is left to feed; then it drains the sinks and
// reports stopped. A second signal returns ErrInterrupted at once, without
// draining: the caller is expected to exit.
func (s *Session) Run(ctx context.Context) error {
	if s.input != nil {
		defer s.input.Close()
	}
	ctx, stop := context.WithCancel(ctx)
	defer stop()
	sigs := s.cfg.Signals
	if sigs == nil {
		ch := make(chan os.Signal, 4)
		signal.Notify(ch, StopSignals...)
		defer signal.Stop(ch)
		sigs = ch
	}
	done := make(chan struct{})
	defer close(done)
	forced := make(chan struct{})
	go func() {
		var sig os.Signal
		select {
		case sig = <-sigs:
		case <-done:
			return
		}
		s.setReason(sig.String())
		s.cfg.Log.Info().Str("signal", sig.String()).Msg("stopping: finalizing files (interrupt again to stop at once)")
		stop()
		for {
			select {
			case sig = <-sigs:
				// A closing terminal may hang up more than once (the
				// kernel and the shell both send SIGHUP): only an
				// interrupt or a terminate asked twice stops at once.
				if sig == syscall.SIGHUP {
					continue
				}
				close(forced)
			case <-done:
			}
			return
		}
	}()
	result := make(chan error, 1)
	go func() { result <- s.run(ctx, stop) }()
	select {
	case err := <-result:
		return err
	case <-forced:
		s.stopped(ReasonForced, ErrInterrupted)
		return ErrInterrupted
	}
}

// stopped reports the end of a session that started, once.
func (s *Session) stopped(reason string, err error) {
	s.stopOnce.Do(func() {
		st := s.pipe.Stats()
		s.mu.Lock()
		started := s.started
		s.mu.Unlock()
		s.obs.Session(Event{Name: events.Stopped, Reason: reason, Err: err, Elapsed: time.Since(started),
			Frames: st.VideoFrames, Skipped: st.SourceSkipped, EncoderSkipped: st.EncoderSkipped})
		s.gate.close()
	})
}

func (s *Session) run(ctx context.Context, stop context.CancelFunc) error {
	pipeDone := make(chan error, 1)
	go func() { pipeDone <- s.pipe.Run(ctx) }()

	infoCtx, infoCancel := context.WithTimeout(ctx, infoTimeout)
	info, err := s.pipe.Info(infoCtx)
	infoCancel()
	if err != nil {
		stop()
		if perr := <-pipeDone; perr != nil {
			return perr
		}
		if s.stopReason() != ReasonEnd {
			return nil // a signal before the first configuration
		}
		return ErrNoStreamInfo
	}

	// Every sink is built before started, so that what refuses the stream
	// information refuses before anything starts.
	var recorder *record.Recorder
	c := &s.cfg
	if c.RecordDir != "" {
		o := record.Options{
			Dir: c.RecordDir, Format: c.Format, Segment: c.Segment, Fragment: c.Fragment,
			Start: time.Now(), Info: info, Keyframes: s.pipe,
			MinFree: diskcheck.LowWater(c.Bitrate, c.AudioBitrate),
			Log:     c.Log.Level(zerolog.WarnLevel), Events: s.obs.Record,
		}
		if s.hooks != nil {
			o.OnSegmentComplete = func(path string, _ time.Duration) { s.hooks.Segment(path) }
		}
		if recorder, err = record.New(o); err != nil {
			stop()
			<-pipeDone
			return &RecordingError{err}
		}
	}
	var pubs []publish.Publisher
	for _, d := range c.Destinations {
		p, err := publish.New(d, publish.Options{
			// Every publisher log line has an event of its own.
			Info: info, Keyframes: s.pipe, Log: c.Log.Level(zerolog.Disabled), Backoff: c.Backoff, Clock: s.host,
			MaxAttempts: c.MaxRetries, Events: s.publishEvent,
		})
		if err != nil {
			stop()
			<-pipeDone
			return &ConfigError{err}
		}
		pubs = append(pubs, p)
	}

	started := time.Now()
	s.mu.Lock()
	s.started, s.recorder, s.pubs = started, recorder, pubs
	s.mu.Unlock()
	s.obs.Session(Event{Name: events.Started, Info: info, Encoder: s.backend, VideoSource: s.sources[0], AudioSource: s.sources[1]})

	sk := &sinks{recActive: recorder != nil, pubActive: len(pubs)}
	pubCtx, pubCancel := context.WithCancel(context.Background())
	defer pubCancel()
	var pipeFinished atomic.Bool
	// sinkEnded stops the whole session when nothing is left to feed;
	// called with sk.mu held.
	sinkEnded := func() {
		if !sk.recActive && sk.pubActive == 0 && !pipeFinished.Load() {
			s.setReason(ReasonNoSinks)
			stop()
		}
	}
	if recorder != nil {
		q := s.pipe.Hub().Add("recorder", fanout.Policy{Lossless: true})
		sk.wg.Add(1)
		go func() {
			defer sk.wg.Done()
			err := recorder.Run(context.Background(), q)
			s.pipe.Hub().Remove(q)
			sk.mu.Lock()
			sk.recErr = err
			sk.recActive = false
			// The recorder has reported recording_stopped itself.
			sinkEnded()
			sk.mu.Unlock()
		}()
	}
	for _, p := range pubs {
		q := s.pipe.Hub().Add(p.Name(), publish.DefaultPolicy())
		ctx, cancel := context.WithCancel(pubCtx)
		sk.cancels = append(sk.cancels, cancel)
		sk.wg.Add(1)
		go func() {
			defer sk.wg.Done()
			err := p.Run(ctx, q)
			s.pipe.Hub().Remove(q)
			sk.mu.Lock()
			sk.pubActive--
			if err != nil && !errors.Is(err, context.Canceled) {
				sk.pubErrs = append(sk.pubErrs, err)
			}
			sinkEnded()
			sk.mu.Unlock()
		}()
	}
	if c.Input != "" && c.Fast && len(pubs) > 0 {
		// Restreaming a file as fast as possible: a destination still
		// connecting would miss the start.
		s.waitLive(ctx, pubs, liveWait)
	}
	s.pipe.Attach()

	stopStatus := func() {}
	if c.Status != nil {
		stopStatus = c.Status(s)
	}
	if c.Input == "" {
		go s.watchSkips(ctx, stop)
	}

	perr := <-pipeDone
	pipeFinished.Store(true)
	if errors.Is(perr, capture.ErrSourceLost) {
		s.setReason(ReasonSourceLost)
	}
	if c.Duration > 0 {
		s.setReason(ReasonDuration)
	} else if c.Input != "" {
		s.setReason(ReasonEndOfInput)
	}
	stopStatus()
	// The hub is closed: the recorder drains its lossless queue; the
	// destinations get a bounded time to send what they hold.
	s.drain(sk, pubs, pubCancel)
	publish.Cleanup()
	if c.LatencyReport != nil {
		for _, p := range pubs {
			st := p.Stats()
			// A closed stdout must not change how the session ends.
			_, _ = fmt.Fprintf(c.LatencyReport, "latency %s: encoder to socket %s; write alone %s\n", st.Name, st.Latency, st.WriteLatency)
		}
	}
	if s.hooks != nil {
		s.obs.Session(Event{Name: events.HooksDone, Hooks: s.hooks.Close(c.HookWait)})
	}

	var final error
	switch {
	case errors.Is(perr, capture.ErrSourceLost):
		final = &DeviceError{perr}
	case perr != nil:
		final = perr
	case c.Input == "" && s.checkSkips(true) != nil:
		final = s.checkSkips(true)
	case sk.recErr != nil:
		final = &RecordingError{sk.recErr}
	case c.RecordDir == "" && len(sk.pubErrs) == len(c.Destinations) && len(sk.pubErrs) > 0 && s.stopReason() == ReasonNoSinks:
		final = &GaveUpError{errors.Join(sk.pubErrs...)}
	}
	if s.input != nil && s.input.Truncated() {
		s.obs.Session(Event{Name: events.InputTruncated, Path: c.Input})
	}
	s.stopped(s.stopReason(), final)
	return final
}

// Snapshot is what a status line shows.
type Snapshot struct {
	Started      time.Time // zero before started
	Pipeline     pipeline.Stats
	Recording    *record.Stats // nil without a recording
	Destinations []publish.Stats
}

// Snapshot reads every stage's counters; safe at any time.
func (s *Session) Snapshot() Snapshot {
	s.mu.Lock()
	started, rec, pubs := s.started, s.recorder, s.pubs
	s.mu.Unlock()
	sn := Snapshot{Started: started, Pipeline: s.pipe.Stats()}
	if rec != nil {
		st := rec.Stats()
		sn.Recording = &st
	}
	for _, p := range pubs {
		sn.Destinations = append(sn.Destinations, p.Stats())
	}
	return sn
}
