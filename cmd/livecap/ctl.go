package main

// Runtime control: the control socket of `livecap stream` and the
// `livecap ctl` client (internal/control speaks the protocol).

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/rs/zerolog"
	"github.com/spf13/cobra"

	"github.com/livecap/livecap/internal/control"
	"github.com/livecap/livecap/internal/events"
	"github.com/livecap/livecap/internal/hooks"
	"github.com/livecap/livecap/internal/publish"
	"github.com/livecap/livecap/internal/record"
	"github.com/livecap/livecap/internal/session"
)

const controlFlagHelp = `control socket for livecap ctl (default: livecap.sock in the --record folder; "off": none)`

// controlEndpoint is a running session's control socket and its SIGUSR1
// handler (split now).
type controlEndpoint struct {
	srv  *control.Server // nil without a socket
	h    *boundHandler
	usr1 chan os.Signal
	done chan struct{}
	log  zerolog.Logger // announces the socket at bind
}

// boundHandler forwards verbs to the session once it exists and logs each
// request as a control_request event.
type boundHandler struct {
	s    atomic.Pointer[session.Session]
	logs []zerolog.Logger // the process log, and the subscribers' stream
}

// controlPath resolves --control: "" without a socket.
func controlPath(flag, recordDir string) (path string, explicit bool) {
	switch flag {
	case "off", "none":
		return "", true
	case "":
		if recordDir == "" {
			return "", false
		}
		return filepath.Join(recordDir, control.SocketName), false
	}
	flag = expandHome(flag)
	if abs, err := filepath.Abs(flag); err == nil {
		flag = abs
	}
	return flag, true
}

// openControl starts the control socket (before anything else starts, so
// that a refusal is a usage error with nothing started) and SIGUSR1. The
// events of c.Observer are copied to the socket's subscribers.
func openControl(flag string, c *session.Config, log zerolog.Logger) (*controlEndpoint, error) {
	e := &controlEndpoint{h: &boundHandler{logs: []zerolog.Logger{log}}, done: make(chan struct{})}
	path, explicit := controlPath(flag, c.RecordDir)
	if path != "" {
		srv, err := control.Listen(path, e.h)
		switch {
		case err == nil:
			e.srv = srv
		case explicit:
			var le *control.ListenError
			if errors.As(err, &le) {
				err = le.Err
			}
			return nil, usageErr("invalid --control %q: %v", flag, err)
		case errors.Is(err, control.ErrInUse):
			return nil, usageErr("invalid --record %q: another livecap session records there (its control socket %s answers)", c.RecordDir, path)
		default:
			// The default place does not work (a path over the socket
			// limit, say): the session runs without one.
			log.Warn().Err(err).Msg("no control socket (give --control PATH for one)")
		}
	}
	if e.srv != nil {
		sub := zerolog.New(e.srv).With().Timestamp().Logger()
		c.Observer = teeObserver{c.Observer, newRenderer(sub, *c)}
		e.h.logs = append(e.h.logs, sub)
		e.log = log
	}
	e.usr1 = make(chan os.Signal, 1)
	signal.Notify(e.usr1, syscall.SIGUSR1)
	go e.signals()
	return e, nil
}

func (e *controlEndpoint) signals() {
	for {
		select {
		case <-e.usr1:
			e.h.do("SIGUSR1 split", func(h control.Handler) (control.Result, error) { return h.Split() })
		case <-e.done:
			return
		}
	}
}

// bind hands the verbs to s.
// bind hands the session to the socket once session.New accepted the
// run: only then is the socket announced (a refusal before it leaves one
// line and, once Close has removed the socket, nothing in the folder).
func (e *controlEndpoint) bind(s *session.Session) {
	e.h.s.Store(s)
	if e.srv != nil {
		e.log.Info().Str("event", events.ControlListening).Str("path", e.srv.Path()).Msg("control socket ready (livecap ctl)")
	}
}

// Close removes the socket and restores SIGUSR1.
func (e *controlEndpoint) Close() {
	signal.Stop(e.usr1)
	close(e.done)
	if e.srv != nil {
		e.srv.Close()
	}
}

func (b *boundHandler) do(verb string, f func(control.Handler) (control.Result, error)) (control.Result, error) {
	t0 := time.Now()
	s := b.s.Load()
	var res control.Result
	var err error
	if s == nil {
		err = fmt.Errorf("%s: %w", strings.Fields(verb)[0], session.ErrNotStarted)
	} else {
		res, err = f(s)
	}
	lvl := zerolog.InfoLevel
	if verb == control.VerbStatus {
		lvl = zerolog.DebugLevel
	}
	ms := float64(time.Since(t0).Microseconds()) / 1000
	for _, l := range b.logs {
		ev := l.WithLevel(lvl).Str("event", events.ControlRequest).Str("verb", verb).Bool("ok", err == nil).Float64("reply_ms", ms)
		if err != nil {
			ev = ev.Str("error", err.Error())
		}
		ev.Msg("control: " + verb)
	}
	return res, err
}

func (b *boundHandler) Split() (control.Result, error) {
	return b.do(control.VerbSplit, func(h control.Handler) (control.Result, error) { return h.Split() })
}
func (b *boundHandler) Marker(name string) (control.Result, error) {
	return b.do(control.VerbMarker, func(h control.Handler) (control.Result, error) { return h.Marker(name) })
}
func (b *boundHandler) Reconnect(dest string) (control.Result, error) {
	return b.do(control.VerbReconnect, func(h control.Handler) (control.Result, error) { return h.Reconnect(dest) })
}
func (b *boundHandler) Pause() (control.Result, error) {
	return b.do(control.VerbPause, func(h control.Handler) (control.Result, error) { return h.Pause() })
}
func (b *boundHandler) Resume() (control.Result, error) {
	return b.do(control.VerbResume, func(h control.Handler) (control.Result, error) { return h.Resume() })
}
func (b *boundHandler) Status() (control.Result, error) {
	return b.do(control.VerbStatus, func(h control.Handler) (control.Result, error) { return h.Status() })
}

