package input

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/livecap/livecap/internal/media"
)

// FuzzOpen feeds arbitrary bytes to the MP4 reader, then reads every packet
// it finds. It must never panic (mp4ff included: rethrow turns its panics
// back into crashes here) and never allocate more than the file's size
// justifies. Seeds: small ffmpeg files in testdata (progressive, fragmented
// with either base-offset style, and a MOV with B-frames).
func FuzzOpen(f *testing.F) {
	seeds, _ := filepath.Glob(filepath.Join("testdata", "seed-*"))
	for _, s := range seeds {
		b, err := os.ReadFile(s)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	rethrow = true
	f.Fuzz(func(t *testing.T, data []byte) {
		// The fuzzer has no per-input time limit; a panic from a timer
		// makes it record an input that hangs the reader.
		watchdog := time.AfterFunc(10*time.Second, func() { panic("input: reading this input took over 10 s") })
		defer watchdog.Stop()
		r, err := newReader(bytes.NewReader(data), int64(len(data)), Options{})
		if err != nil {
			return
		}
		var total int64
		n := 0
		_ = r.Run(context.Background(), func(p *media.Packet) {
			n++
			total += int64(len(p.Data))
		})
		// Every packet is a sample that lies inside the file, and a NAL
		// length rewrite at most quadruples a 1-byte-length sample.
		if n > 0 && total/int64(n) > 4*int64(len(data)) {
			t.Fatalf("%d packets of %d bytes on average from a %d-byte file", n, total/int64(n), len(data))
		}
	})
}
