/* livecap SDK stub: only the CoreMedia declarations livecap uses, written
   after Apple's CoreMedia headers (CMBase.h, CMTime.h, CMSync.h,
   CMBlockBuffer.h, CMFormatDescription.h, CMSampleBuffer.h). Not Apple's
   file; on a Mac the real SDK is used. */
#ifndef LIVECAP_STUB_COREMEDIA_H
#define LIVECAP_STUB_COREMEDIA_H

#include <stddef.h>
#include <stdint.h>
#include <CoreFoundation/CoreFoundation.h>
#include <CoreVideo/CoreVideo.h>
#include <CoreAudioTypes/CoreAudioTypes.h>

#if defined(__cplusplus)
extern "C" {
#endif

#define CM_EXPORT extern

/* CMTime.h */
typedef int64_t CMTimeValue;
typedef int32_t CMTimeScale;
typedef int64_t CMTimeEpoch;
typedef uint32_t CMTimeFlags;
enum {
	kCMTimeFlags_Valid = 1UL << 0,
	kCMTimeFlags_HasBeenRounded = 1UL << 1,
	kCMTimeFlags_PositiveInfinity = 1UL << 2,
	kCMTimeFlags_NegativeInfinity = 1UL << 3,
	kCMTimeFlags_Indefinite = 1UL << 4,
};
#pragma pack(push, 4)
typedef struct {
	CMTimeValue value;
	CMTimeScale timescale;
	CMTimeFlags flags;
	CMTimeEpoch epoch;
} CMTime;
#pragma pack(pop)
typedef uint32_t CMTimeRoundingMethod;
enum {
	kCMTimeRoundingMethod_RoundHalfAwayFromZero = 1,
	kCMTimeRoundingMethod_RoundTowardZero = 2,
	kCMTimeRoundingMethod_RoundAwayFromZero = 3,
	kCMTimeRoundingMethod_QuickTime = 4,
	kCMTimeRoundingMethod_RoundTowardPositiveInfinity = 5,
	kCMTimeRoundingMethod_RoundTowardNegativeInfinity = 6,
	kCMTimeRoundingMethod_Default = kCMTimeRoundingMethod_RoundHalfAwayFromZero
};
CM_EXPORT const CMTime kCMTimeInvalid;
CM_EXPORT CMTime CMTimeMake(int64_t value, int32_t timescale);
CM_EXPORT CMTime CMTimeConvertScale(CMTime time, int32_t newTimescale, CMTimeRoundingMethod method);
CM_EXPORT Float64 CMTimeGetSeconds(CMTime time);

/* CMSync.h */
typedef struct OpaqueCMClock *CMClockRef;
typedef CFTypeRef CMClockOrTimebaseRef;
CM_EXPORT CFTypeID CMClockGetTypeID(void);
CM_EXPORT CMClockRef CMClockGetHostTimeClock(void);
CM_EXPORT CMTime CMClockGetTime(CMClockRef clock);
CM_EXPORT CMTime CMSyncConvertTime(CMTime time, CMClockOrTimebaseRef fromClockOrTimebase, CMClockOrTimebaseRef toClockOrTimebase);

/* CMBlockBuffer.h */
typedef struct OpaqueCMBlockBuffer *CMBlockBufferRef;
CM_EXPORT CFTypeID CMBlockBufferGetTypeID(void);
enum {
	kCMBlockBufferNoErr = 0,
};
CM_EXPORT size_t CMBlockBufferGetDataLength(CMBlockBufferRef theBuffer);
CM_EXPORT OSStatus CMBlockBufferCopyDataBytes(CMBlockBufferRef theSourceBuffer, size_t offsetToData, size_t dataLength, void *destination);
CM_EXPORT OSStatus CMBlockBufferGetDataPointer(CMBlockBufferRef theBuffer, size_t offset, size_t *lengthAtOffsetOut, size_t *totalLengthOut, char **dataPointerOut);

/* CMFormatDescription.h */
typedef const struct opaqueCMFormatDescription *CMFormatDescriptionRef;
typedef CMFormatDescriptionRef CMVideoFormatDescriptionRef;
typedef CMFormatDescriptionRef CMAudioFormatDescriptionRef;
CM_EXPORT CFTypeID CMFormatDescriptionGetTypeID(void);
typedef FourCharCode CMVideoCodecType;
enum {
	kCMVideoCodecType_H264 = 'avc1',
};
typedef struct {
	int32_t width;
	int32_t height;
} CMVideoDimensions;
CM_EXPORT FourCharCode CMFormatDescriptionGetMediaSubType(CMFormatDescriptionRef desc);
CM_EXPORT CMVideoDimensions CMVideoFormatDescriptionGetDimensions(CMVideoFormatDescriptionRef videoDesc);
CM_EXPORT OSStatus CMVideoFormatDescriptionGetH264ParameterSetAtIndex(CMFormatDescriptionRef videoDesc, size_t parameterSetIndex, const uint8_t **parameterSetPointerOut, size_t *parameterSetSizeOut, size_t *parameterSetCountOut, int *NALUnitHeaderLengthOut);
CM_EXPORT const AudioStreamBasicDescription *CMAudioFormatDescriptionGetStreamBasicDescription(CMAudioFormatDescriptionRef desc);

/* CMSampleBuffer.h */
typedef struct opaqueCMSampleBuffer *CMSampleBufferRef;
CM_EXPORT CFTypeID CMSampleBufferGetTypeID(void);
typedef long CMItemCount;
enum {
	kCMSampleBufferFlag_AudioBufferList_Assure16ByteAlignment = (1L << 0),
};
CM_EXPORT CMBlockBufferRef CMSampleBufferGetDataBuffer(CMSampleBufferRef sbuf);
CM_EXPORT CVImageBufferRef CMSampleBufferGetImageBuffer(CMSampleBufferRef sbuf);
CM_EXPORT CMTime CMSampleBufferGetPresentationTimeStamp(CMSampleBufferRef sbuf);
CM_EXPORT CMTime CMSampleBufferGetDecodeTimeStamp(CMSampleBufferRef sbuf);
CM_EXPORT CMItemCount CMSampleBufferGetNumSamples(CMSampleBufferRef sbuf);
CM_EXPORT CMFormatDescriptionRef CMSampleBufferGetFormatDescription(CMSampleBufferRef sbuf);
CM_EXPORT CFArrayRef CMSampleBufferGetSampleAttachmentsArray(CMSampleBufferRef sbuf, Boolean createIfNecessary);
CM_EXPORT Boolean CMSampleBufferIsValid(CMSampleBufferRef sbuf);
CM_EXPORT OSStatus CMSampleBufferGetAudioBufferListWithRetainedBlockBuffer(CMSampleBufferRef sbuf, size_t *bufferListSizeNeededOut, AudioBufferList *bufferListOut, size_t bufferListSize, CFAllocatorRef blockBufferStructureAllocator, CFAllocatorRef blockBufferBlockAllocator, uint32_t flags, CMBlockBufferRef *blockBufferOut);
CM_EXPORT const CFStringRef kCMSampleAttachmentKey_NotSync;

#if defined(__cplusplus)
}
#endif
#endif
