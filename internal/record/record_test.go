package record

import (
	"context"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/Eyevinn/mp4ff/mp4"
	"github.com/rs/zerolog"

	"github.com/livecap/livecap/internal/fanout"
	"github.com/livecap/livecap/internal/media"
)

// record feeds packets through a hub with one lossless queue into a new
// recorder and returns Run's error, the events and the files written.
func record(t *testing.T, o Options, packets []*media.Packet) (error, []Event, []string) {
	t.Helper()
	var mu sync.Mutex
	var events []Event
	o.Events = func(e Event) { mu.Lock(); events = append(events, e); mu.Unlock() }
	if testing.Verbose() {
		o.Log = zerolog.New(zerolog.NewTestWriter(t))
	} else {
		o.Log = zerolog.Nop()
	}
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
	err = <-done
	return err, events, listFiles(t, o.Dir)
}

func listFiles(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var files []string
	for _, e := range ents {
		files = append(files, filepath.Join(dir, e.Name()))
	}
	sort.Strings(files)
	return files
}

func countKind(ps []*media.Packet, k media.Kind) int {
	n := 0
	for _, p := range ps {
		if p.Kind == k {
			n++
		}
	}
	return n
}

// The main job: segments of exactly --segment, each starting on the
// requested IDR, every frame in exactly one file, audio aligned to video
// in every file (edit list honoured), MP4 and MOV.
func TestSegmentsReadBack(t *testing.T) {
	const fps, secs, seg = 30, 7, 2
	s := makeStream(t, streamSpec{secs: secs, fps: fps, keyint: fps, rate: 48000, channels: 1})
	for _, format := range []string{"mp4", "mov"} {
		t.Run(format, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "rec") // created by New
			kr := &keyReqs{}
			start := time.Date(2026, 11, 21, 15, 30, 0, 0, time.UTC)
			err, events, files := record(t, Options{Dir: dir, Format: format, Segment: seg * time.Second,
				Start: start, Info: s.info, Keyframes: kr}, s.packets)
			if err != nil {
				t.Fatal(err)
			}
			wantNames := []string{"livecap-20261121-153000-0001." + format, "livecap-20261121-153000-0002." + format,
				"livecap-20261121-153000-0003." + format, "livecap-20261121-153000-0004." + format}
			if len(files) != len(wantNames) {
				t.Fatalf("files %v, want %v", files, wantNames)
			}
			for i, f := range files {
				if filepath.Base(f) != wantNames[i] {
					t.Errorf("file %d is %s, want %s", i, filepath.Base(f), wantNames[i])
				}
			}
			if want := []time.Duration{2 * time.Second, 4 * time.Second, 6 * time.Second, 8 * time.Second, 10 * time.Second}; !equalDur(kr.ats, want) {
				t.Errorf("keyframe requests at %v, want %v", kr.ats, want)
			}
			totalFrames, totalDur := 0, 0.0
			for i, f := range files {
				p := probe(t, f)
				vc, vstart, _, vn := p.stream("video")
				ac, astart, _, _ := p.stream("audio")
				if vc != "h264" || ac != "aac" {
					t.Fatalf("%s: codecs %q + %q, want h264 + aac", f, vc, ac)
				}
				if format == "mov" && p.Format.Tags["major_brand"] != "qt  " {
					t.Errorf("%s: major brand %q, want \"qt  \"", f, p.Format.Tags["major_brand"])
				}
				fr := videoFrames(t, f)
				if len(fr) == 0 || !fr[0].key {
					t.Fatalf("%s: first frame is not a keyframe", f)
				}
				want := fps * seg
				if i == len(files)-1 {
					want = fps*secs - (len(files)-1)*fps*seg
				}
				if len(fr) != want || vn != want {
					t.Errorf("%s: %d frames (probe %d), want %d", f, len(fr), vn, want)
				}
				totalFrames += len(fr)
				d := fr[len(fr)-1].pts + 1.0/fps - fr[0].pts
				totalDur += d
				if math.Abs(d-float64(want)/fps) > 0.5/fps {
					t.Errorf("%s: video lasts %.4f s, want %.4f", f, d, float64(want)/fps)
				}
				// Video presents from 0. The first file's audio starts with
				// the priming (1024 samples) that the edit list puts before
				// 0; a later one starts with the first AAC frame at or after
				// its cut, held back by an empty edit (the frame straddling
				// the cut ended the previous file).
				aFrame := 1024.0 / 48000
				if i == 0 && (astart > 0 || astart < -aFrame-1e-6) || i > 0 && (astart < 0 || astart >= aFrame+0.0005) {
					t.Errorf("%s: start_time video %.6f audio %.6f, want 0 and the first frame within one AAC frame of 0", f, vstart, astart)
				}
				if math.Abs(vstart) > 1e-6 {
					t.Errorf("%s: video start_time %.6f, want 0", f, vstart)
				}
				// The movie lasts as long as its longest track, and no less
				// than the audio media (GStreamer's qtdemux compares them):
				// the video plus at most one AAC frame, plus the priming in
				// the first file.
				md := mvhdDuration(t, f)
				lo, hi := float64(want)/fps, float64(want)/fps+aFrame+0.001
				if i == 0 {
					hi += aFrame
				}
				if md < lo-0.001 || md > hi {
					t.Errorf("%s: mvhd duration %.4f s, want %.4f..%.4f", f, md, lo, hi)
				}
				if e := decodeErrors(t, f); e != "" {
					t.Errorf("%s: decode errors: %s", f, e)
				}
				// The beep at every second + 0.5 s must come out of the
				// decoder at 0.5 s, 1.5 s (segments start on whole seconds),
				// on the file's presentation clock.
				pcm := audioPCMFromZero(t, f)
				on := onsets(pcm, 48000)
				if len(on) == 0 {
					t.Errorf("%s: no beep found", f)
				}
				for _, o := range on {
					off := float64(o)/48000 - 0.5 - math.Floor(float64(o)/48000)
					if math.Abs(off) > 0.001 {
						t.Errorf("%s: beep at %.4f s: audio shifted by %.2f ms", f, float64(o)/48000, off*1000)
					}
				}
				// FFmpeg does not apply the edit's end to fragments: up to
				// one AAC frame past the video end may remain.
				if got, want := float64(len(pcm))/48000, float64(want)/fps; got < want-0.001 || got > want+aFrame+0.001 {
					t.Errorf("%s: %.4f s of audio decoded, want %.4f", f, got, want)
				}
			}
			if totalFrames != fps*secs {
				t.Errorf("files hold %d frames, want %d", totalFrames, fps*secs)
			}
			if math.Abs(totalDur-secs) > 1.0/fps {
				t.Errorf("files last %.3f s, want %d", totalDur, secs)
			}
			var opened, closed int
			for _, e := range events {
				switch e.Type {
				case SegmentOpened:
					opened++
				case SegmentClosed:
					closed++
					if e.Bytes <= 0 || e.Frames <= 0 || e.Duration <= 0 {
						t.Errorf("segment_closed without figures: %+v", e)
					}
				}
			}
			if opened != 4 || closed != 4 || events[len(events)-1].Type != RecordingStopped {
				t.Errorf("events: %d opened, %d closed, last %+v", opened, closed, events[len(events)-1])
			}
		})
	}
}

