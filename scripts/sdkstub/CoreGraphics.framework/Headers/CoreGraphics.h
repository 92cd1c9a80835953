/* livecap SDK stub: only the CoreGraphics declarations livecap uses,
   written after Apple's CoreGraphics/CGWindow.h (screen capture access).
   Not Apple's file; on a Mac the real SDK is used. */
#ifndef LIVECAP_STUB_COREGRAPHICS_H
#define LIVECAP_STUB_COREGRAPHICS_H

#include <stdbool.h>
#include <stdint.h>
#include <os/availability.h>

#if defined(__cplusplus)
extern "C" {
#endif

/* CGWindow.h */
extern bool CGPreflightScreenCaptureAccess(void) API_AVAILABLE(macos(10.15));
extern bool CGRequestScreenCaptureAccess(void) API_AVAILABLE(macos(10.15));

#if defined(__cplusplus)
}
#endif
#endif
