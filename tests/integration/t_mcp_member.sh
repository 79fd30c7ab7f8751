# A member's side of the relay, with a stand-in worker (fixtures/
# mcpworker.c installed as mobkit-worker beside a copy of mobkitd): its
# tools in CONFIG and again in TOOLS when a server's list changes, its
# MCP_CALL answered by MCP_RESULT (with or without the server named), a
# tool its profile does not allow refused, and MCP_CANCEL reaching the
# server as notifications/cancelled without killing it.
. "$(dirname "$0")/lib.sh"
[ -x "$TB/mcpworker" ] || fail "no $TB/mcpworker: make $TB/mcpworker"
mkdir "$T/bin"
cp "$BIN/mobkitd" "$BIN/mobkit-mcp" "$T/bin/"
cp "$TB/mcpworker" "$T/bin/mobkit-worker"
{ header; cat <<EOT
[mcp fake]
command = python3
args = $FIX/mcpserver.py --log $T/fake.log --pidfile $T/fake.pid

[profile p]
provider = echo
tools = fake/echo fake/hang fake/grow fake/extra
env.MCPW_DIR = $T

[member m1]
profile = p
EOT
} >"$CFG"
"$T/bin/mobkitd" -c "$CFG" >"$T/daemon.log" 2>&1 &
DPID=$!
wait_for "the control socket" test -S "$SOCK"
wait_for "fake healthy" is_state fake healthy
wait_for "m1 healthy" is_state m1 healthy
# CONFIG carried the tools the member may call (those listed by then)
wait_for "m1's tools" sh -c "grep -q '\"name\":\"echo\"' '$T/m1.tools'"
head -1 "$T/m1.tools" | grep -q '^config ' || fail "CONFIG: $(cat "$T/m1.tools")"
tools_at() { sed -n "${1}p" "$T/m1.tools" | cut -d' ' -f2- | jq -c '[.[].name]'; }
out=$(jctl send m1 'call fake echo {"message":"from a member"}' --wait) || fail "send: $out"
[ "$(echo "$out" | jq -r .result.text)" = 'is_error=false [{"type":"text","text":"echo: from a member"}]' ] || fail "call: $out"
out=$(jctl send m1 'any echo {"message":"no server named"}' --wait) || fail "send: $out"
echo "$out" | jq -r .result.text | grep -q '^is_error=false .*no server named' || fail "any: $out"
out=$(jctl send m1 'call fake pid {}' --wait) || fail "send: $out"
echo "$out" | jq -r .result.text | grep -q "^is_error=true .*not among the member's tools" || fail "not allowed: $out"
# cancel: the server hears notifications/cancelled and lives on
spid=$(cat "$T/fake.pid")
out=$(jctl send m1 'cancel fake hang {}' --wait) || fail "send: $out"
wait_for "notifications/cancelled" grep -q '"notifications/cancelled"' "$T/fake.log"
alive "$spid" || fail "the server died of a cancel"
is_state fake healthy || fail "fake after a cancel"
# list_changed: the member gets TOOLS with the new tool
n=$(wc -l <"$T/m1.tools")
out=$(jctl send m1 'call fake grow {}' --wait) || fail "grow: $out"
wait_for "TOOLS after list_changed" sh -c "[ \$(wc -l <'$T/m1.tools') -gt $n ]"
tail -1 "$T/m1.tools" | grep -q '^tools ' || fail "TOOLS: $(tail -1 "$T/m1.tools")"
[ "$(tools_at '$')" = '["echo","hang","grow","extra"]' ] || fail "TOOLS: $(tail -1 "$T/m1.tools")"
exit 0
