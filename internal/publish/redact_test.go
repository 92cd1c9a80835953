package publish

import (
	"strings"
	"testing"
)

func TestRedactMalformed(t *testing.T) {
	cases := map[string]string{
		"rtmp://h/app/SECRETKEY":                          "rtmp://h/app/****",
		"rtmp:/h/app/SECRETKEY":                           "rtmp:/h/app/****",
		"rtmp//h/app/SECRETKEY":                           "rtmp//h/app/****",
		"rtmp:h/app/SECRETKEY":                            "rtmp:h/app/****",
		"RTMPS://h:443/a/b/SECRETKEY?x=1":                 "RTMPS://h:443/a/b/****?****",
		"http://h/app/SECRETKEY":                          "http://h/app/****",
		"https://u:SECRETPW@h/x":                          "https://****@h/****",
		"//h/app/SECRETKEY":                               "//h/app/****",
		"live.example.com/app/SECRETKEY":                  "live.example.com/app/****",
		"127.0.0.1:1935/live/SECRETKEY":                   "127.0.0.1:1935/live/****",
		"localhost/SECRETKEY":                             "localhost/****",
		"srt://h:9000?streamid=SECRETID":                  "srt://h:9000?****",
		"srt:/h:9000?streamid=#!::r=SECRET":               "srt:/h:9000?****",
		"rtmp://h/SECRETKEY.":                             "rtmp://h/****.",
		"xrtmp://h/app/SECRETKEY":                         "xrtmp://h/app/****",
		`invalid --rtmp "rtmp:/h/app/SECRETKEY": must be`: `invalid --rtmp "rtmp:/h/app/****": must be`,
		"key=SECRETKEY&token=SECRETTOK":                   "key=****&token=****",
	}
	for in, want := range cases {
		if got := Redact(in); got != want {
			t.Errorf("Redact(%q) = %q, want %q", in, got, want)
		}
	}
	// What is not a URL stays as it is: file paths and prose.
	for _, s := range []string{"/tmp/rec/seg-0001.mp4", "dial tcp 127.0.0.1:1935: connect: connection refused", "and/or", "rec/a.b.mp4", "srt: connection timed out"} {
		if got := Redact(s); got != s {
			t.Errorf("Redact(%q) = %q, want it unchanged", s, got)
		}
	}
}

// FuzzRedact embeds a stream key in every form of URL people type (right,
// one slash, no colon, no scheme, another scheme) inside arbitrary text:
// the key never comes out.
func FuzzRedact(f *testing.F) {
	f.Add(uint8(0), "before ", "h", "app", "SecretKey42", " after")
	f.Add(uint8(1), "", "live.example.com", "a/b", "k3y_X-9", "")
	f.Add(uint8(5), "x", "127.0.0.1:1935", "live", "abcdEFGH", ".")
	f.Fuzz(func(t *testing.T, form uint8, prefix, host, app, key, suffix string) {
		defer watchdog()()
		key = keyChars(key)
		if len(key) < 4 {
			return
		}
		host = hostChars(host)
		forms := []string{"rtmp://", "rtmp:/", "rtmp//", "rtmp:", "http://", "", "//", "srt://", "rtmps://", "RTMP:/"}
		f := forms[int(form)%len(forms)]
		if f == "" && !strings.Contains(host, ".") {
			host += ".example.com"
		}
		for _, s := range []string{prefix, suffix, host, app, f} {
			if strings.Contains(s, key) {
				return // the key is also public text
			}
		}
		// Text around the URL is separated from it, as in a message.
		u := f + host + "/" + app + "/" + key
		if app == "" {
			u = f + host + "/" + key
		}
		if strings.ContainsAny(app, " \t\n\r\v\f\"'<>") {
			return // those end the URL in free text; not a URL people type
		}
		msg := prefix + " " + u + " " + suffix
		if got := Redact(msg); strings.Contains(got, key) {
			t.Fatalf("key %q leaks from %q: %q", key, msg, got)
		}
	})
}

func keyChars(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-' {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// Redact's fast path (no '/', '=', '@', '?' nor '#': returned as it is)
// agrees with the full scan on every message of that kind, including the
// schemes the full scan matches without a slash.
func TestRedactFastPathAgrees(t *testing.T) {
	for _, s := range []string{"segment closed", "rtmp:host", "rtmps:SECRETKEY", "RTMP:h:1935 refused", "srt: connection timed out",
		"free space at C:\\rec is 4.2 MB", "dial tcp 127.0.0.1:1935: connect: connection refused", `"rtmp:x" 'y' <z>`, ""} {
		if got := redactAll(s); got != s {
			t.Errorf("the full scan changes %q into %q: the fast path would not", s, got)
		}
		if got := Redact(s); got != s {
			t.Errorf("Redact(%q) = %q", s, got)
		}
	}
}

func BenchmarkRedactPlainMessage(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		_ = Redact("segment closed")
	}
}
