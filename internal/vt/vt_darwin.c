// VideoToolbox H.264 and AudioToolbox AAC-LC encoding. Thin: configure the
// session, submit frames, hand bytes and timestamps to Go (lcvtVideoPacket,
// lcvtAudioPacket in vt_darwin.go). Every CF object created or copied here
// is released here; objects obtained through Get functions are not owned.
#include <stdlib.h>
#include <string.h>
#include <CoreFoundation/CoreFoundation.h>
#include <CoreMedia/CoreMedia.h>
#include <CoreVideo/CoreVideo.h>
#include <VideoToolbox/VideoToolbox.h>
#include <AudioToolbox/AudioToolbox.h>
#include "vt_darwin.h"
#include "_cgo_export.h"

struct lcvt_video {
	VTCompressionSessionRef session;
	uintptr_t handle;
	int32_t width, height;
	CFDictionaryRef force_key; // {ForceKeyFrame: true}, built once
};

static CMTime ns_time(int64_t ns) { return CMTimeMake(ns, 1000000000); }

static int64_t time_ns(CMTime t) {
	if (!(t.flags & kCMTimeFlags_Valid)) {
		return INT64_MIN;
	}
	return CMTimeConvertScale(t, 1000000000, kCMTimeRoundingMethod_RoundHalfAwayFromZero).value;
}

// The output callback runs on a VideoToolbox thread. It copies nothing
// itself: Go copies the bytes while the sample buffer is alive, then returns.
static void video_output(void *refcon, void *frame_refcon, OSStatus status,
		VTEncodeInfoFlags flags, CMSampleBufferRef sb) {
	(void)frame_refcon;
	lcvt_video *v = refcon;
	if (status != noErr) {
		lcvtVideoPacket(v->handle, status, NULL, 0, 0, 0, 0, NULL, 0, NULL, 0);
		return;
	}
	if (flags & kVTEncodeInfo_FrameDropped) {
		lcvtVideoDropped(v->handle); // counted and reported, never silent
		return;
	}
	if (sb == NULL) {
		return;
	}
	CMBlockBufferRef bb = CMSampleBufferGetDataBuffer(sb);
	if (bb == NULL) {
		return;
	}
	size_t total = CMBlockBufferGetDataLength(bb);
	size_t at_offset = 0;
	char *ptr = NULL;
	char *owned = NULL;
	OSStatus st = CMBlockBufferGetDataPointer(bb, 0, &at_offset, &total, &ptr);
	if (st != kCMBlockBufferNoErr || at_offset < total) {
		// Not contiguous: gather it.
		owned = malloc(total);
		if (owned == NULL) {
			lcvtVideoPacket(v->handle, -108 /* memFullErr */, NULL, 0, 0, 0, 0, NULL, 0, NULL, 0);
			return;
		}
		st = CMBlockBufferCopyDataBytes(bb, 0, total, owned);
		if (st != kCMBlockBufferNoErr) {
			free(owned);
			lcvtVideoPacket(v->handle, st, NULL, 0, 0, 0, 0, NULL, 0, NULL, 0);
			return;
		}
		ptr = owned;
	}
	int32_t key = 1;
	CFArrayRef att = CMSampleBufferGetSampleAttachmentsArray(sb, false);
	if (att != NULL && CFArrayGetCount(att) > 0) {
		CFDictionaryRef d = CFArrayGetValueAtIndex(att, 0);
		CFBooleanRef not_sync = NULL;
		if (CFDictionaryGetValueIfPresent(d, kCMSampleAttachmentKey_NotSync, (const void **)&not_sync) &&
				not_sync != NULL && CFBooleanGetValue(not_sync)) {
			key = 0;
		}
	}
	const uint8_t *sps = NULL, *pps = NULL;
	size_t sps_len = 0, pps_len = 0;
	if (key) {
		CMFormatDescriptionRef fd = CMSampleBufferGetFormatDescription(sb);
		if (fd != NULL) {
			size_t count = 0;
			int nal_header_len = 0;
			if (CMVideoFormatDescriptionGetH264ParameterSetAtIndex(fd, 0, &sps, &sps_len, &count, &nal_header_len) != noErr) {
				sps = NULL, sps_len = 0;
			}
			if (count < 2 || CMVideoFormatDescriptionGetH264ParameterSetAtIndex(fd, 1, &pps, &pps_len, NULL, NULL) != noErr) {
				pps = NULL, pps_len = 0;
			}
			// The sample data is length-prefixed with nal_header_len bytes;
			// VideoToolbox uses 4, which is what media.Packet promises.
			if (nal_header_len != 0 && nal_header_len != 4) {
				free(owned);
				lcvtVideoPacket(v->handle, -12902 /* kVTParameterErr */, NULL, 0, 0, 0, 0, NULL, 0, NULL, 0);
				return;
			}
		}
	}
	int64_t pts = time_ns(CMSampleBufferGetPresentationTimeStamp(sb));
	int64_t dts = time_ns(CMSampleBufferGetDecodeTimeStamp(sb));
	if (dts == INT64_MIN) {
		dts = pts; // no reordering: decode order is presentation order
	}
	lcvtVideoPacket(v->handle, 0, (uint8_t *)ptr, total, pts, dts, key,
			(uint8_t *)sps, sps_len, (uint8_t *)pps, pps_len);
	free(owned);
}

