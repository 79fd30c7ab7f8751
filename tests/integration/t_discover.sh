# [mob] discover: members a program lists join the [member] ones at boot;
# rediscover spawns, retires, wires and unwires to match its new output;
# a failing program changes nothing and emits mob.rediscover_failed;
# discover_interval_ms runs it on its own; reload and reconcile keep the
# discovered members; a failing program at boot leaves [member]s running;
# with state_dir the discovered roster comes back at boot.
. "$(dirname "$0")/lib.sh"
cat >"$T/disc.sh" <<EOF
#!/bin/sh
printf '%s|' "\$@" >"$T/disc.args"
[ -f "$T/fail" ] && { echo "boom: \$(cat $T/fail)" >&2; exit 3; }
[ -f "$T/hang" ] && { echo '{"id":"d8","profile":"plain"}'; sleep 7.25; }
cat "$T/roster"
EOF
chmod +x "$T/disc.sh"
cat >"$T/roster" <<'EOF'
{"id":"d1","profile":"plain","instructions":"be d1","peers":["a"]}

{"id":"d2","profile":"plain","peers":["d1"]}
EOF
conf() {
	{ header; cat <<EOT

[mob]
discover = ./disc.sh "two words" x
discover_timeout_ms = 1500
$1

[profile plain]
provider = echo

[member a]
profile = plain
EOT
	} >"$CFG"
}
conf ""
start_daemon
for m in a d1 d2; do wait_for "$m healthy" is_state $m healthy; done
[ "$(cat "$T/disc.args")" = "two words|x|" ] || fail "args: $(cat "$T/disc.args")"
jctl members | jq -e 'map(.id) | sort == ["a","d1","d2"]' >/dev/null || fail "members: $(jctl members)"
# wired at boot: wiring again changes nothing
jctl wire d1 a | jq -e '.changed == false' >/dev/null || fail "d1-a not wired"
jctl wire d2 d1 | jq -e '.changed == false' >/dev/null || fail "d2-d1 not wired"
jctl events --type mob.rediscovered | jq -e '.payload.spawned == ["d1","d2"]' >/dev/null || fail "boot event: $(jctl events --type mob.rediscovered)"
# the instructions reach the member (its system message)
jctl conversation d1 | jq -e '.[0].role == "system" and .[0].content == "be d1"' >/dev/null || fail "instructions: $(jctl conversation d1)"
# unchanged output: nothing moves
jctl rediscover | jq -e '. == {"spawned":[],"retired":[],"wired":[],"unwired":[]}' >/dev/null || fail "idle: $(jctl rediscover)"
# new output: d2 goes, d3 comes, edges follow
cat >"$T/roster" <<'EOF'
{"id":"d1","profile":"plain","peers":[]}
{"id":"d3","profile":"plain","peers":["a"]}
EOF
jctl send d2 "last words" >/dev/null
out=$(jctl rediscover) || fail "rediscover: $out"
echo "$out" | jq -e '. == {"spawned":["d3"],"retired":["d2"],"wired":[["a","d3"]],"unwired":[["a","d1"],["d1","d2"]]}' >/dev/null || fail "rediscover: $out"
wait_for "d2 gone" sh -c "! $BIN/mobkitctl -s $SOCK --json members | jq -e '.[] | select(.id == \"d2\")'"
jctl events --type input.consumed | jq -e 'select(.name == "d2")' >/dev/null || fail "d2 did not drain"
wait_for "d3 healthy" is_state d3 healthy
jctl wire a d1 | jq -e '.changed == true' >/dev/null || fail "a-d1 still wired"
jctl unwire a d1 >/dev/null
# a failing program: exit 1 with its error, an event, nothing changes
before=$(jctl members | jq -c 'map(.id) | sort')
echo "no luck" >"$T/fail"
out=$(ctl rediscover 2>&1); rc=$?
[ $rc = 1 ] || fail "failing program: exit $rc: $out"
echo "$out" | grep -q "exited 3: boom: no luck" || fail "error: $out"
jctl events --type mob.rediscover_failed | tail -1 | jq -e '.payload.error | test("exited 3")' >/dev/null || fail "no event"
rm "$T/fail"
# past the deadline: killed (its whole process group), nothing changes
touch "$T/hang"
start=$(date +%s)
out=$(ctl rediscover 2>&1) && fail "a hung program succeeded: $out"
echo "$out" | grep -q "timed out after 1500 ms" || fail "timeout: $out"
[ $(($(date +%s) - start)) -lt 6 ] || fail "the deadline was not kept"
wait_for "the program killed" sh -c "! pgrep -f 'slee[p] 7.25'"
rm "$T/hang"
for bad in '{"id":"d1","profile":"plain"}
not json' '{"id":"d9","profile":"nosuch"}' '{"id":"a","profile":"plain"}' '{"id":"d9","profile":"plain","peers":["ghost"]}' '{"id":"bad id","profile":"plain"}' '["d1"]'; do
	printf '%s\n' "$bad" >"$T/roster"
	out=$(ctl rediscover 2>&1) && fail "accepted: $bad"
	echo "$out" | grep -q "discover: " || fail "error: $out"
