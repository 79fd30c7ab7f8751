# stop, start, restart and kill as an operator uses them.
. "$(dirname "$0")/lib.sh"
{ header; cat <<EOT
[module a]
command = $MK
args = --log $T/log
restart_backoff_ms = 0
EOT
} >"$CFG"
start_daemon
wait_for "a healthy" is_state a healthy
p1=$(pid_of a)
ctl stop a >/dev/null || fail "stop"
is_state a stopped || fail "not stopped"
dead "$p1" || fail "process alive after stop"
sleep 0.3
is_state a stopped || fail "restarted after stop"
ctl start a >/dev/null || fail "start"
wait_for "healthy after start" is_state a healthy
p2=$(pid_of a)
ctl restart a >/dev/null || fail "restart"
wait_for "healthy after restart" is_state a healthy
[ "$(pid_of a)" != "$p2" ] || fail "restart kept the pid"
[ "$(field_of a restarts)" = 0 ] || fail "operator actions counted as restarts"
[ "$(field_of a budget_left)" = 5 ] || fail "operator actions charged the budget"
ctl kill a KILL >/dev/null || fail "kill"
wait_for "healthy after kill" sh -c "[ \"\$($BIN/mobkitctl -s $SOCK --json status a | jq -r '.children[0].restarts')\" = 1 ]"
wait_for "healthy after kill" is_state a healthy
[ "$(field_of a budget_left)" = 4 ] || fail "a kill is a failure like any other"
ctl status | grep -q "a .*healthy" || fail "human status"
