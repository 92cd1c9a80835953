//go:build linux && cgo

package avcodec

/*
#cgo pkg-config: libavcodec libavutil
#include "lcav.h"
*/
import "C"

import (
	"fmt"
	"unsafe"

	"github.com/livecap/livecap/internal/encoder"
)

// Name is the name under which this backend registers with package encoder.
const Name = "libavcodec"

func init() {
	// libx264 and the aac encoder log their banner and closing statistics
	// at info level on stderr; the pipeline reports what matters itself.
	C.av_log_set_level(C.AV_LOG_ERROR)
	encoder.Register(backend{})
}

type backend struct{}

func (backend) Name() string { return Name }

func (backend) OpenVideo(s encoder.VideoSettings, out encoder.Output) (encoder.VideoEncoder, error) {
	return OpenVideo(s, out)
}

func (backend) OpenAudio(s encoder.AudioSettings, out encoder.Output) (encoder.AudioEncoder, error) {
	return OpenAudio(s, out)
}

// avError turns a negative libav return code into a Go error naming the
// operation.
func avError(op string, code C.int) error {
	var buf [256]C.char
	C.lc_strerror(code, &buf[0], C.size_t(len(buf)))
	return fmt.Errorf("%s: %s", op, C.GoString(&buf[0]))
}

// setOpt sets one AVOption; libx264's private options are found through
// AV_OPT_SEARCH_CHILDREN.
func setOpt(ctx *C.AVCodecContext, key, val string) error {
	k, v := C.CString(key), C.CString(val)
	defer C.free(unsafe.Pointer(k))
	defer C.free(unsafe.Pointer(v))
	if ret := C.lc_set_opt(ctx, k, v); ret < 0 {
		return avError(fmt.Sprintf("setting %s=%s", key, val), ret)
	}
	return nil
}

// findEncoder looks an encoder up by name.
func findEncoder(name string) *C.AVCodec {
	n := C.CString(name)
	defer C.free(unsafe.Pointer(n))
	return C.avcodec_find_encoder_by_name(n)
}
