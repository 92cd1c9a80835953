#!/usr/bin/env bash
# User-space instructions per access unit of the copy-only job, counted by
# valgrind --tool=callgrind (robust to the machine's load, unlike CPU
# seconds): `livecap stream --input FILE --fast --rtmp (nginx on 127.0.0.1)
# --record DIR --segment 30s` runs twice, with --duration SHORT and LONG
# (default 30s and 150s) of the same input, and the difference of their
# instruction counts is divided by the access units (video + audio) the
# extra media holds: start-up, the moov parse and the connections drop
# out. CHAIN_RUNS (3) pairs are counted; prints each pair's figure, their
# median, and for the median pair the split by package and the top
# functions of the difference.
#
#   scripts/bench/chain/instructions.sh
#   CHAIN_GOGC=off scripts/bench/chain/instructions.sh   # without the GC
#
# GODEBUG=asyncpreemptoff=1: callgrind asserts on Go's preemption signals.
# GOGC: livecap's own setting (cmd/livecap/gc.go) unless CHAIN_GOGC is set.
# The steady state allocates nothing, but the packet pool's warm-up (the
# recorder's queue filling to its high water in the first seconds) does,
# and under valgrind's slow clock the collections it triggers run into the
# measured part: CHAIN_GOGC=off shows the figure without them.
# Needs valgrind (apt-get install valgrind), ffprobe, nginx-light +
# libnginx-mod-rtmp. The input is the one of scripts/bench-copy.sh
# (BENCH_INPUT=FILE for another, at least LONG long).
set -euo pipefail
cd "$(dirname "$0")/../../.."
. scripts/bench/lib.sh
command -v valgrind >/dev/null || bench_die "valgrind is missing (apt-get install valgrind)"
command -v callgrind_annotate >/dev/null || bench_die "callgrind_annotate is missing (apt-get install valgrind)"
bench_start livecap
input="${BENCH_INPUT:-.cache/bench-720p30-10min-stereo.mp4}"
[ -f "$input" ] || bench_die "no input $input: run scripts/bench-copy.sh once to make it, or set BENCH_INPUT"
short="${CHAIN_SHORT:-30}" long="${CHAIN_LONG:-150}"
bench_nginx_start

count() { # SECONDS -> callgrind output file
	local out="$BENCH_TMP/cg-$1.out" dir="$BENCH_TMP/rec-$1"
	mkdir -p "$dir"
	local env=(GODEBUG=asyncpreemptoff=1)
	if [ -n "${CHAIN_GOGC:-}" ]; then
		env+=(GOGC="$CHAIN_GOGC")
	fi
	env "${env[@]}" valgrind --tool=callgrind ${CHAIN_VALGRIND_OPTS:---fair-sched=yes} --callgrind-out-file="$out" "$LIVECAP" stream \
		--input "$input" --fast --duration "${1}s" --rtmp "rtmp://127.0.0.1:$RTMP_PORT/live/cg$1" \
		--record "$dir" --segment 30s >"$BENCH_TMP/cg-$1.log" 2>&1 ||
		bench_die "livecap under callgrind failed: $(tail -3 "$BENCH_TMP/cg-$1.log")"
	rm -rf "$dir"
	echo "$out"
}

runs="${CHAIN_RUNS:-3}"
pairs=()
for i in $(seq "$runs"); do
	a="$(count "$short")"
	mv "$a" "$a.$i"
	b="$(count "$long")"
	mv "$b" "$b.$i"
	pairs+=("$a.$i" "$b.$i")
done
# Access units in the extra media: frames of each stream over the span.
aus="$(ffprobe -v error -read_intervals "${short}%${long}" -count_packets \
	-show_entries stream=nb_read_packets -of csv=p=0 "$input" | awk '{s+=$1} END {print s}')"
python3 - "$aus" "${pairs[@]}" <<'EOF'
import collections, re, subprocess, sys

def load(path):
    out = subprocess.run(["callgrind_annotate", "--inclusive=no", "--threshold=100", path],
                         capture_output=True, text=True, check=True).stdout
    d = collections.Counter()
    for line in out.splitlines():
        m = re.match(r"\s*([\d,]+)\s+\(.*?\)\s+\S+?:(\S+)", line)
        if m:
            d[re.sub(r"'\d+$", "", m.group(2))] += int(m.group(1).replace(",", ""))
    return d

def group(fn):
    m = re.match(r"github\.com/livecap/livecap/internal/(\w+)", fn)
    if m:
        return m.group(1)
    if fn.startswith("runtime."):
        if re.match(r"runtime\.(gc|scan|mark|greyobject|sweep|bgsweep|tryDefer|typePointers|wbBuf|findObject|spanOf)", fn):
            return "runtime (GC)"
        if re.match(r"runtime\.(malloc|memclr|newobject|makeslice|growslice|nextFree|\(\*mcache\)|\(\*mcentral\))", fn):
            return "runtime (allocation)"
        return "runtime (scheduler, channels, locks)"
    return fn.split(".")[0]

aus = float(sys.argv[1])
diffs = []
for sa, sb in zip(sys.argv[2::2], sys.argv[3::2]):
    a, b = load(sa), load(sb)
    diffs.append(collections.Counter({k: b[k] - a[k] for k in set(a) | set(b)}))
diffs.sort(key=lambda d: sum(d.values()))
print("pairs:", " ".join(f"{sum(d.values()) / aus:.0f}" for d in diffs))
diff = diffs[len(diffs) // 2]
groups = collections.Counter()
for k, v in diff.items():
    groups[group(k)] += v
print(f"user-space instructions per access unit (median): {sum(diff.values()) / aus:.0f} ({aus:.0f} access units)")
print("by package:")
for k, v in groups.most_common(14):
    print(f"  {v / aus:8.0f}  {k}")
print("top functions:")
for k, v in diff.most_common(20):
    print(f"  {v / aus:8.0f}  {k[:100]}")
EOF
