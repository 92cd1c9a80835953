package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/rs/zerolog"
	"github.com/spf13/cobra"

	"github.com/livecap/livecap/internal/capture"
	"github.com/livecap/livecap/internal/capture/testsrc"
	"github.com/livecap/livecap/internal/clock"
	"github.com/livecap/livecap/internal/diskcheck"
	"github.com/livecap/livecap/internal/encoder"
	"github.com/livecap/livecap/internal/exitcode"
	"github.com/livecap/livecap/internal/fanout"
	"github.com/livecap/livecap/internal/hooks"
	"github.com/livecap/livecap/internal/input"
	"github.com/livecap/livecap/internal/pipeline"
	"github.com/livecap/livecap/internal/publish"
	"github.com/livecap/livecap/internal/record"
)

type streamFlags struct {
	record       string
	format       string
	segment      string
	video        string
	audio        string
	size         string
	fps          int
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
}

// streamConfig is streamFlags validated and parsed.
type streamConfig struct {
	recordDir        string
	format           string
	segment          time.Duration
	width, height    int
	fps              int
	bitrate, abitate int
	keyint           time.Duration
	duration         time.Duration
	expected         time.Duration
	dests            []*publish.Destination
	backoff          publish.Backoff
	maxRetries       int
	hookArgv         []string
	hookWait         time.Duration
	// beforeStop, when set, reports what the session learnt at its end,
	// before the stopped event.
	beforeStop func()
}

func newStreamCmd() *cobra.Command {
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

SIGINT, SIGTERM or --duration stop gracefully: every file is finalized, exit 0.

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
			return runStream(cmd.Context(), &f, cfg)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.record, "record", "", "record to this folder (created if missing)")
	fl.StringVar(&f.format, "format", "mp4", "recording container: mp4 or mov (both fragmented)")
	fl.StringVar(&f.segment, "segment", "30m", "start a new file every DURATION (at least 10s)")
	fl.StringVar(&f.video, "video", "", `video source: "test", a camera index, name or ID, "screen", "screen:N", or "none" (default: the default camera, or the test source where there is none)`)
	fl.StringVar(&f.audio, "audio", "", `audio source: "test", a microphone index, name or ID, or "none" (default: like --video)`)
	fl.StringVar(&f.size, "size", "1280x720", "video size WIDTHxHEIGHT")
	fl.IntVar(&f.fps, "fps", 30, "video frames per second (1..120)")
	fl.StringVar(&f.bitrate, "bitrate", "4M", "video bit rate, such as 4M or 4500k")
	fl.StringVar(&f.audioBitrate, "audio-bitrate", "128k", "audio bit rate")
	fl.IntVar(&f.sampleRate, "sample-rate", 48000, "audio sample rate (44100 or 48000)")
	fl.IntVar(&f.channels, "channels", 2, "audio channels (1 or 2)")
	fl.StringVar(&f.keyint, "keyint", "2s", "maximum time between keyframes (ingest servers want at most 2s)")
	fl.StringVar(&f.duration, "duration", "0", "stop gracefully after this much media time (0: until interrupted)")
	fl.StringVar(&f.expected, "expected-duration", "1h", "how long you expect to record, for the disk check")
	fl.StringVar(&f.diskCheck, "disk-check", "warn", "when free disk is under 2x the estimate: warn, refuse (exit 3) or off")
	fl.StringArrayVar(&f.rtmp, "rtmp", nil, "stream to this rtmp:// or rtmps:// URL (repeatable)")
	fl.StringArrayVar(&f.srt, "srt", nil, "stream to this srt://host:port?streamid=..&passphrase=.. URL in caller mode (repeatable)")
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
	fl.StringVar(&f.hookWait, "on-segment-wait", "60s", "at exit, how long to wait for --on-segment commands still running")
	return cmd
}

