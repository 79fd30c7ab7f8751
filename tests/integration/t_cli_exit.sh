# Exit statuses of an operation that failed: send --wait whose result is
# failed exits 1 (the error said, on the result line for people, in the
# result with --json); one that completed exits 0; a rejected send 1.
. "$(dirname "$0")/lib.sh"
start_llm
{ header; cat <<EOT
[profile gpt]
provider = openai
model = test-model
base_url = http://127.0.0.1:$LLM_PORT/v1
max_attempts = 1

[member w]
profile = gpt
EOT
} >"$CFG"
start_daemon
wait_for "w healthy" is_state w healthy
out=$(ctl send w "fine" --wait); rc=$?
[ $rc = 0 ] || fail "a completed send --wait: exit $rc: $out"
echo "$out" | grep -q '^completed: reply to: fine$' || fail "completed: $out"
out=$(ctl send w "x [[500]]" --wait); rc=$?
[ $rc = 1 ] || fail "a failed send --wait: exit $rc: $out"
echo "$out" | grep -q '^failed: .*HTTP 500' || fail "failed, for people: $out"
out=$(jctl send w "y [[500]]" --wait); rc=$?
[ $rc = 1 ] || fail "a failed send --wait --json: exit $rc: $out"
echo "$out" | jq -e '.outcome == "accepted" and .result.status == "failed"' >/dev/null || fail "failed json: $out"
# without --wait the input was accepted: 0
ctl send w "z [[500]]" >/dev/null || fail "an accepted send without --wait: not 0"
ctl send nobody "x" >/dev/null 2>&1; [ $? = 1 ] || fail "a rejected send: not 1"
# a bad value on the command line is a usage error: 2, naming it
err=$(ctl send w "x" --timeout-ms 5s 2>&1); rc=$?
[ $rc = 2 ] && echo "$err" | grep -q -- '--timeout-ms: bad value "5s"' || fail "a bad --timeout-ms: exit $rc: $err"
