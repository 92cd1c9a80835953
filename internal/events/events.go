// Package events names every lifecycle event livecap reports, as it
// appears in the "event" field of the JSON log (docs/events.md is the
// schema). The recorder, the publishers, the hook runner and the session
// report events by these names; package main renders them. Scripts depend
// on the names: never rename one.
package events

// Session.
const (
	Started          = "started"           // the encoder produced its configuration; media flows
	Stopped          = "stopped"           // the last event of every run that started
	Stats            = "stats"             // periodic figures
	DiskLow          = "disk_low"          // free disk under the estimate (at start) or the low-water mark (recording)
	SegmentRecovered = "segment_recovered" // a crash left a segment unfinished
	InputTruncated   = "input_truncated"   // --input ends inside its media data
	FramesSkipped    = "frames_skipped"    // the source fell behind real time and skipped frames
	SourceLost       = "source_lost"       // no video or no audio from the source for a while (watchdog)
	SourceBack       = "source_back"       // media of a lost kind arrives again
)

// Recorder.
const (
	SegmentOpened    = "segment_opened"
	SegmentClosed    = "segment_closed"
	RecordingStopped = "recording_stopped"
	RecordingPaused  = "recording_paused"  // livecap ctl pause: segment closed, the streams go on
	RecordingResumed = "recording_resumed" // livecap ctl resume: the next segment opens on an IDR
	Marker           = "marker"            // livecap ctl marker: a chapter written into the segment
)

// Runtime control (livecap ctl, internal/control).
const (
	ControlListening = "control_listening" // the control socket is ready
	ControlRequest   = "control_request"   // a verb was received and answered
)

// Destinations.
const (
	DestinationConnected = "destination_connected"
	DestinationLost      = "destination_lost"
	Reconnecting         = "reconnecting"
	FramesDropped        = "frames_dropped"
	GaveUp               = "gave_up"
)

// --on-segment hooks.
const (
	HookStarted  = "hook_started"  // a run began
	HookFinished = "hook_finished" // a run exited 0
	HookFailed   = "hook_failed"   // non-zero exit, not startable, killed, or timed out
	HookSkipped  = "hook_skipped"  // never run: the queue was full, or Close gave up
	HooksDone    = "hooks_done"    // at exit: the runs' totals
)
