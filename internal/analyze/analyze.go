// Package analyze measures recordings and received streams.
//
// On any file it reports what the container and the decoder show: video
// and audio timestamps and their gaps, keyframe intervals, how segment
// files join, the A/V start offset and decode errors.
//
// On what livecap recorded or streamed from its test source (the layout is
// internal/testpattern: every frame carries its index as a barcode, a
// white flash each second, a 1 kHz beep at the instant of each flash) it
// also measures A/V sync and frame continuity: for each flash the nearest
// beep onset, offset = audio onset - video flash time, as a player
// presents them (positive means audio late), and missing or repeated
// frame numbers.
//
// Decoding goes through ffmpeg (one process per file, video scaled down to
// a small gray picture, audio as mono float), so any container or codec
// ffmpeg reads can be analyzed: MP4/MOV segments, FLV from nginx-rtmp,
// MPEG-TS from an SRT listener.
//
// Files: analyze.go (options, Files), report.go (the report's types),
// build.go (timeline and per-file facts), sync.go (flash/beep pairing and
// statistics), pattern.go (reading the test pattern's pictures), beep.go
// (beep onsets), decode.go (ffprobe and ffmpeg), text.go (the report for
// people), errors.go (the error types).
package analyze

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"time"
)

// Options of an analysis. The zero value measures without limits.
type Options struct {
	// MaxOffset, when > 0, fails the check when the largest |offset|
	// exceeds it (and when no flash/beep pair was found at all).
	MaxOffset time.Duration
	// AllowGaps accepts missing or repeated frame numbers and files that
	// do not join; otherwise they fail the check.
	AllowGaps bool
	// Interval is the bucket width of the offset series (default 1 min).
	Interval time.Duration
	// Pairs includes every flash/beep pair in the report.
	Pairs bool
	// FFmpeg and FFprobe are the executables to run ("ffmpeg", "ffprobe"
	// from PATH by default).
	FFmpeg, FFprobe string
}

// pairWindow: a flash and a beep farther apart than this are not paired.
const pairWindow = 500 * time.Millisecond

// maxListed caps the lists of missing/repeated frame numbers.
const maxListed = 100

// Files analyzes one recording, or several segment files given in order,
// as one timeline. An error is returned only when the analysis itself
// fails (see errors.go); failed checks are in Report.Failed and
// Report.Err.
func Files(ctx context.Context, paths []string, opts Options) (*Report, error) {
	if len(paths) == 0 {
		return nil, usagef("analyze: no file given: pass one recording or several segment files in order")
	}
	if opts.MaxOffset < 0 {
		return nil, usagef("analyze: max offset %v not allowed: use a positive duration such as 20ms", opts.MaxOffset)
	}
	if opts.Interval == 0 {
		opts.Interval = time.Minute
	}
	if opts.Interval < time.Second {
		return nil, usagef("analyze: series interval %v not allowed: use 1s or more", opts.Interval)
	}
	if opts.FFmpeg == "" {
		opts.FFmpeg = "ffmpeg"
	}
	if opts.FFprobe == "" {
		opts.FFprobe = "ffprobe"
	}
	for _, p := range paths {
		st, err := os.Stat(p)
		if err != nil {
			return nil, usagef("analyze: %s: no such file", p)
		}
		if st.IsDir() {
			return nil, usagef("analyze: %s is a directory: pass media files", p)
		}
	}
	for _, tool := range []string{opts.FFmpeg, opts.FFprobe} {
		if _, err := exec.LookPath(tool); err != nil {
			return nil, fmt.Errorf("analyze: %s not found: install FFmpeg (apt install ffmpeg)", tool)
		}
	}

	var files []*fileData
	var det *beepDetector
	for _, p := range paths {
		pi, err := probe(ctx, opts.FFprobe, p)
		if err != nil {
			return nil, err
		}
		if !pi.hasVideo && !pi.hasAudio {
			return nil, fmt.Errorf("analyze: %s has no video or audio stream", p)
		}
		d, err := decode(ctx, opts.FFmpeg, p, pi, det)
		if err != nil {
			return nil, err
		}
		det = d.det // nil (a file without audio) breaks the chain
		files = append(files, &fileData{path: p, probe: pi, dec: d})
	}
	return build(files, opts), nil
}

type fileData struct {
	path  string
	probe *probeInfo
	dec   *decoded
	shift int64 // µs added to the file's timestamps to get session time
}
