# The openai provider against the loopback fixture, asserting on what the
# server received: no tools without a peer, send_message with one (its
# arguments split across chunks); Azure-style key header, api-version
# query, extra header, sampling parameters only when set, stream = false;
# a trailing slash in base_url; 400 fails at once with the server's
# message; 429's Retry-After honoured; 503 retried; a silent stream cut by
# idle_timeout_ms while a slow healthy one lives; usage; attempt in events;
# context trimming by max_context_tokens.
. "$(dirname "$0")/lib.sh"
start_llm
{ header; cat <<EOT
[profile plain]
provider = openai
model = m1
base_url = http://127.0.0.1:$LLM_PORT/v1/
api_key_env = MOBKIT_TEST_KEY
system = Be brief.
retry_backoff_ms = 100
retry_backoff_max_ms = 3000

[profile wired]
provider = openai
model = m2
base_url = http://127.0.0.1:$LLM_PORT/v1

[profile azure]
provider = openai
model = gpt-4o
base_url = http://127.0.0.1:$LLM_PORT/openai/deployments/gpt-4o
api_key_env = MOBKIT_TEST_AZ
api_key_header = api-key
query.api-version = 2024-10-21
header.X-Trace = trace me
temperature = 0.2
top_p = 0.9
max_tokens = 50
seed = 7
stop = END "two words"
response_format = json_object
stream = false

[profile idle]
provider = openai
model = m3
base_url = http://127.0.0.1:$LLM_PORT/v1
idle_timeout_ms = 1000
first_byte_timeout_ms = 1500
request_timeout_ms = 30000
max_attempts = 1

[profile ctx]
provider = openai
model = m4
base_url = http://127.0.0.1:$LLM_PORT/v1
system = SYSTEM-TEXT
max_context_tokens = 150
response_format = json_schema
response_schema_file = schema.json

[member a]
profile = plain

[member b]
profile = wired
peers = c

[member c]
profile = wired

[member az]
profile = azure
peers = c

[member s]
profile = idle

[member k]
profile = ctx
EOT
} >"$CFG"
echo '{"type":"object","properties":{"answer":{"type":"string"}}}' >"$T/schema.json"
MOBKIT_TEST_KEY=sk-a MOBKIT_TEST_AZ=sk-az start_daemon
for m in a b c az s k; do wait_for "$m healthy" is_state $m healthy; done

# req TEXT: the requests whose last user message holds TEXT
req() { jq -c --arg t "$1" 'select([.body.messages[] | select(.role == "user")] | last | .content | tostring | contains($t))' "$T/llm.log"; }

# no peer, no MCP tool: no tools key; the trailing slash ignored
out=$(jctl send a "hello one" --wait) || fail "send: $out"
[ "$(echo "$out" | jq -r .result.text)" = "reply to: hello one" ] || fail "$out"
r=$(req "hello one" | head -1)
echo "$r" | jq -e '.path == "/v1/chat/completions" and (.body | has("tools") | not) and (.body | has("tool_choice") | not) and .body.stream == true and .body.stream_options.include_usage == true and .auth == "Bearer sk-a" and .body.messages[0] == {"role":"system","content":"Be brief."}' >/dev/null || fail "plain request: $r"
for k in temperature top_p max_tokens seed stop response_format; do
	echo "$r" | jq -e --arg k $k '.body | has($k) | not' >/dev/null || fail "$k sent unset: $r"
done
# usage and attempt in the events
id=$(echo "$out" | jq -r .input_id)
jctl events --type run_completed | jq -e -s --arg id "$id" 'map(select(.payload.input_id == $id))[0].payload | .usage.input_tokens == 7 and .usage.output_tokens == 4 and .attempt == 1' >/dev/null ||
	fail "usage: $(jctl events --type run_completed | tail -1)"
jctl events --type text_delta | jq -e -s --arg id "$id" 'map(select(.payload.input_id == $id)) | length > 0 and all(.payload.attempt == 1)' >/dev/null ||
	fail "attempt in text_delta"

