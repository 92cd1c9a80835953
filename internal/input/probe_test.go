package input

import (
	"errors"
	"strings"
	"testing"
)

// What the session refuses before `started` (issue 11 item 9): Probe
// gives an *UnsupportedError (errors.Is ErrUnsupported) for HEVC and
// audio-only files, naming what the file holds; Open reads them without
// video and OtherVideo names the HEVC track; H.264 files pass.
func TestProbeRefusesNonH264(t *testing.T) {
	dir := t.TempDir()
	h264 := makeFile(t, dir, "h264.mp4", 1)
	hevc := makeFile(t, dir, "hevc.mp4", 1, "-c:v", "libx265", "-tag:v", "hvc1", "-x265-params", "log-level=error")
	audioOnly := makeFile(t, dir, "audio.m4a", 1, "-vn")
	tracks, err := Probe(h264)
	if err != nil || len(tracks) != 2 || tracks[0].Codec != "avc1" || !tracks[0].Used || tracks[1].Codec != "mp4a" || !tracks[1].Used {
		t.Fatalf("Probe(h264): %+v, %v", tracks, err)
	}
	for path, want := range map[string]string{hevc: "HEVC (hvc1): H.264 only", audioOnly: "audio-only input is not supported"} {
		_, err := Probe(path)
		var ue *UnsupportedError
		if !errors.Is(err, ErrUnsupported) || !errors.As(err, &ue) || !strings.Contains(err.Error(), want) {
			t.Errorf("Probe(%s): %v, want an UnsupportedError saying %q", path, err, want)
		}
		r, err := Open(path, Options{})
		if err != nil {
			t.Fatalf("Open(%s): %v", path, err)
		}
		if r.Info().Video != nil {
			t.Errorf("Open(%s): a video stream", path)
		}
		if other := r.OtherVideo(); path == hevc && (len(other) != 1 || other[0] != "hvc1") {
			t.Errorf("OtherVideo(%s) = %v, want [hvc1]", path, other)
		}
		r.Close()
	}
}

// A file with negative composition offsets (ctts version 1, FFmpeg's
// -movflags negative_cts_offsets) still gives PTS >= DTS with DTS
// increasing, as media.Packet promises.
func TestNegativeCompositionOffsets(t *testing.T) {
	path := makeFile(t, t.TempDir(), "neg.mp4", 2, "-bf", "2", "-movflags", "+negative_cts_offsets", "-an")
	r, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	ps := runAll(t, r)
	if len(ps) != 60 {
		t.Fatalf("%d packets, want 60", len(ps))
	}
	reordered := false
	for i, p := range ps {
		if p.PTS < p.DTS {
			t.Fatalf("packet %d: PTS %v < DTS %v", i, p.PTS, p.DTS)
		}
		if i > 0 && p.DTS <= ps[i-1].DTS {
			t.Fatalf("packet %d: DTS %v after %v", i, p.DTS, ps[i-1].DTS)
		}
		if i > 0 && p.PTS < ps[i-1].PTS {
			reordered = true
		}
	}
	if !reordered || ps[0].PTS != 0 {
		t.Errorf("first PTS %v, B-frames reordered %v: want 0 and true", ps[0].PTS, reordered)
	}
}
