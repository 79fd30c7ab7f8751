# Trust by origin: a module that forges a scheduler firing, a delivery
# result or a worker's turn result is killed and restarted, the event
# protocol.violation names it and the type, and the forged message has no
# effect (no input reaches the member, no claim is recorded).
. "$(dirname "$0")/lib.sh"
{ header; cat <<EOT
[profile echo]
provider = echo

[member m]
profile = echo

[schedule s1]
interval = */1h
member = m
message = only the scheduler may fire this

[module evil]
command = $MK
args = --ready message --forge fire:s1 --forge-once $T/evil.forged --log $T/evil.log
ready = message
restart_backoff_ms = 0

[module liar]
command = $MK
args = --ready message --forge attempt --forge-once $T/liar.forged --log $T/liar.log
ready = message
restart_backoff_ms = 0

[module mimic]
command = $MK
args = --ready message --forge run_done --forge-once $T/mimic.forged --log $T/mimic.log
ready = message
restart_backoff_ms = 0
EOT
} >"$CFG"
start_daemon
wait_for "m healthy" is_state m healthy
for c in evil liar mimic; do
	wait_for "$c restarted" sh -c "[ \$(grep -c '^start' $T/$c.log) -ge 2 ]"
	wait_for "$c healthy again" is_state $c healthy
	le=$(jctl status $c | jq -c '.children[0].last_exit')
	[ "$le" = '{"signal":"KILL","reason":"protocol_violation"}' ] ||
		fail "$c: last_exit $le"
	[ "$(field_of $c restarts)" = 1 ] || fail "$c: $(field_of $c restarts) restarts"
done
v=$(jctl events --type protocol.violation | jq -sc 'map({name, type: .payload.type, role: .payload.role}) | sort_by(.name)')
[ "$v" = '[{"name":"evil","type":"FIRE","role":"module"},{"name":"liar","type":"ATTEMPT","role":"module"},{"name":"mimic","type":"RUN_DONE","role":"module"}]' ] ||
	fail "violations: $v"
grep -q "evil: protocol violation: a module may not send FIRE (type 44): killing it" "$T/daemon.log" ||
	fail "no violation in the log"
# the forged firing dispatched nothing and claimed nothing
[ "$(jctl inputs m)" = "[]" ] || fail "inputs of m: $(jctl inputs m)"
[ "$(jctl events --type runtime.injection.executed | wc -l)" = 0 ] || fail "an injection ran"
[ "$(jctl schedules | jq -r '.[0].last_claim_due_ms // "none"')" = none ] ||
	fail "a claim was recorded: $(jctl schedules | jq -c .[0])"
[ "$(jctl deliveries | jq length)" = 0 ] || fail "deliveries: $(jctl deliveries)"
# the member works as before
out=$(jctl send m "still fine" --wait) || fail "send: $out"
exit 0
