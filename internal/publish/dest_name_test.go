package publish

import (
	"strings"
	"testing"
)

func TestNamedDestinations(t *testing.T) {
	good := map[string]struct{ name, redacted string }{
		"yt=rtmp://a.example.com/live2/SECRETKEY":          {"yt", "yt=rtmp://a.example.com/live2/****"},
		"rtmp://h/app/SECRETKEY?x=y":                       {"", "rtmp://h/app/****"},
		"srt://h:9000?streamid=SECRETID":                   {"", "srt://h:9000?streamid=****"},
		"cam.2=srt://h:9000?streamid=SECRETID&latency=200": {"cam.2", "cam.2=srt://h:9000?streamid=****&latency=200"},
		"  tw-1_x=rtmps://h/app/SECRETKEY  ":               {"tw-1_x", "tw-1_x=rtmps://h/app/****"},
	}
	for in, want := range good {
		d, err := ParseNamed(in)
		if err != nil {
			t.Fatalf("%q: %v", in, err)
		}
		if d.Name != want.name || d.Redacted() != want.redacted {
			t.Errorf("%q: name %q redacted %q, want %q %q", in, d.Name, d.Redacted(), want.name, want.redacted)
		}
	}
	bad := map[string]string{
		"=rtmp://h/app/SECRETKEY":                         `invalid destination name ""`,
		"12=rtmp://h/app/SECRETKEY":                       `invalid destination name "12": must be 1 to 32`,
		"a b=rtmp://h/app/SECRETKEY":                      `invalid destination name "a b"`,
		"yt=ftp://h/app/SECRETKEY":                        `yt: destination ftp://h/****: unknown scheme`,
		strings.Repeat("n", 33) + "=rtmp://h/a/SECRETKEY": "must be 1 to 32",
	}
	for in, want := range bad {
		_, err := ParseNamed(in)
		if err == nil || !strings.Contains(err.Error(), want) || strings.Contains(err.Error(), "SECRET") {
			t.Errorf("%q: %v, want %q and no secret", in, err, want)
		}
	}
}

func TestWithKey(t *testing.T) {
	good := map[[2]string]string{
		{"rtmp://a.example.com/live2", "SECRETKEY\n"}:    "rtmp://a.example.com/live2/SECRETKEY",
		{"yt=rtmps://a.example.com/live2/", "SECRETKEY"}: "yt=rtmps://a.example.com/live2/SECRETKEY",
		{"srt://h:9000?latency=200", "SECRETID"}:         "srt://h:9000?latency=200&streamid=SECRETID",
	}
	for in, want := range good {
		got, err := WithKey(in[0], in[1])
		if err != nil || got != want {
			t.Errorf("%v: %q %v, want %q", in, got, err, want)
		}
		if _, err := ParseNamed(got); err != nil {
			t.Errorf("%q does not parse: %v", got, err)
		}
	}
	bad := map[[2]string]string{
		{"rtmp://h/app", "  "}:                          "the stream key is empty",
		{"rtmp://h/app", "SECRET KEY"}:                  "white space",
		{"rtmp://h", "SECRETKEY"}:                       "must be rtmp[s]://host/APP",
		{"rtmp://h/app?k=SECRETQ", "SECRETKEY"}:         "no key or query",
		{"srt://h:9000?streamid=SECRETID", "SECRETKEY"}: "has a streamid already",
		{"http://h/app", "SECRETKEY"}:                   "must be an rtmp://, rtmps:// or srt:// URL",
	}
	for in, want := range bad {
		_, err := WithKey(in[0], in[1])
		if err == nil || !strings.Contains(err.Error(), want) || strings.Contains(err.Error(), "SECRET") {
			t.Errorf("%v: %v, want %q and no secret", in, err, want)
		}
	}
}
