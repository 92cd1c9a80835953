#!/usr/bin/env bash
# Installs everything livecap needs to build, run and test, on a fresh
# Debian/Ubuntu or macOS machine. Idempotent; safe with CI=true and no stdin.
set -euo pipefail

need_go="1.26"
go_dl="1.26.8"
here="$(cd "$(dirname "$0")/.." && pwd)"

log() { printf 'setup: %s\n' "$*" >&2; }

# --env (macOS): print the exports a build needs, for eval, and stop.
print_env=0
if [ "${1:-}" = --env ]; then print_env=1; fi

# darwin_env prints the cgo environment of a Homebrew build: libsrt's
# headers and library under `brew --prefix srt` (a stable path:
# /opt/homebrew/opt/srt on Apple Silicon, /usr/local/opt/srt on Intel;
# srtgo includes <srt/srt.h>, whose own includes are relative), and the
# deployment target README and .goreleaser.yaml promise.
darwin_env() {
	local prefix
	prefix="$(brew --prefix srt)"
	printf "export CGO_ENABLED='1'\n"
	printf "export CGO_CFLAGS='-O2 -g -I%s/include'\n" "$prefix"
	printf "export CGO_LDFLAGS='-L%s/lib'\n" "$prefix"
	printf "export MACOSX_DEPLOYMENT_TARGET='12.3'\n"
}

case "$(uname -s)" in
Linux)
	if ! command -v apt-get >/dev/null; then
		log "only Debian/Ubuntu (apt-get) is supported for automatic set-up"
		exit 1
	fi
	SUDO=""
	if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi
	pkgs=(
		build-essential pkg-config git ca-certificates curl xz-utils
		libavcodec-dev libavutil-dev        # Linux encoder backend (x264 + AAC through libavcodec)
		libavdevice-dev libavformat-dev libswscale-dev libswresample-dev
		                                    # Linux capture (v4l2, pulse, alsa, x11grab through libavdevice)
		xvfb pulseaudio pulseaudio-utils    # capture tests: an X screen and a sound server of their own (ffplay, from ffmpeg, plays into them)
		libsrt-openssl-dev                  # SRT publisher (srtgo)
		ffmpeg                              # ffprobe/ffmpeg read back every file and stream in tests
		nginx-light libnginx-mod-rtmp       # RTMP ingest peer in tests
		srt-tools                           # srt-live-transmit: SRT listener peer in tests
		gstreamer1.0-tools gstreamer1.0-plugins-base gstreamer1.0-plugins-base-apps \
		gstreamer1.0-plugins-good gstreamer1.0-plugins-bad gstreamer1.0-libav # a second reader (tsdemux, gst-discoverer)
		mediainfo                           # a third reader of every recording (record tests)
		gstreamer1.0-plugins-ugly           # x264enc: the GStreamer side of scripts/bench-vs-ffmpeg.sh and bench-copy.sh
		npm                                 # installs zig for the darwin compile check
		time                                # /usr/bin/time -v: CPU and peak memory in the benchmark scripts
	)
	missing=()
	for p in "${pkgs[@]}"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
	done
	# npm may come from a Node.js install outside apt.
	if command -v npm >/dev/null; then
		missing=("${missing[@]/npm/}")
	fi
	missing=($(printf '%s\n' "${missing[@]}" | grep -v '^$' || true))
	if [ "${#missing[@]}" -gt 0 ]; then
		log "installing: ${missing[*]}"
		export DEBIAN_FRONTEND=noninteractive
		$SUDO apt-get update -qq </dev/null
		$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" </dev/null >/dev/null
	fi
	# nginx's packaged service is not used (tests run their own instance).
	if command -v systemctl >/dev/null && systemctl is-active --quiet nginx 2>/dev/null; then
		$SUDO systemctl stop nginx || true
	fi
	if ! command -v go >/dev/null && [ -x /usr/local/go/bin/go ]; then
		export PATH="/usr/local/go/bin:$PATH"
	fi
	have_go="$(command -v go >/dev/null && go env GOVERSION | sed 's/^go//' || echo 0)"
	if [ "$(printf '%s\n%s\n' "$need_go" "$have_go" | sort -V | head -1)" != "$need_go" ]; then
		# Debian's golang-go is too old for the libraries livecap uses.
		arch="$(dpkg --print-architecture)"
		log "installing Go $go_dl for $arch into /usr/local/go"
		curl -fsSL "https://go.dev/dl/go${go_dl}.linux-${arch}.tar.gz" -o /tmp/go.tgz
		$SUDO rm -rf /usr/local/go && $SUDO tar -C /usr/local -xzf /tmp/go.tgz && rm /tmp/go.tgz
		export PATH="/usr/local/go/bin:$PATH"
		log "add /usr/local/go/bin to your PATH"
	fi
	;;
Darwin)
	if ! command -v brew >/dev/null; then
		log "Homebrew is needed: https://brew.sh"
		exit 1
	fi
	if [ "$print_env" = 1 ]; then
		darwin_env
		exit 0
	fi
	brew_pkgs=(ffmpeg pkg-config srt)
	# Go from Homebrew only when no new enough Go is on PATH (CI's
	# actions/setup-go provides one).
	have_go="$(command -v go >/dev/null && go env GOVERSION | sed 's/^go//' || echo 0)"
	if [ "$(printf '%s\n%s\n' "$need_go" "$have_go" | sort -V | head -1)" != "$need_go" ]; then
		brew_pkgs+=(go)
	fi
	for p in "${brew_pkgs[@]}"; do
		brew list --versions "$p" >/dev/null 2>&1 || brew install "$p" </dev/null
	done
	xcode-select -p >/dev/null 2>&1 || { log "install the Xcode command line tools: xcode-select --install"; exit 1; }
	# srtgo has no pkg-config line and Apple's clang does not search
	# Homebrew's prefix: the build needs these (README, "Building on a Mac").
	eval "$(darwin_env)"
	if [ -n "${GITHUB_ENV:-}" ]; then
		darwin_env | sed -e 's/^export //' -e "s/^\([A-Z_]*\)='\(.*\)'$/\1=\2/" >>"$GITHUB_ENV"
		log "build environment written to \$GITHUB_ENV"
	else
		log "build environment for this shell: eval \"\$(scripts/setup.sh --env)\""
	fi
	;;
*)
	log "unsupported system $(uname -s): livecap builds on macOS and Debian/Ubuntu"
	exit 1
	;;
esac

have="$(go env GOVERSION | sed 's/^go//')"
if [ "$(printf '%s\n%s\n' "$need_go" "$have" | sort -V | head -1)" != "$need_go" ]; then
	log "Go $have is older than $need_go: install a newer Go from https://go.dev/dl/"
	exit 1
fi
cd "$here"
go mod download
# goreleaser (v2, pinned: the Go proxy serves exact versions only) for
# packaging's TestGoreleaserCheck (`goreleaser check` of .goreleaser.yaml).
# It compiles from source: a few minutes on a fresh machine, once.
goreleaser_v="v2.15.1"
gobin="$(go env GOBIN)"; gobin="${gobin:-$(go env GOPATH)/bin}"
if ! "$gobin/goreleaser" --version 2>/dev/null | grep -q "GitVersion: *$goreleaser_v\$"; then
	log "installing goreleaser $goreleaser_v into $gobin"
	(cd / && go install "github.com/goreleaser/goreleaser/v2@$goreleaser_v")
fi
log "ready (go $have)"
