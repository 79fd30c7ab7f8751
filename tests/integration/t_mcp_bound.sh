# The relay is bounded: 64 calls per MCP server wait at most; the next is
# refused at once with a tool error, and a server stopped with calls in
# flight fails every one of them.  A call waiting for a server that then
# fails for good is answered then, not at its deadline.
. "$(dirname "$0")/lib.sh"
{ header; cat <<EOT
[mcp slow]
command = python3
args = $FIX/mcpserver.py --log $T/slow.log
call_timeout_ms = 60000

[mcp broken]
command = sh
args = -c "sleep 2; exit 1"
restart = never
call_timeout_ms = 60000
EOT
} >"$CFG"
start_daemon
# broken is starting (it never answers initialize) and will not restart
is_state broken starting || fail "broken: $(state_of broken)"
t0=$(date +%s%N)
out=$(jctl call broken anything); rc=$?
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
[ $rc = 1 ] && echo "$out" | jq -r '.content[0].text' | grep -q "mcp server broken is down" || fail "broken: $rc $out"
[ $ms -lt 10000 ] || fail "the call to broken waited $ms ms"
wait_for "slow healthy" is_state slow healthy
i=0
while [ $i -lt 64 ]; do
	( jctl call slow hang >"$T/c$i.out"; echo $? >"$T/c$i.rc" ) &
	i=$((i + 1))
done
wait_for "64 calls at the server" sh -c "[ \$(grep -c '\"hang\"' '$T/slow.log') = 64 ]"
t0=$(date +%s%N)
out=$(jctl call slow echo --args '{"message":"one more"}'); rc=$?
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
[ $rc = 1 ] || fail "the 65th call: exit $rc ($out)"
[ "$(echo "$out" | jq -r '.content[0].text')" = "mcp server slow: 64 calls are in flight already" ] || fail "65th: $out"
[ $ms -lt 1000 ] || fail "the refusal took $ms ms"
# stopping the server answers every call in flight
ctl stop slow >/dev/null
wait_for "every call answered" sh -c "[ \$(cat '$T'/c*.rc 2>/dev/null | wc -l) = 64 ]"
[ "$(cat "$T"/c*.rc | sort -u)" = 1 ] || fail "exit codes: $(cat "$T"/c*.rc | sort | uniq -c)"
[ "$(cat "$T"/c*.out | jq -r '.content[0].text' | sort -u)" = "mcp server slow exited" ] ||
	fail "answers: $(cat "$T"/c*.out | jq -r '.content[0].text' | sort | uniq -c)"
# and the relay has room again once the server is back
ctl start slow >/dev/null
wait_for "slow healthy again" is_state slow healthy
out=$(jctl call slow echo --args '{"message":"room"}') || fail "after: $out"
exit 0
