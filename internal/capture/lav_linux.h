// Helpers shared by the cgo preambles of the Linux capture backend
// (libavdevice: v4l2, pulse, alsa, x11grab). Everything is static inline
// because each preamble is its own translation unit. Only plain C types
// cross into Go: the device handle is opaque there.
#ifndef LIVECAP_LAV_LINUX_H
#define LIVECAP_LAV_LINUX_H

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>
#include <linux/videodev2.h>

#include <libavcodec/avcodec.h>
#include <libavdevice/avdevice.h>
#include <libavformat/avformat.h>
#include <libavutil/channel_layout.h>
#include <libavutil/dict.h>
#include <libavutil/error.h>
#include <libavutil/imgutils.h>
#include <libavutil/log.h>
#include <libavutil/opt.h>
#include <libavutil/pixdesc.h>
#include <libswresample/swresample.h>
#include <libswscale/swscale.h>

// The FFmpeg libraries are not linked: lcd_load (lavload_linux.c) dlopens
// them the first time a device is opened or listed, and everything below
// calls them through the pointers it resolves (as internal/avcodec does:
// Debian's libavdevice59 pulls in over 100 shared libraries, which every
// livecap process would otherwise load, also those that capture nothing).
// The lists are every libav function this package uses.
#define LCD_AVUTIL_FUNCS(X) \
	X(av_channel_layout_default) \
	X(av_dict_free) \
	X(av_dict_parse_string) \
	X(av_frame_alloc) \
	X(av_frame_free) \
	X(av_frame_unref) \
	X(av_get_bytes_per_sample) \
	X(av_get_pix_fmt_name) \
	X(av_image_fill_arrays) \
	X(av_image_get_buffer_size) \
	X(av_log_default_callback) \
	X(av_log_set_callback) \
	X(av_pix_fmt_desc_get) \
	X(av_rescale_q) \
	X(av_strerror)
#define LCD_SWRESAMPLE_FUNCS(X) \
	X(swr_alloc_set_opts2) \
	X(swr_convert) \
	X(swr_free) \
	X(swr_get_delay) \
	X(swr_init)
#define LCD_SWSCALE_FUNCS(X) \
	X(sws_getContext) \
	X(sws_freeContext) \
	X(sws_getCoefficients) \
	X(sws_setColorspaceDetails) \
	X(sws_scale)
#define LCD_AVCODEC_FUNCS(X) \
	X(av_packet_alloc) \
	X(av_packet_free) \
	X(av_packet_unref) \
	X(avcodec_alloc_context3) \
	X(avcodec_find_decoder) \
	X(avcodec_free_context) \
	X(avcodec_get_name) \
	X(avcodec_open2) \
	X(avcodec_parameters_to_context) \
	X(avcodec_receive_frame) \
	X(avcodec_send_packet)
#define LCD_AVFORMAT_FUNCS(X) \
	X(av_find_input_format) \
	X(av_read_frame) \
	X(avformat_alloc_context) \
	X(avformat_close_input) \
	X(avformat_open_input)
#define LCD_AVDEVICE_FUNCS(X) \
	X(avdevice_free_list_devices) \
	X(avdevice_list_input_sources) \
	X(avdevice_register_all)

#define LCD_DECLARE(name) extern __typeof__(&name) lcd_p_##name;
LCD_AVUTIL_FUNCS(LCD_DECLARE)
LCD_SWRESAMPLE_FUNCS(LCD_DECLARE)
LCD_SWSCALE_FUNCS(LCD_DECLARE)
LCD_AVCODEC_FUNCS(LCD_DECLARE)
LCD_AVFORMAT_FUNCS(LCD_DECLARE)
LCD_AVDEVICE_FUNCS(LCD_DECLARE)
#undef LCD_DECLARE

// lcd_load loads the libraries and resolves every function once; it returns
// 0, or -1 with the reason in err.
int lcd_load(char *err, size_t n);

// What Go calls directly (cgo cannot call through a function pointer).
static inline const char *lcd_pix_fmt_name(int f) { return lcd_p_av_get_pix_fmt_name(f); }
static inline const char *lcd_codec_name(int c) { return lcd_p_avcodec_get_name(c); }

