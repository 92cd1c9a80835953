// Package record writes the encoded stream to segmented, fragmented MP4 or
// MOV files.
//
// Each segment is a file of its own: an init segment (ftyp+moov, with an
// edit list per track) and then a moof+mdat fragment about every second,
// each written in one go and synced, so that after a crash every file plays
// up to its last fragment. A segment starts at a video IDR (the recorder
// asks the encoder for one at each boundary) and its presentation starts
// at that frame: the audio track's edit list trims the AAC priming and the
// one frame of audio overlap that every segment after the first carries,
// so that audio is neither early nor late and no sample is lost between
// files.
package record

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
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

	noSync  bool // benchmarks: leave fsync out of the measurement
	discard bool // benchmarks: build every fragment, write none
}

// Event types.
const (
	SegmentOpened    = events.SegmentOpened
	SegmentClosed    = events.SegmentClosed
	DiskLow          = events.DiskLow
	RecordingStopped = events.RecordingStopped
)

// Event is a lifecycle event of the recorder.
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
	Audio    uint64 // audio frames written, all files (overlap counted twice)
	Skipped  uint64 // video frames before the first keyframe, not recorded
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
	o      Options
	ext    string
	run    int // name variant after a collision (1: none)
	index  int // segments opened
	hasA   bool
	aRate  int64
	aFrame time.Duration // one AAC frame
	lead   time.Duration // audio before S taken into the first segment

	cur     *segment // receiving video
	closing *segment // cut, waiting for the audio up to its end

	audio      []*media.Packet // recent audio, in PTS order, shared by segments
	lastVideo  time.Duration
	sawVideo   bool
	lastAudio  time.Duration
	sawAudio   bool
	dropped    uint64
	freeErrLog bool
	flushed    bool // a fragment was written since the last disk check

	// Scratch reused for every fragment.
	moof   []byte
	iov    [][]byte
	tracks [2]trackFrag
	elst   []byte

	mu sync.Mutex
	st Stats

	ctl ctlState // runtime control: split, pause, markers (control.go)
}

// segment is one open file.
type segment struct {
	file   *segFile
	index  int
	start  time.Duration // S: PTS of its first video frame (an IDR)
	end    time.Duration // set once cut: PTS of the next segment's IDR
	cut    bool
	video  []*media.Packet // not yet written; the last one waits for its duration
	aFrom  time.Duration   // audio with PTS >= aFrom belongs here
	aLast  time.Duration   // PTS of the last audio packet written
	aAny   bool
	a0     time.Duration // origin of the audio track: PTS of its first sample
	init   bool          // init segment written
	initB  []byte        // encoded init, written with the first fragment
	lay    initLayout
	edits  [][]edit
	seq    uint32
	vEnd   time.Duration // end of the video written so far
	vBase  int64         // next video tfdt
	aBase  int64         // next audio tfdt
	frames int
	chap   *chapters // the reserved chapter box (control.go)
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
	if len(v.SPS) == 0 || len(v.PPS) == 0 {
		return nil, errors.New("record: the video stream has no SPS/PPS")
	}
	r := &Recorder{o: o, ext: o.Format, run: 1}
	if a != nil {
		if a.SampleRate <= 0 || len(a.ASC) == 0 {
			return nil, fmt.Errorf("record: audio sample rate %d / AudioSpecificConfig of %d bytes: need both", a.SampleRate, len(a.ASC))
		}
		r.hasA = true
		r.aRate = int64(a.SampleRate)
		fs := a.FrameSize
		if fs <= 0 {
			fs = 1024
		}
		r.aFrame = time.Duration(int64(fs) * int64(time.Second) / r.aRate)
		lead := max(a.Priming, fs)
		r.lead = time.Duration(int64(lead) * int64(time.Second) / r.aRate)
	}
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

// Run writes every packet of q until the queue is closed and drained, then
// finalizes every file and returns nil. If ctx ends first, what is held is
// written and finalized too, and ctx's error returned. A disk running low
// or a failed write closes the files cleanly and returns the error.
func (r *Recorder) Run(ctx context.Context, q *fanout.Queue) error {
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
		r.abort()
	} else if ferr := r.finish(); ferr != nil && (err == nil || errors.Is(err, context.Canceled)) {
		err = ferr
	}
	r.emit(Event{Type: RecordingStopped, Err: err})
	if err != nil {
		r.o.Log.Debug().Err(err).Msg("recording stopped") // the recording_stopped event reports it
	} else {
		r.o.Log.Info().Int("segments", r.index).Msg("recording finished")
	}
	return err
}