func (f *streamFlags) validate() (*streamConfig, error) {
	c := &streamConfig{fps: f.fps}
	var err error
	if err = checkFormat(f.format); err != nil {
		return nil, err
	}
	c.format = f.format
	if c.segment, err = parseDuration("segment", f.segment, 10*time.Second, false); err != nil {
		return nil, err
	}
	if c.width, c.height, err = parseSize(f.size); err != nil {
		return nil, err
	}
	if err = checkFPS(f.fps); err != nil {
		return nil, err
	}
	if c.bitrate, err = parseBitrate("bitrate", f.bitrate); err != nil {
		return nil, err
	}
	if c.abitate, err = parseBitrate("audio-bitrate", f.audioBitrate); err != nil {
		return nil, err
	}
	if f.sampleRate != 44100 && f.sampleRate != 48000 {
		return nil, usageErr("invalid --sample-rate %d: must be 44100 or 48000", f.sampleRate)
	}
	if f.channels != 1 && f.channels != 2 {
		return nil, usageErr("invalid --channels %d: must be 1 or 2", f.channels)
	}
	if c.keyint, err = parseDuration("keyint", f.keyint, 0, false); err != nil {
		return nil, err
	}
	if c.keyint < time.Second/time.Duration(f.fps) || c.keyint > 60*time.Second {
		return nil, usageErr("invalid --keyint %q: must be from one frame to 60s", f.keyint)
	}
	if c.duration, err = parseDuration("duration", f.duration, 0, true); err != nil {
		return nil, err
	}
	if c.expected, err = parseDuration("expected-duration", f.expected, 0, false); err != nil {
		return nil, err
	}
	switch f.diskCheck {
	case "warn", "refuse", "off":
	default:
		return nil, usageErr("invalid --disk-check %q: must be warn, refuse or off", f.diskCheck)
	}
	if c.backoff.Initial, err = parseDuration("retry-initial", f.retryInitial, 0, false); err != nil {
		return nil, err
	}
	if c.backoff.Max, err = parseDuration("retry-max", f.retryMax, 0, false); err != nil {
		return nil, err
	}
	if c.backoff.Max < c.backoff.Initial {
		return nil, usageErr("invalid --retry-max %q: must be at least --retry-initial %q", f.retryMax, f.retryInitial)
	}
	if f.maxRetries < -1 {
		return nil, usageErr("invalid --max-retries %d: must be -1, 0 (unlimited) or a positive count", f.maxRetries)
	}
	if f.skewPPM < -10000 || f.skewPPM > 10000 {
		return nil, usageErr("invalid --audio-skew-ppm %g: must be within ±10000", f.skewPPM)
	}
	if f.video == "none" && f.audio == "none" {
		return nil, usageErr("invalid --video none with --audio none: nothing to capture")
	}
	// Destinations.
	urls := append([]string{}, f.rtmp...)
	for _, u := range f.rtmp {
		if s := strings.ToLower(u); !strings.HasPrefix(s, "rtmp://") && !strings.HasPrefix(s, "rtmps://") {
			return nil, usageErr("invalid --rtmp %q: must be an rtmp:// or rtmps:// URL", publish.Redact(u))
		}
	}
	for _, u := range f.srt {
		if !strings.HasPrefix(strings.ToLower(u), "srt://") {
			return nil, usageErr("invalid --srt %q: must be an srt:// URL", publish.Redact(u))
		}
	}
	urls = append(urls, f.srt...)
	for _, name := range f.destEnv {
		v, ok := os.LookupEnv(name)
		if !ok || strings.TrimSpace(v) == "" {
			return nil, usageErr("invalid --dest-env %q: the environment variable is not set", name)
		}
		urls = append(urls, strings.Fields(v)...)
	}
	for _, path := range f.destFile {
		b, err := os.ReadFile(path)
		if err != nil {
			return nil, usageErr("invalid --dest-file %q: %v", path, unwrapPathErr(err))
		}
		for _, line := range strings.Split(string(b), "\n") {
			if line = strings.TrimSpace(line); line != "" && !strings.HasPrefix(line, "#") {
				urls = append(urls, line)
			}
		}
	}
	for _, u := range urls {
		d, err := publish.ParseDestination(u)
		if err != nil {
			return nil, exitcode.With(exitcode.Usage, err)
		}
		c.dests = append(c.dests, d)
	}
	c.maxRetries = f.maxRetries
	if f.record != "" {
		if c.recordDir, err = checkRecordDir(f.record); err != nil {
			return nil, err
		}
	}
	if f.record == "" && len(c.dests) == 0 {
		return nil, usageErr("nothing to do: give --record DIR and/or a destination (--rtmp, --srt, --dest-env, --dest-file)")
	}
	if c.maxRetries == -1 {
		c.maxRetries = 0
		if c.recordDir == "" {
			c.maxRetries = 10
		}
	}
	if f.onSegment != "" {
		if c.recordDir == "" {
			return nil, usageErr("invalid --on-segment: it needs --record")
		}
		if c.hookArgv, err = hooks.Split(f.onSegment); err != nil {
			return nil, usageErr("invalid --on-segment %q: %v", f.onSegment, err)
		}
		if len(c.hookArgv) == 0 {
			return nil, usageErr("invalid --on-segment %q: empty command", f.onSegment)
		}
	}
	if c.hookWait, err = parseDuration("on-segment-wait", f.hookWait, 0, true); err != nil {
		return nil, err
	}
	if f.input != "" {
		if f.video != "" || f.audio != "" || f.skewPPM != 0 {
			return nil, usageErr("invalid --input with --video/--audio/--audio-skew-ppm: a pre-encoded input replaces capture")
		}
		if st, err := os.Stat(f.input); err != nil || st.IsDir() {
			return nil, usageErr("invalid --input %q: must be an MP4 or MOV file", f.input)
		}
		return c, nil
	}
	if f.loop {
		return nil, usageErr("invalid --loop: it needs --input")
	}
	if (f.fast || f.skewPPM != 0) && !isTestSource(f.video, f.audio) {
		return nil, usageErr("--fast and --audio-skew-ppm need the test source (--video test and/or --audio test)")
	}
	return c, nil
}

