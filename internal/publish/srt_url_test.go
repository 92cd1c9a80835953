package publish

import (
	"strings"
	"testing"
	"time"
)

func TestParseSRTURL(t *testing.T) {
	for _, tc := range []struct {
		in, streamID, redacted string
		linger                 time.Duration
	}{
		// The access-control syntax: '#' is part of the streamid, never a
		// URL fragment.
		{"srt://h:9000?streamid=#!::r=live/SeCrEtKEY,m=publish", "#!::r=live/SeCrEtKEY,m=publish", "srt://h:9000?streamid=****", -1},
		{"srt://h:9000?streamid=%23!::r=live/SeCrEtKEY,m=publish&latency=200", "#!::r=live/SeCrEtKEY,m=publish", "srt://h:9000?streamid=****&latency=200", -1},
		{"srt://h:9000?latency=200&streamid=#!::u=SeCrEtuser,r=res", "#!::u=SeCrEtuser,r=res", "srt://h:9000?streamid=****&latency=200", -1},
		// '+' is kept: libsrt's own URL parser does not turn it into a space.
		{"srt://h:9000?streamid=SeCrEt+id&linger=2.5", "SeCrEt+id", "srt://h:9000?streamid=****&linger=2.5", 2500 * time.Millisecond},
		{"srt://h:9000?linger=0", "", "srt://h:9000?linger=0", 0},
	} {
		d, err := ParseDestination(tc.in)
		if err != nil {
			t.Fatalf("%s: %v", tc.in, err)
		}
		if d.StreamID != tc.streamID || d.Redacted() != tc.redacted || d.Linger != tc.linger {
			t.Errorf("%s: streamid %q redacted %q linger %v; want %q %q %v", tc.in, d.StreamID, d.Redacted(), d.Linger, tc.streamID, tc.redacted, tc.linger)
		}
		if msg := d.scrub("libsrt said: " + tc.in); strings.Contains(msg, "SeCrEt") {
			t.Errorf("scrub leaves a secret: %s", msg)
		}
		if msg := Redact("connect " + tc.in + " failed"); strings.Contains(msg, "SeCrEt") {
			t.Errorf("Redact leaves a secret: %s", msg)
		}
	}
	for in, want := range map[string]string{
		"srt://h:9000#!::r=SeCrEt":                          "'#' is allowed only inside the query",
		"rtmp://h/app/SeCrEt#frag":                          "never sent to the server",
		"rtmps://h/app/SeCrEt?t=1#x":                        "never sent to the server",
		"srt://h:9000/live?streamid=SeCrEt":                 "no path",
		"srt://h:9000?linger=31":                            "linger",
		"srt://h:9000?linger=-1":                            "linger",
		"srt://h:9000?streamid=SeCrEt%zz":                   "not valid URL escaping",
		"srt://h:9000?streamid=a&streamid=b":                "given twice",
		"srt://h:9000?sndbuf=SeCrEt":                        "not supported",
		"srt://h:9000?mode=listener":                        "always the SRT caller",
		"srt://h:9000?streamid=" + strings.Repeat("x", 513): "at most 512",
	} {
		_, err := ParseDestination(in)
		if err == nil {
			t.Errorf("%s: no error", in)
			continue
		}
		if msg := err.Error(); !strings.Contains(msg, want) || strings.Contains(msg, "SeCrEt") || strings.Contains(msg, "\n") {
			t.Errorf("%s: error %q; want one line saying %q, no secret", in, msg, want)
		}
	}
}
