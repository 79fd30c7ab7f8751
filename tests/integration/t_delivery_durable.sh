# With state_dir, delivery records and idempotency keys survive kill -9 of
# mobkitd: a delivery between two attempts resumes after the restart, the
# receiver sees it once, and a replay of its key returns the record.
. "$(dirname "$0")/lib.sh"
python3 "$FIX/hookserver.py" "$T/hook.port" "$T/hook.log" &
echo $! >"$T/hook.pid"
wait_for "the hook fixture" test -s "$T/hook.port"
H=http://127.0.0.1:$(cat "$T/hook.port")
{ header; cat <<EOT
state_dir = $T/state
[module router]
command = mobkit-router
[module delivery]
command = mobkit-delivery
EOT
} >"$CFG"
start_daemon
wait_for "delivery healthy" is_state delivery healthy
jctl deliver "$H/ok" --payload '{"a":1}' --key done-1 >/dev/null || fail "first"
"$BIN/mobkitctl" -s "$SOCK" --json deliver "$H/flaky/d" --payload '{"b":2}' --key dur-1 --backoff-ms 3000 >/dev/null 2>&1 &
wait_for "the first attempt" grep -q '"/flaky/d"' "$T/hook.log"
sleep 0.3
kill -9 "$DPID"
wait "$DPID" 2>/dev/null
start_daemon
wait_for "delivery healthy again" is_state delivery healthy
wait_for "the delivery resumed and sent" sh -c "$BIN/mobkitctl -s $SOCK --json deliveries | jq -e 'map(select(.key == \"dur-1\" and .status == \"sent\")) | length == 1'"
jctl deliveries | jq -e 'map(select(.key == "dur-1"))[0].attempts | map(.status) == ["failed","sent"]' >/dev/null || fail "attempts: $(jctl deliveries)"
[ "$(grep '"/flaky/d"' "$T/hook.log" | jq -s 'map(select(.status == 200)) | length')" = 1 ] || fail "received $(grep -c flaky/d "$T/hook.log") times"
n=$(grep -c '"path": "/ok"' "$T/hook.log")
out=$(jctl deliver "$H/ok" --payload '{"a":1}' --key done-1) || fail "replay: $out"
echo "$out" | jq -e '.replayed == true and .status == "sent"' >/dev/null || fail "replay after restart: $out"
[ "$(grep -c '"path": "/ok"' "$T/hook.log")" = "$n" ] || fail "the replay was sent"
