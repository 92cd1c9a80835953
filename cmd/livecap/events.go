package main

import (
	"github.com/rs/zerolog"

	"github.com/livecap/livecap/internal/events"
	"github.com/livecap/livecap/internal/exitcode"
	"github.com/livecap/livecap/internal/hooks"
	"github.com/livecap/livecap/internal/pipeline"
	"github.com/livecap/livecap/internal/publish"
	"github.com/livecap/livecap/internal/record"
	"github.com/livecap/livecap/internal/session"
)

// renderer writes lifecycle events: with --log-format json, one JSON object
// per line with an "event" field naming the type (schema in docs/events.md).
// It implements session.Observer.
type renderer struct {
	log    zerolog.Logger
	cfg    session.Config
	logOut *logOutput // nil in tests: the count of dropped log lines
}

var _ session.Observer = (*renderer)(nil)

func newRenderer(log zerolog.Logger, cfg session.Config) *renderer {
	return &renderer{log: log, cfg: cfg}
}

// emit writes one event; fill adds its fields.
func (e *renderer) emit(level zerolog.Level, name, msg string, fill func(*zerolog.Event)) {
	ze := e.log.WithLevel(level).Str("event", name)
	if fill != nil {
		fill(ze)
	}
	ze.Msg(publish.Redact(msg))
}

func redactError(err error) string {
	if err == nil {
		return ""
	}
	return publish.Redact(err.Error())
}

// recordEvent turns a recorder event into a log event.
func (e *renderer) Record(r record.Event) {
	switch r.Type {
	case record.SegmentOpened:
		e.emit(zerolog.InfoLevel, r.Type, "segment opened", func(z *zerolog.Event) {
			z.Str("path", r.Path).Int("index", r.Index)
		})
	case record.SegmentClosed:
		e.emit(zerolog.InfoLevel, r.Type, "segment closed", func(z *zerolog.Event) {
			z.Str("path", r.Path).Int("index", r.Index).Float64("duration_s", r.Duration.Seconds()).
				Int64("bytes", r.Bytes).Int("frames", r.Frames)
		})
	case record.DiskLow:
		e.emit(zerolog.WarnLevel, r.Type, "free disk space is low: closing the segment and stopping the recording", func(z *zerolog.Event) {
			z.Uint64("free_bytes", r.Free).Uint64("min_free_bytes", r.MinFree)
		})
	case record.RecordingStopped:
		msg, lvl := "recording stopped", zerolog.InfoLevel
		if r.Err != nil {
			msg, lvl = "recording stopped: "+r.Err.Error(), zerolog.ErrorLevel
		}
		e.emit(lvl, r.Type, msg, func(z *zerolog.Event) {
			if r.Err != nil {
				z.Str("reason", publish.Redact(r.Err.Error()))
			} else {
				z.Str("reason", "end")
			}
		})
	case record.MarkerWritten, record.RecordingPaused, record.RecordingResumed:
		e.controlEvent(r) // ctl.go
	default:
		e.emit(zerolog.InfoLevel, r.Type, r.Type, nil)
	}
}

// publishEvent turns a destination event into a log event. Every string in
// a publish.Event is already redacted.
func (e *renderer) Publish(p publish.Event) {
	lvl := zerolog.InfoLevel
	msg := string(p.Type)
	switch p.Type {
	case publish.EventConnected:
		msg = "destination connected"
	case publish.EventLost:
		lvl, msg = zerolog.WarnLevel, "destination lost"
	case publish.EventReconnecting:
		lvl, msg = zerolog.WarnLevel, "reconnecting"
	case publish.EventFramesDropped:
		lvl, msg = zerolog.WarnLevel, "frames dropped: the destination is too slow"
	case publish.EventGaveUp:
		lvl, msg = zerolog.ErrorLevel, "destination gave up"
	}
	e.emit(lvl, string(p.Type), msg, func(z *zerolog.Event) {
		z.Str("destination", p.Destination)
		if p.Error != "" {
			z.Str("error", p.Error)
		}
		switch p.Type {
		case publish.EventReconnecting:
			z.Int("attempt", p.Attempt).Float64("delay_s", p.Delay.Seconds())
		case publish.EventGaveUp:
			z.Int("attempts", p.Attempt)
		}
		if p.Type == publish.EventFramesDropped {
			z.Uint64("dropped_video", p.DroppedVideo).Uint64("dropped_audio", p.DroppedAudio)
		}
	})
}

// hookEvent logs an --on-segment run.
func (e *renderer) Hook(h hooks.Event) {
	lvl := zerolog.InfoLevel
	if h.Type == hooks.EventFailed || h.Type == hooks.EventSkipped {
		lvl = zerolog.WarnLevel
	}
	e.emit(lvl, h.Type, h.Type, func(z *zerolog.Event) {
		z.Str("path", h.Path)
		if h.Type == hooks.EventFinished || h.Type == hooks.EventFailed {
			z.Int("exit_code", h.ExitCode).Float64("duration_s", h.Duration.Seconds())
		}
		if h.Error != "" {
			z.Str("error", h.Error)
		}
		if h.StderrTail != "" {
			z.Str("stderr_tail", h.StderrTail)
		}
		if h.Killed {
			z.Bool("killed", true)
		}
	})
}

