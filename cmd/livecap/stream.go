package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/livecap/livecap/internal/hooks"
	"github.com/livecap/livecap/internal/media"
	"github.com/livecap/livecap/internal/session"
)

type streamFlags struct {
	record       string
	format       string
	segment      string
	video        string
	audio        string
	size         string
	fps          media.FrameRate
	bitrate      string
	audioBitrate string
	sampleRate   int
	channels     int
	keyint       string
	duration     string
	expected     string
	diskCheck    string
	rtmp         []string
	srt          []string
	destEnv      []string
	destFile     []string
	retryInitial string
	retryMax     string
	maxRetries   int
	fast         bool
	skewPPM      float64
	input        string
	loop         bool
	onSegment    string
	hookWait     string
	latency      bool
	control      string // ctl.go
	server       string // dests.go
	keyFile      string
	keyEnv       string
	preset       string // encoding.go
	h264Profile  string
	rateControl  string
	maxBitrate   []string
	logFile      string
	maxSkipped   string
}

// streamRunner runs a validated stream command; tests swap it.
type streamRunner func(cmd *cobra.Command, f *streamFlags, c session.Config) error

func newStreamCmd(runF streamRunner) *cobra.Command {
	if runF == nil {
		runF = runStream
	}
	var f streamFlags
	cmd := &cobra.Command{
		Use:   "stream",
		Short: "Capture, encode once, stream to every destination and record in segments",
		Long: `Capture camera and microphone (or the test source), encode them once, and at the same
time stream to every --rtmp/--srt destination and record to --record in segments.
With no destination it only records; with no --record it only streams.

A destination that is down never stops the recording: each one connects in the
background and retries with exponential backoff. Stream keys, SRT passphrases and
stream ids are never printed. To keep a key out of the process list, pass the URL
through an environment variable (--dest-env NAME) or a file (--dest-file PATH).

SIGINT, SIGTERM, SIGHUP (a closed terminal) or --duration stop gracefully: every file is
finalized, exit 0. A closed stderr or stdout never stops the recording.

` + exitCodesHelp,
		Example: `  # Stream to an RTMP server and record 30-minute segments
  livecap stream --rtmp rtmp://live.example.com/app/KEY --record ~/Movies/livecap

  # Record a 2-hour lecture in 30-minute MOV files, refusing to start without disk room
  livecap stream --record ./lecture --format mov --expected-duration 2h --disk-check refuse

  # Smoke-test a streaming setup with the test source for one minute over SRT
  livecap stream --video test --audio test --duration 1m \
      --srt "srt://127.0.0.1:9000?streamid=cam1&passphrase=0123456789"

  # Keep the stream key out of the process list
  LIVECAP_DEST=rtmp://live.example.com/app/KEY livecap stream --dest-env LIVECAP_DEST --record rec`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := f.validate()
			if err != nil {
				return err
			}
			return runF(cmd, &f, cfg)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.record, "record", "", "record to this folder (created if missing)")
	fl.StringVar(&f.format, "format", "mp4", "recording container: mp4 or mov (both fragmented)")
	fl.StringVar(&f.segment, "segment", "30m", "start a new file every DURATION (at least 10s)")
	fl.StringVar(&f.video, "video", "", `video source: "test", a camera index, name, ID or node path (/dev/video2), "screen", "screen:N", or "none" (default: the default camera; with no camera or microphone the run is refused, exit 4)`)
	fl.StringVar(&f.audio, "audio", "", `audio source: "test", a microphone index, name or ID (Linux: pulse:NAME, alsa:NAME), "system" (what the machine plays), or "none" (default: the default microphone)`)
	fl.StringVar(&f.size, "size", "1280x720", "video size WIDTHxHEIGHT")
	f.fps = media.FrameRate{Num: 30, Den: 1}
	fl.Var(rateFlag{&f.fps}, "fps", "video frames per second: 1..120, also 29.97 or 30000/1001")
	fl.StringVar(&f.bitrate, "bitrate", "4M", "video bit rate, such as 4M or 4500k")
	fl.StringVar(&f.audioBitrate, "audio-bitrate", "128k", "audio bit rate")
	fl.IntVar(&f.sampleRate, "sample-rate", 48000, "audio sample rate (44100 or 48000)")
	fl.IntVar(&f.channels, "channels", 2, "audio channels (1 or 2)")
	fl.StringVar(&f.keyint, "keyint", "2s", "maximum time between keyframes (ingest servers want at most 2s)")
	fl.StringVar(&f.duration, "duration", "0", "stop gracefully after this much media time (0: until interrupted)")
	fl.StringVar(&f.expected, "expected-duration", "1h", "how long you expect to record, for the disk check")
	fl.StringVar(&f.diskCheck, "disk-check", "warn", "when free disk is under 2x the estimate: warn, refuse (exit 3) or off")
	fl.StringArrayVar(&f.rtmp, "rtmp", nil, "stream to this rtmp:// or rtmps:// URL, optionally named: yt=rtmp://... (repeatable)")
	fl.StringArrayVar(&f.srt, "srt", nil, "stream to this srt://host:port?streamid=..&passphrase=.. URL in caller mode, optionally named: cam=srt://... (repeatable)")
	fl.StringArrayVar(&f.destEnv, "dest-env", nil, "read destination URLs (rtmp, rtmps, srt; whitespace separated) from this environment variable (repeatable)")
	fl.StringArrayVar(&f.destFile, "dest-file", nil, "read destination URLs, one per line, from this file (repeatable)")
	fl.StringVar(&f.retryInitial, "retry-initial", "1s", "first reconnect delay (doubles with jitter)")
	fl.StringVar(&f.retryMax, "retry-max", "30s", "longest reconnect delay")
	fl.IntVar(&f.maxRetries, "max-retries", -1, "consecutive failed connects before a destination gives up (-1: unlimited while recording, 10 when only streaming; 0: unlimited)")
	fl.BoolVar(&f.fast, "fast", false, "test source only: run as fast as the encoder goes on a virtual clock (tests, benchmarks)")
	fl.Float64Var(&f.skewPPM, "audio-skew-ppm", 0, "test source only: run its audio clock off by this many ppm against the host clock")
	fl.StringVar(&f.input, "input", "", "restream a pre-encoded MP4/MOV (H.264 + AAC) without re-encoding, paced in real time (as fast as possible with --fast)")
	fl.BoolVar(&f.latency, "latency-report", false, "at exit, print per destination the latency from encoder output to socket write (p50, p99, max) on stdout")
	fl.BoolVar(&f.loop, "loop", false, "with --input: start over at the end of the file")
	fl.StringVar(&f.onSegment, "on-segment", "", "after each segment is closed and synced, run this command with the file's path as its last argument (no shell)")
	fl.StringVar(&f.maxSkipped, "max-skipped", "", "fail the run (exit 9, files finalized) when the source or the encoder skips more than N frames, or P% of the frames (judged from 10 s of video, and at the end)")
	fl.StringVar(&f.logFile, "log-file", "", "write the log (and events) to this file, appending, instead of stderr; the status line stays on the terminal")
	fl.StringVar(&f.hookWait, "on-segment-wait", "60s", "at exit, how long to wait for --on-segment commands still running")
	fl.StringVar(&f.control, "control", "", controlFlagHelp)
	addDestFlags(fl, &f)
	addEncodingFlags(fl, &f)
	return cmd
}

