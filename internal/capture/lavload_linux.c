//go:build linux && cgo

// The run-time loading of the FFmpeg libraries (see lav_linux.h).

#include <dlfcn.h>
#include <libavutil/avutil.h>
#include <libavcodec/version.h>
#include <libavformat/version.h>
#include <libavdevice/version.h>
#include <libswresample/version.h>
#include <libswscale/version.h>
#include "lav_linux.h"

#define LCD_DEFINE(name) __typeof__(&name) lcd_p_##name;
LCD_AVUTIL_FUNCS(LCD_DEFINE)
LCD_SWRESAMPLE_FUNCS(LCD_DEFINE)
LCD_SWSCALE_FUNCS(LCD_DEFINE)
LCD_AVCODEC_FUNCS(LCD_DEFINE)
LCD_AVFORMAT_FUNCS(LCD_DEFINE)
LCD_AVDEVICE_FUNCS(LCD_DEFINE)
#undef LCD_DEFINE

// The sonames of the major versions the headers describe: the ABI this
// package was compiled against.
#define LCD_SO(lib, major) "lib" lib ".so." AV_STRINGIFY(major)

int lcd_load(char *err, size_t n) {
	struct {
		const char *so;
		void *h;
	} libs[] = {
		{LCD_SO("avutil", LIBAVUTIL_VERSION_MAJOR), NULL},
		{LCD_SO("swresample", LIBSWRESAMPLE_VERSION_MAJOR), NULL},
		{LCD_SO("swscale", LIBSWSCALE_VERSION_MAJOR), NULL},
		{LCD_SO("avcodec", LIBAVCODEC_VERSION_MAJOR), NULL},
		{LCD_SO("avformat", LIBAVFORMAT_VERSION_MAJOR), NULL},
		{LCD_SO("avdevice", LIBAVDEVICE_VERSION_MAJOR), NULL},
	};
	for (size_t i = 0; i < sizeof libs / sizeof libs[0]; i++) {
		libs[i].h = dlopen(libs[i].so, RTLD_NOW | RTLD_LOCAL);
		if (!libs[i].h) {
			snprintf(err, n, "%s", dlerror());
			return -1;
		}
	}
#define LCD_RESOLVE(i, name) \
	if (!(lcd_p_##name = (__typeof__(&name))dlsym(libs[i].h, #name))) { \
		snprintf(err, n, "%s has no %s", libs[i].so, #name); \
		return -1; \
	}
#define LCD_R0(name) LCD_RESOLVE(0, name)
#define LCD_R1(name) LCD_RESOLVE(1, name)
#define LCD_R2(name) LCD_RESOLVE(2, name)
#define LCD_R3(name) LCD_RESOLVE(3, name)
#define LCD_R4(name) LCD_RESOLVE(4, name)
#define LCD_R5(name) LCD_RESOLVE(5, name)
	LCD_AVUTIL_FUNCS(LCD_R0)
	LCD_SWRESAMPLE_FUNCS(LCD_R1)
	LCD_SWSCALE_FUNCS(LCD_R2)
	LCD_AVCODEC_FUNCS(LCD_R3)
	LCD_AVFORMAT_FUNCS(LCD_R4)
	LCD_AVDEVICE_FUNCS(LCD_R5)
	return 0;
}
