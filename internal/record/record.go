// Package record writes the encoded stream to segmented, fragmented MP4 or
// MOV files.
//
// Each segment is a file of its own: an init segment (ftyp+moov, with an
// edit list per track) and then a moof+mdat fragment about every second,
// each written in one go and synced, so that after a crash every file plays
// up to its last fragment. A file appears on disk with its first fragment
// (never empty). A segment starts at a video IDR (the recorder asks the
// encoder for one at each boundary) and its presentation starts at that
// frame; video keeps its decode order and composition offsets (B-frames).
// Audio is cut between files at the same instant, each AAC frame in the
// file where it starts, so that the segments join end to end without a
// hole or a repeat; the first file's edit list trims the encoder priming.
// A clean close writes the real durations and an mfra index.
//
// The package is made of: Recorder (this file: the API and the run loop),
// the segmenter (segmenter.go: where each packet goes, when a segment is
// cut, audio across cuts), segment (segment.go: one file's fragments and
// finalization), the box writers (fmp4.go, fragment.go, boxes.go), the
// file (file.go) and the start-up scan (scan.go).
package record

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/livecap/livecap/internal/diskcheck"
	"github.com/livecap/livecap/internal/events"
	"github.com/livecap/livecap/internal/fanout"
	"github.com/livecap/livecap/internal/media"
)

// Options configure a Recorder.
type Options struct {
	Dir    string
	Format string // "mp4" (default) or "mov"
	// Segment is the media time per file (default 30m).
	Segment time.Duration
	// Fragment is the media time per moof+mdat (default 1s); each fragment
	// is synced to disk once written.
	Fragment time.Duration
	// Prefix of file names (default "livecap").
	Prefix string
	// Start is the wall-clock start of the recording, for names (default now).
	Start time.Time
	// Info describes the streams: SPS/PPS, AudioSpecificConfig, priming.
	Info media.StreamInfo
	// Keyframes receives a request for an IDR at each segment boundary.
	Keyframes media.KeyframeRequester
	// MinFree: when free space at Dir falls under it (checked after every
	// fragment), the segment is closed cleanly and Run returns ErrDiskLow.
	// 0 disables the watch.
	MinFree uint64
	Log     zerolog.Logger
	// Events, when set, is called (on the recorder's goroutine) for each
	// lifecycle event.
	Events func(Event)
	// OnSegmentComplete, when set, is called (on the recorder's goroutine,
	// after the segment_closed event) for each segment finalized and synced:
	// the file is complete and safe to hand to another program.
	OnSegmentComplete func(path string, duration time.Duration)

	noSync  bool             // benchmarks: leave fsync out of the measurement
	discard bool             // benchmarks: build every fragment, write none
	clock   func() time.Time // tests: the wall clock that paces fsync
}

// Event types.
const (
	SegmentOpened    = events.SegmentOpened
	SegmentClosed    = events.SegmentClosed
	DiskLow          = events.DiskLow
	RecordingStopped = events.RecordingStopped
)

// Event is a lifecycle event of the recorder. segment_opened comes when a
// segment starts (at its first IDR) with the path it is written to; the
// file itself appears with the segment's first fragment, about one
// Fragment later, so that no file on disk is ever empty.
type Event struct {
	Type     string
	Path     string
	Index    int           // segment number, from 1
	Duration time.Duration // segment_closed: media time in the file; marker: its time in the file
	Name     string        // marker: its name
	Bytes    int64         // segment_closed: file size
	Frames   int           // segment_closed: video frames in the file
	Free     uint64        // disk_low: free bytes
	MinFree  uint64        // disk_low: the threshold
	Err      error         // recording_stopped: why, nil on a clean stop; marker: not written
}

// Stats of a running recorder.
type Stats struct {
	Path     string // current segment ("" before the first)
	Bytes    int64  // of the current segment
	Segments int    // files opened so far
	Frames   uint64 // video frames written, all files
	Audio    uint64 // audio frames written, all files
	Skipped  uint64 // video frames before the first keyframe, not recorded
	// Dropped counts packets refused because their DTS did not increase
	// (a producer breaking media.Packet's contract); 0 in a healthy run.
	Dropped uint64
	// Paused: livecap ctl pause (control.go); Path is the last segment.
	Paused bool
}

var (
	// ErrDiskLow: free space fell under Options.MinFree; the segment was
	// closed cleanly.
	ErrDiskLow = errors.New("free disk space under the recording's low-water mark")
	// ErrDiskFull: a write failed with ENOSPC; the file was cut back to its
	// last complete fragment.
	ErrDiskFull = errors.New("disk full")
)

type diskLowError struct {
	dir           string
	free, minFree uint64
}

func (e *diskLowError) Error() string {
	return fmt.Sprintf("free space at %s is %s, under the %s low-water mark: segment closed, recording stopped",
		e.dir, diskcheck.Human(e.free), diskcheck.Human(e.minFree))
}
func (e *diskLowError) Is(t error) bool { return t == ErrDiskLow }

