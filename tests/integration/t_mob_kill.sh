# kill -9 of a worker in the middle of a turn: the input runs again after
# the restart and is consumed once; the conversation survives the restart.
. "$(dirname "$0")/lib.sh"
start_llm
{ header; cat <<EOT
[profile gpt]
provider = openai
model = m
base_url = http://127.0.0.1:$LLM_PORT/v1
restart_backoff_ms = 0

[member w]
profile = gpt
EOT
} >"$CFG"
start_daemon
wait_for "w healthy" is_state w healthy
out=$(jctl send w "remember the word kiwi" --wait) || fail "$out"
id=$(send_id w "think hard [[stallonce]]")
wait_for "the turn running" sh -c "[ \"\$($BIN/mobkitctl -s $SOCK --json members | jq -r '.[0].running')\" = $id ]"
wait_for "the fixture stalling" grep -q stallonce "$T/llm.log"
p=$(member_pid w)
kill -9 "$p"
wait_for "consumed after the restart" input_is w "$id" consumed
[ "$(input_field w "$id" attempts)" = 2 ] || fail "attempts"
[ "$(member_pid w)" != "$p" ] || fail "same pid"
n=$(jctl events --type run_completed | jq -s "map(select(.payload.input_id == \"$id\")) | length")
[ "$n" = 1 ] || fail "completed $n times"
[ "$(jctl events --type input.consumed | jq -s "map(select(.payload.input_id == \"$id\")) | length")" = 1 ] || fail "recorded twice"
# the history the restarted worker sends holds the first exchange
out=$(jctl send w "what was the word?" --wait) || fail "$out"
tail -1 "$T/llm.log" | jq -e '[.body.messages[] | .content] | index("remember the word kiwi") != null and index("reply to: remember the word kiwi") != null' >/dev/null ||
	fail "history lost: $(tail -1 "$T/llm.log" | jq -c '[.body.messages[] | .content]')"
