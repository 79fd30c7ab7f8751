# The worker's side of the MCP tool relay, driven by a scripted root
# (tests/fixtures/fakeroot.py) on its fd 3 and the loopback LLM fixture:
# MCP tools from CONFIG offered as SERVER__TOOL (and nothing else without
# a peer), the model's call sent as MCP_CALL {server, name, args}, the
# MCP_RESULT's text back to the model, tool_call/tool_result events with
# the attempt, an is_error result marked, TOOLS replacing the list, INTERRUPT
# cancelling an outstanding call (MCP_CANCEL), and the echo provider's
# "/call SERVER TOOL {json}".
. "$(dirname "$0")/lib.sh"
start_llm
W=$BIN/mobkit-worker
tools='[{"server":"files","name":"read_file","description":"Read a file","input_schema":{"type":"object","properties":{"path":{"type":"string"}},"required":["path"]}}]'
config() {	# PROVIDER
	jq -cn --arg p "$1" --arg url "http://127.0.0.1:$LLM_PORT/v1" --arg tools "$tools" \
	    '{t:20, id:"m1", mob:"mob", provider:$p, model:"m", base_url:$url, comms:true, peers:[], tools:$tools, params:"{\"stream\":true,\"max_tool_rounds\":8}"}'
}
run() { jq -cn --arg id "$1" --arg text "$2" --argjson a "${3:-1}" '{t:21, input_id:$id, text:$text, attempt:$a}'; }

# openai: a call, a result, a reply; then an error result; then TOOLS []
script=$(jq -cn --argjson cfg "$(config openai)" \
    --argjson r1 "$(run in-1 'go [[call:files__read_file:{"path":"/a"}]]' 2)" \
    --argjson r2 "$(run in-2 'again [[call:files__read_file:{"path":"/b"}]]')" \
    --argjson r3 "$(run in-3 'no tools now')" '[
	{send:$cfg}, {expect:2},
	{send:$r1}, {expect:28, save:"c1"},
	{send_result:"c1", content:[{type:"text",text:"hello from a"},{type:"text",text:"line 2"}]},
	{expect:24},
	{send:$r2}, {expect:28, save:"c2"},
	{send_result:"c2", content:[{type:"text",text:"no such file"}], is_error:true},
	{expect:24},
	{send:{t:27, tools:"[]"}},
	{send:$r3}, {expect:24}]')
python3 "$FIX/fakeroot.py" "$W" "$script" >"$T/out1" 2>"$T/err1" || fail "fakeroot: $(cat "$T/err1") $(cat "$T/out1")"
call=$(jq -c 'select(.t == 28)' "$T/out1" | head -1)
echo "$call" | jq -e '.server == "files" and .name == "read_file" and (.args | fromjson) == {"path":"/a"}' >/dev/null || fail "MCP_CALL: $call"
done1=$(jq -c 'select(.t == 24 and .input_id == "in-1")' "$T/out1")
echo "$done1" | jq -e '.status == "completed" and .text == "tool said: hello from a\nline 2"' >/dev/null || fail "RUN_DONE: $done1"
echo "$done1" | jq -e '(.messages | fromjson) as $m | $m[1].tool_calls[0].function.name == "files__read_file" and $m[2].role == "tool" and $m[2].content == "hello from a\nline 2"' >/dev/null || fail "messages: $done1"
r=$(jq -c 'select(.body.messages[-1].content | tostring | contains("go [[call"))' "$T/llm.log" | head -1)
echo "$r" | jq -e '.body.tools | length == 1 and .[0].function.name == "files__read_file" and .[0].function.description == "Read a file" and .[0].function.parameters.required == ["path"]' >/dev/null || fail "tools offered: $r"
jq -e -s 'map(select(.t == 11 and .event_type == "agent.tool_call" and .payload.input_id == "in-1"))[0].payload | .attempt == 2 and .name == "files__read_file" and .args == {"path":"/a"}' "$T/out1" >/dev/null || fail "tool_call event"
jq -e -s 'map(select(.t == 11 and .event_type == "agent.tool_result" and .payload.input_id == "in-1"))[0].payload | .attempt == 2 and .is_error == false' "$T/out1" >/dev/null || fail "tool_result event"
jq -e -s 'map(select(.t == 11 and .event_type == "agent.tool_result" and .payload.input_id == "in-2"))[0].payload | .is_error == true and (.content | contains("no such file"))' "$T/out1" >/dev/null || fail "is_error not marked"
jq -e -s 'map(select(.t == 24 and .input_id == "in-2"))[0].text | startswith("tool said: error: no such file")' "$T/out1" >/dev/null || fail "error result: $(jq -c 'select(.t == 24)' "$T/out1")"
r=$(jq -c 'select(.body.messages[-1].content == "no tools now")' "$T/llm.log" | head -1)
[ -n "$r" ] || fail "no request for in-3"
echo "$r" | jq -e '.body | has("tools") | not' >/dev/null || fail "TOOLS [] still offered: $r"

# INTERRUPT while a call is outstanding: MCP_CANCEL, then interrupted
script=$(jq -cn --argjson cfg "$(config openai)" \
    --argjson r1 "$(run in-9 'wait [[call:files__read_file:{"path":"/slow"}]]')" '[
	{send:$cfg}, {expect:2},
	{send:$r1}, {expect:28, save:"c"},
	{send:{t:22, input_id:"in-9"}}, {expect:29}, {expect:24}]')
python3 "$FIX/fakeroot.py" "$W" "$script" >"$T/out2" 2>"$T/err2" || fail "interrupt: $(cat "$T/err2")"
cid=$(jq -r 'select(.t == 28) | .call_id' "$T/out2")
jq -e -s --arg c "$cid" 'map(select(.t == 29))[0].call_id == $c' "$T/out2" >/dev/null || fail "MCP_CANCEL: $(cat "$T/out2")"
jq -e -s 'map(select(.t == 24))[0].status == "interrupted"' "$T/out2" >/dev/null || fail "not interrupted"

# echo: /call SERVER TOOL {json}, offline
script=$(jq -cn --argjson cfg "$(config echo)" \
    --argjson r1 "$(run in-5 '/call files read_file {"path":"/c"}')" '[
	{send:$cfg}, {expect:2},
	{send:$r1}, {expect:28, save:"c"},
	{send_result:"c", content:[{type:"text",text:"contents of c"}]},
	{expect:24}]')
python3 "$FIX/fakeroot.py" "$W" "$script" >"$T/out3" 2>"$T/err3" || fail "echo: $(cat "$T/err3")"
jq -e -s 'map(select(.t == 28))[0] | .server == "files" and .name == "read_file" and (.args | fromjson) == {"path":"/c"}' "$T/out3" >/dev/null || fail "echo MCP_CALL: $(cat "$T/out3")"
jq -e -s 'map(select(.t == 24))[0] | .status == "completed" and .text == "called files/read_file: contents of c"' "$T/out3" >/dev/null || fail "echo reply: $(jq -c 'select(.t == 24)' "$T/out3")"
