package session

// The session as a control.Handler: what `livecap ctl` and the control
// socket drive (internal/control). Every method only reads state and hands
// a request to the component that acts on it (the recorder at its next
// video packet, a publisher's backoff wait), so each returns in
// microseconds whatever the load.

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/livecap/livecap/internal/control"
	"github.com/livecap/livecap/internal/publish"
	"github.com/livecap/livecap/internal/record"
)

var _ control.Handler = (*Session)(nil)

// ErrNotStarted: a control verb arrived before the session started.
var ErrNotStarted = errors.New("the session has not started yet")

func (s *Session) controlParts() (*record.Recorder, []publish.Publisher, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.started.IsZero() {
		return nil, nil, ErrNotStarted
	}
	return s.recorder, s.pubs, nil
}

func (s *Session) ctlRecorder(verb string) (*record.Recorder, error) {
	rec, _, err := s.controlParts()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", verb, err)
	}
	if rec == nil {
		return nil, fmt.Errorf("%s: this session does not record (no --record)", verb)
	}
	return rec, nil
}

// Split implements control.Handler.
func (s *Session) Split() (control.Result, error) {
	rec, err := s.ctlRecorder("split")
	if err != nil {
		return nil, err
	}
	if err := rec.Split(); err != nil {
		return nil, fmt.Errorf("split: %w", err)
	}
	return control.Result{"media_time_s": s.pipe.Stats().LastVideoPTS.Seconds(), "closing": rec.Stats().Path}, nil
}

// Marker implements control.Handler: the chapter is placed at the media
// time of the last frame encoded.
func (s *Session) Marker(name string) (control.Result, error) {
	if err := control.CheckMarkerName(name); err != nil {
		return nil, err
	}
	rec, err := s.ctlRecorder("marker")
	if err != nil {
		return nil, err
	}
	at := s.pipe.Stats().LastVideoPTS
	if err := rec.Marker(name, at); err != nil {
		return nil, fmt.Errorf("marker: %w", err)
	}
	return control.Result{"name": name, "media_time_s": at.Seconds(), "path": rec.Stats().Path}, nil
}

// Pause implements control.Handler.
func (s *Session) Pause() (control.Result, error) {
	rec, err := s.ctlRecorder("pause")
	if err != nil {
		return nil, err
	}
	if err := rec.Pause(); err != nil {
		return nil, fmt.Errorf("pause: %w", err)
	}
	return control.Result{"media_time_s": s.pipe.Stats().LastVideoPTS.Seconds()}, nil
}

// Resume implements control.Handler.
func (s *Session) Resume() (control.Result, error) {
	rec, err := s.ctlRecorder("resume")
	if err != nil {
		return nil, err
	}
	if err := rec.Resume(); err != nil {
		return nil, fmt.Errorf("resume: %w", err)
	}
	return control.Result{"media_time_s": s.pipe.Stats().LastVideoPTS.Seconds()}, nil
}

// destName is how the control verbs and their replies name destination i
// (0-based): its name when it has one, else its 1-based index.
func destName(d *publish.Destination, i int) string {
	if n := d.Name; n != "" {
		return n
	}
	return strconv.Itoa(i + 1)
}

// Reconnect implements control.Handler: dest is a destination's name or
// 1-based index; empty means every destination.
func (s *Session) Reconnect(dest string) (control.Result, error) {
	_, pubs, err := s.controlParts()
	if err != nil {
		return nil, fmt.Errorf("reconnect: %w", err)
	}
	if len(pubs) == 0 {
		return nil, errors.New("reconnect: this session streams to no destination")
	}
	ds := s.cfg.Destinations
	var names []string
	var picked []int
	for i := range pubs {
		n := destName(ds[i], i)
		names = append(names, n)
		if dest == "" || dest == n || dest == strconv.Itoa(i+1) {
			picked = append(picked, i)
		}
	}
	if len(picked) == 0 {
		return nil, fmt.Errorf("reconnect: no destination %q: must be one of %s", dest, strings.Join(names, ", "))
	}
	var out []map[string]any
	for _, i := range picked {
		p := pubs[i]
		cut := false
		if r, ok := p.(publish.Reconnecter); ok {
			cut = r.Reconnect()
		}
		st := p.Stats()
		out = append(out, map[string]any{"name": names[i], "state": string(st.State), "retry_cut": cut})
	}
	return control.Result{"destinations": out}, nil
}

// Status implements control.Handler.
func (s *Session) Status() (control.Result, error) {
	if _, _, err := s.controlParts(); err != nil {
		return nil, fmt.Errorf("status: %w", err)
	}
	sn := s.Snapshot()
	res := control.Result{
		"media_time_s":   sn.Pipeline.LastVideoPTS.Seconds(),
		"frames":         sn.Pipeline.VideoFrames,
		"source_skipped": sn.Pipeline.SourceSkipped,
	}
	s.mu.Lock()
	rec := s.recorder
	s.mu.Unlock()
	if r := sn.Recording; r != nil {
		res["recording"] = map[string]any{"path": r.Path, "segments": r.Segments, "bytes": r.Bytes,
			"frames": r.Frames, "paused": rec.Paused(), "paused_frames": rec.PausedFrames()}
	}
	var ds []map[string]any
	for i, d := range sn.Destinations {
		m := map[string]any{"name": destName(s.cfg.Destinations[i], i), "url": d.Name, "state": string(d.State),
			"attempt": d.Attempt, "bitrate": d.Bitrate, "bytes_sent": d.BytesSent, "reconnects": d.Reconnects,
			"dropped_video": d.Queue.DroppedVideo, "dropped_audio": d.Queue.DroppedAudio}
		if d.State == publish.StateRetrying {
			m["retry_in_s"] = d.RetryIn.Seconds()
		}
		if d.LastError != "" {
			m["last_error"] = d.LastError
		}
		ds = append(ds, m)
	}
	res["destinations"] = ds
	return res, nil
}