static OSStatus set_i32(VTCompressionSessionRef s, CFStringRef key, int32_t val) {
	CFNumberRef n = CFNumberCreate(kCFAllocatorDefault, kCFNumberSInt32Type, &val);
	OSStatus st = VTSessionSetProperty(s, key, n);
	CFRelease(n);
	return st;
}

static OSStatus set_f64(VTCompressionSessionRef s, CFStringRef key, double val) {
	CFNumberRef n = CFNumberCreate(kCFAllocatorDefault, kCFNumberFloat64Type, &val);
	OSStatus st = VTSessionSetProperty(s, key, n);
	CFRelease(n);
	return st;
}

// prop turns kVTPropertyNotSupportedErr into a warning bit: an encoder
// (software, or an older Mac's hardware) that does not know a property
// still encodes; any other error fails the open.
static OSStatus prop(uint32_t *unsupported, int bit, OSStatus st) {
	if (st == kVTPropertyNotSupportedErr) {
		*unsupported |= 1u << bit;
		return noErr;
	}
	return st;
}

int32_t lcvt_video_open(int32_t width, int32_t height, double fps, int32_t bitrate,
		double key_interval_sec, int32_t realtime, int32_t profile, int32_t cbr, int32_t speed,
		uintptr_t handle, lcvt_video **out, uint32_t *unsupported) {
	*out = NULL;
	*unsupported = 0;
	lcvt_video *v = calloc(1, sizeof *v);
	if (v == NULL) {
		return -108;
	}
	v->handle = handle;
	v->width = width;
	v->height = height;

	// Enable, not require, the hardware encoder: a Mac without one (or
	// with it busy) falls back to the software encoder.
	const void *spec_k[] = {kVTVideoEncoderSpecification_EnableHardwareAcceleratedVideoEncoder};
	const void *spec_v[] = {kCFBooleanTrue};
	CFDictionaryRef spec = CFDictionaryCreate(kCFAllocatorDefault, spec_k, spec_v, 1,
			&kCFTypeDictionaryKeyCallBacks, &kCFTypeDictionaryValueCallBacks);

	// Pool buffers for the copied (test source) frames: NV12, video range,
	// IOSurface-backed so the hardware encoder reads them without a copy.
	int32_t pix = kCVPixelFormatType_420YpCbCr8BiPlanarVideoRange;
	CFNumberRef n_pix = CFNumberCreate(kCFAllocatorDefault, kCFNumberSInt32Type, &pix);
	CFNumberRef n_w = CFNumberCreate(kCFAllocatorDefault, kCFNumberSInt32Type, &width);
	CFNumberRef n_h = CFNumberCreate(kCFAllocatorDefault, kCFNumberSInt32Type, &height);
	CFDictionaryRef iosurface = CFDictionaryCreate(kCFAllocatorDefault, NULL, NULL, 0,
			&kCFTypeDictionaryKeyCallBacks, &kCFTypeDictionaryValueCallBacks);
	const void *attr_k[] = {kCVPixelBufferPixelFormatTypeKey, kCVPixelBufferWidthKey,
			kCVPixelBufferHeightKey, kCVPixelBufferIOSurfacePropertiesKey};
	const void *attr_v[] = {n_pix, n_w, n_h, iosurface};
	CFDictionaryRef attrs = CFDictionaryCreate(kCFAllocatorDefault, attr_k, attr_v, 4,
			&kCFTypeDictionaryKeyCallBacks, &kCFTypeDictionaryValueCallBacks);
	CFRelease(n_pix);
	CFRelease(n_w);
	CFRelease(n_h);
	CFRelease(iosurface);

	OSStatus st = VTCompressionSessionCreate(kCFAllocatorDefault, width, height,
			kCMVideoCodecType_H264, spec, attrs, kCFAllocatorDefault, video_output, v, &v->session);
	CFRelease(spec);
	CFRelease(attrs);
	if (st != noErr) {
		free(v);
		return st;
	}
	VTCompressionSessionRef s = v->session;
	uint32_t *u = unsupported;
	// Real time when the session is live (capture, or the test source in
	// real time): VideoToolbox then favours latency and may drop frames,
	// which are counted. Fast runs (--input --fast, fast test source) let
	// it take the time it needs instead.
	if ((st = prop(u, LCVT_P_REALTIME, VTSessionSetProperty(s, kVTCompressionPropertyKey_RealTime,
			realtime ? kCFBooleanTrue : kCFBooleanFalse))) != noErr) goto fail;
	CFStringRef level = kVTProfileLevel_H264_High_AutoLevel;
	if (profile == LCVT_BASELINE) level = kVTProfileLevel_H264_Baseline_AutoLevel;
	if (profile == LCVT_MAIN) level = kVTProfileLevel_H264_Main_AutoLevel;
	if ((st = prop(u, LCVT_P_PROFILE, VTSessionSetProperty(s, kVTCompressionPropertyKey_ProfileLevel,
			level))) != noErr) goto fail;
	if ((st = prop(u, LCVT_P_REORDERING, VTSessionSetProperty(s, kVTCompressionPropertyKey_AllowFrameReordering,
			kCFBooleanFalse))) != noErr) goto fail;
	if ((st = prop(u, LCVT_P_BITRATE, set_i32(s, kVTCompressionPropertyKey_AverageBitRate, bitrate))) != noErr) goto fail;
	{
		// Cap any one-second window at 1.5x the average, in bytes: ingest
		// servers and players budget for peaks, not only the average. With
		// cbr, at the average itself (kVTCompressionPropertyKey_ConstantBitRate
		// needs macOS 13 and is not in every SDK livecap builds with).
		double bytes = (double)bitrate * (cbr ? 1.0 : 1.5) / 8.0, secs = 1.0;
		CFNumberRef nb = CFNumberCreate(kCFAllocatorDefault, kCFNumberFloat64Type, &bytes);
		CFNumberRef ns = CFNumberCreate(kCFAllocatorDefault, kCFNumberFloat64Type, &secs);
		const void *lim[] = {nb, ns};
		CFArrayRef limits = CFArrayCreate(kCFAllocatorDefault, lim, 2, &kCFTypeArrayCallBacks);
		st = prop(u, LCVT_P_RATE_LIMITS, VTSessionSetProperty(s, kVTCompressionPropertyKey_DataRateLimits, limits));
		CFRelease(limits);
		CFRelease(nb);
		CFRelease(ns);
		if (st != noErr) goto fail;
	}
	if (key_interval_sec > 0) {
		if ((st = prop(u, LCVT_P_KEY_DURATION, set_f64(s, kVTCompressionPropertyKey_MaxKeyFrameIntervalDuration,
				key_interval_sec))) != noErr) goto fail;
		int32_t frames = (int32_t)(key_interval_sec * fps + 0.5);
		if (frames < 1) frames = 1;
		if ((st = prop(u, LCVT_P_KEY_FRAMES, set_i32(s, kVTCompressionPropertyKey_MaxKeyFrameInterval, frames))) != noErr) goto fail;
	}
	if ((st = prop(u, LCVT_P_FRAME_RATE, set_f64(s, kVTCompressionPropertyKey_ExpectedFrameRate, fps))) != noErr) goto fail;
	// --preset: VideoToolbox has no presets; the faster half of x264's
	// names asks it to favour speed (macOS 11+).
	if ((st = prop(u, LCVT_P_SPEED, VTSessionSetProperty(s, kVTCompressionPropertyKey_PrioritizeEncodingSpeedOverQuality,
			speed ? kCFBooleanTrue : kCFBooleanFalse))) != noErr) goto fail;
	if ((st = VTCompressionSessionPrepareToEncodeFrames(s)) != noErr) goto fail;

	const void *fk_k[] = {kVTEncodeFrameOptionKey_ForceKeyFrame};
	const void *fk_v[] = {kCFBooleanTrue};
	v->force_key = CFDictionaryCreate(kCFAllocatorDefault, fk_k, fk_v, 1,
			&kCFTypeDictionaryKeyCallBacks, &kCFTypeDictionaryValueCallBacks);
	*out = v;
	return noErr;
fail:
	VTCompressionSessionInvalidate(s);
	CFRelease(s);
	free(v);
	return st;
}

