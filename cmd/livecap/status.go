package main

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/livecap/livecap/internal/diskcheck"
	"github.com/livecap/livecap/internal/fanout"
	"github.com/livecap/livecap/internal/pipeline"
	"github.com/livecap/livecap/internal/publish"
	"github.com/livecap/livecap/internal/record"
)

// statusInterval is how often the status line refreshes; stats events go
// out every statsEvery.
const (
	statusInterval = time.Second
	statsEvery     = 5 * time.Second
)

type statusSource struct {
	pipe     *pipeline.Pipeline
	recorder func() *record.Recorder
	pubs     []publish.Publisher
	queues   []*fanout.Queue
	cfg      *streamConfig
	started  time.Time

	lastT     time.Time
	lastBytes uint64
	lastFrame uint64
	fps, kbps float64
}

func (s *statusSource) sample(now time.Time) {
	st := s.pipe.Stats()
	bytes := st.VideoBytes + st.AudioBytes
	if !s.lastT.IsZero() {
		dt := now.Sub(s.lastT).Seconds()
		if dt > 0 {
			s.fps = float64(st.VideoFrames-s.lastFrame) / dt
			s.kbps = float64(bytes-s.lastBytes) * 8 / 1000 / dt
		}
	}
	s.lastT, s.lastBytes, s.lastFrame = now, bytes, st.VideoFrames
}

// line renders the one-line status a person sees on a terminal.
func (s *statusSource) line(now time.Time, width int) string {
	var b strings.Builder
	el := now.Sub(s.started).Truncate(time.Second)
	fmt.Fprintf(&b, "%s  %.0f fps  %.0f kb/s", fmtClock(el), s.fps, s.kbps)
	for i, p := range s.pubs {
		ps := p.Stats()
		qs := s.queues[i].Stats()
		fmt.Fprintf(&b, " | %s %s", p.Name(), stateText(ps))
		if ps.State == publish.StateLive {
			fmt.Fprintf(&b, " %.0f kb/s", float64(ps.Bitrate)/1000)
		}
		fmt.Fprintf(&b, " q %.1fs", qs.Duration.Seconds())
		if d := qs.DroppedVideo; d > 0 {
			fmt.Fprintf(&b, " drop %d", d)
		}
		if ps.Reconnects > 0 {
			fmt.Fprintf(&b, " rc %d", ps.Reconnects)
		}
	}
	if r := s.recorder(); r != nil {
		rs := r.Stats()
		if rs.Path != "" {
			fmt.Fprintf(&b, " | rec %s %s", shortName(rs.Path), diskcheck.Human(uint64(rs.Bytes)))
		}
		if free, err := diskcheck.Free(s.cfg.recordDir); err == nil {
			fmt.Fprintf(&b, " | free %s", diskcheck.Human(free))
			if bps := float64(s.cfg.bitrate+s.cfg.abitate) / 8; bps > 0 {
				fmt.Fprintf(&b, " (~%s)", fmtClock(time.Duration(float64(free)/bps)*time.Second).String())
			}
		}
	}
	out := b.String()
	if width > 0 && len(out) > width-1 {
		out = out[:width-1]
	}
	return out
}

func stateText(ps publish.Stats) string {
	if ps.State == publish.StateRetrying && ps.RetryIn > 0 {
		return fmt.Sprintf("retrying in %ds", int(ps.RetryIn.Round(time.Second)/time.Second))
	}
	return string(ps.State)
}

type clockStr string

func (c clockStr) String() string { return string(c) }

func fmtClock(d time.Duration) clockStr {
	d = d.Truncate(time.Second)
	h := int(d / time.Hour)
	m := int(d/time.Minute) % 60
	sec := int(d/time.Second) % 60
	return clockStr(fmt.Sprintf("%02d:%02d:%02d", h, m, sec))
}

func shortName(p string) string {
	if i := strings.LastIndexByte(p, '/'); i >= 0 {
		return p[i+1:]
	}
	return p
}

// startStatus runs the status line (terminal) and the periodic stats event
// (JSON logs) until the returned stop func is called.
func startStatus(ctx context.Context, log zerolog.Logger, pipe *pipeline.Pipeline, rec func() *record.Recorder,
	pubs []publish.Publisher, queues []*fanout.Queue, cfg *streamConfig, started time.Time) func() {
	s := &statusSource{pipe: pipe, recorder: rec, pubs: pubs, queues: queues, cfg: cfg, started: started}
	tty := isTerminal(os.Stderr) && !global.quiet
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(statusInterval)
		defer t.Stop()
		lastStats := time.Now()
		for {
			select {
			case <-ctx.Done():
				if tty {
					fmt.Fprint(os.Stderr, "\r\x1b[2K")
				}
				return
			case now := <-t.C:
				s.sample(now)
				if tty {
					fmt.Fprint(os.Stderr, "\r\x1b[2K"+s.line(now, termWidth()))
				}
				if now.Sub(lastStats) >= statsEvery {
					lastStats = now
					st := pipe.Stats()
					e := log.Info().Str("event", "stats").Dur("elapsed", now.Sub(started)).
						Float64("fps", s.fps).Float64("kbps", s.kbps).Uint64("frames", st.VideoFrames)
					if tty {
						e = log.Debug().Str("event", "stats").Float64("fps", s.fps)
					}
					e.Msg("stats")
				}
			}
		}
	}()
	return func() { cancel(); wg.Wait() }
}
