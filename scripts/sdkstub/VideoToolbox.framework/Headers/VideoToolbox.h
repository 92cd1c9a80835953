/* livecap SDK stub: only the VideoToolbox declarations livecap uses,
   written after Apple's VideoToolbox headers (VTSession.h, VTErrors.h,
   VTCompressionSession.h, VTCompressionProperties.h,
   VTVideoEncoderList.h). Not Apple's file; on a Mac the real SDK is used. */
#ifndef LIVECAP_STUB_VIDEOTOOLBOX_H
#define LIVECAP_STUB_VIDEOTOOLBOX_H

#include <CoreFoundation/CoreFoundation.h>
#include <CoreVideo/CoreVideo.h>
#include <CoreMedia/CoreMedia.h>

#if defined(__cplusplus)
extern "C" {
#endif

#define VT_EXPORT extern

/* VTSession.h */
typedef CFTypeRef VTSessionRef;
VT_EXPORT OSStatus VTSessionSetProperty(VTSessionRef session, CFStringRef propertyKey, CFTypeRef propertyValue);

/* VTErrors.h */
enum {
	kVTPropertyNotSupportedErr = -12900,
	kVTPropertyReadOnlyErr = -12901,
	kVTParameterErr = -12902,
};
typedef UInt32 VTEncodeInfoFlags;
enum {
	kVTEncodeInfo_Asynchronous = 1UL << 0,
	kVTEncodeInfo_FrameDropped = 1UL << 1,
};

/* VTCompressionSession.h */
typedef struct OpaqueVTCompressionSession *VTCompressionSessionRef;
VT_EXPORT CFTypeID VTCompressionSessionGetTypeID(void);
typedef void (*VTCompressionOutputCallback)(void *outputCallbackRefCon, void *sourceFrameRefCon, OSStatus status, VTEncodeInfoFlags infoFlags, CMSampleBufferRef sampleBuffer);
VT_EXPORT const CFStringRef kVTVideoEncoderSpecification_EnableHardwareAcceleratedVideoEncoder;
VT_EXPORT const CFStringRef kVTEncodeFrameOptionKey_ForceKeyFrame;
VT_EXPORT OSStatus VTCompressionSessionCreate(CFAllocatorRef allocator, int32_t width, int32_t height, CMVideoCodecType codecType, CFDictionaryRef encoderSpecification, CFDictionaryRef sourceImageBufferAttributes, CFAllocatorRef compressedDataAllocator, VTCompressionOutputCallback outputCallback, void *outputCallbackRefCon, VTCompressionSessionRef *compressionSessionOut);
VT_EXPORT void VTCompressionSessionInvalidate(VTCompressionSessionRef session);
VT_EXPORT CVPixelBufferPoolRef VTCompressionSessionGetPixelBufferPool(VTCompressionSessionRef session);
VT_EXPORT OSStatus VTCompressionSessionPrepareToEncodeFrames(VTCompressionSessionRef session);
VT_EXPORT OSStatus VTCompressionSessionEncodeFrame(VTCompressionSessionRef session, CVImageBufferRef imageBuffer, CMTime presentationTimeStamp, CMTime duration, CFDictionaryRef frameProperties, void *sourceFrameRefcon, VTEncodeInfoFlags *infoFlagsOut);
VT_EXPORT OSStatus VTCompressionSessionCompleteFrames(VTCompressionSessionRef session, CMTime completeUntilPresentationTimeStamp);

/* VTCompressionProperties.h */
VT_EXPORT const CFStringRef kVTCompressionPropertyKey_MaxKeyFrameInterval;
VT_EXPORT const CFStringRef kVTCompressionPropertyKey_MaxKeyFrameIntervalDuration;
VT_EXPORT const CFStringRef kVTCompressionPropertyKey_AllowFrameReordering;
VT_EXPORT const CFStringRef kVTCompressionPropertyKey_AverageBitRate;
VT_EXPORT const CFStringRef kVTCompressionPropertyKey_DataRateLimits;
VT_EXPORT const CFStringRef kVTCompressionPropertyKey_ProfileLevel;
VT_EXPORT const CFStringRef kVTProfileLevel_H264_Baseline_AutoLevel;
VT_EXPORT const CFStringRef kVTProfileLevel_H264_Main_AutoLevel;
VT_EXPORT const CFStringRef kVTProfileLevel_H264_High_AutoLevel;
VT_EXPORT const CFStringRef kVTCompressionPropertyKey_PrioritizeEncodingSpeedOverQuality;
VT_EXPORT const CFStringRef kVTCompressionPropertyKey_RealTime;
VT_EXPORT const CFStringRef kVTCompressionPropertyKey_ExpectedFrameRate;

#if defined(__cplusplus)
}
#endif
#endif