# a wired peer: send_message offered; its arguments split across chunks
out=$(jctl send b "go [[splittool:c:hi there]]" --wait) || fail "tool: $out"
echo "$out" | jq -r .result.text | grep -q "^tool said: delivered (input " || fail "tool reply: $out"
r=$(req "splittool" | head -1)
echo "$r" | jq -e '.body.tools | length == 1 and .[0].type == "function" and .[0].function.name == "send_message"' >/dev/null || fail "tools: $r"
c_got() { jctl events --type run_started | jq -e -s 'map(select(.name == "c" and .payload.text == "hi there")) | length == 1'; }
wait_for "c got the message" c_got
r=$(req "splittool" | tail -1)
echo "$r" | jq -e '.body.messages | map(select(.role == "assistant" and .tool_calls != null))[0].tool_calls[0].function.arguments | fromjson == {"to":"c","text":"hi there"}' >/dev/null || fail "the call sent back: $r"
echo "$r" | jq -e '.body.messages[-1].role == "tool" and .body.messages[-1].tool_call_id == "call_t1"' >/dev/null || fail "tool result: $r"
id=$(echo "$out" | jq -r .input_id)
jctl events --type agent.tool_call | jq -e -s --arg id "$id" 'map(select(.payload.input_id == $id))[0].payload | .name == "send_message" and .args.to == "c" and .attempt == 1 and .call_id == "call_t1"' >/dev/null || fail "tool_call event: $(jctl events --type agent.tool_call)"
jctl events --type agent.tool_result | jq -e -s --arg id "$id" 'map(select(.payload.input_id == $id))[0].payload | .is_error == false and (.content | startswith("delivered"))' >/dev/null || fail "tool_result event"
# peers are undirected: c may answer b
r=$(jq -c 'select(.body.model == "m2" and (.body.messages | map(.content) | index("hi there")))' "$T/llm.log" | head -1)
echo "$r" | jq -e '.body.tools[0].function.description | contains("b")' >/dev/null || fail "c's tools: $r"
# a function that is not offered: an error result, and the turn goes on
out=$(jctl send b "x [[call:nosuch:{}]]" --wait) || fail "unknown tool: $out"
echo "$out" | jq -r .result.text | grep -q '^tool said: error: no tool named "nosuch"' || fail "unknown tool: $out"
jctl events --type agent.tool_result | jq -e -s 'map(select(.payload.is_error == true and (.payload.content | contains("nosuch")))) | length == 1' >/dev/null || fail "is_error not marked"
# a model that never stops calling: failed after max_tool_rounds (8)
out=$(jctl send b "forever [[loop:c]]" --wait --timeout-ms 20000); rc=$?
[ $rc = 1 ] || fail "loop exit $rc: $out"
echo "$out" | jq -r .result.error | grep -q "max_tool_rounds (8)" || fail "loop error: $out"
[ "$(input_field b "$(echo "$out" | jq -r .input_id)" attempts)" = 1 ] || fail "the loop was retried"

# Azure style: api-key header, api-version query, extra header,
# parameters, stream = false
out=$(jctl send az "azure one" --wait) || fail "az: $out"
[ "$(echo "$out" | jq -r .result.text)" = "reply to: azure one" ] || fail "$out"
r=$(req "azure one" | head -1)
echo "$r" | jq -e '.path == "/openai/deployments/gpt-4o/chat/completions" and .query == {"api-version":"2024-10-21"} and .headers["api-key"] == "sk-az" and .auth == null and .headers["x-trace"] == "trace me"' >/dev/null || fail "azure request: $r"
echo "$r" | jq -e '.body.tools[0].function.name == "send_message"' >/dev/null || fail "az tools: $r"
echo "$r" | jq -e '.body.temperature == 0.2 and .body.top_p == 0.9 and .body.max_tokens == 50 and .body.seed == 7 and .body.stop == ["END","two words"] and .body.response_format == {"type":"json_object"} and .body.stream == false and (.body | has("stream_options") | not)' >/dev/null || fail "parameters: $r"
id=$(echo "$out" | jq -r .input_id)
jctl events --type run_completed | jq -e -s --arg id "$id" 'map(select(.payload.input_id == $id))[0].payload.usage.input_tokens == 7' >/dev/null || fail "non-stream usage"
# a tool call in a non-streamed response
out=$(jctl send az "[[tool:c:from az]]" --wait) || fail "az tool: $out"
echo "$out" | jq -r .result.text | grep -q "^tool said: delivered" || fail "az tool: $out"

# 400: failed at once, one attempt, the server's own message
out=$(jctl send a "bad [[400]]" --wait); rc=$?
[ $rc = 1 ] || fail "400 exit $rc: $out"
echo "$out" | jq -r .result.error | grep -q "^HTTP 400: model does not support this" || fail "400 error: $out"
[ "$(input_field a "$(echo "$out" | jq -r .input_id)" attempts)" = 1 ] || fail "400 retried"
[ "$(req "bad [[400]]" | wc -l)" = 1 ] || fail "400 sent twice"

