package main

import (
	"regexp"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/livecap/livecap/internal/publish"
	"github.com/livecap/livecap/internal/record"
	"github.com/livecap/livecap/internal/session"
)

// Destinations in mixed states, in the order they were given. The first
// letters differ, so even names cut to one character tell them apart.
var statusDests = []publish.Stats{
	{Name: "yt=rtmp://a.rtmp.youtube.com/live2/****", State: publish.StateLive, Bitrate: 4_512_345},
	{Name: "twitch=rtmp://live.twitch.tv/app/****", State: publish.StateRetrying, RetryIn: 2300 * time.Millisecond, Attempt: 0},
	{Name: "fb=rtmps://live-api-s.facebook.com:443/rtmp/****", State: publish.StateGaveUp, Attempt: 5},
	{Name: "rtmp://ingest.example.com/live/****", State: publish.StateLive, Bitrate: 2_987_654, Reconnects: 2},
	{Name: "kick=rtmps://fa723fc1b171.global-contribute.live-video.net/app/****", State: publish.StateRetrying, RetryIn: 7 * time.Second, Attempt: 3},
}

func statusFixture(t *testing.T, n int) *statusSource {
	started := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	return &statusSource{
		cfg:     session.Config{RecordDir: t.TempDir(), Bitrate: 4_500_000, AudioBitrate: 128_000},
		started: started,
		fps:     29.97, kbps: 4634.567, bytes: 123_456_789,
		snap: session.Snapshot{
			Recording:    &record.Stats{Path: "/rec/livecap-20261201-100000-0001.mp4", Bytes: 98_765_432},
			Destinations: statusDests[:n],
		},
	}
}

// The status line fits every width; from 80 columns every destination is
// on it, worst state first, with the live count; wide terminals get the
// queue figures; no float shows more than one decimal; a retry is
// attempt 1 or more.
func TestStatusLineFits(t *testing.T) {
	now := time.Date(2026, 12, 1, 10, 1, 5, 0, time.UTC)
	longFloat := regexp.MustCompile(`\d\.\d\d`)
	for _, width := range []int{60, 80, 120, 200} {
		for _, n := range []int{1, 3, 5} {
			s := statusFixture(t, n)
			l := s.line(now, width)
			t.Logf("%3d cols, %d dest: %s", width, n, l)
			if w := utf8.RuneCountInString(l); w > width-1 {
				t.Errorf("%d cols, %d dest: %d columns: %q", width, n, w, l)
			}
			if !strings.HasPrefix(l, "00:01:05  30 fps  4.6 Mb/s") && !strings.HasPrefix(l, "00:01:05 30fps 4.6Mb/s") {
				t.Errorf("%d cols, %d dest: head %q", width, n, l)
			}
			if longFloat.MatchString(l) {
				t.Errorf("%d cols, %d dest: unrounded float in %q", width, n, l)
			}
			if strings.Contains(l, "#0") {
				t.Errorf("%d cols, %d dest: attempt 0 in %q", width, n, l)
			}
			if width < 80 {
				continue
			}
			if n > 1 && !strings.Contains(l, liveCount(statusDests[:n])) {
				t.Errorf("%d cols, %d dest: no %q in %q", width, n, liveCount(statusDests[:n]), l)
			}
			// Every destination visible, worst first: its name's first
			// letter after the " | " of the destination part, in order.
			at := strings.Index(l, "rec ")
			for _, d := range worstFirst(statusDests[:n]) {
				name := compactName(d.Name, 1)
				i := strings.Index(l[at:], " "+name)
				if i < 0 {
					t.Errorf("%d cols, %d dest: %s missing or out of order in %q", width, n, name, l)
					break
				}
				at += i + 1
			}
			if width == 200 && n == 1 && !strings.Contains(l, " q 0.0s drop 0 rc 0") {
				t.Errorf("200 cols, %d dest: no details in %q", n, l)
			}
			if width >= 120 && n == 1 && !strings.Contains(l, "(full in ") {
				t.Errorf("%d cols, %d dest: no time to full in %q", width, n, l)
			}
		}
	}
	// The worst state comes first and the first retry is attempt 1.
	l := statusFixture(t, 3).line(now, 200)
	if i, j, k := strings.Index(l, "fb"), strings.Index(l, "twitch"), strings.Index(l, "yt"); !(i < j && j < k) {
		t.Errorf("not worst first: %q", l)
	}
	if !strings.Contains(l, "twitch retry #1 in 3s") {
		t.Errorf("retrying destination: %q", l)
	}
}
