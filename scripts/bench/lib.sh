# Shared helpers of the scripts/bench-*.sh benchmarks. Source it; it expects
# bash with `set -euo pipefail` and the repository root as working directory.
#
# Needs: ffmpeg, ffprobe, nginx-light + libnginx-mod-rtmp, python3 and GNU
# time (/usr/bin/time, Debian package `time`); for the GStreamer side
# gst-launch-1.0 with x264enc (gstreamer1.0-plugins-ugly), avenc_aac
# (gstreamer1.0-libav), flvmux/splitmuxsink (good) and rtmp2sink (bad).

bench_log() { printf 'bench: %s\n' "$*" >&2; }
bench_die() { printf 'bench: %s\n' "$*" >&2; exit 1; }

bench_need() {
	command -v ffmpeg >/dev/null || bench_die "ffmpeg is missing (apt-get install ffmpeg)"
	command -v ffprobe >/dev/null || bench_die "ffprobe is missing (apt-get install ffmpeg)"
	command -v nginx >/dev/null || bench_die "nginx is missing (apt-get install nginx-light libnginx-mod-rtmp)"
	[ -f /usr/lib/nginx/modules/ngx_rtmp_module.so ] || bench_die "the nginx RTMP module is missing (apt-get install libnginx-mod-rtmp)"
	[ -x /usr/bin/time ] || bench_die "GNU time is missing: /usr/bin/time (apt-get install time)"
	command -v python3 >/dev/null || bench_die "python3 is missing"
}

# bench_need_gst fails unless every GStreamer element the benchmarks use is
# installed.
bench_need_gst() {
	command -v gst-launch-1.0 >/dev/null || bench_die "gst-launch-1.0 is missing (apt-get install gstreamer1.0-tools)"
	local e
	for e in x264enc avenc_aac aacparse h264parse flvmux rtmp2sink splitmuxsink mp4mux qtdemux rawvideoparse clocksync audiotestsrc; do
		gst-inspect-1.0 --exists "$e" || bench_die "GStreamer element $e is missing (apt-get install gstreamer1.0-plugins-good gstreamer1.0-plugins-bad gstreamer1.0-plugins-ugly gstreamer1.0-libav)"
	done
}

# bench_start SIDES checks the tools every side needs, makes the scratch
# directory and finds the livecap binary.
bench_start() {
	bench_need
	if [[ " $1 " == *" gstreamer "* ]]; then
		bench_need_gst
	fi
	bench_tmp
	bench_livecap
}

# bench_tmp makes the run's scratch directory ($BENCH_TMP), removed on exit
# together with the nginx it may have started.
bench_tmp() {
	BENCH_TMP="$(mktemp -d "${TMPDIR:-/tmp}/livecap-bench.XXXXXX")"
	trap bench_cleanup EXIT
	trap 'exit 130' INT TERM
}

bench_cleanup() {
	bench_nginx_stop
	if [ -n "${BENCH_TMP:-}" ] && [ "${BENCH_KEEP:-}" != 1 ]; then
		rm -rf "$BENCH_TMP"
	fi
}

# bench_livecap builds the livecap binary into .cache/livecap (or uses
# $LIVECAP_BIN) and sets $LIVECAP.
bench_livecap() {
	if [ -n "${LIVECAP_BIN:-}" ]; then
		LIVECAP="$LIVECAP_BIN"
		return
	fi
	mkdir -p .cache
	local out
	if ! out="$(go build -o .cache/livecap ./cmd/livecap 2>&1)"; then
		printf '%s\n' "$out" >&2
		bench_die "livecap does not build (go build ./cmd/livecap failed, above)"
	fi
	LIVECAP="$PWD/.cache/livecap"
}

# bench_require_flags FLAG... fails with a clear message when `livecap
# stream` does not know one of the flags (for example before --input lands).
bench_require_flags() {
	local help f
	help="$("$LIVECAP" stream --help 2>&1 || true)"
	for f in "$@"; do
		if ! grep -q -- "$f\b" <<<"$help"; then
			bench_die "this livecap has no 'stream $f' flag yet; the benchmark needs it (see 'livecap stream --help')"
		fi
	done
}

