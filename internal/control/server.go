package control

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// SocketName is the control socket's name inside the record folder.
const SocketName = "livecap.sock"

// MaxPath is the longest socket path accepted: sockaddr_un holds 104 bytes
// on macOS (108 on Linux), NUL included.
const MaxPath = 103

const (
	maxConns      = 16              // concurrent clients; more are refused
	idleTimeout   = time.Minute     // a client that sends nothing is dropped
	writeTimeout  = 2 * time.Second // a reply or event the client does not read
	subscriberBuf = 1024            // events held per subscriber before dropping
)

// ErrInUse: another live session answers on the socket path.
var ErrInUse = errors.New("another livecap session is listening there")

// ListenError is a socket that could not be made; Err says why.
type ListenError struct {
	Path string
	Err  error
}

func (e *ListenError) Error() string { return fmt.Sprintf("control socket %q: %v", e.Path, e.Err) }
func (e *ListenError) Unwrap() error { return e.Err }

// unwrapOS keeps the system's reason ("permission denied") of a path or
// network error, whose own text repeats the path.
func unwrapOS(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	var se *os.SyscallError
	if errors.As(err, &se) {
		return se.Err
	}
	var oe *net.OpError
	if errors.As(err, &oe) {
		return unwrapOS(oe.Err)
	}
	return err
}

// Server is a listening control endpoint.
type Server struct {
	path string
	ino  uint64
	ln   *net.UnixListener
	h    Handler

	mu    sync.Mutex
	conns map[net.Conn]bool // true: a subscriber (flushes its events before it closes)
	subs  map[*subscriber]struct{}
	nsubs atomic.Int32
	done  chan struct{}
	wg    sync.WaitGroup
}

type subscriber struct {
	ch      chan []byte
	dropped atomic.Uint64
}

// Listen creates the socket at path, readable and writable by its owner
// only (0600, checked after bind), and starts serving h. A stale socket
// left by a killed session is replaced; one that a live session answers on
// is refused with ErrInUse.
func Listen(path string, h Handler) (*Server, error) {
	fail := func(format string, a ...any) error {
		return &ListenError{Path: path, Err: fmt.Errorf(format, a...)}
	}
	if len(path) > MaxPath {
		return nil, fail("the path is %d bytes: must be at most %d (a Unix socket limit)", len(path), MaxPath)
	}
	if st, err := os.Lstat(path); err == nil {
		if st.Mode()&os.ModeSocket == 0 {
			return nil, fail("the path exists and is not a socket")
		}
		if c, err := net.DialTimeout("unix", path, 200*time.Millisecond); err == nil {
			c.Close()
			return nil, &ListenError{Path: path, Err: ErrInUse}
		}
		if err := os.Remove(path); err != nil {
			return nil, fail("cannot remove the stale socket: %v", unwrapOS(err))
		}
	}
	// The umask makes the socket 0600 from its creation: no window in which
	// another user could connect. Nothing else creates files this early.
	old := syscall.Umask(0o177)
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	syscall.Umask(old)
	if err != nil {
		return nil, fail("cannot create it: %v", unwrapOS(err))
	}
	ln.SetUnlinkOnClose(false) // Close removes it only if it is still ours
	if err := os.Chmod(path, 0o600); err != nil {
		ln.Close()
		return nil, fail("%v", unwrapOS(err))
	}
	st, err := os.Lstat(path)
	if err != nil || st.Mode().Perm() != 0o600 {
		ln.Close()
		os.Remove(path)
		return nil, fail("its permissions are not owner-only (0600)")
	}
	s := &Server{path: path, ln: ln, h: h, conns: map[net.Conn]bool{}, subs: map[*subscriber]struct{}{}, done: make(chan struct{})}
	if sys, ok := st.Sys().(*syscall.Stat_t); ok {
		s.ino = uint64(sys.Ino)
		if int(sys.Uid) != os.Geteuid() {
			ln.Close()
			os.Remove(path)
			return nil, fail("it is not owned by this user")
		}
	}
	s.wg.Add(1)
	go s.accept()
	return s, nil
}

// Path is the socket's path.
func (s *Server) Path() string { return s.path }

// Close stops accepting, ends every connection and removes the socket
// (unless another process has replaced it since).
func (s *Server) Close() error {
	select {
	case <-s.done:
		return nil
	default:
	}
	close(s.done)
	err := s.ln.Close()
	s.mu.Lock()
	for c, sub := range s.conns {
		if !sub {
			c.Close()
		}
	}
	s.mu.Unlock()
	s.wg.Wait()
	if st, e := os.Lstat(s.path); e == nil {
		if sys, ok := st.Sys().(*syscall.Stat_t); !ok || uint64(sys.Ino) == s.ino {
			os.Remove(s.path)
		}
	}
	return err
}

