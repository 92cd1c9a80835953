package main

// Platform backends register themselves from init; each package builds to
// nothing on the other platform.
import (
	_ "github.com/livecap/livecap/internal/avcodec" // Linux: libx264 + FFmpeg AAC
	_ "github.com/livecap/livecap/internal/vt"      // darwin: VideoToolbox + AudioToolbox
)
