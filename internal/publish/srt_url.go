package publish

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// srtMaxLinger bounds the linger parameter: a stop waits at most this long
// for an SRT destination's tail.
const srtMaxLinger = 30 * time.Second

// srtQuery is the query of an SRT URL as written. A '#' is part of it, not
// a fragment: the access-control streamid syntax starts with "#!::"
// (streamid=#!::r=live/KEY,m=publish), and a fragment is never sent
// anywhere, so dropping it would silently change the streamid.
func srtQuery(u *url.URL, raw string) (string, error) {
	if !strings.Contains(raw, "#") {
		return u.RawQuery, nil
	}
	i := strings.IndexByte(raw, '?')
	if i < 0 || strings.IndexByte(raw, '#') < i {
		return "", fmt.Errorf("'#' is allowed only inside the query (streamid=#!::r=NAME,m=publish); write it as %%23 elsewhere")
	}
	return raw[i+1:], nil
}

func (d *Destination) parseSRT(u *url.URL, raw string) error {
	if d.Port == 0 {
		return fmt.Errorf("an SRT URL needs a port: srt://host:port")
	}
	if u.Path != "" && u.Path != "/" {
		return fmt.Errorf("an SRT URL has no path (srt://host:port?streamid=...)")
	}
	query, err := srtQuery(u, raw)
	if err != nil {
		return err
	}
	// Parameters in the order given (not url.ParseQuery's map), so that
	// a URL with two mistakes always reports the same first one.
	seen := map[string]bool{}
	for _, kv := range strings.Split(query, "&") {
		if kv == "" {
			continue
		}
		ek, ev, _ := strings.Cut(kv, "=")
		// Path unescaping: a '+' stays a '+' (passphrases and streamids
		// use it), as libsrt's own URL parser keeps it.
		k, err1 := url.PathUnescape(ek)
		v, err2 := url.PathUnescape(ev)
		if err1 != nil || err2 != nil {
			// The value may be a secret: never echoed.
			d.secrets = append(d.secrets, ev)
			return fmt.Errorf("query string is not valid URL escaping")
		}
		if seen[k] {
			return fmt.Errorf("query parameter %q is given twice", k)
		}
		seen[k] = true
		switch k {
		case "streamid":
			d.StreamID = v
			d.secrets = append(d.secrets, v, ev)
			if n := len(v); n > 512 {
				return fmt.Errorf("streamid has %d characters, SRT allows at most 512", n)
			}
		case "passphrase":
			d.Passphrase = v
			d.secrets = append(d.secrets, v, ev)
			if n := len(v); n < 10 || n > 79 {
				return fmt.Errorf("passphrase has %d characters, SRT allows 10 to 79", n)
			}
		case "pbkeylen":
			n, err := strconv.Atoi(v)
			if err != nil || (n != 0 && n != 16 && n != 24 && n != 32) {
				return fmt.Errorf("pbkeylen %q is not one of 0, 16, 24, 32", v)
			}
			d.PBKeyLen = n
		case "latency":
			n, err := strconv.Atoi(v)
			if err != nil || n < 0 || n > 60000 {
				return fmt.Errorf("latency %q is not a number of milliseconds in 0..60000", v)
			}
			d.LatencyMS = n
		case "linger":
			f, err := strconv.ParseFloat(v, 64)
			if err != nil || f < 0 || f > srtMaxLinger.Seconds() {
				return fmt.Errorf("linger %q is not a number of seconds in 0..%d", v, int(srtMaxLinger.Seconds()))
			}
			d.Linger = time.Duration(f * float64(time.Second))
		case "mode":
			if v != "caller" && v != "client" {
				return fmt.Errorf("mode %q is not supported: livecap is always the SRT caller", v)
			}
		default:
			return fmt.Errorf("query parameter %q is not supported (allowed: streamid, passphrase, pbkeylen, latency, linger, mode=caller)", k)
		}
	}
	if d.PBKeyLen != 0 && d.Passphrase == "" {
		return fmt.Errorf("pbkeylen needs a passphrase")
	}
	return nil
}

// srtRedacted is the URL with its public parameters only.
func (d *Destination) srtRedacted(host string) string {
	var q []string
	if d.StreamID != "" {
		q = append(q, "streamid=****")
	}
	if d.Passphrase != "" {
		q = append(q, "passphrase=****")
	}
	if d.PBKeyLen != 0 {
		q = append(q, "pbkeylen="+strconv.Itoa(d.PBKeyLen))
	}
	if d.LatencyMS >= 0 {
		q = append(q, "latency="+strconv.Itoa(d.LatencyMS))
	}
	if d.Linger >= 0 {
		q = append(q, "linger="+strconv.FormatFloat(d.Linger.Seconds(), 'f', -1, 64))
	}
	s := "srt://" + host
	if len(q) > 0 {
		s += "?" + strings.Join(q, "&")
	}
	return s
}
