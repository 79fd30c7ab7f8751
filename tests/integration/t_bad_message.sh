# A child message that breaks its type's table (an extra field, a required
# field missing, a field of the wrong type) is bad: the child is killed
# and restarted (last_exit reason bad_message), the log names the message
# type and the field, and the message has no effect.
. "$(dirname "$0")/lib.sh"
{ header; cat <<EOT
[module extra]
command = $MK
args = --ready message --forge pong_extra --forge-once $T/extra.forged --log $T/extra.log
ready = message
restart_backoff_ms = 0

[module missing]
command = $MK
args = --ready message --forge event_missing --forge-once $T/missing.forged --log $T/missing.log
ready = message
restart_backoff_ms = 0

[module wrongtype]
command = $MK
args = --ready message --forge event_badtype --forge-once $T/wrongtype.forged --log $T/wrongtype.log
ready = message
restart_backoff_ms = 0
EOT
} >"$CFG"
start_daemon
for c in extra missing wrongtype; do
	wait_for "$c restarted" sh -c "[ \$(grep -c '^start' $T/$c.log) -ge 2 ]"
	wait_for "$c healthy again" is_state $c healthy
	le=$(jctl status $c | jq -c '.children[0].last_exit')
	[ "$le" = '{"signal":"KILL","reason":"bad_message"}' ] ||
		fail "$c: last_exit $le"
	[ "$(field_of $c restarts)" = 1 ] || fail "$c: $(field_of $c restarts) restarts"
done
grep -q 'extra: PONG: field "zz_extra": unknown: killing it' "$T/daemon.log" ||
	fail "no unknown field in the log"
grep -q 'missing: EVENT: field "event_type": missing: killing it' "$T/daemon.log" ||
	fail "no missing field in the log"
grep -q 'wrongtype: EVENT: field "payload": an integer, not a map: killing it' "$T/daemon.log" ||
	fail "no wrong type in the log"
# the bad events were not emitted
[ "$(jctl events --type custom | wc -l)" = 0 ] || fail "a bad event was emitted"
exit 0
