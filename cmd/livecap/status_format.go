package main

import (
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/livecap/livecap/internal/diskcheck"
	"github.com/livecap/livecap/internal/publish"
)

type headForm int

const (
	headFull    headForm = iota // segment name, free space and time to full
	headMid                     // no segment name
	headShort                   // no time to full
	headMinimal                 // elapsed, fps, bitrate, what is wrong, recording size
)

// head is the part of the status line before the destinations.
func (s *statusSource) head(now time.Time, form headForm) string {
	var b strings.Builder
	if form == headMinimal {
		fmt.Fprintf(&b, "%s %.0ffps %s", fmtClock(now.Sub(s.started)), s.fps, strings.ReplaceAll(fmtRate(s.kbps*1000), " ", ""))
	} else {
		fmt.Fprintf(&b, "%s  %.0f fps  %s", fmtClock(now.Sub(s.started)), s.fps, fmtRate(s.kbps*1000))
	}
	if st := s.snap.Pipeline; st.SourceSkipped+st.EncoderSkipped > 0 {
		fmt.Fprintf(&b, "  skipped %d", st.SourceSkipped+st.EncoderSkipped)
	}
	if lost := s.snap.Pipeline.SourceLost; lost != "" {
		if form == headFull {
			fmt.Fprintf(&b, " | NO %s FROM SOURCE", strings.ToUpper(lost))
		} else {
			fmt.Fprintf(&b, " | NO %s", strings.ToUpper(lost))
		}
	}
	if rs := s.snap.Recording; rs != nil && rs.Path != "" {
		switch {
		case rs.Paused:
			b.WriteString(" | rec paused") // livecap ctl pause
		case form == headFull:
			fmt.Fprintf(&b, " | rec %s %s", shortName(rs.Path), diskcheck.Human(uint64(rs.Bytes)))
		case form == headMinimal:
			fmt.Fprintf(&b, " rec %s", diskcheck.Human(uint64(rs.Bytes)))
		default:
			fmt.Fprintf(&b, " | rec %s", diskcheck.Human(uint64(rs.Bytes)))
		}
	}
	if form == headMinimal {
		return b.String()
	}
	if free, full, ok := s.diskInfo(now); ok {
		fmt.Fprintf(&b, " | free %s", diskcheck.Human(free))
		if full > 0 && form <= headMid {
			fmt.Fprintf(&b, " (full in %s)", fmtLong(full))
		}
	}
	return b.String()
}

type destForm int

const (
	destDetailed destForm = iota // every figure of every destination
	destBrief                    // state, bitrate or retry, per destination
	destGrouped                  // names grouped by state
)

// stateRank orders destinations worst first: the one that needs a look
// is the one that must not be cut off.
func stateRank(st publish.State) int {
	switch st {
	case publish.StateGaveUp:
		return 0
	case publish.StateRetrying:
		return 1
	case publish.StateConnecting:
		return 2
	case publish.StateStopped:
		return 3
	}
	return 4
}

func worstFirst(ds []publish.Stats) []publish.Stats {
	out := slices.Clone(ds)
	slices.SortStableFunc(out, func(a, b publish.Stats) int { return stateRank(a.State) - stateRank(b.State) })
	return out
}

// liveCount is "2/3 live".
func liveCount(ds []publish.Stats) string {
	n := 0
	for _, d := range ds {
		if d.State == publish.StateLive {
			n++
		}
	}
	return fmt.Sprintf("%d/%d live", n, len(ds))
}

