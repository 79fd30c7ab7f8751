# The anthropic provider against the loopback fixture (/v1/messages):
# x-api-key and anthropic-version headers, system at the top level,
# max_tokens always sent, text streamed as content_block_delta events,
# a tool_use block (its input in input_json_delta pieces) run as
# send_message and answered with a tool_result block, usage, 529 retried,
# 400 failed at once, stream = false.
. "$(dirname "$0")/lib.sh"
start_llm
{ header; cat <<EOT
[profile claude]
provider = anthropic
model = claude-test
base_url = http://127.0.0.1:$LLM_PORT/
api_key_env = MOBKIT_TEST_KEY
system = You are terse.
retry_backoff_ms = 100

[profile whole]
provider = anthropic
model = claude-test
base_url = http://127.0.0.1:$LLM_PORT
api_key_env = MOBKIT_TEST_KEY
max_tokens = 300
temperature = 0.5
stop = HALT
stream = false

[member a]
profile = claude
peers = b

[member b]
profile = whole
EOT
} >"$CFG"
MOBKIT_TEST_KEY=sk-ant-1 start_daemon
wait_for "a healthy" is_state a healthy
wait_for "b healthy" is_state b healthy
req() { jq -c --arg t "$1" 'select([.body.messages[] | select(.role == "user")] | first | .content | tostring | contains($t))' "$T/llm.log"; }

out=$(jctl send a "hello claude" --wait) || fail "send: $out"
[ "$(echo "$out" | jq -r .result.text)" = "reply to: hello claude" ] || fail "$out"
r=$(req "hello claude" | head -1)
echo "$r" | jq -e '.path == "/v1/messages" and .headers["x-api-key"] == "sk-ant-1" and .headers["anthropic-version"] == "2023-06-01" and .auth == null' >/dev/null || fail "headers: $r"
echo "$r" | jq -e '.body.system == "You are terse." and (.body.messages | all(.role != "system")) and .body.max_tokens == 1024 and .body.stream == true and .body.model == "claude-test"' >/dev/null || fail "body: $r"
echo "$r" | jq -e '.body.tools[0].name == "send_message" and (.body.tools[0].input_schema.required | index("to"))' >/dev/null || fail "tools: $r"
id=$(echo "$out" | jq -r .input_id)
n=$(jctl events --type text_delta | jq -s --arg id "$id" 'map(select(.payload.input_id == $id)) | length')
[ "$n" -ge 3 ] || fail "only $n deltas"
jctl events --type run_completed | jq -e -s --arg id "$id" 'map(select(.payload.input_id == $id))[0].payload.usage | .input_tokens == 9 and .output_tokens == 4' >/dev/null ||
	fail "usage: $(jctl events --type run_completed | tail -1)"

# tool_use: send_message to b, then the tool_result goes back
out=$(jctl send a "ask [[tool:b:hi from a]]" --wait) || fail "tool: $out"
echo "$out" | jq -r .result.text | grep -q "^Sending.tool said: delivered (input " || fail "tool reply: $out"
r=$(req "ask [[tool" | tail -1)
echo "$r" | jq -e '.body.messages[1].role == "assistant" and (.body.messages[1].content | map(select(.type == "tool_use"))[0] | .id == "toolu_1" and .name == "send_message" and .input == {"to":"b","text":"hi from a"})' >/dev/null || fail "tool_use sent back: $r"
echo "$r" | jq -e '.body.messages[-1].role == "user" and .body.messages[-1].content[0].type == "tool_result" and .body.messages[-1].content[0].tool_use_id == "toolu_1"' >/dev/null || fail "tool_result: $r"
b_got() { jctl events --type run_completed | jq -e -s 'map(select(.name == "b" and .payload.text == "reply to: hi from a")) | length == 1'; }
wait_for "b answered (stream = false)" b_got
r=$(req "hi from a" | head -1)
echo "$r" | jq -e '.body.stream == false and .body.max_tokens == 300 and .body.temperature == 0.5 and .body.stop_sequences == ["HALT"] and (.body | has("system") | not)' >/dev/null || fail "b's request: $r"

# a second turn: the history converted (user, assistant, ...)
out=$(jctl send a "second" --wait) || fail "second: $out"
r=$(jq -c 'select(.body.messages[-1].content[0].text? == "second" or .body.messages[-1].content == "second")' "$T/llm.log" | tail -1)
echo "$r" | jq -e '[.body.messages[].role] as $r | ($r | length) >= 3 and $r[0] == "user" and ([range(1; $r | length)] | all($r[.] != $r[. - 1]))' >/dev/null || fail "roles do not alternate: $r"

# 529 overloaded: retried
out=$(jctl send a "busy [[503once]]" --wait --timeout-ms 20000) || fail "529: $out"
[ "$(input_field a "$(echo "$out" | jq -r .input_id)" attempts)" = 2 ] || fail "529 not retried"
# 400: at once, with the server's message
out=$(jctl send a "bad [[400]]" --wait); rc=$?
[ $rc = 1 ] || fail "400 exit $rc"
echo "$out" | jq -r .result.error | grep -q "HTTP 400: model does not support this" || fail "400: $out"
[ "$(input_field a "$(echo "$out" | jq -r .input_id)" attempts)" = 1 ] || fail "400 retried"
is_state a healthy && [ "$(field_of a restarts)" = 0 ] || fail "the worker crashed"