static int32_t encode_pb(lcvt_video *v, CVPixelBufferRef pb, int64_t pts_ns,
		int64_t dur_ns, int32_t force_key) {
	VTEncodeInfoFlags info = 0;
	// A frame dropped here is reported to the output callback too
	// (kVTEncodeInfo_FrameDropped), where it is counted once.
	return VTCompressionSessionEncodeFrame(v->session, pb, ns_time(pts_ns), ns_time(dur_ns),
			force_key ? v->force_key : NULL, NULL, &info);
}

int32_t lcvt_video_encode_pixbuf(lcvt_video *v, void *pixbuf, int64_t pts_ns,
		int64_t dur_ns, int32_t force_key) {
	return encode_pb(v, (CVPixelBufferRef)pixbuf, pts_ns, dur_ns, force_key);
}

static void copy_plane(uint8_t *dst, size_t dst_stride, const uint8_t *src, int32_t src_stride,
		size_t row_bytes, int32_t rows) {
	for (int32_t y = 0; y < rows; y++) {
		memcpy(dst + (size_t)y * dst_stride, src + (size_t)y * src_stride, row_bytes);
	}
}

int32_t lcvt_video_encode_planes(lcvt_video *v, int32_t format, int32_t width, int32_t height,
		const uint8_t *p0, int32_t s0, const uint8_t *p1, int32_t s1,
		const uint8_t *p2, int32_t s2, int64_t pts_ns, int64_t dur_ns, int32_t force_key) {
	if (width != v->width || height != v->height) {
		return -12902; // kVTParameterErr: the session has one size
	}
	CVPixelBufferRef pb = NULL;
	CVPixelBufferPoolRef pool = VTCompressionSessionGetPixelBufferPool(v->session);
	CVReturn cr;
	if (pool != NULL) {
		cr = CVPixelBufferPoolCreatePixelBuffer(kCFAllocatorDefault, pool, &pb);
	} else {
		cr = CVPixelBufferCreate(kCFAllocatorDefault, width, height,
				kCVPixelFormatType_420YpCbCr8BiPlanarVideoRange, NULL, &pb);
	}
	if (cr != kCVReturnSuccess) {
		return cr;
	}
	if ((cr = CVPixelBufferLockBaseAddress(pb, 0)) != kCVReturnSuccess) {
		CVPixelBufferRelease(pb);
		return cr;
	}
	uint8_t *y = CVPixelBufferGetBaseAddressOfPlane(pb, 0);
	size_t ys = CVPixelBufferGetBytesPerRowOfPlane(pb, 0);
	uint8_t *uv = CVPixelBufferGetBaseAddressOfPlane(pb, 1);
	size_t uvs = CVPixelBufferGetBytesPerRowOfPlane(pb, 1);
	int32_t cw = (width + 1) / 2, ch = (height + 1) / 2;
	copy_plane(y, ys, p0, s0, (size_t)width, height);
	if (format == LCVT_NV12) {
		copy_plane(uv, uvs, p1, s1, (size_t)cw * 2, ch);
	} else {
		for (int32_t r = 0; r < ch; r++) {
			uint8_t *d = uv + (size_t)r * uvs;
			const uint8_t *u = p1 + (size_t)r * s1, *w = p2 + (size_t)r * s2;
			for (int32_t c = 0; c < cw; c++) {
				d[2 * c] = u[c];
				d[2 * c + 1] = w[c];
			}
		}
	}
	CVPixelBufferUnlockBaseAddress(pb, 0);
	int32_t st = encode_pb(v, pb, pts_ns, dur_ns, force_key);
	CVPixelBufferRelease(pb); // the session holds its own reference
	return st;
}

