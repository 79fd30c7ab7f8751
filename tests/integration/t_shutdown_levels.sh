# Shutdown stops modules by dependency levels: every module no running
# module depends on is stopped at once.  x, y and z ignore SIGTERM, so each
# takes its stop_timeout_ms (1500) to go; z depends on x, and so does y in
# its rest_for_one group.  y and z go together, then x: two rounds (about
# 3 s), where one at a time took three (4.5 s); dependants always first.
. "$(dirname "$0")/lib.sh"
{ header; cat <<EOT
[group g]
strategy = rest_for_one

[module x]
command = $MK
args = --ready none --ignore-term
group = g
stop_timeout_ms = 1500

[module y]
command = $MK
args = --ready none --ignore-term
group = g
stop_timeout_ms = 1500

[module z]
command = $MK
args = --ready none --ignore-term
depends = x
stop_timeout_ms = 1500
EOT
} >"$CFG"
start_daemon
wait_for "z healthy" is_state z healthy
wait_for "y healthy" is_state y healthy
start=$(date +%s%N)
report=$(jctl shutdown) || fail "shutdown"
ms=$(( ($(date +%s%N) - start) / 1000000 ))
echo "shutdown took $ms ms"
echo "$report" | jq -e '.stopped | length == 3 and index("x") == 2' >/dev/null ||
	fail "x (depended on) did not stop last: $report"
[ $ms -ge 2900 ] || fail "x did not wait for its dependants ($ms ms)"
[ $ms -lt 4000 ] || fail "y and z were not stopped at once ($ms ms)"
wait_for "daemon exit" daemon_gone
