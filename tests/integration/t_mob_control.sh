# interrupt, retire (drains), destroy, reset, spawn, reconcile, wire and
# unwire, and a full mailbox refused.
. "$(dirname "$0")/lib.sh"
start_llm
{ header; cat <<EOT
[profile gpt]
provider = openai
model = m
base_url = http://127.0.0.1:$LLM_PORT/v1
mailbox_capacity = 2

[profile echo]
provider = echo

[member a]
profile = gpt

[member e1]
profile = echo

[member e2]
profile = echo
EOT
} >"$CFG"
start_daemon
for m in a e1 e2; do wait_for "$m healthy" is_state $m healthy; done
# interrupt
id=$(send_id a "stall here [[stall]]")
wait_for "running" sh -c "[ \"\$($BIN/mobkitctl -s $SOCK --json members | jq -r '.[] | select(.id == \"a\") | .running')\" = $id ]"
out=$(jctl interrupt a) || fail "interrupt: $out"
input_is a "$id" abandoned || fail "not abandoned"
jctl events --type input.abandoned | jq -e -s "map(select(.payload.input_id == \"$id\" and .payload.error == \"interrupted\")) | length == 1" >/dev/null || fail "reason"
out=$(jctl send a "after the interrupt" --wait) || fail "worker stuck after interrupt: $out"
# a full mailbox is refused, not grown
s=$(send_id a "stall again [[stall]]")
wait_for "running" sh -c "[ \"\$($BIN/mobkitctl -s $SOCK --json members | jq -r '.[] | select(.id == \"a\") | .running')\" = $s ]"
send_id a one >/dev/null; send_id a two >/dev/null
out=$(jctl send a three); rc=$?
[ $rc = 1 ] && [ "$(echo "$out" | jq -r .reason)" = "mailbox full" ] || fail "full: $out"
[ "$(jctl members | jq '.[] | select(.id == "a") | .queued')" = 2 ] || fail "queue grew"
# reset is refused while a turn runs
ctl reset a >/dev/null 2>&1 && fail "reset while running"
jctl interrupt a >/dev/null
wait_for "queue drained" sh -c "[ \"\$($BIN/mobkitctl -s $SOCK --json members | jq '.[] | select(.id == \"a\") | .queued')\" = 0 ]"
# reset: queue abandoned, conversation gone (the next request has none)
wait_for "idle" sh -c "[ \"\$($BIN/mobkitctl -s $SOCK --json members | jq -r '.[] | select(.id == \"a\") | .running')\" = null ]"
jctl reset a | jq -e '.inputs_abandoned == 0' >/dev/null || fail "reset"
jctl send a "fresh start" --wait >/dev/null || fail "send after reset"
tail -1 "$T/llm.log" | jq -e '[.body.messages[] | select(.role == "user")] | length == 1' >/dev/null ||
	fail "history survived reset: $(tail -1 "$T/llm.log" | jq -c '[.body.messages[].content]')"
# peers: not wired -> the tool errs; wired -> delivered into the mailbox
out=$(jctl send e1 "@e2 hello" --wait)
echo "$out" | jq -r .result.text | grep -q "error: not wired" || fail "unwired: $out"
jctl wire e1 e2 >/dev/null || fail "wire"
ctl wire e1 e1 >/dev/null 2>&1 && fail "self-edge accepted"
out=$(jctl send e1 "@e2 hello" --wait)
echo "$out" | jq -r .result.text | grep -q "delivered" || fail "wired: $out"
wait_for "e2 got it" sh -c "$BIN/mobkitctl -s $SOCK --json inputs e2 | jq -e 'map(select(.state == \"consumed\")) | length == 1'"
jctl unwire e1 e2 >/dev/null
out=$(jctl send e1 "@e2 again" --wait)
echo "$out" | jq -r .result.text | grep -q "not wired" || fail "after unwire: $out"
# spawn, then reconcile retires it (not in the INI)
jctl spawn extra echo | jq -e '.id == "extra"' >/dev/null || fail "spawn"
wait_for "extra healthy" is_state extra healthy
ctl spawn extra echo >/dev/null 2>&1 && fail "duplicate spawn"
jctl send extra "hi" --wait >/dev/null || fail "send to spawned"
out=$(jctl reconcile)
[ "$(echo "$out" | jq -c .)" = '{"spawned":[],"retired":["extra"],"retained":["a","e1","e2"]}' ] || fail "reconcile: $out"
wait_for "extra gone" sh -c "! $BIN/mobkitctl -s $SOCK status extra >/dev/null 2>&1"
# retire drains its queue first, refuses new input, then stops
s=$(send_id e2 "one"); send_id e2 "two" >/dev/null
out=$(jctl retire e2); [ "$(echo "$out" | jq .inputs_pending_drain)" -ge 0 ] || fail "retire: $out"
jctl send e2 "late" | jq -e '.outcome == "rejected"' >/dev/null || ! ctl status e2 >/dev/null 2>&1 || fail "retiring member took input"
wait_for "e2 gone" sh -c "! $BIN/mobkitctl -s $SOCK status e2 >/dev/null 2>&1"
# reconcile brings the INI's e2 back
out=$(jctl reconcile)
[ "$(echo "$out" | jq -c .spawned)" = '["e2"]' ] || fail "reconcile: $out"
wait_for "e2 back" is_state e2 healthy
# destroy abandons everything at once
s=$(send_id a "stall [[stall]]")
send_id a "queued" >/dev/null
wait_for "running" sh -c "[ \"\$($BIN/mobkitctl -s $SOCK --json members | jq -r '.[] | select(.id == \"a\") | .running')\" = $s ]"
out=$(jctl destroy a)
[ "$(echo "$out" | jq .inputs_abandoned)" = 2 ] || fail "destroy: $out"
wait_for "a gone" sh -c "! $BIN/mobkitctl -s $SOCK status a >/dev/null 2>&1"