int32_t lcvt_video_flush(lcvt_video *v) {
	return VTCompressionSessionCompleteFrames(v->session, kCMTimeInvalid);
}

void lcvt_video_close(lcvt_video *v) {
	if (v == NULL) {
		return;
	}
	// Order matters: drain (callbacks may still run), stop the session so
	// that no callback can run after this returns, then release.
	VTCompressionSessionCompleteFrames(v->session, kCMTimeInvalid);
	VTCompressionSessionInvalidate(v->session);
	CFRelease(v->session);
	if (v->force_key != NULL) {
		CFRelease(v->force_key);
	}
	free(v);
}

// ---- AAC-LC through AudioConverter ----

struct lcvt_audio {
	AudioConverterRef conv;
	uintptr_t handle;
	int32_t channels;
	UInt32 max_packet;
	uint8_t *out;
	// Interleaved float32 input FIFO, filled by lcvt_audio_encode.
	float *fifo;
	size_t fifo_frames, fifo_cap;
	// What the input proc hands the converter: a copy owned by the proc.
	// The converter may read it until the proc is called again (even
	// across AudioConverterFillComplexBuffer calls), and the FIFO moves
	// and grows between calls, so the converter never sees the FIFO.
	float *proc_buf;
	int flushing, eos_sent;
};

