#!/bin/sh
# run.sh: run every integration test; print "N passed, N failed".
#
# JOBS tests run at once (default 3: most of a test's time is spent
# waiting on processes, not on the CPU); every test has its own temporary
# directory, socket and loopback ports, so they do not see each other.
# The slowest tests start first so the run ends packed.  ONLY=t_name runs
# one.  Each test's output is kept and printed only when it fails.
dir=$(cd "$(dirname "$0")" && pwd)
JOBS=${JOBS:-3}
out=$(mktemp -d /tmp/mobkit-run.XXXXXX)
trap 'rm -rf "$out"' EXIT INT TERM

# the slow ones first (measured: each takes 30 s or more)
first="t_gateway_console t_mcp_everything t_history_big t_retention_rss
t_gateway_sse t_store_full t_sizes t_mob_durable t_gateway_openai
t_gateway_mcp t_buffers t_kill9 t_signals_all"

list() {
	for n in $first; do
		[ -f "$dir/$n.sh" ] && echo "$n"
	done
	for t in "$dir"/t_*.sh; do
		n=$(basename "$t" .sh)
		case " $(echo $first) " in *" $n "*) continue ;; esac
		echo "$n"
	done
}

if [ -n "${ONLY:-}" ]; then
	names=$ONLY
else
	names=$(list)
fi
export dir out
# at most JOBS at once; a result line as each ends, failures' output last
echo "$names" | tr ' ' '\n' | grep . | xargs -P "$JOBS" -I{} sh -c '
	name={}
	start=$(date +%s)
	if timeout -k 10 900 bash "$dir/$name.sh" >"$out/$name.log" 2>&1; then
		echo "ok   $name ($(( $(date +%s) - start ))s)"
	else
		echo "FAIL $name ($(( $(date +%s) - start ))s)"
		touch "$out/$name.failed"
	fi'
total=$(echo "$names" | tr ' ' '\n' | grep -c .)
failed=$(ls "$out" | grep -c '\.failed$')
echo "integration: $((total - failed)) passed, $failed failed"
if [ "$failed" -ne 0 ]; then
	for f in "$out"/*.failed; do
		n=$(basename "$f" .failed)
		echo "--- $n:"
		sed 's/^/     /' "$out/$n.log"
	done
	echo "failed: $(ls "$out" | sed -n 's/\.failed$//p' | tr '\n' ' ')"
	exit 1
fi
