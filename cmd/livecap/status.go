package main

import (
	"context"
	"io"
	"os"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/rs/zerolog"

	"github.com/livecap/livecap/internal/diskcheck"
	"github.com/livecap/livecap/internal/events"
	"github.com/livecap/livecap/internal/meter"
	"github.com/livecap/livecap/internal/publish"
	"github.com/livecap/livecap/internal/session"
)

// statusInterval is how often the status line refreshes; stats events go
// out every statsEvery; rates are averaged over rateWindow so that a
// keyframe every two seconds does not make the bitrate jump up and down.
const (
	statusInterval = time.Second
	statsEvery     = 5 * time.Second
	rateWindow     = 3 * time.Second
)

// eraseLine returns the cursor to column 0 and clears the line: the status
// line is rewritten in place and never scrolls the terminal.
const eraseLine = "\r\x1b[2K"

// statusTerm is stderr when it is a terminal. It owns the one status line
// at the bottom and every write to stderr goes through it, so a log line
// never lands in the middle of the status line: it erases the status line,
// writes the log line (which ends with a newline), and draws the status
// line again below it.
type statusTerm struct {
	mu   sync.Mutex
	out  io.Writer
	line string // shown now; "" when no status line is shown
	buf  []byte
}

// statusBar is the process's status line; there is only one stderr.
var statusBar statusTerm

// statusAwareWriter returns w wrapped so that log lines and the status
// line do not interleave, when w is a terminal; otherwise w itself.
func statusAwareWriter(w io.Writer) io.Writer {
	if !isTerminal(w) {
		return w
	}
	statusBar.mu.Lock()
	statusBar.out = w
	statusBar.mu.Unlock()
	return &statusBar
}

// Write writes one log line (zerolog writes each event with one Write).
// The erase, the line and the redraw go out in one write, so the terminal
// never shows a half-drawn state.
func (s *statusTerm) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.line == "" {
		return s.out.Write(p)
	}
	b := append(s.buf[:0], eraseLine...)
	b = append(b, p...)
	b = append(b, s.line...)
	s.buf = b
	if _, err := s.out.Write(b); err != nil {
		return 0, err
	}
	return len(p), nil
}

// show draws line as the status line; "" removes the status line.
func (s *statusTerm) show(line string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.out == nil {
		s.out = os.Stderr
	}
	if line == "" && s.line == "" {
		return
	}
	s.line = line
	_, _ = io.WriteString(s.out, eraseLine+line)
}

type statusSource struct {
	sess    *session.Session
	cfg     session.Config
	started time.Time
	snap    session.Snapshot // read by the last sample

	frameRate meter.Rate // video frames per second over rateWindow
	byteRate  meter.Rate // encoded bytes per second over rateWindow
	fps, kbps float64
	bytes     uint64 // encoded so far, all tracks
}

// sample reads the encoder's counters and updates the rates.
func (s *statusSource) sample(now time.Time) {
	s.snap = s.sess.Snapshot()
	st := s.snap.Pipeline
	s.bytes = st.VideoBytes + st.AudioBytes
	s.fps = s.frameRate.Update(now, st.VideoFrames)
	s.kbps = s.byteRate.Update(now, s.bytes) * 8 / 1000
}

// recordRate is the bytes per second the recording writes: the average so
// far once there is one, else the configured bitrates.
func (s *statusSource) recordRate(now time.Time) float64 {
	if el := now.Sub(s.started).Seconds(); el >= 0.5 && s.bytes > 0 {
		return float64(s.bytes) / el
	}
	return float64(s.cfg.Bitrate+s.cfg.AudioBitrate) / 8
}

// diskInfo is the free space at the record folder and the time the
// recording takes to fill it; ok is false without a recording.
func (s *statusSource) diskInfo(now time.Time) (free uint64, full time.Duration, ok bool) {
	if s.cfg.RecordDir == "" {
		return 0, 0, false
	}
	free, err := diskcheck.Free(s.cfg.RecordDir)
	if err != nil {
		return 0, 0, false
	}
	if r := s.recordRate(now); r > 0 {
		full = time.Duration(float64(free) / r * float64(time.Second))
	}
	return free, full, true
}

// line renders the one-line status a person sees on a terminal, at most
// width-1 columns. The most detailed form that fits is shown; narrower
// terminals get compact forms in which every destination stays visible
// (a count such as "2/3 live", then the destinations worst state first)
// before the recording details are shortened; only what still does not
// fit is cut.
func (s *statusSource) line(now time.Time, width int) string {
	if width <= 0 {
		width = 80
	}
	max := width - 1
	dests := worstFirst(s.snap.Destinations)
	var l string
	for _, f := range []struct {
		head headForm
		dest destForm
	}{
		{headFull, destDetailed}, {headMid, destDetailed}, {headFull, destBrief}, {headMid, destBrief},
		{headShort, destBrief}, {headShort, destGrouped}, {headMinimal, destBrief}, {headMinimal, destGrouped},
	} {
		l = s.head(now, f.head) + destPart(dests, f.dest, 0)
		if utf8.RuneCountInString(l) <= max {
			return l
		}
	}
	// Shorter and shorter names, down to one character each.
	head := s.head(now, headMinimal)
	for cut := 16; cut >= 1 && len(dests) > 0; cut-- {
		l = head + destPart(dests, destGrouped, cut)
		if utf8.RuneCountInString(l) <= max {
			return l
		}
	}
	return truncate(l, width)
}

