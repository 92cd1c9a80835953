package e2e

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// Field kinds in the event schema (docs/events.md).
const (
	kStr  = "string"
	kNum  = "number"
	kBool = "bool"
	kArr  = "array"
)

// eventSchema lists, for every event type, the fields it always carries
// and their JSON kinds; optional fields are checked when present. Every
// line also carries level, time and message (strings).
var eventSchema = map[string]struct{ required, optional map[string]string }{
	"started": {
		required: map[string]string{"encoder": kStr, "destinations": kArr},
		optional: map[string]string{"width": kNum, "height": kNum, "fps": kNum, "video_bitrate": kNum,
			"sample_rate": kNum, "channels": kNum, "audio_bitrate": kNum, "record_dir": kStr, "format": kStr, "segment_s": kNum},
	},
	"segment_opened":        {required: map[string]string{"path": kStr, "index": kNum}},
	"segment_closed":        {required: map[string]string{"path": kStr, "index": kNum, "duration_s": kNum, "bytes": kNum, "frames": kNum}},
	"segment_recovered":     {required: map[string]string{"path": kStr, "size": kNum, "kept": kNum, "fragments": kNum, "repaired": kBool, "problem": kStr}, optional: map[string]string{"duration_s": kNum}},
	"destination_connected": {required: map[string]string{"destination": kStr}},
	"destination_lost":      {required: map[string]string{"destination": kStr, "error": kStr}},
	"reconnecting": {
		required: map[string]string{"destination": kStr, "attempt": kNum, "delay_s": kNum},
		optional: map[string]string{"error": kStr},
	},
	"frames_dropped": {required: map[string]string{"destination": kStr, "dropped_video": kNum, "dropped_audio": kNum}},
	"gave_up":        {required: map[string]string{"destination": kStr, "error": kStr, "attempts": kNum}},
	"disk_low": {
		required: map[string]string{"free_bytes": kNum},
		optional: map[string]string{"estimate_bytes": kNum, "needed_bytes": kNum, "min_free_bytes": kNum},
	},
	"recording_stopped": {required: map[string]string{"reason": kStr}},
	"stats": {
		required: map[string]string{"elapsed_s": kNum, "fps": kNum, "kbps": kNum, "frames": kNum, "bytes": kNum, "destinations": kArr,
			"source_skipped": kNum, "encoder_skipped": kNum},
		optional: map[string]string{"segment": kStr, "segment_bytes": kNum, "segments": kNum, "free_bytes": kNum, "full_in_s": kNum,
			"encoder_lag_ms": kNum, "encoder_lag_max_ms": kNum},
	},
	"frames_skipped": {required: map[string]string{"skipped": kNum, "source_skipped": kNum, "encoder_skipped": kNum, "frames": kNum}},
	"hook_started":   {required: map[string]string{"path": kStr}},
	"hook_finished":  {required: map[string]string{"path": kStr, "exit_code": kNum, "duration_s": kNum}},
	"hook_failed": {
		required: map[string]string{"path": kStr, "exit_code": kNum, "duration_s": kNum},
		optional: map[string]string{"error": kStr, "stderr_tail": kStr, "killed": kBool},
	},
	"hook_skipped": {required: map[string]string{"path": kStr, "error": kStr}},
	"hooks_done":   {required: map[string]string{"succeeded": kNum, "failed": kNum, "killed": kNum, "skipped": kNum}},
	"source_lost": {
		required: map[string]string{"kind": kStr, "gap_s": kNum, "give_up_s": kNum},
		optional: map[string]string{"reason": kStr},
	},
	"source_back": {required: map[string]string{"kind": kStr, "gap_s": kNum}},
	// Runtime control (ctl.go, e2e/control_test.go).
	"control_listening": {required: map[string]string{"path": kStr}},
	"control_request": {
		required: map[string]string{"verb": kStr, "ok": kBool, "reply_ms": kNum},
		optional: map[string]string{"error": kStr},
	},
	"marker":            {required: map[string]string{"name": kStr, "path": kStr, "index": kNum, "file_time_s": kNum}},
	"recording_paused":  {optional: map[string]string{"path": kStr}},
	"recording_resumed": {},
	"stopped": {
		required: map[string]string{"reason": kStr, "exit_code": kNum},
		optional: map[string]string{"elapsed_s": kNum, "error": kStr, "frames": kNum, "source_skipped": kNum, "log_lines_dropped": kNum},
	},
}

// statsDestination is the schema of one element of stats.destinations.
var statsDestination = map[string]string{"name": kStr, "state": kStr, "bitrate": kNum, "bytes_sent": kNum,
	"queue_s": kNum, "queue_bytes": kNum, "dropped_video": kNum, "dropped_audio": kNum, "reconnects": kNum}

func kindOf(v any) string {
	switch v.(type) {
	case string:
		return kStr
	case float64:
		return kNum
	case bool:
		return kBool
	case []any:
		return kArr
	case map[string]any:
		return "object"
	}
	return "null"
}

func checkFields(t *testing.T, what string, ev map[string]any, required, optional map[string]string) {
	t.Helper()
	for f, k := range required {
		v, ok := ev[f]
		if !ok {
			t.Errorf("%s: no field %q", what, f)
		} else if kindOf(v) != k {
			t.Errorf("%s: field %q is %s %v, want %s", what, f, kindOf(v), v, k)
		}
	}
	for f, k := range optional {
		if v, ok := ev[f]; ok && kindOf(v) != k {
			t.Errorf("%s: field %q is %s %v, want %s", what, f, kindOf(v), v, k)
		}
	}
}

// parseEvents parses every stderr line as one JSON object, checks it
// against the schema and returns the events in order.
func parseEvents(t *testing.T, stderr string) []map[string]any {
	t.Helper()
	var evs []map[string]any
	for _, line := range strings.Split(strings.TrimRight(stderr, "\n"), "\n") {
		if line == "" {
			continue
		}
		var ev map[string]any
		if err := json.Unmarshal([]byte(line), &ev); err != nil {
			t.Errorf("not one JSON object per line: %v: %q", err, line)
			continue
		}
		checkFields(t, line, ev, map[string]string{"level": kStr, "time": kStr, "message": kStr}, nil)
		if ts, _ := ev["time"].(string); ts != "" {
			if _, err := time.Parse(time.RFC3339Nano, ts); err != nil {
				t.Errorf("time %q is not RFC 3339: %v", ts, err)
			}
		}
		name, ok := ev["event"].(string)
		if !ok {
			// Plain log lines (no "event") are allowed but not part of
			// the schema; they are worth knowing about.
			t.Logf("log line without an event: %s", line)
			continue
		}
		s, ok := eventSchema[name]
		if !ok {
			t.Errorf("event %q is not in the schema: %s", name, line)
			continue
		}
		checkFields(t, name, ev, s.required, s.optional)
		if name == "stats" {
			for _, d := range ev["destinations"].([]any) {
				o, ok := d.(map[string]any)
				if !ok {
					t.Errorf("stats destination is not an object: %v", d)
					continue
				}
				checkFields(t, "stats destination", o, statsDestination, map[string]string{"retry_in_s": kNum})
			}
		}
		evs = append(evs, ev)
	}
	return evs
}

func ofType(evs []map[string]any, name string) []map[string]any {
	var out []map[string]any
	for _, e := range evs {
		if e["event"] == name {
			out = append(out, e)
		}
	}
	return out
}

// eventRun is a livecap process whose stderr is read line by line as it comes.
