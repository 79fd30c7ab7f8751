#!/bin/sh
# gwbench.sh: the gateway beside its baseline, in the same run.
#   GET /v1/status requests per second over keep-alive (wrk, 2 threads,
#   32 connections) against `mobkitctl status` per second (a process and
#   a connection each), and the gateway's RSS after the load.
#   GW_SSE_CLIENTS (1000) event streams and a burst of GW_SSE_BURST (50)
#   events: the delivery latency, against the same burst to one stream.
# usage: gwbench.sh BIN [SECONDS] [CTL_N]
#   GW_ONLY=sse: the event streams only; GW_SSE_RUNS=N: N rounds of them;
#   GW_PERF=FILE: `perf record -g` of the gateway during the 1000 streams.
set -eu
BIN=$1
SECS=${2:-5}
N=${3:-500}
command -v wrk >/dev/null || { echo "gwbench: wrk is not installed (etc/deps.sh)"; exit 1; }
T=$(mktemp -d /tmp/mobkit-gwbench.XXXXXX)
PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
echo "bench-token" >"$T/tokens"
cat >"$T/mobkit.ini" <<EOT
[mobkitd]
control_socket = $T/ctl.sock
[profile p]
provider = echo
[member m1]
profile = p
[gateway]
listen = 127.0.0.1:$PORT
token_file = tokens
EOT
"$BIN/mobkitd" -c "$T/mobkit.ini" >"$T/log" 2>&1 &
DPID=$!
trap 'kill $DPID 2>/dev/null; wait $DPID 2>/dev/null; rm -rf "$T"' EXIT
i=0
until curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null 2>&1; do
	i=$((i + 1)); [ $i -lt 200 ] || { echo "gwbench: no gateway"; cat "$T/log"; exit 1; }
	sleep 0.05
done
gpid=$("$BIN/mobkitctl" -s "$T/ctl.sock" --json status gateway | python3 -c 'import json,sys; print(json.load(sys.stdin)["children"][0]["pid"])')
if [ "${GW_ONLY:-}" != sse ]; then
# the baseline: mobkitctl status, one process and connection per call
t0=$(date +%s.%N)
i=0
while [ $i -lt "$N" ]; do
	"$BIN/mobkitctl" -s "$T/ctl.sock" --json status >/dev/null
	i=$((i + 1))
done
t1=$(date +%s.%N)
ctl=$(echo "$N / ($t1 - $t0)" | bc -l)
out=$(wrk -t2 -c32 -d"${SECS}s" -H "Authorization: Bearer bench-token" \
    "http://127.0.0.1:$PORT/v1/status")
rps=$(echo "$out" | awk '/^Requests\/sec/ {print $2}')
lat=$(echo "$out" | awk '/^    Latency/ {print $2}')
errs=$(echo "$out" | awk '/Non-2xx|Socket errors/' | tr '\n' ' ')
rss=$(awk '/^VmRSS/ {print $2}' /proc/"$gpid"/status)
hwm=$(awk '/^VmHWM/ {print $2}' /proc/"$gpid"/status)
printf 'gateway: GET /v1/status over keep-alive  %8.0f req/s (avg latency %s) %s\n' "$rps" "$lat" "$errs"
printf '         baseline mobkitctl status       %8.0f /s\n' "$ctl"
printf '         gateway RSS after the load      %8d KiB (peak %d KiB; goal < 32 MiB)\n' "$rss" "$hwm"
fi
# event streams and a burst of events; they start after the last event so
# far, so they count the burst alone
last_seq() {
	"$BIN/mobkitctl" -s "$T/ctl.sock" --json events | tail -1 |
	    python3 -c 'import json,sys; print(json.load(sys.stdin)["seq"])'
}
ssebench() {
	"${MOBKIT_TESTBIN:-build/tests}/ssebench" "$PORT" bench-token \
	    "$BIN/mobkitctl" "$T/ctl.sock" "$1" "${GW_SSE_BURST:-50}" "$(last_seq)" \
	    "$gpid"
}
r=0
while [ $r -lt "${GW_SSE_RUNS:-1}" ]; do
	r=$((r + 1))
	base=$(ssebench 1)
	[ -z "${GW_PERF:-}" ] || { perf record -q -g -p "$gpid" -o "$GW_PERF.$r" 2>/dev/null & PP=$!; }
	sse=$(ssebench "${GW_SSE_CLIENTS:-1000}")
	[ -z "${GW_PERF:-}" ] || { kill -INT $PP; wait $PP || true; }
	rss2=$(awk '/^VmRSS/ {print $2}' /proc/"$gpid"/status)
	printf 'gateway: event streams: %s (goal p99 < 100 ms)\n' "$sse"
	printf '         baseline, the same burst to %s\n' "$base"
	printf '         gateway RSS after them          %8d KiB\n' "$rss2"
done
