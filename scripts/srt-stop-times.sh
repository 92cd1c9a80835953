#!/usr/bin/env bash
# srt-stop-times.sh: how long livecap takes to stop (SIGINT, SIGTERM,
# --duration) with an SRT destination in every state, against
# srt-live-transmit on 127.0.0.1, recording at the same time. Issue 11 wants
# at most 3 s in every state. Prints one line per state: the stop, the time
# from the signal (or the end of --duration) to the process exit, the exit
# code, and the last event (it must be "stopped").
#
#   scripts/srt-stop-times.sh            # every state
#   STATES="down live" scripts/srt-stop-times.sh
set -euo pipefail
cd "$(dirname "$0")/.."
work=$(mktemp -d)
trap 'jobs -p | xargs -r kill 2>/dev/null; jobs -p | xargs -r kill -CONT 2>/dev/null; [ -n "${KEEP:-}" ] && cp "$work"/*.log "$KEEP"/; rm -rf "$work"' EXIT
go build -o "$work/livecap" ./cmd/livecap
go build -o "$work/srtlink" ./scripts/srtlink
STATES=${STATES:-"down silent live paused retrying two-one-down congested duration-live duration-down"}

freeport() { python3 -c 'import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
now() { date +%s.%N; }
listener() { # port -> pid of srt-live-transmit writing to $work/rx-PORT.ts
	srt-live-transmit -q "srt://127.0.0.1:$1?mode=listener" file://con >"$work/rx-$1.ts" 2>/dev/null &
	echo $!
}
silent() { # port -> pid of a UDP socket that never answers
	python3 -c 'import socket,sys; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1",int(sys.argv[1])))
while True: s.recv(2048)' "$1" >/dev/null 2>&1 &
	echo $!
}
# run STATE SIGNAL DELAY URL... : start livecap, wait DELAY s, signal it, time the exit.
run() {
	local state=$1 sig=$2 delay=$3
	shift 3
	local args=() u
	for u in "$@"; do args+=(--srt "$u"); done
	local log="$work/$state.log"
	"$work/livecap" stream --video test --audio test --size 640x360 --bitrate "${BITRATE:-2M}" ${EXTRA:-} \
		--record "$work/rec-$state" --log-format json --max-retries 0 "${args[@]}" >"$log" 2>&1 &
	local pid=$!
	sleep "$delay"
	eval "${BEFORE_SIGNAL:-true}"
	local t0 rc=0
	t0=$(now)
	kill -"$sig" "$pid"
	wait "$pid" || rc=$?
	local t1
	t1=$(now)
	report "$state" "$sig" "$t0" "$t1" "$rc" "$log"
}
report() {
	local last events
	last=$(tail -1 "$6" | python3 -c 'import json,sys; print(json.loads(sys.stdin.read()).get("event","?"))' 2>/dev/null || echo "?")
	events=$(grep -o '"event":"[a-z_]*"' "$6" | sort | uniq -c | awk '{gsub(/"event":/,"",$2); printf "%s=%s ", $2, $1}')
	printf '%-14s %-8s stop %5.2f s  exit %-3s last=%-8s %s\n' "$1" "$2" "$(echo "$4 - $3" | bc)" "$5" "$last" "$events"
}

for st in $STATES; do
	case $st in
	down) run down INT 4 "srt://127.0.0.1:$(freeport)?streamid=SeCrEt" ;;
	silent)
		p=$(freeport); sp=$(silent "$p")
		run silent TERM 4 "srt://127.0.0.1:$p"
		kill "$sp" ;;
	live)
		p=$(freeport); lp=$(listener "$p"); sleep 0.3
		run live TERM 4 "srt://127.0.0.1:$p"
		kill "$lp" ;;
	paused)
		p=$(freeport); lp=$(listener "$p"); sleep 0.3
		BEFORE_SIGNAL="kill -STOP $lp; sleep 3" run paused INT 3 "srt://127.0.0.1:$p"
		kill -CONT "$lp"; kill "$lp" ;;
	retrying)
		p=$(freeport); lp=$(listener "$p"); sleep 0.3
		BEFORE_SIGNAL="kill -9 $lp; sleep 8" run retrying INT 3 "srt://127.0.0.1:$p" ;;
	two-one-down)
		p=$(freeport); lp=$(listener "$p"); sleep 0.3
		run two-one-down TERM 5 "srt://127.0.0.1:$p" "srt://127.0.0.1:$(freeport)"
		kill "$lp" ;;
	congested)
		p=$(freeport); lp=$(listener "$p"); sleep 0.3
		coproc LINK { exec "$work/srtlink" -to "$p" -rate 1000000 -queue 262144; }
		read -r lport <&"${LINK[0]}"
		BITRATE=6M EXTRA="--size 1280x720" run congested INT 12 "srt://127.0.0.1:$lport?latency=3000"
		kill "$LINK_PID" "$lp" 2>/dev/null || true ;;
	duration-live | duration-down)
		p=$(freeport); lp=""
		if [ "$st" = duration-live ]; then lp=$(listener "$p"); sleep 0.3; fi
		log="$work/$st.log"
		t0=$(now); rc=0
		"$work/livecap" stream --video test --audio test --size 640x360 --bitrate 2M --record "$work/rec-$st" \
			--log-format json --max-retries 0 --duration 5s --srt "srt://127.0.0.1:$p" >"$log" 2>&1 || rc=$?
		t1=$(now)
		# Started -> exit, minus the 5 s of media: the stop alone.
		start=$(grep '"event":"started"' "$log" | python3 -c 'import json,sys,datetime
t=json.loads(sys.stdin.readline())["time"]; print(datetime.datetime.fromisoformat(t.replace("Z","+00:00")[:26]+"+00:00").timestamp())')
		report "$st" duration "$(echo "$start + 5" | bc)" "$t1" "$rc" "$log"
		[ -n "$lp" ] && kill "$lp" ;;
	esac
done
if grep -q SeCrEt "$work"/*.log; then echo "FAIL: a streamid appears in the logs"; exit 1; fi
