package main

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/livecap/livecap/internal/media"
)

// parseBitrate reads "4M", "4.5M", "4500k", "4500000" (bits per second).
func parseBitrate(flag, s string) (int, error) {
	v := strings.TrimSpace(s)
	mult := 1.0
	if n := len(v); n > 0 {
		switch v[n-1] {
		case 'k', 'K':
			mult, v = 1e3, v[:n-1]
		case 'm', 'M':
			mult, v = 1e6, v[:n-1]
		}
	}
	f, err := strconv.ParseFloat(v, 64)
	bps := f * mult
	if err != nil || math.IsNaN(bps) || bps < media.MinBitrate || bps > media.MaxBitrate {
		return 0, usageErr("invalid --%s %q: must be a bit rate from 1k to 500M, such as 4M, 4500k or 4500000", flag, s)
	}
	return int(bps), nil
}

// parseDuration reads a Go duration ("90s", "1h30m") or plain seconds.
func parseDuration(flag, s string, min time.Duration, allowZero bool) (time.Duration, error) {
	d, err := time.ParseDuration(strings.TrimSpace(s))
	if err != nil {
		if secs, err2 := strconv.ParseFloat(strings.TrimSpace(s), 64); err2 == nil && !math.IsNaN(secs) && !math.IsInf(secs, 0) {
			d, err = time.Duration(secs*float64(time.Second)), nil
		}
	}
	what := "a duration such as 90s, 30m or 1h30m"
	if min > 0 {
		what = fmt.Sprintf("a duration of at least %s, such as 30m", min)
	}
	switch {
	case err != nil:
		return 0, usageErr("invalid --%s %q: must be %s", flag, s, what)
	case d < 0:
		return 0, usageErr("invalid --%s %q: must not be negative; %s", flag, s, what)
	case d == 0 && allowZero:
		return 0, nil
	case d == 0 || d < min:
		return 0, usageErr("invalid --%s %q: must be %s", flag, s, what)
	}
	return d, nil
}

var sizeRe = regexp.MustCompile(`^(\d{1,5})x(\d{1,5})$`)

// parseSize reads WxH; H.264 4:2:0 needs even dimensions.
func parseSize(s string) (w, h int, err error) {
	m := sizeRe.FindStringSubmatch(strings.TrimSpace(s))
	if m != nil {
		w, _ = strconv.Atoi(m[1])
		h, _ = strconv.Atoi(m[2])
		if media.CheckSize(w, h) == nil {
			return w, h, nil
		}
	}
	return 0, 0, usageErr("invalid --size %q: must be WIDTHxHEIGHT with even numbers from %dx%d to %dx%d, such as 1280x720",
		s, media.MinWidth, media.MinHeight, media.MaxWidth, media.MaxHeight)
}

func checkFPS(fps int) error {
	if media.CheckFPS(fps) != nil {
		return usageErr("invalid --fps %d: must be from %d to %d", fps, media.MinFPS, media.MaxFPS)
	}
	return nil
}

func checkFormat(f string) error {
	switch f {
	case "mp4", "mov":
		return nil
	}
	return usageErr("invalid --format %q: must be mp4 or mov", f)
}

// checkRecordDir makes sure dir is (or can become) a writable folder,
// before anything starts.
func checkRecordDir(dir string) (string, error) {
	if strings.TrimSpace(dir) == "" {
		return "", usageErr("invalid --record %q: must be a folder path", dir)
	}
	if strings.HasPrefix(dir, "~/") {
		if home, err := os.UserHomeDir(); err == nil {
			dir = filepath.Join(home, dir[2:])
		}
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", usageErr("invalid --record %q: %v", dir, err)
	}
	if st, err := os.Stat(abs); err == nil && !st.IsDir() {
		return "", usageErr("invalid --record %q: it is a file, must be a folder", dir)
	}
	if err := os.MkdirAll(abs, 0o755); err != nil {
		return "", usageErr("invalid --record %q: cannot create the folder: %v", dir, unwrapPathErr(err))
	}
	f, err := os.CreateTemp(abs, ".livecap-write-test-*")
	if err != nil {
		return "", usageErr("invalid --record %q: the folder is not writable: %v", dir, unwrapPathErr(err))
	}
	name := f.Name()
	f.Close()
	os.Remove(name)
	return abs, nil
}

func unwrapPathErr(err error) error {
	if pe, ok := err.(*os.PathError); ok {
		return pe.Err
	}
	return err
}

// checkAudio checks --sample-rate and --channels.
func checkAudio(rate, channels int) error {
	if !slices.Contains(media.SampleRates, rate) {
		return usageErr("invalid --sample-rate %d: must be one of %v", rate, media.SampleRates)
	}
	if channels < media.MinChannels || channels > media.MaxChannels {
		return usageErr("invalid --channels %d: must be from %d to %d", channels, media.MinChannels, media.MaxChannels)
	}
	return nil
}