func (f *streamFlags) validate() (session.Config, error) {
	c := session.Config{FPS: f.fps.Rounded(), Rate: f.fps, SampleRate: f.sampleRate, Channels: f.channels,
		Video: f.video, Audio: f.audio, Input: f.input, Loop: f.loop, Fast: f.fast, SkewPPM: f.skewPPM,
		DiskCheck: f.diskCheck, Fragment: time.Second}
	var err error
	if err = checkFormat(f.format); err != nil {
		return c, err
	}
	c.Format = f.format
	if c.Segment, err = parseDuration("segment", f.segment, 10*time.Second, false); err != nil {
		return c, err
	}
	if c.Width, c.Height, err = parseSize(f.size); err != nil {
		return c, err
	}
	if err = checkRate(f.fps); err != nil {
		return c, err
	}
	if c.Bitrate, err = parseBitrate("bitrate", f.bitrate); err != nil {
		return c, err
	}
	if c.AudioBitrate, err = parseBitrate("audio-bitrate", f.audioBitrate); err != nil {
		return c, err
	}
	if err = checkAudio(f.sampleRate, f.channels); err != nil {
		return c, err
	}
	if c.KeyInterval, err = parseDuration("keyint", f.keyint, 0, false); err != nil {
		return c, err
	}
	if c.KeyInterval < f.fps.FrameDuration() || c.KeyInterval > 60*time.Second {
		return c, usageErr("invalid --keyint %q: must be from one frame to 60s", f.keyint)
	}
	if c.Duration, err = parseDuration("duration", f.duration, 0, true); err != nil {
		return c, err
	}
	if c.Expected, err = parseDuration("expected-duration", f.expected, 0, false); err != nil {
		return c, err
	}
	switch f.diskCheck {
	case "warn", "refuse", "off":
	default:
		return c, usageErr("invalid --disk-check %q: must be warn, refuse or off", f.diskCheck)
	}
	if c.Backoff.Initial, err = parseDuration("retry-initial", f.retryInitial, 0, false); err != nil {
		return c, err
	}
	if c.Backoff.Max, err = parseDuration("retry-max", f.retryMax, 0, false); err != nil {
		return c, err
	}
	if c.Backoff.Max < c.Backoff.Initial {
		return c, usageErr("invalid --retry-max %q: must be at least --retry-initial %q", f.retryMax, f.retryInitial)
	}
	if f.maxRetries < -1 {
		return c, usageErr("invalid --max-retries %d: must be -1, 0 (unlimited) or a positive count", f.maxRetries)
	}
	if f.skewPPM < -10000 || f.skewPPM > 10000 {
		return c, usageErr("invalid --audio-skew-ppm %g: must be within ±10000", f.skewPPM)
	}
	if f.video == "none" && f.audio == "none" {
		return c, usageErr("invalid --video none with --audio none: nothing to capture")
	}
	// Destinations (dests.go).
	if c.Destinations, err = f.destinations(); err != nil {
		return c, err
	}
	if err = f.encoding(&c); err != nil { // encoding.go
		return c, err
	}
	c.MaxRetries = f.maxRetries
	if f.record != "" {
		if c.RecordDir, err = checkRecordDir(f.record); err != nil {
			return c, err
		}
	}
	if f.record == "" && len(c.Destinations) == 0 {
		return c, usageErr("nothing to do: give --record DIR and/or a destination (--rtmp, --srt, --dest-env, --dest-file)")
	}
	if c.MaxRetries == -1 {
		c.MaxRetries = 0
		if c.RecordDir == "" {
			c.MaxRetries = 10
		}
	}
	if f.onSegment != "" {
		if c.RecordDir == "" {
			return c, usageErr("invalid --on-segment: it needs --record")
		}
		if c.Hook, err = hooks.Split(f.onSegment); err != nil {
			return c, usageErr("invalid --on-segment %q: %v", f.onSegment, err)
		}
		if len(c.Hook) == 0 {
			return c, usageErr("invalid --on-segment %q: empty command", f.onSegment)
		}
	}
	if f.maxSkipped != "" {
		if c.MaxSkipped, err = session.ParseSkipLimit(f.maxSkipped); err != nil {
			return c, &usageError{err}
		}
	}
	if c.HookWait, err = parseDuration("on-segment-wait", f.hookWait, 0, true); err != nil {
		return c, err
	}
	if f.input != "" {
		if f.video != "" || f.audio != "" || f.skewPPM != 0 {
			return c, usageErr("invalid --input with --video/--audio/--audio-skew-ppm: a pre-encoded input replaces capture")
		}
		if st, err := os.Stat(f.input); err != nil || st.IsDir() {
			return c, usageErr("invalid --input %q: must be an MP4 or MOV file", f.input)
		}
		return c, nil
	}
	if f.loop {
		return c, usageErr("invalid --loop: it needs --input")
	}
	if (f.fast || f.skewPPM != 0) && !session.IsTestSource(f.video, f.audio) {
		return c, usageErr("--fast and --audio-skew-ppm need the test source (--video test and/or --audio test)")
	}
	return c, nil
}

