/* livecap SDK stub: only the AVFoundation declarations livecap uses,
   written after Apple's AVFoundation headers (AVMediaFormat.h,
   AVAudioSettings.h, AVCaptureDevice.h, AVCaptureInput.h,
   AVCaptureOutput.h / AVCaptureVideoDataOutput.h /
   AVCaptureAudioDataOutput.h, AVCaptureSession.h). Not Apple's file; on a
   Mac the real SDK is used. */
#ifndef LIVECAP_STUB_AVFOUNDATION_H
#define LIVECAP_STUB_AVFOUNDATION_H

#import <Foundation/Foundation.h>
#include <CoreMedia/CoreMedia.h>
#include <CoreVideo/CoreVideo.h>
#include <dispatch/dispatch.h>

#pragma clang assume_nonnull begin

#define AVF_EXPORT extern

/* AVMediaFormat.h */
typedef NSString *AVMediaType;
AVF_EXPORT AVMediaType const AVMediaTypeVideo;
AVF_EXPORT AVMediaType const AVMediaTypeAudio;

/* AVAudioSettings.h */
AVF_EXPORT NSString *const AVFormatIDKey;
AVF_EXPORT NSString *const AVSampleRateKey;
AVF_EXPORT NSString *const AVNumberOfChannelsKey;
AVF_EXPORT NSString *const AVLinearPCMBitDepthKey;
AVF_EXPORT NSString *const AVLinearPCMIsBigEndianKey;
AVF_EXPORT NSString *const AVLinearPCMIsFloatKey;
AVF_EXPORT NSString *const AVLinearPCMIsNonInterleaved;

/* AVCaptureDevice.h */
typedef NS_ENUM(NSInteger, AVAuthorizationStatus) {
	AVAuthorizationStatusNotDetermined = 0,
	AVAuthorizationStatusRestricted = 1,
	AVAuthorizationStatusDenied = 2,
	AVAuthorizationStatusAuthorized = 3,
} API_AVAILABLE(macos(10.14), ios(7.0));

@interface AVFrameRateRange : NSObject
@property(readonly) Float64 minFrameRate;
@property(readonly) Float64 maxFrameRate;
@property(readonly) CMTime maxFrameDuration;
@property(readonly) CMTime minFrameDuration;
@end

AVF_EXPORT NSString *const AVCaptureDeviceWasDisconnectedNotification API_AVAILABLE(macos(10.7), ios(4.0));

@interface AVCaptureDeviceFormat : NSObject
@property(nonatomic, readonly) CMFormatDescriptionRef formatDescription;
@property(nonatomic, readonly) NSArray<AVFrameRateRange *> *videoSupportedFrameRateRanges;
@end

@interface AVCaptureDevice : NSObject
+ (NSArray<AVCaptureDevice *> *)devicesWithMediaType:(AVMediaType)mediaType API_DEPRECATED("Use AVCaptureDeviceDiscoverySession instead.", macos(10.7, 10.15));
+ (nullable AVCaptureDevice *)deviceWithUniqueID:(NSString *)deviceUniqueID;
@property(nonatomic, readonly) NSString *uniqueID;
@property(nonatomic, readonly) NSString *localizedName;
- (BOOL)lockForConfiguration:(NSError *_Nullable *_Nullable)outError;
- (void)unlockForConfiguration;
@property(nonatomic, readonly) NSArray<AVCaptureDeviceFormat *> *formats;
@property(nonatomic, retain) AVCaptureDeviceFormat *activeFormat;
@property(nonatomic) CMTime activeVideoMinFrameDuration;
@property(nonatomic) CMTime activeVideoMaxFrameDuration;
+ (AVAuthorizationStatus)authorizationStatusForMediaType:(AVMediaType)mediaType API_AVAILABLE(macos(10.14), ios(7.0));
+ (void)requestAccessForMediaType:(AVMediaType)mediaType completionHandler:(void (^)(BOOL granted))handler API_AVAILABLE(macos(10.14), ios(7.0));
@end

/* AVCaptureInput.h */
@interface AVCaptureInput : NSObject
@end
@interface AVCaptureDeviceInput : AVCaptureInput
+ (nullable instancetype)deviceInputWithDevice:(AVCaptureDevice *)device error:(NSError *_Nullable *_Nullable)outError;
@end

/* AVCaptureOutputBase.h, AVCaptureSession.h (AVCaptureConnection) */
@interface AVCaptureOutput : NSObject
@end
@interface AVCaptureConnection : NSObject
@end

/* AVCaptureVideoDataOutput.h */
@protocol AVCaptureVideoDataOutputSampleBufferDelegate <NSObject>
@optional
- (void)captureOutput:(AVCaptureOutput *)output didOutputSampleBuffer:(CMSampleBufferRef)sampleBuffer fromConnection:(AVCaptureConnection *)connection;
- (void)captureOutput:(AVCaptureOutput *)output didDropSampleBuffer:(CMSampleBufferRef)sampleBuffer fromConnection:(AVCaptureConnection *)connection API_AVAILABLE(ios(6.0));
@end
@interface AVCaptureVideoDataOutput : AVCaptureOutput
- (void)setSampleBufferDelegate:(nullable id<AVCaptureVideoDataOutputSampleBufferDelegate>)sampleBufferDelegate queue:(nullable dispatch_queue_t)sampleBufferCallbackQueue;
@property(nonatomic, copy, null_resettable) NSDictionary<NSString *, id> *videoSettings;
@property(nonatomic) BOOL alwaysDiscardsLateVideoFrames;
@end

/* AVCaptureAudioDataOutput.h */
@protocol AVCaptureAudioDataOutputSampleBufferDelegate <NSObject>
@optional
- (void)captureOutput:(AVCaptureOutput *)output didOutputSampleBuffer:(CMSampleBufferRef)sampleBuffer fromConnection:(AVCaptureConnection *)connection;
@end
@interface AVCaptureAudioDataOutput : AVCaptureOutput
- (void)setSampleBufferDelegate:(nullable id<AVCaptureAudioDataOutputSampleBufferDelegate>)sampleBufferDelegate queue:(nullable dispatch_queue_t)sampleBufferCallbackQueue;
@property(nonatomic, copy, null_resettable) NSDictionary<NSString *, id> *audioSettings API_UNAVAILABLE(ios);
@end

/* AVCaptureSession.h */
AVF_EXPORT NSString *const AVCaptureSessionRuntimeErrorNotification API_AVAILABLE(macos(10.7), ios(4.0));
AVF_EXPORT NSString *const AVCaptureSessionErrorKey API_AVAILABLE(macos(10.7), ios(4.0));
@interface AVCaptureSession : NSObject
- (BOOL)canAddInput:(AVCaptureInput *)input;
- (void)addInput:(AVCaptureInput *)input;
- (BOOL)canAddOutput:(AVCaptureOutput *)output;
- (void)addOutput:(AVCaptureOutput *)output;
- (void)beginConfiguration;
- (void)commitConfiguration;
@property(nonatomic, readonly, getter=isRunning) BOOL running;
- (void)startRunning;
- (void)stopRunning;
@property(nonatomic, readonly, nullable) __attribute__((NSObject)) CMClockRef synchronizationClock API_AVAILABLE(macos(12.3), ios(15.4));
@property(nonatomic, readonly, nullable) __attribute__((NSObject)) CMClockRef masterClock API_DEPRECATED_WITH_REPLACEMENT("synchronizationClock", macos(10.9, 12.3), ios(7.0, 15.4));
@end

#pragma clang assume_nonnull end

#endif
