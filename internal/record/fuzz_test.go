package record

import (
	"context"
	"encoding/binary"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/livecap/livecap/internal/fanout"
	"github.com/livecap/livecap/internal/media"
)

// fuzzInfo is a 320x180 H.264 + mono 48 kHz AAC stream description.
func fuzzInfo(audio bool) media.StreamInfo {
	info := media.StreamInfo{Video: &media.VideoConfig{Width: 320, Height: 180, FPS: 30,
		SPS: []byte{0x67, 0x64, 0x00, 0x0d, 0xac, 0xd9, 0x41, 0x41, 0x9f, 0x9e, 0x10, 0x00, 0x00, 0x03, 0x00, 0x10, 0x00, 0x00, 0x03, 0x03, 0xc0, 0xf1, 0x42, 0x99, 0x60},
		PPS: []byte{0x68, 0xeb, 0xe3, 0xcb, 0x22, 0xc0}}}
	if audio {
		info.Audio = &media.AudioConfig{SampleRate: 48000, Channels: 1, ASC: []byte{0x11, 0x88}, Priming: 1024, FrameSize: 1024}
	}
	return info
}

// fuzzPackets decodes the fuzzer's bytes into packets, 6 bytes each: flags
// (bit 0 audio, bit 1 key, bits 2-4 a scale of the step: ×8^k, so that steps
// reach years), a signed PTS step in ms, a size (12 bits) and a duration in
// ms. Steps may be 0 or negative: out-of-order packets are part of the test.
func fuzzPackets(data []byte, first time.Duration) []*media.Packet {
	var out []*media.Packet
	pts := [2]time.Duration{first, first}
	for len(data) >= 6 && len(out) < 300 {
		fl := data[0]
		step := time.Duration(int16(binary.BigEndian.Uint16(data[1:3]))) * time.Millisecond << (3 * ((fl >> 2) & 7))
		size := int(binary.BigEndian.Uint16(data[3:5]) & 0x0FFF)
		dur := time.Duration(data[5]) * time.Millisecond
		data = data[6:]
		k := media.Video
		if fl&1 != 0 {
			k = media.Audio
		}
		pts[k] += step
		p := &media.Packet{Kind: k, PTS: pts[k], DTS: pts[k], Duration: dur, Key: fl&2 != 0 || k == media.Audio, Data: make([]byte, size)}
		if k == media.Video {
			// B-frames: a composition offset of 0 to 3 frames.
			p.PTS += time.Duration(fl>>6) * 33 * time.Millisecond
		}
		out = append(out, p)
	}
	return out
}

// watchdog panics if one input takes over 10 s: the fuzzer has no time
// limit of its own, and a panic makes it keep the input that hangs.
func watchdog() (stop func()) {
	t := time.AfterFunc(10*time.Second, func() { panic("fuzz: one input took over 10 s") })
	return func() { t.Stop() }
}

