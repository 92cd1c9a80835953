//go:build darwin

package main

// macOS asks for camera and microphone permission only on behalf of a
// binary whose Info.plist says why (NSCameraUsageDescription,
// NSMicrophoneUsageDescription); without one, TCC kills the process on
// first access. A command-line tool has no bundle, so the plist is
// embedded in the __TEXT,__info_plist section, where the system looks.

/*
#cgo LDFLAGS: -Wl,-sectcreate,__TEXT,__info_plist,${SRCDIR}/Info.plist
*/
import "C"
