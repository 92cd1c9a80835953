package publish

// Destinations with names: "yt=rtmp://a.rtmp.youtube.com/live2/KEY" names
// the destination "yt" in events, stats and the status line, so that two
// destinations on one host are told apart.

import (
	"fmt"
	"net/url"
	"strings"
)

// MaxNameLen bounds a destination's name.
const MaxNameLen = 32

// SplitName splits "[NAME=]URL". A '=' counts only before the "://" of
// the URL: query strings keep theirs.
func SplitName(raw string) (name, rawURL string) {
	raw = strings.TrimSpace(raw)
	sep := strings.Index(raw, "://")
	if sep <= 0 {
		return "", raw
	}
	if eq := strings.IndexByte(raw[:sep], '='); eq >= 0 {
		return raw[:eq], raw[eq+1:]
	}
	return "", raw
}

// CheckName: 1 to MaxNameLen letters, digits, '-', '_' or '.', not all
// digits (numbers are destination indexes).
func CheckName(name string) error {
	digits := true
	ok := name != "" && len(name) <= MaxNameLen
	for _, c := range name {
		switch {
		case c >= '0' && c <= '9':
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c == '-', c == '_', c == '.':
			digits = false
		default:
			ok = false
		}
	}
	if !ok || digits {
		return fmt.Errorf("invalid destination name %q: must be 1 to %d letters, digits, '-', '_' or '.', not only digits (as in yt=rtmp://...)", name, MaxNameLen)
	}
	return nil
}

// ParseNamed parses "[NAME=]URL" (ParseDestination for the URL).
func ParseNamed(raw string) (*Destination, error) {
	name, u := SplitName(raw)
	if name != "" || strings.HasPrefix(strings.TrimSpace(raw), "=") {
		if err := CheckName(name); err != nil {
			return nil, err
		}
	}
	d, err := ParseDestination(u)
	if err != nil {
		if name != "" {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		return nil, err
	}
	if name != "" {
		d.SetName(name)
	}
	return d, nil
}

// SetName names d (a name or, for destinations that would look the same,
// an index): its redacted form, which events, stats and the status line
// show, becomes NAME=URL.
func (d *Destination) SetName(name string) {
	d.Name = name
	d.redacted = name + "=" + d.redactedForm()
}

// WithKey joins a server URL and a stream key the way OBS's "Server" and
// "Stream Key" fields do: rtmp(s)://host/app + KEY → rtmp(s)://host/app/KEY,
// srt://host:port + KEY → srt://host:port?streamid=KEY. The key is never
// part of an error.
func WithKey(server, key string) (string, error) {
	name, s := SplitName(server)
	key = strings.TrimSpace(key)
	if key == "" {
		return "", fmt.Errorf("the stream key is empty")
	}
	if strings.ContainsAny(key, " \t\r\n") {
		return "", fmt.Errorf("the stream key contains white space")
	}
	u, err := url.Parse(s)
	if err != nil || u.Host == "" {
		return "", fmt.Errorf("invalid --server %q: must be a URL such as rtmp://a.rtmp.youtube.com/live2", Redact(s))
	}
	var out string
	switch strings.ToLower(u.Scheme) {
	case "rtmp", "rtmps":
		if u.RawQuery != "" || strings.Trim(u.Path, "/") == "" {
			return "", fmt.Errorf("invalid --server %q: must be rtmp[s]://host/APP with no key or query (the key comes from --key-file or --key-env)", Redact(s))
		}
		out = strings.TrimRight(s, "/") + "/" + key
	case "srt":
		if u.Query().Has("streamid") {
			return "", fmt.Errorf("invalid --server %q: has a streamid already (the key is the streamid)", Redact(s))
		}
		q := u.Query()
		q.Set("streamid", key)
		u.RawQuery = q.Encode()
		out = u.String()
	default:
		return "", fmt.Errorf("invalid --server %q: must be an rtmp://, rtmps:// or srt:// URL", Redact(s))
	}
	if name != "" {
		out = name + "=" + out
	}
	return out, nil
}