bench_free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# bench_nginx_start starts nginx-rtmp on a random 127.0.0.1 port with its own
# prefix under $BENCH_TMP; sets $RTMP_PORT. It only relays (`live on`) and
# drops what nobody plays, which is all an ingest peer has to do here.
bench_nginx_start() {
	local prefix="$BENCH_TMP/nginx"
	mkdir -p "$prefix/logs"
	RTMP_PORT="$(bench_free_port)"
	cat >"$prefix/nginx.conf" <<EOF
load_module /usr/lib/nginx/modules/ngx_rtmp_module.so;
worker_processes 1;
error_log $prefix/logs/error.log warn;
pid $prefix/nginx.pid;
events { worker_connections 64; }
rtmp {
    access_log $prefix/logs/rtmp-access.log;
    server {
        listen 127.0.0.1:$RTMP_PORT;
        chunk_size 4096;
        application live {
            live on;
            record off;
        }
    }
}
EOF
	nginx -p "$prefix" -c "$prefix/nginx.conf" -g 'daemon off;' >"$prefix/logs/stdout.log" 2>&1 &
	BENCH_NGINX_PID=$!
	local i
	for i in $(seq 1 50); do
		if (exec 3<>"/dev/tcp/127.0.0.1/$RTMP_PORT") 2>/dev/null; then
			return 0
		fi
		if ! kill -0 "$BENCH_NGINX_PID" 2>/dev/null; then
			cat "$prefix/logs/error.log" "$prefix/logs/stdout.log" >&2 || true
			bench_die "nginx did not start"
		fi
		sleep 0.1
	done
	bench_die "nginx is not listening on 127.0.0.1:$RTMP_PORT after 5 s"
}

bench_nginx_stop() {
	if [ -n "${BENCH_NGINX_PID:-}" ]; then
		kill "$BENCH_NGINX_PID" 2>/dev/null || true
		wait "$BENCH_NGINX_PID" 2>/dev/null || true
		BENCH_NGINX_PID=""
	fi
}

# bench_measure NAME RUN CMD... runs CMD under GNU time and appends
# "cpu wall rss_mb anon_mb file_mb" to $BENCH_TMP/NAME.results (the peak
# RSS from GNU time, its anonymous and file-backed parts sampled by
# scripts/bench/rsssplit.py); its output goes to $BENCH_TMP/NAME.RUN.log.
# A failing command aborts the benchmark (with BENCH_SOFT set it returns 1
# instead and records nothing).
bench_measure() {
	local name="$1" run="$2"
	shift 2
	local tv="$BENCH_TMP/$name.$run.time" log="$BENCH_TMP/$name.$run.log"
	# A side that hangs (seen once with gst-launch-1.0 on a loaded machine)
	# ends the benchmark after $BENCH_TIMEOUT s instead of stalling it.
	/usr/bin/time -v -o "$tv" timeout -k 10 "${BENCH_TIMEOUT:-900}" "$@" >"$log" 2>&1 &
	local pid=$! split
	split="$(python3 scripts/bench/rsssplit.py "$pid")"
	if ! wait "$pid"; then
		tail -n 20 "$log" >&2
		if [ -n "${BENCH_SOFT:-}" ]; then
			bench_log "$name run $run failed or timed out (log above)"
			return 1
		fi
		bench_die "$name run $run failed or timed out: $* (log above)"
	fi
	python3 - "$tv" "$split" >>"$BENCH_TMP/$name.results" <<'EOF'
import re, sys
t = open(sys.argv[1]).read()
def num(label):
    return float(re.search(re.escape(label) + r":\s*([0-9.:]+)", t).group(1))
wall = re.search(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\):\s*([0-9:.]+)", t).group(1)
secs = 0.0
for part in wall.split(":"):
    secs = secs * 60 + float(part)
cpu = num("User time (seconds)") + num("System time (seconds)")
rss = num("Maximum resident set size (kbytes)") / 1024
print(f"{cpu:.2f} {secs:.2f} {rss:.1f} {sys.argv[2]}")
EOF
}