func (r *Recorder) handle(p *media.Packet) error {
	var err error
	if p.Kind == media.Audio {
		err = r.handleAudio(p)
	} else {
		err = r.handleVideo(p)
	}
	if err == nil && r.flushed {
		r.flushed = false
		err = r.checkDisk()
	}
	return err
}

func (r *Recorder) handleVideo(p *media.Packet) error {
	if r.sawVideo && p.PTS <= r.lastVideo {
		r.o.Log.Warn().Dur("pts", p.PTS).Dur("last", r.lastVideo).Msg("video packet out of order, dropped")
		return nil
	}
	r.sawVideo, r.lastVideo = true, p.PTS
	if skip, err := r.applyControl(p); skip || err != nil {
		return err
	}
	if r.cur == nil {
		if !p.Key {
			r.dropped++
			r.mu.Lock()
			r.st.Skipped = r.dropped
			r.mu.Unlock()
			return nil
		}
		return r.open(p)
	}
	seg := r.cur
	half := p.Duration / 2
	if half <= 0 && r.o.Info.Video.FPS > 0 {
		half = time.Second / time.Duration(2*r.o.Info.Video.FPS)
	}
	if p.Key && p.PTS >= seg.start+r.o.Segment-half {
		return r.cutAt(p)
	}
	if len(seg.video) > 0 && p.PTS-seg.video[0].PTS >= r.o.Fragment {
		if err := r.flush(seg, p.PTS, p.PTS, false); err != nil {
			return err
		}
	}
	seg.video = append(seg.video, p)
	r.trimAudio()
	return nil
}

func (r *Recorder) handleAudio(p *media.Packet) error {
	if !r.hasA {
		return nil
	}
	if r.sawAudio && p.PTS <= r.lastAudio {
		r.o.Log.Warn().Dur("pts", p.PTS).Dur("last", r.lastAudio).Msg("audio packet out of order, dropped")
		return nil
	}
	r.sawAudio, r.lastAudio = true, p.PTS
	r.audio = append(r.audio, p)
	if c := r.closing; c != nil && p.PTS >= c.end {
		// Every audio packet before the cut now has its duration: the
		// closed segment can be completed.
		if err := r.complete(c, false); err != nil {
			return err
		}
	}
	if r.cur == nil {
		// Before the first IDR: keep a little for the first segment's lead.
		cut := 0
		for cut < len(r.audio) && r.audio[cut].PTS < p.PTS-r.lead-time.Second {
			cut++
		}
		r.dropAudio(cut)
	}
	return nil
}

// open starts a segment at the IDR p.
func (r *Recorder) open(p *media.Packet) error {
	r.index++
	seg := &segment{index: r.index, start: p.PTS}
	if r.index == 1 {
		// The first segment starts with the priming, so that the decoder
		// output lines up with the first video frame after the edit.
		seg.aFrom = p.PTS - r.lead
	} else {
		// Later segments take the audio frame straddling S and one frame
		// before it, which primes the decoder's overlap-add; the edit
		// list hides both.
		seg.aFrom = p.PTS - 2*r.aFrame + 1
	}
	var err error
	for {
		name := fileName(r.o.Prefix, r.o.Start, r.run, r.index, r.ext)
		seg.file, err = createExclusive(r.o.Dir, name, r.o.noSync || r.o.discard)
		if errors.Is(err, fs.ErrExist) && r.run < 1000 {
			r.run++ // never overwrite: switch every later name to a new variant
			continue
		}
		break
	}
	if err != nil {
		return fmt.Errorf("record: create segment: %w", err)
	}
	seg.file.discard = r.o.discard
	seg.video = append(seg.video, p)
	r.cur = seg
	if r.o.Keyframes != nil && r.o.Segment > 0 {
		r.o.Keyframes.RequestKeyframe(p.PTS + r.o.Segment)
	}
	r.mu.Lock()
	r.st.Path, r.st.Bytes, r.st.Segments = seg.file.path, 0, r.index
	r.mu.Unlock()
	r.o.Log.Info().Str("path", seg.file.path).Int("index", seg.index).Msg("segment opened")
	r.emit(Event{Type: SegmentOpened, Path: seg.file.path, Index: seg.index})
	return nil
}

