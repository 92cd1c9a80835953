#!/usr/bin/env bash
# The whole job, livecap beside FFmpeg and GStreamer, like for like:
# BENCH_SECONDS (60) of the same 1280x720@30 pictures (livecap's test
# pattern) and a 48 kHz stereo tone, encoded once with x264 (preset
# veryfast, or $BENCH_PRESET, tune zerolatency, High profile, no
# B-frames, no scene-cut keyframes, 4 Mbit/s CBR with a one-second VBV, a
# keyframe every 2 s) and AAC-LC 128 kbit/s, published to a local
# nginx-rtmp and recorded as fragmented MP4 segments of 30 s with 1 s
# fragments. Prints CPU seconds (user+sys), wall time and peak RSS (with
# its anonymous and file-backed parts) as medians of BENCH_RUNS (3) runs,
# the sides alternating, and livecap's ratio to each other side.
#
#   scripts/bench-vs-ffmpeg.sh
#   BENCH_RUNS=5 BENCH_SECONDS=30 scripts/bench-vs-ffmpeg.sh
#   BENCH_SIDES="livecap gstreamer" scripts/bench-vs-ffmpeg.sh
#
# Like for like is checked, not assumed: x264 writes the options it ran
# with into an SEI message of the stream; the script compares that string
# across the sides' recordings and refuses to print ratios when they
# differ (it names the options that do).
#
# The pictures: livecap draws its pattern itself (that is part of its
# job); FFmpeg and GStreamer read the same pattern, written raw by the
# hidden `livecap pattern` into a named pipe, a writer not counted on their
# side. x264's cost depends on the picture, so only the same pictures
# compare. The audio: livecap's beeps, the others a continuous sine (AAC
# costs the same either way).
#
#   FFmpeg:    -re rawvideo + lavfi sine -ac 2 → libx264 + aac → tee: fifo(flv)
#              to RTMP (drops when the server falls behind, as livecap's
#              queues do) | segment(mp4, frag_duration 1 s)
#   GStreamer: rawvideoparse ! clocksync, audiotestsrc is-live → x264enc,
#              avenc_aac → tee: flvmux ! rtmp2sink | splitmuxsink(mp4mux
#              fragment-duration=1000)
#
# Needs ffmpeg (with libx264), nginx-light, libnginx-mod-rtmp, time, and
# for GStreamer gstreamer1.0-plugins-{good,bad,ugly} + gstreamer1.0-libav.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/bench/lib.sh

runs="${BENCH_RUNS:-3}"
secs="${BENCH_SECONDS:-60}"
sides="${BENCH_SIDES:-livecap ffmpeg gstreamer}"
preset="${BENCH_PRESET:-veryfast}"
# A side that hangs is stopped after twice its duration + 30 s, not 15
# minutes (see side_gstreamer).
export BENCH_TIMEOUT="${BENCH_TIMEOUT:-$((secs * 2 + 30))}"

bench_start "$sides"
bench_require_flags --video --audio --size --fps --bitrate --keyint --duration --rtmp --record --segment
bench_nginx_start
bench_log "nginx-rtmp on 127.0.0.1:$RTMP_PORT; $runs run(s) of ${secs}s per side: $sides ($(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg))"

# pattern_pipe starts `livecap pattern` writing secs of raw pictures into a
# fresh named pipe, $pipe.
pattern_pipe() {
	pipe="$BENCH_TMP/pattern.yuv"
	rm -f "$pipe" && mkfifo "$pipe"
	"$LIVECAP" pattern --size 1280x720 --fps 30 --duration "${secs}s" >"$pipe" &
}

side_livecap() {
	bench_measure livecap "$1" "$LIVECAP" stream --video test --audio test \
		--size 1280x720 --fps 30 --bitrate 4M --keyint 2s --preset "$preset" --duration "${secs}s" \
		--sample-rate 48000 --channels 2 --audio-bitrate 128k \
		--rtmp "$3" --record "$2" --segment 30s
}

side_ffmpeg() {
	pattern_pipe
	bench_measure ffmpeg "$1" ffmpeg -hide_banner -nostdin -loglevel warning \
		-re -f rawvideo -pix_fmt yuv420p -s 1280x720 -r 30 -i "$pipe" \
		-re -f lavfi -i "sine=frequency=1000:sample_rate=48000" \
		-t "$secs" -c:v libx264 -preset "$preset" -tune zerolatency -profile:v high \
		-sc_threshold 0 -forced-idr 1 -b:v 4M -maxrate 4M -bufsize 4M -g 60 -bf 0 \
		-c:a aac -b:a 128k -ac 2 -flags +global_header \
		-f tee -map 0:v -map 1:a \
		"$(bench_ffmpeg_tee "$3" "$2" 1)"
}

side_gstreamer() {
	# gst-launch-1.0 sometimes never starts (about 1 run in 6 here: the
	# pipeline reaches PLAYING, publishes, and then no buffer moves; the
	# same pipeline works on the next try). Such a run is dropped and
	# tried again, up to 3 times, rather than ending the benchmark.
	# A fresh stream name each try: nginx may still hold the hung one.
	local try url="$3"
	for try in 1 2 3; do
		if BENCH_SOFT=1 gst_once "$1" "$2" "$url"; then
			return 0
		fi
		url="$3-retry$try"
		rm -rf "${2:?}"/*
		bench_log "gstreamer run $1: try $try hung or failed; trying again"
	done
	bench_die "gstreamer run $1 failed 3 times"
}

gst_once() {
	pattern_pipe
	# x264enc: bitrate in kbit/s, vbv-buf-capacity in ms (1 s), pass=cbr
	# sets the VBV maximum rate to the bitrate; scenecut=0 through
	# option-string; High profile from the caps after it.
	bench_gst_outputs "$3" "$2" true
	bench_measure gstreamer "$1" gst-launch-1.0 -q -e \
		filesrc location="$pipe" ! rawvideoparse width=1280 height=720 format=i420 framerate=30/1 ! clocksync ! \
		x264enc speed-preset="$preset" tune=zerolatency bitrate=4000 vbv-buf-capacity=1000 pass=cbr \
		key-int-max=60 bframes=0 option-string=scenecut=0 ! video/x-h264,profile=high ! h264parse ! tee name=v \
		audiotestsrc is-live=true wave=sine freq=1000 samplesperbuffer=1024 num-buffers=$((secs * 48000 / 1024 + 1)) ! \
		audio/x-raw,rate=48000,channels=2 ! audioconvert ! avenc_aac bitrate=128000 ! aacparse ! tee name=a \
		"${gst_out[@]}"
}

# shellcheck disable=SC2086
bench_sides "$runs" $sides

echo
echo "Whole job: ${secs}s of 1280x720@30 (the same pictures on every side) + 48 kHz stereo, x264 $preset zerolatency High"
echo "4 Mbit/s (VBV 4 Mbit/s, 1 s) keyint 2 s, AAC 128k; RTMP to local nginx + fMP4 segments of 30 s, 1 s fragments; medians of $runs run(s)"
echo
# shellcheck disable=SC2086
bench_report $sides
