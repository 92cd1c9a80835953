#!/bin/sh
# Stands in for the `go` tool in GoReleaser's linux/amd64 build (.goreleaser.yaml,
# build id "linux"): the release runs on macOS, where libavcodec and libsrt for
# Linux are not at hand, so the Linux binary is compiled natively by an
# earlier Linux job and handed in here. GoReleaser calls
#     prebuilt-go.sh build [flags...] -o OUTPUT MAIN
# and this copies $LIVECAP_LINUX_BINARY to OUTPUT.
#
# The Linux job must build with the same flags and ldflags as the release:
#     CGO_ENABLED=1 go build -trimpath \
#       -ldflags "-s -w -X main.version=$VERSION -X main.commit=$SHORT_COMMIT" \
#       -o linux/livecap ./cmd/livecap
# where VERSION is the tag without its leading v (GoReleaser's .Version).
set -eu

if [ "${1:-}" != build ]; then
	# Anything but a build (GoReleaser may ask `env`, `version`): real go.
	exec go "$@"
fi
out=
while [ $# -gt 0 ]; do
	case "$1" in
	-o) out="$2"; shift ;;
	-o=*) out="${1#-o=}" ;;
	esac
	shift
done
if [ -z "$out" ]; then
	echo "prebuilt-go.sh: no -o OUTPUT in the build command" >&2
	exit 2
fi
bin="${LIVECAP_LINUX_BINARY:-}"
if [ -z "$bin" ] || [ ! -f "$bin" ]; then
	echo "prebuilt-go.sh: LIVECAP_LINUX_BINARY=\"$bin\" is not a file; set it to the livecap binary built by the Linux job" >&2
	exit 2
fi
# An ELF x86-64 executable, not a stray macOS build (bytes 0-3: \177ELF,
# byte 4: 2 = 64-bit, bytes 18-19: 0x3e 0x00 = x86-64).
magic=$(od -An -tx1 -N20 "$bin" | tr -d ' \n')
case "$magic" in
7f454c4602*) ;;
*) echo "prebuilt-go.sh: $bin is not a 64-bit ELF executable" >&2; exit 2 ;;
esac
if [ "$(printf %s "$magic" | cut -c37-40)" != 3e00 ]; then
	echo "prebuilt-go.sh: $bin is not built for x86-64" >&2
	exit 2
fi
mkdir -p "$(dirname "$out")"
cp "$bin" "$out"
chmod 755 "$out"
