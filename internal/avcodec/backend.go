//go:build linux && cgo

package avcodec

/*
#cgo pkg-config: libavcodec libavutil
#cgo LDFLAGS: -Wl,--as-needed
#include "lcav.h"
*/
import "C"

import (
	"fmt"
	"sync"
	"unsafe"

	"github.com/livecap/livecap/internal/encoder"
)

// Name is the name under which this backend registers with package encoder.
const Name = "libavcodec"

func init() { encoder.Register(backend{}) }

// load loads libavcodec and libavutil on first use (see lcav.h).
var load = sync.OnceValue(func() error {
	var buf [512]C.char
	if C.lc_load(&buf[0], C.size_t(len(buf))) != 0 {
		return fmt.Errorf("libavcodec cannot be loaded: %s (Debian/Ubuntu: apt install libavcodec59, or the FFmpeg libraries livecap was built against)",
			C.GoString(&buf[0]))
	}
	// libx264 and the aac encoder log their banner and closing statistics
	// at info level on stderr; the pipeline reports what matters itself.
	C.lc_log_set_level(C.AV_LOG_ERROR)
	return nil
})

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

// findEncoder loads the libraries and looks an encoder up by name.
func findEncoder(name string) (*C.AVCodec, error) {
	if err := load(); err != nil {
		return nil, err
	}
	n := C.CString(name)
	defer C.free(unsafe.Pointer(n))
	codec := C.lc_find_encoder(n)
	if codec == nil {
		return nil, fmt.Errorf("%s encoder not available in this FFmpeg build", name)
	}
	return codec, nil
}
