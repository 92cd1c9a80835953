package analyze

import (
	"fmt"
	"math"
	"path/filepath"
	"sort"
)

func us2ms(v int64) float64 { return float64(v) / 1000 }
func us2s(v int64) float64  { return float64(v) / 1e6 }

// build turns the decoded files into the report.
func build(files []*fileData, opts Options) *Report {
	r := &Report{Limits: Limits{MaxOffsetMs: float64(opts.MaxOffset) / 1e6, AllowGaps: opts.AllowGaps}}
	place(files)

	var flashes []flash
	for i, f := range files {
		fr, fl := fileReport(i, f)
		r.Files = append(r.Files, fr)
		flashes = append(flashes, fl...)
	}
	beeps := onsetTimes(files)
	for _, b := range beeps {
		r.Files[b.file].Beeps++
	}
	r.Frames = frameContinuity(files)
	r.Pattern = isPattern(r, len(beeps))
	if r.Pattern {
		r.Sync = pairUp(flashes, beeps, opts)
	} else {
		// Frame numbers and flashes read off a picture that is not the
		// pattern mean nothing.
		r.Frames = Frames{Total: r.Frames.Total, Unreadable: r.Frames.Unreadable}
		for i := range r.Files {
			f := &r.Files[i]
			f.FirstFrame, f.LastFrame, f.Flashes = nil, nil, 0
		}
	}
	for i := 1; i < len(files); i++ {
		r.Joins = append(r.Joins, join(files, r.Files, i))
	}
	r.Failed = checks(r, opts)
	r.Passed = len(r.Failed) == 0
	return r
}

// isPattern says whether the files carry the test pattern: most decoded
// pictures read as barcodes (the two guard cells make a chance reading of
// an ordinary picture rare, but not impossible on one frame), or, without
// video, beeps were found.
func isPattern(r *Report, beeps int) bool {
	fs := r.Frames
	if fs.Total > 0 {
		return 2*(fs.Total-fs.Unreadable) >= fs.Total
	}
	return beeps > 0
}

// checks returns one line per failed check. Checks that need the test
// pattern fail on a recording without it only when the caller asked for
// them (a --max-offset).
func checks(r *Report, opts Options) []string {
	var failed []string
	s := &r.Sync
	if opts.MaxOffset > 0 {
		lim := float64(opts.MaxOffset) / 1e6
		switch {
		case !r.Pattern:
			failed = append(failed, "no test pattern found (no frame barcode, no beep): the A/V offset cannot be measured")
		case s.Pairs == 0:
			failed = append(failed, "no flash/beep pair found")
		case s.MaxAbsMs > lim:
			failed = append(failed, fmt.Sprintf("max |offset| %.1f ms exceeds %v", s.MaxAbsMs, opts.MaxOffset))
		}
	}
	if !opts.AllowGaps && r.Pattern {
		fs := &r.Frames
		if fs.Missing > 0 {
			failed = append(failed, fmt.Sprintf("%d frames missing", fs.Missing))
		}
		if fs.Repeated > 0 {
			failed = append(failed, fmt.Sprintf("%d frames repeated", fs.Repeated))
		}
	}
	return failed
}

// place puts every file on the session timeline: a file whose timestamps
// restart (each segment from 0) is placed so that its first frame follows
// the previous file's last frame by one frame interval (video defines the
// session time; audio keeps its offset to video within the file). A file
// that carries on the previous timeline keeps its timestamps, gaps
// included.
func place(files []*fileData) {
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
}

// fileReport measures one file, and returns its flashes on the session
// timeline.
func fileReport(i int, f *fileData) (FileReport, []flash) {
	d := f.dec
	fr := FileReport{Path: f.path, VideoFrames: len(d.frames), HasAudio: f.probe.hasAudio, SampleRate: d.sampleRate,
		DecodeErrors: d.decodeErrors, DecodeErrorLines: d.errorLines}
	var flashes []flash
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
	}
	videoTimeline(&fr, f)
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
		if len(d.framePTS) > 0 {
			off := us2ms(d.audPTS[0] - d.framePTS[0])
			fr.AVStartOffsetMs = &off
		}
	}
	return fr, flashes
}

// videoTimeline fills in what the video timestamps and keyframe flags
// show: span, frame interval, gaps, steps back, keyframe intervals.
func videoTimeline(fr *FileReport, f *fileData) {
	d := f.dec
	n := len(d.framePTS)
	if n == 0 {
		return
	}
	dur := frameDur(f)
	fr.VideoStartS = us2s(d.framePTS[0])
	fr.VideoEndS = us2s(d.framePTS[n-1])
	fr.VideoDurationS = us2s(d.framePTS[n-1] - d.framePTS[0] + dur)
	fr.FrameIntervalMs = us2ms(dur)
	for j := 1; j < n; j++ {
		step := d.framePTS[j] - d.framePTS[j-1]
		fr.MaxFrameIntervalM = math.Max(fr.MaxFrameIntervalM, us2ms(step))
		switch {
		case step <= 0:
			fr.VideoPTSBackwards++
		case dur > 0 && 2*step > 3*dur:
			fr.VideoPTSGaps++
		}
	}
	fr.FirstIsKeyframe = d.key[0]
	last := int64(math.MinInt64)
	var sum float64
	for j, k := range d.key {
		if !k {
			continue
		}
		fr.Keyframes++
		if last != math.MinInt64 {
			iv := us2s(d.framePTS[j] - last)
			if fr.Keyframes == 2 || iv < fr.KeyframeIntervalMinS {
				fr.KeyframeIntervalMinS = iv
			}
			fr.KeyframeIntervalMaxS = math.Max(fr.KeyframeIntervalMaxS, iv)
			sum += iv
		}
		last = d.framePTS[j]
	}
	if fr.Keyframes >= 2 {
		fr.KeyframeIntervalMeanS = sum / float64(fr.Keyframes-1)
	}
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
	if j.SameTimeline && len(fa.dec.audPTS) > 0 && len(fb.dec.audPTS) > 0 && fa.dec.sampleRate > 0 {
		_, end := audioSpan(fa.dec)
		g := us2ms(fb.dec.audPTS[0] - end)
		j.AudioGapMs = &g
	}
	return j
}
