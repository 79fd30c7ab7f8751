# Shutdown stops modules by dependency levels: every module no running
# module depends on is stopped at once.  x, y and z ignore SIGTERM, so each
# takes its stop_timeout_ms (3000) to go; z depends on x, and so does y in
# its rest_for_one group.  y and z go together, then x: two rounds (about
# 6 s), where one at a time took three (9 s); dependants always first, and
# the report lists them in the order they were asked to stop.
. "$(dirname "$0")/lib.sh"
{ header; cat <<EOT
[group g]
strategy = rest_for_one

[module x]
command = $MK
args = --ready none --ignore-term
group = g
stop_timeout_ms = 3000

[module y]
command = $MK
args = --ready none --ignore-term
group = g
stop_timeout_ms = 3000

[module z]
command = $MK
args = --ready none --ignore-term
depends = x
stop_timeout_ms = 3000
EOT
} >"$CFG"
start_daemon
wait_for "z healthy" is_state z healthy
wait_for "y healthy" is_state y healthy
"$BIN/mobkitctl" -s "$SOCK" --json events --follow --type child.transition \
    >"$T/tr" 2>/dev/null &
FPID=$!
wait_for "the follower to replay the start" test -s "$T/tr"
start=$(date +%s%N)
report=$(jctl shutdown) || fail "shutdown"
ms=$(( ($(date +%s%N) - start) / 1000000 ))
echo "shutdown took $ms ms"
echo "$report" | jq -e '.stopped | length == 3 and index("x") == 2' >/dev/null ||
	fail "x (depended on) did not stop last: $report"
[ $ms -ge 5900 ] || fail "x did not wait for its dependants ($ms ms)"
[ $ms -lt 8500 ] || fail "y and z were not stopped at once ($ms ms)"
wait "$FPID" 2>/dev/null
# and by the order of what happened, whatever the machine's speed: y and
# z were both asked to stop before either was gone, x only after both
jq -e -s '[.[] | .payload + {n: .name} | select(.to == "stopping" or .to == "stopped")] as $t
    | def at(n; s): ($t | map(.n == n and .to == s) | index(true));
    ([at("y"; "stopping"), at("z"; "stopping")] | max) < ([at("y"; "stopped"), at("z"; "stopped")] | min)
    and at("x"; "stopping") > ([at("y"; "stopped"), at("z"; "stopped")] | max)' "$T/tr" >/dev/null ||
	fail "y and z were not stopped together before x: $(jq -c '[.name, .payload.to]' "$T/tr" | tr '\n' ' ')"
echo "$report" | jq -e '.stopped == ["z", "y", "x"]' >/dev/null ||
	fail "not in the order asked (reverse start order per level): $report"
wait_for "daemon exit" daemon_gone