// teeObserver hands every event to two observers.
type teeObserver struct{ a, b session.Observer }

func (t teeObserver) Session(e session.Event) { t.a.Session(e); t.b.Session(e) }
func (t teeObserver) Record(e record.Event)   { t.a.Record(e); t.b.Record(e) }
func (t teeObserver) Publish(e publish.Event) { t.a.Publish(e); t.b.Publish(e) }
func (t teeObserver) Hook(e hooks.Event)      { t.a.Hook(e); t.b.Hook(e) }

type ctlFlags struct {
	control string
	record  string
	timeout time.Duration
}

func newCtlCmd() *cobra.Command {
	var f ctlFlags
	cmd := &cobra.Command{
		Use:   "ctl VERB [ARG]",
		Short: "Drive a running session: split, marker NAME, reconnect [DEST], pause, resume, status, subscribe",
		Long: `Send one verb to a running livecap stream through its control socket and print the
reply, one JSON object, on stdout. The socket is livecap.sock in the session's
--record folder, or the --control PATH the session was given; it is readable and
writable by its owner only.

  split            start a new segment now, on a forced keyframe (also: kill -USR1 PID)
  marker NAME      write a chapter named NAME at the current media time into the segment
  reconnect [DEST] cut the reconnect wait of destination DEST (name or index), or of all
  pause            close the segment and stop recording; the streams go on
  resume           start a new segment on a keyframe
  status           the session's figures
  subscribe        print every event of the session, one JSON object per line, until it ends

Exit codes: 0 the verb succeeded, 1 it was refused or no session answered, 2 bad usage.`,
		Example: `  livecap ctl --record ./lecture marker "Questions"
  livecap ctl --control /tmp/cam.sock reconnect yt
  livecap ctl --record ./lecture subscribe | jq .event`,
		Args: cobra.RangeArgs(1, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			req, path, err := f.request(args)
			if err != nil {
				return err
			}
			return runCtl(cmd, req, path, f.timeout)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.control, "control", "", "the session's control socket")
	fl.StringVar(&f.record, "record", "", "the session's record folder (its socket is livecap.sock there)")
	fl.DurationVar(&f.timeout, "timeout", 2*time.Second, "how long to wait for the reply")
	return cmd
}

func (f *ctlFlags) request(args []string) (control.Request, string, error) {
	req := control.Request{Verb: args[0]}
	switch req.Verb {
	case control.VerbMarker:
		if len(args) != 2 {
			return req, "", usageErr("invalid ctl marker: give the marker's NAME (ctl marker \"Questions\")")
		}
		req.Name = args[1]
	case control.VerbReconnect:
		if len(args) == 2 {
			req.Dest = args[1]
		}
	default:
		if len(args) != 1 {
			return req, "", usageErr("invalid ctl %s %q: %s takes no argument", req.Verb, args[1], req.Verb)
		}
	}
	if err := req.Check(); err != nil {
		return req, "", usageErr("%v", err)
	}
	if f.timeout <= 0 {
		return req, "", usageErr("invalid --timeout %s: must be positive", f.timeout)
	}
	path := expandHome(f.control)
	switch {
	case path != "" && f.record != "":
		return req, "", usageErr("invalid --control with --record: give one of them")
	case path == "" && f.record != "":
		path = filepath.Join(expandHome(f.record), control.SocketName)
	case path == "":
		return req, "", usageErr("no session given: use --record DIR (the session's record folder) or --control PATH")
	}
	return req, path, nil
}

func runCtl(cmd *cobra.Command, req control.Request, path string, timeout time.Duration) error {
	c, err := control.Dial(path, timeout)
	if err != nil {
		return err
	}
	defer c.Close()
	out := cmd.OutOrStdout()
	if req.Verb == control.VerbSubscribe {
		return c.Subscribe(timeout, func(line []byte) bool {
			_, err := fmt.Fprintf(out, "%s\n", line)
			return err == nil
		})
	}
	rep, err := c.Do(req, timeout)
	if err != nil {
		return err
	}
	b, _ := json.Marshal(rep)
	fmt.Fprintf(out, "%s\n", b)
	if !rep.OK {
		return errors.New(rep.Error)
	}
	return nil
}

// controlEvent renders the recorder's events of runtime control.
func (e *renderer) controlEvent(r record.Event) {
	switch r.Type {
	case record.MarkerWritten:
		lvl, msg := zerolog.InfoLevel, "marker written as a chapter"
		if r.Err != nil {
			lvl, msg = zerolog.WarnLevel, "marker not written into the file: "+r.Err.Error()
		}
		e.emit(lvl, r.Type, msg, func(z *zerolog.Event) {
			z.Str("name", r.Name).Str("path", r.Path).Int("index", r.Index).Float64("file_time_s", r.Duration.Seconds())
		})
	case record.RecordingPaused:
		e.emit(zerolog.InfoLevel, r.Type, "recording paused: segment closed, the streams go on", func(z *zerolog.Event) {
			if r.Path != "" {
				z.Str("path", r.Path)
			}
		})
	case record.RecordingResumed:
		e.emit(zerolog.InfoLevel, r.Type, "recording resumed: the next segment starts on this keyframe", nil)
	}
}

// expandHome reads "~/x" as stream's --record does: a path from a
// configuration file has had no shell to expand it.
func expandHome(p string) string {
	if strings.HasPrefix(p, "~/") {
		if home, err := os.UserHomeDir(); err == nil {
			return filepath.Join(home, p[2:])
		}
	}
	return p
}
