# one_for_all: one child's failure restarts the whole group in order;
# the child outside the group is untouched.
. "$(dirname "$0")/lib.sh"
{ header; cat <<EOT
[group g]
strategy = one_for_all

[module a]
command = $MK
args = --log $T/log
group = g
restart_backoff_ms = 0

[module b]
command = $MK
args = --log $T/log
group = g
restart_backoff_ms = 0

[module c]
command = $MK
args = --log $T/log
group = g
restart_backoff_ms = 0

[module out]
command = $MK
EOT
} >"$CFG"
start_daemon
for c in a b c out; do wait_for "$c healthy" is_state $c healthy; done
pa=$(pid_of a); pb=$(pid_of b); pc=$(pid_of c); po=$(pid_of out)
: >"$T/log"
kill -9 "$pb"
for c in a b c; do
	wait_for "$c restarted" sh -c "[ \"\$($BIN/mobkitctl -s $SOCK --json status $c | jq -r '.children[0].state')\" = healthy ] && [ \"\$($BIN/mobkitctl -s $SOCK --json status $c | jq -r '.children[0].attempt')\" = 2 ]"
done
[ "$(pid_of a)" != "$pa" ] && [ "$(pid_of c)" != "$pc" ] || fail "a or c kept its pid"
[ "$(pid_of out)" = "$po" ] || fail "out was restarted"
# stopped one at a time in reverse order (c, then a; b was already dead),
# as the children saw it; then spawned again in order (siblings without
# depends do not wait for each other, so the order is mobkitd's, as the
# transition log records it)
[ "$(awk '$1 == "stop" {print $2}' "$T/log" | tr '\n' ,)" = "c,a," ] ||
	fail "stop order: $(cat "$T/log")"
[ "$(jctl transitions | jq -r '[.[] | select(.to == "restarting") | .name] | join(",")')" = "a,b,c" ] ||
	fail "restart order: $(jctl transitions | jq -c '[.[] | select(.to == "restarting") | .name]')"