enum { LCVT_FRAME = 1024, LCVT_NO_DATA_YET = 0x6e646174 /* 'ndat' */ };

static OSStatus audio_input(AudioConverterRef conv, UInt32 *io_packets, AudioBufferList *io_data,
		AudioStreamPacketDescription **out_desc, void *user) {
	(void)conv;
	if (out_desc != NULL) {
		*out_desc = NULL; // PCM in: no packet descriptions
	}
	lcvt_audio *a = user;
	io_data->mNumberBuffers = 1;
	io_data->mBuffers[0].mNumberChannels = (UInt32)a->channels;
	size_t n = a->fifo_frames;
	if (n > LCVT_FRAME) {
		n = LCVT_FRAME;
	}
	if (*io_packets < n) {
		n = *io_packets; // never more than the converter asked for
	}
	if (n < LCVT_FRAME && n < *io_packets && !a->flushing) {
		*io_packets = 0;
		io_data->mBuffers[0].mData = NULL;
		io_data->mBuffers[0].mDataByteSize = 0;
		return LCVT_NO_DATA_YET; // more input later: not the end of stream
	}
	if (n == 0) {
		// End of stream: zero packets with noErr makes the converter emit
		// what it holds.
		*io_packets = 0;
		io_data->mBuffers[0].mData = NULL;
		io_data->mBuffers[0].mDataByteSize = 0;
		a->eos_sent = 1;
		return noErr;
	}
	size_t bytes = n * (size_t)a->channels * sizeof(float);
	memcpy(a->proc_buf, a->fifo, bytes);
	a->fifo_frames -= n;
	memmove(a->fifo, a->fifo + n * a->channels, a->fifo_frames * a->channels * sizeof(float));
	*io_packets = (UInt32)n;
	io_data->mBuffers[0].mData = a->proc_buf;
	io_data->mBuffers[0].mDataByteSize = (UInt32)bytes;
	return noErr;
}

int32_t lcvt_audio_open(int32_t sample_rate, int32_t channels, int32_t bitrate,
		uintptr_t handle, lcvt_audio **out) {
	*out = NULL;
	AudioStreamBasicDescription in = {0}, outf = {0};
	in.mSampleRate = sample_rate;
	in.mFormatID = kAudioFormatLinearPCM;
	in.mFormatFlags = kAudioFormatFlagIsFloat | kAudioFormatFlagIsPacked;
	in.mBitsPerChannel = 32;
	in.mChannelsPerFrame = (UInt32)channels;
	in.mBytesPerFrame = 4 * (UInt32)channels;
	in.mFramesPerPacket = 1;
	in.mBytesPerPacket = in.mBytesPerFrame;
	outf.mSampleRate = sample_rate;
	outf.mFormatID = kAudioFormatMPEG4AAC;
	outf.mFormatFlags = kMPEG4Object_AAC_LC;
	outf.mChannelsPerFrame = (UInt32)channels;
	outf.mFramesPerPacket = LCVT_FRAME;

	lcvt_audio *a = calloc(1, sizeof *a);
	if (a == NULL) {
		return -108;
	}
	a->handle = handle;
	a->channels = channels;
	OSStatus st = AudioConverterNew(&in, &outf, &a->conv);
	if (st != noErr) {
		free(a);
		return st;
	}
	UInt32 br = (UInt32)bitrate;
	if ((st = AudioConverterSetProperty(a->conv, kAudioConverterEncodeBitRate, sizeof br, &br)) != noErr) {
		goto fail;
	}
	UInt32 size = sizeof a->max_packet;
	if (AudioConverterGetProperty(a->conv, kAudioConverterPropertyMaximumOutputPacketSize, &size, &a->max_packet) != noErr ||
			a->max_packet == 0) {
		a->max_packet = 6144 / 8 * (UInt32)channels; // the AAC bound per channel
	}
	a->out = malloc(a->max_packet);
	a->fifo_cap = 4 * LCVT_FRAME;
	a->fifo = malloc(a->fifo_cap * channels * sizeof(float));
	a->proc_buf = malloc((size_t)LCVT_FRAME * channels * sizeof(float));
	if (a->out == NULL || a->fifo == NULL || a->proc_buf == NULL) {
		st = -108;
		goto fail;
	}
	*out = a;
	return noErr;
fail:
	AudioConverterDispose(a->conv);
	free(a->out);
	free(a->fifo);
	free(a->proc_buf);
	free(a);
	return st;
}