func isTestSource(v, a string) bool {
	return (v == "test" || v == "none") && (a == "test" || a == "none")
}

// openSource resolves --video/--audio to a capture source.
func openSource(f *streamFlags, c *streamConfig, host *clock.Host) (capture.Source, error) {
	v, a := f.video, f.audio
	plat := capture.PlatformCapture()
	if plat == nil {
		// No camera capture in this build (Linux): the test source is the
		// default, as a virtual camera.
		if v == "" {
			v = "test"
		}
		if a == "" {
			a = "test"
		}
	}
	if (v == "test" || v == "none") && (a == "test" || a == "none") {
		o := testsrc.Options{
			Width: c.width, Height: c.height, FPS: c.fps,
			SampleRate: f.sampleRate, Channels: f.channels,
			Video: v == "test", Audio: a == "test",
			Realtime: !f.fast, SkewPPM: f.skewPPM, Duration: c.duration,
		}
		if !f.fast {
			o.Clock = host
		}
		if f.fast && c.duration == 0 {
			return nil, usageErr("--fast needs --duration: a fast run ends on media time")
		}
		src, err := testsrc.New(o)
		if err != nil {
			return nil, exitcode.With(exitcode.Usage, err)
		}
		return src, nil
	}
	if v == "test" || a == "test" {
		return nil, usageErr("mixing the test source with a device is not supported: use --video test --audio test, or devices for both")
	}
	if plat == nil {
		return nil, exitcode.With(exitcode.Device, fmt.Errorf("no camera or microphone capture on %s: use --video test --audio test (see livecap devices)", runtime.GOOS))
	}
	var vr *capture.VideoRequest
	var ar *capture.AudioRequest
	if v != "none" {
		vr = &capture.VideoRequest{Device: v, Width: c.width, Height: c.height, FPS: c.fps}
	}
	if a != "none" {
		ar = &capture.AudioRequest{Device: a, SampleRate: f.sampleRate, Channels: f.channels}
	}
	src, err := plat.Open(vr, ar, host)
	if err != nil {
		if errors.Is(err, capture.ErrPermission) {
			return nil, exitcode.With(exitcode.Permission, err)
		}
		return nil, exitcode.With(exitcode.Device, err)
	}
	return src, nil
}