done
[ "$(jctl members | jq -c 'map(.id) | sort')" = "$before" ] || fail "changed by a failure: $(jctl members)"
[ "$(jctl events --type mob.rediscover_failed | wc -l)" -ge 8 ] || fail "events: $(jctl events --type mob.rediscover_failed)"
# human output
printf '%s\n' '{"id":"d1","profile":"plain","peers":["d3"]}' '{"id":"d3","profile":"plain"}' >"$T/roster"
out=$(ctl rediscover) || fail "human: $out"
echo "$out" | grep -q '^retired:$' || fail "human: $out"
echo "$out" | grep -q '^wired: d1-d3$' || fail "human: $out"
# reconcile and reload keep discovered members
printf '%s\n' '{"id":"d1","profile":"plain"}' '{"id":"d3","profile":"plain"}' >"$T/roster"
jctl rediscover >/dev/null || fail "back"
jctl reconcile | jq -e '.retired == []' >/dev/null || fail "reconcile retired: $(jctl reconcile)"
conf "discover_interval_ms = 300"
jctl reload >/dev/null || fail "reload"
jctl members | jq -e 'map(.id) | sort == ["a","d1","d3"]' >/dev/null || fail "after reload: $(jctl members)"
# the interval: a new line is picked up without rediscover
printf '%s\n' '{"id":"d1","profile":"plain"}' '{"id":"d3","profile":"plain"}' '{"id":"d4","profile":"plain"}' >"$T/roster"
wait_for "d4 by the interval" is_state d4 healthy
# a failing program at boot: the [member]s run, the error is logged
kill -TERM "$DPID"
wait_for "mobkitd gone" daemon_gone
conf ""
echo "down" >"$T/fail"
start_daemon
wait_for "a healthy" is_state a healthy
wait_for "the error logged" grep -q "discover: the program exited 3: boom: down" "$T/daemon.log"
jctl members | jq -e 'map(.id) == ["a"]' >/dev/null || fail "boot failure: $(jctl members)"
# with state_dir the roster last applied is kept: after a hard restart
# the discovered members are back before the store loads, with their
# queued inputs, even while the program fails
kill -TERM "$DPID"
wait_for "mobkitd gone" daemon_gone
rm "$T/fail"
mkdir "$T/state"
sed -i "s|^control_socket = .*|&\nstate_dir = $T/state|" "$CFG"
printf '%s\n' '{"id":"d1","profile":"plain","peers":["a"]}' >"$T/roster"
start_daemon
wait_for "d1 healthy" is_state d1 healthy
p=$(member_pid d1)
kill -STOP "$p"
id=$(send_id d1 "kept across")
[ -n "$id" ] && [ "$id" != null ] || fail "send to a stopped worker"
kill -KILL "$DPID" "$p"
wait_for "mobkitd gone" daemon_gone
echo "down" >"$T/fail"
start_daemon
wait_for "the kept input consumed" input_is d1 "$id" consumed
grep -q "discover: 1 member(s) as discovered last" "$T/daemon.log" || fail "not restored"
grep -q "the program exited 3: boom: down" "$T/daemon.log" || fail "the program ran"
jctl wire d1 a | jq -e '.changed == false' >/dev/null || fail "d1-a not wired"
rm "$T/fail"
printf '%s\n' '{"id":"d5","profile":"plain"}' >"$T/roster"
jctl rediscover | jq -e '.spawned == ["d5"] and .retired == ["d1"] and .unwired == [["a","d1"]]' >/dev/null || fail "after the restore: $(jctl members)"
echo ok