// runStream runs one session, rendering its events and status line.
func runStream(cmd *cobra.Command, f *streamFlags, c session.Config) error {
	ctx := cmd.Context()
	if ctx == nil {
		ctx = context.Background()
	}
	var logTo io.Writer = cmd.ErrOrStderr()
	if f.logFile != "" {
		lf, err := openLogFile(f.logFile)
		if err != nil {
			return err
		}
		defer lf.Close()
		logTo = lf
	}
	log, out := newLogger(logTo)
	defer out.Close()
	r := newRenderer(log, c)
	r.logOut = out
	c.Log = log
	c.Observer = r
	c.Status = func(s *session.Session) func() { return startStatus(log, logTo, s, c) }
	if f.latency {
		c.LatencyReport = cmd.OutOrStdout()
	}
	ctl, err := openControl(f.control, &c, log)
	if err != nil {
		return err
	}
	defer ctl.Close()
	s, err := session.New(c)
	if err != nil {
		return err
	}
	ctl.bind(s)
	return s.Run(ctx)
}

// urlHead names a URL that is not one of ours without showing it: only a
// scheme-like head is shown, since the rest (a mistyped "rtmp:/h/app/KEY")
// may carry a stream key.
func urlHead(u string) string {
	head := u
	if i := strings.IndexAny(head, ":/"); i >= 0 {
		head = head[:i]
	}
	if len(head) > 8 || strings.ContainsAny(head, "?&=@ ") {
		head = ""
	}
	if head == "" || head == u {
		return "(value not shown: it may carry a stream key)"
	}
	return fmt.Sprintf("(starts with %q; the rest is not shown: it may carry a stream key)", head)
}