func (s *Server) accept() {
	defer s.wg.Done()
	for {
		c, err := s.ln.AcceptUnix()
		if err != nil {
			select {
			case <-s.done:
				return
			default:
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			time.Sleep(10 * time.Millisecond) // EMFILE and the like: do not spin
			continue
		}
		if !peerIsOwner(c) {
			c.Close()
			continue
		}
		s.mu.Lock()
		if len(s.conns) >= maxConns {
			s.mu.Unlock()
			c.SetWriteDeadline(time.Now().Add(writeTimeout))
			writeJSON(c, Reply{OK: false, Error: fmt.Sprintf("too many control clients (at most %d)", maxConns)})
			c.Close()
			continue
		}
		s.conns[c] = false
		s.mu.Unlock()
		s.wg.Add(1)
		go s.serve(c)
	}
}

func (s *Server) serve(c net.Conn) {
	defer s.wg.Done()
	defer func() {
		s.mu.Lock()
		delete(s.conns, c)
		s.mu.Unlock()
		c.Close()
	}()
	br := bufio.NewReaderSize(c, maxLine)
	for {
		c.SetReadDeadline(time.Now().Add(idleTimeout))
		line, err := br.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			s.reply(c, Reply{Error: fmt.Sprintf("invalid request: a line must be at most %d bytes", maxLine)})
			return
		}
		if len(bytes.TrimSpace(line)) == 0 {
			if err != nil {
				return
			}
			continue
		}
		req, perr := ParseRequest(line)
		if perr != nil {
			if !s.reply(c, Reply{Verb: req.Verb, Error: perr.Error()}) {
				return
			}
			continue
		}
		if req.Verb == VerbSubscribe {
			s.subscribe(c, br)
			return
		}
		if !s.reply(c, s.do(req)) {
			return
		}
		if err != nil {
			return
		}
	}
}

// do runs one verb; a handler panic is the verb's error, never the
// session's end.
func (s *Server) do(req Request) (rep Reply) {
	rep.Verb = req.Verb
	defer func() {
		if r := recover(); r != nil {
			rep.OK, rep.Result, rep.Error = false, nil, fmt.Sprintf("%s failed: internal error: %v", req.Verb, r)
		}
	}()
	var res Result
	var err error
	switch req.Verb {
	case VerbSplit:
		res, err = s.h.Split()
	case VerbMarker:
		res, err = s.h.Marker(req.Name)
	case VerbReconnect:
		res, err = s.h.Reconnect(req.Dest)
	case VerbPause:
		res, err = s.h.Pause()
	case VerbResume:
		res, err = s.h.Resume()
	case VerbStatus:
		res, err = s.h.Status()
	}
	if err != nil {
		rep.Error = err.Error()
		return rep
	}
	rep.OK, rep.Result = true, res
	return rep
}

func (s *Server) reply(c net.Conn, r Reply) bool {
	c.SetWriteDeadline(time.Now().Add(writeTimeout))
	return writeJSON(c, r) == nil
}

func writeJSON(w io.Writer, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	_, err = w.Write(append(b, '\n'))
	return err
}

// subscribe turns c into an event stream until the client hangs up or the
// server closes. Events a slow client cannot take are counted and reported
// to it as a control_events_dropped line, never silently lost.
func (s *Server) subscribe(c net.Conn, br *bufio.Reader) {
	sub := &subscriber{ch: make(chan []byte, subscriberBuf)}
	s.mu.Lock()
	s.conns[c] = true
	s.subs[sub] = struct{}{}
	s.nsubs.Add(1)
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.subs, sub)
		s.nsubs.Add(-1)
		s.mu.Unlock()
	}()
	if !s.reply(c, Reply{OK: true, Verb: VerbSubscribe}) {
		return
	}
	gone := make(chan struct{})
	go func() {
		// Anything the client sends now is ignored; EOF means it left.
		c.SetReadDeadline(time.Time{})
		io.Copy(io.Discard, br)
		close(gone)
	}()
	var reported uint64
	for {
		select {
		case <-s.done:
			// The session has ended: what it reported last (stopped) still
			// goes out.
			c.SetWriteDeadline(time.Now().Add(writeTimeout))
			for {
				select {
				case b := <-sub.ch:
					if _, err := c.Write(b); err != nil {
						return
					}
				default:
					return
				}
			}
		case <-gone:
			return
		case b := <-sub.ch:
			c.SetWriteDeadline(time.Now().Add(writeTimeout))
			if d := sub.dropped.Load(); d != reported {
				reported = d
				fmt.Fprintf(c, "{\"event\":\"control_events_dropped\",\"count\":%d}\n", d)
			}
			if _, err := c.Write(b); err != nil {
				return
			}
		}
	}
}

// Write takes one JSON log line (a zerolog writer) and hands it to every
// subscriber when it is an event (has an "event" field). It never blocks
// and never fails: a subscriber that is behind loses the line, counted.
func (s *Server) Write(p []byte) (int, error) {
	if s.nsubs.Load() == 0 || !bytes.Contains(p, []byte(`"event":`)) {
		return len(p), nil
	}
	b := make([]byte, len(p), len(p)+1)
	copy(b, p)
	if len(b) == 0 || b[len(b)-1] != '\n' {
		b = append(b, '\n')
	}
	s.mu.Lock()
	for sub := range s.subs {
		select {
		case sub.ch <- b:
		default:
			sub.dropped.Add(1)
		}
	}
	s.mu.Unlock()
	return len(p), nil
}
