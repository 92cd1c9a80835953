#!/usr/bin/env bash
# livecap's own start-up and memory, without any other tool beside it.
#
# Start-up (medians of BENCH_RUNS, 5): milliseconds from the exec to
#   - `livecap version` exiting (the cost of merely starting the binary),
#   - the `started` event and the first `segment_opened` (the first packet
#     reaching the recorder) for an encoding run (test source, 1280x720,
#     x264 + AAC) and a copy-only run (--input of a 10 s H.264/AAC file).
# Memory (one run each of BENCH_SECONDS, 20, in real time): peak RSS and,
# at that moment, its anonymous (heap, stacks, C allocations) and
# file-backed (binary and shared libraries) parts, for
#   - record-only: test source encoded and recorded, no destination;
#   - copy-only:   --input file published to a local nginx-rtmp and recorded;
#   - whole job:   test source encoded, published and recorded,
#   and the mappings (binary, each shared library, anonymous memory) that
#   hold most of the whole job's peak.
#
#   scripts/bench-startup.sh
#   LIVECAP_BIN=/tmp/old-livecap scripts/bench-startup.sh    # another build
#   BENCH_CALLGRIND=1 scripts/bench-startup.sh               # + instruction counts
#
# With BENCH_CALLGRIND=1 it also counts instructions with valgrind's
# callgrind (exact, unlike wall time on a loaded machine) for `livecap
# version` and for a 1 s copy-only run, split into the dynamic linker
# (ld.so), livecap's own code (Go) and the shared libraries' init code.
# Go's asynchronous preemption signals crash callgrind, so it runs with
# GODEBUG=asyncpreemptoff=1. By hand:
#
#   GODEBUG=asyncpreemptoff=1 valgrind --tool=callgrind --callgrind-out-file=cg.out livecap version
#   callgrind_annotate cg.out | head -30
#
# (perf stat -e instructions:u gives the same where hardware counters are
# exposed; on this project's VM they are not.)
#
# Needs ffmpeg, nginx-light + libnginx-mod-rtmp, python3, GNU time;
# valgrind for BENCH_CALLGRIND.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/bench/lib.sh

runs="${BENCH_RUNS:-5}"
secs="${BENCH_SECONDS:-20}"

bench_need
bench_tmp
bench_livecap
bench_require_flags --input --fast --video --audio --record --rtmp --log-format
st() { python3 scripts/bench/startup.py "$@"; }
val() { awk -v k="$1" '$1 == k { print $2 }' "$2"; }

input="$BENCH_TMP/in10.mp4"
ffmpeg -hide_banner -nostdin -loglevel error -y \
	-f lavfi -i "testsrc2=size=1280x720:rate=30" -f lavfi -i "sine=frequency=1000:sample_rate=48000" \
	-t 10 -c:v libx264 -preset veryfast -b:v 4M -maxrate 4M -bufsize 4M -g 60 -bf 0 \
	-c:a aac -b:a 128k -ac 2 "$input"

bench_log "start-up: $runs run(s) each ($(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg))"
st "$runs" "$LIVECAP" version >"$BENCH_TMP/version.st"
rec="$BENCH_TMP/rec"
mkdir -p "$rec"
st "$runs" "$LIVECAP" stream --video test --audio test --size 1280x720 --fps 30 --duration 2s \
	--record "$rec" --log-format json >"$BENCH_TMP/encode.st"
rm -rf "$rec" && mkdir -p "$rec"
st "$runs" "$LIVECAP" stream --input "$input" --fast --record "$rec" --log-format json >"$BENCH_TMP/copy.st"
rm -rf "$rec"

bench_nginx_start
bench_log "memory: ${secs}s per job"
for job in record copy whole; do
	mkdir -p "$rec"
	url="rtmp://127.0.0.1:$RTMP_PORT/live/$job"
	case "$job" in
	record) args=(--video test --audio test --size 1280x720 --fps 30 --duration "${secs}s") ;;
	copy) args=(--input "$input" --loop --duration "${secs}s" --rtmp "$url") ;;
	whole) args=(--video test --audio test --size 1280x720 --fps 30 --duration "${secs}s" --rtmp "$url") ;;
	esac
	STARTUP_TOP=8 st 1 "$LIVECAP" stream "${args[@]}" --record "$rec" --log-format json >"$BENCH_TMP/mem-$job.st"
	rm -rf "$rec"
