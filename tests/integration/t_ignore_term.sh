# A child that ignores SIGTERM is killed after stop_timeout_ms.
. "$(dirname "$0")/lib.sh"
{ header; cat <<EOT
[module stubborn]
command = $MK
args = --ready none --ignore-term
stop_timeout_ms = 400
EOT
} >"$CFG"
start_daemon
wait_for "healthy" is_state stubborn healthy
p=$(pid_of stubborn)
out=$(jctl stop stubborn) || fail "stop failed"
[ "$(echo "$out" | jq -r .state)" = stopped ] || fail "stop answered $out"
dead "$p" || fail "still alive after stop returned"
grep -q "sending KILL" "$T/daemon.log" || fail "no KILL in the log"
sleep 0.3
is_state stubborn stopped || fail "restarted after an operator stop"
[ "$(jctl status stubborn | jq -r '.children[0].last_exit.signal')" = KILL ] || fail "last_exit"
