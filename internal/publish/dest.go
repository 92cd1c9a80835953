package publish

import (
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Destination is one parsed and validated --rtmp or --srt URL. Its secrets
// (the RTMP stream key and query, the SRT streamid and passphrase) are kept
// apart so that nothing but the connection code ever sees them.
type Destination struct {
	// Name is the user's name for it ("yt" in --rtmp yt=rtmp://...), ""
	// when unnamed; events, stats and the status line show it.
	Name string

	Scheme string   // "rtmp", "rtmps" or "srt"
	URL    *url.URL // the URL as given; never log it, use Redacted

	// Host and Port to dial (Port defaulted: 1935 rtmp, 443 rtmps).
	Host string
	Port int

	// RTMP: App is the application (every path element but the last, so
	// "live" or "app/instance"); Key is the publish name: the last path
	// element plus the query string, if any. TCURL is rtmp[s]://host[:port]/app.
	App, Key, TCURL string

	// SRT options from the query string (empty or 0 when not given).
	StreamID   string
	Passphrase string
	PBKeyLen   int           // 0, 16, 24 or 32
	LatencyMS  int           // -1 when not given
	Linger     time.Duration // -1 when not given

	appPath    string // App as escaped in the URL: what Redacted shows
	oneSegment bool   // rtmp://host/name: App is the name, Key empty
	redacted   string
	secrets    []string
}

// ParseDestination validates a destination URL. Errors are one line that
// names what is wrong, with every secret redacted.
func ParseDestination(raw string) (*Destination, error) {
	raw = strings.TrimSpace(raw)
	u, err := url.Parse(raw)
	if err != nil || u.Scheme == "" || u.Host == "" {
		// Not echoed: an unparsable string may be mostly secret.
		return nil, fmt.Errorf("destination is not a URL (want rtmp://host/app/key, rtmps://host/app/key or srt://host:port?streamid=...)")
	}
	d := &Destination{Scheme: strings.ToLower(u.Scheme), URL: u, Host: u.Hostname(), LatencyMS: -1, Linger: -1}
	if d.Host == "" {
		return nil, fmt.Errorf("destination %s://?: missing host", u.Scheme)
	}
	if ps := u.Port(); ps != "" {
		p, err := strconv.Atoi(ps)
		if err != nil || p <= 0 || p > 65535 {
			return nil, fmt.Errorf("destination %s://%s: port %q is not a number in 1..65535", u.Scheme, u.Hostname(), ps)
		}
		d.Port = p
	}
	switch d.Scheme {
	case "rtmp", "rtmps":
		err = d.parseRTMP(u)
		if err == nil && strings.Contains(raw, "#") {
			// A fragment is never sent to the server: dropping it would
			// silently publish under another key.
			err = fmt.Errorf("'#' starts a URL fragment, which is never sent to the server; write it as %%23 if it is part of the stream key")
		}
	case "srt":
		err = d.parseSRT(u, raw)
	default:
		return nil, fmt.Errorf("destination %s://%s/****: unknown scheme %q (allowed: rtmp, rtmps, srt)", u.Scheme, u.Host, u.Scheme)
	}
	if err != nil {
		return nil, fmt.Errorf("destination %s: %w", d.redactedForm(), err)
	}
	d.redacted = d.redactedForm()
	return d, nil
}

func (d *Destination) hostPort() string {
	return net.JoinHostPort(d.Host, strconv.Itoa(d.Port))
}

func (d *Destination) parseRTMP(u *url.URL) error {
	if d.Port == 0 {
		d.Port = 1935
		if d.Scheme == "rtmps" {
			d.Port = 443
		}
	}
	path := strings.Trim(u.EscapedPath(), "/")
	i := strings.LastIndexByte(path, '/')
	if path == "" || i == len(path)-1 || (i < 0 && strings.HasSuffix(u.EscapedPath(), "/")) {
		return fmt.Errorf("an RTMP URL needs an application and a stream key (%s://host/app/key) or a stream name (%s://host/name)", d.Scheme, d.Scheme)
	}
	app, key := path, ""
	if i > 0 {
		app, key = path[:i], path[i+1:]
	} else {
		// One segment (rtmp://host/mystream, what MediaMTX serves): it is
		// the application and the publish name is empty, as FFmpeg sends
		// it. It may well be a stream key typed without its application,
		// so it is treated as a secret all the same.
		d.oneSegment = true
		d.secrets = append(d.secrets, app)
		if un, err := url.PathUnescape(app); err == nil {
			d.secrets = append(d.secrets, un)
		}
	}
	d.appPath = app
	var err error
	if d.App, err = url.PathUnescape(app); err != nil {
		return fmt.Errorf("application path is not valid URL escaping")
	}
	if d.Key, err = url.PathUnescape(key); err != nil {
		return fmt.Errorf("stream key is not valid URL escaping")
	}
	if u.RawQuery != "" {
		d.Key += "?" + u.RawQuery
	}
	if key != "" {
		d.secrets = append(d.secrets, d.Key, key)
	} else if d.Key != "" {
		d.secrets = append(d.secrets, d.Key)
	}
	if u.RawQuery != "" {
		d.secrets = append(d.secrets, u.RawQuery)
	}
	host := d.Host
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	if u.Port() != "" {
		host += ":" + u.Port()
	}
	d.TCURL = d.Scheme + "://" + host + "/" + app
	return nil
}

// redactedForm rebuilds the URL from its public parts only.
func (d *Destination) redactedForm() string {
	host := d.Host
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	if d.URL.Port() != "" {
		host += ":" + d.URL.Port()
	}
	switch d.Scheme {
	case "srt":
		return d.srtRedacted(host)
	default:
		// The application as escaped in the URL: unescaped, it could hold
		// a line break or a '?', and the redacted form must stay one line
		// and parse as the same URL.
		if d.appPath == "" || d.oneSegment {
			return d.Scheme + "://" + host + "/****"
		}
		return d.Scheme + "://" + host + "/" + d.appPath + "/****"
	}
}

// Redacted is the URL with the stream key, query, streamid and passphrase
// replaced by ****: the only form of a destination that may be logged.
func (d *Destination) Redacted() string { return d.redacted }

// String is Redacted, so that a Destination printed by mistake leaks nothing.
func (d *Destination) String() string { return d.redacted }

// scrub removes this destination's secrets from text that came from a
// library or a server (an error, an onStatus description).
func (d *Destination) scrub(s string) string {
	s = Redact(s)
	for _, sec := range d.secrets {
		if len(sec) >= 3 {
			s = strings.ReplaceAll(s, sec, "****")
		}
	}
	return s
}
