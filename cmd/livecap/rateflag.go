package main

import (
	"strconv"
	"strings"

	"github.com/livecap/livecap/internal/media"
)

// rateFlag is --fps: a whole number (30), a decimal (29.97) or a fraction
// (30000/1001), as media.ParseFrameRate reads them. A whole number is
// stored as given, even out of range, so that validate reports the range
// ("invalid --fps 0: must be from 1 to 120").
type rateFlag struct{ r *media.FrameRate }

func (f rateFlag) String() string {
	if f.r == nil {
		return "0"
	}
	return f.r.String()
}

func (f rateFlag) Set(s string) error {
	if n, err := strconv.Atoi(strings.TrimSpace(s)); err == nil {
		*f.r = media.FrameRate{Num: n, Den: 1}
		return nil
	}
	r, err := media.ParseFrameRate(s)
	if err != nil {
		return err
	}
	*f.r = r
	return nil
}

// Type names the value in help and in configuration errors.
func (rateFlag) Type() string { return "rate" }

func checkRate(r media.FrameRate) error {
	if r.Num <= 0 || r.Den <= 0 || media.CheckFrameRate(r) != nil {
		return usageErr("invalid --fps %s: must be from %d to %d frames per second (29.97 or 30000/1001 too)", r, media.MinFPS, media.MaxFPS)
	}
	return nil
}
