# An MCP server over Streamable HTTP (url), the python fixture: the
# session id it gives at initialize and the negotiated protocol version
# on every later request, configured headers sent, JSON and SSE answers,
# call_timeout_ms, and a server that goes away and comes back.
. "$(dirname "$0")/lib.sh"
python3 "$FIX/mcpserver.py" --http 0 --portfile "$T/port" --log "$T/http.log" \
    --pidfile "$T/http.pid" &
wait_for "the fixture's port" test -s "$T/port"
PORT=$(cat "$T/port")
{ header; cat <<EOT
[mcp web]
url = http://127.0.0.1:$PORT/mcp
header.Authorization = Bearer sekrit
header.X-Trace = t1
call_timeout_ms = 1500
watchdog_ms = 2000
restart_backoff_ms = 200
max_restarts = 1000
EOT
} >"$CFG"
start_daemon
wait_for "web healthy" is_state web healthy
[ "$(field_of web kind)" = mcp ] || fail "kind"
[ "$(jctl tools | jq -c '[.[].name]')" = '["echo","add","sleep","hang","fail","grow","pid"]' ] || fail "tools: $(jctl tools)"
# the headers: configured ones on every request, session and version after initialize
jq -s -e '.[0].msg.method == "initialize" and (.[0].http_headers["mcp-session-id"] == null)' "$T/http.log" >/dev/null ||
	fail "initialize: $(head -1 "$T/http.log")"
jq -s -e 'all(.[]; .http_headers.authorization == "Bearer sekrit" and .http_headers["x-trace"] == "t1")' "$T/http.log" >/dev/null ||
	fail "configured headers: $(jq -c .http_headers "$T/http.log" | head -3)"
jq -s -e '.[1:] | length >= 2 and all(.[]; .http_headers["mcp-session-id"] == "s1" and .http_headers["mcp-protocol-version"] == "2025-06-18")' "$T/http.log" >/dev/null ||
	fail "session: $(jq -c .http_headers "$T/http.log" | head -3)"
ps -o args= -p "$(pid_of web)" | grep -q sekrit && fail "a header value is in the bridge's argv"
# tools/call answers as an SSE stream
out=$(jctl call web echo --args '{"message":"over http"}') || fail "call: $out"
[ "$(echo "$out" | jq -r '.content[0].text')" = "echo: over http" ] || fail "call: $out"
out=$(jctl call web fail); rc=$?
[ $rc = 1 ] && [ "$(echo "$out" | jq -r '.content[0].text')" = "it failed" ] || fail "fail: $rc $out"
# the GET stream, then tools/list_changed on it: the tools are listed again
wait_for "the GET stream" grep -q '"get_stream"' "$T/http.log"
grep '"get_stream"' "$T/http.log" | jq -e '.http_headers["mcp-session-id"] == "s1" and .http_headers.accept == "text/event-stream"' >/dev/null ||
	fail "GET stream headers: $(grep '"get_stream"' "$T/http.log")"
out=$(jctl call web grow) || fail "grow: $out"
wait_for "extra listed" sh -c "'$BIN/mobkitctl' -s '$SOCK' --json tools | jq -e 'map(.name) | index(\"extra\")'"
# call_timeout_ms, and the cancel the server gets
t0=$(date +%s%N)
out=$(jctl call web hang); rc=$?
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
[ $rc = 1 ] && echo "$out" | jq -r '.content[0].text' | grep -q "did not answer within 1500 ms" || fail "hang: $rc $out"
[ $ms -lt 4000 ] || fail "hang answered after $ms ms"
wait_for "notifications/cancelled" grep -q '"notifications/cancelled"' "$T/http.log"
# the server goes away: the bridge fails and restarts until it is back
kill "$(cat "$T/http.pid")"
wait_for "web not healthy" sh -c "! '$BIN/mobkitctl' -s '$SOCK' --json status web | jq -e '.children[0].state == \"healthy\"'"
python3 "$FIX/mcpserver.py" --http "$PORT" --log "$T/http2.log" --pidfile "$T/http2.pid" &
wait_for "web healthy again" is_state web healthy
out=$(jctl call web add --args '{"a":20,"b":22}') || fail "call after restart: $out"
[ "$(echo "$out" | jq -r '.content[0].text')" = 42 ] || fail "after restart: $out"
# stopping ends the session with a DELETE
ctl stop web >/dev/null
wait_for "web stopped" is_state web stopped
jq -s -e 'map(select(.delete != null)) | length == 1 and .[0].delete == "s1"' "$T/http2.log" >/dev/null ||
	fail "no DELETE of the session: $(tail -2 "$T/http2.log")"
exit 0
