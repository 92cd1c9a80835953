#!/usr/bin/env bash
# Latency from an encoded packet leaving the encoder (Packet.Encoded) to its
# bytes written to the socket, p50 and p99, from livecap's own
# instrumentation (`livecap stream --latency-report`): BENCH_SECONDS (30) of
# the 1280x720@30 test source, x264 $LIVECAP_PRESET (veryfast),
# 4 Mbit/s, published to a local nginx-rtmp and recorded at the same time.
#
#   scripts/bench-latency.sh
#   BENCH_SECONDS=120 scripts/bench-latency.sh
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/bench/lib.sh

secs="${BENCH_SECONDS:-30}"
export LIVECAP_PRESET="${LIVECAP_PRESET:-veryfast}" # livecap --preset (config env)

bench_need
bench_tmp
bench_livecap
bench_require_flags --latency-report --video --audio --size --fps --bitrate --keyint --duration --rtmp --record
bench_nginx_start
rec="$BENCH_TMP/rec"
mkdir -p "$rec"
bench_log "nginx-rtmp on 127.0.0.1:$RTMP_PORT; livecap for ${secs}s"
bench_measure livecap 1 "$LIVECAP" stream --video test --audio test \
	--size 1280x720 --fps 30 --bitrate 4M --keyint 2s --duration "${secs}s" \
	--rtmp "rtmp://127.0.0.1:$RTMP_PORT/live/latency" --record "$rec" --segment 30s \
	--latency-report

echo
echo "Encoder-to-socket latency: ${secs}s of 1280x720@30, x264 $LIVECAP_PRESET 4 Mbit/s, RTMP to local nginx + recording"
echo
if ! grep -iE 'latency|p50|p99' "$BENCH_TMP/livecap.1.log"; then
	tail -n 20 "$BENCH_TMP/livecap.1.log" >&2
	bench_die "livecap printed no latency report (its output is above)"
fi
echo
bench_table livecap
