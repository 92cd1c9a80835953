package analyze

import (
	"bufio"
	"fmt"
	"io"
	"path/filepath"
	"strings"
)

// WriteText writes the report for people: the verdict first, then sync,
// frames, and each file.
func (r *Report) WriteText(w io.Writer) error {
	b := bufio.NewWriter(w)
	p := func(format string, a ...any) { fmt.Fprintf(b, format, a...) }

	switch {
	case !r.Passed:
		p("result: FAIL: %s\n", strings.Join(r.Failed, "; "))
	case !r.Pattern:
		p("result: not the livecap test pattern (no frame barcode, no beep): A/V sync and frame numbers not measured\n")
	default:
		p("result: PASS\n")
	}
	if r.Pattern {
		r.writeSync(b)
		r.writeFrames(b)
	}
	r.writeFiles(b)
	return b.Flush()
}

func (r *Report) writeSync(b *bufio.Writer) {
	p := func(format string, a ...any) { fmt.Fprintf(b, format, a...) }
	s := r.Sync
	p("\nsync (audio - video; + = audio late): %d pairs", s.Pairs)
	if s.UnpairedFlashes > 0 || s.UnpairedBeeps > 0 {
		p(", %d flashes and %d beeps unpaired", s.UnpairedFlashes, s.UnpairedBeeps)
	}
	p("\n")
	if s.Pairs > 0 {
		p("  median %+.2f ms   mean %+.2f ms   max |offset| %.2f ms   range %+.2f .. %+.2f ms   stddev %.2f ms\n",
			s.MedianMs, s.MeanMs, s.MaxAbsMs, s.MinMs, s.MaxMs, s.StdDevMs)
		p("  over %s: start %+.2f ms, end %+.2f ms, drift %+.2f ms", fmtSeconds(s.SpanS), s.StartMs, s.EndMs, s.DriftMs)
		if s.SpanS >= minDriftSpan.Seconds() {
			p(" (%+.2f ms/hour)\n", s.DriftMsPerHour)
		} else {
			p(" (no hourly figure from less than %s)\n", fmtSeconds(minDriftSpan.Seconds()))
		}
		if len(s.Series) > 1 {
			p("  %-10s %6s %10s %10s %10s\n", "from", "pairs", "median", "min", "max")
			for _, bk := range s.Series {
				p("  %-10s %6d %+10.2f %+10.2f %+10.2f\n", fmtSeconds(bk.StartS), bk.Pairs, bk.MedianMs, bk.MinMs, bk.MaxMs)
			}
		}
		for _, pr := range s.All {
			fr := "?"
			if pr.Frame != nil {
				fr = fmt.Sprint(*pr.Frame)
			}
			p("  pair: file %d frame %s at %.3f s: %+.2f ms\n", pr.File, fr, pr.VideoS, pr.OffsetMs)
		}
	}

}

func (r *Report) writeFrames(b *bufio.Writer) {
	p := func(format string, a ...any) { fmt.Fprintf(b, format, a...) }
	f := r.Frames
	p("\nframes: %d decoded, %d unreadable, %d missing, %d repeated\n", f.Total, f.Unreadable, f.Missing, f.Repeated)
	if len(f.MissingRanges) > 0 {
		parts := make([]string, len(f.MissingRanges))
		for i, m := range f.MissingRanges {
			if m[0] == m[1] {
				parts[i] = fmt.Sprint(m[0])
			} else {
				parts[i] = fmt.Sprintf("%d-%d", m[0], m[1])
			}
		}
		p("  missing: %s\n", strings.Join(parts, ", "))
	}
	if len(f.RepeatedFrames) > 0 {
		p("  repeated: %s\n", strings.Trim(fmt.Sprint(f.RepeatedFrames), "[]"))
	}
}

func (r *Report) writeFiles(b *bufio.Writer) {
	p := func(format string, a ...any) { fmt.Fprintf(b, format, a...) }
	p("\nfiles:\n")
	for i, fr := range r.Files {
		p("  [%d] %s\n", i, filepath.Base(fr.Path))
		if fr.VideoFrames > 0 {
			p("      video: %d frames", fr.VideoFrames)
			if fr.FirstFrame != nil {
				p(", numbers %d..%d", *fr.FirstFrame, *fr.LastFrame)
			}
			p(", PTS %.3f..%.3f s, duration %.3f s, frame interval %.1f ms (max %.1f ms)",
				fr.VideoStartS, fr.VideoEndS, fr.VideoDurationS, fr.FrameIntervalMs, fr.MaxFrameIntervalM)
			if r.Pattern {
				p(", %d flashes", fr.Flashes)
			}
			p("\n      timestamps: %d gaps, %d steps back; keyframes: %d", fr.VideoPTSGaps, fr.VideoPTSBackwards, fr.Keyframes)
			if fr.Keyframes >= 2 {
				p(", every %.2f..%.2f s (mean %.2f s)", fr.KeyframeIntervalMinS, fr.KeyframeIntervalMaxS, fr.KeyframeIntervalMeanS)
			}
			if !fr.FirstIsKeyframe {
				p(", FIRST PICTURE IS NOT A KEYFRAME")
			}
			p("\n")
		} else {
			p("      video: none\n")
		}
		if fr.HasAudio {
			p("      audio: %d Hz, PTS %.3f..%.3f s, duration %.3f s, %d gaps", fr.SampleRate, fr.AudioStartS, fr.AudioEndS, fr.AudioDurationS, fr.AudioGaps)
			if r.Pattern {
				p(", %d beeps", fr.Beeps)
			}
			p("\n")
			if fr.AVStartOffsetMs != nil {
				p("      A/V start: audio first sample - first picture = %+.1f ms\n", *fr.AVStartOffsetMs)
			}
		} else {
			p("      audio: none\n")
		}
		p("      decode errors: %d\n", fr.DecodeErrors)
		for _, l := range fr.DecodeErrorLines {
			p("        %s\n", l)
		}
	}
	for _, j := range r.Joins {
		state := "continuous"
		switch {
		case !r.Pattern:
			state = "frame numbers unknown"
		case j.MissingFrames > 0:
			state = fmt.Sprintf("GAP of %d frames", j.MissingFrames)
		case j.MissingFrames < 0:
			state = fmt.Sprintf("OVERLAP of %d frames", -j.MissingFrames)
		}
		p("  join [%d] -> [%d]: %s", j.FromFile, j.ToFile, state)
		if j.SameTimeline {
			p(", PTS gap %+.1f ms", j.PTSGapMs)
			if j.AudioGapMs != nil {
				p(", audio gap %+.1f ms", *j.AudioGapMs)
			}
		} else {
			p(", timestamps restart")
		}
		p("\n")
	}
}

func fmtSeconds(s float64) string {
	if s < 60 {
		return fmt.Sprintf("%.1fs", s)
	}
	t := int64(s + 0.5)
	if t < 3600 {
		return fmt.Sprintf("%dm%02ds", t/60, t%60)
	}
	return fmt.Sprintf("%dh%02dm%02ds", t/3600, t/60%60, t%60)
}