func runStream(parent context.Context, f *streamFlags, c *streamConfig) error {
	if parent == nil {
		parent = context.Background()
	}
	log := newLogger(os.Stderr)
	ev := newEvents(log)

	// Disk check before anything starts.
	if c.recordDir != "" && f.diskCheck != "off" {
		res, err := diskcheck.Check(c.recordDir, c.bitrate, c.abitate, c.expected)
		if err != nil {
			log.Warn().Err(err).Msg("cannot read free disk space")
		} else if !res.OK {
			msg := res.Message(c.recordDir, c.expected)
			if f.diskCheck == "refuse" {
				return exitcode.With(exitcode.Disk, errors.New(msg+" (--disk-check refuse)"))
			}
			ev.emit(zerolog.WarnLevel, "disk_low", msg, func(e *zerolog.Event) {
				e.Uint64("free_bytes", res.Free).Uint64("estimate_bytes", res.Estimate).Uint64("needed_bytes", res.Needed)
			})
		}
	}

	host := clock.NewHost()
	if c.recordDir != "" {
		recoverUnfinished(c.recordDir, ev)
	}
	var pipe *pipeline.Pipeline
	backendName := "none (pre-encoded input)"
	if f.input != "" {
		rd, err := input.Open(f.input, input.Options{Realtime: !f.fast, Loop: f.loop, Clock: host})
		if err != nil {
			return exitcode.With(exitcode.Usage, fmt.Errorf("invalid --input %q: %v", f.input, err))
		}
		defer rd.Close()
		c.beforeStop = func() {
			if rd.Truncated() {
				ev.emit(zerolog.WarnLevel, "input_truncated", "the input file ends inside its media data (a recording cut short?): restreamed up to its last whole fragment", func(e *zerolog.Event) {
					e.Str("path", f.input)
				})
			}
		}
		pipe = pipeline.NewPackets(rd, host, c.duration, f.fast)
	} else {
		var err error
		if pipe, backendName, err = openPipeline(f, c, host, log); err != nil {
			return err
		}
	}
	return runSession(parent, f, c, pipe, backendName, host, log, ev)
}

func openPipeline(f *streamFlags, c *streamConfig, host *clock.Host, log zerolog.Logger) (*pipeline.Pipeline, string, error) {
	src, err := openSource(f, c, host)
	if err != nil {
		return nil, "", err
	}
	backend, err := encoder.Default("")
	if err != nil {
		return nil, "", exitcode.With(exitcode.Encoder, err)
	}
	pcfg := pipeline.Config{
		Source:  src,
		Backend: backend,
		Video: encoder.VideoSettings{Width: c.width, Height: c.height, FPS: c.fps, Bitrate: c.bitrate,
			KeyInterval: c.keyint, Realtime: true},
		Audio:    encoder.AudioSettings{SampleRate: f.sampleRate, Channels: f.channels, Bitrate: c.abitate},
		Clock:    host,
		Duration: c.duration,
		Log:      log,
	}
	if sr, ch, ok := src.Audio(); ok {
		pcfg.Audio.SampleRate, pcfg.Audio.Channels = sr, ch
		pcfg.Align = newAligner(sr, ch)
	}
	if w, h, fps, ok := src.Video(); ok {
		pcfg.Video.Width, pcfg.Video.Height, pcfg.Video.FPS = w, h, fps
	}
	pipe, err := pipeline.New(pcfg)
	if err != nil {
		return nil, "", err
	}
	return pipe, backend.Name(), nil
}

