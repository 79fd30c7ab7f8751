# The OpenAI-compatible door, through the official openai npm package
# under node: the members as models, a completion against an echo member
# (and the same Idempotency-Key giving the same input), a streamed one as
# chat.completion.chunk events, a bad model (404 in OpenAI's error shape),
# a bad token (401), a member on an LLM (the loopback fixture) streamed
# with stream_options.include_usage (its usage in a last chunk); then the
# raw SSE ends with "data: [DONE]", its chunks have no usage unless asked,
# and a member on an LLM gives the completion its usage.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/gw.sh"
. "$(dirname "$0")/npm.sh"
npm_need openai
start_llm
{ header; cat <<EOT
[profile p]
provider = echo
[member m1]
profile = p
[profile gpt]
provider = openai
model = test-model
base_url = http://127.0.0.1:$LLM_PORT/v1
[member w]
profile = gpt
EOT
gw_section <<EOT
token_file = tokens
EOT
} >"$CFG"
start_daemon
wait_for "the gateway" gw_healthy
wait_for "m1" is_state m1 healthy
wait_for "w" is_state w healthy
node "$FIX/openai_client.cjs" "$GW_URL" "$GW_TOKEN" m1 w >"$T/oa.out" 2>&1 ||
	fail "openai client: $(cat "$T/oa.out")"
tail -1 "$T/oa.out" | grep -qx ok || fail "openai client: $(cat "$T/oa.out")"
# the idempotency key made one input
[ "$(jctl inputs m1 | jq '[.[] | select(.key == "oa-1")] | length')" = 1 ] ||
	fail "Idempotency-Key: $(jctl inputs m1)"
# the raw stream: chunks, then data: [DONE] last
hc -N -H 'Content-Type: application/json' -d '{"model":"m1","stream":true,"messages":[{"role":"user","content":"raw"}]}' \
    "$GW_URL/v1/chat/completions" >"$T/raw.sse"
grep -q '"object":"chat.completion.chunk"' "$T/raw.sse" || fail "no chunk: $(cat "$T/raw.sse")"
[ "$(grep '^data: ' "$T/raw.sse" | tail -1)" = "data: [DONE]" ] || fail "no [DONE] last: $(cat "$T/raw.sse")"
! grep -q '"usage"' "$T/raw.sse" || fail "usage not asked for: $(cat "$T/raw.sse")"
# include_usage on a member that counts no tokens: the usage chunk says null
hc -N -H 'Content-Type: application/json' -d '{"model":"m1","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"raw"}]}' \
    "$GW_URL/v1/chat/completions" >"$T/rawu.sse"
grep '^data: {' "$T/rawu.sse" | tail -1 | sed 's/^data: //' |
    jq -e '.choices == [] and .usage == null and .object == "chat.completion.chunk"' >/dev/null ||
	fail "usage chunk: $(cat "$T/rawu.sse")"
# errors in OpenAI's shape
expect 400 POST /v1/chat/completions -d '{"model":"m1","messages":[]}'
body_is '.error.type == "invalid_request_error" and (.error.message | test("user"))'
expect 400 POST /v1/chat/completions -d 'nope'
body_is '.error.message and .error.type'
expect 404 POST /v1/chat/completions -d '{"model":"nobody","messages":[{"role":"user","content":"x"}]}'
body_is '.error.code == "model_not_found"'
expect 200 GET /v1/models
body_is '.object == "list" and (.data | map(.id) == ["m1", "w"])'
# a member whose provider counts tokens: the completion has its usage
expect 200 POST /v1/chat/completions -d '{"model":"w","messages":[{"role":"user","content":"count me"}]}'
body_is '(.choices[0].message.content | test("count me")) and .usage.prompt_tokens > 0 and .usage.completion_tokens > 0 and .usage.total_tokens == .usage.prompt_tokens + .usage.completion_tokens'
exit 0
