# deliver = resolve + send: every sink, every retry rule, the rate limit,
# idempotency (replay and mismatch), and a kill -9 of mobkit-delivery in
# the middle of its retries: the receiver sees the payload once.
. "$(dirname "$0")/lib.sh"
python3 "$FIX/hookserver.py" "$T/hook.port" "$T/hook.log" &
echo $! >"$T/hook.pid"
wait_for "the hook fixture" test -s "$T/hook.port" -a -s "$T/hook.port.smtp"
H=http://127.0.0.1:$(cat "$T/hook.port")
{ header; cat <<EOT
[module router]
command = mobkit-router

[module delivery]
command = mobkit-delivery
restart_backoff_ms = 300

[delivery]
smtp_url = smtp://127.0.0.1:$(cat "$T/hook.port.smtp")
mail_from = mobkit@test.invalid

[route file]
recipient = audit
channel = *
sink = file
target = $T/audit.jsonl

[route limited]
recipient = pager
channel = *
sink = webhook
target = $H/ok
rate_limit_per_minute = 2

[profile p]
provider = echo

[member m1]
profile = p
EOT
} >"$CFG"
start_daemon
wait_for "delivery healthy" is_state delivery healthy
wait_for "router healthy" is_state router healthy
dl() { jctl deliver "$@"; }
# webhook 200: sent, one attempt, headers as promised
out=$(dl "$H/ok" --payload '{"n":1}' --key k-ok) || fail "ok: $out"
echo "$out" | jq -e '.status == "sent" and .sink == "webhook" and (.attempts | length) == 1 and .attempts[0].status == "sent" and .attempts[0].at_ms > 0 and (.route_id | length) > 0' >/dev/null || fail "ok: $out"
grep '"path": "/ok"' "$T/hook.log" | jq -e -s '.[0].key == "k-ok" and .[0].type == "application/json" and .[0].body == "{\"n\":1}"' >/dev/null || fail "request: $(cat "$T/hook.log")"
# 500 then 200: retried after backoff
out=$(dl "$H/flaky/a" --payload '{}' --backoff-ms 50) || fail "flaky: $out"
echo "$out" | jq -e '.status == "sent" and (.attempts | map(.status)) == ["failed","sent"] and .attempts[0].error == "HTTP 500"' >/dev/null || fail "flaky: $out"
# 429: retried after its Retry-After (1 s)
out=$(dl "$H/busy/a" --payload '{}' --backoff-ms 10) || fail "busy: $out"
echo "$out" | jq -e '.status == "sent" and (.attempts | length) == 2 and (.attempts[1].at_ms - .attempts[0].at_ms) >= 900' >/dev/null || fail "429: $out"
# 400: fails at once; 500 always: retry_max retries, then failed
out=$(dl "$H/bad" --payload '{}' --retry-max 3); rc=$?
echo "$out" | jq -e '.status == "failed" and (.attempts | length) == 1' >/dev/null || fail "400: $out"
[ $rc = 1 ] || fail "a failed delivery exited $rc, not 1"
out=$(dl "$H/down" --payload '{}' --retry-max 2 --backoff-ms 20)
echo "$out" | jq -e '.status == "failed" and (.attempts | length) == 3' >/dev/null || fail "down: $out"
# a refused connection is retried too
out=$(dl "http://127.0.0.1:9/nothing" --payload '{}' --retry-max 1 --backoff-ms 20)
echo "$out" | jq -e '.status == "failed" and (.attempts | length) == 2 and (.attempts[0].error | startswith("curl:"))' >/dev/null || fail "refused: $out"
# email over SMTP
out=$(dl ops@example.com --channel transactional --payload '{"subject":"Hello","body":"It works."}') || fail "email: $out"
echo "$out" | jq -e '.status == "sent" and .sink == "email"' >/dev/null || fail "email: $out"
wait_for "the mail" grep -q '"kind": "smtp"' "$T/hook.log"
grep '"kind": "smtp"' "$T/hook.log" | jq -e '.rcpt == ["<ops@example.com>"] and (.data | contains("Subject: Hello")) and (.data | contains("It works."))' >/dev/null || fail "mail: $(grep smtp "$T/hook.log")"
# file: one JSON line per delivery
out=$(dl audit --payload '{"event":"login"}' --key a1) || fail "file: $out"
jq -e -s 'length == 1 and .[0].payload.event == "login" and .[0].key == "a1"' "$T/audit.jsonl" >/dev/null || fail "file: $(cat "$T/audit.jsonl")"
# mob_member: into the member's mailbox, with the delivery's key
out=$(dl m1 --payload '"hello member"' --key mm1) || fail "member: $out"
echo "$out" | jq -e '.status == "sent" and .sink == "mob_member"' >/dev/null || fail "member: $out"
wait_for "consumed" sh -c "$BIN/mobkitctl -s $SOCK --json inputs m1 | jq -e 'map(select(.key == \"mm1\" and .state == \"consumed\")) | length == 1'"
# idempotency: a replay sends nothing; another payload with the key is refused
n=$(grep -c '"path": "/ok"' "$T/hook.log")
out=$(dl "$H/ok" --payload '{"n":1}' --key k-ok) || fail "replay: $out"
echo "$out" | jq -e '.replayed == true and .status == "sent"' >/dev/null || fail "replay: $out"
[ "$(grep -c '"path": "/ok"' "$T/hook.log")" = "$n" ] || fail "a replay was sent"
err=$(ctl deliver "$H/ok" --payload '{"n":2}' --key k-ok 2>&1); [ $? = 1 ] || fail "mismatch accepted"
echo "$err" | grep -q "different payload" || fail "$err"
# the rate limit: 2 per minute to pager
dl pager --payload '{}' >/dev/null && dl pager --payload '{}' >/dev/null || fail "rate"
err=$(ctl deliver pager --payload '{}' 2>&1); [ $? = 1 ] || fail "third within a minute accepted"
echo "$err" | grep -q "rate_limited.*try again in [0-9]* ms" || fail "$err"
# bad input: not JSON, no payload
err=$(ctl deliver "$H/ok" --payload '{oops' 2>&1); [ $? = 1 ] && echo "$err" | grep -q "not JSON" || fail "$err"
# kill -9 of delivery mid-retry: resumed with the same key, seen once
dl "$H/flaky/kill" --payload '{"once":true}' --key k-kill --backoff-ms 2000 >"$T/kill.out" &
kp=$!
wait_for "the first (failed) attempt" grep -q '"/flaky/kill"' "$T/hook.log"
kill -9 "$(pid_of delivery)"
wait "$kp" || fail "deliver across a delivery restart: $(cat "$T/kill.out")"
jq -e '.status == "sent" and (.attempts | map(.status)) == ["failed","sent"]' "$T/kill.out" >/dev/null || fail "kill: $(cat "$T/kill.out")"
[ "$(grep '"/flaky/kill"' "$T/hook.log" | jq -s 'map(select(.status == 200 and .key == "k-kill")) | length')" = 1 ] || fail "received twice"
jctl deliveries | jq -e 'length >= 10 and (map(select(.key == "k-kill")) | length) == 1' >/dev/null || fail "deliveries"
# a receiver that stalls past the request timeout (10 s): a failed attempt
out=$(dl "$H/stall" --payload '{}' --retry-max 0)
echo "$out" | jq -e '.status == "failed" and (.attempts | length) == 1 and (.attempts[0].error | test("curl: .*[Tt]ime"))' >/dev/null || fail "stall: $out"
