package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
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

type headForm int

const (
	headFull    headForm = iota // segment name, free space and time to full
	headMid                     // no segment name
	headShort                   // no time to full
	headMinimal                 // elapsed, fps, bitrate, what is wrong, recording size
)

// head is the part of the status line before the destinations.
func (s *statusSource) head(now time.Time, form headForm) string {
	var b strings.Builder
	if form == headMinimal {
		fmt.Fprintf(&b, "%s %.0ffps %s", fmtClock(now.Sub(s.started)), s.fps, strings.ReplaceAll(fmtRate(s.kbps*1000), " ", ""))
	} else {
		fmt.Fprintf(&b, "%s  %.0f fps  %s", fmtClock(now.Sub(s.started)), s.fps, fmtRate(s.kbps*1000))
	}
	if st := s.snap.Pipeline; st.SourceSkipped+st.EncoderSkipped > 0 {
		fmt.Fprintf(&b, "  skipped %d", st.SourceSkipped+st.EncoderSkipped)
	}
	if lost := s.snap.Pipeline.SourceLost; lost != "" {
		if form == headFull {
			fmt.Fprintf(&b, " | NO %s FROM SOURCE", strings.ToUpper(lost))
		} else {
			fmt.Fprintf(&b, " | NO %s", strings.ToUpper(lost))
		}
	}
	if rs := s.snap.Recording; rs != nil && rs.Path != "" {
		switch {
		case rs.Paused:
			b.WriteString(" | rec paused") // livecap ctl pause
		case form == headFull:
			fmt.Fprintf(&b, " | rec %s %s", shortName(rs.Path), diskcheck.Human(uint64(rs.Bytes)))
		case form == headMinimal:
			fmt.Fprintf(&b, " rec %s", diskcheck.Human(uint64(rs.Bytes)))
		default:
			fmt.Fprintf(&b, " | rec %s", diskcheck.Human(uint64(rs.Bytes)))
		}
	}
	if form == headMinimal {
		return b.String()
	}
	if free, full, ok := s.diskInfo(now); ok {
		fmt.Fprintf(&b, " | free %s", diskcheck.Human(free))
		if full > 0 && form <= headMid {
			fmt.Fprintf(&b, " (full in %s)", fmtLong(full))
		}
	}
	return b.String()
}

type destForm int

const (
	destDetailed destForm = iota // every figure of every destination
	destBrief                    // state, bitrate or retry, per destination
	destGrouped                  // names grouped by state
)

// stateRank orders destinations worst first: the one that needs a look
// is the one that must not be cut off.
func stateRank(st publish.State) int {
	switch st {
	case publish.StateGaveUp:
		return 0
	case publish.StateRetrying:
		return 1
	case publish.StateConnecting:
		return 2
	case publish.StateStopped:
		return 3
	}
	return 4
}

func worstFirst(ds []publish.Stats) []publish.Stats {
	out := slices.Clone(ds)
	slices.SortStableFunc(out, func(a, b publish.Stats) int { return stateRank(a.State) - stateRank(b.State) })
	return out
}

// liveCount is "2/3 live".
func liveCount(ds []publish.Stats) string {
	n := 0
	for _, d := range ds {
		if d.State == publish.StateLive {
			n++
		}
	}
	return fmt.Sprintf("%d/%d live", n, len(ds))
}

// destPart renders the destinations (already worst first) in one form;
// cut > 0 shortens each name to that many characters.
func destPart(ds []publish.Stats, form destForm, cut int) string {
	if len(ds) == 0 {
		return ""
	}
	var b strings.Builder
	switch form {
	case destDetailed:
		if len(ds) > 1 {
			b.WriteString(" | " + liveCount(ds))
		}
		for _, ps := range ds {
			qs := ps.Queue
			fmt.Fprintf(&b, " | %s %s", shortDest(ps.Name), stateText(ps))
			if ps.State == publish.StateLive {
				fmt.Fprintf(&b, " %s", fmtRate(float64(ps.Bitrate)))
			}
			fmt.Fprintf(&b, " q %.1fs drop %d rc %d", qs.Duration.Seconds(), qs.DroppedVideo, ps.Reconnects)
			if ps.Link != nil {
				b.WriteString(" " + ps.Link.Short())
			}
		}
	case destBrief:
		b.WriteString(" | " + liveCount(ds) + ":")
		for i, ps := range ds {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(" " + compactName(ps.Name, 0) + " ")
			switch ps.State {
			case publish.StateLive:
				b.WriteString(fmtRate(float64(ps.Bitrate)))
			case publish.StateRetrying:
				fmt.Fprintf(&b, "retry #%d in %ds", attemptNo(ps), retrySecs(ps))
			default:
				b.WriteString(stateWord(ps.State))
			}
		}
	case destGrouped:
		b.WriteString(" | " + liveCount(ds))
		for i, ps := range ds {
			if i == 0 || ps.State != ds[i-1].State {
				fmt.Fprintf(&b, " %s:", stateWord(ps.State))
			}
			b.WriteString(" " + compactName(ps.Name, cut))
		}
	}
	return b.String()
}

