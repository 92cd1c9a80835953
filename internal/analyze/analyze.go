// Package analyze measures audio/video sync and frame continuity in what
// livecap recorded or streamed from its test source (see
// internal/capture/testsrc.go): every frame carries its index as a
// barcode, frame i is a white flash when i%FPS == 0, and a 1 kHz beep
// starts at the instant of each flash. For each flash the analyzer finds
// the nearest beep onset and reports offset = audio onset - video flash
// time, as a player presents them: positive means audio late.
//
// Decoding goes through ffmpeg (one process per file, video scaled down to
// a small gray picture, audio as mono float), so any container or codec
// ffmpeg reads can be analyzed: MP4/MOV segments, FLV from nginx-rtmp,
// MPEG-TS from an SRT listener.
package analyze

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/livecap/livecap/internal/exitcode"
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
// fails (unreadable file, ffmpeg missing); failed checks are in
// Report.Failures and Report.Err.
func Files(ctx context.Context, paths []string, opts Options) (*Report, error) {
	if len(paths) == 0 {
		return nil, exitcode.With(exitcode.Usage, errors.New("analyze: no file given: pass one recording or several segment files in order"))
	}
	if opts.MaxOffset < 0 {
		return nil, exitcode.With(exitcode.Usage, fmt.Errorf("analyze: max offset %v not allowed: use a positive duration such as 20ms", opts.MaxOffset))
	}
	if opts.Interval == 0 {
		opts.Interval = time.Minute
	}
	if opts.Interval < time.Second {
		return nil, exitcode.With(exitcode.Usage, fmt.Errorf("analyze: series interval %v not allowed: use 1s or more", opts.Interval))
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
			return nil, exitcode.With(exitcode.Usage, fmt.Errorf("analyze: %s: no such file", p))
		}
		if st.IsDir() {
			return nil, exitcode.With(exitcode.Usage, fmt.Errorf("analyze: %s is a directory: pass media files", p))
		}
	}
	for _, tool := range []string{opts.FFmpeg, opts.FFprobe} {
		if _, err := exec.LookPath(tool); err != nil {
			return nil, exitcode.With(exitcode.Failure, fmt.Errorf("analyze: %s not found: install FFmpeg (apt install ffmpeg)", tool))
		}
	}

	var files []*fileData
	var det *beepDetector
	for _, p := range paths {
		pi, err := probe(ctx, opts.FFprobe, p)
		if err != nil {
			return nil, exitcode.With(exitcode.Failure, err)
		}
		if !pi.hasVideo && !pi.hasAudio {
			return nil, exitcode.With(exitcode.Failure, fmt.Errorf("analyze: %s has no video or audio stream", p))
		}
		d, err := decode(ctx, opts.FFmpeg, p, pi, det)
		if err != nil {
			return nil, exitcode.With(exitcode.Failure, err)
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

// Report is the result of an analysis. Times are in milliseconds or
// seconds as the field names say; offsets are audio minus video (positive:
// audio late).
type Report struct {
	Files  []FileReport `json:"files"`            // one per input file, in order
	Joins  []Join       `json:"joins,omitempty"`  // one per consecutive pair of files
	Sync   Sync         `json:"sync"`             // flash/beep offsets over all files
	Frames Frames       `json:"frames"`           // frame-number continuity over all files
	Limits Limits       `json:"limits"`           // the checks that were applied
	Passed bool         `json:"passed"`           // no check failed
	Failed []string     `json:"failed,omitempty"` // one line per failed check
}

// Limits echoes the options the checks used.
type Limits struct {
	MaxOffsetMs float64 `json:"max_offset_ms,omitempty"` // 0: offset not checked
	AllowGaps   bool    `json:"allow_gaps"`
}

// FileReport describes one input file.
type FileReport struct {
	Path string `json:"path"`
	// Video: frames decoded, first/last readable frame numbers, first and
	// last presentation times, and duration (last - first + one frame).
	VideoFrames       int     `json:"video_frames"`
	FirstFrame        *uint32 `json:"first_frame,omitempty"` // nil when no frame number was readable
	LastFrame         *uint32 `json:"last_frame,omitempty"`
	VideoStartS       float64 `json:"video_start_s"`
	VideoEndS         float64 `json:"video_end_s"`
	VideoDurationS    float64 `json:"video_duration_s"`
	MaxFrameIntervalM float64 `json:"max_frame_interval_ms"` // largest PTS step between frames
	// Audio: first sample time, end of the last sample, duration by
	// sample count, and discontinuities (> 1 ms) between decoded frames.
	HasAudio       bool    `json:"has_audio"`
	SampleRate     int     `json:"sample_rate,omitempty"`
	AudioStartS    float64 `json:"audio_start_s"`
	AudioEndS      float64 `json:"audio_end_s"`
	AudioDurationS float64 `json:"audio_duration_s"`
	AudioGaps      int     `json:"audio_gaps"`
	Flashes        int     `json:"flashes"` // flash frames (first of each run)
	Beeps          int     `json:"beeps"`   // beep onsets
}

// Join says how file i+1 follows file i.
type Join struct {
	From, To string `json:"-"`
	FromFile int    `json:"from_file"` // index into Files
	ToFile   int    `json:"to_file"`
	// Continuous: the next file's first frame number is the previous
	// file's last + 1.
	Continuous bool `json:"continuous"`
	// MissingFrames > 0: frames lost between the files; < 0: frames
	// repeated (overlap).
	MissingFrames int64 `json:"missing_frames"`
	// PTSGapMs is the next file's first video PTS minus the previous
	// file's last video PTS minus one frame interval; only meaningful when
	// the files share one timeline (SameTimeline).
	SameTimeline bool    `json:"same_timeline"`
	PTSGapMs     float64 `json:"pts_gap_ms"`
}

// Sync summarizes the audio-minus-video offsets.
type Sync struct {
	Pairs           int     `json:"pairs"`            // flash/beep pairs within ±500 ms
	UnpairedFlashes int     `json:"unpaired_flashes"` // flashes with no beep within ±500 ms
	UnpairedBeeps   int     `json:"unpaired_beeps"`
	MedianMs        float64 `json:"median_ms"`
	MeanMs          float64 `json:"mean_ms"`
	MaxAbsMs        float64 `json:"max_abs_ms"` // largest |offset|
	MinMs           float64 `json:"min_ms"`
	MaxMs           float64 `json:"max_ms"`
	StdDevMs        float64 `json:"stddev_ms"`
	// DriftMsPerHour is the least-squares slope of offset over time.
	DriftMsPerHour float64 `json:"drift_ms_per_hour"`
	// StartMs and EndMs: median offset of the first and last 5 pairs.
	StartMs float64 `json:"start_ms"`
	EndMs   float64 `json:"end_ms"`
	// SpanS is the time from the first to the last pair.
	SpanS  float64  `json:"span_s"`
	Series []Bucket `json:"series,omitempty"` // per Options.Interval
	All    []Pair   `json:"all_pairs,omitempty"`
}

// Bucket is the offset over one interval of the session.
type Bucket struct {
	StartS   float64 `json:"start_s"` // from the first pair
	Pairs    int     `json:"pairs"`
	MedianMs float64 `json:"median_ms"`
	MinMs    float64 `json:"min_ms"`
	MaxMs    float64 `json:"max_ms"`
}

// Pair is one flash and its beep.
type Pair struct {
	File     int     `json:"file"`
	Frame    *uint32 `json:"frame,omitempty"` // flash frame number
	VideoS   float64 `json:"video_s"`         // flash PTS on the session timeline
	OffsetMs float64 `json:"offset_ms"`
}

// Frames summarizes frame-number continuity across all files.
type Frames struct {
	Total      int `json:"total"`      // decoded frames
	Unreadable int `json:"unreadable"` // barcode guard cells wrong
	// Missing counts frame numbers absent from the sequence (unreadable
	// frames fill gaps of their size); MissingRanges lists them
	// ([first, last], at most 100).
	Missing       int64       `json:"missing"`
	MissingRanges [][2]uint32 `json:"missing_ranges,omitempty"`
	// Repeated counts frames whose number is not greater than the one
	// before (a repeat or a step back); RepeatedFrames lists them.
	Repeated       int      `json:"repeated"`
	RepeatedFrames []uint32 `json:"repeated_frames,omitempty"`
}

// Err returns an exitcode.Check error naming the failed checks, or nil.
func (r *Report) Err() error {
	if r.Passed {
		return nil
	}
	return exitcode.With(exitcode.Check, fmt.Errorf("analyze: check failed: %s", strings.Join(r.Failed, "; ")))
}

type flash struct {
	t    int64 // session µs
	file int
	num  *uint32
}

type beep struct {
	t    int64
	file int
	used bool
}

func us2ms(v int64) float64 { return float64(v) / 1000 }
func us2s(v int64) float64  { return float64(v) / 1e6 }

func build(files []*fileData, opts Options) *Report {
	r := &Report{Limits: Limits{MaxOffsetMs: float64(opts.MaxOffset) / 1e6, AllowGaps: opts.AllowGaps}}

	// Session timeline: a file whose timestamps restart (each segment
	// from 0) is placed so that its first frame follows the previous
	// file's last frame by one frame interval (video defines the session
	// time; audio keeps its offset to video within the file). A file that
	// carries on the previous timeline keeps its timestamps, gaps included.
	for i := 1; i < len(files); i++ {
		prev, f := files[i-1], files[i]
		_, pe := fileSpan(prev)
		fs, _ := fileSpan(f)
		if pv := prev.dec.framePTS; len(pv) > 0 && len(f.dec.framePTS) > 0 {
			pe, fs = pv[len(pv)-1]+frameDur(prev), f.dec.framePTS[0]
		}
		f.shift = prev.shift
		if fs+f.shift < pe+prev.shift-frameDur(prev)/2 {
			f.shift = pe + prev.shift - fs
		}
	}

	var flashes []flash
	var beeps []beep
	for i, f := range files {
		d := f.dec
		fr := FileReport{Path: f.path, VideoFrames: len(d.frames), HasAudio: f.probe.hasAudio, SampleRate: d.sampleRate}
		for j, fi := range d.frames {
			if fi.readable {
				n := fi.num
				if fr.FirstFrame == nil {
					fr.FirstFrame = &n
				}
				fr.LastFrame = &n
			}
			if fi.flash && (j == 0 || !d.frames[j-1].flash) {
				fl := flash{t: d.framePTS[j] + f.shift, file: i}
				if fi.readable {
					n := fi.num
					fl.num = &n
				}
				flashes = append(flashes, fl)
				fr.Flashes++
			}
			if j > 0 {
				fr.MaxFrameIntervalM = math.Max(fr.MaxFrameIntervalM, us2ms(d.framePTS[j]-d.framePTS[j-1]))
			}
		}
		if n := len(d.framePTS); n > 0 {
			fr.VideoStartS = us2s(d.framePTS[0])
			fr.VideoEndS = us2s(d.framePTS[n-1])
			fr.VideoDurationS = us2s(d.framePTS[n-1] - d.framePTS[0] + frameDur(f))
		}
		if n := len(d.audPTS); n > 0 && d.sampleRate > 0 {
			sr := int64(d.sampleRate)
			var total int64
			for j := range d.audPTS {
				if j > 0 {
					want := d.audPTS[j-1] + d.audSamples[j-1]*1e6/sr
					if abs64(d.audPTS[j]-want) > 1000 {
						fr.AudioGaps++
					}
				}
				total += d.audSamples[j]
			}
			fr.AudioStartS = us2s(d.audPTS[0])
			fr.AudioEndS = us2s(d.audPTS[n-1] + d.audSamples[n-1]*1e6/sr)
			fr.AudioDurationS = float64(total) / float64(sr)
		}
		r.Files = append(r.Files, fr)
	}
	for _, b := range onsetTimes(files) {
		beeps = append(beeps, b)
		r.Files[b.file].Beeps++
	}

	r.Sync = pairUp(flashes, beeps, opts)
	r.Frames = frameContinuity(files)
	for i := 1; i < len(files); i++ {
		r.Joins = append(r.Joins, join(files, r.Files, i))
	}

	// Checks.
	s := &r.Sync
	if opts.MaxOffset > 0 {
		lim := float64(opts.MaxOffset) / 1e6
		if s.Pairs == 0 {
			r.Failed = append(r.Failed, "no flash/beep pair found")
		} else if s.MaxAbsMs > lim {
			r.Failed = append(r.Failed, fmt.Sprintf("max |offset| %.1f ms exceeds %v", s.MaxAbsMs, opts.MaxOffset))
		}
	}
	if !opts.AllowGaps {
		fs := &r.Frames
		if fs.Missing > 0 {
			r.Failed = append(r.Failed, fmt.Sprintf("%d frames missing", fs.Missing))
		}
		if fs.Repeated > 0 {
			r.Failed = append(r.Failed, fmt.Sprintf("%d frames repeated", fs.Repeated))
		}
		if fs.Total > 0 && fs.Unreadable == fs.Total {
			r.Failed = append(r.Failed, "no frame number readable (not a livecap test source recording?)")
		}
	}
	r.Passed = len(r.Failed) == 0
	return r
}

func abs64(v int64) int64 {
	if v < 0 {
		return -v
	}
	return v
}

// frameDur is the file's typical frame interval in µs (median PTS step).
func frameDur(f *fileData) int64 {
	p := f.dec.framePTS
	if len(p) < 2 {
		if f.probe.fps > 0 {
			return int64(1e6 / f.probe.fps)
		}
		return 0
	}
	steps := make([]int64, 0, min(len(p)-1, 1000))
	for i := 1; i < len(p) && len(steps) < cap(steps); i++ {
		steps = append(steps, p[i]-p[i-1])
	}
	sort.Slice(steps, func(a, b int) bool { return steps[a] < steps[b] })
	return steps[len(steps)/2]
}

// fileSpan returns the first and end presentation times (µs) of a file.
func fileSpan(f *fileData) (start, end int64) {
	d := f.dec
	start, end = math.MaxInt64, math.MinInt64
	if n := len(d.framePTS); n > 0 {
		start, end = d.framePTS[0], d.framePTS[n-1]+frameDur(f)
	}
	if n := len(d.audPTS); n > 0 && d.sampleRate > 0 {
		start = min(start, d.audPTS[0])
		end = max(end, d.audPTS[n-1]+d.audSamples[n-1]*1e6/int64(d.sampleRate))
	}
	if start == math.MaxInt64 {
		return 0, 0
	}
	return start, end
}

// onsetTimes places every beep onset on the session timeline. Files that
// share a detector were read as one stream; an onset near the boundary of
// two files whose audio does not join (more than 2 ms apart) is dropped:
// the detector saw the end of one file glued to the start of the other.
func onsetTimes(files []*fileData) []beep {
	var out []beep
	type span struct {
		file       int
		base, end  int64 // detector sample positions
		first      []int64
		continuous bool // audio joins the previous file's
		startUS    int64
	}
	var spans []span
	for i, f := range files {
		d := f.dec
		if d.det == nil {
			continue
		}
		sp := span{file: i, base: d.base, first: make([]int64, len(d.audSamples))}
		var total int64
		for j, n := range d.audSamples {
			sp.first[j] = total
			total += n
		}
		sp.end = d.base + total
		if len(spans) > 0 && len(d.audPTS) > 0 {
			p := spans[len(spans)-1]
			pf := files[p.file]
			if pf.dec.det == d.det && p.end == d.base && len(pf.dec.audPTS) > 0 {
				_, prevEnd := audioSpan(pf.dec)
				sp.continuous = abs64(d.audPTS[0]+f.shift-prevEnd-pf.shift) <= 2000
			}
		}
		spans = append(spans, sp)
	}
	for k, sp := range spans {
		d := files[sp.file].dec
		guard := float64(d.det.ms(60))
		for _, pos := range d.det.onsets {
			if pos < float64(sp.base) || pos >= float64(sp.end) {
				continue
			}
			if float64(sp.base) > 0 && pos < float64(sp.base)+guard && k > 0 && !sp.continuous && spans[k-1].end == sp.base {
				continue
			}
			if k+1 < len(spans) && spans[k+1].base == sp.end && !spans[k+1].continuous && pos > float64(sp.end)-guard {
				continue
			}
			t := sampleTime(d, sp.first, pos-float64(sp.base))
			out = append(out, beep{t: t + files[sp.file].shift, file: sp.file})
		}
	}
	return out
}

// audioSpan returns the first and end presentation times (µs) of a file's
// decoded audio.
func audioSpan(d *decoded) (start, end int64) {
	n := len(d.audPTS)
	return d.audPTS[0], d.audPTS[n-1] + d.audSamples[n-1]*1e6/int64(d.sampleRate)
}

// sampleTime maps a fractional sample position (in the concatenation of
// decoded audio frames) to its presentation time in µs; first[j] is the
// position of frame j's first sample.
func sampleTime(d *decoded, first []int64, pos float64) int64 {
	j := sort.Search(len(first), func(j int) bool { return float64(first[j]) > pos }) - 1
	j = max(j, 0)
	return d.audPTS[j] + int64(math.Round((pos-float64(first[j]))*1e6/float64(d.sampleRate)))
}

func pairUp(flashes []flash, beeps []beep, opts Options) Sync {
	var s Sync
	var pairs []Pair
	sort.Slice(beeps, func(a, b int) bool { return beeps[a].t < beeps[b].t })
	win := int64(pairWindow / time.Microsecond)
	for _, f := range flashes {
		i := sort.Search(len(beeps), func(i int) bool { return beeps[i].t >= f.t })
		best := -1
		for _, k := range []int{i - 1, i} {
			if k < 0 || k >= len(beeps) || beeps[k].used || abs64(beeps[k].t-f.t) > win {
				continue
			}
			if best < 0 || abs64(beeps[k].t-f.t) < abs64(beeps[best].t-f.t) {
				best = k
			}
		}
		if best < 0 {
			s.UnpairedFlashes++
			continue
		}
		beeps[best].used = true
		pairs = append(pairs, Pair{File: f.file, Frame: f.num, VideoS: us2s(f.t), OffsetMs: us2ms(beeps[best].t - f.t)})
	}
	s.UnpairedBeeps = len(beeps) - len(pairs)
	s.Pairs = len(pairs)
	if len(pairs) == 0 {
		return s
	}
	offs := make([]float64, len(pairs))
	var sum, sumT, sumTT, sumTO float64
	s.MinMs, s.MaxMs = math.Inf(1), math.Inf(-1)
	t0 := pairs[0].VideoS
	for i, p := range pairs {
		o := p.OffsetMs
		offs[i] = o
		sum += o
		s.MinMs = math.Min(s.MinMs, o)
		s.MaxMs = math.Max(s.MaxMs, o)
		s.MaxAbsMs = math.Max(s.MaxAbsMs, math.Abs(o))
		t := (p.VideoS - t0) / 3600
		sumT += t
		sumTT += t * t
		sumTO += t * o
	}
	n := float64(len(pairs))
	s.MeanMs = sum / n
	var ss float64
	for _, o := range offs {
		ss += (o - s.MeanMs) * (o - s.MeanMs)
	}
	s.StdDevMs = math.Sqrt(ss / n)
	s.MedianMs = median(offs)
	if den := n*sumTT - sumT*sumT; len(pairs) >= 2 && den > 0 {
		s.DriftMsPerHour = (n*sumTO - sumT*sum) / den
	}
	k := min(5, len(offs))
	s.StartMs = median(offs[:k])
	s.EndMs = median(offs[len(offs)-k:])
	s.SpanS = pairs[len(pairs)-1].VideoS - t0

	iv := opts.Interval.Seconds()
	for i := 0; i < len(pairs); {
		b := math.Floor((pairs[i].VideoS - t0) / iv)
		j := i
		for j < len(pairs) && math.Floor((pairs[j].VideoS-t0)/iv) == b {
			j++
		}
		seg := offs[i:j]
		bk := Bucket{StartS: b * iv, Pairs: j - i, MedianMs: median(seg), MinMs: math.Inf(1), MaxMs: math.Inf(-1)}
		for _, o := range seg {
			bk.MinMs = math.Min(bk.MinMs, o)
			bk.MaxMs = math.Max(bk.MaxMs, o)
		}
		s.Series = append(s.Series, bk)
		i = j
	}
	if opts.Pairs {
		s.All = pairs
	}
	return s
}

func median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	c := append([]float64(nil), v...)
	sort.Float64s(c)
	if len(c)%2 == 1 {
		return c[len(c)/2]
	}
	return (c[len(c)/2-1] + c[len(c)/2]) / 2
}

func frameContinuity(files []*fileData) Frames {
	var fs Frames
	var prev uint32
	havePrev := false
	unreadableRun := 0 // unreadable frames since the last readable one
	for _, f := range files {
		for _, fi := range f.dec.frames {
			fs.Total++
			if !fi.readable {
				fs.Unreadable++
				unreadableRun++
				continue
			}
			if havePrev {
				switch {
				case fi.num <= prev:
					fs.Repeated++
					if len(fs.RepeatedFrames) < maxListed {
						fs.RepeatedFrames = append(fs.RepeatedFrames, fi.num)
					}
				case fi.num > prev+1:
					gap := int64(fi.num) - int64(prev) - 1
					if miss := gap - int64(unreadableRun); miss > 0 {
						fs.Missing += miss
						if len(fs.MissingRanges) < maxListed {
							fs.MissingRanges = append(fs.MissingRanges, [2]uint32{prev + 1, fi.num - 1})
						}
					}
				}
			}
			if !havePrev || fi.num > prev {
				prev = fi.num
			}
			havePrev = true
			unreadableRun = 0
		}
	}
	return fs
}

func join(files []*fileData, reps []FileReport, i int) Join {
	a, b := reps[i-1], reps[i]
	j := Join{From: filepath.Base(a.Path), To: filepath.Base(b.Path), FromFile: i - 1, ToFile: i}
	if a.LastFrame != nil && b.FirstFrame != nil {
		j.MissingFrames = int64(*b.FirstFrame) - int64(*a.LastFrame) - 1
		j.Continuous = j.MissingFrames == 0
	}
	fa, fb := files[i-1], files[i]
	if len(fa.dec.framePTS) > 0 && len(fb.dec.framePTS) > 0 {
		j.SameTimeline = fa.shift == fb.shift
		last := fa.dec.framePTS[len(fa.dec.framePTS)-1] + fa.shift
		j.PTSGapMs = us2ms(fb.dec.framePTS[0] + fb.shift - last - frameDur(fa))
	}
	return j
}
