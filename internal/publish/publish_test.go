package publish

import (
	"bytes"
	"context"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/livecap/livecap/internal/clock"
	"github.com/livecap/livecap/internal/fanout"
	"github.com/livecap/livecap/internal/testpeers"
)

func TestParseDestination(t *testing.T) {
	good := map[string]string{
		"rtmp://live.example.com/app/SECRETKEY":                                         "rtmp://live.example.com/app/****",
		"rtmps://h:4443/a/b/SECRETKEY?token=SECRETTOK":                                  "rtmps://h:4443/a/b/****",
		"srt://h:9000?streamid=SECRETID&passphrase=SECRETPASS1&pbkeylen=16&latency=200": "srt://h:9000?streamid=****&passphrase=****&pbkeylen=16&latency=200",
		"srt://h:9000": "srt://h:9000",
		// One segment (MediaMTX's rtmp://host/mystream): the application,
		// redacted all the same, since it may be a key typed alone.
		"rtmp://h/SECRETKEY": "rtmp://h/****",
	}
	for in, want := range good {
		d, err := ParseDestination(in)
		if err != nil {
			t.Fatalf("%s: %v", in, err)
		}
		if d.Redacted() != want {
			t.Errorf("Redacted(%s) = %s, want %s", in, d.Redacted(), want)
		}
	}
	bad := map[string]string{
		"not a url":                       "not a URL",
		"http://h/app/SECRETKEY":          "unknown scheme",
		"rtmp://h/":                       "application and a stream key",
		"rtmp://h/app/":                   "application and a stream key",
		"srt://h?streamid=SECRETID":       "needs a port",
		"srt://h:9000?passphrase=SECRETS": "passphrase has 7 characters",
		"srt://h:9000?passphrase=SECRETPASS1&pbkeylen=20": "pbkeylen",
		"srt://h:9000?latency=SECRETfast":                 "latency",
		"rtmp://h:99999/app/SECRETKEY":                    "port",
	}
	for in, want := range bad {
		_, err := ParseDestination(in)
		if err == nil {
			t.Fatalf("%s: no error", in)
		}
		msg := err.Error()
		if !strings.Contains(msg, want) || strings.Contains(msg, "\n") {
			t.Errorf("%s: error %q does not say %q on one line", in, msg, want)
		}
		if strings.Contains(msg, "SECRET") && !strings.Contains(in, "latency") {
			t.Errorf("%s: error leaks a secret: %s", in, msg)
		}
	}
	if got := Redact(`dial rtmp://h/app/SECRETKEY failed; srt://h:1?passphrase=SECRETPASS1 key=SECRET`); strings.Contains(got, "SECRET") {
		t.Errorf("Redact left a secret: %s", got)
	}
}

// harness runs one publisher from a hub fed by ffmpeg-made packets, with its
// log captured so tests can look for secrets in it.
type harness struct {
	t      *testing.T
	pk     *testpeers.Packets
	hub    *fanout.Hub
	q      *fanout.Queue
	p      Publisher
	logBuf *syncBuf
	events []Event
	evMu   sync.Mutex
	errc   chan error
	cancel context.CancelFunc
	clk    *clock.Host

	published int64 // packets handed to the hub (atomic)
}

type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}
func (s *syncBuf) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

func start(t *testing.T, pk *testpeers.Packets, url string, o Options) *harness {
	t.Helper()
	d, err := ParseDestination(url)
	if err != nil {
		t.Fatal(err)
	}
	h := &harness{t: t, pk: pk, hub: fanout.NewHub(), logBuf: &syncBuf{}, errc: make(chan error, 1), clk: clock.NewHost()}
	o.Info = pk.Info
	if o.Clock == nil {
		o.Clock = h.clk
	}
	o.Keyframes = pk
	o.Log = zerolog.New(h.logBuf)
	o.Events = func(e Event) { h.evMu.Lock(); h.events = append(h.events, e); h.evMu.Unlock() }
	if o.Backoff.Initial == 0 {
		o.Backoff = Backoff{Initial: 200 * time.Millisecond, Max: time.Second}
	}
	h.p, err = New(d, o)
	if err != nil {
		t.Fatal(err)
	}
	h.q = h.hub.Add(h.p.Name(), DefaultPolicy())
	ctx, cancel := context.WithCancel(context.Background())
	h.cancel = cancel
	go func() { h.errc <- h.p.Run(ctx, h.q) }()
	return h
}

