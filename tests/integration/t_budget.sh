# A crash loop spends the budget: exactly max_restarts+1 starts, the child
# exhausted, the daemon degraded, its sibling untouched.
. "$(dirname "$0")/lib.sh"
{ header; cat <<EOT
[module loop]
command = $MK
args = --ready none --exit-after 0 --code 2 --log $T/log
max_restarts = 3
restart_window_ms = 600000
restart_backoff_ms = 10
restart_backoff_max_ms = 40

[module steady]
command = $MK
EOT
} >"$CFG"
start_daemon
wait_for "steady healthy" is_state steady healthy
sp=$(pid_of steady)
wait_for "loop exhausted" is_state loop exhausted
sleep 0.3
[ "$(count_lines start "$T/log")" = 4 ] || fail "started $(count_lines start "$T/log") times, want 4"
[ "$(jctl status | jq -r .daemon.state)" = degraded ] || fail "daemon not degraded"
[ "$(pid_of steady)" = "$sp" ] || fail "sibling restarted"
[ "$(field_of steady restarts)" = 0 ] || fail "sibling restarts"
[ "$(field_of loop budget_left)" = 0 ] || fail "budget_left"
[ "$(field_of loop next_restart_in_ms)" = null ] || fail "next restart"
# start gives a fresh budget
ctl start loop >/dev/null || fail "start"
wait_for "loop exhausted again" is_state loop exhausted
[ "$(count_lines start "$T/log")" = 8 ] || fail "after start: $(count_lines start "$T/log") starts"
