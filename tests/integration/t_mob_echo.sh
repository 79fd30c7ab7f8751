# The mob with the echo provider: members in the tree, send --wait, the
# conversation growing, agent events, idempotent sends, rejections.
. "$(dirname "$0")/lib.sh"
{ header; cat <<EOT
[profile p]
provider = echo

[member lead-1]
profile = p
peers = worker-1

[member worker-1]
profile = p
EOT
} >"$CFG"
start_daemon
wait_for "worker-1 healthy" is_state worker-1 healthy
wait_for "lead-1 healthy" is_state lead-1 healthy
[ "$(jctl members | jq -c '[.[] | .id]')" = '["lead-1","worker-1"]' ] || fail "members: $(jctl members)"
[ "$(jctl status worker-1 | jq -r '.children[0].group')" = mob ] || fail "not in the mob group"
out=$(jctl send worker-1 "hello there" --wait) || fail "send --wait: $out"
[ "$(echo "$out" | jq -r .outcome)" = accepted ] || fail "$out"
[ "$(echo "$out" | jq -r .result.status)" = completed ] || fail "$out"
[ "$(echo "$out" | jq -r .result.text)" = "echo (turn 1): hello there" ] || fail "$out"
out=$(jctl send worker-1 "again" --wait)
[ "$(echo "$out" | jq -r .result.text)" = "echo (turn 2): again" ] || fail "conversation did not grow: $out"
id=$(echo "$out" | jq -r .input_id)
for ev in run_started text_delta run_completed; do
	jctl events --source agent --type $ev | jq -e -s "map(select(.payload.input_id == \"$id\")) | length >= 1" >/dev/null ||
		fail "no $ev for $id"
done
input_is worker-1 "$id" consumed || fail "input state"
[ "$(input_field worker-1 "$id" attempts)" = 1 ] || fail "attempts"
# idempotency: a finished duplicate returns the original id and status
# (without state_dir the text of a finished input is not kept)
a=$(jctl send worker-1 "keyed" --key k1 --wait)
b=$(jctl send worker-1 "keyed, again" --key k1)
[ "$(echo "$b" | jq -r .outcome)" = deduplicated ] || fail "dedup: $b"
[ "$(echo "$b" | jq -r .existing_input_id)" = "$(echo "$a" | jq -r .input_id)" ] || fail "dedup id: $b"
[ "$(echo "$b" | jq -r .result.status)" = completed ] || fail "dedup result: $b"
[ "$(jctl inputs worker-1 | jq '[.[] | select(.key == "k1")] | length')" = 1 ] || fail "a duplicate was queued"
# rejections: exit 1 and a reason
out=$(jctl send nobody "x"); rc=$?
[ $rc = 1 ] || fail "unknown member: exit $rc"
[ "$(echo "$out" | jq -r .reason)" = "unknown member" ] || fail "reason: $out"
# lifecycle order
[ "$(jctl events --type 'lifecycle.*' | jq -r .event_type | tr '\n' ' ')" = "lifecycle.mob_started lifecycle.modules_started lifecycle.merged_stream_started " ] ||
	fail "lifecycle: $(jctl events --type 'lifecycle.*' | jq -r .event_type | tr '\n' ' ')"
