# send --stream: the reply's deltas as they arrive, then the result (the
# object send --wait prints); only that input's deltas; exit codes as
# --wait; a client that does not read is bounded (client_buffer_bytes).
. "$(dirname "$0")/lib.sh"
start_llm
{ header; cat <<EOT
client_buffer_bytes = 65536

[profile gpt]
provider = openai
model = test-model
base_url = http://127.0.0.1:$LLM_PORT/v1
max_attempts = 1

[member w]
profile = gpt

[member e]
profile = gpt
EOT
} >"$CFG"
start_daemon
wait_for "w healthy" is_state w healthy
wait_for "e healthy" is_state e healthy
# each line stamped as it arrives: the deltas come before the end
jctl send w "a b c d [[slow]]" --stream | while IFS= read -r l; do
	echo "$(date +%s%3N) $l"
done >"$T/lines"
n=$(grep -c '"delta"' "$T/lines")
[ "$n" -ge 6 ] || fail "deltas: $(cat "$T/lines")"
[ "$(wc -l <"$T/lines")" = $((n + 1)) ] || fail "lines: $(cat "$T/lines")"
first=$(head -1 "$T/lines" | cut -d' ' -f1)
last=$(tail -1 "$T/lines" | cut -d' ' -f1)
[ $((last - first)) -ge 1000 ] || fail "not streamed: $(cat "$T/lines")"
head -1 "$T/lines" | cut -d' ' -f2- | jq -e '. == {"delta":"reply"}' >/dev/null || fail "first: $(head -1 "$T/lines")"
[ "$(grep '"delta"' "$T/lines" | cut -d' ' -f2- | jq -j .delta)" = "reply to: a b c d [[slow]]" ] || fail "joined: $(cat "$T/lines")"
res=$(tail -1 "$T/lines" | cut -d' ' -f2-)
echo "$res" | jq -e '.outcome == "accepted" and .result.status == "completed" and .result.text == "reply to: a b c d [[slow]]" and (.input_id | type) == "string" and has("existing_input_id") and has("reason")' >/dev/null || fail "result: $res"
# the same keys as send --wait --json
[ "$(echo "$res" | jq -c 'keys')" = "$(jctl send w "x" --wait | jq -c 'keys')" ] || fail "keys differ"
# only that input's deltas: another member talks at the same time
jctl send e "other [[slow]]" --wait >/dev/null &
o=$!
jctl send w "mine [[slow]]" --stream >"$T/mine"
wait $o
grep '"delta"' "$T/mine" | jq -j .delta | grep -q '^reply to: mine \[\[slow\]\]$' || fail "mixed: $(cat "$T/mine")"
# people: the text as it comes, on one line
out=$(ctl send w "people" --stream) || fail "human: $out"
[ "$out" = "reply to: people" ] || fail "human: [$out]"
# a failed turn: exit 1, the error said
out=$(ctl send w "x [[500]]" --stream); rc=$?
[ $rc = 1 ] || fail "failed exit $rc: $out"
echo "$out" | grep -q "failed: HTTP 500" || fail "failed: $out"
jctl send w "y [[500]]" --stream | tail -1 | jq -e '.result.status == "failed"' >/dev/null || fail "failed json"
# a finished input deduplicated: no pieces, the result at once
ctl send w "keyed" --key k1 --wait >/dev/null
out=$(jctl send w "keyed" --key k1 --stream) || fail "dedup: $out"
[ "$(echo "$out" | wc -l)" = 1 ] || fail "dedup: $out"
echo "$out" | jq -e '.outcome == "deduplicated" and .result.status == "completed"' >/dev/null || fail "dedup: $out"
# a rejected send: exit 1
ctl send nobody "x" --stream >/dev/null 2>&1 && fail "rejected exit 0"
# a client that does not read: at most client_buffer_bytes of pieces are
# queued for it, then none; the result still comes, whole
big=$(python3 -c 'print(" ".join(["w%03d" % i + "x" * 996 for i in range(700)]), end="")')
mkfifo "$T/f"
exec 3<>"$T/f"
printf "%s" "$big" | "$BIN/mobkitctl" -s "$SOCK" --json send w - --stream >"$T/f" 3>&- &
cpid=$!
wait_for "the reader dropped behind" grep -q "no more deltas, the result follows" "$T/daemon.log"
cat "$T/f" >"$T/out" 3>&- &
catpid=$!
wait $cpid || fail "lagged stream: exit $?"
exec 3>&-
wait $catpid
n=$(grep -c '"delta"' "$T/out")
[ "$n" -lt 700 ] || fail "every piece was queued ($n)"
printf 'reply to: %s' "$big" >"$T/want"
tail -1 "$T/out" | jq -e --rawfile t "$T/want" '.result.status == "completed" and .result.text == $t' >/dev/null || fail "the result after a lag: $(tail -1 "$T/out" | cut -c1-200)"
echo ok
