# rest_for_one: the failed child and those started after it restart.
. "$(dirname "$0")/lib.sh"
{ header; cat <<EOT
[group g]
strategy = rest_for_one

[module a]
command = $MK
group = g
restart_backoff_ms = 0

[module b]
command = $MK
group = g
restart_backoff_ms = 0

[module c]
command = $MK
group = g
restart_backoff_ms = 0
EOT
} >"$CFG"
start_daemon
for c in a b c; do wait_for "$c healthy" is_state $c healthy; done
pa=$(pid_of a); pb=$(pid_of b); pc=$(pid_of c)
kill -9 "$pb"
wait_for "c restarted" sh -c "[ \"\$($BIN/mobkitctl -s $SOCK --json status c | jq -r '.children[0].pid')\" != $pc ] && [ \"\$($BIN/mobkitctl -s $SOCK --json status c | jq -r '.children[0].state')\" = healthy ]"
wait_for "b restarted" is_state b healthy
[ "$(pid_of a)" = "$pa" ] || fail "a was restarted"
[ "$(pid_of b)" != "$pb" ] || fail "b kept its pid"
dead "$pc" || fail "old c alive"
