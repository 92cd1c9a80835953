/* livecap SDK stub: only the AudioToolbox declarations livecap uses,
   written after Apple's AudioToolbox/AudioConverter.h. Not Apple's file;
   on a Mac the real SDK is used. */
#ifndef LIVECAP_STUB_AUDIOTOOLBOX_H
#define LIVECAP_STUB_AUDIOTOOLBOX_H

#include <CoreFoundation/CoreFoundation.h>
#include <CoreAudioTypes/CoreAudioTypes.h>

#if defined(__cplusplus)
extern "C" {
#endif

typedef struct OpaqueAudioConverter *AudioConverterRef;
typedef UInt32 AudioConverterPropertyID;

enum {
	kAudioConverterPropertyMaximumOutputPacketSize = 'xops',
	kAudioConverterCompressionMagicCookie = 'cmgc',
	kAudioConverterPrimeInfo = 'prim',
	kAudioConverterEncodeBitRate = 'brat',
};

struct AudioConverterPrimeInfo {
	UInt32 leadingFrames;
	UInt32 trailingFrames;
};
typedef struct AudioConverterPrimeInfo AudioConverterPrimeInfo;

typedef OSStatus (*AudioConverterComplexInputDataProc)(AudioConverterRef inAudioConverter, UInt32 *ioNumberDataPackets, AudioBufferList *ioData, AudioStreamPacketDescription **outDataPacketDescription, void *inUserData);

extern OSStatus AudioConverterNew(const AudioStreamBasicDescription *inSourceFormat, const AudioStreamBasicDescription *inDestinationFormat, AudioConverterRef *outAudioConverter);
extern OSStatus AudioConverterDispose(AudioConverterRef inAudioConverter);
extern OSStatus AudioConverterGetPropertyInfo(AudioConverterRef inAudioConverter, AudioConverterPropertyID inPropertyID, UInt32 *outSize, Boolean *outWritable);
extern OSStatus AudioConverterGetProperty(AudioConverterRef inAudioConverter, AudioConverterPropertyID inPropertyID, UInt32 *ioPropertyDataSize, void *outPropertyData);
extern OSStatus AudioConverterSetProperty(AudioConverterRef inAudioConverter, AudioConverterPropertyID inPropertyID, UInt32 inPropertyDataSize, const void *inPropertyData);
extern OSStatus AudioConverterFillComplexBuffer(AudioConverterRef inAudioConverter, AudioConverterComplexInputDataProc inInputDataProc, void *inInputDataProcUserData, UInt32 *ioOutputDataPacketSize, AudioBufferList *outOutputData, AudioStreamPacketDescription *outPacketDescription);

#if defined(__cplusplus)
}
#endif
#endif
