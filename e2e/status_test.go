package e2e

import (
	"regexp"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/livecap/livecap/internal/testpeers"
)

const eraseLine = "\r\x1b[2K"

// livecapPTY runs the binary with stderr on a pseudo-terminal of the given
// width, as a person at a terminal runs it, and returns every byte the
// terminal received. stdout stays a pipe: only stderr is a terminal.
func livecapPTY(t *testing.T, timeout time.Duration, cols int, args ...string) (int, string) {
	t.Helper()
	r := startWith(t, runOptions{cols: cols}, args...)
	code := r.wait(timeout)
	if out := r.out.String(); out != "" {
		t.Errorf("stream wrote to stdout: %q", out)
	}
	return code, r.stderr()
}

// screen is the little of a terminal livecap relies on: carriage return,
// line feed, erase line and printable text. It is what a person sees.
type screen struct {
	rows     []string
	row, col int
}

func (s *screen) write(text string) {
	for len(text) > 0 {
		if strings.HasPrefix(text, "\x1b[2K") {
			s.ensure()
			s.rows[s.row] = ""
			text = text[4:]
			continue
		}
		r, n := utf8.DecodeRuneInString(text)
		text = text[n:]
		switch r {
		case '\r':
			s.col = 0
		case '\n':
			s.row++
			s.ensure()
		default:
			s.ensure()
			line := []rune(s.rows[s.row])
			for len(line) < s.col {
				line = append(line, ' ')
			}
			if s.col < len(line) {
				line[s.col] = r
			} else {
				line = append(line, r)
			}
			s.rows[s.row] = string(line)
			s.col++
		}
	}
}

func (s *screen) ensure() {
	for len(s.rows) <= s.row {
		s.rows = append(s.rows, "")
	}
}

var (
	statusRe  = regexp.MustCompile(`^(\d\d:\d\d:\d\d)  (\d+) fps  \d+ kb/s`)
	logLineRe = regexp.MustCompile(`^\d\d:\d\d:\d\d (DBG|INF|WRN|ERR|FTL) `)
)

// On a terminal the status line shows elapsed time, fps, the destination
// live and the segment being written; it is rewritten in place about once a
// second (carriage return + erase, never a line feed), log lines go above
// it without splitting it, it fits the terminal's width, and it is gone
// when livecap ends.
func TestStatusLineOnTerminal(t *testing.T) {
	ngx := testpeers.StartNginx(t)
	dir := t.TempDir()
	const cols = 200
	const key = "statusKEY42"
	code, out := livecapPTY(t, 60*time.Second, cols, "stream", "--video", "test", "--audio", "test",
		"--size", "160x96", "--bitrate", "300k", "--duration", "5s", "--record", dir, "--rtmp", ngx.URL(key))
	if code != 0 {
		t.Fatalf("exit %d\n%q", code, tail(out, 3000))
	}
	if strings.Contains(out, key) {
		t.Error("the stream key appears on the terminal")
	}
	files := segments(t, dir)
	if len(files) != 1 {
		t.Fatalf("recording: %v", files)
	}
	seg := files[0][strings.LastIndexByte(files[0], '/')+1:]

	// Replay the bytes through a screen, one write at a time as the
	// terminal got them: after every status redraw the status line is the
	// bottom row, alone, and every row above it is a whole log line.
	chunks := strings.Split(out, eraseLine)
	if len(chunks) < 4 {
		t.Fatalf("%d status redraws in 5s, want at least 3:\n%q", len(chunks)-1, out)
	}
	var sc screen
	sc.write(chunks[0])
	var statuses []string
	for i, c := range chunks[1:] {
		sc.write(eraseLine + c)
		last := c[strings.LastIndexByte(c, '\n')+1:]
		if last == "" {
			continue // the status line removed (or a log line with none shown)
		}
		if !statusRe.MatchString(last) {
			t.Fatalf("redraw %d: %q is not a status line", i, last)
		}
		statuses = append(statuses, last)
		if n := utf8.RuneCountInString(last); n >= cols {
			t.Errorf("status line of %d columns on a %d-column terminal: %q", n, cols, last)
		}
		if sc.rows[len(sc.rows)-1] != last || sc.row != len(sc.rows)-1 {
			t.Fatalf("after redraw %d the bottom row is %q, want the status line %q", i, sc.rows[len(sc.rows)-1], last)
		}
		for _, r := range sc.rows[:len(sc.rows)-1] {
			if !logLineRe.MatchString(r) {
				t.Fatalf("after redraw %d the screen has a row that is not a log line: %q\nscreen:\n%s", i, r, strings.Join(sc.rows, "\n"))
			}
		}
	}
	// At the end the status line is gone: only log lines remain.
	for _, r := range sc.rows {
		if r != "" && !logLineRe.MatchString(r) {
			t.Errorf("left on the screen at exit: %q", r)
		}
	}
	if !strings.Contains(sc.rows[len(sc.rows)-2], "stopped") {
		t.Errorf("last log line %q, want the stopped event", sc.rows[len(sc.rows)-2])
	}

	// What the status lines said.
	var sawLive, sawSeg, sawFPS bool
	prev := ""
	liveRe := regexp.MustCompile(`rtmp://127\.0\.0\.1:\d+/live live \d+ kb/s q \d+\.\ds drop \d+ rc \d+`)
	for _, s := range statuses {
		m := statusRe.FindStringSubmatch(s)
		if m[1] < prev {
			t.Errorf("elapsed went backwards: %s after %s", m[1], prev)
		}
		prev = m[1]
		if fps := atoi(m[2]); fps >= 25 && fps <= 35 {
			sawFPS = true
		}
		sawLive = sawLive || liveRe.MatchString(s)
		sawSeg = sawSeg || strings.Contains(s, "rec "+seg+" ")
		if !strings.Contains(s, " | free ") || !strings.Contains(s, "(full in ") {
			t.Errorf("no free disk / time to full in %q", s)
		}
	}
	if prev < "00:00:03" {
		t.Errorf("last elapsed time shown %s, want at least 00:00:03 of a 5 s run", prev)
	}
	if !sawFPS || !sawLive || !sawSeg {
		t.Errorf("status lines: ~30 fps %v, destination live %v, segment %s %v:\n%s", sawFPS, sawLive, seg, sawSeg, strings.Join(statuses, "\n"))
	}
	t.Logf("%d status redraws, e.g. %q", len(statuses), statuses[len(statuses)-1])
}

