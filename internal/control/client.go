package control

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"syscall"
	"time"
)

// Client is one connection to a session's control socket.
type Client struct {
	c  net.Conn
	br *bufio.Reader
}

// Dial connects to the socket at path. It refuses a path that is not a
// socket owned by this user with mode 0600: a client must not hand verbs
// to someone else's endpoint.
func Dial(path string, timeout time.Duration) (*Client, error) {
	st, err := os.Stat(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("no control socket at %q: is a session running (livecap stream --record DIR or --control PATH)?", path)
		}
		return nil, fmt.Errorf("control socket %q: %w", path, err)
	}
	if st.Mode()&os.ModeSocket == 0 {
		return nil, fmt.Errorf("control socket %q: not a socket", path)
	}
	if sys, ok := st.Sys().(*syscall.Stat_t); ok && int(sys.Uid) != os.Geteuid() {
		return nil, fmt.Errorf("control socket %q: owned by another user", path)
	}
	if st.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("control socket %q: mode %04o is not owner-only (0600)", path, st.Mode().Perm())
	}
	c, err := net.DialTimeout("unix", path, timeout)
	if err != nil {
		if errors.Is(err, syscall.ECONNREFUSED) {
			return nil, fmt.Errorf("control socket %q: no session answers (a stale socket of a session that ended)", path)
		}
		return nil, fmt.Errorf("control socket %q: %w", path, err)
	}
	return &Client{c: c, br: bufio.NewReader(c)}, nil
}

// Close hangs up.
func (c *Client) Close() error { return c.c.Close() }

// Do sends one request and reads its reply within timeout.
func (c *Client) Do(req Request, timeout time.Duration) (Reply, error) {
	var rep Reply
	c.c.SetDeadline(time.Now().Add(timeout))
	defer c.c.SetDeadline(time.Time{})
	if err := writeJSON(c.c, req); err != nil {
		return rep, fmt.Errorf("control: send: %w", err)
	}
	line, err := c.br.ReadBytes('\n')
	if err != nil {
		if errors.Is(err, io.EOF) {
			return rep, errors.New("control: the session closed the connection without a reply")
		}
		return rep, fmt.Errorf("control: reply: %w", err)
	}
	if err := json.Unmarshal(line, &rep); err != nil {
		return rep, fmt.Errorf("control: reply is not JSON: %.80q", line)
	}
	return rep, nil
}

// Subscribe asks for the event stream and calls fn with each raw event
// line (without its newline) until the session ends the stream, fn
// returns false, or an error occurs. io.EOF (the session ended) is nil.
func (c *Client) Subscribe(timeout time.Duration, fn func(line []byte) bool) error {
	rep, err := c.Do(Request{Verb: VerbSubscribe}, timeout)
	if err != nil {
		return err
	}
	if !rep.OK {
		return errors.New(rep.Error)
	}
	for {
		line, err := c.br.ReadBytes('\n')
		if len(line) > 0 && line[len(line)-1] == '\n' {
			if !fn(line[:len(line)-1]) {
				return nil
			}
		}
		if err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return err
		}
	}
}
