package session_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/rs/zerolog"

	_ "github.com/livecap/livecap/internal/avcodec" // the Linux encoder backend
	"github.com/livecap/livecap/internal/encoder"
	"github.com/livecap/livecap/internal/events"
	"github.com/livecap/livecap/internal/hooks"
	"github.com/livecap/livecap/internal/media"
	"github.com/livecap/livecap/internal/publish"
	"github.com/livecap/livecap/internal/record"
	"github.com/livecap/livecap/internal/session"
)

// recorder is an Observer that keeps every event name in order.
type observed struct {
	mu      sync.Mutex
	names   []string
	stopped session.Event
	started chan struct{}
	once    sync.Once
}

func newObserved() *observed { return &observed{started: make(chan struct{})} }

func (o *observed) add(n string) { o.mu.Lock(); o.names = append(o.names, n); o.mu.Unlock() }
func (o *observed) Session(e session.Event) {
	o.add(e.Name)
	if e.Name == events.Stopped {
		o.mu.Lock()
		o.stopped = e
		o.mu.Unlock()
	}
	if e.Name == events.Started {
		o.once.Do(func() { close(o.started) })
	}
}
func (o *observed) Record(e record.Event)   { o.add(e.Type) }
func (o *observed) Publish(e publish.Event) { o.add(string(e.Type)) }
func (o *observed) Hook(e hooks.Event)      { o.add(e.Type) }

func (o *observed) list() []string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([]string(nil), o.names...)
}

func testConfig(t *testing.T, obs session.Observer) session.Config {
	if _, err := encoder.Default(""); err != nil {
		t.Skip(err)
	}
	return session.Config{
		Video: "test", Audio: "test",
		Width: 160, Height: 90, FPS: 30, Bitrate: 300_000, KeyInterval: 2 * time.Second,
		SampleRate: 48000, Channels: 1, AudioBitrate: 64_000,
		RecordDir: t.TempDir(), Format: "mp4", Segment: 30 * time.Minute, DiskCheck: "off",
		Log: zerolog.Nop(), Observer: obs, Signals: make(chan os.Signal),
	}
}

func count(names []string, n string) int {
	c := 0
	for _, x := range names {
		if x == n {
			c++
		}
	}
	return c
}

// The --on-segment hook runs for every closed segment, fired by the
// session through the recorder's callback; started comes first, stopped last.
func TestHookFiredPerSegment(t *testing.T) {
	obs := newObserved()
	c := testConfig(t, obs)
	c.Fast, c.Duration, c.Segment = true, 5*time.Second, 2*time.Second
	c.Hook, c.HookWait = []string{"true"}, 10*time.Second
	s, err := session.New(c)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	names := obs.list()
	if names[0] != events.Started || names[len(names)-1] != events.Stopped {
		t.Errorf("events %v: want started first and stopped last", names)
	}
	closed := count(names, events.SegmentClosed)
	if closed != 3 || count(names, events.HookFinished) != closed || count(names, events.HooksDone) != 1 {
		t.Errorf("events %v: want a hook run per closed segment (3)", names)
	}
	if obs.stopped.Reason != session.ReasonDuration || obs.stopped.Err != nil || obs.stopped.Frames != 150 {
		t.Errorf("stopped %+v", obs.stopped)
	}
}

// A hook program that does not exist is refused before anything starts.
func TestMissingHookRefusedBeforeStart(t *testing.T) {
	obs := newObserved()
	c := testConfig(t, obs)
	c.Fast, c.Duration = true, time.Second
	c.Hook = []string{"/no/such/uploader"}
	_, err := session.New(c)
	var ce *session.ConfigError
	if !errors.As(err, &ce) {
		t.Fatalf("New: %v, want a ConfigError", err)
	}
	if n := obs.list(); len(n) != 0 {
		t.Errorf("events before the refusal: %v", n)
	}
	if files, _ := filepath.Glob(filepath.Join(c.RecordDir, "*")); len(files) != 0 {
		t.Errorf("files %v", files)
	}
}

// The first signal stops gracefully (its name is the reason), a second
// returns ErrInterrupted at once.
func TestSignals(t *testing.T) {
	for _, n := range []int{1, 2} {
		obs := newObserved()
		c := testConfig(t, obs)
		sigs := make(chan os.Signal, 2)
		c.Signals = sigs
		s, err := session.New(c)
		if err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- s.Run(context.Background()) }()
		<-obs.started
		for i := 0; i < n; i++ {
			sigs <- syscall.SIGTERM
		}
		err = <-done
		names := obs.list()
		if names[len(names)-1] != events.Stopped {
			t.Errorf("%d signals: events %v, want stopped last", n, names)
		}
		switch n {
		case 1:
			if err != nil || obs.stopped.Reason != syscall.SIGTERM.String() {
				t.Errorf("one signal: %v, stopped %+v", err, obs.stopped)
			}
		case 2:
			if !errors.Is(err, session.ErrInterrupted) && err != nil {
				t.Errorf("two signals: %v", err)
			}
		}
	}
}

// The test source runs at whole frame rates: --fps 29.97 with it is
// refused before anything starts (cameras and screens take it).
func TestTestSourceRefusesFractionalRate(t *testing.T) {
	obs := newObserved()
	c := testConfig(t, obs)
	c.Fast, c.Duration = true, time.Second
	c.FPS, c.Rate = 30, media.FrameRate{Num: 30000, Den: 1001}
	_, err := session.New(c)
	var ce *session.ConfigError
	if !errors.As(err, &ce) || !strings.Contains(err.Error(), "30000/1001") {
		t.Fatalf("New: %v, want a ConfigError naming 30000/1001", err)
	}
}