// Recorder writes one recording as a series of segment files.
type Recorder struct {
	o   Options
	mux muxer
	seg segmenter
	dir recDir // the directory, shared by the segment files

	freeErrLog bool
	flushed    bool // a fragment was written since the last disk check

	mu sync.Mutex
	st Stats

	ctl ctlState // runtime control: split, pause, markers (control.go)
}

// New checks the options and returns a Recorder; nothing is written until Run.
func New(o Options) (*Recorder, error) {
	if o.Dir == "" {
		return nil, errors.New("record: no directory given")
	}
	switch o.Format {
	case "", "mp4":
		o.Format = "mp4"
	case "mov":
	default:
		return nil, fmt.Errorf("record: format %q is not allowed (mp4 or mov)", o.Format)
	}
	if o.Segment == 0 {
		o.Segment = 30 * time.Minute
	}
	if o.Segment < 0 {
		return nil, fmt.Errorf("record: segment %s is negative", o.Segment)
	}
	if o.Fragment <= 0 {
		o.Fragment = time.Second
	}
	if o.Prefix == "" {
		o.Prefix = "livecap"
	}
	if o.Start.IsZero() {
		o.Start = time.Now()
	}
	v, a := o.Info.Video, o.Info.Audio
	if v == nil {
		// Segments are cut at video IDRs and presentation starts at one.
		return nil, errors.New("record: a recording needs a video stream (audio-only is not supported)")
	}
	if len(v.SPS) < 4 || len(v.PPS) == 0 {
		return nil, errors.New("record: the video stream has no SPS/PPS")
	}
	r := &Recorder{o: o, dir: recDir{path: o.Dir, now: o.clock}}
	r.mux = muxer{info: o.Info, mov: o.Format == "mov", created: o.Start, withUdta: r.withChapters, movieTS: movieTimescale}
	if v.FPS > 0 {
		r.mux.frameD = time.Second / time.Duration(v.FPS)
	}
	if a != nil {
		if a.SampleRate <= 0 || len(a.ASC) == 0 {
			return nil, fmt.Errorf("record: audio sample rate %d / AudioSpecificConfig of %d bytes: need both", a.SampleRate, len(a.ASC))
		}
		r.mux.hasA = true
		r.mux.aRate = int64(a.SampleRate)
		r.mux.movieTS = int64(a.SampleRate)
	}
	r.seg.init(r)
	if err := os.MkdirAll(o.Dir, 0o755); err != nil {
		return nil, fmt.Errorf("record: %w", err)
	}
	return r, nil
}

// Stats returns a snapshot; safe from any goroutine.
func (r *Recorder) Stats() Stats {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.st
}

func (r *Recorder) emit(e Event) {
	if r.o.Events != nil {
		r.o.Events(e)
	}
}

// Run writes every packet of q (releasing each once written or dropped)
// until the queue is closed and drained, then
// finalizes every file and returns nil. If ctx ends first, what is held is
// written and finalized too, and ctx's error returned. A disk running low
// or a failed write closes the files cleanly and returns the error.
func (r *Recorder) Run(ctx context.Context, q *fanout.Queue) error {
	r.dir.open()
	defer r.dir.close()
	var err error
	for err == nil {
		p, ok := q.Next(ctx)
		if !ok {
			break
		}
		err = r.handle(p)
	}
	if err == nil {
		err = ctx.Err()
	}
	r.stopControl()
	var we *writeError
	if errors.As(err, &we) {
		r.seg.abort()
	} else if ferr := r.seg.finish(); ferr != nil && (err == nil || errors.Is(err, context.Canceled)) {
		err = ferr
	}
	r.seg.dropAudio(len(r.seg.queue)) // no segment reads it any more
	r.emit(Event{Type: RecordingStopped, Err: err})
	if err != nil {
		r.o.Log.Debug().Err(err).Msg("recording stopped") // the recording_stopped event reports it
	} else {
		r.o.Log.Info().Int("segments", r.seg.index).Msg("recording finished")
	}
	return err
}

func (r *Recorder) handle(p *media.Packet) error {
	var err error
	if p.Kind == media.Audio {
		err = r.seg.audio(p)
	} else {
		err = r.seg.video(p)
	}
	if err == nil && r.flushed {
		r.flushed = false
		err = r.checkDisk()
	}
	return err
}

// checkDisk runs after every fragment: one statfs.
func (r *Recorder) checkDisk() error {
	if r.o.MinFree == 0 {
		return nil
	}
	free, err := r.dir.free()
	if err != nil {
		if !r.freeErrLog {
			r.freeErrLog = true
			r.o.Log.Warn().Err(err).Msg("cannot watch free disk space")
		}
		return nil
	}
	if free >= r.o.MinFree {
		return nil
	}
	r.emit(Event{Type: DiskLow, Free: free, MinFree: r.o.MinFree})
	return &diskLowError{dir: r.o.Dir, free: free, minFree: r.o.MinFree}
}
