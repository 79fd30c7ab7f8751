# Nothing started by mobkitd outlives it: not a grandchild that ignores
# SIGTERM, not one that escaped with setsid.
. "$(dirname "$0")/lib.sh"
{ header; cat <<EOT
[module a]
command = $MK
args = --grandchild ignore-term --pidfile $T/gc1.pid

[module b]
command = $MK
args = --grandchild setsid --pidfile $T/gc2.pid
EOT
} >"$CFG"
start_daemon
wait_for "a healthy" is_state a healthy
wait_for "b healthy" is_state b healthy
wait_for "pidfiles" test -s "$T/gc1.pid" -a -s "$T/gc2.pid"
g1=$(cat "$T/gc1.pid"); g2=$(cat "$T/gc2.pid")
alive "$g1" && alive "$g2" || fail "grandchildren not running"
report=$(jctl shutdown) || fail "shutdown"
wait_for "daemon exit" daemon_gone
wait "$DPID"; rc=$?
[ $rc = 0 ] || fail "exit status $rc"
dead "$g1" || fail "grandchild that ignores TERM survived"
dead "$g2" || fail "setsid grandchild survived"
[ "$(echo "$report" | jq .orphan_processes)" -ge 1 ] || fail "report: $report"
[ "$(echo "$report" | jq .orphans_killed)" -ge 1 ] || fail "report: $report"