func stateWord(st publish.State) string {
	if st == publish.StateGaveUp {
		return "gave up"
	}
	if st == publish.StateRetrying {
		return "retry"
	}
	return string(st)
}

// compactName is shortDest without the URL scheme, cut to cut characters
// (the last one an ellipsis) when cut > 0.
func compactName(name string, cut int) string {
	n := shortDest(name)
	if i := strings.Index(n, "://"); i >= 0 {
		n = n[i+3:]
	}
	if cut > 0 && utf8.RuneCountInString(n) > cut {
		r := []rune(n)
		if cut == 1 {
			return string(r[:1])
		}
		n = string(r[:cut-1]) + "…"
	}
	return n
}

// attemptNo is the number of the connection attempt a retrying
// destination waits for; the first retry is attempt 1.
func attemptNo(ps publish.Stats) int { return max(ps.Attempt, 1) }

// retrySecs rounds the time left before the next attempt up to a second.
func retrySecs(ps publish.Stats) int { return int((ps.RetryIn + time.Second - 1) / time.Second) }

// truncate cuts s to width-1 columns (a character in the last column makes
// some terminals wrap, which would scroll). Unknown width: 80.
func truncate(s string, width int) string {
	if width <= 0 {
		width = 80
	}
	max := width - 1
	if utf8.RuneCountInString(s) <= max {
		return s
	}
	n := 0
	for i := range s {
		if n == max {
			return s[:i]
		}
		n++
	}
	return s
}

func stateText(ps publish.Stats) string {
	if ps.State == publish.StateRetrying {
		return fmt.Sprintf("retry #%d in %ds", attemptNo(ps), retrySecs(ps))
	}
	return stateWord(ps.State)
}

// shortDest drops the redaction marks from a redacted destination name:
// on a status line "rtmp://host/app" says as much as "rtmp://host/app/****".
func shortDest(name string) string {
	if eq, sep := strings.IndexByte(name, '='), strings.Index(name, "://"); eq > 0 && eq < sep {
		return name[:eq] // a named destination (dests.go) shows its name
	}
	name = strings.TrimSuffix(name, "?****")
	return strings.TrimSuffix(name, "/****")
}

// fmtRate formats bits per second.
func fmtRate(bps float64) string {
	if bps >= 1e6 {
		return fmt.Sprintf("%.1f Mb/s", bps/1e6)
	}
	return fmt.Sprintf("%.0f kb/s", bps/1e3)
}

func fmtClock(d time.Duration) string {
	d = d.Truncate(time.Second)
	h := int(d / time.Hour)
	m := int(d/time.Minute) % 60
	sec := int(d/time.Second) % 60
	return fmt.Sprintf("%02d:%02d:%02d", h, m, sec)
}

// fmtLong formats a long estimate coarsely: 34d, 12h30m, 45m, 30s.
func fmtLong(d time.Duration) string {
	switch {
	case d >= 48*time.Hour:
		return fmt.Sprintf("%dd", int(d/(24*time.Hour)))
	case d >= time.Hour:
		return fmt.Sprintf("%dh%02dm", int(d/time.Hour), int(d/time.Minute)%60)
	case d >= time.Minute:
		return fmt.Sprintf("%dm", int(d/time.Minute))
	}
	return fmt.Sprintf("%ds", int(d/time.Second))
}

func shortName(p string) string {
	if i := strings.LastIndexAny(p, `/\`); i >= 0 {
		return p[i+1:]
	}
	return p
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
