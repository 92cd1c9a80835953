package pipeline

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/livecap/livecap/internal/capture"
	"github.com/livecap/livecap/internal/capture/testsrc"
	"github.com/livecap/livecap/internal/encoder"
	"github.com/livecap/livecap/internal/fanout"
	"github.com/livecap/livecap/internal/media"
)

// stalling is the real test source with a fault: after `after` video
// frames its delivery stops for hold (or until the run ends when hold is
// 0), as a camera does when it is unplugged or its driver wedges.
type stalling struct {
	capture.Source
	after int
	hold  time.Duration
}

func (s *stalling) Run(ctx context.Context, v capture.VideoFunc, a capture.AudioFunc) error {
	n := 0
	return s.Source.Run(ctx, func(f *media.VideoFrame) {
		n++
		if n == s.after {
			if s.hold == 0 {
				f.Release()
				<-ctx.Done()
				return
			}
			select {
			case <-time.After(s.hold):
			case <-ctx.Done():
			}
		}
		v(f)
	}, a)
}

func (s *stalling) LostReason() string { return "unplugged (test)" }

type lossLog struct {
	mu   sync.Mutex
	lost []string
	back []string
}

func (l *lossLog) watchdog(lost, giveUp time.Duration) Watchdog {
	return Watchdog{Lost: lost, GiveUp: giveUp,
		OnLost: func(kind string, gap time.Duration, reason string) {
			l.mu.Lock()
			l.lost = append(l.lost, kind+": "+reason)
			l.mu.Unlock()
		},
		OnBack: func(kind string, gap time.Duration) {
			l.mu.Lock()
			l.back = append(l.back, kind)
			l.mu.Unlock()
		}}
}

func stallPipeline(t *testing.T, src capture.Source, wd Watchdog, d time.Duration) *Pipeline {
	t.Helper()
	b, err := encoder.Default("")
	if err != nil {
		t.Skip(err)
	}
	p, err := New(Config{Source: src, Backend: b,
		Video:    encoder.VideoSettings{Width: 160, Height: 96, FPS: 30, Bitrate: 200_000, KeyInterval: 2 * time.Second},
		Audio:    encoder.AudioSettings{SampleRate: 48000, Channels: 1, Bitrate: 64_000},
		Duration: d, Watchdog: wd})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func testSource(t *testing.T, d time.Duration) capture.Source {
	t.Helper()
	src, err := testsrc.New(testsrc.Options{Width: 160, Height: 96, FPS: 30,
		SampleRate: 48000, Channels: 1, Video: true, Audio: true, Duration: d})
	if err != nil {
		t.Fatal(err)
	}
	return src
}

// A source that stops for good: source_lost for both kinds (the test
// source delivers both from one goroutine), then a graceful stop whose
// error wraps capture.ErrSourceLost (exit 4) and names the reason; the
// hub still closes, so sinks finish what they hold.
func TestWatchdogGivesUpOnLostSource(t *testing.T) {
	var l lossLog
	p := stallPipeline(t, &stalling{Source: testSource(t, 30*time.Second), after: 20}, l.watchdog(500*time.Millisecond, time.Second), 30*time.Second)
	q := p.Hub().Add("sink", fanout.Policy{Lossless: true})
	p.Attach()
	done := make(chan error, 1)
	go func() { done <- p.Run(context.Background()) }()
	packets := 0
	for {
		if _, ok := q.Next(context.Background()); !ok {
			break
		}
		packets++
	}
	var err error
	select {
	case err = <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("the pipeline did not stop on a lost source")
	}
	if !errors.Is(err, capture.ErrSourceLost) || !errors.Is(err, capture.ErrDevice) {
		t.Fatalf("Run = %v, want an error wrapping capture.ErrSourceLost and ErrDevice", err)
	}
	if want := "unplugged (test)"; !strings.Contains(err.Error(), want) {
		t.Errorf("error %q does not give the source's reason %q", err, want)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	// A loaded machine may show an early gap that comes back; the stall
	// itself is a loss of both kinds that never does.
	if !hasKinds(l.lost, "video: unplugged (test)", "audio: unplugged (test)") || len(l.lost)-len(l.back) != 2 {
		t.Errorf("lost %q back %q, want video and audio lost for good", l.lost, l.back)
	}
	if packets < 19 {
		t.Errorf("%d packets reached the sink before the loss, want the frames before it", packets)
	}
	if st := p.Stats(); st.SourceLost != "video+audio" {
		t.Errorf("Stats().SourceLost = %q at the end, want video+audio", st.SourceLost)
	}
}

// A source that stalls and comes back before the give-up time: lost, then
// back, and the run ends normally.
func TestWatchdogSourceBack(t *testing.T) {
	var l lossLog
	p := stallPipeline(t, &stalling{Source: testSource(t, 2*time.Second), after: 10, hold: 1500 * time.Millisecond},
		l.watchdog(400*time.Millisecond, 10*time.Second), 2*time.Second)
	q := p.Hub().Add("sink", fanout.Policy{Lossless: true})
	p.Attach()
	done := make(chan error, 1)
	go func() { done <- p.Run(context.Background()) }()
	for {
		if _, ok := q.Next(context.Background()); !ok {
			break
		}
	}
	if err := <-done; err != nil {
		t.Fatalf("Run = %v after the source came back", err)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if !hasKinds(l.lost, "video: unplugged (test)", "audio: unplugged (test)") || !hasKinds(l.back, "video", "audio") || len(l.lost) != len(l.back) {
		t.Errorf("lost %q back %q, want video and audio lost, and every loss back", l.lost, l.back)
	}
	if st := p.Stats(); st.SourceLost != "" {
		t.Errorf("Stats().SourceLost = %q after the source came back", st.SourceLost)
	}
}

func hasKinds(got []string, want ...string) bool {
	for _, w := range want {
		found := false
		for _, g := range got {
			found = found || g == w
		}
		if !found {
			return false
		}
	}
	return true
}