// destPart renders the destinations (already worst first) in one form;
// cut > 0 shortens each name to that many characters.
func destPart(ds []publish.Stats, form destForm, cut int) string {
	if len(ds) == 0 {
		return ""
	}
	var b strings.Builder
	switch form {
	case destDetailed:
		if len(ds) > 1 {
			b.WriteString(" | " + liveCount(ds))
		}
		for _, ps := range ds {
			qs := ps.Queue
			fmt.Fprintf(&b, " | %s %s", shortDest(ps.Name), stateText(ps))
			if ps.State == publish.StateLive {
				fmt.Fprintf(&b, " %s", fmtRate(float64(ps.Bitrate)))
			}
			fmt.Fprintf(&b, " q %.1fs drop %d rc %d", qs.Duration.Seconds(), qs.DroppedVideo, ps.Reconnects)
			if ps.Link != nil {
				b.WriteString(" " + ps.Link.Short())
			}
		}
	case destBrief:
		b.WriteString(" | " + liveCount(ds) + ":")
		for i, ps := range ds {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(" " + compactName(ps.Name, 0) + " ")
			switch ps.State {
			case publish.StateLive:
				b.WriteString(fmtRate(float64(ps.Bitrate)))
			case publish.StateRetrying:
				fmt.Fprintf(&b, "retry #%d in %ds", attemptNo(ps), retrySecs(ps))
			default:
				b.WriteString(stateWord(ps.State))
			}
		}
	case destGrouped:
		b.WriteString(" | " + liveCount(ds))
		for i, ps := range ds {
			if i == 0 || ps.State != ds[i-1].State {
				fmt.Fprintf(&b, " %s:", stateWord(ps.State))
			}
			b.WriteString(" " + compactName(ps.Name, cut))
		}
	}
	return b.String()
}

func stateWord(st publish.State) string {
	if st == publish.StateGaveUp {
		return "gave up"
	}
	if st == publish.StateRetrying {
		return "retry"
	}
	return string(st)
}

// compactName is shortDest without the URL scheme, cut to cut characters
// (the last one an ellipsis) when cut > 0.
func compactName(name string, cut int) string {
	n := shortDest(name)
	if i := strings.Index(n, "://"); i >= 0 {
		n = n[i+3:]
	}
	if cut > 0 && utf8.RuneCountInString(n) > cut {
		r := []rune(n)
		if cut == 1 {
			return string(r[:1])
		}
		n = string(r[:cut-1]) + "…"
	}
	return n
}

// attemptNo is the number of the connection attempt a retrying
// destination waits for; the first retry is attempt 1.
func attemptNo(ps publish.Stats) int { return max(ps.Attempt, 1) }

// retrySecs rounds the time left before the next attempt up to a second.
func retrySecs(ps publish.Stats) int { return int((ps.RetryIn + time.Second - 1) / time.Second) }

// truncate cuts s to width-1 columns (a character in the last column makes
// some terminals wrap, which would scroll). Unknown width: 80.
func truncate(s string, width int) string {
	if width <= 0 {
		width = 80
	}
	max := width - 1
	if utf8.RuneCountInString(s) <= max {
		return s
	}
	n := 0
	for i := range s {
		if n == max {
			return s[:i]
		}
		n++
	}
	return s
}

func stateText(ps publish.Stats) string {
	if ps.State == publish.StateRetrying {
		return fmt.Sprintf("retry #%d in %ds", attemptNo(ps), retrySecs(ps))
	}
	return stateWord(ps.State)
}

// shortDest drops the redaction marks from a redacted destination name:
// on a status line "rtmp://host/app" says as much as "rtmp://host/app/****".
func shortDest(name string) string {
	if eq, sep := strings.IndexByte(name, '='), strings.Index(name, "://"); eq > 0 && eq < sep {
		return name[:eq] // a named destination (dests.go) shows its name
	}
	name = strings.TrimSuffix(name, "?****")
	return strings.TrimSuffix(name, "/****")
}

// fmtRate formats bits per second.
func fmtRate(bps float64) string {
	if bps >= 1e6 {
		return fmt.Sprintf("%.1f Mb/s", bps/1e6)
	}
	return fmt.Sprintf("%.0f kb/s", bps/1e3)
}

func fmtClock(d time.Duration) string {
	d = d.Truncate(time.Second)
	h := int(d / time.Hour)
	m := int(d/time.Minute) % 60
	sec := int(d/time.Second) % 60
	return fmt.Sprintf("%02d:%02d:%02d", h, m, sec)
}

// fmtLong formats a long estimate coarsely: 34d, 12h30m, 45m, 30s.
func fmtLong(d time.Duration) string {
	switch {
	case d >= 48*time.Hour:
		return fmt.Sprintf("%dd", int(d/(24*time.Hour)))
	case d >= time.Hour:
		return fmt.Sprintf("%dh%02dm", int(d/time.Hour), int(d/time.Minute)%60)
	case d >= time.Minute:
		return fmt.Sprintf("%dm", int(d/time.Minute))
	}
	return fmt.Sprintf("%ds", int(d/time.Second))
}

func shortName(p string) string {
	if i := strings.LastIndexAny(p, `/\`); i >= 0 {
		return p[i+1:]
	}
	return p
}