// Session renders the session's own events.
func (e *renderer) Session(ev session.Event) {
	c := &e.cfg
	switch ev.Name {
	case events.Started:
		e.emit(zerolog.InfoLevel, ev.Name, "started", func(z *zerolog.Event) {
			if v := ev.Info.Video; v != nil {
				z.Int("width", v.Width).Int("height", v.Height).Int("fps", v.FPS).Int("video_bitrate", c.Bitrate)
			}
			if a := ev.Info.Audio; a != nil {
				z.Int("sample_rate", a.SampleRate).Int("channels", a.Channels).Int("audio_bitrate", c.AudioBitrate)
			}
			z.Str("encoder", ev.Encoder)
			if ev.VideoSource != "" {
				z.Str("video_source", ev.VideoSource)
			}
			if ev.AudioSource != "" {
				z.Str("audio_source", ev.AudioSource)
			}
			if c.RecordDir != "" {
				z.Str("record_dir", c.RecordDir).Str("format", c.Format).Float64("segment_s", c.Segment.Seconds())
			}
			dn := make([]string, len(c.Destinations))
			for i, d := range c.Destinations {
				dn[i] = d.Redacted()
			}
			z.Strs("destinations", dn)
		})
	case events.Stopped:
		code := exitCode(ev.Err)
		lvl, msg := zerolog.InfoLevel, "stopped"
		if ev.Reason == session.ReasonForced {
			lvl, msg = zerolog.ErrorLevel, "second interrupt: stopped at once"
		}
		e.emit(lvl, ev.Name, msg, func(z *zerolog.Event) {
			z.Str("reason", ev.Reason).Int("exit_code", code).Float64("elapsed_s", ev.Elapsed.Seconds()).
				Uint64("frames", ev.Frames).Uint64("source_skipped", ev.Skipped).Uint64("encoder_skipped", ev.EncoderSkipped)
			if e.logOut != nil {
				if n := e.logOut.Dropped(); n > 0 {
					z.Uint64("log_lines_dropped", n)
				}
			}
			if ev.Err != nil && code != exitcode.Interrupted {
				z.Str("error", redactError(ev.Err))
			}
		})
	case events.DiskLow:
		e.emit(zerolog.WarnLevel, ev.Name, ev.Msg, func(z *zerolog.Event) {
			z.Uint64("free_bytes", ev.Disk.Free).Uint64("estimate_bytes", ev.Disk.Estimate).Uint64("needed_bytes", ev.Disk.Needed)
		})
	case events.SegmentRecovered:
		r := ev.Recovered
		msg := "found a segment left unfinished by a crash; it plays up to its last fragment"
		if r.Repaired {
			msg = "found a segment left unfinished by a crash; repaired: " + r.Problem
		}
		e.emit(zerolog.WarnLevel, ev.Name, msg, func(z *zerolog.Event) {
			z.Str("path", r.Path).Int64("size", r.Size).Int64("kept", r.Kept).Int("fragments", r.Fragments).
				Bool("repaired", r.Repaired).Str("problem", r.Problem).Float64("duration_s", r.Duration.Seconds())
		})
	case events.FramesSkipped:
		e.emit(zerolog.WarnLevel, ev.Name, "frames skipped: the source or the encoder fell behind real time", func(z *zerolog.Event) {
			z.Uint64("skipped", ev.NewSkipped).Uint64("source_skipped", ev.Skipped).Uint64("encoder_skipped", ev.EncoderSkipped).
				Uint64("frames", ev.Frames)
		})
	case events.InputTruncated:
		e.emit(zerolog.WarnLevel, ev.Name, "the input file ends inside its media data (a recording cut short?): restreamed up to its last whole fragment", func(z *zerolog.Event) {
			z.Str("path", ev.Path)
		})
	case events.SourceLost:
		msg := "the source stopped delivering " + ev.Kind
		if ev.Msg != "" {
			msg += ": " + ev.Msg
		}
		e.emit(zerolog.WarnLevel, ev.Name, msg, func(z *zerolog.Event) {
			z.Str("kind", ev.Kind).Float64("gap_s", ev.Gap.Seconds()).
				Float64("give_up_s", (pipeline.DefaultLost + pipeline.DefaultGiveUp).Seconds())
			if ev.Msg != "" {
				z.Str("reason", ev.Msg)
			}
		})
	case events.SourceBack:
		e.emit(zerolog.InfoLevel, ev.Name, ev.Kind+" from the source is back", func(z *zerolog.Event) {
			z.Str("kind", ev.Kind).Float64("gap_s", ev.Gap.Seconds())
		})
	case events.HooksDone:
		hs := ev.Hooks
		e.emit(zerolog.InfoLevel, ev.Name, "segment hooks done", func(z *zerolog.Event) {
			z.Uint64("succeeded", hs.Succeeded).Uint64("failed", hs.Failed).Uint64("killed", hs.Killed).Uint64("skipped", hs.Skipped)
		})
	default:
		e.emit(zerolog.InfoLevel, ev.Name, ev.Name, nil)
	}
}