# 429 with Retry-After: 2: the second request no sooner
out=$(jctl send a "busy [[429after:2]]" --wait --timeout-ms 20000) || fail "429: $out"
[ "$(input_field a "$(echo "$out" | jq -r .input_id)" attempts)" = 2 ] || fail "429 attempts"
req "429after" | jq -s -e '.[1].at - .[0].at >= 1.9' >/dev/null || fail "Retry-After not honoured: $(req 429after | jq -c .at)"

# Retry-After: 30 is capped by retry_backoff_max_ms (3000)
out=$(jctl send a "busier [[429after:30]]" --wait --timeout-ms 20000) || fail "429 cap: $out"
req "429after:30" | jq -s -e '(.[1].at - .[0].at) as $d | $d >= 2.9 and $d < 10' >/dev/null || fail "Retry-After not capped: $(req 429after:30 | jq -c .at)"

# 503 once: retried, and the events of attempt 2 say so
out=$(jctl send a "flaky [[503once]]" --wait --timeout-ms 20000) || fail "503: $out"
id=$(echo "$out" | jq -r .input_id)
[ "$(input_field a "$id" attempts)" = 2 ] || fail "503 attempts"
jctl events --type run_failed | jq -e -s --arg id "$id" 'map(select(.payload.input_id == $id))[0].payload | .attempt == 1 and (.error | startswith("HTTP 503"))' >/dev/null || fail "run_failed attempt"
jctl events --type run_completed | jq -e -s --arg id "$id" 'map(select(.payload.input_id == $id))[0].payload.attempt == 2' >/dev/null || fail "run_completed attempt"

# a silent stream fails by idle_timeout_ms; a slow healthy one lives
out=$(jctl send s "quiet [[silent]]" --wait --timeout-ms 20000)
[ "$(echo "$out" | jq -r .result.status)" = failed ] || fail "silent: $out"
echo "$out" | jq -r .result.error | grep -q "idle_timeout_ms = 1000" || fail "silent error: $out"
out=$(jctl send s "[[slow]] one two three four five six seven" --wait --timeout-ms 20000) || fail "slow: $out"
[ "$(echo "$out" | jq -r .result.status)" = completed ] || fail "slow: $out"
# no answer at all: first_byte_timeout_ms
out=$(jctl send s "nothing [[mute]]" --wait --timeout-ms 20000)
echo "$out" | jq -r .result.error | grep -q "no response from the server (first_byte_timeout_ms = 1500 ms)" || fail "mute: $out"
# a stream without its Content-Type is still read as one
out=$(jctl send s "plain [[untyped]]" --wait --timeout-ms 20000) || fail "untyped: $out"
[ "$(echo "$out" | jq -r .result.text)" = "reply to: plain [[untyped]]" ] || fail "untyped: $out"
[ "$(echo "$out" | jq -r .result.status)" = completed ] || fail "slow: $out"

# context trimming: 150 tokens = 600 characters: the last turn fits
long=$(printf 'x%.0s' $(seq 1 120))
for i in 1 2 3 4; do
	jctl send k "turn$i $long" --wait >/dev/null || fail "ctx turn $i"
done
r=$(req "turn4" | tail -1)
echo "$r" | jq -e '.body.messages[0] == {"role":"system","content":"SYSTEM-TEXT"}' >/dev/null || fail "system dropped: $r"
echo "$r" | jq -e '.body.response_format == {"type":"json_schema","json_schema":{"name":"response","schema":{"type":"object","properties":{"answer":{"type":"string"}}}}}' >/dev/null || fail "json_schema: $r"
echo "$r" | jq -e '[.body.messages[].content | tostring | select(contains("turn1") or contains("turn2"))] | length == 0' >/dev/null || fail "turn1/2 still sent: $r"
echo "$r" | jq -e '[.body.messages[] | select(.role == "user")] | length == 2 and .[0].content == "turn3 '"$long"'"' >/dev/null || fail "turn3 not sent: $r"
echo "$r" | jq -e '.body.messages[-1].content | startswith("turn4")' >/dev/null || fail "turn4 missing"
echo "$r" | jq -e '.body.messages | all(has("input_id") | not) and all(has("at_ms") | not)' >/dev/null || fail "extra fields sent"
# the stored history stays whole
jctl send k "turn5" --wait >/dev/null
is_state a healthy && [ "$(field_of a restarts)" = 0 ] || fail "a worker crashed"
is_state s healthy && [ "$(field_of s restarts)" = 0 ] || fail "s worker crashed"
