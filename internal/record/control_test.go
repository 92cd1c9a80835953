package record

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/livecap/livecap/internal/fanout"
	"github.com/livecap/livecap/internal/media"
)

type probedChapter struct {
	Start string            `json:"start_time"`
	Tags  map[string]string `json:"tags"`
}

func chaptersOf(t *testing.T, path string) []probedChapter {
	t.Helper()
	out := run(t, "ffprobe", "-v", "error", "-show_chapters", "-of", "json", path)
	var v struct {
		Chapters []probedChapter `json:"chapters"`
	}
	if err := json.Unmarshal(out, &v); err != nil {
		t.Fatalf("ffprobe chapters %s: %v", path, err)
	}
	return v.Chapters
}

// Split, markers, pause and resume against a running recorder, read back
// with ffprobe: files, their first frames, their chapters.
func TestControlSplitPauseMarker(t *testing.T) {
	const fps, secs = 30, 8
	s := makeStream(t, streamSpec{secs: secs, fps: fps, keyint: 15, rate: 48000, channels: 2})
	for _, format := range []string{"mp4", "mov"} {
		t.Run(format, func(t *testing.T) {
			dir := t.TempDir()
			var mu sync.Mutex
			var events []Event
			r, err := New(Options{Dir: dir, Format: format, Segment: time.Hour, Info: s.info, Keyframes: &keyReqs{},
				Log: zerolog.Nop(), Events: func(e Event) { mu.Lock(); events = append(events, e); mu.Unlock() }})
			if err != nil {
				t.Fatal(err)
			}
			if err := r.Marker("too early", 0); !errors.Is(err, ErrNoSegment) {
				t.Errorf("marker before the first segment: %v", err)
			}
			hub := fanout.NewHub()
			q := hub.Add("record", fanout.Policy{Lossless: true})
			done := make(chan error, 1)
			go func() { done <- r.Run(context.Background(), q) }()
			var pausedErrs []error
			for _, p := range s.packets {
				hub.Publish(p)
				if p.Kind != media.Video {
					continue
				}
				time.Sleep(500 * time.Microsecond) // let the recorder keep up, roughly
				switch p.PTS {
				case time.Second:
					mustNil(t, r.Marker("intro", time.Second))
				case 2 * time.Second:
					mustNil(t, r.Split())
				case 3*time.Second + 200*time.Millisecond:
					mustNil(t, r.Marker("Q&A — questions", p.PTS))
				case 4 * time.Second:
					mustNil(t, r.Pause())
					if !r.Paused() || !r.Stats().Paused {
						t.Error("Paused() or Stats().Paused false after Pause")
					}
				case 5 * time.Second:
					pausedErrs = append(pausedErrs, r.Pause(), r.Split(), r.Marker("lost", p.PTS))
				case 6 * time.Second:
					mustNil(t, r.Resume())
					pausedErrs = append(pausedErrs, r.Resume())
					// Before the IDR that opens the next file: it goes into that file, at its start.
					mustNil(t, r.Marker("resumed", p.PTS))
				case 7 * time.Second:
					mustNil(t, r.Marker("end", p.PTS))
				}
			}
			hub.Close()
			if err := <-done; err != nil {
				t.Fatal(err)
			}
			if err := r.Split(); !errors.Is(err, ErrStopped) {
				t.Errorf("split after the end: %v", err)
			}
			for i, want := range []error{ErrPaused, ErrPaused, ErrPaused, ErrNotPaused} {
				if !errors.Is(pausedErrs[i], want) {
					t.Errorf("request %d while paused: %v, want %v", i, pausedErrs[i], want)
				}
			}
			files := listFiles(t, dir)
			if len(files) != 3 {
				t.Fatalf("files %v, want 3 (split, pause, resume)", files)
			}
			var frames []int
			total := 0
			for _, f := range files {
				fr := videoFrames(t, f)
				if len(fr) == 0 || !fr[0].key {
					t.Fatalf("%s: no frames or not starting on a keyframe", f)
				}
				if e := decodeErrors(t, f); e != "" {
					t.Errorf("%s: decode errors: %s", f, e)
				}
				frames = append(frames, len(fr))
				total += len(fr)
			}
			paused := int(r.PausedFrames())
			if total+paused != secs*fps {
				t.Errorf("frames %v + %d paused = %d, want %d", frames, paused, total+paused, secs*fps)
			}
			// The split came at the first keyframe at or after 2 s, the pause
			// between 4 s and the next video frames, the resume on an IDR.
			if frames[0] < 2*fps || frames[0] > 3*fps {
				t.Errorf("first file %d frames, want the split near 2 s", frames[0])
			}
			if paused < fps {
				t.Errorf("%d frames paused, want about 2 s", paused)
			}
			checkCh := func(path string, want map[string]float64) {
				t.Helper()
				chs := chaptersOf(t, path)
				if len(chs) != len(want) {
					t.Fatalf("%s: chapters %+v, want %v", path, chs, want)
				}
				for _, c := range chs {
					w, ok := want[c.Tags["title"]]
					st, _ := strconv.ParseFloat(c.Start, 64)
					if !ok || math.Abs(st-w) > 0.001 {
						t.Errorf("%s: chapter %q at %.3f, want %v", path, c.Tags["title"], st, want)
					}
				}
			}
			checkCh(files[0], map[string]float64{"intro": 1})
			start2 := float64(frames[0]) / fps
			checkCh(files[1], map[string]float64{"Q&A — questions": 3.2 - start2})
			start3 := float64(frames[0]+frames[1]+paused) / fps
			checkCh(files[2], map[string]float64{"resumed": 0, "end": 7 - start3})
			mu.Lock()
			defer mu.Unlock()
			var kinds []string
			for _, e := range events {
				switch e.Type {
				case MarkerWritten, RecordingPaused, RecordingResumed:
					kinds = append(kinds, e.Type+":"+e.Name)
					if e.Err != nil {
						t.Errorf("event %+v", e)
					}
				}
			}
			want := "[marker:intro marker:Q&A — questions recording_paused: recording_resumed: marker:resumed marker:end]"
			if got := fmtStrs(kinds); got != want {
				t.Errorf("events %s, want %s", got, want)
			}
			if gst, err := exec.LookPath("gst-discoverer-1.0"); err == nil {
				out, err := exec.Command(gst, filepath.Join(files[1])).CombinedOutput()
				if err != nil {
					t.Errorf("gst-discoverer on a file with chapters: %v\n%s", err, out)
				}
			}
		})
	}
}

func mustNil(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func fmtStrs(s []string) string {
	out := "["
	for i, x := range s {
		if i > 0 {
			out += " "
		}
		out += x
	}
	return out + "]"
}

// A file takes markers until its reserved box is full, then reports it;
// the recording goes on.
func TestChapterSpaceFull(t *testing.T) {
	var ms []marker
	var err error
	var buf []byte
	for i := 0; err == nil; i++ {
		ms = append(ms, marker{name: "marker number " + strconv.Itoa(i) + " with a longer title to fill", at: time.Duration(i) * time.Second})
		buf, err = encodeChapters(buf[:0], ms)
		if err == nil && len(buf) != chapterSpace {
			t.Fatalf("udta of %d bytes, want %d", len(buf), chapterSpace)
		}
	}
	if len(ms) < 40 {
		t.Errorf("only %d markers fit", len(ms)-1)
	}
}
