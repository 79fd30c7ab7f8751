# [mcp] sections and reload, like modules: added (started, its tools
# given to the members whose profile names it), changed (restarted),
# removed (stopped, its tools gone); and the order of shutdown: members,
# then MCP servers, then modules.
. "$(dirname "$0")/lib.sh"
base() { header; cat <<EOT
[module mod]
command = $MK
args = --ready

[profile p]
provider = echo
$1

[member m1]
profile = p
EOT
}
mcp() { cat <<EOT

[mcp fake]
command = python3
args = $FIX/mcpserver.py
call_timeout_ms = $1
EOT
}
base "" >"$CFG"
start_daemon
wait_for "m1 healthy" is_state m1 healthy
[ "$(jctl tools m1)" = "[]" ] || fail "tools before: $(jctl tools m1)"
{ base "tools = fake/echo"; mcp 5000; } >"$CFG"
out=$(jctl reload) || fail "reload: $out"
echo "$out" | jq -e '.added | index("fake")' >/dev/null || fail "added: $out"
wait_for "fake healthy" is_state fake healthy
wait_for "m1's tools" sh -c "[ \"\$('$BIN/mobkitctl' -s '$SOCK' --json tools m1 | jq -c 'map(.name)')\" = '[\"echo\"]' ]"
pid=$(pid_of fake)
{ base "tools = fake"; mcp 6000; } >"$CFG"
out=$(jctl reload) || fail "reload: $out"
echo "$out" | jq -e '.changed | index("fake")' >/dev/null || fail "changed: $out"
wait_for "fake restarted" sh -c "[ \"\$('$BIN/mobkitctl' -s '$SOCK' --json status fake | jq -r '.children[0].state + \" \" + (.children[0].pid|tostring)')\" != 'healthy $pid' ] && [ \"\$('$BIN/mobkitctl' -s '$SOCK' --json status fake | jq -r '.children[0].state')\" = healthy ]"
wait_for "m1 has every tool" sh -c "[ \"\$('$BIN/mobkitctl' -s '$SOCK' --json tools m1 | jq 'length')\" = 7 ]"
# an unknown server in a profile is refused, the running config kept
{ base "tools = nope"; mcp 6000; } >"$CFG"
out=$(jctl reload 2>&1); rc=$?
[ $rc != 0 ] && echo "$out" | grep -q "tools: no \[mcp nope\]" || fail "bad reload: $rc $out"
is_state fake healthy || fail "fake after a refused reload"
# so is a server command that cannot be found
{ base "tools = fake"; mcp 6000 | sed 's/^command = python3$/command = no-such-mcp-server/'; } >"$CFG"
out=$(jctl reload 2>&1); rc=$?
[ $rc != 0 ] && echo "$out" | grep -q '\[mcp fake\]: command "no-such-mcp-server" not found' || fail "bad command reload: $rc $out"
is_state fake healthy || fail "fake after a refused reload"
base "" >"$CFG"
out=$(jctl reload) || fail "reload: $out"
echo "$out" | jq -e '.removed | index("fake")' >/dev/null || fail "removed: $out"
wait_for "fake gone" sh -c "! '$BIN/mobkitctl' -s '$SOCK' --json status fake >/dev/null 2>&1"
[ "$(jctl tools)" = "[]" ] || fail "tools after removal: $(jctl tools)"
out=$(jctl call fake echo 2>&1); rc=$?
[ $rc = 1 ] && echo "$out" | grep -q "no \[mcp fake\]" || fail "call after removal: $rc $out"
# shutdown order: members, then MCP servers, then modules
{ base "tools = fake"; mcp 6000; } >"$CFG"
jctl reload >/dev/null || fail "reload back"
wait_for "fake healthy" is_state fake healthy
out=$(jctl shutdown) || fail "shutdown: $out"
[ "$(echo "$out" | jq -c .stopped)" = '["m1","fake","mod"]' ] || fail "order: $out"
exit 0
