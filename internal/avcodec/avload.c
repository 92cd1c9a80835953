//go:build linux && cgo

// The run-time loading of libavutil and libavcodec (see lcav.h).

#include <dlfcn.h>
#include <sys/prctl.h>
#include <libavutil/avutil.h>
#include <libavcodec/version.h>
#include "lcav.h"

#define LC_DEFINE(name) __typeof__(&name) lc_##name;
LC_AVCODEC_FUNCS(LC_DEFINE)
LC_AVUTIL_FUNCS(LC_DEFINE)
#undef LC_DEFINE

// The sonames of the major versions the headers describe: the ABI this
// package was compiled against.
#define LC_AVUTIL_SO "libavutil.so." AV_STRINGIFY(LIBAVUTIL_VERSION_MAJOR)
#define LC_AVCODEC_SO "libavcodec.so." AV_STRINGIFY(LIBAVCODEC_VERSION_MAJOR)

int lc_load(char *err, size_t n) {
	void *util = dlopen(LC_AVUTIL_SO, RTLD_NOW | RTLD_LOCAL);
	if (!util) {
		snprintf(err, n, "%s", dlerror());
		return -1;
	}
	void *codec = dlopen(LC_AVCODEC_SO, RTLD_NOW | RTLD_LOCAL);
	if (!codec) {
		snprintf(err, n, "%s", dlerror());
		return -1;
	}
#define LC_RESOLVE(lib, name) \
	if (!(lc_##name = (__typeof__(&name))dlsym(lib, #name))) { \
		snprintf(err, n, "%s has no %s", lib == util ? LC_AVUTIL_SO : LC_AVCODEC_SO, #name); \
		return -1; \
	}
#define LC_RESOLVE_UTIL(name) LC_RESOLVE(util, name)
#define LC_RESOLVE_CODEC(name) LC_RESOLVE(codec, name)
	LC_AVUTIL_FUNCS(LC_RESOLVE_UTIL)
	LC_AVCODEC_FUNCS(LC_RESOLVE_CODEC)
	return 0;
}

int lc_decline_huge_pages(void) {
	return prctl(PR_SET_THP_DISABLE, 1, 0, 0, 0);
}
