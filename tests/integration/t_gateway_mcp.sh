# The MCP door: the official MCP TypeScript SDK's Client over
# StreamableHTTPClientTransport (a bearer token in its headers) under node:
# initialize (a session), ping, the tools listed, mobkit_members,
# mobkit_status, mobkit_send waiting for an echo member's reply,
# mobkit_conversation, an unknown tool; then the transport's rules by
# curl: no token 401, no session 400, an unknown session 404, another
# Origin 403, GET 405 (with Allow), a batch holding a request 400 with a
# JSON-RPC error, an answer as an event stream when Accept prefers it (and
# JSON when it does not), a notification 202, DELETE ends the session.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/gw.sh"
. "$(dirname "$0")/npm.sh"
npm_need @modelcontextprotocol/sdk
{ header; cat <<EOT
[profile p]
provider = echo
[member m1]
profile = p
EOT
gw_section <<EOT
token_file = tokens
EOT
} >"$CFG"
start_daemon
wait_for "the gateway" gw_healthy
wait_for "m1" is_state m1 healthy
node "$FIX/mcp_client.cjs" "$GW_URL" "$GW_TOKEN" m1 >"$T/mcp.out" 2>&1 ||
	fail "mcp client: $(cat "$T/mcp.out")"
tail -1 "$T/mcp.out" | grep -qx ok || fail "mcp client: $(cat "$T/mcp.out")"
[ "$(jctl inputs m1 | jq '[.[] | select(.key == "mcp-1")] | length')" = 1 ] ||
	fail "the keyed send: $(jctl inputs m1)"
# the transport's rules, by hand
J='-H Content-Type:application/json -H Accept:application/json,text/event-stream'
s=$(curl -s -o "$T/body" -w '%{http_code}' $J -d '{"jsonrpc":"2.0","id":1,"method":"ping"}' "$GW_URL/mcp")
[ "$s" = 401 ] || fail "no token: $s"
h=$(hc -D - -o "$T/body" $J -d '{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-03-26","capabilities":{},"clientInfo":{"name":"curl","version":"1"}}}' "$GW_URL/mcp")
sid=$(echo "$h" | tr -d '\r' | sed -n 's/^[Mm]cp-[Ss]ession-[Ii]d: //p')
[ -n "$sid" ] || fail "no Mcp-Session-Id: $h"
body_is '.result.protocolVersion == "2025-03-26" and .result.capabilities.tools != null'
expect 202 POST /mcp $J -H "Mcp-Session-Id: $sid" -d '{"jsonrpc":"2.0","method":"notifications/initialized"}'
expect 200 POST /mcp $J -H "Mcp-Session-Id: $sid" -d '{"jsonrpc":"2.0","id":2,"method":"tools/list"}'
body_is '.id == 2 and (.result.tools | map(.name) | index("mobkit_send") != null)'
expect 400 POST /mcp $J -d '{"jsonrpc":"2.0","id":3,"method":"tools/list"}'
body_is '.error.code == -32000'
expect 404 POST /mcp $J -H 'Mcp-Session-Id: 0123456789abcdef0123456789abcdef' -d '{"jsonrpc":"2.0","id":4,"method":"ping"}'
expect 400 POST /mcp $J -H "Mcp-Session-Id: $sid" -H 'MCP-Protocol-Version: 1999-01-01' -d '{"jsonrpc":"2.0","id":5,"method":"ping"}'
expect 200 POST /mcp $J -H "Mcp-Session-Id: $sid" -d '{"jsonrpc":"2.0","id":6,"method":"nope/nope"}'
body_is '.error.code == -32601'
expect 400 POST /mcp $J -H "Mcp-Session-Id: $sid" -d 'not json'
body_is '.error.code == -32700'
expect 403 POST /mcp $J -H "Mcp-Session-Id: $sid" -H 'Origin: http://evil.example' -d '{"jsonrpc":"2.0","id":8,"method":"ping"}'
expect 200 POST /mcp $J -H "Mcp-Session-Id: $sid" -H "Origin: http://127.0.0.1:$GW_PORT" -d '{"jsonrpc":"2.0","id":9,"method":"ping"}'
expect 405 GET /mcp -H "Mcp-Session-Id: $sid"
hc -D - -o /dev/null -H "Mcp-Session-Id: $sid" "$GW_URL/mcp" | tr -d '\r' | grep -qi '^allow: .*POST' ||
	fail "GET /mcp: no Allow naming POST"
# a batch holding a request: one message a POST since 2025-06-18
expect 400 POST /mcp $J -H "Mcp-Session-Id: $sid" -d '[{"jsonrpc":"2.0","id":10,"method":"ping"}]'
body_is '.jsonrpc == "2.0" and .id == null and .error.code == -32600'
# Accept preferring an event stream: the answer is its one "message" event
for acc in 'text/event-stream' 'application/json;q=0.5, text/event-stream'; do
	h=$(hc -D - -o "$T/sse" -H 'Content-Type: application/json' -H "Accept: $acc" -H "Mcp-Session-Id: $sid" \
	    -d '{"jsonrpc":"2.0","id":11,"method":"tools/call","params":{"name":"mobkit_send","arguments":{"member":"m1","text":"over sse","wait":true}}}' "$GW_URL/mcp")
	echo "$h" | tr -d '\r' | grep -qi '^content-type: text/event-stream' || fail "Accept $acc: not an event stream: $h"
	[ "$(sed -n 1p "$T/sse")" = "event: message" ] || fail "Accept $acc: no message event: $(cat "$T/sse")"
	sed -n 's/^data: //p' "$T/sse" | jq -e '.id == 11 and (.result.content[0].text | test("over sse"))' >/dev/null ||
		fail "Accept $acc: the answer: $(cat "$T/sse")"
done
# both, equally: JSON (the server's choice)
h=$(hc -D - -o "$T/body" $J -H "Mcp-Session-Id: $sid" -d '{"jsonrpc":"2.0","id":12,"method":"ping"}' "$GW_URL/mcp")
echo "$h" | tr -d '\r' | grep -qi '^content-type: application/json' || fail "Accept both: not JSON: $h"
body_is '.id == 12 and .result == {}'
expect 200 DELETE /mcp -H "Mcp-Session-Id: $sid"
expect 404 POST /mcp $J -H "Mcp-Session-Id: $sid" -d '{"jsonrpc":"2.0","id":7,"method":"ping"}'
exit 0