# bench_recorded DIR prints "files seconds kbit/s" for the MP4 segments in
# DIR (media duration summed as ffprobe reads it; bit rate of the files), so
# the table shows that each side did the whole job, and at what bit rate.
bench_recorded() {
	local dir="$1" f
	local files=()
	for f in "$dir"/*.mp4 "$dir"/*.mov; do
		[ -f "$f" ] && files+=("$f")
	done
	python3 - "${files[@]}" <<'EOF2'
import os, subprocess, sys
n, secs, size = 0, 0.0, 0
for f in sys.argv[1:]:
    n += 1
    size += os.path.getsize(f)
    out = subprocess.run(["ffprobe", "-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0", f],
                         capture_output=True, text=True).stdout.strip()
    try:
        secs += float(out)
    except ValueError:
        pass
print(n, "%.1f" % secs, "%.0f" % (size * 8 / secs / 1000 if secs else 0))
EOF2
}

# bench_published NAME prints the bytes nginx received from the publisher
# of stream NAME (from its RTMP access log, written when the session ends).
bench_published() {
	local logf="$BENCH_TMP/nginx/logs/rtmp-access.log"
	[ -f "$logf" ] || { echo 0; return; }
	awk -v n="\"$1\"" 'toupper($0) ~ /PUBLISH/ && index($0, n) { for (i = 1; i <= NF; i++) if ($i == "-") { print $(i+1); exit } }' "$logf" | tail -1 | grep . || echo 0
}

# bench_table prints, for names A B..., the medians of their results and
# the ratios A/B for each other name (unless $BENCH_NO_RATIO says why not).
bench_table() {
	python3 - "$BENCH_TMP" "${BENCH_NO_RATIO:-}" "$@" <<'EOF'
import statistics, sys
tmp, refused, names = sys.argv[1], sys.argv[2], sys.argv[3:]
med = {}
for n in names:
    rows = [list(map(float, l.split())) for l in open(f"{tmp}/{n}.results") if l.strip()]
    med[n] = [statistics.median(c) for c in zip(*rows)] + [len(rows)]
cols = ["CPU s (user+sys)", "wall s", "peak RSS MB", "anon MB", "file MB"]
k = len(cols)
w = max(len(n) for n in names) + 14
print(" " * w + "".join(f"{c:>18}" for c in cols) + f"{'runs':>6}")
for n in names:
    m = med[n]
    print(f"{n:<{w}}" + "".join(f"{v:>18.2f}" for v in m[:k]) + f"{int(m[k]):>6}")
for b in names[1:]:
    a, o = med[names[0]], med[b]
    label = "ratio " + names[0] + "/" + b
    if refused:
        print(f"{label:<{w}}  not reported: {refused}")
        continue
    r = ["%.2f" % (x / y) if y else "-" for x, y in zip(a[:k], o[:k])]
    print(f"{label:<{w}}" + "".join(f"{v:>18}" for v in r))
EOF
}

# bench_ffmpeg_tee URL REC DROP prints the outputs of FFmpeg's tee muxer
# shared by the benchmarks: '|' separates outputs, '[k=v:k=v]' sets each
# one's muxer and options; the fifo wraps the flv muxer (dropping packets
# when the server falls behind if DROP is 1); the segment muxer passes its
# format options (movflags, frag_duration in µs: 1 s fragments) to the mp4
# muxer, the ':' between them escaped for the tee.
bench_ffmpeg_tee() {
	printf '%s' "[f=fifo:fifo_format=flv:drop_pkts_on_overflow=$3:attempt_recovery=1:onfail=ignore]$1|[f=segment:segment_time=30:segment_format=mp4:segment_format_options=movflags=empty_moov+default_base_moof\\\\:frag_duration=1000000]$2/ff-%03d.mp4"
}

# bench_gst_outputs URL REC SYNC sets the array gst_out: the end of the
# GStreamer pipelines, where the tees v (H.264) and a (AAC) feed flvmux !
# rtmp2sink (sync=SYNC) and splitmuxsink (mp4mux, 30 s files, 1 s
# fragments).
bench_gst_outputs() {
	gst_out=(flvmux name=fm streamable=true ! rtmp2sink location="$1" sync="$3"
		v. ! queue ! fm.video a. ! queue ! fm.audio
		splitmuxsink name=sm location="$2/gst-%03d.mp4" max-size-time=30000000000 async-finalize=true
		muxer-factory=mp4mux "muxer-properties=properties,fragment-duration=1000,streamable=true"
		v. ! queue ! sm.video a. ! queue ! sm.audio_0)
}

# bench_x264_options FILE prints the options string of the x264 SEI in
# FILE (what x264 itself says it was configured with), or nothing.
bench_x264_options() {
	python3 - "$1" <<'EOF'
import re, sys
m = re.search(rb"x264 - core [^\x00]*? options: ([^\x00]*)", open(sys.argv[1], "rb").read())
print(m.group(1).decode() if m else "")
EOF
}

# bench_same_x264 A B... compares the x264 options of the files; prints
# nothing when they match, else one line naming every option that differs.
bench_same_x264() {
	local f opts=()
	for f in "$@"; do
		opts+=("$(bench_x264_options "$f")")
	done
	python3 - "$@" -- "${opts[@]}" <<'EOF'
import sys
args = sys.argv[1:]
i = args.index("--")
files, opts = args[:i], args[i + 1:]
if not all(opts):
    print("no x264 options SEI in " + ", ".join(f for f, o in zip(files, opts) if not o))
    sys.exit()
d = [dict(kv.split("=", 1) for kv in o.split()) for o in opts]
keys = sorted(set().union(*d))
diff = [k + " " + "/".join(x.get(k, "-") for x in d) for k in keys if len({x.get(k) for x in d}) > 1]
if diff:
    print("x264 options differ: " + ", ".join(diff))
EOF
}

# bench_first_file DIR prints the first MP4/MOV file in DIR.
bench_first_file() {
	local f
	for f in "$1"/*.mp4 "$1"/*.mov; do
		[ -f "$f" ] && { echo "$f"; return; }
	done
}

# bench_sides RUNS SIDES... runs the shell function side_NAME RUN REC URL
# of every side RUNS times, alternating sides, each under bench_measure
# (the function calls it); keeps each side's recording facts and, from its
# first run, a copy of its first file for bench_report.
bench_sides() {
	local runs="$1" run side rec url
	shift
	for run in $(seq 1 "$runs"); do
		for side in "$@"; do
			rec="$BENCH_TMP/rec-$side-$run"
			mkdir -p "$rec"
			url="rtmp://127.0.0.1:$RTMP_PORT/live/$side-$run"
			bench_log "run $run: $side"
			"side_$side" "$run" "$rec" "$url"
			read -r nfiles rsecs rkbps < <(bench_recorded "$rec")
			sleep 0.5 # nginx logs a session once it has closed it
			echo "$nfiles $rsecs $rkbps $(bench_published "$side-$run")" >"$BENCH_TMP/$side.recorded"
			if [ "$run" = 1 ]; then
				cp "$(bench_first_file "$rec")" "$BENCH_TMP/$side.first.mp4" 2>/dev/null || true
			fi
			rm -rf "$rec"
		done
	done
}

# bench_report SIDES... prints the table, with ratios only when every side's
# x264 options SEI is the same, and what each side recorded and published.
bench_report() {
	local side files=()
	for side in "$@"; do
		[ -f "$BENCH_TMP/$side.first.mp4" ] || bench_die "$side recorded nothing"
		files+=("$BENCH_TMP/$side.first.mp4")
	done
	BENCH_NO_RATIO="$(bench_same_x264 "${files[@]}")"
	bench_table "$@"
	echo
	if [ -z "$BENCH_NO_RATIO" ]; then
		echo "x264 options (SEI of each side's first file), the same on every side:"
		echo "  $(bench_x264_options "${files[0]}")"
	else
		echo "$BENCH_NO_RATIO"
	fi
	for side in "$@"; do
		read -r n s k b <"$BENCH_TMP/$side.recorded"
		echo "$side (last run): recorded $n segment file(s), ${s} s of media at $k kbit/s; nginx received $b bytes"
	done
}
