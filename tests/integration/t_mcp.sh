# MCP servers in the tree, against the python fixture (stdio): healthy
# once initialised and listed, tools and call, a stray non-JSON line
# tolerated, list_changed, call_timeout_ms, a failing tool, a wedged
# server (SIGSTOP) found by MCP ping within watchdog_ms and restarted,
# profile tools given to members, config errors.
. "$(dirname "$0")/lib.sh"
{ header; cat <<EOT
[mcp fake]
command = python3
args = $FIX/mcpserver.py --log $T/fake.log --pidfile $T/fake.pid
call_timeout_ms = 1500
watchdog_ms = 1000
restart_backoff_ms = 50

[profile p]
provider = echo
tools = fake/echo fake/add

[member m1]
profile = p
peers = m2

[profile solo]
provider = echo
tools = fake
comms = false

[member m2]
profile = solo
EOT
} >"$CFG"
start_daemon
wait_for "fake healthy" is_state fake healthy
[ "$(field_of fake kind)" = mcp ] || fail "kind: $(jctl status fake)"
bpid=$(pid_of fake)
alive "$bpid" || fail "no pid in status"
# every page of tools/list, in order
[ "$(jctl tools | jq -c '[.[].name]')" = '["echo","add","sleep","hang","fail","grow","pid"]' ] ||
	fail "tools: $(jctl tools)"
[ "$(jctl tools | jq -r '.[0].server')" = fake ] || fail "server: $(jctl tools)"
[ "$(jctl tools | jq -r '.[0].input_schema.required[0]')" = message ] || fail "schema: $(jctl tools)"
# a member sees what its profile names
wait_for "m1 healthy" is_state m1 healthy
[ "$(jctl tools m1 | jq -c '[.[].name]')" = '["send_message","echo","add"]' ] || fail "tools m1: $(jctl tools m1)"
[ "$(jctl tools m1 | jq -c '.[0].server')" = null ] || fail "send_message's server: $(jctl tools m1)"
wait_for "m2 healthy" is_state m2 healthy
[ "$(jctl tools m2 | jq 'length')" = 7 ] || fail "tools m2 (comms = false, the whole server): $(jctl tools m2)"
out=$(jctl tools nobody 2>&1); rc=$?
[ $rc = 1 ] && echo "$out" | grep -q 'no member "nobody"' || fail "tools nobody: $rc $out"
grep -q "not JSON-RPC, ignored: mcpserver.py starting" "$T/daemon.log" || fail "the stray line was not logged"
# call
out=$(jctl call fake echo --args '{"message":"hi"}') || fail "call: $out"
[ "$(echo "$out" | jq -r '.content[0].text')" = "echo: hi" ] || fail "call: $out"
[ "$(echo "$out" | jq -r .is_error)" = false ] || fail "call: $out"
[ "$(ctl call fake add --args '{"a":2,"b":3}')" = 5 ] || fail "human call: $(ctl call fake add --args '{"a":2,"b":3}')"
# a tool error: exit 1
out=$(jctl call fake fail); rc=$?
[ $rc = 1 ] || fail "is_error: exit $rc ($out)"
[ "$(echo "$out" | jq -r .is_error)" = true ] || fail "fail: $out"
out=$(jctl call fake nosuch); rc=$?
[ $rc = 1 ] && echo "$out" | jq -r '.content[0].text' | grep -q "unknown tool nosuch" || fail "unknown tool: $rc $out"
out=$(jctl call fake echo --args '[1]'); rc=$?
[ $rc = 1 ] || fail "bad args: $rc $out"
out=$(jctl call nope echo); rc=$?
[ $rc = 1 ] || fail "no server: $rc $out"
# call_timeout_ms: a tool that never answers, and the cancel the server gets
t0=$(date +%s%N)
out=$(jctl call fake hang); rc=$?
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
[ $rc = 1 ] || fail "hang: exit $rc ($out)"
echo "$out" | jq -r '.content[0].text' | grep -q "did not answer within 1500 ms" || fail "hang: $out"
[ $ms -ge 1400 ] && [ $ms -lt 4000 ] || fail "hang answered after $ms ms"
wait_for "notifications/cancelled" grep -q '"notifications/cancelled"' "$T/fake.log"
# list_changed: the tools are listed again
out=$(jctl call fake grow) || fail "grow: $out"
wait_for "extra listed" sh -c "'$BIN/mobkitctl' -s '$SOCK' --json tools | jq -e 'map(.name) | index(\"extra\")'"
jctl events --type mcp.tools_changed | jq -e -s 'map(select(.payload.tools == 8)) | length == 1' >/dev/null ||
	fail "no mcp.tools_changed: $(jctl events --type 'mcp.*')"
# SIGSTOP of the server: the MCP ping goes unanswered, the watchdog
# (1000 ms) restarts the bridge and the server with it
spid=$(cat "$T/fake.pid")
kill -STOP "$spid"
t0=$(date +%s%N)
wait_for "restart after SIGSTOP" sh -c "[ \"\$('$BIN/mobkitctl' -s '$SOCK' --json status fake | jq -r '.children[0].pid')\" != $bpid ]"
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
[ $ms -lt 3500 ] || fail "the wedged server was found after $ms ms"
wait_for "fake healthy again" is_state fake healthy
dead "$spid" || fail "the stopped server $spid is still there"
[ "$(cat "$T/fake.pid")" != "$spid" ] || fail "no new server"
out=$(jctl call fake echo --args '{"message":"back"}') || fail "call after restart: $out"
[ "$(echo "$out" | jq -r '.content[0].text')" = "echo: back" ] || fail "after restart: $out"
# kill -9 of the server mid-call: the call fails at once, it comes back
bpid=$(pid_of fake)
spid=$(cat "$T/fake.pid")
( jctl call fake sleep --args '{"ms":20000}' >"$T/mid.out"; echo $? >"$T/mid.rc" ) &
wait_for "the call in flight" grep -q '"sleep"' "$T/fake.log"
t0=$(date +%s%N)
kill -9 "$spid"
wait_for "the call answered" test -s "$T/mid.rc"
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
[ "$(cat "$T/mid.rc")" = 1 ] || fail "mid-call rc $(cat "$T/mid.rc")"
[ "$(jq -r '.content[0].text' "$T/mid.out")" = "mcp server fake exited" ] || fail "mid-call: $(cat "$T/mid.out")"
[ $ms -lt 1500 ] || fail "mid-call failure took $ms ms"
wait_for "fake healthy after kill" sh -c "[ \"\$('$BIN/mobkitctl' -s '$SOCK' --json status fake | jq -r '.children[0].state + \" \" + (.children[0].pid|tostring)')\" != 'healthy $bpid' ] && [ \"\$('$BIN/mobkitctl' -s '$SOCK' --json status fake | jq -r '.children[0].state')\" = healthy ]"
[ "$(jctl tools | jq 'length')" = 7 ] || fail "tools after restart: $(jctl tools)"
out=$(jctl call fake add --args '{"a":1,"b":1}') || fail "call after kill: $out"
# a call to a stopped server fails at once
ctl stop fake >/dev/null
wait_for "fake stopped" is_state fake stopped
out=$(jctl call fake echo); rc=$?
[ $rc = 1 ] && echo "$out" | jq -r '.content[0].text' | grep -q "mcp server fake is stopped" || fail "stopped: $rc $out"
exit 0
