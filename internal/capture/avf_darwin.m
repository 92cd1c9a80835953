// AVFoundation (camera + microphone) and ScreenCaptureKit (screen + system
// audio) capture. Thin by design: configure, then hand each pixel buffer
// (retained, not copied) or each run of float32 samples with its host-clock
// time to Go (lcVideo, lcAudio in avf_darwin.go). The Go side queues
// before doing anything slow, so the capture queues never wait on Go.
#import <Foundation/Foundation.h>
#import <AVFoundation/AVFoundation.h>
#import <CoreMedia/CoreMedia.h>
#import <CoreVideo/CoreVideo.h>
#import <ScreenCaptureKit/ScreenCaptureKit.h>
#include <dispatch/dispatch.h>
#include <stdlib.h>
#include <string.h>
#include "avf_darwin.h"
#include "_cgo_export.h"

static char *dup_err(NSString *prefix, NSError *e) {
	NSString *msg = prefix;
	if (e != nil) {
		msg = [NSString stringWithFormat:@"%@: %@ (%@ %ld)", prefix, e.localizedDescription, e.domain, (long)e.code];
	}
	return strdup(msg.UTF8String);
}

static int64_t cmtime_ns(CMTime t) {
	return CMTimeConvertScale(t, 1000000000, kCMTimeRoundingMethod_RoundHalfAwayFromZero).value;
}

int64_t lc_host_now_ns(void) {
	return cmtime_ns(CMClockGetTime(CMClockGetHostTimeClock()));
}

void lc_pixbuf_release(void *pb) {
	CVPixelBufferRelease((CVPixelBufferRef)pb);
}

// Every camera and microphone, whatever its device type, on every macOS
// version: discovery sessions need a per-version list of device types
// (External vs ExternalUnknown, Microphone vs BuiltInMicrophone) to say
// the same thing.
#pragma clang diagnostic push
#pragma clang diagnostic ignored "-Wdeprecated-declarations"
static NSArray<AVCaptureDevice *> *devices_of(AVMediaType type) {
	return [AVCaptureDevice devicesWithMediaType:type];
}
#pragma clang diagnostic pop

void lc_list_devices(uintptr_t ctx) {
	@autoreleasepool {
		AVMediaType types[2] = {AVMediaTypeVideo, AVMediaTypeAudio};
		for (int k = 0; k < 2; k++) {
			NSArray<AVCaptureDevice *> *devs = devices_of(types[k]);
			for (NSUInteger i = 0; i < devs.count; i++) {
				AVCaptureDevice *d = [devs objectAtIndex:i];
				lcItem(ctx, k == 0 ? LC_CAMERA : LC_MIC, (int)i, 0, 0, 0, 0,
						(char *)d.localizedName.UTF8String, (char *)d.uniqueID.UTF8String);
			}
		}
	}
}

int lc_list_formats(const char *uid, uintptr_t ctx) {
	@autoreleasepool {
		AVCaptureDevice *d = [AVCaptureDevice deviceWithUniqueID:[NSString stringWithUTF8String:uid]];
		if (d == nil) {
			return -1;
		}
		NSArray<AVCaptureDeviceFormat *> *formats = d.formats;
		for (NSUInteger i = 0; i < formats.count; i++) {
			AVCaptureDeviceFormat *f = [formats objectAtIndex:i];
			CMVideoDimensions dim = CMVideoFormatDescriptionGetDimensions(f.formatDescription);
			double lo = 0, hi = 0;
			NSArray<AVFrameRateRange *> *ranges = f.videoSupportedFrameRateRanges;
			for (NSUInteger j = 0; j < ranges.count; j++) {
				AVFrameRateRange *r = [ranges objectAtIndex:j];
				if (lo == 0 || r.minFrameRate < lo) lo = r.minFrameRate;
				if (r.maxFrameRate > hi) hi = r.maxFrameRate;
			}
			lcItem(ctx, LC_FORMAT, (int)i, dim.width, dim.height, lo, hi, NULL, NULL);
		}
		return 0;
	}
}

