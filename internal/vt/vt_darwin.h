// C side of the VideoToolbox/AudioToolbox encoders. Plain C: the Go
// preamble includes it. Every function returns an OSStatus (0 = noErr).
//
// This header names no Apple type (only void *, uintptr_t and fixed-width
// integers; vt_darwin.c casts). cmd/cgo gives a CF type (C.XRef) the Go
// type uintptr when the SDK declares XGetTypeID and a pointer otherwise, so
// an Apple type here makes the Go side depend on which *GetTypeID the SDK
// happens to declare (CVPixelBufferRef is uintptr, its CVBufferRef base a
// pointer). scripts/darwincheck fails when a cgo-visible header names one.
#ifndef LIVECAP_VT_DARWIN_H
#define LIVECAP_VT_DARWIN_H

#include <stdint.h>
#include <stddef.h>

typedef struct lcvt_video lcvt_video;
typedef struct lcvt_audio lcvt_audio;

// Pixel formats of lcvt_video_encode_planes (media.I420 / media.NV12).
enum { LCVT_I420 = 0, LCVT_NV12 = 1 };

// Properties lcvt_video_open sets; a bit is set in *unsupported for each one
// the encoder rejects with kVTPropertyNotSupportedErr (a warning: the
// session works without it). Order matches vtProperties in vt_darwin.go.
enum {
	LCVT_P_REALTIME = 0,
	LCVT_P_PROFILE,
	LCVT_P_REORDERING,
	LCVT_P_BITRATE,
	LCVT_P_RATE_LIMITS,
	LCVT_P_KEY_DURATION,
	LCVT_P_KEY_FRAMES,
	LCVT_P_FRAME_RATE,
	LCVT_P_SPEED,
	LCVT_P_COUNT
};

// Profiles of lcvt_video_open (encoder.Tuning.Profile).
enum { LCVT_BASELINE = 0, LCVT_MAIN = 1, LCVT_HIGH = 2 };

// profile is an LCVT_BASELINE..LCVT_HIGH; cbr caps every one-second window
// at the average (else 1.5x); speed asks to prioritise speed over quality.
int32_t lcvt_video_open(int32_t width, int32_t height, double fps, int32_t bitrate,
		double key_interval_sec, int32_t realtime, int32_t profile, int32_t cbr, int32_t speed,
		uintptr_t handle, lcvt_video **out, uint32_t *unsupported);
// Encodes a CVPixelBufferRef (a camera frame, passed as void *) as is:
// VideoToolbox retains it for as long as it needs it, so the caller may
// release it on return.
int32_t lcvt_video_encode_pixbuf(lcvt_video *v, void *pixbuf, int64_t pts_ns,
		int64_t dur_ns, int32_t force_key);
// Copies planar I420 or NV12 into a pixel buffer from the session's pool and
// encodes it.
int32_t lcvt_video_encode_planes(lcvt_video *v, int32_t format, int32_t width, int32_t height,
		const uint8_t *p0, int32_t s0, const uint8_t *p1, int32_t s1,
		const uint8_t *p2, int32_t s2, int64_t pts_ns, int64_t dur_ns, int32_t force_key);
// Waits until every submitted frame has reached the output callback.
int32_t lcvt_video_flush(lcvt_video *v);
// CompleteFrames, Invalidate, release. v is freed.
void lcvt_video_close(lcvt_video *v);

int32_t lcvt_audio_open(int32_t sample_rate, int32_t channels, int32_t bitrate,
		uintptr_t handle, lcvt_audio **out);
// Encoder delay in samples (kAudioConverterPrimeInfo leadingFrames).
int32_t lcvt_audio_priming(lcvt_audio *a);
// The converter's magic cookie (an MPEG-4 ES_Descriptor holding the
// AudioSpecificConfig); *out is malloc'ed, free it.
int32_t lcvt_audio_cookie(lcvt_audio *a, uint8_t **out, uint32_t *size);
// Appends interleaved float32 frames and emits every complete AAC packet to
// lcvtAudioPacket.
int32_t lcvt_audio_encode(lcvt_audio *a, const float *samples, int32_t frames);
// Ends the stream: encodes what is buffered and drains the converter.
int32_t lcvt_audio_flush(lcvt_audio *a);
void lcvt_audio_close(lcvt_audio *a);

#endif
