// AVFoundation (camera + microphone) and ScreenCaptureKit (screen + system
// audio) capture. Thin by design: configure, then hand each pixel buffer
// (retained, not copied) or each run of float32 samples with its host-clock
// time to Go (lcVideo, lcAudio in avf_darwin.go). The Go side queues
// before doing anything slow, so the capture queues never wait on Go. What
// can be decided in Go is (the camera format and frame duration:
// avfformat.go); this file lists and applies.
//
// Rules kept throughout: an autorelease pool around all Objective-C work
// entered from Go or from a system callback; every wait on a system
// completion handler is bounded; an Objective-C exception never crosses
// into Go (it becomes an error message); no callback reaches Go after
// lc_stop returns (each delegate checks its stopped flag, and lc_stop
// drains the serial queues).
#import <Foundation/Foundation.h>
#import <AVFoundation/AVFoundation.h>
#import <CoreGraphics/CoreGraphics.h>
#import <CoreMedia/CoreMedia.h>
#import <CoreVideo/CoreVideo.h>
#import <ScreenCaptureKit/ScreenCaptureKit.h>
#include <dispatch/dispatch.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include "avf_darwin.h"
#include "_cgo_export.h"

// ns makes an NSString from C text: nil for NULL or invalid UTF-8 (callers
// check), never an exception.
static NSString *ns(const char *s) {
	if (s == NULL) {
		return nil;
	}
	return [NSString stringWithUTF8String:s];
}

// cdup copies an NSString into malloc'ed UTF-8 ("" for nil).
static char *cdup(NSString *s) {
	const char *u = s != nil ? s.UTF8String : NULL;
	return strdup(u != NULL ? u : "");
}

static char *dup_err(NSString *prefix, NSError *e) {
	NSString *msg = prefix;
	if (e != nil) {
		msg = [NSString stringWithFormat:@"%@: %@ (%@ %ld)", prefix, e.localizedDescription, e.domain, (long)e.code];
	}
	return cdup(msg);
}

static char *dup_exception(NSString *prefix, NSException *x) {
	return cdup([NSString stringWithFormat:@"%@: %@: %@", prefix, x.name, x.reason != nil ? x.reason : @"(no reason)"]);
}

// wait_for waits for a completion handler's signal, at most timeout_sec.
static BOOL wait_for(dispatch_semaphore_t done, int timeout_sec) {
	if (timeout_sec <= 0) {
		timeout_sec = 10;
	}
	return dispatch_semaphore_wait(done, dispatch_time(DISPATCH_TIME_NOW, (int64_t)timeout_sec * (int64_t)NSEC_PER_SEC)) == 0;
}

static int64_t cmtime_ns(CMTime t) {
	return CMTimeConvertScale(t, 1000000000, kCMTimeRoundingMethod_RoundHalfAwayFromZero).value;
}

int64_t lc_host_now_ns(void) {
	return cmtime_ns(CMClockGetTime(CMClockGetHostTimeClock()));
}

void lc_pixbuf_retain(void *pb) {
	CVPixelBufferRetain((CVPixelBufferRef)pb);
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
				const char *name = d.localizedName.UTF8String, *uid = d.uniqueID.UTF8String;
				lcItem(ctx, k == 0 ? LC_CAMERA : LC_MIC, (int)i, 0, 0,
						(char *)(name != NULL ? name : ""), (char *)(uid != NULL ? uid : ""));
			}
		}
	}
}

int lc_list_formats(const char *uid, uintptr_t ctx) {
	@autoreleasepool {
		NSString *u = ns(uid);
		AVCaptureDevice *d = u != nil ? [AVCaptureDevice deviceWithUniqueID:u] : nil;
		if (d == nil) {
			return -1;
		}
		NSArray<AVCaptureDeviceFormat *> *formats = d.formats;
		for (NSUInteger i = 0; i < formats.count; i++) {
			AVCaptureDeviceFormat *f = [formats objectAtIndex:i];
			CMVideoDimensions dim = CMVideoFormatDescriptionGetDimensions(f.formatDescription);
			// Each range on its own, with its exact durations: a camera
			// that offers 30.000030 fps accepts 33333/1000000 s, not 1/30 s.
			NSArray<AVFrameRateRange *> *ranges = f.videoSupportedFrameRateRanges;
			for (NSUInteger j = 0; j < ranges.count; j++) {
				AVFrameRateRange *r = [ranges objectAtIndex:j];
				CMTime mn = r.minFrameDuration, mx = r.maxFrameDuration;
				lcFormat(ctx, (int)i, (int)j, dim.width, dim.height, r.minFrameRate, r.maxFrameRate,
						mn.value, mn.timescale, mx.value, mx.timescale);
			}
		}
		return 0;
	}
}

