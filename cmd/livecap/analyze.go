package main

import (
	"context"
	"encoding/json"
	"time"

	"github.com/spf13/cobra"

	"github.com/livecap/livecap/internal/analyze"
)

// newAnalyzeCmd builds `livecap analyze`: the A/V sync and continuity
// measurement of recordings and streams made from the test source.
func newAnalyzeCmd() *cobra.Command {
	var (
		asJSON    bool
		maxOffset time.Duration
		allowGaps bool
		interval  time.Duration
		pairs     bool
	)
	cmd := &cobra.Command{
		Use:   "analyze FILE [FILE...]",
		Short: "Measure a recording: A/V offset and frame continuity of the test pattern, timestamps and keyframes of any file",
		Long: `Analyze a recording made from livecap's test source (or what an ingest
server received from it: FLV from nginx-rtmp, MPEG-TS from an SRT listener).
Several files are read in order as one timeline (segments), and each join is
checked for missing or repeated frames.

For each white flash frame the nearest 1 kHz beep onset (within ±500 ms) is
found; offset = audio onset - video flash time, as a player presents them
(positive: audio late). Reported: median, mean, max |offset|, drift over
time, a per-interval series, and missing/repeated/unreadable frames.

Any other recording is analyzed too, without the pattern: video and audio
timestamps and their gaps, keyframe intervals, how the files join, the A/V
start offset and decode errors.

Exit status 7 when a check fails: max |offset| above --max-offset (or no
test pattern to measure it on), or missing/repeated frames (unless
--allow-gaps). Decoding uses ffmpeg and ffprobe from PATH.`,
		Example: `  livecap analyze rec/livecap-0001.mp4 rec/livecap-0002.mp4
  livecap analyze --max-offset 20ms --json received.flv`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return usageErr("analyze: no file given: pass one recording or several segment files in order")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			if maxOffset < 0 {
				return usageErr("--max-offset %v not allowed: use a positive duration such as 20ms", maxOffset)
			}
			if interval < time.Second {
				return usageErr("--interval %v not allowed: use 1s or more", interval)
			}
			ctx := cmd.Context()
			if ctx == nil {
				ctx = context.Background()
			}
			r, err := analyze.Files(ctx, args, analyze.Options{
				MaxOffset: maxOffset,
				AllowGaps: allowGaps,
				Interval:  interval,
				Pairs:     pairs,
			})
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			if asJSON {
				enc := json.NewEncoder(out)
				enc.SetIndent("", "  ")
				if err := enc.Encode(r); err != nil {
					return err
				}
			} else if err := r.WriteText(out); err != nil {
				return err
			}
			return r.Err()
		},
	}
	f := cmd.Flags()
	f.BoolVar(&asJSON, "json", false, "write the report as JSON")
	f.DurationVar(&maxOffset, "max-offset", 0, "fail (exit 7) when max |offset| exceeds this, e.g. 20ms (0: no limit)")
	f.BoolVar(&allowGaps, "allow-gaps", false, "do not fail on missing or repeated frames")
	f.DurationVar(&interval, "interval", time.Minute, "bucket width of the offset series")
	f.BoolVar(&pairs, "pairs", false, "list every flash/beep pair")
	return cmd
}
