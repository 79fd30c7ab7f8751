# The seed's end-to-end scenarios.
# (a) router, delivery and scheduler; the members' roster routes; a tick
#     injects into worker-1; resolve and deliver an email; shutdown stops
#     delivery, router and scheduler with no orphan, stages in order.
# (b) a module that crashes once, then is ready again, while a member's
#     turn is in flight: it recovers, the turn completes, shutdown is ordered.
. "$(dirname "$0")/lib.sh"
python3 "$FIX/hookserver.py" "$T/hook.port" "$T/hook.log" &
echo $! >"$T/hook.pid"
start_llm
wait_for "the hook fixture" test -s "$T/hook.port.smtp"
{ header; cat <<EOT
[module router]
command = mobkit-router

[module delivery]
command = mobkit-delivery
depends = router

[module scheduler]
command = mobkit-scheduler
depends = router delivery

[module flaky]
command = /bin/sh
args = -c 'if [ ! -f $T/crashed ]; then touch $T/crashed; sleep 1; exit 3; fi; exec sleep 600'
restart = on_failure
restart_backoff_ms = 100

[delivery]
smtp_url = smtp://127.0.0.1:$(cat "$T/hook.port.smtp")

[profile assistant]
provider = echo

[profile slow]
provider = openai
model = m
base_url = http://127.0.0.1:$LLM_PORT/v1

[member lead-1]
profile = slow
peers = worker-1

[member worker-1]
profile = assistant

[schedule report]
cron = 0 9 * * 1-5
timezone = UTC
member = worker-1
message = Daily report, please.
EOT
} >"$CFG"
start_daemon
for c in router delivery scheduler lead-1 worker-1; do wait_for "$c healthy" is_state $c healthy; done
# (b): a turn in flight while flaky crashes once and comes back
id=$(send_id lead-1 "take your time [[slow]]")
wait_for "flaky failed once" sh -c "[ \"\$($BIN/mobkitctl -s $SOCK --json status flaky | jq -r '.children[0].restarts')\" = 1 ]"
wait_for "flaky healthy again" is_state flaky healthy
[ "$(transitions_of flaky)" = "starting healthy failed restarting healthy" ] || fail "flaky: $(transitions_of flaky)"
wait_for "the turn completed" input_is lead-1 "$id" consumed
# (a)
out=$(jctl reconcile)
[ "$(echo "$out" | jq -c .retained)" = '["lead-1","worker-1"]' ] || fail "reconcile: $out"
jctl routes | jq -e 'map(.id) | index("mob.member.lead-1") != null and index("mob.member.worker-1") != null' >/dev/null || fail "roster routes: $(jctl routes)"
out=$(jctl tick --at 1767603600000)
echo "$out" | jq -e '.dispatched[0].schedule_id == "report" and .dispatched[0].member_id == "worker-1"' >/dev/null || fail "tick: $out"
jctl events --type runtime.injection.executed | jq -e 'select(.payload.member_id == "worker-1")' >/dev/null || fail "no injection event"
out=$(jctl resolve user@example.com --channel transactional)
echo "$out" | jq -e '.target_module == "delivery" and .sink == "email"' >/dev/null || fail "resolve: $out"
out=$(jctl deliver user@example.com --channel transactional --payload '{"subject":"s","body":"b"}')
echo "$out" | jq -e '.status == "sent" and (.attempts | length) == 1' >/dev/null || fail "deliver: $out"
report=$(jctl shutdown) || fail "shutdown"
echo "$report" | jq -e '.stopped | index("scheduler") < index("delivery") and index("delivery") < index("router")' >/dev/null || fail "order: $report"
echo "$report" | jq -e '.stopped[0:2] | sort == ["lead-1","worker-1"]' >/dev/null || fail "members first: $report"
echo "$report" | jq -e '.orphan_processes == 0' >/dev/null || fail "orphans: $report"
echo "$report" | jq -e '.stages == ["shutdown_requested","inputs_refused","drained","members_stopped","modules_stopped","orphans_killed","shutdown_complete"]' >/dev/null || fail "stages: $report"
wait_for "daemon exit" daemon_gone