enum {
	LCD_EAGAIN = AVERROR(EAGAIN),
	LCD_EOF = AVERROR_EOF,
	LCD_EBUSY = AVERROR(EBUSY),
	LCD_ENODEV = AVERROR(ENODEV),
	LCD_ENOENT = AVERROR(ENOENT),
	LCD_EACCES = AVERROR(EACCES),
	LCD_EINVAL = AVERROR(EINVAL),
	LCD_EIO = AVERROR(EIO),
	LCD_INVALIDDATA = AVERROR_INVALIDDATA,
};

// ---- logging ---------------------------------------------------------------
//
// libavdevice reports why an open failed only through av_log ("Not a video
// capture device.", "ioctl(VIDIOC_STREAMON): Device or resource busy"). The
// capture backend turns that into one line of its own, so messages from
// demuxers, input devices, decoders and converters are kept (per thread:
// the failing call and the read-back run on the same thread, inside one C
// call) instead of printed. Everything else (the encoders) goes to FFmpeg's
// default callback as before.

static __thread char lcd_lastlog[512];

static inline int lcd_quiet_category(void *avcl) {
	if (!avcl)
		return 0;
	const AVClass *cls = *(const AVClass **)avcl;
	if (!cls)
		return 0;
	AVClassCategory cat = cls->get_category ? cls->get_category(avcl) : cls->category;
	switch (cat) {
	case AV_CLASS_CATEGORY_INPUT:
	case AV_CLASS_CATEGORY_DEMUXER:
	case AV_CLASS_CATEGORY_DECODER:
	case AV_CLASS_CATEGORY_SWSCALER:
	case AV_CLASS_CATEGORY_SWRESAMPLER:
	case AV_CLASS_CATEGORY_DEVICE_VIDEO_INPUT:
	case AV_CLASS_CATEGORY_DEVICE_AUDIO_INPUT:
	case AV_CLASS_CATEGORY_DEVICE_INPUT:
		return 1;
	default:
		return 0;
	}
}

static void lcd_log(void *avcl, int level, const char *fmt, va_list vl) {
	if (lcd_quiet_category(avcl)) {
		if (level <= AV_LOG_WARNING) {
			va_list c;
			va_copy(c, vl);
			vsnprintf(lcd_lastlog, sizeof lcd_lastlog, fmt, c);
			va_end(c);
			size_t n = strlen(lcd_lastlog);
			while (n > 0 && (lcd_lastlog[n - 1] == '\n' || lcd_lastlog[n - 1] == '.' || lcd_lastlog[n - 1] == ' '))
				lcd_lastlog[--n] = 0;
		}
		return;
	}
	lcd_p_av_log_default_callback(avcl, level, fmt, vl);
}

static inline void lcd_init(void) {
	lcd_p_avdevice_register_all();
	lcd_p_av_log_set_callback(lcd_log);
}

// lcd_error writes "what: reason" for an AVERROR code, with the last message
// the device logged when there is one, into a malloc'd string.
static inline char *lcd_error(int code) {
	char buf[256], out[900];
	if (lcd_p_av_strerror(code, buf, sizeof buf) < 0)
		snprintf(buf, sizeof buf, "error %d", code);
	if (lcd_lastlog[0] && !strstr(lcd_lastlog, buf))
		snprintf(out, sizeof out, "%s (%s)", buf, lcd_lastlog);
	else if (lcd_lastlog[0])
		snprintf(out, sizeof out, "%s", lcd_lastlog);
	else
		snprintf(out, sizeof out, "%s", buf);
	return strdup(out);
}

// ---- clocks ----------------------------------------------------------------