// destStats is one destination in a stats event.
// destStats is one destination in the stats event; its queue figures
// come with the publisher's stats.
type destStats struct{ p publish.Stats }

func (d destStats) MarshalZerologObject(e *zerolog.Event) {
	e.Str("name", d.p.Name).Str("state", string(d.p.State))
	if d.p.State == publish.StateRetrying {
		e.Float64("retry_in_s", d.p.RetryIn.Seconds())
	}
	e.Int("bitrate", d.p.Bitrate).Uint64("bytes_sent", d.p.BytesSent).
		Float64("queue_s", d.p.Queue.Duration.Seconds()).Int("queue_bytes", d.p.Queue.Bytes).
		Uint64("dropped_video", d.p.Queue.DroppedVideo).Uint64("dropped_audio", d.p.Queue.DroppedAudio).
		Int("reconnects", d.p.Reconnects)
	if l := d.p.Link; l != nil {
		e.Float64("rtt_ms", ms(l.RTT)).Uint64("packets_sent", l.SentPackets).Uint64("packets_lost", l.LostPackets).
			Uint64("packets_retransmitted", l.RetransPackets).Uint64("packets_dropped", l.DroppedPackets)
	}
	if l := d.p.Latency; l.Count > 0 {
		e.Float64("latency_p50_ms", ms(l.P50)).Float64("latency_p99_ms", ms(l.P99)).Float64("write_p99_ms", ms(d.p.WriteLatency.P99))
	}
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

type destStatsList []destStats

func (l destStatsList) MarshalZerologArray(a *zerolog.Array) {
	for _, d := range l {
		a.Object(d)
	}
}

// statsEvent writes the periodic "stats" event.
func (s *statusSource) statsEvent(ev *zerolog.Event, now time.Time) {
	st := s.snap.Pipeline
	ev = ev.Str("event", events.Stats).Float64("elapsed_s", now.Sub(s.started).Seconds()).
		Float64("fps", round2(s.fps)).Float64("kbps", round2(s.kbps)).
		Uint64("frames", st.VideoFrames).Uint64("bytes", s.bytes).
		Uint64("source_skipped", st.SourceSkipped).Uint64("encoder_skipped", st.EncoderSkipped)
	if st.EncoderLagMax > 0 {
		ev = ev.Float64("encoder_lag_ms", round2(ms(st.EncoderLag))).Float64("encoder_lag_max_ms", round2(ms(st.EncoderLagMax)))
	}
	ds := make(destStatsList, len(s.snap.Destinations))
	for i, p := range s.snap.Destinations {
		ds[i] = destStats{p: p}
	}
	ev = ev.Array("destinations", ds)
	if rs := s.snap.Recording; rs != nil {
		ev = ev.Str("segment", rs.Path).Int64("segment_bytes", rs.Bytes).Int("segments", rs.Segments)
	}
	if free, full, ok := s.diskInfo(now); ok {
		ev = ev.Uint64("free_bytes", free).Float64("full_in_s", full.Truncate(time.Second).Seconds())
	}
	ev.Msg("stats")
}

func round2(f float64) float64 { return float64(int64(f*100+0.5)) / 100 }

// startStatus runs the status line (on a terminal, without --quiet) and
// the periodic stats event until the returned stop func is called, which
// removes the status line.
func startStatus(log zerolog.Logger, logTo io.Writer, sess *session.Session, cfg session.Config) func() {
	started := sess.Snapshot().Started
	s := &statusSource{sess: sess, cfg: cfg, started: started,
		frameRate: meter.Rate{Window: rateWindow}, byteRate: meter.Rate{Window: rateWindow}}
	tty := isTerminal(os.Stderr) && !global.quiet
	// Under a status line the stats event would only repeat it: debug.
	statsLevel := zerolog.InfoLevel
	if tty && !jsonLogs(logTo) {
		statsLevel = zerolog.DebugLevel
	}
	s.sample(started)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(statusInterval)
		defer t.Stop()
		nextStats := started.Add(statsEvery)
		for {
			select {
			case <-ctx.Done():
				if tty {
					statusBar.show("")
				}
				return
			case now := <-t.C:
				s.sample(now)
				if tty {
					statusBar.show(s.line(now, termWidth()))
				}
				// A tick may come a little early: half an interval of slack.
				if !now.Before(nextStats.Add(-statusInterval / 2)) {
					nextStats = nextStats.Add(statsEvery)
					s.statsEvent(log.WithLevel(statsLevel), now)
				}
			}
		}
	}()
	return func() { cancel(); wg.Wait() }
}
