# The openai provider against the loopback fixture: a streamed turn with
# usage and the bearer key; 500 then 200 retried without holding up the
# queue; max_attempts; malformed, dropped and timed-out streams fail with
# a clear error, never a crash.
. "$(dirname "$0")/lib.sh"
start_llm
{ header; cat <<EOT
[profile gpt]
provider = openai
model = test-model
base_url = http://127.0.0.1:$LLM_PORT/v1
api_key_env = MOBKIT_TEST_KEY
system = You are terse.
max_attempts = 2
request_timeout_ms = 1500

[profile once]
provider = openai
model = test-model
base_url = http://127.0.0.1:$LLM_PORT/v1
max_attempts = 1
request_timeout_ms = 1500

[member w]
profile = gpt

[member x]
profile = once
EOT
} >"$CFG"
MOBKIT_TEST_KEY=sk-test-123 start_daemon
wait_for "w healthy" is_state w healthy
wait_for "x healthy" is_state x healthy
out=$(jctl send w "hello model" --wait) || fail "send: $out"
[ "$(echo "$out" | jq -r .result.text)" = "reply to: hello model" ] || fail "$out"
id=$(echo "$out" | jq -r .input_id)
n=$(jctl events --type text_delta | jq -s "map(select(.payload.input_id == \"$id\")) | length")
[ "$n" -ge 3 ] || fail "only $n deltas"
jctl events --type run_completed | jq -e -s "map(select(.payload.input_id == \"$id\"))[0].payload.usage.total_tokens == 11" >/dev/null ||
	fail "usage: $(jctl events --type run_completed | tail -1)"
head -1 "$T/llm.log" | jq -e '.auth == "Bearer sk-test-123" and .body.stream == true and .body.model == "test-model" and .body.messages[0].role == "system" and .body.messages[0].content == "You are terse."' >/dev/null ||
	fail "request: $(head -1 "$T/llm.log")"
# 500 then 200: retried; the input behind it is not held up
a=$(send_id w "first [[500once]]")
b=$(jctl send w "second" --wait | jq -r .input_id)
wait_for "the retried input consumed" input_is w "$a" consumed
[ "$(input_field w "$a" attempts)" = 2 ] || fail "attempts $(input_field w "$a" attempts)"
order=$(jctl events --type input.consumed | jq -r "select(.payload.input_id == \"$a\" or .payload.input_id == \"$b\") | .payload.input_id" | tr '\n' ' ')
[ "$order" = "$b $a " ] || fail "the later input waited: $order"
# max_attempts: failed, with the server's message
out=$(jctl send w "doomed [[500]]" --wait); rc=$?
[ $rc = 1 ] || fail "failed send exit $rc"
[ "$(echo "$out" | jq -r .result.status)" = failed ] || fail "$out"
echo "$out" | jq -r .result.error | grep -q "HTTP 500: the model is on fire" || fail "error: $out"
[ "$(input_field w "$(echo "$out" | jq -r .input_id)" attempts)" = 2 ] || fail "attempts != max_attempts"
# broken streams
for case in "[[malformed]]:malformed stream chunk" "[[drop]]:" "[[stall]]:request_timeout_ms"; do
	marker=${case%%:*}; want=${case#*:}
	out=$(jctl send x "broken $marker" --wait --timeout-ms 20000)
	[ "$(echo "$out" | jq -r .result.status)" = failed ] || fail "$marker: $out"
	err=$(echo "$out" | jq -r .result.error)
	[ -n "$err" ] && [ "$err" != null ] || fail "$marker: no error"
	[ -z "$want" ] || echo "$err" | grep -q "$want" || fail "$marker: $err"
done
jctl events --type run_failed | jq -e -s 'length >= 5' >/dev/null || fail "run_failed events"
is_state x healthy && [ "$(field_of x restarts)" = 0 ] || fail "the worker crashed"
# 429 once: a failed run, then retried
out=$(jctl send w "busy [[429once]]" --wait) || fail "429: $out"
[ "$(input_field w "$(echo "$out" | jq -r .input_id)" attempts)" = 2 ] || fail "429 not retried"