int lc_authorize(int audio) {
	AVMediaType type = audio ? AVMediaTypeAudio : AVMediaTypeVideo;
	AVAuthorizationStatus st = [AVCaptureDevice authorizationStatusForMediaType:type];
	if (st == AVAuthorizationStatusNotDetermined) {
		// The prompt is answered on another queue; this caller is a Go
		// goroutine (not a capture queue), so waiting here blocks nothing.
		dispatch_semaphore_t done = dispatch_semaphore_create(0);
		__block BOOL ok = NO;
		[AVCaptureDevice requestAccessForMediaType:type completionHandler:^(BOOL granted) {
			ok = granted;
			dispatch_semaphore_signal(done);
		}];
		dispatch_semaphore_wait(done, DISPATCH_TIME_FOREVER);
		return ok ? LC_AUTH_OK : LC_AUTH_DENIED;
	}
	switch (st) {
	case AVAuthorizationStatusAuthorized:
		return LC_AUTH_OK;
	case AVAuthorizationStatusRestricted:
		return LC_AUTH_RESTRICTED;
	default:
		return LC_AUTH_DENIED;
	}
}

// hand_audio converts one audio sample buffer to interleaved float32 and
// passes it to Go. Capture is asked for float32 interleaved; the other
// layouts are handled because system audio (ScreenCaptureKit) arrives
// non-interleaved.
static void hand_audio(uintptr_t handle, CMSampleBufferRef sb, int64_t host_ns) {
	CMAudioFormatDescriptionRef fd = CMSampleBufferGetFormatDescription(sb);
	const AudioStreamBasicDescription *asbd = fd ? CMAudioFormatDescriptionGetStreamBasicDescription(fd) : NULL;
	if (asbd == NULL || asbd->mFormatID != kAudioFormatLinearPCM) {
		return;
	}
	size_t need = 0;
	if (CMSampleBufferGetAudioBufferListWithRetainedBlockBuffer(sb, &need, NULL, 0, NULL, NULL, 0, NULL) != noErr || need == 0) {
		return;
	}
	AudioBufferList *abl = malloc(need);
	CMBlockBufferRef block = NULL;
	if (abl == NULL) {
		return;
	}
	if (CMSampleBufferGetAudioBufferListWithRetainedBlockBuffer(sb, NULL, abl, need, NULL, NULL,
			kCMSampleBufferFlag_AudioBufferList_Assure16ByteAlignment, &block) != noErr) {
		free(abl);
		return;
	}
	int ch = (int)asbd->mChannelsPerFrame;
	int frames = (int)CMSampleBufferGetNumSamples(sb);
	int is_float = (asbd->mFormatFlags & kAudioFormatFlagIsFloat) != 0;
	int non_interleaved = (asbd->mFormatFlags & kAudioFormatFlagIsNonInterleaved) != 0;
	int bits = (int)asbd->mBitsPerChannel;
	float *out = NULL;
	if (is_float && bits == 32 && !non_interleaved && abl->mNumberBuffers == 1) {
		out = abl->mBuffers[0].mData; // already what Go wants: no copy here
		lcAudio(handle, out, frames, ch, (int)asbd->mSampleRate, host_ns);
		out = NULL;
	} else if ((is_float && bits == 32) || (!is_float && bits == 16)) {
		out = malloc((size_t)frames * ch * sizeof(float));
		if (out != NULL) {
			for (int c = 0; c < ch; c++) {
				UInt32 bi = non_interleaved ? (UInt32)c : 0;
				if (bi >= abl->mNumberBuffers) break;
				int step = non_interleaved ? 1 : ch, off = non_interleaved ? 0 : c;
				for (int i = 0; i < frames; i++) {
					float v;
					if (is_float) {
						v = ((const float *)abl->mBuffers[bi].mData)[i * step + off];
					} else {
						v = ((const int16_t *)abl->mBuffers[bi].mData)[i * step + off] / 32768.0f;
					}
					out[i * ch + c] = v;
				}
			}
			lcAudio(handle, out, frames, ch, (int)asbd->mSampleRate, host_ns);
			free(out);
		}
	}
	CFRelease(block);
	free(abl);
}

