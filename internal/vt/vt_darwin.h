// C side of the VideoToolbox/AudioToolbox encoders. Plain C: the Go
// preamble includes it. Every function returns an OSStatus (0 = noErr).
#ifndef LIVECAP_VT_DARWIN_H
#define LIVECAP_VT_DARWIN_H

#include <stdint.h>
#include <stddef.h>
#include <CoreVideo/CoreVideo.h>

typedef struct lcvt_video lcvt_video;
typedef struct lcvt_audio lcvt_audio;

// Pixel formats of lcvt_video_encode_planes (media.I420 / media.NV12).
enum { LCVT_I420 = 0, LCVT_NV12 = 1 };

int32_t lcvt_video_open(int32_t width, int32_t height, int32_t fps, int32_t bitrate,
		double key_interval_sec, int32_t realtime, uintptr_t handle, lcvt_video **out);
// Encodes a CVPixelBuffer (a camera frame) as is: VideoToolbox retains it
// for as long as it needs it, so the caller may release it on return.
int32_t lcvt_video_encode_pixbuf(lcvt_video *v, CVPixelBufferRef pb, int64_t pts_ns,
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
