# A member's turn calls an MCP tool end to end: the model (the OpenAI
# fixture) asks for fake__echo, the worker sends MCP_CALL, mobkitd relays it
# to mobkit-mcp, the python MCP server answers, the result goes back to the
# model, whose reply completes the input; the call and its result are in
# the request the server received, in the events and in the conversation.
# The echo provider's /call does the same offline; a server killed mid-call
# gives the model a tool error and the turn goes on; the server comes back.
. "$(dirname "$0")/lib.sh"
start_llm
{ header; cat <<EOT
[mcp fake]
command = python3
args = $FIX/mcpserver.py --log $T/fake.log --pidfile $T/fake.pid
call_timeout_ms = 20000
restart_backoff_ms = 50

[profile gpt]
provider = openai
model = test-model
base_url = http://127.0.0.1:$LLM_PORT/v1
tools = fake/echo fake/sleep

[profile offline]
provider = echo
tools = fake

[member a]
profile = gpt

[member b]
profile = offline
EOT
} >"$CFG"
start_daemon
wait_for "fake healthy" is_state fake healthy
wait_for "a healthy" is_state a healthy
wait_for "b healthy" is_state b healthy
# what a may call: the two tools named, no send_message (no peer)
[ "$(jctl tools a | jq -c '[.[] | .server + "/" + .name] | sort')" = '["fake/echo","fake/sleep"]' ] ||
	fail "tools a: $(jctl tools a)"

# the model calls fake__echo; its result comes back into the next request
out=$(jctl send a 'go [[call:fake__echo:{"message":"hi there"}]]' --wait --timeout-ms 30000) ||
	fail "send a: $out"
echo "$out" | jq -e '.result.status == "completed"' >/dev/null || fail "not completed: $out"
echo "$out" | jq -r .result.text | grep -q 'tool said: .*echo: hi there' || fail "reply: $out"
id=$(echo "$out" | jq -r .input_id)
jq -s -e 'map(select(.path | endswith("/chat/completions")))[0].body.tools | map(.function.name) | sort == ["fake__echo","fake__sleep"]' "$T/llm.log" >/dev/null ||
	fail "tools offered: $(head -1 "$T/llm.log" | jq -c .body.tools)"
jq -s -e 'map(select(.path | endswith("/chat/completions")))[1].body.messages | map(select(.role == "tool"))[0].content | test("echo: hi there")' "$T/llm.log" >/dev/null ||
	fail "the tool result did not reach the model: $(sed -n 2p "$T/llm.log" | jq -c .body.messages)"
grep -q '"tools/call"' "$T/fake.log" 2>/dev/null || grep -q 'echo' "$T/fake.log" || fail "the server saw no call: $(cat "$T/fake.log")"
jctl events | jq -s -e "map(select(.payload.input_id == \"$id\") | .event_type) | (index(\"agent.tool_call\") != null) and (index(\"agent.tool_result\") != null)" >/dev/null ||
	fail "events: $(jctl events | jq -c "select(.payload.input_id == \"$id\") | .event_type" | tr '\n' ' ')"
conv=$(jctl conversation a)
echo "$conv" | jq -e "map(select(.input_id == \"$id\")) | (map(.role) == [\"user\",\"assistant\",\"tool\",\"assistant\"]) and (.[1].tool_calls[0].function.name == \"fake__echo\") and (.[2].content | test(\"echo: hi there\"))" >/dev/null ||
	fail "conversation: $conv"

# offline: the echo provider's /call goes the same way
out=$(jctl send b '/call fake add {"a":2,"b":3}' --wait --timeout-ms 30000) || fail "send b: $out"
[ "$(echo "$out" | jq -r .result.text)" = "called fake/add: 5" ] || fail "echo /call: $out"

# the server killed mid-call: a tool error for the model, the turn goes on
a_in=$(send_id b '/call fake sleep {"ms":15000}')
wait_for "the call in the server" grep -q sleep "$T/fake.log"
kill -9 "$(cat "$T/fake.pid")"
wait_for "the input finished" input_is b "$a_in" consumed
text=$(jctl events --type run_completed | jq -r "select(.payload.input_id == \"$a_in\") | .payload.text")
echo "$text" | grep -q "mcp server fake exited" || fail "no tool error: $text"
jctl events --type agent.tool_result | jq -e -s "map(select(.payload.input_id == \"$a_in\"))[0].payload.is_error == true" >/dev/null ||
	fail "the tool result is not an error: $(jctl events --type agent.tool_result | tail -1)"
wait_for "fake back" is_state fake healthy
out=$(jctl send a 'again [[call:fake__echo:{"message":"back"}]]' --wait --timeout-ms 30000) ||
	fail "after the restart: $out"
echo "$out" | jq -r .result.text | grep -q 'echo: back' || fail "after the restart: $out"
exit 0
