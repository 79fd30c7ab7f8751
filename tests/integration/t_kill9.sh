# kill -9 of a healthy child: it comes back with a new pid.
. "$(dirname "$0")/lib.sh"
{ header; cat <<EOT
[module a]
command = $MK
restart_backoff_ms = 0
EOT
} >"$CFG"
start_daemon
wait_for "a healthy" is_state a healthy
p1=$(pid_of a)
kill -9 "$p1"
wait_for "a back with a new pid" sh -c "[ \"\$($BIN/mobkitctl -s $SOCK --json status a | jq -r '.children[0].pid')\" != $p1 ] && $BIN/mobkitctl -s $SOCK --json status a | jq -e '.children[0].state == \"healthy\"'"
[ "$(field_of a restarts)" = 1 ] || fail "restarts"
[ "$(jctl status a | jq -r '.children[0].last_exit.signal')" = KILL ] || fail "last_exit"
[ "$(field_of a budget_left)" = 4 ] || fail "budget_left $(field_of a budget_left)"
dead "$p1" || fail "old pid still alive"
