// C side of the darwin capture sources (AVFoundation camera + microphone,
// ScreenCaptureKit screen + system audio). Plain C: the Go preamble
// includes it; the Objective-C lives in avf_darwin.m.
//
// This header names no Apple type (void *, uintptr_t and fixed-width
// integers only; avf_darwin.m casts): cmd/cgo's Go type for a CF type
// depends on which XGetTypeID the SDK declares, so none may reach cgo.
// scripts/darwincheck fails when one does.
#ifndef LIVECAP_AVF_DARWIN_H
#define LIVECAP_AVF_DARWIN_H

#include <stdint.h>

// Item kinds reported through lcItem while listing.
enum { LC_CAMERA = 0, LC_MIC = 1, LC_SCREEN = 2 };

// Authorization, per AVAuthorizationStatus after asking when undetermined.
enum { LC_AUTH_OK = 0, LC_AUTH_DENIED = 1, LC_AUTH_RESTRICTED = 2, LC_AUTH_TIMEOUT = 3 };

// Why a source stopped delivering (lcLost).
enum { LC_LOST_RUNTIME_ERROR = 0, LC_LOST_DISCONNECTED = 1, LC_LOST_STOPPED = 2 };

typedef struct lc_source lc_source;

// Host time (mach_absolute_time on the host time clock) in nanoseconds.
int64_t lc_host_now_ns(void);

// Lists cameras and microphones (lcItem per device).
void lc_list_devices(uintptr_t ctx);
// Lists every frame rate range of every format of one device (lcFormat per
// range, ranges kept apart). Returns 0, or -1 when the unique ID is unknown.
int lc_list_formats(const char *uid, uintptr_t ctx);
// 1 when this process may record the screen (CGPreflightScreenCaptureAccess:
// never prompts), else 0.
int lc_screen_access(void);
// Lists displays (lcItem LC_SCREEN). Asks ScreenCaptureKit, which prompts
// for screen recording permission when it is undetermined: call it only
// when a screen is wanted or lc_screen_access said yes. Returns 0 or an
// error (*err malloc'ed; *denied set when screen recording is not allowed).
int lc_list_screens(uintptr_t ctx, char **err, int *denied);

// Returns LC_AUTH_*; asks the user (and waits, at most timeout_sec) when
// not yet determined.
int lc_authorize(int audio, int timeout_sec);

// Camera and/or microphone on one AVCaptureSession. video_uid or
// audio_uid may be NULL. format_index < 0 keeps the device's format;
// dur_scale > 0 sets activeVideoMin/MaxFrameDuration to dur_value/dur_scale
// seconds (a duration inside a range of that format, chosen in Go).
lc_source *lc_av_open(const char *video_uid, int format_index, int64_t dur_value, int32_t dur_scale,
		const char *audio_uid, int sample_rate, int channels, uintptr_t handle, char **err);
// Screen (display index in SCShareableContent order) and, with audio set,
// system audio (macOS 13+, 48 kHz).
lc_source *lc_sc_open(int display_index, int width, int height, int fps_num, int fps_den,
		int audio, int channels, int timeout_sec, uintptr_t handle, char **err);
// Starts delivery (lcVideo, lcAudio). Returns 0 or an error in *err.
int lc_start(lc_source *s, int timeout_sec, char **err);
// Retains / releases a pixel buffer handed to lcVideo.
void lc_pixbuf_retain(void *pb);
void lc_pixbuf_release(void *pb);

// Stops delivery, waits (at most timeout_sec for ScreenCaptureKit) until no
// callback runs, and frees s. Safe on a source that never started.
void lc_stop(lc_source *s, int timeout_sec);

#endif