static void hand_video(uintptr_t handle, CMSampleBufferRef sb, int64_t host_ns) {
	CVImageBufferRef img = CMSampleBufferGetImageBuffer(sb);
	if (img == NULL) {
		return;
	}
	// Retained for Go; released by the frame's Release (lc_pixbuf_release)
	// once the encoder has taken its own reference.
	CVPixelBufferRetain(img);
	lcVideo(handle, img, (int)CVPixelBufferGetWidth(img), (int)CVPixelBufferGetHeight(img), host_ns);
}

// ---- AVFoundation ----

@interface LCCaptureDelegate : NSObject <AVCaptureVideoDataOutputSampleBufferDelegate, AVCaptureAudioDataOutputSampleBufferDelegate>
@property(nonatomic) uintptr_t handle;
@property(nonatomic) CMClockRef clock; // the session's synchronization clock (not owned)
@property(nonatomic, weak) AVCaptureOutput *videoOutput;
@end

@implementation LCCaptureDelegate
- (void)captureOutput:(AVCaptureOutput *)output didOutputSampleBuffer:(CMSampleBufferRef)sb fromConnection:(AVCaptureConnection *)connection {
	(void)connection;
	// Camera and microphone stamp their buffers on the session's
	// synchronization clock; the host time clock is the one Go maps.
	CMTime pts = CMSampleBufferGetPresentationTimeStamp(sb);
	CMTime host = CMSyncConvertTime(pts, self.clock, CMClockGetHostTimeClock());
	int64_t ns = cmtime_ns(host);
	if (output == self.videoOutput) {
		hand_video(self.handle, sb, ns);
	} else {
		hand_audio(self.handle, sb, ns);
	}
}
@end

struct lc_source {
	AVCaptureSession *session;
	AVCaptureDevice *locked; // held locked from configuration until running
	LCCaptureDelegate *delegate;
	dispatch_queue_t video_q, audio_q;
	SCStream *stream;
	id stream_output;
};