int32_t lcvt_audio_priming(lcvt_audio *a) {
	AudioConverterPrimeInfo pi = {0};
	UInt32 size = sizeof pi;
	if (AudioConverterGetProperty(a->conv, kAudioConverterPrimeInfo, &size, &pi) != noErr) {
		return -1;
	}
	return (int32_t)pi.leadingFrames;
}

int32_t lcvt_audio_cookie(lcvt_audio *a, uint8_t **out, uint32_t *size) {
	*out = NULL;
	*size = 0;
	UInt32 sz = 0;
	Boolean writable = false;
	OSStatus st = AudioConverterGetPropertyInfo(a->conv, kAudioConverterCompressionMagicCookie, &sz, &writable);
	if (st != noErr) {
		return st;
	}
	uint8_t *buf = malloc(sz);
	if (buf == NULL) {
		return -108;
	}
	if ((st = AudioConverterGetProperty(a->conv, kAudioConverterCompressionMagicCookie, &sz, buf)) != noErr) {
		free(buf);
		return st;
	}
	*out = buf;
	*size = sz;
	return noErr;
}

// drain emits packets until the converter wants more input than it has.
static int32_t drain(lcvt_audio *a) {
	for (;;) {
		AudioBufferList abl;
		abl.mNumberBuffers = 1;
		abl.mBuffers[0].mNumberChannels = (UInt32)a->channels;
		abl.mBuffers[0].mDataByteSize = a->max_packet;
		abl.mBuffers[0].mData = a->out;
		AudioStreamPacketDescription desc = {0};
		UInt32 packets = 1;
		OSStatus st = AudioConverterFillComplexBuffer(a->conv, audio_input, a, &packets, &abl, &desc);
		if (st != noErr && st != LCVT_NO_DATA_YET) {
			return st;
		}
		if (packets == 0) {
			return noErr;
		}
		// The packet starts mStartOffset bytes into the output buffer.
		UInt32 n = abl.mBuffers[0].mDataByteSize;
		SInt64 off = 0;
		if (desc.mDataByteSize != 0) {
			n = desc.mDataByteSize;
			off = desc.mStartOffset;
		}
		if (off < 0 || (UInt64)off + n > a->max_packet) {
			return -50; // kAudio_ParamError: a packet outside the buffer
		}
		lcvtAudioPacket(a->handle, a->out + off, n);
		if (st == LCVT_NO_DATA_YET) {
			return noErr;
		}
	}
}

int32_t lcvt_audio_encode(lcvt_audio *a, const float *samples, int32_t frames) {
	size_t need = a->fifo_frames + (size_t)frames;
	if (need > a->fifo_cap) {
		size_t cap = a->fifo_cap;
		while (cap < need) cap *= 2;
		float *f = realloc(a->fifo, cap * a->channels * sizeof(float));
		if (f == NULL) {
			return -108;
		}
		a->fifo = f;
		a->fifo_cap = cap;
	}
	memcpy(a->fifo + a->fifo_frames * a->channels, samples, (size_t)frames * a->channels * sizeof(float));
	a->fifo_frames += (size_t)frames;
	if (a->fifo_frames < LCVT_FRAME) {
		return noErr;
	}
	return drain(a);
}

int32_t lcvt_audio_flush(lcvt_audio *a) {
	if (a->eos_sent) {
		return noErr;
	}
	// From now on the input proc hands over whatever is left (a partial
	// frame too), then signals the end of the stream; drain returns once
	// the converter has emitted its last packet.
	a->flushing = 1;
	int32_t st = drain(a);
	if (st == noErr && !a->eos_sent) {
		st = drain(a);
	}
	return st;
}

void lcvt_audio_close(lcvt_audio *a) {
	if (a == NULL) {
		return;
	}
	AudioConverterDispose(a->conv);
	free(a->out);
	free(a->fifo);
	free(a->proc_buf);
	free(a);
}
