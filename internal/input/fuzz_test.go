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

// FuzzToAVCC checks the NAL length rewrite: whatever it accepts, it returns
// well-formed 4-byte AVCC with no parameter sets, AUD or empty units, no
// larger than the input allows, and a second pass leaves it unchanged.
func FuzzToAVCC(f *testing.F) {
	f.Add([]byte{0, 0, 0, 5, 0x65, 1, 2, 3, 4}, byte(2))
	f.Add([]byte{0, 0, 0, 2, 0x09, 0xf0, 0, 0, 0, 3, 0x67, 1, 2, 0, 0, 0, 2, 0x68, 1, 0, 0, 0, 2, 0x65, 9}, byte(2))
	f.Add([]byte{0, 3, 0x41, 1, 2, 0, 0, 0, 1, 0x06}, byte(1))
	f.Add([]byte{3, 0x41, 1, 2, 0, 1, 0x09}, byte(0))
	f.Add([]byte{0, 0, 0, 9, 0x65}, byte(2))
	f.Fuzz(func(t *testing.T, data []byte, ls byte) {
		lengthSize := []int{1, 2, 4}[int(ls)%3]
		out, err := ToAVCC(data, lengthSize)
		if err != nil {
			return
		}
		if len(out) > len(data)*4/lengthSize {
			t.Fatalf("%d bytes out of %d with %d-byte lengths", len(out), len(data), lengthSize)
		}
		for pos := 0; pos < len(out); {
			n, err := nalLength(out, pos, 4)
			if err != nil {
				t.Fatalf("output not AVCC: %v", err)
			}
			if n == 0 {
				t.Fatalf("empty NAL unit at %d", pos)
			}
			switch out[pos+4] & 0x1f {
			case nalSPS, nalPPS, nalAUD:
				t.Fatalf("NAL type %d kept", out[pos+4]&0x1f)
			}
			pos += 4 + n
		}
		again, err := ToAVCC(out, 4)
		if err != nil || !bytes.Equal(again, out) {
			t.Fatalf("second pass changed the output (err %v)", err)
		}
	})
}
