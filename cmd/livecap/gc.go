package main

import (
	"os"
	"runtime/debug"
)

// gcPercent is the garbage collector's heap headroom unless the user sets
// GOGC. livecap's live Go heap is small (about 2 MB while encoding 720p:
// one picture of the test source, queued packets, buffers) and the Go
// default (100, with a 4 MB floor) keeps up to twice that resident again;
// 50 halves the floor and the overshoot. Whole job 720p30: peak RSS
// 61.7 -> 60.4 MB for about one more collection a second (~0.5 ms each).
const gcPercent = 50

// tuneGC applies gcPercent; GOGC in the environment wins.
func tuneGC() {
	if _, set := os.LookupEnv("GOGC"); !set {
		debug.SetGCPercent(gcPercent)
	}
}