// play feeds the packets in real time, each stamped as just encoded (a
// copy: the prepared packets are shared between tests), then ends the
// stream and waits for the publisher to drain and return.
func (h *harness) play(ctx context.Context) error {
	start := time.Now()
	first := h.pk.Packets[0].DTS
	for _, pk := range h.pk.Packets {
		if d := time.Until(start.Add(pk.DTS - first)); d > 0 {
			select {
			case <-ctx.Done():
			case <-time.After(d):
			}
		}
		if ctx.Err() != nil {
			break
		}
		c := *pk
		c.Encoded = h.clk.Now()
		h.hub.Publish(&c)
		atomic.AddInt64(&h.published, 1)
	}
	h.hub.Close()
	select {
	case err := <-h.errc:
		return err
	case <-time.After(15 * time.Second):
		h.cancel()
		return <-h.errc
	}
}

// playLoop feeds the packets in real time, over and over, until ctx is
// done; it does not close the hub.
func (h *harness) playLoop(ctx context.Context) {
	start := time.Now()
	first := h.pk.Packets[0].DTS
	span := h.pk.Packets[len(h.pk.Packets)-1].DTS - first + time.Second/30
	for loop := time.Duration(0); ; loop += span {
		for _, pk := range h.pk.Packets {
			if d := time.Until(start.Add(loop + pk.DTS - first)); d > 0 {
				select {
				case <-ctx.Done():
					return
				case <-time.After(d):
				}
			}
			c := *pk
			c.PTS += loop
			c.DTS += loop
			c.Encoded = h.clk.Now()
			h.hub.Publish(&c)
			atomic.AddInt64(&h.published, 1)
		}
	}
}

// checkLatency checks that every packet sent was timed, consistently.
func (h *harness) checkLatency() {
	h.t.Helper()
	st := h.p.Stats()
	l, w := st.Latency, st.WriteLatency
	h.t.Logf("latency encoder→socket %v; write alone %v", l, w)
	if l.Count == 0 || w.Count != l.Count {
		h.t.Errorf("latency counted %d packets, write latency %d", l.Count, w.Count)
	}
	if l.P50 > l.P99 || l.P99 > l.Max || w.P50 > w.P99 || w.P99 > w.Max {
		h.t.Errorf("percentiles out of order: %+v %+v", l, w)
	}
	// The write is part of the whole: per packet, encoded <= write start.
	if w.Max > l.Max {
		h.t.Errorf("write latency max %v over the whole latency max %v", w.Max, l.Max)
	}
}

func (h *harness) noSecrets(secrets ...string) {
	h.t.Helper()
	logs := h.logBuf.String()
	h.evMu.Lock()
	for _, e := range h.events {
		logs += e.Destination + e.Error
	}
	h.evMu.Unlock()
	st := h.p.Stats()
	logs += st.Name + st.LastError
	for _, s := range secrets {
		if strings.Contains(logs, s) {
			h.t.Errorf("secret %q appears in logs/events/stats:\n%s", s, logs)
		}
	}
}

func (h *harness) count(typ EventType) int {
	h.evMu.Lock()
	defer h.evMu.Unlock()
	n := 0
	for _, e := range h.events {
		if e.Type == typ {
			n++
		}
	}
	return n
}

func checkDecodes(t *testing.T, file string, minVideo int) testpeers.StreamReport {
	t.Helper()
	r := testpeers.Probe(t, file)
	if r.Codecs["video"] != "h264" || r.Codecs["audio"] != "aac" {
		t.Errorf("%s: codecs %v, want h264+aac", file, r.Codecs)
	}
	if r.Frames["video"] < minVideo || r.Frames["audio"] < minVideo {
		t.Errorf("%s: decoded frames %v, want at least %d video", file, r.Frames, minVideo)
	}
	if r.DecodeErrors != "" {
		t.Errorf("%s: decode errors: %s", file, r.DecodeErrors)
	}
	if r.NonMonotonic["video"]+r.NonMonotonic["audio"] > 0 {
		t.Errorf("%s: timestamps went backwards: %v", file, r.NonMonotonic)
	}
	return r
}
