#!/usr/bin/env bash
# The whole job, livecap beside ffmpeg's tee muxer: BENCH_SECONDS (60) of
# 1280x720 at 30 fps from a synthetic source, encoded once with x264
# (preset veryfast, or $LIVECAP_PRESET, for both), 4 Mbit/s, a
# keyframe every 2 s, published to a local nginx-rtmp and recorded as
# fragmented MP4 segments of 30 s. Prints CPU seconds (user+sys), wall time
# and peak RSS as medians of BENCH_RUNS (3) runs, and livecap/ffmpeg.
#
#   scripts/bench-vs-ffmpeg.sh
#   BENCH_RUNS=5 BENCH_SECONDS=30 scripts/bench-vs-ffmpeg.sh
#   BENCH_SIDES=ffmpeg scripts/bench-vs-ffmpeg.sh     # one side only
#
# ffmpeg's tee sends the RTMP output through its fifo muxer so that a slow
# server cannot block the recording, which is what livecap's per-sink queues
# do.
#
# Same pictures on both sides: by default ffmpeg encodes livecap's own test
# pattern, written raw by `livecap pattern` into a named pipe (that writer is
# a separate process, not counted in ffmpeg's figures, while livecap's side
# pays for drawing its pattern). x264 cost depends heavily on the picture,
# so only this compares the two on the same work. BENCH_FFMPEG_VIDEO=LAVFI
# makes ffmpeg use a lavfi source instead (e.g. testsrc2=size=1280x720:rate=30,
# busier: x264 then spends the whole 4 Mbit/s); the last lines print each
# side's recorded bit rate.
#
# Needs ffmpeg (with libx264), nginx-light, libnginx-mod-rtmp, time.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/bench/lib.sh

runs="${BENCH_RUNS:-3}"
secs="${BENCH_SECONDS:-60}"
sides="${BENCH_SIDES:-livecap ffmpeg}"
export LIVECAP_PRESET="${LIVECAP_PRESET:-veryfast}" # livecap --preset (config env)
preset="$LIVECAP_PRESET"
ffvideo="${BENCH_FFMPEG_VIDEO:-}"

bench_need
bench_tmp
if [[ " $sides " == *" livecap "* || -z "$ffvideo" ]]; then
	bench_livecap
	bench_require_flags --video --audio --size --fps --bitrate --keyint --duration --rtmp --record --segment
fi
bench_nginx_start
bench_log "nginx-rtmp on 127.0.0.1:$RTMP_PORT; $runs run(s) of ${secs}s per side: $sides"

for run in $(seq 1 "$runs"); do
	for side in $sides; do
		rec="$BENCH_TMP/rec-$side-$run"
		mkdir -p "$rec"
		url="rtmp://127.0.0.1:$RTMP_PORT/live/$side-$run"
		bench_log "run $run: $side"
		case "$side" in
		livecap)
			bench_measure livecap "$run" "$LIVECAP" stream --video test --audio test \
				--size 1280x720 --fps 30 --bitrate 4M --keyint 2s --duration "${secs}s" \
				--rtmp "$url" --record "$rec" --segment 30s
			;;
		ffmpeg)
			# tee: '|' separates outputs, '[k=v:k=v]' sets each one's
			# muxer and options; the fifo wraps the flv muxer; the segment
			# muxer passes movflags on to its mp4 muxer.
			if [ -z "$ffvideo" ]; then
				pipe="$BENCH_TMP/pattern.yuv"
				rm -f "$pipe" && mkfifo "$pipe"
				"$LIVECAP" pattern --size 1280x720 --fps 30 --duration "${secs}s" >"$pipe" &
				vin=(-re -f rawvideo -pix_fmt yuv420p -s 1280x720 -r 30 -i "$pipe")
			else
				vin=(-re -f lavfi -i "$ffvideo")
			fi
			bench_measure ffmpeg "$run" ffmpeg -hide_banner -nostdin -loglevel warning \
				"${vin[@]}" \
				-re -f lavfi -i "sine=frequency=1000:sample_rate=48000" \
				-t "$secs" -c:v libx264 -preset "$preset" -tune zerolatency \
				-b:v 4M -maxrate 4M -bufsize 4M -g 60 -bf 0 \
				-c:a aac -b:a 128k -flags +global_header \
				-f tee -map 0:v -map 1:a \
				"[f=fifo:fifo_format=flv:drop_pkts_on_overflow=1:attempt_recovery=1:onfail=ignore]$url|[f=segment:segment_time=30:segment_format=mp4:segment_format_options=movflags=frag_keyframe+empty_moov+default_base_moof]$rec/ff-%03d.mp4"
			;;
		*) bench_die "unknown side $side (livecap, ffmpeg)" ;;
		esac
		read -r nfiles rsecs rkbps < <(bench_recorded "$rec")
		sleep 0.5 # nginx logs a session once it has closed it
		echo "$nfiles $rsecs $rkbps $(bench_published "$side-$run")" >"$BENCH_TMP/$side.recorded"
		rm -rf "$rec"
	done
done

echo
echo "Whole job: ${secs}s of 1280x720@30 synthetic video (ffmpeg: ${ffvideo:-livecap pattern, the same pictures}) + 48 kHz tone, x264 $preset 4 Mbit/s keyint 2 s,"
echo "RTMP to local nginx + fragmented MP4 segments of 30 s; medians of $runs run(s)"
echo
# shellcheck disable=SC2086
bench_table $sides
echo
for side in $sides; do
	read -r n s k b <"$BENCH_TMP/$side.recorded"
	echo "$side (last run): recorded $n segment file(s), ${s} s of media at $k kbit/s; nginx received $b bytes"
done
