# An in-flight duplicate joins the original's waiters; shutdown drains the
# turns in flight (and says when it gave up); a reload reconciles members.
. "$(dirname "$0")/lib.sh"
start_llm
{ header; cat <<EOT
drain_timeout_ms = 20000
[profile gpt]
provider = openai
model = m
base_url = http://127.0.0.1:$LLM_PORT/v1

[profile e]
provider = echo

[member w]
profile = gpt

[member old]
profile = e
EOT
} >"$CFG"
start_daemon
wait_for "w healthy" is_state w healthy
wait_for "old healthy" is_state old healthy
# in flight: the duplicate waits with the original and gets its result
first=$(jctl send w "slowly now [[slow]]" --key K1 | jq -r .input_id)
wait_for "running" sh -c "[ \"\$($BIN/mobkitctl -s $SOCK --json members | jq -r '.[] | select(.id == \"w\") | .running')\" = $first ]"
dup=$(jctl send w "whatever" --key K1 --wait) || fail "dup wait: $dup"
[ "$(echo "$dup" | jq -r .outcome)" = deduplicated ] || fail "$dup"
[ "$(echo "$dup" | jq -r .existing_input_id)" = "$first" ] || fail "$dup"
[ "$(echo "$dup" | jq -r .result.text)" = "reply to: slowly now [[slow]]" ] || fail "$dup"
[ "$(grep -c 'slowly now' "$T/llm.log")" = 1 ] || fail "ran twice"
# reload: a member removed from the INI retires, one added starts
{ header; cat <<EOT
drain_timeout_ms = 20000
[profile gpt]
provider = openai
model = m
base_url = http://127.0.0.1:$LLM_PORT/v1

[profile e]
provider = echo

[member w]
profile = gpt

[member new]
profile = e
EOT
} >"$CFG"
out=$(jctl reload) || fail "reload: $out"
[ "$(echo "$out" | jq -c '[.added, .removed]')" = '[["new"],["old"]]' ] || fail "reload: $out"
wait_for "new healthy" is_state new healthy
wait_for "old gone" sh -c "! $BIN/mobkitctl -s $SOCK status old >/dev/null 2>&1"
# shutdown waits for the turn in flight and reports it drained
id=$(send_id w "finish me [[slow]]")
wait_for "running" sh -c "[ \"\$($BIN/mobkitctl -s $SOCK --json members | jq -r '.[] | select(.id == \"w\") | .running')\" = $id ]"
report=$(jctl shutdown) || fail "shutdown"
echo "$report" | jq -e '.drain.drained == 1 and .drain.timed_out == false and .drain.duration_ms > 0' >/dev/null ||
	fail "report: $report"
echo "$report" | jq -e '.stages == ["shutdown_requested","inputs_refused","drained","members_stopped","modules_stopped","orphans_killed","shutdown_complete"]' >/dev/null ||
	fail "stages: $report"
grep -q '"content": "finish me \[\[slow\]\]"\|finish me' "$T/llm.log" || fail "the turn never ran"
wait_for "daemon exit" daemon_gone
# a turn that never ends: the drain gives up after drain_timeout_ms
sed -i 's/drain_timeout_ms = 20000/drain_timeout_ms = 300/' "$CFG"
start_daemon
wait_for "w healthy" is_state w healthy
id=$(send_id w "never [[stall]]")
wait_for "running" sh -c "[ \"\$($BIN/mobkitctl -s $SOCK --json members | jq -r '.[] | select(.id == \"w\") | .running')\" = $id ]"
report=$(jctl shutdown) || fail "shutdown"
echo "$report" | jq -e '.drain.drained == 0 and .drain.timed_out == true' >/dev/null || fail "report: $report"
