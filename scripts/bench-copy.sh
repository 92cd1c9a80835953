#!/usr/bin/env bash
# Muxing and fan-out cost alone, without encoding: 10 minutes of 1280x720
# at 30 fps H.264 (4 Mbit/s, keyframe every 2 s) + AAC, read from a file as
# fast as possible and both published to a local nginx-rtmp and recorded as
# fragmented MP4 segments of 30 s, by `livecap stream --input FILE --fast`
# and by `ffmpeg -c copy` with the same tee as scripts/bench-vs-ffmpeg.sh.
# Prints CPU seconds (user+sys), wall time and peak RSS as medians of
# BENCH_RUNS (3) runs, and livecap/ffmpeg (goal: CPU under 0.7).
#
#   scripts/bench-copy.sh
#   BENCH_RUNS=1 BENCH_SIDES=ffmpeg scripts/bench-copy.sh
#
# The input is made once with ffmpeg and cached in .cache/ (a few minutes
# of encoding the first time; BENCH_INPUT=FILE uses another file).
#
# Read as fast as possible, the input outruns any RTMP connection: ffmpeg's
# fifo with drop_pkts_on_overflow=1 (as in bench-vs-ffmpeg.sh) then reports
# "FIFO queue full" and drops nearly the whole stream (nginx receives under
# 1 kB), so ffmpeg would be measured doing a fraction of the job. Here its
# fifo blocks instead (BENCH_FIFO_DROP=1 restores dropping). The table ends
# with the bytes nginx received from each side: livecap's publisher queue
# drops whole GOPs when the server falls behind, by design.
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
sides="${BENCH_SIDES:-livecap ffmpeg}"
input="${BENCH_INPUT:-.cache/bench-720p30-10min.mp4}"

bench_need
bench_tmp
if [[ " $sides " == *" livecap "* ]]; then
	bench_livecap
	bench_require_flags --input --fast --rtmp --record --segment
fi

if [ ! -s "$input" ]; then
	bench_log "making the 10-minute input $input (once)"
	mkdir -p "$(dirname "$input")"
	ffmpeg -hide_banner -nostdin -loglevel error -y \
		-f lavfi -i "testsrc2=size=1280x720:rate=30" \
		-f lavfi -i "sine=frequency=1000:sample_rate=48000" \
		-t 600 -c:v libx264 -preset veryfast -b:v 4M -maxrate 4M -bufsize 4M -g 60 -bf 0 \
		-c:a aac -b:a 128k -movflags +faststart -f mp4 "$input.part"
	mv "$input.part" "$input"
fi
media_secs="$(ffprobe -v error -show_entries format=duration -of csv=p=0 "$input")"

bench_nginx_start
bench_log "nginx-rtmp on 127.0.0.1:$RTMP_PORT; $runs run(s) per side: $sides"

for run in $(seq 1 "$runs"); do
	for side in $sides; do
		rec="$BENCH_TMP/rec-$side-$run"
		mkdir -p "$rec"
		url="rtmp://127.0.0.1:$RTMP_PORT/live/$side-$run"
		bench_log "run $run: $side"
		case "$side" in
		livecap)
			bench_measure livecap "$run" "$LIVECAP" stream --input "$input" --fast \
				--rtmp "$url" --record "$rec" --segment 30s
			;;
		ffmpeg)
			bench_measure ffmpeg "$run" ffmpeg -hide_banner -nostdin -loglevel warning \
				-i "$input" -c copy -tag:v 7 -tag:a 10 -f tee -map 0:v -map 0:a \
				"[f=fifo:fifo_format=flv:drop_pkts_on_overflow=$drop:attempt_recovery=1:onfail=ignore]$url|[f=segment:segment_time=30:segment_format=mp4:segment_format_options=movflags=frag_keyframe+empty_moov+default_base_moof]$rec/ff-%03d.mp4"
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
printf 'Copy only (no encoding): %.0f s of 1280x720@30 H.264 4 Mbit/s + AAC from %s, as fast as possible,\n' "$media_secs" "$input"
echo "RTMP to local nginx + fragmented MP4 segments of 30 s; ffmpeg fifo drop_pkts_on_overflow=$drop; medians of $runs run(s)"
echo
# shellcheck disable=SC2086
bench_table $sides
echo
for side in $sides; do
	read -r n s k b <"$BENCH_TMP/$side.recorded"
	echo "$side (last run): recorded $n segment file(s), ${s} s of media at $k kbit/s; nginx received $b bytes"
done
