/* livecap SDK stub: only the CoreAudioTypes declarations livecap uses,
   written after Apple's CoreAudioTypes/CoreAudioBaseTypes.h. Not Apple's
   file; on a Mac the real SDK is used. */
#ifndef LIVECAP_STUB_COREAUDIOTYPES_H
#define LIVECAP_STUB_COREAUDIOTYPES_H

#include <MacTypes.h>

#if defined(__cplusplus)
extern "C" {
#endif

typedef UInt32 AudioFormatID;
typedef UInt32 AudioFormatFlags;

struct AudioBuffer {
	UInt32 mNumberChannels;
	UInt32 mDataByteSize;
	void *mData;
};
typedef struct AudioBuffer AudioBuffer;

struct AudioBufferList {
	UInt32 mNumberBuffers;
	AudioBuffer mBuffers[1];
};
typedef struct AudioBufferList AudioBufferList;

struct AudioStreamBasicDescription {
	Float64 mSampleRate;
	AudioFormatID mFormatID;
	AudioFormatFlags mFormatFlags;
	UInt32 mBytesPerPacket;
	UInt32 mFramesPerPacket;
	UInt32 mBytesPerFrame;
	UInt32 mChannelsPerFrame;
	UInt32 mBitsPerChannel;
	UInt32 mReserved;
};
typedef struct AudioStreamBasicDescription AudioStreamBasicDescription;

struct AudioStreamPacketDescription {
	SInt64 mStartOffset;
	UInt32 mVariableFramesInPacket;
	UInt32 mDataByteSize;
};
typedef struct AudioStreamPacketDescription AudioStreamPacketDescription;

enum {
	kAudioFormatLinearPCM = 'lpcm',
	kAudioFormatMPEG4AAC = 'aac ',
};

enum {
	kAudioFormatFlagIsFloat = (1U << 0),
	kAudioFormatFlagIsBigEndian = (1U << 1),
	kAudioFormatFlagIsSignedInteger = (1U << 2),
	kAudioFormatFlagIsPacked = (1U << 3),
	kAudioFormatFlagIsAlignedHigh = (1U << 4),
	kAudioFormatFlagIsNonInterleaved = (1U << 5),
	kAudioFormatFlagIsNonMixable = (1U << 6),
};


/* typedef CF_ENUM(long, MPEG4ObjectID) */
typedef long MPEG4ObjectID;
enum {
	kMPEG4Object_AAC_Main = 1,
	kMPEG4Object_AAC_LC = 2,
};

#if defined(__cplusplus)
}
#endif
#endif
