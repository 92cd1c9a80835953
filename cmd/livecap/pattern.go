package main

import (
	"bufio"
	"context"
	"os"

	"github.com/spf13/cobra"

	"github.com/livecap/livecap/internal/capture/testsrc"
	"github.com/livecap/livecap/internal/media"
)

// newPatternCmd writes the test source's pictures as raw yuv420p, so that
// another encoder (FFmpeg in scripts/bench-vs-ffmpeg.sh) can be measured on
// exactly the pictures livecap encodes. Hidden: a tool for benchmarks.
func newPatternCmd() *cobra.Command {
	var size, duration string
	var fps int
	cmd := &cobra.Command{
		Use:    "pattern",
		Short:  "Write the test source's video as raw yuv420p on stdout (for benchmarks)",
		Hidden: true,
		Args:   cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			w, h, err := parseSize(size)
			if err != nil {
				return err
			}
			if err := checkFPS(fps); err != nil {
				return err
			}
			d, err := parseDuration("duration", duration, 0, false)
			if err != nil {
				return err
			}
			src, err := testsrc.New(testsrc.Options{Width: w, Height: h, FPS: fps, Video: true, Duration: d})
			if err != nil {
				return &usageError{err}
			}
			out := bufio.NewWriterSize(os.Stdout, 1<<20)
			var werr error
			ctx, cancel := context.WithCancel(cmd.Context())
			defer cancel()
			err = src.Run(ctx, func(f *media.VideoFrame) {
				for i, rows := range [3]int{h, h / 2, h / 2} {
					cols := w
					if i > 0 {
						cols = w / 2
					}
					for r := 0; r < rows && werr == nil; r++ {
						_, werr = out.Write(f.Planes[i][r*f.Strides[i] : r*f.Strides[i]+cols])
					}
				}
				if f.Release != nil {
					f.Release()
				}
				if werr != nil {
					cancel()
				}
			}, nil)
			if werr == nil {
				werr = out.Flush()
			}
			if werr != nil {
				return werr
			}
			return err
		},
	}
	cmd.Flags().StringVar(&size, "size", "1280x720", "picture size")
	cmd.Flags().IntVar(&fps, "fps", 30, "frames per second")
	cmd.Flags().StringVar(&duration, "duration", "60s", "media time to write")
	return cmd
}
