package publish

import (
	"regexp"
	"strings"
	"sync"
)

// Redact scrubs from arbitrary text anything that looks like a URL, well
// formed or not (rtmp://h/app/KEY, rtmp:/h/app/KEY, rtmp//h/app/KEY,
// rtmp:h/app/KEY, http://..., //h/app/KEY, live.example.com/app/KEY), and
// secret query parameters (key=, token=, streamid=, passphrase=, ...). It
// keeps the scheme, the host and every path element but the last, which
// becomes ****, as does a query and a user:password@: the form users can
// still recognize. For messages whose content we do not control (flags as
// typed, errors from libraries).
func Redact(s string) string {
	if !strings.ContainsAny(s, "/=@?#") {
		// Nothing to mask: every secret sits behind a slash (a path), an
		// '=' (a parameter), an '@' (user info) or a '?'/'#' (a query),
		// and a scheme without them ("rtmp:host") is kept as it is. Most
		// messages ("segment closed") end here, without three regexp
		// scans (about 500,000 instructions).
		return s
	}
	return redactAll(s)
}

// redactAll is Redact without its fast path.
func redactAll(s string) string {
	re := redactRes()
	s = replaceURLs(s, re.scheme, true)
	s = replaceURLs(s, re.bare, false)
	return re.secret.ReplaceAllString(s, "$1=****")
}

type redactREs struct{ scheme, bare, secret *regexp.Regexp }

// Compiled on first use, not at start-up.
var redactRes = sync.OnceValue(func() redactREs {
	const body = `[^\s"'<>]+`
	return redactREs{
		// A scheme: any name followed by ://, or a streaming or web
		// scheme followed by :, :/ or // (the mistakes people make). No \b
		// before it: a URL glued to the text before it is caught as well.
		scheme: regexp.MustCompile(`(?i)(?:[a-z][a-z0-9+.-]*://+|(?:rtmp[ste]?|rtmps|srt|rtsps?|https?|rist|wss?)(?::/*|//+)|//)` + body),
		// No scheme: a host name with a dot (or localhost, or an IP) and a
		// path.
		bare:   regexp.MustCompile(`(?i)(?:localhost|[a-z0-9-]+(?:\.[a-z0-9-]+)+)(?::[0-9]+)?/` + body),
		secret: regexp.MustCompile(`(?i)\b(streamid|passphrase|key|token|secret|password|pass|auth)=[^&\s"'<>]*`),
	}
})

func replaceURLs(s string, re *regexp.Regexp, schemed bool) string {
	idx := re.FindAllStringIndex(s, -1)
	if idx == nil {
		return s
	}
	var b strings.Builder
	last := 0
	for _, m := range idx {
		start, end := m[0], m[1]
		if !schemed && start > 0 && (isWordByte(s[start-1]) || s[start-1] == '/' || s[start-1] == '*' || s[start-1] == '@' || s[start-1] == '.' || s[start-1] == ':') {
			continue // inside a path, a word or an already redacted URL
		}
		// Trailing punctuation is the sentence's, not the URL's.
		for end > start && strings.IndexByte(":;,.)!]", s[end-1]) >= 0 {
			end--
		}
		b.WriteString(s[last:start])
		b.WriteString(redactURL(s[start:end], schemed))
		last = end
	}
	b.WriteString(s[last:])
	return b.String()
}

func isWordByte(c byte) bool {
	return c == '_' || c == '-' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

// redactURL rewrites one URL-like token: prefix (scheme and slashes) and
// host kept, a user:password@ and a query masked, the last path element
// masked.
func redactURL(m string, schemed bool) string {
	prefix, rest := "", m
	if schemed {
		// The prefix ends at the first character after the scheme's
		// colon and slashes.
		i := 0
		for i < len(rest) && rest[i] != ':' && rest[i] != '/' {
			i++
		}
		for i < len(rest) && (rest[i] == ':' || rest[i] == '/') {
			i++
		}
		prefix, rest = rest[:i], rest[i:]
	}
	host, path := rest, ""
	if i := strings.IndexAny(rest, "/?#"); i >= 0 {
		host, path = rest[:i], rest[i:]
	}
	if i := strings.LastIndexByte(host, '@'); i >= 0 {
		host = "****@" + host[i+1:]
	}
	query := ""
	if i := strings.IndexAny(path, "?#"); i >= 0 {
		path, query = path[:i], "?****"
	}
	p := strings.Trim(path, "/")
	switch i := strings.LastIndexByte(p, '/'); {
	case p == "":
		path = ""
	case i < 0:
		path = "/****"
	default:
		path = "/" + p[:i] + "/****"
	}
	if host == "" && path == "" && query == "" {
		return prefix + "****"
	}
	return prefix + host + path + query
}