func runSession(parent context.Context, f *streamFlags, c *streamConfig, pipe *pipeline.Pipeline, backendName string,
	host *clock.Host, log zerolog.Logger, ev *events) error {
	var err error

	// Signals: the first stops gracefully, a second stops at once.
	ctx, stop := context.WithCancel(parent)
	defer stop()
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
	defer signal.Stop(sigs)
	var stopReason sync.Once
	reason := "end"
	setReason := func(r string) { stopReason.Do(func() { reason = r }) }
	go func() {
		s, ok := <-sigs
		if !ok {
			return
		}
		setReason(s.String())
		log.Info().Str("signal", s.String()).Msg("stopping: finalizing files (interrupt again to stop at once)")
		stop()
		if _, ok := <-sigs; ok {
			ev.emit(zerolog.ErrorLevel, "stopped", "second interrupt: stopped at once", func(e *zerolog.Event) {
				e.Str("reason", "forced").Int("exit_code", exitcode.Interrupted)
			})
			os.Exit(exitcode.Interrupted)
		}
	}()

	pipeDone := make(chan error, 1)
	go func() { pipeDone <- pipe.Run(ctx) }()

	infoCtx, infoCancel := context.WithTimeout(ctx, 15*time.Second)
	info, err := pipe.Info(infoCtx)
	infoCancel()
	if err != nil {
		stop()
		perr := <-pipeDone
		if perr != nil {
			return perr
		}
		if ctx.Err() != nil && parent.Err() == nil && reason != "end" {
			return nil
		}
		return exitcode.With(exitcode.Encoder, errors.New("the encoder produced no stream configuration within 15s"))
	}
	started := time.Now()
	ev.emit(zerolog.InfoLevel, "started", "started", func(e *zerolog.Event) {
		if info.Video != nil {
			e.Int("width", info.Video.Width).Int("height", info.Video.Height).Int("fps", info.Video.FPS).Int("video_bitrate", c.bitrate)
		}
		if info.Audio != nil {
			e.Int("sample_rate", info.Audio.SampleRate).Int("channels", info.Audio.Channels).Int("audio_bitrate", c.abitate)
		}
		e.Str("encoder", backendName)
		if c.recordDir != "" {
			e.Str("record_dir", c.recordDir).Str("format", c.format).Float64("segment_s", c.segment.Seconds())
		}
		dn := make([]string, len(c.dests))
		for i, d := range c.dests {
			dn[i] = d.Redacted()
		}
		e.Strs("destinations", dn)
	})

	var (
		wg         sync.WaitGroup
		sinkMu     sync.Mutex
		recErr     error
		recActive  = c.recordDir != ""
		pubActive  = len(c.dests)
		pubErrs    []error
		recorder   *record.Recorder
		pubs       []publish.Publisher
		pubCancels []context.CancelFunc
	)
	pubCtx, pubCancel := context.WithCancel(context.Background())
	defer pubCancel()
	// sinkEnded stops the whole session when nothing is left to feed.
	var pipeFinished atomic.Bool
	sinkEnded := func() {
		if !recActive && pubActive == 0 && !pipeFinished.Load() {
			setReason("no_sinks")
			stop()
		}
	}
	var hookRunner *hooks.Runner
	if len(c.hookArgv) > 0 {
		hookRunner, err = hooks.New(c.hookArgv, log.Level(zerolog.Disabled), hooks.Options{OnEvent: ev.hookEvent}) // its events are logged
		if err != nil {
			stop()
			<-pipeDone
			return exitcode.With(exitcode.Usage, fmt.Errorf("invalid --on-segment: %v", err))
		}
		ev.onSegment = hookRunner.Segment
	}
	if c.recordDir != "" {
		recorder, err = record.New(record.Options{
			Dir: c.recordDir, Format: c.format, Segment: c.segment, Fragment: time.Second,
			Start: time.Now(), Info: info, Keyframes: pipe,
			MinFree: diskcheck.LowWater(c.bitrate, c.abitate),
			Log:     log.Level(zerolog.WarnLevel), Events: ev.recordEvent,
		})
		if err != nil {
			stop()
			<-pipeDone
			return exitcode.With(exitcode.Failure, err)
		}
		q := pipe.Hub().Add("recorder", fanout.Policy{Lossless: true})
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := recorder.Run(context.Background(), q)
			pipe.Hub().Remove(q)
			sinkMu.Lock()
			recErr = err
			recActive = false
			// The recorder has reported recording_stopped itself (Events).
			sinkEnded()
			sinkMu.Unlock()
		}()
	}
	for _, d := range c.dests {
		p, err := publish.New(d, publish.Options{
			// Every publisher log line has an event of its own (below).
			Info: info, Keyframes: pipe, Log: log.Level(zerolog.Disabled), Backoff: c.backoff, Clock: host,
			MaxAttempts: c.maxRetries, Events: ev.publishEvent,
		})
		if err != nil {
			stop()
			<-pipeDone
			return exitcode.With(exitcode.Usage, err)
		}
		q := pipe.Hub().Add(p.Name(), publish.DefaultPolicy())
		pubs = append(pubs, p)
		ctx, cancel := context.WithCancel(pubCtx)
		pubCancels = append(pubCancels, cancel)
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := p.Run(ctx, q)
			pipe.Hub().Remove(q)
			sinkMu.Lock()
			pubActive--
			if err != nil && !errors.Is(err, context.Canceled) {
				pubErrs = append(pubErrs, err)
			}
			sinkEnded()
			sinkMu.Unlock()
		}()
	}
	if f.input != "" && f.fast && len(pubs) > 0 {
		// Restreaming a file as fast as possible: a destination still
		// connecting would miss the start, so give them up to 10 s to go
		// live (the file waits; nothing is lost).
		waitLive(ctx, pubs, 10*time.Second)
	}
	pipe.Attach()

	stopStatus := startStatus(ctx, log, pipe, func() *record.Recorder { return recorder }, pubs, c, started)

	perr := <-pipeDone
	pipeFinished.Store(true)
	if c.duration > 0 {
		setReason("duration")
	} else if f.input != "" {
		setReason("end_of_input")
	}
	stopStatus()
	// The hub is closed: the recorder drains its lossless queue; the
	// destinations get a bounded time to send what they hold.
	// A live destination gets up to 10 s to send what it holds; one that is
	// not connected has nowhere to send it and stops at once.
	drained := make(chan struct{})
	go func() { wg.Wait(); close(drained) }()
	deadline := time.After(10 * time.Second)
	tick := time.NewTicker(100 * time.Millisecond)
