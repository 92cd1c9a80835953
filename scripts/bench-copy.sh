#!/usr/bin/env bash
# Muxing and fan-out cost alone, without encoding: 10 minutes of 1280x720
# at 30 fps H.264 (High, 4 Mbit/s, a keyframe every 2 s) + stereo AAC, read
# from a file as fast as possible, published to a local nginx-rtmp and
# recorded as fragmented MP4 segments of 30 s with 1 s fragments, by
# `livecap stream --input FILE --fast`, `ffmpeg -c copy` through the same
# tee as scripts/bench-vs-ffmpeg.sh, and a GStreamer pipeline (qtdemux →
# flvmux ! rtmp2sink and splitmuxsink). Prints CPU seconds (user+sys), wall
# time and peak RSS as medians of BENCH_RUNS (3) runs, the sides
# alternating, livecap's ratio to each other side, and the number of Go
# garbage collections in livecap's last run (GODEBUG=gctrace=1).
#
#   scripts/bench-copy.sh
#   BENCH_RUNS=1 BENCH_SIDES="livecap gstreamer" scripts/bench-copy.sh
#
# The input is made once with ffmpeg and cached in .cache/ (several
# minutes of encoding the first time; BENCH_INPUT=FILE uses another file).
# Every side copies the same stream, so the x264 SEI check of
# bench_report holds trivially; it still catches a side that re-encoded.
#
# Read as fast as possible, the input outruns any RTMP connection: ffmpeg's
# fifo with drop_pkts_on_overflow=1 (as in bench-vs-ffmpeg.sh) then reports
# "FIFO queue full" and drops nearly the whole stream (nginx receives under
# 1 kB), so ffmpeg would be measured doing a fraction of the job. Here its
# fifo blocks instead (BENCH_FIFO_DROP=1 restores dropping), as GStreamer's
# pipeline does. The table ends with the bytes nginx received from each
# side: livecap's publisher queue drops whole GOPs when the server falls
# behind, by design.
#
# -tag:v 7 -tag:a 10: with -c copy the tee passes the MP4 codec tags (avc1,
# mp4a) to every output, and FFmpeg 5.1's flv muxer refuses them ("Tag avc1
# incompatible with output codec id 27") and publishes nothing; 7 and 10 are
# FLV's own ids for H.264 and AAC, and the mp4 segments still get avc1/mp4a.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/bench/lib.sh

runs="${BENCH_RUNS:-3}"
drop="${BENCH_FIFO_DROP:-0}"
sides="${BENCH_SIDES:-livecap ffmpeg gstreamer}"
input="${BENCH_INPUT:-.cache/bench-720p30-10min-stereo.mp4}"

bench_start "$sides"
bench_require_flags --input --fast --rtmp --record --segment

if [ ! -s "$input" ]; then
	bench_log "making the 10-minute input $input (once)"
	mkdir -p "$(dirname "$input")"
	ffmpeg -hide_banner -nostdin -loglevel error -y \
		-f lavfi -i "testsrc2=size=1280x720:rate=30" \
		-f lavfi -i "sine=frequency=1000:sample_rate=48000" \
		-t 600 -c:v libx264 -preset veryfast -profile:v high -sc_threshold 0 \
		-b:v 4M -maxrate 4M -bufsize 4M -g 60 -bf 0 \
		-c:a aac -b:a 128k -ac 2 -movflags +faststart -f mp4 "$input.part"
	mv "$input.part" "$input"
fi
media_secs="$(ffprobe -v error -show_entries format=duration -of csv=p=0 "$input")"

bench_nginx_start
bench_log "nginx-rtmp on 127.0.0.1:$RTMP_PORT; $runs run(s) per side: $sides ($(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg))"

side_livecap() {
	GODEBUG=gctrace=1 bench_measure livecap "$1" "$LIVECAP" stream --input "$input" --fast \
		--rtmp "$3" --record "$2" --segment 30s
	grep -c '^gc ' "$BENCH_TMP/livecap.$1.log" >"$BENCH_TMP/livecap.gcs" || true
}

side_ffmpeg() {
	bench_measure ffmpeg "$1" ffmpeg -hide_banner -nostdin -loglevel warning \
		-i "$input" -c copy -tag:v 7 -tag:a 10 -f tee -map 0:v -map 0:a \
		"$(bench_ffmpeg_tee "$3" "$2" $drop)"
}

side_gstreamer() {
	bench_gst_outputs "$3" "$2" false
	bench_measure gstreamer "$1" gst-launch-1.0 -q -e \
		filesrc location="$input" ! qtdemux name=d \
		d.video_0 ! queue ! h264parse ! tee name=v \
		d.audio_0 ! queue ! aacparse ! tee name=a \
		"${gst_out[@]}"
}

# shellcheck disable=SC2086
bench_sides "$runs" $sides

echo
printf 'Copy only (no encoding): %.0f s of 1280x720@30 H.264 4 Mbit/s + stereo AAC from %s, as fast as possible,\n' "$media_secs" "$input"
echo "RTMP to local nginx + fMP4 segments of 30 s, 1 s fragments; ffmpeg fifo drop_pkts_on_overflow=$drop; medians of $runs run(s)"
echo
# shellcheck disable=SC2086
bench_report $sides
if [ -f "$BENCH_TMP/livecap.gcs" ]; then
	echo "livecap (last run): $(cat "$BENCH_TMP/livecap.gcs") garbage collections (GODEBUG=gctrace=1)"
fi