int lc_authorize(int audio, int timeout_sec) {
	@autoreleasepool {
		AVMediaType type = audio ? AVMediaTypeAudio : AVMediaTypeVideo;
		AVAuthorizationStatus st = [AVCaptureDevice authorizationStatusForMediaType:type];
		if (st == AVAuthorizationStatusNotDetermined) {
			// The prompt is answered on another queue; this caller is a Go
			// goroutine (not a capture queue), so waiting here blocks
			// nothing. The user may walk away: the wait is bounded.
			dispatch_semaphore_t done = dispatch_semaphore_create(0);
			__block atomic_int ok = 0;
			[AVCaptureDevice requestAccessForMediaType:type completionHandler:^(BOOL granted) {
				atomic_store(&ok, granted ? 1 : 0);
				dispatch_semaphore_signal(done);
			}];
			if (!wait_for(done, timeout_sec)) {
				return LC_AUTH_TIMEOUT;
			}
			return atomic_load(&ok) ? LC_AUTH_OK : LC_AUTH_DENIED;
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
}

// hand_audio converts one audio sample buffer to interleaved float32 and
// passes it to Go. Capture is asked for float32 interleaved; the other
// layouts are handled because system audio (ScreenCaptureKit) arrives
// non-interleaved. A buffer list shorter than its sample count is skipped.
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
	size_t sample_bytes = (size_t)bits / 8;
	size_t per_buffer = (size_t)frames * (size_t)(non_interleaved ? 1 : ch) * sample_bytes;
	int ok = ch > 0 && frames > 0 && abl->mNumberBuffers >= (UInt32)(non_interleaved ? ch : 1);
	for (UInt32 b = 0; ok && b < abl->mNumberBuffers && b < (UInt32)(non_interleaved ? ch : 1); b++) {
		ok = abl->mBuffers[b].mData != NULL && abl->mBuffers[b].mDataByteSize >= per_buffer;
	}
	if (!ok) {
		// nothing to hand on
	} else if (is_float && bits == 32 && !non_interleaved) {
		lcAudio(handle, abl->mBuffers[0].mData, frames, ch, (int)asbd->mSampleRate, host_ns); // no copy here
	} else if ((is_float && bits == 32) || (!is_float && bits == 16)) {
		float *out = malloc((size_t)frames * ch * sizeof(float));
		if (out != NULL) {
			for (int c = 0; c < ch; c++) {
				UInt32 bi = non_interleaved ? (UInt32)c : 0;
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
// The session's synchronization clock, retained; read again after
// startRunning (it can be nil before and can change). Atomic: capture
// queues read it while lc_start sets it.
@property(atomic, strong) __attribute__((NSObject)) CMClockRef clock;
@property(nonatomic, weak) AVCaptureOutput *videoOutput;
- (BOOL)live;
- (void)stop;
@end

@implementation LCCaptureDelegate {
	atomic_int _stopped;
}
- (BOOL)live {
	return atomic_load(&_stopped) == 0;
}
- (void)stop {
	atomic_store(&_stopped, 1);
}
- (void)captureOutput:(AVCaptureOutput *)output didOutputSampleBuffer:(CMSampleBufferRef)sb fromConnection:(AVCaptureConnection *)connection {
	(void)connection;
	@autoreleasepool {
		if (![self live]) {
			return;
		}
		// Camera and microphone stamp their buffers on the session's
		// synchronization clock; the host time clock is the one Go maps.
		CMTime pts = CMSampleBufferGetPresentationTimeStamp(sb);
		CMClockRef clock = self.clock;
		CMTime host = clock != NULL ? CMSyncConvertTime(pts, clock, CMClockGetHostTimeClock()) : pts;
		int64_t ns = cmtime_ns(host);
		if (output == self.videoOutput) {
			hand_video(self.handle, sb, ns);
		} else {
			hand_audio(self.handle, sb, ns);
		}
	}
}
- (void)captureOutput:(AVCaptureOutput *)output didDropSampleBuffer:(CMSampleBufferRef)sb fromConnection:(AVCaptureConnection *)connection {
	(void)sb;
	(void)connection;
	if ([self live] && output == self.videoOutput) {
		lcDropped(self.handle); // late frames the output discarded
	}
}
@end

struct lc_source {
	AVCaptureSession *session;
	AVCaptureDevice *locked; // held locked from configuration until running
	LCCaptureDelegate *delegate;
	id obs_runtime, obs_disconnect; // notification observers
	dispatch_queue_t video_q, audio_q;
	SCStream *stream;
	id stream_output;
};

// observe reports a capture session runtime error and the disconnection of
// either device as a loss (lcLost); the watchdog and the session take it
// from there.
static void observe(lc_source *s, AVCaptureSession *session, AVCaptureDevice *cam, AVCaptureDevice *mic) {
	__weak LCCaptureDelegate *wd = s->delegate;
	NSNotificationCenter *nc = [NSNotificationCenter defaultCenter];
	s->obs_runtime = [nc addObserverForName:AVCaptureSessionRuntimeErrorNotification object:session queue:nil
			usingBlock:^(NSNotification *n) {
				@autoreleasepool {
					LCCaptureDelegate *d = wd;
					if (d == nil || ![d live]) {
						return;
					}
					id e = n.userInfo != nil ? [n.userInfo objectForKey:AVCaptureSessionErrorKey] : nil;
					char *msg = dup_err(@"the capture session stopped on a runtime error", [e isKindOfClass:[NSError class]] ? e : nil);
					lcLost(d.handle, LC_LOST_RUNTIME_ERROR, msg);
					free(msg);
				}
			}];
	NSString *cam_id = cam.uniqueID, *mic_id = mic.uniqueID;
	NSString *cam_name = cam.localizedName, *mic_name = mic.localizedName;
	s->obs_disconnect = [nc addObserverForName:AVCaptureDeviceWasDisconnectedNotification object:nil queue:nil
			usingBlock:^(NSNotification *n) {
				@autoreleasepool {
					LCCaptureDelegate *d = wd;
					if (d == nil || ![d live] || ![n.object isKindOfClass:[AVCaptureDevice class]]) {
						return;
					}
					AVCaptureDevice *dev = n.object;
					NSString *what = nil;
					if (cam_id != nil && [dev.uniqueID isEqualToString:cam_id]) {
						what = [NSString stringWithFormat:@"camera \"%@\" was disconnected", cam_name];
					} else if (mic_id != nil && [dev.uniqueID isEqualToString:mic_id]) {
						what = [NSString stringWithFormat:@"microphone \"%@\" was disconnected", mic_name];
					}
					if (what != nil) {
						char *msg = cdup(what);
						lcLost(d.handle, LC_LOST_DISCONNECTED, msg);
						free(msg);
					}
				}
			}];
}

lc_source *lc_av_open(const char *video_uid, int format_index, int64_t dur_value, int32_t dur_scale,
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
		AVCaptureDevice *cam = nil, *mic = nil;
		BOOL failed = NO;
		[session beginConfiguration];
		@try {
			if (video_uid != NULL) {
				NSString *uid = ns(video_uid);
				cam = uid != nil ? [AVCaptureDevice deviceWithUniqueID:uid] : nil;
				NSError *e = nil;
				AVCaptureDeviceInput *in = cam ? [AVCaptureDeviceInput deviceInputWithDevice:cam error:&e] : nil;
				if (in == nil || ![session canAddInput:in]) {
					*err = dup_err([NSString stringWithFormat:@"camera %@ cannot be opened", uid], e);
					failed = YES;
				}
				if (!failed) {
					[session addInput:in];
				}
				if (!failed && (format_index >= 0 || dur_scale > 0)) {
					if (![cam lockForConfiguration:&e]) {
						*err = dup_err(@"camera cannot be configured", e);
						failed = YES;
					} else {
						s->locked = cam;
						if (format_index >= 0 && (NSUInteger)format_index < cam.formats.count) {
							cam.activeFormat = [cam.formats objectAtIndex:(NSUInteger)format_index];
						}
						if (dur_scale > 0) {
							// A duration of the chosen range (avfformat.go):
							// anything else raises NSInvalidArgumentException.
							CMTime d = CMTimeMake(dur_value, dur_scale);
							cam.activeVideoMinFrameDuration = d;
							cam.activeVideoMaxFrameDuration = d;
						}
					}
				}
				if (!failed) {
					AVCaptureVideoDataOutput *out = [[AVCaptureVideoDataOutput alloc] init];
					// NV12 video range: what VideoToolbox encodes without conversion.
					out.videoSettings = @{(__bridge NSString *)kCVPixelBufferPixelFormatTypeKey : @((int)kCVPixelFormatType_420YpCbCr8BiPlanarVideoRange)};
					out.alwaysDiscardsLateVideoFrames = YES;
					s->video_q = dispatch_queue_create("livecap.capture.video", DISPATCH_QUEUE_SERIAL);
					[out setSampleBufferDelegate:del queue:s->video_q];
					if (![session canAddOutput:out]) {
						*err = strdup("the capture session refuses a video data output");
						failed = YES;
					} else {
						[session addOutput:out];
						del.videoOutput = out;
					}
				}
			}
			if (!failed && audio_uid != NULL) {
				NSString *uid = ns(audio_uid);
				mic = uid != nil ? [AVCaptureDevice deviceWithUniqueID:uid] : nil;
				NSError *e = nil;
				AVCaptureDeviceInput *in = mic ? [AVCaptureDeviceInput deviceInputWithDevice:mic error:&e] : nil;
				if (in == nil || ![session canAddInput:in]) {
					*err = dup_err([NSString stringWithFormat:@"microphone %@ cannot be opened", uid], e);
					failed = YES;
				} else {
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
						failed = YES;
					} else {
						[session addOutput:out];
					}
				}
			}
		} @catch (NSException *x) {
			free(*err);
			*err = dup_exception([NSString stringWithFormat:@"camera \"%@\" refused the configuration (format %d, %lld/%d s per frame)",
					cam.localizedName, format_index, (long long)dur_value, (int)dur_scale], x);
			failed = YES;
		}
		@try {
			[session commitConfiguration];
		} @catch (NSException *x) {
			if (!failed) {
				*err = dup_exception(@"the capture session refused the configuration", x);
				failed = YES;
			}
		}
		if (failed) {
			lc_stop(s, 5);
			return NULL;
		}
		// One session, one clock for camera and microphone; read again
		// after startRunning.
		del.clock = session.synchronizationClock;
		observe(s, session, cam, mic);
		return s;
	}
}

// ---- ScreenCaptureKit ----

API_AVAILABLE(macos(12.3))
@interface LCStreamOutput : NSObject <SCStreamOutput, SCStreamDelegate>
@property(nonatomic) uintptr_t handle;
// SCStream.synchronizationClock (macOS 13+), retained, set after the
// stream has started; NULL: buffers are on the host time clock.
@property(atomic, strong) __attribute__((NSObject)) CMClockRef clock;
- (BOOL)live;
- (void)stop;
@end

@implementation LCStreamOutput {
	atomic_int _stopped;
}
- (BOOL)live {
	return atomic_load(&_stopped) == 0;
}
- (void)stop {
	atomic_store(&_stopped, 1);
}
- (void)stream:(SCStream *)stream didOutputSampleBuffer:(CMSampleBufferRef)sb ofType:(SCStreamOutputType)type {
	(void)stream;
	@autoreleasepool {
		if (![self live] || !CMSampleBufferIsValid(sb)) {
			return;
		}
		CMTime pts = CMSampleBufferGetPresentationTimeStamp(sb);
		CMClockRef clock = self.clock;
		int64_t ns = cmtime_ns(clock != NULL ? CMSyncConvertTime(pts, clock, CMClockGetHostTimeClock()) : pts);
		if (type == SCStreamOutputTypeScreen) {
			// Only complete (and the first) frames carry pixels. Idle
			// frames (nothing changed on screen) do not: the Go side
			// repeats the last picture so the stream keeps its rate.
			CFArrayRef att = CMSampleBufferGetSampleAttachmentsArray(sb, false);
			if (att == NULL || CFArrayGetCount(att) == 0) {
				return;
			}
			NSDictionary *info = (__bridge NSDictionary *)CFArrayGetValueAtIndex(att, 0);
			id status = info[SCStreamFrameInfoStatus];
			if (![status isKindOfClass:[NSNumber class]]) {
				return;
			}
			NSInteger st = [(NSNumber *)status integerValue];
			if (st != SCFrameStatusComplete && st != SCFrameStatusStarted) {
				return;
			}
			hand_video(self.handle, sb, ns);
			return;
		}
		hand_audio(self.handle, sb, ns);
	}
}

- (void)stream:(SCStream *)stream didStopWithError:(NSError *)error {
	(void)stream;
	@autoreleasepool {
		if (![self live]) {
			return;
		}
		char *msg = dup_err(@"screen capture stopped", error);
		lcLost(self.handle, LC_LOST_STOPPED, msg);
		free(msg);
	}
}
@end

static BOOL screen_denied(NSError *e) {
	return e != nil && [e.domain isEqualToString:SCStreamErrorDomain] && e.code == SCStreamErrorUserDeclined;
}

int lc_screen_access(void) {
	return CGPreflightScreenCaptureAccess() ? 1 : 0;
}

// shareable_content waits for the completion handler (it runs on another
// queue; callers are Go goroutines, never a capture queue), at most
// timeout_sec; *timed_out tells a timeout from an error.
static SCShareableContent *shareable_content(int timeout_sec, NSError **err, BOOL *timed_out) {
	dispatch_semaphore_t done = dispatch_semaphore_create(0);
	__block SCShareableContent *content = nil;
	__block NSError *e = nil;
	[SCShareableContent getShareableContentWithCompletionHandler:^(SCShareableContent *c, NSError *error) {
		content = c;
		e = error;
		dispatch_semaphore_signal(done);
	}];
	*timed_out = !wait_for(done, timeout_sec);
	if (*timed_out) {
		*err = nil;
		return nil;
	}
	*err = e;
	return content;
}

int lc_list_screens(uintptr_t ctx, char **err, int *denied) {
	@autoreleasepool {
		*err = NULL;
		*denied = 0;
		NSError *e = nil;
		BOOL timed_out = NO;
		SCShareableContent *c = shareable_content(10, &e, &timed_out);
		if (timed_out) {
			*err = strdup("ScreenCaptureKit did not list the displays within 10 s");
			return -1;
		}
		if (c == nil) {
			*denied = screen_denied(e);
			*err = dup_err(@"ScreenCaptureKit lists no displays", e);
			return -1;
		}
		NSArray<SCDisplay *> *displays = c.displays;
		for (NSUInteger i = 0; i < displays.count; i++) {
			SCDisplay *d = [displays objectAtIndex:i];
			lcItem(ctx, LC_SCREEN, (int)i, (int)d.width, (int)d.height, NULL, NULL);
		}
		return 0;
	}
}

lc_source *lc_sc_open(int display_index, int width, int height, int fps_num, int fps_den,
		int audio, int channels, int timeout_sec, uintptr_t handle, char **err) {
	@autoreleasepool {
		*err = NULL;
		NSError *e = nil;
		BOOL timed_out = NO;
		SCShareableContent *c = shareable_content(timeout_sec, &e, &timed_out);
		if (timed_out) {
			*err = cdup([NSString stringWithFormat:@"ScreenCaptureKit did not list the displays within %d s", timeout_sec]);
			return NULL;
		}
		if (c == nil) {
			*err = dup_err(screen_denied(e) ? @"screen recording permission denied" : @"ScreenCaptureKit lists no displays", e);
			return NULL;
		}
		if (display_index < 0 || (NSUInteger)display_index >= c.displays.count) {
			*err = cdup([NSString stringWithFormat:@"screen:%d does not exist (have %lu displays: screen:0 to screen:%lu)",
					display_index, (unsigned long)c.displays.count, (unsigned long)(c.displays.count ? c.displays.count - 1 : 0)]);
			return NULL;
		}
		if (fps_num <= 0 || fps_den <= 0) {
			fps_num = 30;
			fps_den = 1;
		}
		SCDisplay *display = [c.displays objectAtIndex:(NSUInteger)display_index];
		SCContentFilter *filter = [[SCContentFilter alloc] initWithDisplay:display excludingWindows:@[]];
		SCStreamConfiguration *cfg = [[SCStreamConfiguration alloc] init];
		cfg.width = (size_t)(width > 0 ? width : display.width);
		cfg.height = (size_t)(height > 0 ? height : display.height);
		cfg.minimumFrameInterval = CMTimeMake(fps_den, fps_num);
		cfg.pixelFormat = kCVPixelFormatType_420YpCbCr8BiPlanarVideoRange;
		cfg.queueDepth = 6;
		cfg.showsCursor = YES;
		int want_audio = 0;
		if (audio) {
			if (@available(macOS 13.0, *)) {
				cfg.capturesAudio = YES;
				cfg.excludesCurrentProcessAudio = YES;
				// ScreenCaptureKit mixes at 48 kHz whatever it is asked
				// (the Go side refuses any other --audio-rate up front).
				cfg.sampleRate = 48000;
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
			lc_stop(s, timeout_sec);
			return NULL;
		}
		if (want_audio) {
			if (@available(macOS 13.0, *)) {
				s->audio_q = dispatch_queue_create("livecap.screen.audio", DISPATCH_QUEUE_SERIAL);
				if (![s->stream addStreamOutput:out type:SCStreamOutputTypeAudio sampleHandlerQueue:s->audio_q error:&e]) {
					*err = dup_err(@"system audio output refused", e);
					lc_stop(s, timeout_sec);
					return NULL;
				}
			}
		}
		return s;
	}
}

int lc_start(lc_source *s, int timeout_sec, char **err) {
	@autoreleasepool {
		*err = NULL;
		if (s->session != nil) {
			@try {
				[s->session startRunning];
			} @catch (NSException *x) {
				*err = dup_exception(@"the capture session did not start", x);
				return -1;
			}
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
			CMClockRef clock = s->session.synchronizationClock;
			if (clock != NULL) {
				s->delegate.clock = clock;
			}
			return 0;
		}
		dispatch_semaphore_t done = dispatch_semaphore_create(0);
		__block NSError *e = nil;
		[s->stream startCaptureWithCompletionHandler:^(NSError *error) {
			e = error;
			dispatch_semaphore_signal(done);
		}];
		if (!wait_for(done, timeout_sec)) {
			*err = cdup([NSString stringWithFormat:@"screen capture did not start within %d s", timeout_sec]);
			return -1;
		}
		if (e != nil) {
			*err = dup_err(screen_denied(e) ? @"screen recording permission denied" : @"screen capture did not start", e);
			return -1;
		}
		if (@available(macOS 13.0, *)) {
			CMClockRef clock = s->stream.synchronizationClock;
			if (clock != NULL) {
				((LCStreamOutput *)s->stream_output).clock = clock;
			}
		}
		return 0;
	}
}

void lc_stop(lc_source *s, int timeout_sec) {
	if (s == NULL) {
		return;
	}
	@autoreleasepool {
		// First: no callback reaches Go from here on.
		[s->delegate stop];
		[(LCStreamOutput *)s->stream_output stop];
		NSNotificationCenter *nc = [NSNotificationCenter defaultCenter];
		if (s->obs_runtime != nil) {
			[nc removeObserver:s->obs_runtime];
		}
		if (s->obs_disconnect != nil) {
			[nc removeObserver:s->obs_disconnect];
		}
		if (s->session != nil) {
			@try {
				[s->session stopRunning];
			} @catch (NSException *x) {
				(void)x;
			}
		}
		if (s->locked != nil) {
			[s->locked unlockForConfiguration];
			s->locked = nil;
		}
		if (s->stream != nil) {
			dispatch_semaphore_t done = dispatch_semaphore_create(0);
			[s->stream stopCaptureWithCompletionHandler:^(NSError *error) {
				(void)error;
				dispatch_semaphore_signal(done);
			}];
			// A stream that never started answers with an error at once; a
			// wedged one is left behind after the timeout (its output is
			// already stopped, so it cannot reach Go).
			wait_for(done, timeout_sec);
		}
		// A block queued on each serial queue runs after every sample
		// callback already queued there: once both return, no callback
		// is inside Go with this source's handle.
		if (s->video_q != NULL) {
			dispatch_sync(s->video_q, ^{});
		}
		if (s->audio_q != NULL) {
			dispatch_sync(s->audio_q, ^{});
		}
		s->session = nil;
		s->delegate = nil;
		s->obs_runtime = nil;
		s->obs_disconnect = nil;
		s->stream = nil;
		s->stream_output = nil;
		s->video_q = nil;
		s->audio_q = nil;
		free(s);
	}
}
