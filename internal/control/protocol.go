// Package control is the runtime control endpoint of a running session: a
// Unix socket, owner-only, that speaks JSON lines. Each request line gets
// exactly one reply line; "subscribe" then streams the session's events,
// one JSON object per line, until the client hangs up.
//
//	→ {"verb":"marker","name":"Q&A"}
//	← {"ok":true,"verb":"marker","result":{"name":"Q&A","media_time_s":61.2}}
//	→ {"verb":"reconnect","dest":"nope"}
//	← {"ok":false,"verb":"reconnect","error":"no destination \"nope\": have yt, twitch, 2"}
//
// The session implements Handler; `livecap ctl` is the client.
package control

import (
	"encoding/json"
	"fmt"
	"strings"
)

// Verbs a client may send.
const (
	VerbSplit     = "split"
	VerbMarker    = "marker"
	VerbReconnect = "reconnect"
	VerbPause     = "pause"
	VerbResume    = "resume"
	VerbStatus    = "status"
	VerbSubscribe = "subscribe"
)

// Verbs lists every verb in the order help texts show them.
var Verbs = []string{VerbSplit, VerbMarker, VerbReconnect, VerbPause, VerbResume, VerbStatus, VerbSubscribe}

// MaxMarkerName bounds a marker's name in bytes (a chapter title: the MP4
// chpl entry stores its length in one byte).
const MaxMarkerName = 100

// maxLine bounds one request line; longer lines are refused and the
// connection closed.
const maxLine = 4096

// Request is one line from a client.
type Request struct {
	Verb string `json:"verb"`
	Name string `json:"name,omitempty"` // marker
	Dest string `json:"dest,omitempty"` // reconnect: a destination name or index; empty = all
}

// Result is a verb's answer: JSON-encodable values only.
type Result map[string]any

// Reply is one line to a client.
type Reply struct {
	OK     bool   `json:"ok"`
	Verb   string `json:"verb,omitempty"`
	Error  string `json:"error,omitempty"`
	Result Result `json:"result,omitempty"`
}

// Handler is what a session exposes to the endpoint. Every method must
// return promptly (it runs on the client's connection goroutine): record
// the request and let the media goroutines act on it.
type Handler interface {
	// Split starts a new recording segment on a forced IDR.
	Split() (Result, error)
	// Marker writes a chapter named name at the current media time into
	// the recording and emits a marker event.
	Marker(name string) (Result, error)
	// Reconnect cuts the backoff of one destination (by name or index),
	// or of every destination when dest is empty, short.
	Reconnect(dest string) (Result, error)
	// Pause stops writing the recording; the streams go on.
	Pause() (Result, error)
	// Resume starts a new segment on an IDR.
	Resume() (Result, error)
	// Status is a snapshot of the session.
	Status() (Result, error)
}

// Check validates a request: a one-line error naming the value and what is
// allowed.
func (r *Request) Check() error {
	switch r.Verb {
	case VerbMarker:
		if strings.TrimSpace(r.Name) == "" {
			return fmt.Errorf("invalid marker name %q: must not be empty", r.Name)
		}
		return CheckMarkerName(r.Name)
	case VerbSplit, VerbReconnect, VerbPause, VerbResume, VerbStatus, VerbSubscribe:
		return nil
	case "":
		return fmt.Errorf("invalid request: no verb; must be one of %s", strings.Join(Verbs, ", "))
	}
	return fmt.Errorf("invalid verb %q: must be one of %s", r.Verb, strings.Join(Verbs, ", "))
}

// CheckMarkerName: at most MaxMarkerName bytes of printable text.
func CheckMarkerName(name string) error {
	if len(name) > MaxMarkerName {
		return fmt.Errorf("invalid marker name %q: must be at most %d bytes", name[:20]+"...", MaxMarkerName)
	}
	for _, c := range name {
		if c < 0x20 || c == 0x7f {
			return fmt.Errorf("invalid marker name %q: must not contain control characters", name)
		}
	}
	return nil
}

// ParseRequest decodes one line.
func ParseRequest(line []byte) (Request, error) {
	var r Request
	dec := json.NewDecoder(strings.NewReader(string(line)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&r); err != nil {
		return r, fmt.Errorf("invalid request %.60q: must be one JSON object such as {\"verb\":\"split\"}", line)
	}
	return r, r.Check()
}