// cutAt ends the current segment at the IDR p and opens the next one.
func (r *Recorder) cutAt(p *media.Packet) error {
	if r.closing != nil {
		// Audio lags by more than a segment: close the older one with what
		// it has rather than hold two cuts.
		if err := r.complete(r.closing, true); err != nil {
			return err
		}
	}
	seg := r.cur
	seg.cut, seg.end = true, p.PTS
	r.cur = nil
	r.closing = seg
	if !r.hasA || (r.sawAudio && r.lastAudio >= seg.end) {
		if err := r.complete(seg, false); err != nil {
			return err
		}
	}
	return r.open(p)
}

// complete writes what a cut segment still holds and finalizes it. final
// means no later audio will come: the last packet's own Duration is used.
func (r *Recorder) complete(seg *segment, final bool) error {
	if r.closing == seg {
		r.closing = nil
	}
	err := r.flush(seg, seg.end, seg.end, final)
	if err != nil {
		var we *writeError
		if errors.As(err, &we) {
			r.finalize(seg)
		}
		return err
	}
	if ferr := r.finalize(seg); ferr != nil {
		return ferr
	}
	r.trimAudio()
	return nil
}

// finish is the clean stop: everything held is written and every file
// finalized.
func (r *Recorder) finish() error {
	var first error
	if c := r.closing; c != nil {
		first = r.complete(c, true)
		if errors.As(first, new(*writeError)) {
			r.abort()
			return first
		}
	}
	if seg := r.cur; seg != nil {
		r.cur = nil
		end := seg.start
		if n := len(seg.video); n > 0 {
			last := seg.video[n-1]
			d := last.Duration
			if d <= 0 && r.o.Info.Video.FPS > 0 {
				d = time.Second / time.Duration(r.o.Info.Video.FPS)
			}
			end = last.PTS + d
		}
		seg.end = end
		err := r.flush(seg, end, end, true)
		if err == nil || errors.As(err, new(*writeError)) {
			if ferr := r.finalize(seg); err == nil {
				err = ferr
			}
		}
		if first == nil {
			first = err
		}
	}
	return first
}

// abort is the stop after a failed write: nothing more is written; each
// open file keeps what it has up to its last complete fragment.
func (r *Recorder) abort() {
	for _, seg := range []*segment{r.closing, r.cur} {
		if seg != nil {
			r.finalize(seg)
		}
	}
	r.closing, r.cur = nil, nil
}

