# A module that is given up on during the boot (its budget spent, or
# restart = never and it failed) does not hold the members back: they
# start, the daemon is degraded, and the lifecycle goes on.
. "$(dirname "$0")/lib.sh"
{ header; cat <<EOT
[module ok]
command = $MK
args = --ready message
ready = message

[module spent]
command = $MK
args = --ready message --never-ready
ready = message
start_timeout_ms = 300
max_restarts = 1
restart_backoff_ms = 10

[module once]
command = $MK
args = --ready message --exit-after 0 --code 1
ready = message
restart = never

[profile p]
provider = echo

[member m]
profile = p
EOT
} >"$CFG"
start_daemon
wait_for "spent exhausted" is_state spent exhausted
wait_for "once failed" is_state once failed
wait_for "the member healthy" is_state m healthy
jctl events | jq -e -s 'map(select(.event_type == "lifecycle.modules_started")) | length == 1' >/dev/null ||
	fail "no lifecycle.modules_started: $(jctl events | jq -r .event_type | sort | uniq -c)"
[ "$(jctl status | jq -r .daemon.state)" = degraded ] || fail "daemon: $(jctl status | jq -r .daemon.state)"
out=$(jctl send m "hello" --wait) || fail "send: $out"
echo "$out" | jq -e '.result.status == "completed"' >/dev/null || fail "send: $out"
ctl shutdown >/dev/null || fail "shutdown"
wait_for "daemon exit" daemon_gone