static inline int64_t lcd_clock_ns(clockid_t id) {
	struct timespec ts;
	clock_gettime(id, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static inline int64_t lcd_mono_ns(void) { return lcd_clock_ns(CLOCK_MONOTONIC); }

// Timestamp kinds, detected on a device's first packet.
enum { LCD_TS_UNKNOWN = 0, LCD_TS_MONO = 1, LCD_TS_REAL = 2 };

// ---- devices ---------------------------------------------------------------

typedef struct lcd_dev {
	AVFormatContext *fc;
	AVPacket *pkt;
	AVFrame *frame;
	AVCodecContext *dec; // MJPEG (or any compressed camera format)
	int video;
	AVRational tb;
	int ts_kind;
	// video conversion
	struct SwsContext *sws;
	int sws_w, sws_h, sws_fmt, sws_range;
	int out_w, out_h;
	// audio conversion
	SwrContext *swr;
	int in_rate, in_ch, in_fmt;
	int out_rate, out_ch;
} lcd_dev;

static inline void lcd_close(lcd_dev *d) {
	if (!d)
		return;
	if (d->sws)
		lcd_p_sws_freeContext(d->sws);
	lcd_p_swr_free(&d->swr);
	lcd_p_avcodec_free_context(&d->dec);
	lcd_p_av_frame_free(&d->frame);
	lcd_p_av_packet_free(&d->pkt);
	if (d->fc)
		lcd_p_avformat_close_input(&d->fc);
	free(d);
}

// lcd_open opens one device: format "v4l2", "pulse", "alsa" or "x11grab";
// opts is "key=value" lines. nonblock makes reads return LCD_EAGAIN instead
// of waiting (v4l2, alsa). On failure it returns NULL with *err set.
static inline lcd_dev *lcd_open(const char *format, const char *url, const char *opts, int nonblock, int *code, char **err) {
	lcd_lastlog[0] = 0;
	*code = AVERROR(EINVAL);
	const AVInputFormat *ifmt = lcd_p_av_find_input_format(format);
	if (!ifmt) {
		*err = strdup("this FFmpeg build has no such capture device type");
		return NULL;
	}
	lcd_dev *d = calloc(1, sizeof *d);
	if (!d) {
		*err = strdup("out of memory");
		return NULL;
	}
	AVDictionary *dict = NULL;
	if (opts && opts[0])
		lcd_p_av_dict_parse_string(&dict, opts, "=", "\n", 0);
	d->fc = lcd_p_avformat_alloc_context();
	if (!d->fc) {
		lcd_p_av_dict_free(&dict);
		free(d);
		*err = strdup("out of memory");
		return NULL;
	}
	if (nonblock)
		d->fc->flags |= AVFMT_FLAG_NONBLOCK;
	int ret = lcd_p_avformat_open_input(&d->fc, url, ifmt, &dict);
	lcd_p_av_dict_free(&dict);
	if (ret < 0) {
		*code = ret;
		*err = lcd_error(ret);
		d->fc = NULL; // freed by avformat_open_input on failure
		free(d);
		return NULL;
	}
	if (d->fc->nb_streams < 1) {
		*err = strdup("the device has no stream");
		lcd_close(d);
		return NULL;
	}
	AVStream *st = d->fc->streams[0];
	d->tb = st->time_base;
	d->video = st->codecpar->codec_type == AVMEDIA_TYPE_VIDEO;
	d->pkt = lcd_p_av_packet_alloc();
	d->frame = lcd_p_av_frame_alloc();
	if (!d->pkt || !d->frame) {
		*err = strdup("out of memory");
		lcd_close(d);
		return NULL;
	}
	return d;
}

// lcd_video_info reports the stream the device delivers.
static inline void lcd_video_info(lcd_dev *d, int *w, int *h, int *pixfmt, int *codec, int *fps_num, int *fps_den) {
	AVStream *st = d->fc->streams[0];
	*w = st->codecpar->width;
	*h = st->codecpar->height;
	*pixfmt = st->codecpar->format;
	*codec = st->codecpar->codec_id;
	*fps_num = st->avg_frame_rate.num;
	*fps_den = st->avg_frame_rate.den;
}

static inline void lcd_audio_info(lcd_dev *d, int *rate, int *channels, int *codec) {
	AVStream *st = d->fc->streams[0];
	*rate = st->codecpar->sample_rate;
	*channels = st->codecpar->ch_layout.nb_channels;
	*codec = st->codecpar->codec_id;
}

// lcd_video_setup prepares the decoder (compressed formats) and the
// conversion into I420 of out_w x out_h (BT.601, video range: what the
// encoders take).
static inline int lcd_video_setup(lcd_dev *d, int out_w, int out_h, char **err) {
	AVCodecParameters *par = d->fc->streams[0]->codecpar;
	d->out_w = out_w;
	d->out_h = out_h;
	if (par->codec_id != AV_CODEC_ID_RAWVIDEO) {
		const AVCodec *c = lcd_p_avcodec_find_decoder(par->codec_id);
		if (!c) {
			*err = strdup("no decoder for the device's compressed format");
			return -1;
		}
		d->dec = lcd_p_avcodec_alloc_context3(c);
		if (!d->dec || lcd_p_avcodec_parameters_to_context(d->dec, par) < 0) {
			*err = strdup("cannot set up the decoder");
			return -1;
		}
		d->dec->thread_count = 1;
		int ret = lcd_p_avcodec_open2(d->dec, c, NULL);
		if (ret < 0) {
			*err = lcd_error(ret);
			return -1;
		}
	}
	return 0;
}

static inline int lcd_is_full_range(int fmt, int range) {
	return range == AVCOL_RANGE_JPEG || fmt == AV_PIX_FMT_YUVJ420P || fmt == AV_PIX_FMT_YUVJ422P ||
	       fmt == AV_PIX_FMT_YUVJ444P || fmt == AV_PIX_FMT_YUVJ440P;
}

static inline int lcd_scale(lcd_dev *d, const uint8_t *const src[4], const int stride[4], int w, int h, int fmt, int range, uint8_t *out) {
	int full = lcd_is_full_range(fmt, range);
	if (!d->sws || d->sws_w != w || d->sws_h != h || d->sws_fmt != fmt || d->sws_range != full) {
		if (d->sws)
			lcd_p_sws_freeContext(d->sws);
		int flags = (w == d->out_w && h == d->out_h) ? SWS_POINT : SWS_BICUBIC;
		d->sws = lcd_p_sws_getContext(w, h, fmt, d->out_w, d->out_h, AV_PIX_FMT_YUV420P, flags, NULL, NULL, NULL);
		if (!d->sws)
			return AVERROR(EINVAL);
		const int *coef = lcd_p_sws_getCoefficients(SWS_CS_ITU601);
		// Full-range input (JPEG, RGB) to video-range output.
		const AVPixFmtDescriptor *desc = lcd_p_av_pix_fmt_desc_get(fmt);
		int src_full = full || (desc && (desc->flags & AV_PIX_FMT_FLAG_RGB));
		lcd_p_sws_setColorspaceDetails(d->sws, coef, src_full, coef, 0, 0, 1 << 16, 1 << 16);
		d->sws_w = w;
		d->sws_h = h;
		d->sws_fmt = fmt;
		d->sws_range = full;
	}
	int ow = d->out_w, oh = d->out_h;
	uint8_t *dst[4] = {out, out + ow * oh, out + ow * oh + (ow / 2) * (oh / 2), NULL};
	int dstride[4] = {ow, ow / 2, ow / 2, 0};
	lcd_p_sws_scale(d->sws, src, stride, 0, h, dst, dstride);
	return 0;
}

// lcd_read_video reads one picture into out (I420, out_w x out_h, planes
// contiguous) and its capture time in the device's clock (ns). Returns 0
// with a picture, LCD_EAGAIN when none is ready (nonblocking devices, or a
// compressed packet that gave no picture), LCD_INVALIDDATA for a picture
// that could not be used (short buffer, corrupt JPEG: the caller counts
// it), another negative code on a device error (*err set).
static inline int lcd_read_video(lcd_dev *d, uint8_t *out, int64_t *pts_ns, char **err) {
	lcd_lastlog[0] = 0;
	int ret = lcd_p_av_read_frame(d->fc, d->pkt);
	if (ret == AVERROR(EAGAIN))
		return ret;
	if (ret == AVERROR_INVALIDDATA)
		return ret;
	if (ret < 0) {
		*err = lcd_error(ret);
		return ret;
	}
	int64_t pts = d->pkt->pts != AV_NOPTS_VALUE ? d->pkt->pts : d->pkt->dts;
	*pts_ns = pts == AV_NOPTS_VALUE ? 0 : lcd_p_av_rescale_q(pts, d->tb, (AVRational){1, 1000000000});
	AVCodecParameters *par = d->fc->streams[0]->codecpar;
	if (!d->dec) {
		const uint8_t *src[4];
		int stride[4];
		int need = lcd_p_av_image_get_buffer_size(par->format, par->width, par->height, 1);
		if (need <= 0 || d->pkt->size < need) {
			lcd_p_av_packet_unref(d->pkt);
			return AVERROR_INVALIDDATA;
		}
		lcd_p_av_image_fill_arrays((uint8_t **)src, stride, d->pkt->data, par->format, par->width, par->height, 1);
		ret = lcd_scale(d, src, stride, par->width, par->height, par->format, par->color_range, out);
		lcd_p_av_packet_unref(d->pkt);
		if (ret < 0) {
			*err = lcd_error(ret);
			return ret;
		}
		return 0;
	}
	ret = lcd_p_avcodec_send_packet(d->dec, d->pkt);
	lcd_p_av_packet_unref(d->pkt);
	if (ret < 0)
		return AVERROR_INVALIDDATA;
	ret = lcd_p_avcodec_receive_frame(d->dec, d->frame);
	if (ret == AVERROR(EAGAIN))
		return AVERROR(EAGAIN);
	if (ret < 0)
		return AVERROR_INVALIDDATA;
	AVFrame *f = d->frame;
	ret = lcd_scale(d, (const uint8_t *const *)f->data, f->linesize, f->width, f->height, f->format, f->color_range, out);
	lcd_p_av_frame_unref(f);
	if (ret < 0) {
		*err = lcd_error(ret);
		return ret;
	}
	return 0;
}

static inline enum AVSampleFormat lcd_pcm_format(int codec) {
	switch (codec) {
	case AV_CODEC_ID_PCM_S16LE:
	case AV_CODEC_ID_PCM_S16BE:
		return AV_SAMPLE_FMT_S16;
	case AV_CODEC_ID_PCM_S32LE:
	case AV_CODEC_ID_PCM_S32BE:
		return AV_SAMPLE_FMT_S32;
	case AV_CODEC_ID_PCM_F32LE:
	case AV_CODEC_ID_PCM_F32BE:
		return AV_SAMPLE_FMT_FLT;
	case AV_CODEC_ID_PCM_U8:
		return AV_SAMPLE_FMT_U8;
	default:
		return AV_SAMPLE_FMT_NONE;
	}
}

// lcd_audio_setup prepares conversion of the device's PCM into interleaved
// float at out_rate/out_ch (a format change, and a rate or channel change
// when the device could not give what was asked).
static inline int lcd_audio_setup(lcd_dev *d, int out_rate, int out_ch, char **err) {
	AVCodecParameters *par = d->fc->streams[0]->codecpar;
	enum AVSampleFormat in = lcd_pcm_format(par->codec_id);
	if (in == AV_SAMPLE_FMT_NONE || par->sample_rate <= 0 || par->ch_layout.nb_channels <= 0) {
		*err = strdup("the device delivers an audio format livecap does not read");
		return -1;
	}
#if AV_HAVE_BIGENDIAN
#else
	if (par->codec_id == AV_CODEC_ID_PCM_S16BE || par->codec_id == AV_CODEC_ID_PCM_S32BE || par->codec_id == AV_CODEC_ID_PCM_F32BE) {
		*err = strdup("the device delivers big-endian PCM");
		return -1;
	}
#endif
	d->in_rate = par->sample_rate;
	d->in_ch = par->ch_layout.nb_channels;
	d->in_fmt = in;
	d->out_rate = out_rate;
	d->out_ch = out_ch;
	AVChannelLayout il, ol;
	lcd_p_av_channel_layout_default(&il, d->in_ch);
	lcd_p_av_channel_layout_default(&ol, out_ch);
	int ret = lcd_p_swr_alloc_set_opts2(&d->swr, &ol, AV_SAMPLE_FMT_FLT, out_rate, &il, in, d->in_rate, 0, NULL);
	if (ret >= 0)
		ret = lcd_p_swr_init(d->swr);
	if (ret < 0) {
		*err = lcd_error(ret);
		return -1;
	}
	return 0;
}

// lcd_read_audio reads one packet and converts it into out (interleaved
// float, at most cap frames). *frames is how many it wrote; *pts_ns the
// device-clock time of the first of them. Returns 0, LCD_EAGAIN, or a
// negative code (*err set).
static inline int lcd_read_audio(lcd_dev *d, float *out, int cap, int *frames, int64_t *pts_ns, char **err) {
	lcd_lastlog[0] = 0;
	*frames = 0;
	int ret = lcd_p_av_read_frame(d->fc, d->pkt);
	if (ret == AVERROR(EAGAIN))
		return ret;
	if (ret < 0) {
		*err = lcd_error(ret);
		return ret;
	}
	int64_t pts = d->pkt->pts != AV_NOPTS_VALUE ? d->pkt->pts : d->pkt->dts;
	int64_t p = pts == AV_NOPTS_VALUE ? 0 : lcd_p_av_rescale_q(pts, d->tb, (AVRational){1, 1000000000});
	// Samples the resampler still holds come out first: they are older.
	int64_t held = lcd_p_swr_get_delay(d->swr, 1000000000);
	*pts_ns = p - held;
	int bps = lcd_p_av_get_bytes_per_sample(d->in_fmt) * d->in_ch;
	int n = d->pkt->size / bps;
	const uint8_t *in[1] = {d->pkt->data};
	uint8_t *o[1] = {(uint8_t *)out};
	ret = lcd_p_swr_convert(d->swr, o, cap, in, n);
	lcd_p_av_packet_unref(d->pkt);
	if (ret < 0) {
		*err = lcd_error(ret);
		return ret;
	}
	*frames = ret;
	return 0;
}

// lcd_list fills names/descriptions of an input device type's sources
// (pulse, alsa), separated by '\n', with the default's index. Returns the
// count or a negative code.
static inline int lcd_list(const char *format, char **names, char **descs, int *def, char **err) {
	lcd_lastlog[0] = 0;
	*names = NULL;
	*descs = NULL;
	*def = -1;
	const AVInputFormat *ifmt = lcd_p_av_find_input_format(format);
	if (!ifmt) {
		*err = strdup("this FFmpeg build has no such capture device type");
		return AVERROR(ENOSYS);
	}
	AVDeviceInfoList *list = NULL;
	int ret = lcd_p_avdevice_list_input_sources(ifmt, NULL, NULL, &list);
	if (ret < 0) {
		*err = lcd_error(ret);
		lcd_p_avdevice_free_list_devices(&list);
		return ret;
	}
	size_t nl = 1, dl = 1;
	for (int i = 0; i < list->nb_devices; i++) {
		nl += strlen(list->devices[i]->device_name ? list->devices[i]->device_name : "") + 1;
		dl += strlen(list->devices[i]->device_description ? list->devices[i]->device_description : "") + 1;
	}
	char *n = calloc(1, nl), *ds = calloc(1, dl);
	for (int i = 0; i < list->nb_devices; i++) {
		const char *dn = list->devices[i]->device_name ? list->devices[i]->device_name : "";
		const char *dd = list->devices[i]->device_description ? list->devices[i]->device_description : "";
		strcat(n, dn);
		strcat(n, "\n");
		// Descriptions may span lines (ALSA hints): keep the first.
		size_t k = strcspn(dd, "\n");
		strncat(ds, dd, k);
		strcat(ds, "\n");
	}
	*names = n;
	*descs = ds;
	*def = list->default_device;
	ret = list->nb_devices;
	lcd_p_avdevice_free_list_devices(&list);
	return ret;
}

// ---- V4L2 enumeration ------------------------------------------------------

typedef struct lcd_v4l2_fmt {
	uint32_t fourcc;
	int compressed;
	int w, h;             // discrete size (0 for stepwise)
	int wmin, wmax, wstep; // stepwise sizes
	int hmin, hmax, hstep;
	int inum, iden;       // discrete frame interval num/den seconds (0: unknown)
	int step_interval;    // 1: stepwise/continuous interval range below
	int imin_num, imin_den, imax_num, imax_den;
} lcd_v4l2_fmt;

static inline int lcd_xioctl(int fd, unsigned long req, void *arg) {
	int r;
	do
		r = ioctl(fd, req, arg);
	while (r < 0 && errno == EINTR);
	return r;
}

// lcd_v4l2_query opens a node and reports its card name, bus and formats.
// Returns 1 for a video capture device, 0 for a node that is not one (then
// *caps holds its capabilities), a negative errno when it cannot be opened
// or queried.
static inline int lcd_v4l2_query(const char *path, char *card, int cardlen, char *bus, int buslen, uint32_t *caps,
		lcd_v4l2_fmt *out, int max, int *n) {
	*n = 0;
	int fd = open(path, O_RDWR | O_NONBLOCK);
	if (fd < 0)
		return -errno;
	struct v4l2_capability cap;
	memset(&cap, 0, sizeof cap);
	if (lcd_xioctl(fd, VIDIOC_QUERYCAP, &cap) < 0) {
		int e = -errno;
		close(fd);
		return e;
	}
	snprintf(card, cardlen, "%s", (const char *)cap.card);
	snprintf(bus, buslen, "%s", (const char *)cap.bus_info);
	uint32_t c = (cap.capabilities & V4L2_CAP_DEVICE_CAPS) ? cap.device_caps : cap.capabilities;
	*caps = c;
	if (!(c & V4L2_CAP_VIDEO_CAPTURE) || !(c & V4L2_CAP_STREAMING)) {
		close(fd);
		return 0;
	}
	struct v4l2_fmtdesc fd_;
	memset(&fd_, 0, sizeof fd_);
	fd_.type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
	for (fd_.index = 0; lcd_xioctl(fd, VIDIOC_ENUM_FMT, &fd_) == 0 && *n < max; fd_.index++) {
		struct v4l2_frmsizeenum fs;
		memset(&fs, 0, sizeof fs);
		fs.pixel_format = fd_.pixelformat;
		int sizes = 0;
		for (fs.index = 0; lcd_xioctl(fd, VIDIOC_ENUM_FRAMESIZES, &fs) == 0 && *n < max; fs.index++) {
			sizes++;
			if (fs.type != V4L2_FRMSIZE_TYPE_DISCRETE) {
				lcd_v4l2_fmt *f = &out[(*n)++];
				memset(f, 0, sizeof *f);
				f->fourcc = fd_.pixelformat;
				f->compressed = !!(fd_.flags & V4L2_FMT_FLAG_COMPRESSED);
				f->wmin = fs.stepwise.min_width;
				f->wmax = fs.stepwise.max_width;
				f->wstep = fs.stepwise.step_width ? fs.stepwise.step_width : 1;
				f->hmin = fs.stepwise.min_height;
				f->hmax = fs.stepwise.max_height;
				f->hstep = fs.stepwise.step_height ? fs.stepwise.step_height : 1;
				break;
			}
			struct v4l2_frmivalenum fi;
			memset(&fi, 0, sizeof fi);
			fi.pixel_format = fd_.pixelformat;
			fi.width = fs.discrete.width;
			fi.height = fs.discrete.height;
			int ivals = 0;
			for (fi.index = 0; lcd_xioctl(fd, VIDIOC_ENUM_FRAMEINTERVALS, &fi) == 0 && *n < max; fi.index++) {
				lcd_v4l2_fmt *f = &out[(*n)++];
				memset(f, 0, sizeof *f);
				f->fourcc = fd_.pixelformat;
				f->compressed = !!(fd_.flags & V4L2_FMT_FLAG_COMPRESSED);
				f->w = fs.discrete.width;
				f->h = fs.discrete.height;
				ivals++;
				if (fi.type == V4L2_FRMIVAL_TYPE_DISCRETE) {
					f->inum = fi.discrete.numerator;
					f->iden = fi.discrete.denominator;
				} else {
					f->step_interval = 1;
					f->imin_num = fi.stepwise.min.numerator;
					f->imin_den = fi.stepwise.min.denominator;
					f->imax_num = fi.stepwise.max.numerator;
					f->imax_den = fi.stepwise.max.denominator;
					break;
				}
			}
			if (!ivals && *n < max) {
				lcd_v4l2_fmt *f = &out[(*n)++];
				memset(f, 0, sizeof *f);
				f->fourcc = fd_.pixelformat;
				f->compressed = !!(fd_.flags & V4L2_FMT_FLAG_COMPRESSED);
				f->w = fs.discrete.width;
				f->h = fs.discrete.height;
			}
		}
		if (!sizes && *n < max) {
			// No size enumeration (some loopback drivers): the current format.
			struct v4l2_format cur;
			memset(&cur, 0, sizeof cur);
			cur.type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
			if (lcd_xioctl(fd, VIDIOC_G_FMT, &cur) == 0 && cur.fmt.pix.pixelformat == fd_.pixelformat) {
				lcd_v4l2_fmt *f = &out[(*n)++];
				memset(f, 0, sizeof *f);
				f->fourcc = fd_.pixelformat;
				f->compressed = !!(fd_.flags & V4L2_FMT_FLAG_COMPRESSED);
				f->w = cur.fmt.pix.width;
				f->h = cur.fmt.pix.height;
				struct v4l2_streamparm parm;
				memset(&parm, 0, sizeof parm);
				parm.type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
				if (lcd_xioctl(fd, VIDIOC_G_PARM, &parm) == 0 && parm.parm.capture.timeperframe.denominator) {
					f->inum = parm.parm.capture.timeperframe.numerator;
					f->iden = parm.parm.capture.timeperframe.denominator;
				}
			}
		}
	}
	close(fd);
	return 1;
}

#endif
