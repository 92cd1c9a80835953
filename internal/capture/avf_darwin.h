// C side of the darwin capture sources (AVFoundation camera + microphone,
// ScreenCaptureKit screen + system audio). Plain C: the Go preamble
// includes it; the Objective-C lives in avf_darwin.m.
#ifndef LIVECAP_AVF_DARWIN_H
#define LIVECAP_AVF_DARWIN_H

#include <stdint.h>

// Item kinds reported through lcItem while listing.
enum { LC_CAMERA = 0, LC_MIC = 1, LC_SCREEN = 2, LC_FORMAT = 3 };

// Authorization, per AVAuthorizationStatus after asking when undetermined.
enum { LC_AUTH_OK = 0, LC_AUTH_DENIED = 1, LC_AUTH_RESTRICTED = 2 };

typedef struct lc_source lc_source;

// Host time (mach_absolute_time on the host time clock) in nanoseconds.
int64_t lc_host_now_ns(void);

// Lists cameras and microphones (lcItem per device).
void lc_list_devices(uintptr_t ctx);
// Lists the formats of one device (lcItem LC_FORMAT: index, width, height,
// min and max frame rate). Returns 0, or -1 when the unique ID is unknown.
int lc_list_formats(const char *uid, uintptr_t ctx);
// Lists displays (lcItem LC_SCREEN). Waits for ScreenCaptureKit; returns 0
// or an error (*err malloc'ed; *denied set when screen recording is not
// allowed).
int lc_list_screens(uintptr_t ctx, char **err, int *denied);

// Returns LC_AUTH_*; asks the user (and waits) when not yet determined.
int lc_authorize(int audio);

// Camera and/or microphone on one AVCaptureSession. video_uid or
// audio_uid may be NULL. format_index < 0 keeps the device's format.
lc_source *lc_av_open(const char *video_uid, int format_index, int fps,
		const char *audio_uid, int sample_rate, int channels, uintptr_t handle, char **err);
// Screen (display index in SCShareableContent order) and, with audio set,
// system audio (macOS 13+).
lc_source *lc_sc_open(int display_index, int width, int height, int fps,
		int audio, int sample_rate, int channels, uintptr_t handle, char **err);
// Starts delivery (lcVideo, lcAudio). Returns 0 or an error in *err.
int lc_start(lc_source *s, char **err);
// Releases a pixel buffer handed to lcVideo.
void lc_pixbuf_release(void *pb);

// Stops delivery, waits until no callback runs, and frees s.
void lc_stop(lc_source *s);

#endif
