# conversation: the history as messages (roles, order, input_id, at_ms),
# -n, the system message first; whole after kill -9 of the worker, and
# with state_dir after a restart of mobkitd.
. "$(dirname "$0")/lib.sh"
start_llm
mkdir "$T/state"
{ header; cat <<EOT
state_dir = $T/state

[profile gpt]
provider = openai
model = test-model
base_url = http://127.0.0.1:$LLM_PORT/v1
system = You are terse.

[profile plain]
provider = echo

[member w]
profile = gpt
instructions = Answer in French.

[member e]
profile = plain

[member t]
profile = gpt
peers = e
EOT
} >"$CFG"
start_daemon
wait_for "w healthy" is_state w healthy
wait_for "e healthy" is_state e healthy
wait_for "t healthy" is_state t healthy
before=$(($(date +%s%3N) - 1))
a=$(jctl send w "one" --wait | jq -r .input_id)
b=$(jctl send w "two" --wait | jq -r .input_id)
out=$(jctl conversation w) || fail "conversation: $out"
echo "$out" | jq -e 'length == 5' >/dev/null || fail "5 messages: $out"
echo "$out" | jq -e '[.[].role] == ["system","user","assistant","user","assistant"]' >/dev/null || fail "roles: $out"
echo "$out" | jq -e '.[0].content == "You are terse.\n\nAnswer in French." and .[0].input_id == null' >/dev/null || fail "system: $out"
echo "$out" | jq -e --arg a "$a" --arg b "$b" '[.[1:][].input_id] == [$a,$a,$b,$b]' >/dev/null || fail "input ids: $out"
echo "$out" | jq -e '.[1].content == "one" and .[2].content == "reply to: one" and .[4].content == "reply to: two"' >/dev/null || fail "content: $out"
echo "$out" | jq -e --argjson t "$before" 'all(.[]; .at_ms >= $t) and .[3].at_ms >= .[2].at_ms' >/dev/null || fail "at_ms: $out"
echo "$out" | jq -e 'all(.[]; has("tool_calls") and has("tool_call_id"))' >/dev/null || fail "keys: $out"
# -n: the last N
jctl conversation w -n 2 | jq -e '[.[].content] == ["two","reply to: two"]' >/dev/null || fail "-n 2: $(jctl conversation w -n 2)"
jctl conversation w -n 0 | jq -e 'length == 0' >/dev/null || fail "-n 0"
# human output: a transcript
ctl conversation w | grep -q "assistant ($b): reply to: two" || fail "transcript: $(ctl conversation w)"
# the echo member: no system message
jctl send e "hi" --wait >/dev/null
jctl conversation e | jq -e '.[0].role == "user" and length == 2' >/dev/null || fail "echo: $(jctl conversation e)"
# a tool call and its result are messages of the conversation
out=$(jctl send t "ask [[tool:e:hello e]]" --wait) || fail "tool turn: $out"
tid=$(echo "$out" | jq -r .input_id)
c=$(jctl conversation t)
echo "$c" | jq -e '[.[].role] == ["system","user","assistant","tool","assistant"]' >/dev/null || fail "tool roles: $c"
echo "$c" | jq -e --arg i "$tid" '.[2].tool_calls[0].function.name == "send_message" and .[2].tool_calls[0].id == "call_t1" and .[3].tool_call_id == "call_t1" and all(.[1:][]; .input_id == $i) and .[2].tool_call_id == null and .[3].tool_calls == null' >/dev/null || fail "tool messages: $c"
ctl conversation t | grep -q -- '-> send_message(' || fail "transcript of a call: $(ctl conversation t)"
# unknown member
jctl conversation nobody >/dev/null 2>&1 && fail "unknown member accepted"
# kill -9 of the worker: the conversation is whole, and goes on
p=$(member_pid w)
kill -KILL "$p"
wait_for "w back" sh -c "[ \"\$($BIN/mobkitctl -s $SOCK --json members | jq -r '.[] | select(.id == \"w\") | .pid')\" != $p ] && $BIN/mobkitctl -s $SOCK --json status w | jq -e '.children[0].state == \"healthy\"'"
jctl conversation w | jq -e 'length == 5' >/dev/null || fail "after kill -9: $(jctl conversation w)"
c=$(jctl send w "three" --wait | jq -r .input_id)
jctl conversation w | jq -e --arg c "$c" 'length == 7 and .[5].input_id == $c and .[6].content == "reply to: three"' >/dev/null || fail "after the restart: $(jctl conversation w)"
# a restart of mobkitd with state_dir: read back from the store
saved=$(jctl conversation w)
kill -TERM "$DPID"
wait_for "mobkitd gone" daemon_gone
start_daemon
wait_for "w healthy again" is_state w healthy
[ "$(jctl conversation w)" = "$saved" ] || fail "after a restart: $(jctl conversation w) vs $saved"
# without state_dir, history_max_bytes drops the oldest turns: a gap first
kill -TERM "$DPID"
wait_for "mobkitd gone" daemon_gone
{ header; cat <<EOT

[profile small]
provider = echo
history_max_bytes = 400

[member s]
profile = small
EOT
} >"$CFG"
start_daemon
wait_for "s healthy" is_state s healthy
for i in 1 2 3 4 5 6; do jctl send s "message number $i" --wait >/dev/null; done
c=$(jctl conversation s)
echo "$c" | jq -e '.[0].gap.turns_dropped > 0 and .[-2].content == "message number 6" and (.[1:] | all(.[]; .role == "user" or .role == "assistant"))' >/dev/null || fail "gap: $c"
ctl conversation s | head -1 | grep -q "older turns dropped" || fail "gap for people: $(ctl conversation s)"
jctl conversation s -n 1 | jq -e 'length == 1 and .[0].role == "assistant"' >/dev/null || fail "-n with a gap"
echo "ok"
