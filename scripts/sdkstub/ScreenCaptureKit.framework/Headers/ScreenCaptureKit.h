/* livecap SDK stub: only the ScreenCaptureKit declarations livecap uses,
   written after Apple's ScreenCaptureKit headers (SCError.h,
   SCShareableContent.h, SCStream.h). Not Apple's file; on a Mac the real
   SDK is used. */
#ifndef LIVECAP_STUB_SCREENCAPTUREKIT_H
#define LIVECAP_STUB_SCREENCAPTUREKIT_H

#import <Foundation/Foundation.h>
#include <CoreMedia/CoreMedia.h>
#include <dispatch/dispatch.h>

#pragma clang assume_nonnull begin

/* SCError.h */
extern NSString *const SCStreamErrorDomain API_AVAILABLE(macos(12.3));
typedef NS_ENUM(NSInteger, SCStreamErrorCode) {
	SCStreamErrorUserDeclined = -3801,
} API_AVAILABLE(macos(12.3));

/* SCShareableContent.h */
typedef uint32_t CGDirectDisplayID;
API_AVAILABLE(macos(12.3))
@interface SCWindow : NSObject
@end
API_AVAILABLE(macos(12.3))
@interface SCDisplay : NSObject
@property(readonly) CGDirectDisplayID displayID;
@property(readonly) NSInteger width;
@property(readonly) NSInteger height;
@end
API_AVAILABLE(macos(12.3))
@interface SCShareableContent : NSObject
+ (void)getShareableContentWithCompletionHandler:(void (^)(SCShareableContent *_Nullable shareableContent, NSError *_Nullable error))completionHandler;
@property(readonly) NSArray<SCDisplay *> *displays;
@end

/* SCStream.h */
typedef NS_ENUM(NSInteger, SCStreamOutputType) {
	SCStreamOutputTypeScreen,
	SCStreamOutputTypeAudio API_AVAILABLE(macos(13.0)),
};
typedef NS_ENUM(NSInteger, SCFrameStatus) {
	SCFrameStatusComplete,
	SCFrameStatusIdle,
	SCFrameStatusBlank,
	SCFrameStatusSuspended,
	SCFrameStatusStarted,
	SCFrameStatusStopped,
};
typedef NSString *SCStreamFrameInfo;
extern SCStreamFrameInfo const SCStreamFrameInfoStatus API_AVAILABLE(macos(12.3));

API_AVAILABLE(macos(12.3))
@interface SCContentFilter : NSObject
- (instancetype)initWithDisplay:(SCDisplay *)display excludingWindows:(NSArray<SCWindow *> *)excluded;
@end

API_AVAILABLE(macos(12.3))
@interface SCStreamConfiguration : NSObject
@property(nonatomic, assign) size_t width;
@property(nonatomic, assign) size_t height;
@property(nonatomic, assign) CMTime minimumFrameInterval;
@property(nonatomic, assign) OSType pixelFormat;
@property(nonatomic, assign) NSInteger queueDepth;
@property(nonatomic, assign) BOOL showsCursor;
@property(nonatomic, assign) BOOL capturesAudio API_AVAILABLE(macos(13.0));
@property(nonatomic, assign) NSInteger sampleRate API_AVAILABLE(macos(13.0));
@property(nonatomic, assign) NSInteger channelCount API_AVAILABLE(macos(13.0));
@property(nonatomic, assign) BOOL excludesCurrentProcessAudio API_AVAILABLE(macos(13.0));
@end

@class SCStream;
API_AVAILABLE(macos(12.3))
@protocol SCStreamOutput <NSObject>
@optional
- (void)stream:(SCStream *)stream didOutputSampleBuffer:(CMSampleBufferRef)sampleBuffer ofType:(SCStreamOutputType)type;
@end
API_AVAILABLE(macos(12.3))
@protocol SCStreamDelegate <NSObject>
@optional
- (void)stream:(SCStream *)stream didStopWithError:(NSError *)error;
@end

API_AVAILABLE(macos(12.3))
@interface SCStream : NSObject
@property(nonatomic, readonly, nullable) CMClockRef synchronizationClock API_AVAILABLE(macos(13.0));
- (instancetype)initWithFilter:(SCContentFilter *)contentFilter configuration:(SCStreamConfiguration *)streamConfig delegate:(nullable id<SCStreamDelegate>)delegate;
- (BOOL)addStreamOutput:(id<SCStreamOutput>)output type:(SCStreamOutputType)type sampleHandlerQueue:(nullable dispatch_queue_t)sampleHandlerQueue error:(NSError **)error;
- (void)startCaptureWithCompletionHandler:(nullable void (^)(NSError *_Nullable error))completionHandler;
- (void)stopCaptureWithCompletionHandler:(nullable void (^)(NSError *_Nullable error))completionHandler;
@end

#pragma clang assume_nonnull end

#endif