lc_source *lc_av_open(const char *video_uid, int format_index, int fps,
		const char *audio_uid, int sample_rate, int channels, uintptr_t handle, char **err) {
	@autoreleasepool {
		*err = NULL;
		lc_source *s = calloc(1, sizeof *s);
		if (s == NULL) {
			*err = strdup("out of memory");
			return NULL;
		}
		AVCaptureSession *session = [[AVCaptureSession alloc] init];
		LCCaptureDelegate *del = [[LCCaptureDelegate alloc] init];
		del.handle = handle;
		s->session = session;
		s->delegate = del;
		[session beginConfiguration];
		if (video_uid != NULL) {
			AVCaptureDevice *dev = [AVCaptureDevice deviceWithUniqueID:[NSString stringWithUTF8String:video_uid]];
			NSError *e = nil;
			AVCaptureDeviceInput *in = dev ? [AVCaptureDeviceInput deviceInputWithDevice:dev error:&e] : nil;
			if (in == nil || ![session canAddInput:in]) {
				*err = dup_err([NSString stringWithFormat:@"camera %s cannot be opened", video_uid], e);
				goto fail;
			}
			[session addInput:in];
			if (format_index >= 0 || fps > 0) {
				if (![dev lockForConfiguration:&e]) {
					*err = dup_err(@"camera cannot be configured", e);
					goto fail;
				}
				s->locked = dev;
				if (format_index >= 0 && (NSUInteger)format_index < dev.formats.count) {
					dev.activeFormat = [dev.formats objectAtIndex:(NSUInteger)format_index];
				}
				if (fps > 0) {
					dev.activeVideoMinFrameDuration = CMTimeMake(1, fps);
					dev.activeVideoMaxFrameDuration = CMTimeMake(1, fps);
				}
			}
			AVCaptureVideoDataOutput *out = [[AVCaptureVideoDataOutput alloc] init];
			// NV12 video range: what VideoToolbox encodes without conversion.
			out.videoSettings = @{(__bridge NSString *)kCVPixelBufferPixelFormatTypeKey : @((int)kCVPixelFormatType_420YpCbCr8BiPlanarVideoRange)};
			out.alwaysDiscardsLateVideoFrames = YES;
			s->video_q = dispatch_queue_create("livecap.capture.video", DISPATCH_QUEUE_SERIAL);
			[out setSampleBufferDelegate:del queue:s->video_q];
			if (![session canAddOutput:out]) {
				*err = strdup("the capture session refuses a video data output");
				goto fail;
			}
			[session addOutput:out];
			del.videoOutput = out;
		}
		if (audio_uid != NULL) {
			AVCaptureDevice *dev = [AVCaptureDevice deviceWithUniqueID:[NSString stringWithUTF8String:audio_uid]];
			NSError *e = nil;
			AVCaptureDeviceInput *in = dev ? [AVCaptureDeviceInput deviceInputWithDevice:dev error:&e] : nil;
			if (in == nil || ![session canAddInput:in]) {
				*err = dup_err([NSString stringWithFormat:@"microphone %s cannot be opened", audio_uid], e);
				goto fail;
			}
			[session addInput:in];
			AVCaptureAudioDataOutput *out = [[AVCaptureAudioDataOutput alloc] init];
			NSMutableDictionary *settings = [NSMutableDictionary dictionary];
			settings[AVFormatIDKey] = @((int)kAudioFormatLinearPCM);
			settings[AVLinearPCMIsFloatKey] = @YES;
			settings[AVLinearPCMBitDepthKey] = @32;
			settings[AVLinearPCMIsNonInterleaved] = @NO;
			settings[AVLinearPCMIsBigEndianKey] = @NO;
			if (sample_rate > 0) settings[AVSampleRateKey] = @(sample_rate);
			if (channels > 0) settings[AVNumberOfChannelsKey] = @(channels);
			out.audioSettings = settings;
			s->audio_q = dispatch_queue_create("livecap.capture.audio", DISPATCH_QUEUE_SERIAL);
			[out setSampleBufferDelegate:del queue:s->audio_q];
			if (![session canAddOutput:out]) {
				*err = strdup("the capture session refuses an audio data output");
				goto fail;
			}
			[session addOutput:out];
		}
		[session commitConfiguration];
		// One session, one clock for camera and microphone.
		if (@available(macOS 12.3, *)) {
			del.clock = session.synchronizationClock;
		} else {
#pragma clang diagnostic push
#pragma clang diagnostic ignored "-Wdeprecated-declarations"
			del.clock = session.masterClock;
#pragma clang diagnostic pop
		}
		if (del.clock == NULL) {
			del.clock = CMClockGetHostTimeClock();
		}
		return s;
	fail:
		[session commitConfiguration];
		lc_stop(s);
		return NULL;
	}
}

// ---- ScreenCaptureKit ----

API_AVAILABLE(macos(12.3))
@interface LCStreamOutput : NSObject <SCStreamOutput, SCStreamDelegate>
@property(nonatomic) uintptr_t handle;
@end

@implementation LCStreamOutput
- (void)stream:(SCStream *)stream didOutputSampleBuffer:(CMSampleBufferRef)sb ofType:(SCStreamOutputType)type {
	(void)stream;
	if (!CMSampleBufferIsValid(sb)) {
		return;
	}
	// ScreenCaptureKit stamps its buffers on the host time clock.
	int64_t ns = cmtime_ns(CMSampleBufferGetPresentationTimeStamp(sb));
	if (type == SCStreamOutputTypeScreen) {
		// Idle frames (nothing changed) carry no pixels: only complete ones count.
		CFArrayRef att = CMSampleBufferGetSampleAttachmentsArray(sb, false);
		if (att == NULL || CFArrayGetCount(att) == 0) {
			return;
		}
		NSDictionary *info = (__bridge NSDictionary *)CFArrayGetValueAtIndex(att, 0);
		NSNumber *status = info[SCStreamFrameInfoStatus];
		if (status == nil || status.integerValue != SCFrameStatusComplete) {
			return;
		}
		hand_video(self.handle, sb, ns);
		return;
	}
	hand_audio(self.handle, sb, ns);
}

