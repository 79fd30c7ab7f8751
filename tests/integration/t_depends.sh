# depends: start order as the children observe it, and the reverse at stop.
. "$(dirname "$0")/lib.sh"
{ header; cat <<EOT
[module app]
command = $MK
args = --ready message --ready-delay 100 --log $T/log
ready = message
depends = db cache

[module db]
command = $MK
args = --ready message --ready-delay 200 --log $T/log
ready = message

[module cache]
command = $MK
args = --ready message --ready-delay 100 --log $T/log
ready = message
depends = db
EOT
} >"$CFG"
start_daemon
wait_for "app healthy" is_state app healthy
[ "$(awk '$1=="start"{print $2}' "$T/log" | tr '\n' ' ')" = "db cache app " ] ||
	fail "start order: $(cat "$T/log")"
report=$(jctl shutdown) || fail "shutdown"
[ "$(echo "$report" | jq -c .stopped)" = '["app","cache","db"]' ] || fail "report: $report"
[ "$(awk '$1=="stop"{print $2}' "$T/log" | tr '\n' ' ')" = "app cache db " ] ||
	fail "stop order: $(cat "$T/log")"
wait_for "daemon exit" daemon_gone