// A narrow terminal gets a status line cut to its width, not one that
// wraps (a wrapped line scrolls the screen at every refresh).
func TestStatusLineNarrowTerminal(t *testing.T) {
	const cols = 40
	code, out := livecapPTY(t, 30*time.Second, cols, "stream", "--video", "test", "--audio", "test",
		"--size", "160x96", "--duration", "3s", "--record", t.TempDir())
	if code != 0 {
		t.Fatalf("exit %d\n%q", code, tail(out, 2000))
	}
	n := 0
	for _, c := range strings.Split(out, eraseLine)[1:] {
		last := c[strings.LastIndexByte(c, '\n')+1:]
		if last == "" {
			continue
		}
		n++
		if w := utf8.RuneCountInString(last); w > cols-1 {
			t.Errorf("status line of %d columns on a %d-column terminal: %q", w, cols, last)
		}
	}
	if n == 0 {
		t.Fatalf("no status line:\n%q", out)
	}
}

// No status line with --quiet, nor when stderr is not a terminal.
func TestStatusLineOnlyOnTerminal(t *testing.T) {
	code, out := livecapPTY(t, 30*time.Second, 120, "stream", "--quiet", "--video", "test", "--audio", "test",
		"--size", "160x96", "--duration", "3s", "--record", t.TempDir())
	if code != 0 {
		t.Fatalf("--quiet: exit %d\n%q", code, tail(out, 2000))
	}
	if strings.Contains(out, "\x1b[2K") || strings.Contains(out, " fps ") {
		t.Errorf("--quiet on a terminal shows a status line:\n%q", out)
	}
	r := livecap(t, 30*time.Second, nil, "stream", "--video", "test", "--audio", "test",
		"--size", "160x96", "--duration", "3s", "--record", t.TempDir())
	if r.code != 0 {
		t.Fatalf("stderr not a terminal: exit %d\n%s", r.code, tail(r.stderr, 2000))
	}
	if strings.Contains(r.stderr, "\x1b[2K") || strings.Contains(r.stderr, "\r") {
		t.Errorf("stderr not a terminal, yet a status line:\n%q", r.stderr)
	}
	// A pipe gets JSON, one object per line.
	for _, line := range strings.Split(strings.TrimSpace(r.stderr), "\n") {
		if !strings.HasPrefix(line, "{") || !strings.HasSuffix(line, "}") {
			t.Errorf("not a JSON line on a pipe: %q", line)
		}
	}
}

func atoi(s string) int {
	n := 0
	for _, c := range s {
		n = n*10 + int(c-'0')
	}
	return n
}
