/* livecap SDK stub: only the CoreVideo declarations livecap uses, written
   after Apple's CoreVideo headers (CVReturn.h, CVBase.h, CVBuffer.h,
   CVImageBuffer.h, CVPixelBuffer.h, CVPixelBufferPool.h). Not Apple's
   file; on a Mac the real SDK is used. */
#ifndef LIVECAP_STUB_COREVIDEO_H
#define LIVECAP_STUB_COREVIDEO_H

#include <stddef.h>
#include <stdint.h>
#include <CoreFoundation/CoreFoundation.h>

#if defined(__cplusplus)
extern "C" {
#endif

#define CV_EXPORT extern

/* CVReturn.h */
typedef int32_t CVReturn;
enum {
	kCVReturnSuccess = 0,
	kCVReturnFirst = -6660,
	kCVReturnError = kCVReturnFirst,
};

/* CVBase.h */
typedef uint64_t CVOptionFlags;

/* CVBuffer.h, CVImageBuffer.h: Apple declares no CVBufferGetTypeID and no
   CVImageBufferGetTypeID, so cgo keeps these two pointers while
   CVPixelBufferRef, which has one, becomes uintptr. */
typedef struct __CVBuffer *CVBufferRef;
typedef CVBufferRef CVImageBufferRef;

/* CVPixelBuffer.h */
typedef CVImageBufferRef CVPixelBufferRef;
enum {
	kCVPixelFormatType_420YpCbCr8BiPlanarVideoRange = '420v',
	kCVPixelFormatType_420YpCbCr8BiPlanarFullRange = '420f',
};
typedef CVOptionFlags CVPixelBufferLockFlags;
enum {
	kCVPixelBufferLock_ReadOnly = 0x00000001,
};
CV_EXPORT const CFStringRef kCVPixelBufferPixelFormatTypeKey;
CV_EXPORT const CFStringRef kCVPixelBufferWidthKey;
CV_EXPORT const CFStringRef kCVPixelBufferHeightKey;
CV_EXPORT const CFStringRef kCVPixelBufferIOSurfacePropertiesKey;

CV_EXPORT CFTypeID CVPixelBufferGetTypeID(void);
CV_EXPORT CVPixelBufferRef CVPixelBufferRetain(CVPixelBufferRef texture);
CV_EXPORT void CVPixelBufferRelease(CVPixelBufferRef texture);
CV_EXPORT CVReturn CVPixelBufferCreate(CFAllocatorRef allocator, size_t width, size_t height, OSType pixelFormatType, CFDictionaryRef pixelBufferAttributes, CVPixelBufferRef *pixelBufferOut);
CV_EXPORT CVReturn CVPixelBufferLockBaseAddress(CVPixelBufferRef pixelBuffer, CVPixelBufferLockFlags lockFlags);
CV_EXPORT CVReturn CVPixelBufferUnlockBaseAddress(CVPixelBufferRef pixelBuffer, CVPixelBufferLockFlags unlockFlags);
CV_EXPORT size_t CVPixelBufferGetWidth(CVPixelBufferRef pixelBuffer);
CV_EXPORT size_t CVPixelBufferGetHeight(CVPixelBufferRef pixelBuffer);
CV_EXPORT OSType CVPixelBufferGetPixelFormatType(CVPixelBufferRef pixelBuffer);
CV_EXPORT void *CVPixelBufferGetBaseAddressOfPlane(CVPixelBufferRef pixelBuffer, size_t planeIndex);
CV_EXPORT size_t CVPixelBufferGetBytesPerRowOfPlane(CVPixelBufferRef pixelBuffer, size_t planeIndex);

/* CVPixelBufferPool.h */
typedef struct __CVPixelBufferPool *CVPixelBufferPoolRef;
CV_EXPORT CFTypeID CVPixelBufferPoolGetTypeID(void);
CV_EXPORT CVReturn CVPixelBufferPoolCreatePixelBuffer(CFAllocatorRef allocator, CVPixelBufferPoolRef pixelBufferPool, CVPixelBufferRef *pixelBufferOut);

#if defined(__cplusplus)
}
#endif
#endif
