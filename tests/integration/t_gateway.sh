# The gateway: started by [gateway] as the module "gateway", every route
# family through real HTTP, the error shape and its status codes, 401 with
# WWW-Authenticate, 405 with Allow, 413 past max_body_bytes.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/gw.sh"
{ header; cat <<EOT
[module a]
command = $MK
[module router]
command = mobkit-router
[module delivery]
command = mobkit-delivery
[profile p]
provider = echo
[member m1]
profile = p
[member m2]
profile = p
EOT
gw_section <<EOT
token_file = tokens
max_body_bytes = 4096
EOT
} >"$CFG"
start_daemon
wait_for "the gateway" gw_healthy
wait_for "the router" is_state router healthy
[ "$(field_of gateway kind)" = module ] || fail "gateway is not a module"
# unauthenticated: /healthz, /readyz; the rest 401 with WWW-Authenticate
curl -s "$GW_URL/healthz" | jq -e '.status == "ok"' >/dev/null || fail healthz
wait_for "ready" sh -c "curl -sf $GW_URL/readyz"
curl -s "$GW_URL/readyz" | jq -e '.status == "ready"' >/dev/null || fail readyz
h=$(curl -s -D - -o "$T/body" "$GW_URL/v1/status")
echo "$h" | grep -q '^HTTP/1.1 401' || fail "no token: $h"
echo "$h" | grep -qi '^WWW-Authenticate: Bearer' || fail "no WWW-Authenticate: $h"
body_is '.error.code == "unauthorized"'
s=$(curl -s -o /dev/null -w '%{http_code}' -H 'Authorization: Bearer nope' "$GW_URL/v1/status")
[ "$s" = 401 ] || fail "bad token: $s"
s=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Basic $GW_TOKEN" "$GW_URL/v1/status")
[ "$s" = 401 ] || fail "not bearer: $s"
# status in mobkitctl --json's shape
expect 200 GET /v1/status
body_is '.daemon.state == "running" and ([.children[].name] | index("gateway") != null)'
jctl status | jq -S 'del(.daemon.uptime_ms) | [.children[] | {name, state, pid}]' >"$T/ctl.json"
hc "$GW_URL/v1/status" | jq -S 'del(.daemon.uptime_ms) | [.children[] | {name, state, pid}]' >"$T/gw.json"
cmp -s "$T/ctl.json" "$T/gw.json" || fail "status differs from mobkitctl --json"
expect 200 GET /v1/children/a
body_is '.children | length == 1 and .[0].name == "a"'
expect 404 GET /v1/children/nope
body_is '.error.code == "not_found"'
# start/stop/restart/kill
p=$(pid_of a)
expect 200 POST /v1/children/a/restart
wait_for "a restarted" sh -c "[ \"\$(\"$BIN/mobkitctl\" -s $SOCK --json status a | jq -r '.children[0].pid')\" != $p ]"
wait_for "a healthy" is_state a healthy
expect 200 POST /v1/children/a/stop
wait_for "a stopped" is_state a stopped
expect 200 POST /v1/children/a/start
wait_for "a healthy" is_state a healthy
p=$(pid_of a)
expect 200 POST /v1/children/a/kill -d '{"signal":"KILL"}'
wait_for "a killed" dead "$p"
expect 200 GET "/v1/transitions?name=a"
body_is 'length > 3 and all(.[]; .name == "a")'
# members: list, spawn, inputs, reset, interrupt, retire, destroy
expect 200 GET /v1/members
body_is '[.[].id] == ["m1", "m2"]'
expect 200 POST /v1/members -d '{"id":"m3","profile":"p"}'
wait_for "m3 healthy" is_state m3 healthy
expect 409 POST /v1/members -d '{"id":"m3","profile":"p"}'
expect 200 POST /v1/members/m1/inputs -d '{"text":"hello","wait":true,"timeout_ms":10000}'
body_is '.result.status == "completed" and (.result.text | test("hello"))'
expect 200 POST /v1/members/m1/inputs -d '{"text":"again","key":"k1"}'
id=$(jq -r .input_id "$T/body")
expect 200 POST /v1/members/m1/inputs -d '{"text":"again","key":"k1"}'
body_is ".outcome == \"deduplicated\" and .existing_input_id == \"$id\""
expect 200 GET /v1/members/m1/inputs
body_is "[.[].input_id] | index(\"$id\") != null"
# many requests in flight at once, each answered with its own reply
i=0
pids=
while [ $i -lt 40 ]; do
	m=m$((i % 2 + 1))
	hc -o "$T/par.$i" -d "{\"text\":\"par $i\",\"wait\":true}" "$GW_URL/v1/members/$m/inputs" &
	pids="$pids $!"
	i=$((i + 1))