done

echo
echo "livecap start-up ($LIVECAP; medians of $runs runs; ms from exec)"
printf '  %-44s %8s ms\n' "version: exit" "$(val exit_ms "$BENCH_TMP/version.st")"
printf '  %-44s %8s ms   first packet at %s ms\n' "encode (test source 720p, x264+AAC): started" \
	"$(val started_ms "$BENCH_TMP/encode.st")" "$(val first_ms "$BENCH_TMP/encode.st")"
printf '  %-44s %8s ms   first packet at %s ms\n' "copy-only (--input 720p H.264+AAC): started" \
	"$(val started_ms "$BENCH_TMP/copy.st")" "$(val first_ms "$BENCH_TMP/copy.st")"
echo
echo "livecap memory (${secs}s real time, 1280x720@30, 4 Mbit/s; MB)"
printf '  %-44s %10s %10s %10s\n' "" "peak RSS" "anon" "file"
for job in record copy whole; do
	f="$BENCH_TMP/mem-$job.st"
	case "$job" in
	record) name="record-only (encode + fMP4)" ;;
	copy) name="copy-only (--input, RTMP + fMP4)" ;;
	whole) name="whole job (encode, RTMP + fMP4)" ;;
	esac
	printf '  %-44s %10s %10s %10s\n' "$name" "$(val peak_rss_mb "$f")" "$(val anon_mb "$f")" "$(val file_mb "$f")"
done
echo "  shared libraries mapped at start: $(ldd "$LIVECAP" | wc -l) (ldd $LIVECAP)"
echo
echo "where the whole job's peak is (the 8 largest mappings; MB resident, of which anonymous)"
awk '$1 == "top" { print $2 }' "$BENCH_TMP/mem-whole.st" | tr ',' '\n' |
	awk -F: '{ printf "  %8s %8s  %s\n", $1, $2, $3 }'
echo "  ([anon]: heaps, C allocations and stacks; a library's anonymous part is its relocated data)"

if [ "${BENCH_CALLGRIND:-}" = 1 ]; then
	command -v valgrind >/dev/null || bench_die "valgrind is missing (apt-get install valgrind)"
	short="$BENCH_TMP/in1.mp4"
	ffmpeg -hide_banner -nostdin -loglevel error -y -i "$input" -t 1 -c copy "$short"
	echo
	echo "instructions (callgrind, GODEBUG=asyncpreemptoff=1)"
	for what in version copy1s; do
		out="$BENCH_TMP/cg.$what"
		case "$what" in
		version) cmd=("$LIVECAP" version) ;;
		copy1s) mkdir -p "$rec" && cmd=("$LIVECAP" stream --input "$short" --fast --record "$rec") ;;
		esac
		GODEBUG=asyncpreemptoff=1 valgrind --tool=callgrind --callgrind-out-file="$out" "${cmd[@]}" >/dev/null 2>"$out.log" ||
			bench_die "callgrind of ${cmd[*]} failed: $(tail -3 "$out.log")"
		callgrind_annotate --threshold=100 --auto=no "$out" 2>/dev/null | python3 -c '
import re, sys
what = sys.argv[1]
total, parts, section = 0, {"ld.so": 0, "Go (livecap)": 0, "libc": 0, "other libraries": 0}, False
for l in sys.stdin:
    if "file:function" in l:
        section = True
        continue
    m = re.match(r"\s*([\d,]+) \(", l)
    if not m:
        continue
    n = int(m.group(1).replace(",", ""))
    if "PROGRAM TOTALS" in l:
        total = n
        continue
    if not section:
        continue
    ob = re.search(r"\[([^\]]+)\]\s*$", l)
    o = ob.group(1) if ob else ""
    if "ld-linux" in o:
        parts["ld.so"] += n
    elif "libc.so" in o:
        parts["libc"] += n
    elif ob and "/lib" in o:
        parts["other libraries"] += n
    else:
        parts["Go (livecap)"] += n
print(f"  {what:<10} {total/1e6:8.1f} M in all: " + ", ".join(f"{k} {v/1e6:.1f} M" for k, v in parts.items()))
' "$what"
		rm -rf "$rec"
	done
fi
