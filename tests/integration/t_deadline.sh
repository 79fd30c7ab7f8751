# A child that never becomes ready misses its deadline, is killed, and is
# restarted until its budget is spent.
. "$(dirname "$0")/lib.sh"
{ header; cat <<EOT
[module slow]
command = $MK
args = --ready message --never-ready --log $T/log
ready = message
start_timeout_ms = 300
max_restarts = 1
restart_backoff_ms = 10
EOT
} >"$CFG"
start_daemon
# (the "starting" state lasts 300 ms: too short to poll for on a loaded
# machine; the transitions below show it)
wait_for "slow exhausted" is_state slow exhausted
for p in $(awk '$1 == "start" {print $3}' "$T/log"); do
	wait_for "instance $p dead" dead "$p"
done
[ "$(transitions_of slow)" = "starting failed restarting exhausted" ] ||
	fail "transitions: $(transitions_of slow)"
[ "$(count_lines start "$T/log")" = 2 ] || fail "starts"
grep -q "not ready within 300 ms" "$T/daemon.log" || fail "no deadline message in the log"