done
for p in $pids; do wait "$p"; done
i=0
while [ $i -lt 40 ]; do
	jq -e ".result.status == \"completed\" and (.result.text | test(\"par $i\$\"))" "$T/par.$i" >/dev/null ||
	    fail "parallel $i: $(cat "$T/par.$i")"
	i=$((i + 1))
done
expect 404 POST /v1/members/nope/inputs -d '{"text":"x"}'
body_is '.error.code == "not_found"'
expect 400 POST /v1/members/m1/inputs -d '{"text":5}'
body_is '.error.code == "bad_request"'
expect 400 POST /v1/members/m1/inputs -d 'not json'
expect 200 POST /v1/members/m1/reset
expect 409 POST /v1/members/m1/interrupt
body_is '.error.code == "conflict"'
expect 200 DELETE /v1/members/m3
wait_for "m3 retired" sh -c "! \"$BIN/mobkitctl\" -s $SOCK --json members | jq -e '.[] | select(.id == \"m3\")'"
expect 200 POST /v1/members -d '{"id":"m4","profile":"p"}'
expect 200 DELETE "/v1/members/m4?destroy=true"
# wires
expect 200 POST /v1/wires -d '{"a":"m1","b":"m2"}'
jctl members | jq -e '.[] | select(.id == "m1") | .peers == ["m2"]' >/dev/null || fail "not wired"
expect 200 DELETE /v1/wires/m1/m2
jctl members | jq -e '.[] | select(.id == "m1") | .peers == []' >/dev/null || fail "not unwired"
# routes, resolve, deliveries
expect 200 PUT /v1/routes/r1 -d '{"recipient":"ops","channel":"alert","sink":"mob_member","target":"m2"}'
expect 200 GET /v1/routes
body_is '.[] | select(.id == "r1") | .recipient == "ops"'
expect 200 GET "/v1/resolve?recipient=ops&channel=alert"
body_is 'tostring | test("m2")'
expect 200 POST /v1/deliveries -d '{"recipient":"ops","channel":"alert","payload":{"x":1},"key":"d1"}'
expect 200 GET /v1/deliveries
body_is 'length >= 1'
expect 200 DELETE /v1/routes/r1
expect 404 DELETE /v1/routes/r1
# schedules, tick, reload
expect 200 GET /v1/schedules
body_is 'length == 0'
expect 200 POST /v1/tick -d "{\"at_ms\":$(date +%s)000}"
expect 200 POST /v1/reload
# the agents' routes: a conversation, the tools (no [mcp] here), a call
# to a server that does not exist
expect 200 GET /v1/members/m1/conversation
body_is 'type == "array"'
expect 200 GET /v1/tools
body_is 'length == 0'
got=$(code POST /v1/tools/files/search -d '{"q":"x"}')
case $got in 4??) ;; *) fail "call of a server that does not exist: $got $(cat "$T/body")" ;; esac
body_is '.error.message | test("files")'
# errors: unknown route, wrong method (Allow), body too large
expect 404 GET /v1/nope
body_is '.error.code == "not_found"'
expect 405 GET /mcp	# POST /mcp is the MCP door; it offers no GET stream
h=$(curl -s -D - -o "$T/body" -X DELETE -H "Authorization: Bearer $GW_TOKEN" "$GW_URL/v1/status")
echo "$h" | grep -q '^HTTP/1.1 405' || fail "405: $h"
echo "$h" | grep -qi '^Allow: GET' || fail "no Allow: $h"
head -c 5000 /dev/zero | tr '\0' a >"$T/big"
expect 413 POST /v1/members/m1/inputs --data-binary @"$T/big"
body_is '.error.code == "too_large"'
# the gateway is supervised like any module
p=$(gw_pid)
kill -9 "$p"
wait_for "gateway restarted" sh -c "[ \"\$(\"$BIN/mobkitctl\" -s $SOCK --json status gateway | jq -r '.children[0].pid')\" != $p ]"
wait_for "the gateway again" gw_healthy
expect 200 GET /v1/status
echo ok