func equalDur(a, b []time.Duration) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// mvhdDuration reads the movie duration with mp4ff.
func mvhdDuration(t *testing.T, path string) float64 {
	t.Helper()
	f, err := mp4.ReadMP4File(path)
	if err != nil {
		t.Fatalf("mp4ff reads %s: %v", path, err)
	}
	if f.Moov == nil || f.Moov.Mvhd == nil || f.Moov.Mvex == nil || f.Moov.Mvex.Mehd == nil {
		t.Fatalf("%s: no mvhd/mehd", path)
	}
	mv := f.Moov.Mvhd
	if int64(mv.Duration) != f.Moov.Mvex.Mehd.FragmentDuration {
		t.Errorf("%s: mvhd duration %d, mehd %d", path, mv.Duration, f.Moov.Mvex.Mehd.FragmentDuration)
	}
	return float64(mv.Duration) / float64(mv.Timescale)
}

func parseF(s string) float64 {
	f, _ := strconv.ParseFloat(strings.TrimSpace(s), 64)
	return f
}

// Audio that starts after the video (a microphone slower to open than the
// camera) is held back by an empty edit; cuts fall on the next keyframe
// when the segment length is not a multiple of the keyframe interval (the
// requested IDR did not come); the mono channel count survives.
func TestLateAudioAndUnrequestedCut(t *testing.T) {
	s := makeStream(t, streamSpec{secs: 7, fps: 30, keyint: 30, rate: 48000, channels: 1})
	var packets []*media.Packet
	for _, p := range s.packets {
		if p.Kind == media.Audio && p.PTS < 300*time.Millisecond {
			continue
		}
		packets = append(packets, p)
	}
	dir := t.TempDir()
	r, err := New(Options{Dir: dir, Segment: 1500 * time.Millisecond, Info: s.info})
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
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	st := r.Stats()
	if st.Segments != 4 || st.Frames != 210 || st.Path == "" {
		t.Errorf("Stats %+v, want 4 segments, 210 frames", st)
	}
	files := listFiles(t, dir)
	wantFrames := []int{60, 60, 60, 30} // cut at 2, 4, 6 s: the keyframes after 1.5 s
	if len(files) != len(wantFrames) {
		t.Fatalf("files %v", files)
	}
	for i, f := range files {
		if fr := videoFrames(t, f); len(fr) != wantFrames[i] || !fr[0].key {
			t.Errorf("%s: %d frames, want %d from a keyframe", f, len(fr), wantFrames[i])
		}
		p := probe(t, f)
		for _, s := range p.Streams {
			if s.CodecType == "audio" && s.Channels != 1 {
				t.Errorf("%s: %d channels, want 1", f, s.Channels)
			}
		}
		if i == 0 {
			_, astart, _, _ := p.stream("audio")
			// The first packet kept has PTS 16×1024 - 1024 samples = 0.320 s.
			if math.Abs(astart-0.32) > 0.0006 {
				t.Errorf("%s: audio starts at %.4f, want 0.320 (empty edit)", f, astart)
			}
		}
	}
	// The beep at 0.5 s in the first file: decode with the video's clock.
	on := onsetsFromZero(t, files[0])
	if len(on) == 0 || math.Abs(on[0]-0.5) > 0.001 {
		t.Errorf("first file: beeps at %v s, want the first at 0.500", on)
	}
}