// flush writes one fragment of seg: the video held (each duration known
// from the next frame, the last one's from vEnd) and the audio that
// belongs to seg with PTS < aEnd whose duration is known.
func (r *Recorder) flush(seg *segment, vEnd, aEnd time.Duration, final bool) error {
	vt := &r.tracks[0]
	at := &r.tracks[1]
	vt.samples, at.samples = vt.samples[:0], at.samples[:0]
	vt.bytes, at.bytes = 0, 0
	vt.id, vt.flags = videoTrackID, true
	at.id = videoTrackID + 1
	iov := r.iov[:0]
	iov = append(iov, nil, nil) // init (or nothing), moof+mdat header

	// Video.
	for i, p := range seg.video {
		next := vEnd
		if i+1 < len(seg.video) {
			next = seg.video[i+1].PTS
		}
		d := scale(next-seg.start, videoTimescale) - scale(p.PTS-seg.start, videoTimescale)
		if d <= 0 {
			d = 1
		}
		fl := uint32(flagsNonSync)
		if p.Key {
			fl = flagsSync
		}
		vt.samples = append(vt.samples, sample{dur: uint32(d), size: uint32(len(p.Data)), flags: fl})
		vt.bytes += len(p.Data)
		iov = append(iov, p.Data)
	}
	if len(seg.video) > 0 {
		vt.base = uint64(seg.vBase)
	}

	// Audio.
	aFirst, aN := -1, 0
	if r.hasA {
		for i, p := range r.audio {
			if p.PTS < seg.aFrom || (seg.aAny && p.PTS <= seg.aLast) {
				continue
			}
			if seg.init && p.PTS < seg.a0 {
				continue // arrived after the track origin was fixed
			}
			if p.PTS >= aEnd {
				break
			}
			if i+1 >= len(r.audio) && !final {
				break // its duration is not known yet: it waits for the next fragment
			}
			if aFirst < 0 {
				aFirst = i
			}
			aN++
		}
	}
	if !seg.init {
		a0 := seg.start
		if aFirst >= 0 {
			a0 = r.audio[aFirst].PTS
		}
		if err := r.writeInitPrep(seg, a0); err != nil {
			return err
		}
	}
	if aN > 0 {
		origin := seg.a0
		at.base = uint64(scale(r.audio[aFirst].PTS-origin, r.aRate))
		for i := aFirst; i < aFirst+aN; i++ {
			p := r.audio[i]
			next := p.PTS + p.Duration
			if i+1 < len(r.audio) {
				next = r.audio[i+1].PTS
			}
			d := scale(next-origin, r.aRate) - scale(p.PTS-origin, r.aRate)
			if d <= 0 {
				d = 1
			}
			at.samples = append(at.samples, sample{dur: uint32(d), size: uint32(len(p.Data))})
			at.bytes += len(p.Data)
			iov = append(iov, p.Data)
		}
	}
	if len(vt.samples) == 0 && len(at.samples) == 0 && seg.file.good > 0 {
		r.iov = iov[:0]
		return nil
	}
	if !seg.init {
		iov[0] = seg.initB
	}
	if len(vt.samples) > 0 || len(at.samples) > 0 {
		seg.seq++
		r.moof = appendMoof(r.moof[:0], seg.seq, r.tracks[:])
		iov[1] = r.moof
	}
	bufs := iov
	for len(bufs) > 0 && len(bufs[0]) == 0 {
		bufs = bufs[1:]
	}
	err := seg.file.append(bufs)
	for i := range iov {
		iov[i] = nil // do not keep packets alive through the scratch slice
	}
	r.iov = iov[:0]
	if err != nil {
		return err
	}
	seg.init, seg.initB = true, nil
	r.flushed = true
	// Account for what is now on disk.
	if n := len(seg.video); n > 0 {
		seg.frames += n
		for _, s := range vt.samples {
			seg.vBase += int64(s.dur)
		}
		seg.vEnd = vEnd
		for i := range seg.video {
			seg.video[i] = nil
		}
		seg.video = seg.video[:0]
	}
	if aN > 0 {
		seg.aAny, seg.aLast = true, r.audio[aFirst+aN-1].PTS
	}
	r.mu.Lock()
	r.st.Frames += uint64(len(vt.samples))
	r.st.Audio += uint64(len(at.samples))
	if seg == r.cur {
		r.st.Bytes = seg.file.good
	}
	r.mu.Unlock()
	return nil
}

