// Helpers shared by the cgo preambles of package avcodec. Everything is
// static inline because each preamble is its own translation unit.
#ifndef LIVECAP_LCAV_H
#define LIVECAP_LCAV_H

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <libavcodec/avcodec.h>
#include <libavutil/channel_layout.h>
#include <libavutil/buffer.h>
#include <libavutil/error.h>
#include <libavutil/frame.h>
#include <libavutil/log.h>
#include <libavutil/opt.h>

// libavcodec and libavutil are not linked: lc_load (avload.c) dlopens them
// the first time an encoder is opened, and everything here calls them
// through the pointers it resolves. Debian's libavcodec59 pulls in about 95
// shared libraries (X11, cairo, pango, ICU, OpenCL, every codec library);
// resolving them cost 38 M instructions and ~30 MB of file-backed resident
// pages in every livecap process, also in those that never encode
// (--input, analyze, devices, version). The lists below are every libav
// function livecap uses.
#define LC_AVCODEC_FUNCS(X) \
	X(avcodec_find_encoder_by_name) \
	X(avcodec_alloc_context3) \
	X(avcodec_free_context) \
	X(avcodec_open2) \
	X(avcodec_send_frame) \
	X(avcodec_receive_packet) \
	X(av_packet_alloc) \
	X(av_packet_free) \
	X(av_packet_unref)
#define LC_AVUTIL_FUNCS(X) \
	X(av_frame_alloc) \
	X(av_frame_free) \
	X(av_frame_get_buffer) \
	X(av_frame_make_writable) \
	X(av_frame_unref) \
	X(av_buffer_create) \
	X(av_buffer_get_ref_count) \
	X(av_channel_layout_default) \
	X(av_channel_layout_copy) \
	X(av_log_set_level) \
	X(av_strerror) \
	X(av_opt_set)

#define LC_DECLARE(name) extern __typeof__(&name) lc_##name;
LC_AVCODEC_FUNCS(LC_DECLARE)
LC_AVUTIL_FUNCS(LC_DECLARE)
#undef LC_DECLARE

// lc_load loads both libraries and resolves every function once; it returns
// 0, or -1 with the reason in err.
int lc_load(char *err, size_t n);

// lc_decline_huge_pages turns transparent huge pages off for the process
// (prctl PR_SET_THP_DISABLE); 0 or -1 with errno.
int lc_decline_huge_pages(void);

// cgo cannot call through a function pointer: these are what Go calls.
static inline const AVCodec *lc_find_encoder(const char *name) { return lc_avcodec_find_encoder_by_name(name); }
static inline AVCodecContext *lc_alloc_context(const AVCodec *c) { return lc_avcodec_alloc_context3(c); }
static inline void lc_free_context(AVCodecContext **c) { lc_avcodec_free_context(c); }
static inline int lc_open(AVCodecContext *c, const AVCodec *codec) { return lc_avcodec_open2(c, codec, NULL); }
static inline int lc_send_frame(AVCodecContext *c, const AVFrame *f) { return lc_avcodec_send_frame(c, f); }
static inline int lc_receive_packet(AVCodecContext *c, AVPacket *p) { return lc_avcodec_receive_packet(c, p); }
static inline AVPacket *lc_packet_alloc(void) { return lc_av_packet_alloc(); }
static inline void lc_packet_free(AVPacket **p) { lc_av_packet_free(p); }
static inline void lc_packet_unref(AVPacket *p) { lc_av_packet_unref(p); }
static inline AVFrame *lc_frame_alloc(void) { return lc_av_frame_alloc(); }
static inline void lc_frame_free(AVFrame **f) { lc_av_frame_free(f); }
static inline int lc_frame_get_buffer(AVFrame *f) { return lc_av_frame_get_buffer(f, 0); }
static inline int lc_frame_make_writable(AVFrame *f) { return lc_av_frame_make_writable(f); }
static inline void lc_layout_default(AVChannelLayout *l, int n) { lc_av_channel_layout_default(l, n); }
static inline int lc_layout_copy(AVChannelLayout *dst, const AVChannelLayout *src) { return lc_av_channel_layout_copy(dst, src); }
static inline void lc_log_set_level(int level) { lc_av_log_set_level(level); }

// Function-like macros are invisible to cgo: expose them as constants.
enum {
	LC_EAGAIN = AVERROR(EAGAIN),
	LC_EOF = AVERROR_EOF,
};