- (void)stream:(SCStream *)stream didStopWithError:(NSError *)error {
	(void)stream;
	char *msg = dup_err(@"screen capture stopped", error);
	lcStopped(self.handle, msg);
	free(msg);
}
@end

static BOOL screen_denied(NSError *e) {
	if (@available(macOS 12.3, *)) {
		return e != nil && [e.domain isEqualToString:SCStreamErrorDomain] && e.code == SCStreamErrorUserDeclined;
	}
	return NO;
}

// shareable_content waits for the completion handler (it runs on another
// queue; callers are Go goroutines, never a capture queue).
API_AVAILABLE(macos(12.3))
static SCShareableContent *shareable_content(NSError **err) {
	dispatch_semaphore_t done = dispatch_semaphore_create(0);
	__block SCShareableContent *content = nil;
	__block NSError *e = nil;
	[SCShareableContent getShareableContentWithCompletionHandler:^(SCShareableContent *c, NSError *error) {
		content = c;
		e = error;
		dispatch_semaphore_signal(done);
	}];
	dispatch_semaphore_wait(done, DISPATCH_TIME_FOREVER);
	*err = e;
	return content;
}

int lc_list_screens(uintptr_t ctx, char **err, int *denied) {
	@autoreleasepool {
		*err = NULL;
		*denied = 0;
		if (@available(macOS 12.3, *)) {
			NSError *e = nil;
			SCShareableContent *c = shareable_content(&e);
			if (c == nil) {
				*denied = screen_denied(e);
				*err = dup_err(@"ScreenCaptureKit lists no displays", e);
				return -1;
			}
			NSArray<SCDisplay *> *displays = c.displays;
			for (NSUInteger i = 0; i < displays.count; i++) {
				SCDisplay *d = [displays objectAtIndex:i];
				lcItem(ctx, LC_SCREEN, (int)i, (int)d.width, (int)d.height, 0, 0, NULL, NULL);
			}
			return 0;
		}
		*err = strdup("screen capture needs macOS 12.3 or later (ScreenCaptureKit)");
		return -1;
	}
}

lc_source *lc_sc_open(int display_index, int width, int height, int fps,
		int audio, int sample_rate, int channels, uintptr_t handle, char **err) {
	@autoreleasepool {
		*err = NULL;
		if (@available(macOS 12.3, *)) {
			NSError *e = nil;
			SCShareableContent *c = shareable_content(&e);
			if (c == nil) {
				*err = dup_err(screen_denied(e) ? @"screen recording permission denied" : @"ScreenCaptureKit lists no displays", e);
				return NULL;
			}
			if (display_index < 0 || (NSUInteger)display_index >= c.displays.count) {
				*err = strdup([NSString stringWithFormat:@"screen:%d does not exist (have %lu displays: screen:0 to screen:%lu)",
						display_index, (unsigned long)c.displays.count, (unsigned long)(c.displays.count ? c.displays.count - 1 : 0)].UTF8String);
				return NULL;
			}
			SCDisplay *display = [c.displays objectAtIndex:(NSUInteger)display_index];
			SCContentFilter *filter = [[SCContentFilter alloc] initWithDisplay:display excludingWindows:@[]];
			SCStreamConfiguration *cfg = [[SCStreamConfiguration alloc] init];
			cfg.width = (size_t)(width > 0 ? width : display.width);
			cfg.height = (size_t)(height > 0 ? height : display.height);
			cfg.minimumFrameInterval = CMTimeMake(1, fps > 0 ? fps : 30);
			cfg.pixelFormat = kCVPixelFormatType_420YpCbCr8BiPlanarVideoRange;
			cfg.queueDepth = 6;
			cfg.showsCursor = YES;
			int want_audio = 0;
			if (audio) {
				if (@available(macOS 13.0, *)) {
					cfg.capturesAudio = YES;
					cfg.excludesCurrentProcessAudio = YES;
					if (sample_rate > 0) cfg.sampleRate = sample_rate;
					if (channels > 0) cfg.channelCount = channels;
					want_audio = 1;
				} else {
					*err = strdup("system audio capture needs macOS 13 or later");
					return NULL;
				}
			}
			lc_source *s = calloc(1, sizeof *s);
			if (s == NULL) {
				*err = strdup("out of memory");
				return NULL;
			}
			LCStreamOutput *out = [[LCStreamOutput alloc] init];
			out.handle = handle;
			s->stream_output = out;
			s->stream = [[SCStream alloc] initWithFilter:filter configuration:cfg delegate:out];
			s->video_q = dispatch_queue_create("livecap.screen.video", DISPATCH_QUEUE_SERIAL);
			if (![s->stream addStreamOutput:out type:SCStreamOutputTypeScreen sampleHandlerQueue:s->video_q error:&e]) {
				*err = dup_err(@"screen capture output refused", e);
				lc_stop(s);
				return NULL;
			}
			if (want_audio) {
				if (@available(macOS 13.0, *)) {
					s->audio_q = dispatch_queue_create("livecap.screen.audio", DISPATCH_QUEUE_SERIAL);
					if (![s->stream addStreamOutput:out type:SCStreamOutputTypeAudio sampleHandlerQueue:s->audio_q error:&e]) {
						*err = dup_err(@"system audio output refused", e);
						lc_stop(s);
						return NULL;
					}
				}
			}
			return s;
		}
		*err = strdup("screen capture needs macOS 12.3 or later (ScreenCaptureKit)");
		return NULL;
	}
}