// scratch returns a fresh empty directory for one input, removed when the
// input is done. It lives in /dev/shm when there is one: on a disk mounted
// with discard, creating and removing a directory per input (t.TempDir)
// costs more than the code under test, and the fuzzer slows to a crawl.
func scratch(t *testing.T) string {
	base := ""
	if st, err := os.Stat("/dev/shm"); err == nil && st.IsDir() {
		base = "/dev/shm"
	}
	dir, err := os.MkdirTemp(base, "livecap-fuzz-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

// recordAll runs a Recorder over packets, as the pipeline does.
func recordAll(t testing.TB, o Options, packets []*media.Packet) error {
	r, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	hub := fanout.NewHub()
	q := hub.Add("record", fanout.Policy{Lossless: true})
	done := make(chan error, 1)
	go func() { done <- r.Run(context.Background(), q) }()
	for _, p := range packets {
		hub.Publish(p)
	}
	hub.Close()
	return <-done
}

// FuzzFragment drives the recorder (segment cuts, fragment building,
// audio/video interleaving, edit lists) with arbitrary packet sizes,
// durations, keyframe flags and timestamps, including ones that jump by
// years or go backwards. It must never panic nor allocate out of
// proportion to the input; when real files are written (discard false) a
// clean stop must leave every file whole and finalized: Scan, which repairs
// crashed recordings, must find nothing to do.
func FuzzFragment(f *testing.F) {
	// 10 frames at 30 fps with an IDR every 5, audio interleaved.
	var seed []byte
	for i := 0; i < 10; i++ {
		fl := byte(0)
		if i%5 == 0 {
			fl = 2
		}
		seed = append(seed, fl, 0, 33, 0x01, 0x00, 33, 1, 0, 21, 0, 0x80, 21)
	}
	f.Add(seed, uint16(0), uint8(0), false, true, false, int64(0))
	f.Add(seed, uint16(0), uint8(0), false, true, true, int64(0))
	f.Add(seed, uint16(10), uint8(3), true, false, true, int64(-1e9))
	f.Add([]byte{2, 0, 0, 0, 9, 0, 3, 0x7f, 0xff, 0, 5, 0, 2, 0x80, 0, 0, 5, 0, 29, 0x7f, 0xff, 0, 5, 0}, uint16(1), uint8(1), false, true, true, int64(1<<62))
	f.Fuzz(func(t *testing.T, data []byte, segment uint16, fragment uint8, mov, audio, files bool, first int64) {
		defer watchdog()()
		packets := fuzzPackets(data, time.Duration(first))
		var payload int
		for _, p := range packets {
			payload += len(p.Data)
		}
		dir := scratch(t)
		o := Options{Dir: dir, Segment: time.Duration(segment) * 10 * time.Millisecond,
			Fragment: time.Duration(fragment) * 10 * time.Millisecond,
			Info:     fuzzInfo(audio), Log: zerolog.Nop(), noSync: true, discard: !files}
		if mov {
			o.Format = "mov"
		}
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		before := ms.TotalAlloc
		err := recordAll(t, o, packets)
		runtime.ReadMemStats(&ms)
		// A generous bound: fixed costs (init segments, mp4ff) plus a few
		// times the media. What it catches is allocation that grows with
		// timestamps or durations rather than with data.
		if used := ms.TotalAlloc - before; used > 32<<20+16*uint64(payload) {
			t.Fatalf("%d MB allocated for %d packets of %d bytes", used>>20, len(packets), payload)
		}
		if err != nil || o.discard {
			return
		}
		recs, err := Scan(dir)
		if err != nil {
			t.Fatalf("scan after a clean stop: %v", err)
		}
		for _, r := range recs {
			t.Errorf("after a clean stop, scan reports %s: %s (finalized %v, %d of %d bytes kept)",
				filepath.Base(r.Path), r.Problem, r.Finalized, r.Kept, r.Size)
		}
	})
}

// FuzzScan runs the crash-recovery scan on arbitrary file contents: no
// panic, nothing allocated beyond the file's size, a repaired file is cut
// exactly to what the report says was kept, and a second scan finds
// nothing more to cut (the repair is a fixed point). Seeds: a real
// recording, whole and cut at several points.
func FuzzScan(f *testing.F) {
	dir := f.TempDir()
	var seed []byte
	for i := 0; i < 40; i++ {
		fl := byte(0)
		if i%15 == 0 {
			fl = 2
		}
		seed = append(seed, fl, 0, 33, 0x00, 0x40, 33, 1, 0, 21, 0, 0x10, 21)
	}
	o := Options{Dir: dir, Fragment: 200 * time.Millisecond, Info: fuzzInfo(true), Log: zerolog.Nop(), noSync: true}
	if err := recordAll(f, o, fuzzPackets(seed, 0)); err != nil {
		f.Fatal(err)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*.mp4"))
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		for _, n := range []int{len(b), len(b) - 1, len(b) * 2 / 3, len(b) / 3, 40} {
			f.Add(b[:n], true)
		}
	}
	f.Add([]byte("\x00\x00\x00\x08ftyp\x00\x00\x00\x01moov\x00\x00\x00\x00\x00\x00\x00\x10"), false)
	f.Fuzz(func(t *testing.T, data []byte, mp4 bool) {
		defer watchdog()()
		dir := scratch(t)
		name := filepath.Join(dir, "livecap-x.mov")
		if mp4 {
			name = filepath.Join(dir, "livecap-x.mp4")
		}
		if err := os.WriteFile(name, data, 0o644); err != nil {
			t.Fatal(err)
		}
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		before := ms.TotalAlloc
		recs, err := Scan(dir)
		runtime.ReadMemStats(&ms)
		if used := ms.TotalAlloc - before; used > 1<<20+2*uint64(len(data)) {
			t.Fatalf("%d bytes allocated to scan a %d-byte file", used, len(data))
		}
		if err != nil {
			return
		}
		st, err := os.Stat(name)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range recs {
			if r.Kept > r.Size || r.Kept < 0 || r.Size != int64(len(data)) {
				t.Fatalf("kept %d of %d bytes (file of %d)", r.Kept, r.Size, len(data))
			}
			if r.Repaired && st.Size() != r.Kept {
				t.Fatalf("repaired to %d bytes, report says %d kept", st.Size(), r.Kept)
			}
			if !r.Repaired && st.Size() != int64(len(data)) {
				t.Fatalf("file changed from %d to %d bytes without a repair", len(data), st.Size())
			}
		}
		again, err := Scan(dir)
		if err != nil {
			t.Fatalf("second scan: %v", err)
		}
		for _, r := range again {
			if r.Repaired {
				t.Fatalf("second scan cut the file again: %s (%d of %d kept)", r.Problem, r.Kept, r.Size)
			}
		}
	})
}