static inline void lc_strerror(int err, char *buf, size_t n) {
	if (lc_av_strerror(err, buf, n) < 0)
		snprintf(buf, n, "error %d", err);
}

// lc_set_opt sets an option on the codec context or, failing that, on the
// codec's private context (where libx264's preset/tune/profile live).
static inline int lc_set_opt(AVCodecContext *c, const char *k, const char *v) {
	return lc_av_opt_set(c, k, v, AV_OPT_SEARCH_CHILDREN);
}

static inline uint8_t *lc_plane(AVFrame *f, int i) { return f->data[i]; }

// lc_video_send copies one 4:2:0 picture into the encoder's reusable frame
// (I420 planes row by row, NV12 de-interleaved into U and V) and submits it.
// The source pointers are Go memory that C does not keep beyond this call.
// key != 0 asks for an I picture, which libx264 turns into an IDR because
// the context has forced-idr set.
static inline int lc_video_send(AVCodecContext *c, AVFrame *f, int nv12,
		const uint8_t *p0, int s0, const uint8_t *p1, int s1,
		const uint8_t *p2, int s2, int64_t pts, int key) {
	int ret = lc_av_frame_make_writable(f);
	if (ret < 0)
		return ret;
	int w = c->width, h = c->height, cw = (w + 1) / 2, ch = (h + 1) / 2;
	for (int y = 0; y < h; y++)
		memcpy(f->data[0] + (ptrdiff_t)y * f->linesize[0], p0 + (ptrdiff_t)y * s0, w);
	if (nv12) {
		for (int y = 0; y < ch; y++) {
			const uint8_t *src = p1 + (ptrdiff_t)y * s1;
			uint8_t *u = f->data[1] + (ptrdiff_t)y * f->linesize[1];
			uint8_t *v = f->data[2] + (ptrdiff_t)y * f->linesize[2];
			for (int x = 0; x < cw; x++) {
				u[x] = src[2 * x];
				v[x] = src[2 * x + 1];
			}
		}
	} else {
		for (int y = 0; y < ch; y++) {
			memcpy(f->data[1] + (ptrdiff_t)y * f->linesize[1], p1 + (ptrdiff_t)y * s1, cw);
			memcpy(f->data[2] + (ptrdiff_t)y * f->linesize[2], p2 + (ptrdiff_t)y * s2, cw);
		}
	}
	f->pts = pts;
	f->pict_type = key ? AV_PICTURE_TYPE_I : AV_PICTURE_TYPE_NONE;
	return lc_avcodec_send_frame(c, f);
}

static void lc_nofree(void *opaque, uint8_t *data) {
	(void)opaque;
	(void)data;
}

// lc_video_send_inplace submits one I420 picture without copying it: the
// frame's single buffer wraps the caller's planes (base..base+size, freed by
// nobody), so libx264 reads the picture where the caller drew it and copies
// it into its own frame inside x264_encoder_encode. libavcodec takes a
// reference to the input and drops it once the encoder has consumed it,
// which, with no packet pending (the caller drains after every send), is
// before avcodec_send_frame returns. *held reports a reference that
// survived the call anyway: the caller must then treat the memory as still
// in use.
static inline int lc_video_send_inplace(AVCodecContext *c, AVFrame *f,
		uint8_t *base, int size,
		uint8_t *p0, int s0, uint8_t *p1, int s1, uint8_t *p2, int s2,
		int64_t pts, int key, int *held) {
	*held = 0;
	AVBufferRef *buf = lc_av_buffer_create(base, size, lc_nofree, NULL, AV_BUFFER_FLAG_READONLY);
	if (!buf)
		return AVERROR(ENOMEM);
	f->buf[0] = buf;
	f->format = c->pix_fmt;
	f->width = c->width;
	f->height = c->height;
	f->data[0] = p0;
	f->data[1] = p1;
	f->data[2] = p2;
	f->linesize[0] = s0;
	f->linesize[1] = s1;
	f->linesize[2] = s2;
	f->pts = pts;
	f->pict_type = key ? AV_PICTURE_TYPE_I : AV_PICTURE_TYPE_NONE;
	int ret = lc_avcodec_send_frame(c, f);
	*held = lc_av_buffer_get_ref_count(buf) > 1;
	lc_av_frame_unref(f); // drops our reference; resets f for the next call
	return ret;
}

#endif
