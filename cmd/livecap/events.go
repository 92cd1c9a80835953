package main

import (
	"github.com/rs/zerolog"

	"github.com/livecap/livecap/internal/hooks"
	"github.com/livecap/livecap/internal/publish"
	"github.com/livecap/livecap/internal/record"
)

// events writes lifecycle events: with --log-format json, one JSON object
// per line with an "event" field naming the type (schema in docs/events.md).
type events struct {
	log zerolog.Logger
	// onSegment, when set, runs after each segment is closed and synced.
	onSegment func(path string)
}

func newEvents(log zerolog.Logger) *events { return &events{log: log} }

// emit writes one event; fill adds its fields.
func (e *events) emit(level zerolog.Level, name, msg string, fill func(*zerolog.Event)) {
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
func (e *events) recordEvent(r record.Event) {
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
		if e.onSegment != nil {
			e.onSegment(r.Path)
		}
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
	default:
		e.emit(zerolog.InfoLevel, r.Type, r.Type, nil)
	}
}

// publishEvent turns a destination event into a log event. Every string in
// a publish.Event is already redacted.
func (e *events) publishEvent(p publish.Event) {
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
func (e *events) hookEvent(h hooks.Event) {
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

// recoverUnfinished reports (and makes whole) segments a crash left
// unfinished in the record folder. It never overwrites or removes a file.
func recoverUnfinished(dir string, e *events) {
	found, err := record.Scan(dir)
	if err != nil {
		e.log.Warn().Err(err).Msg("cannot scan the record folder for unfinished segments")
		return
	}
	for _, r := range found {
		msg := "found a segment left unfinished by a crash; it plays up to its last fragment"
		if r.Repaired {
			msg = "found a segment left unfinished by a crash; cut its incomplete last fragment so it is whole"
		}
		e.emit(zerolog.WarnLevel, "segment_recovered", msg, func(z *zerolog.Event) {
			z.Str("path", r.Path).Int64("size", r.Size).Int64("kept", r.Kept).Int("fragments", r.Fragments).
				Bool("repaired", r.Repaired).Str("problem", r.Problem)
		})
	}
}