int lc_start(lc_source *s, char **err) {
	@autoreleasepool {
		*err = NULL;
		if (s->session != nil) {
			[s->session startRunning];
			if (s->locked != nil) {
				// Held until now so that starting the session does not
				// replace the chosen format with the preset's.
				[s->locked unlockForConfiguration];
				s->locked = nil;
			}
			if (!s->session.running) {
				*err = strdup("the capture session did not start");
				return -1;
			}
			return 0;
		}
		if (@available(macOS 12.3, *)) {
			dispatch_semaphore_t done = dispatch_semaphore_create(0);
			__block NSError *e = nil;
			[s->stream startCaptureWithCompletionHandler:^(NSError *error) {
				e = error;
				dispatch_semaphore_signal(done);
			}];
			dispatch_semaphore_wait(done, DISPATCH_TIME_FOREVER);
			if (e != nil) {
				*err = dup_err(screen_denied(e) ? @"screen recording permission denied" : @"screen capture did not start", e);
				return -1;
			}
			return 0;
		}
		*err = strdup("screen capture needs macOS 12.3 or later (ScreenCaptureKit)");
		return -1;
	}
}

void lc_stop(lc_source *s) {
	if (s == NULL) {
		return;
	}
	@autoreleasepool {
		if (s->session != nil) {
			[s->session stopRunning];
		}
		if (s->locked != nil) {
			[s->locked unlockForConfiguration];
			s->locked = nil;
		}
		if (@available(macOS 12.3, *)) {
			if (s->stream != nil) {
				dispatch_semaphore_t done = dispatch_semaphore_create(0);
				[s->stream stopCaptureWithCompletionHandler:^(NSError *error) {
					(void)error;
					dispatch_semaphore_signal(done);
				}];
				dispatch_semaphore_wait(done, DISPATCH_TIME_FOREVER);
			}
		}
		// A block queued on each serial queue runs after every sample
		// callback already queued there: once both return, no callback
		// can reach Go with this source's handle.
		if (s->video_q != NULL) {
			dispatch_sync(s->video_q, ^{});
		}
		if (s->audio_q != NULL) {
			dispatch_sync(s->audio_q, ^{});
		}
		s->session = nil;
		s->delegate = nil;
		s->stream = nil;
		s->stream_output = nil;
		s->video_q = nil;
		s->audio_q = nil;
		free(s);
	}
}
