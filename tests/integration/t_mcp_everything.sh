# Against the real MCP server @modelcontextprotocol/server-everything
# (npm), over stdio: healthy with its pid, its tools listed, a call, kill -9
# of the server mid-call (a long-running tool) failing that call at once,
# then the server back with its tools; and the same package over
# Streamable HTTP (url).  The package is installed once into
# a cache directory ($MOBKIT_NPM_CACHE, default build/npm); a machine that
# cannot install it fails this test, it never skips.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/npm.sh"
npm_need @modelcontextprotocol/server-everything
PKG=$NPM_DIR/node_modules/@modelcontextprotocol/server-everything
[ -f "$PKG/dist/index.js" ] || fail "no $PKG/dist/index.js after npm install"
HTTP_PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
PORT=$HTTP_PORT node "$PKG/dist/index.js" streamableHttp >"$T/http.log" 2>&1 &
echo $! >"$T/everyhttp.pid"
{ header; cat <<EOT
[mcp web]
url = http://127.0.0.1:$HTTP_PORT/mcp
restart_backoff_ms = 200
max_restarts = 100

[mcp everything]
command = node
args = $PKG/dist/index.js stdio
call_timeout_ms = 60000
restart_backoff_ms = 50
EOT
} >"$CFG"
start_daemon
TIMEOUT=60 wait_for "everything healthy" is_state everything healthy
[ "$(field_of everything kind)" = mcp ] || fail "kind: $(jctl status everything)"
bpid=$(pid_of everything)
alive "$bpid" || fail "no live pid in status"
jctl tools | jq -e 'map(.name) | index("echo")' >/dev/null || fail "no echo: $(jctl tools | jq -c 'map(.name)')"
jctl tools | jq -e 'map(.name) | (index("get-sum") or index("add"))' >/dev/null ||
	fail "no get-sum/add: $(jctl tools | jq -c 'map(.name)')"
jctl tools | jq -e 'map(select(.server == "everything" and .name == "echo")) | .[0].input_schema.properties.message' >/dev/null ||
	fail "echo's schema: $(jctl tools)"
out=$(jctl call everything echo --args '{"message":"hi"}') || fail "call echo: $out"
echo "$out" | jq -r '.content[0].text' | grep -q 'hi' || fail "echo: $out"
[ "$(echo "$out" | jq -r .is_error)" = false ] || fail "echo: $out"
[ "$(ctl call everything echo --args '{"message":"plain"}')" = "Echo: plain" ] ||
	fail "human output: $(ctl call everything echo --args '{"message":"plain"}')"
# kill -9 of the server (node, the bridge's child) mid-call
spid=$(pgrep -P "$bpid" node | head -1)
[ -n "$spid" ] || fail "no node server under the bridge $bpid"
( jctl call everything trigger-long-running-operation --args '{"duration":30,"steps":30}' >"$T/mid.out"
  echo $? >"$T/mid.rc" ) &
sleep 1	# the call is on its way; the assertion is on what follows
t0=$(date +%s%N)
kill -9 "$spid"
wait_for "the call answered" test -s "$T/mid.rc"
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
[ "$(cat "$T/mid.rc")" = 1 ] || fail "mid-call exit $(cat "$T/mid.rc"): $(cat "$T/mid.out")"
[ "$(jq -r '.content[0].text' "$T/mid.out")" = "mcp server everything exited" ] || fail "mid-call: $(cat "$T/mid.out")"
[ "$(jq -r .is_error "$T/mid.out")" = true ] || fail "mid-call: $(cat "$T/mid.out")"
# at once: long before the 30 s the tool would have run (a loaded machine
# under ASan takes a few seconds to notice the exit and answer)
[ $ms -lt 15000 ] || fail "the failure took $ms ms"
# a call while the server restarts waits for it (within call_timeout_ms)
out=$(jctl call everything echo --args '{"message":"waited"}') || fail "call during the restart: $out"
echo "$out" | jq -r '.content[0].text' | grep -q 'waited' || fail "during the restart: $out"
TIMEOUT=60 wait_for "a new bridge" sh -c "[ \"\$('$BIN/mobkitctl' -s '$SOCK' --json status everything | jq -r '.children[0].pid')\" != $bpid ]"
TIMEOUT=60 wait_for "everything healthy again" is_state everything healthy
jctl tools | jq -e 'map(.name) | index("echo")' >/dev/null || fail "tools after restart: $(jctl tools)"
out=$(jctl call everything echo --args '{"message":"again"}') || fail "call after restart: $out"
echo "$out" | jq -r '.content[0].text' | grep -q 'again' || fail "after restart: $out"
[ "$(jctl status everything | jq -r '.children[0].restarts')" -ge 1 ] || fail "restarts: $(jctl status everything)"
# kill -9 of the pid status shows (the bridge) mid-call: the same tool
# error, and its server does not outlive it
bpid=$(pid_of everything)
spid=$(pgrep -P "$bpid" node | head -1)
rm -f "$T/mid.rc"
( jctl call everything trigger-long-running-operation --args '{"duration":30,"steps":30}' >"$T/mid.out"
  echo $? >"$T/mid.rc" ) &
sleep 1	# the call is on its way; the assertion is on what follows
kill -9 "$bpid"
wait_for "the call answered" test -s "$T/mid.rc"
[ "$(jq -r '.content[0].text' "$T/mid.out")" = "mcp server everything exited" ] || fail "bridge killed: $(cat "$T/mid.out")"
wait_for "the server $spid gone with its bridge" dead "$spid"
TIMEOUT=60 wait_for "everything healthy again" sh -c "[ \"\$('$BIN/mobkitctl' -s '$SOCK' --json status everything | jq -r '.children[0].state + \" \" + (.children[0].pid|tostring)')\" != 'healthy $bpid' ] && [ \"\$('$BIN/mobkitctl' -s '$SOCK' --json status everything | jq -r '.children[0].state')\" = healthy ]"
# Streamable HTTP: the same server's tools and a call, by url
TIMEOUT=60 wait_for "web healthy" is_state web healthy
jctl tools | jq -e 'map(select(.server == "web" and .name == "get-sum")) | length == 1' >/dev/null ||
	fail "web's tools: $(jctl tools | jq -c 'map(.server + "/" + .name)')"
out=$(jctl call web get-sum --args '{"a":20,"b":22}') || fail "call over http: $out"
echo "$out" | jq -r '.content[0].text' | grep -q 42 || fail "get-sum over http: $out"
grep -q "Session initialized" "$T/http.log" || fail "no session at the server: $(tail -3 "$T/http.log")"
exit 0
