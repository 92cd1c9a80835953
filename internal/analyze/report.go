package analyze

// Report is the result of an analysis. Times are in milliseconds or
// seconds as the field names say; offsets are audio minus video (positive:
// audio late).
type Report struct {
	// Pattern: the files carry the test pattern (a readable frame
	// barcode or a beep was found); only then are Sync and Frames
	// measured. Without it the report holds what any recording shows.
	Pattern bool         `json:"pattern"`
	Files   []FileReport `json:"files"`            // one per input file, in order
	Joins   []Join       `json:"joins,omitempty"`  // one per consecutive pair of files
	Sync    Sync         `json:"sync"`             // flash/beep offsets over all files
	Frames  Frames       `json:"frames"`           // frame-number continuity over all files
	Limits  Limits       `json:"limits"`           // the checks that were applied
	Passed  bool         `json:"passed"`           // no check failed
	Failed  []string     `json:"failed,omitempty"` // one line per failed check
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

	// What any recording shows, test pattern or not.
	//
	// FrameIntervalMs is the typical (median) step between video
	// timestamps; VideoPTSGaps counts steps longer than 1.5 of it (frames
	// missing from the timeline) and VideoPTSBackwards steps that do not
	// advance.
	FrameIntervalMs   float64 `json:"frame_interval_ms,omitempty"`
	VideoPTSGaps      int     `json:"video_pts_gaps"`
	VideoPTSBackwards int     `json:"video_pts_backwards"`
	// Keyframes counts pictures the decoder marked as keyframes;
	// KeyframeInterval* are the steps between them in seconds (absent
	// with fewer than two).
	Keyframes             int     `json:"keyframes"`
	KeyframeIntervalMinS  float64 `json:"keyframe_interval_min_s,omitempty"`
	KeyframeIntervalMaxS  float64 `json:"keyframe_interval_max_s,omitempty"`
	KeyframeIntervalMeanS float64 `json:"keyframe_interval_mean_s,omitempty"`
	FirstIsKeyframe       bool    `json:"first_is_keyframe"`
	// AVStartOffsetMs is the first audio sample's time minus the first
	// picture's (positive: audio starts later); nil without both.
	AVStartOffsetMs *float64 `json:"av_start_offset_ms,omitempty"`
	// DecodeErrors counts the error lines of FFmpeg's decoders and
	// demuxers while reading the file; DecodeErrorLines holds the first
	// few.
	DecodeErrors     int      `json:"decode_errors"`
	DecodeErrorLines []string `json:"decode_error_lines,omitempty"`
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
	// AudioGapMs is the next file's first audio sample time minus the end
	// of the previous file's audio (same timeline only; nil without audio
	// in both).
	AudioGapMs *float64 `json:"audio_gap_ms,omitempty"`
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
	// DriftMs is the change of the least-squares line of offset over time
	// across SpanS: what was measured, not extrapolated.
	// DriftMsPerHour is its slope per hour, given only when SpanS is at
	// least ten minutes (minDriftSpan); over a few seconds the slope is
	// jitter, and an hourly figure from it would be invented.
	DriftMs        float64 `json:"drift_ms"`
	DriftMsPerHour float64 `json:"drift_ms_per_hour,omitempty"`
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

// Err returns a *CheckError naming the failed checks, or nil.
func (r *Report) Err() error {
	if r.Passed {
		return nil
	}
	return &CheckError{Failed: r.Failed}
}