// writeInitPrep fixes the audio origin and the edit lists of seg and
// encodes its init segment (written with its first fragment).
func (r *Recorder) writeInitPrep(seg *segment, a0 time.Duration) error {
	seg.a0 = a0
	seg.edits = [][]edit{{{dur: 0, mediaTime: 0}}}
	if r.hasA {
		if a0 <= seg.start {
			// Skip the priming (first segment) or the overlap (later ones):
			// the first presented sample is the one at S.
			seg.edits = append(seg.edits, []edit{{dur: 0, mediaTime: int32(scale(seg.start-a0, r.aRate))}})
		} else {
			// Audio starts after the video: an empty edit holds it back.
			seg.edits = append(seg.edits, []edit{{dur: uint32(scale(a0-seg.start, movieTimescale)), mediaTime: -1}, {dur: 0, mediaTime: 0}})
		}
		if a0 > seg.start {
			seg.aFrom = max(seg.aFrom, a0)
		}
	}
	b, lay, err := buildInit(r.o.Info, r.o.Format, r.o.Start, seg.edits)
	if err != nil {
		return fmt.Errorf("record: %w", err)
	}
	seg.lay = lay
	seg.initB = r.withChapters(seg, b)
	return nil
}

// finalize patches the durations into the init segment (so players show
// them), syncs and closes the file.
func (r *Recorder) finalize(seg *segment) error {
	f := seg.file
	dur := seg.vEnd - seg.start
	if dur < 0 {
		dur = 0
	}
	var err error
	if seg.init && f.good > 0 {
		ms := ceilMs(dur)
		var b [4]byte
		binary.BigEndian.PutUint32(b[:], ms)
		perr := f.patch(seg.lay.mvhdDur, b[:])
		if perr == nil {
			perr = f.patch(seg.lay.mehdDur, b[:])
		}
		for i, off := range seg.lay.tkhdDur {
			if perr == nil {
				perr = f.patch(off, b[:])
			}
			edits := seg.edits[i]
			rest := ms
			for j := range edits[:len(edits)-1] {
				rest -= min(rest, edits[j].dur)
			}
			edits[len(edits)-1].dur = rest
			r.elst = encodeElst(r.elst[:0], edits)
			if perr == nil {
				perr = f.patch(seg.lay.elst[i], r.elst)
			}
		}
		if perr != nil {
			err = fmt.Errorf("record: finalize %s: %w", f.path, perr)
		}
	}
	if cerr := f.close(); cerr != nil && err == nil {
		err = fmt.Errorf("record: close %s: %w", f.path, cerr)
	}
	if f.good > 0 {
		r.o.Log.Info().Str("path", f.path).Dur("duration", dur).Int64("bytes", f.good).Int("frames", seg.frames).Msg("segment closed")
		r.emit(Event{Type: SegmentClosed, Path: f.path, Index: seg.index, Duration: dur, Bytes: f.good, Frames: seg.frames})
		if r.o.OnSegmentComplete != nil {
			r.o.OnSegmentComplete(f.path, dur)
		}
	}
	return err
}

// trimAudio forgets audio that no open or future segment needs: the next
// segment starts after the last video frame seen and reaches back two
// audio frames before it.
func (r *Recorder) trimAudio() {
	keep := r.lastVideo - 2*r.aFrame - 100*time.Millisecond
	n := 0
	for n < len(r.audio) {
		p := r.audio[n]
		if p.PTS >= keep {
			break
		}
		needed := false
		for _, s := range [...]*segment{r.cur, r.closing} {
			if s != nil && p.PTS >= s.aFrom && (!s.aAny || p.PTS > s.aLast) && (!s.cut || p.PTS < s.end) {
				needed = true
			}
		}
		if needed {
			break
		}
		n++
	}
	r.dropAudio(n)
}

func (r *Recorder) dropAudio(n int) {
	if n == 0 {
		return
	}
	for i := 0; i < n; i++ {
		r.audio[i] = nil
	}
	r.audio = append(r.audio[:0], r.audio[n:]...)
}

// checkDisk runs after every fragment: one statfs.
func (r *Recorder) checkDisk() error {
	if r.o.MinFree == 0 {
		return nil
	}
	free, err := diskcheck.Free(r.o.Dir)
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
