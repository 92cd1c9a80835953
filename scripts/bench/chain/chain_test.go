// Package chain measures the whole copy path in one process, the way
// `livecap stream --input FILE --fast --record DIR --rtmp URL` runs it:
// input reader → pipeline → fan-out → fMP4 recorder + RTMP publisher to
// a real nginx-rtmp on 127.0.0.1 (so the peer's allocations are not ours).
//
//	go test -run x -bench Chain -benchmem -benchtime 3x ./scripts/bench/chain
//
// allocs/AU and B/AU are the steady state: the difference between a 90 s
// and a 30 s run of the same looped input, divided by the access units
// (video + audio) the extra 60 s carry, so the start-up's allocations
// (configuration, buffers, connections) drop out; the extra 60 s hold two
// more 30 s segments, so what each segment file costs stays in. Before
// them, one run fills the process's packet pool (input's slabs and
// packets, kept across sessions) to what a run keeps in flight at most:
// that is the warm-up of a long recording, not its steady state.
// GCs/10min is the garbage collections of that difference scaled to 10
// minutes of media. The same pair recorded into one file gives
// allocs/AU-1file, the access units' own cost, and allocs/segment, what
// each of the two extra segment files costs (opening, naming, its init
// and index).
package chain

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/livecap/livecap/internal/hooks"
	"github.com/livecap/livecap/internal/publish"
	"github.com/livecap/livecap/internal/record"
	"github.com/livecap/livecap/internal/session"
	"github.com/livecap/livecap/internal/testpeers"
)

const (
	fps        = 30
	sampleRate = 48000
	aacFrame   = 1024
)

var (
	inputOnce sync.Once
	inputPath string
	inputErr  error
)

// input is 10 s of 1280x720@30 H.264 at 4 Mbit/s (a keyframe every 2 s,
// no B-frames) with 48 kHz stereo AAC, made once per test binary.
func input(b *testing.B) string {
	testpeers.Need(b, "ffmpeg")
	inputOnce.Do(func() {
		dir, err := os.MkdirTemp("", "livecap-chain")
		if err != nil {
			inputErr = err
			return
		}
		inputPath = filepath.Join(dir, "in.mp4")
		out, err := exec.Command("ffmpeg", "-nostdin", "-loglevel", "error", "-y",
			"-f", "lavfi", "-i", "testsrc2=size=1280x720:rate=30", "-f", "lavfi", "-i", "sine=frequency=1000:sample_rate=48000",
			"-t", "10", "-c:v", "libx264", "-preset", "ultrafast", "-b:v", "4M", "-maxrate", "4M", "-bufsize", "4M",
			"-g", "60", "-bf", "0", "-c:a", "aac", "-b:a", "128k", "-ac", "2", inputPath).CombinedOutput()
		if err != nil {
			inputErr = &exec.ExitError{}
			b.Logf("ffmpeg: %s", out)
		}
	})
	if inputErr != nil {
		b.Fatal(inputErr)
	}
	return inputPath
}

type nop struct{}

func (nop) Session(session.Event) {}
func (nop) Record(record.Event)   {}
func (nop) Publish(publish.Event) {}
func (nop) Hook(hooks.Event)      {}

// run plays the input for d of media through the whole chain and returns
// the process's malloc, byte and GC counts over the run.
func run(b *testing.B, ngx *testpeers.Nginx, in string, d, segment time.Duration) (mallocs, bytes uint64, gcs uint32) {
	dest, err := publish.ParseDestination(ngx.URL("chain" + time.Now().Format("150405.000000")))
	if err != nil {
		b.Fatal(err)
	}
	s, err := session.New(session.Config{
		Input: in, Loop: true, Fast: true, Duration: d,
		RecordDir: b.TempDir(), Format: "mp4", Segment: segment, DiskCheck: "off",
		Destinations: []*publish.Destination{dest},
		Log:          zerolog.Nop(), Observer: nop{}, Signals: make(chan os.Signal),
	})
	if err != nil {
		b.Fatal(err)
	}
	var m0, m1 runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&m0)
	if err := s.Run(context.Background()); err != nil {
		b.Fatal(err)
	}
	runtime.ReadMemStats(&m1)
	return m1.Mallocs - m0.Mallocs, m1.TotalAlloc - m0.TotalAlloc, m1.NumGC - m0.NumGC
}

func BenchmarkChain(b *testing.B) {
	in := input(b)
	ngx := testpeers.StartNginx(b)
	const short, long = 30 * time.Second, 90 * time.Second
	const segment, oneFile = 30 * time.Second, time.Hour
	extra := (long - short).Seconds()
	aus := extra*fps + extra*sampleRate/aacFrame
	var allocs, byts, gcs, flat float64
	run(b, ngx, in, long, segment) // warm-up: the pool's peak
	b.ResetTimer()
	for range b.N {
		m0, b0, g0 := run(b, ngx, in, short, segment)
		m1, b1, g1 := run(b, ngx, in, long, segment)
		f0, _, _ := run(b, ngx, in, short, oneFile)
		f1, _, _ := run(b, ngx, in, long, oneFile)
		allocs += float64(int64(m1) - int64(m0))
		byts += float64(int64(b1) - int64(b0))
		gcs += float64(int64(g1) - int64(g0))
		flat += float64(int64(f1) - int64(f0))
	}
	n := float64(b.N)
	b.ReportMetric(allocs/n/aus, "allocs/AU")
	b.ReportMetric(byts/n/aus, "B/AU")
	b.ReportMetric(gcs/n*600/extra, "GCs/10min")
	// The same media in one file: what the access units cost without the
	// segment files, and (the difference) what each extra file costs.
	b.ReportMetric(flat/n/aus, "allocs/AU-1file")
	b.ReportMetric((allocs-flat)/n/2, "allocs/segment")
}