wait:
	for {
		select {
		case <-drained:
			break wait
		case <-deadline:
			pubCancel()
			<-drained
			break wait
		case <-tick.C:
			for i, p := range pubs {
				if p.Stats().State != publish.StateLive {
					pubCancels[i]()
				}
			}
		}
	}
	tick.Stop()
	publish.Cleanup()
	if f.latency {
		for _, p := range pubs {
			st := p.Stats()
			fmt.Fprintf(os.Stdout, "latency %s: encoder to socket %s; write alone %s\n", st.Name, st.Latency, st.WriteLatency)
		}
	}
	if hookRunner != nil {
		hs := hookRunner.Close(c.hookWait)
		log.Info().Str("event", "hooks_done").Uint64("succeeded", hs.Succeeded).Uint64("failed", hs.Failed).
			Uint64("killed", hs.Killed).Uint64("skipped", hs.Skipped).Msg("segment hooks done")
	}

	code := exitcode.OK
	var final error
	switch {
	case perr != nil:
		final = perr
	case recErr != nil && (errors.Is(recErr, record.ErrDiskLow) || errors.Is(recErr, record.ErrDiskFull)):
		final = exitcode.With(exitcode.Disk, recErr)
	case recErr != nil:
		final = exitcode.With(exitcode.Failure, recErr)
	case c.recordDir == "" && len(pubErrs) == len(c.dests) && len(pubErrs) > 0 && reason == "no_sinks":
		final = exitcode.With(exitcode.AllGaveUp, fmt.Errorf("every destination gave up: %v", errors.Join(pubErrs...)))
	}
	if final != nil {
		code = exitcode.Failure
		var ce *exitcode.Error
		if errors.As(final, &ce) {
			code = ce.Code
		}
	}
	if c.beforeStop != nil {
		c.beforeStop()
	}
	// A recording that stopped for disk while streams went on is not the
	// session's failure once the session is over by the user's choice.
	ev.emit(zerolog.InfoLevel, "stopped", "stopped", func(e *zerolog.Event) {
		st := pipe.Stats()
		e.Str("reason", reason).Int("exit_code", code).Float64("elapsed_s", time.Since(started).Seconds()).
			Uint64("frames", st.VideoFrames).Uint64("source_skipped", st.SourceSkipped)
		if final != nil {
			e.Str("error", redactError(final))
		}
	})
	return final
}

// newAligner puts the source's audio on the host clock: its sample count
// follows the device's clock, which runs a few hundred ppm off the host's.
func newAligner(sampleRate, channels int) pipeline.AudioAligner {
	return clock.NewAudioAligner(sampleRate, channels)
}

// waitLive waits until every publisher is live, or max has passed.
func waitLive(ctx context.Context, pubs []publish.Publisher, max time.Duration) {
	deadline := time.Now().Add(max)
	for time.Now().Before(deadline) && ctx.Err() == nil {
		live := true
		for _, p := range pubs {
			live = live && p.Stats().State == publish.StateLive
		}
		if live {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
}
