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
#include <libavutil/error.h>
#include <libavutil/frame.h>
#include <libavutil/log.h>
#include <libavutil/opt.h>

// Function-like macros are invisible to cgo: expose them as constants.
enum {
	LC_EAGAIN = AVERROR(EAGAIN),
	LC_EOF = AVERROR_EOF,
};

static inline void lc_strerror(int err, char *buf, size_t n) {
	if (av_strerror(err, buf, n) < 0)
		snprintf(buf, n, "error %d", err);
}

// lc_set_opt sets an option on the codec context or, failing that, on the
// codec's private context (where libx264's preset/tune/profile live).
static inline int lc_set_opt(AVCodecContext *c, const char *k, const char *v) {
	return av_opt_set(c, k, v, AV_OPT_SEARCH_CHILDREN);
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
	int ret = av_frame_make_writable(f);
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
	return avcodec_send_frame(c, f);
}

#endif
