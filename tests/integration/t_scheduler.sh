# mobkit-scheduler: interval injections with their events; tick --at and
# skipped claims; no claim fired twice across a kill -9 of the scheduler
# and a restart of mobkitd with state_dir; catch_up both ways.
. "$(dirname "$0")/lib.sh"
write_cfg() { # write_cfg CATCH_UP
	{ header; cat <<EOT
state_dir = $T/state

[module scheduler]
command = mobkit-scheduler
restart_backoff_ms = 200

[profile p]
provider = echo

[member w]
profile = p

[schedule fast]
interval = */1s
member = w
message = tick tock

[schedule slow]
interval = */3s
catch_up = $1
member = w
message = catch me

[schedule daily]
cron = 0 9 * * 1-5
timezone = Europe/Paris
member = w
message = Daily report, please.
EOT
	} >"$CFG"
}
injections() { jctl events --type runtime.injection.executed | jq -r .payload.claim_key; }
write_cfg true
start_daemon
wait_for "scheduler healthy" is_state scheduler healthy
wait_for "three injections" sh -c "[ \$($BIN/mobkitctl -s $SOCK --json events --type runtime.injection.executed | jq -r 'select(.payload.schedule_id == \"fast\")' | jq -s length) -ge 3 ]"
jctl events --type runtime.injection.executed | jq -e -s 'map(.payload) | map(select(.schedule_id == "fast")) | all(.member_id == "w" and .message == "tick tock" and (.input_id | startswith("in-")) and (.claim_key | test("^fast:[0-9]+000$")))' >/dev/null ||
	fail "event payloads: $(jctl events --type runtime.injection.executed | tail -1)"
jctl schedules | jq -e 'map(select(.schedule_id == "daily"))[0] | .next_due_ms > 0 and .timezone == "Europe/Paris"' >/dev/null || fail "schedules: $(jctl schedules)"
# tick: the latest due time at or before --at; a second tick skips it
at=1767603600000	# Monday 2026-01-05 09:00 UTC = 10:00 Paris
out=$(jctl tick --at $at)
echo "$out" | jq -e '.tick_ms == 1767603600000 and (.dispatched | map(select(.schedule_id == "daily"))[0].claim_key == "daily:1767600000000")' >/dev/null || fail "tick: $out"
out=$(jctl tick --at $at)
echo "$out" | jq -e '.dispatched == [] and (.skipped_claims | index("daily:1767600000000") != null)' >/dev/null || fail "second tick: $out"
# kill -9 of the scheduler: injections go on, no claim twice
kill -9 "$(pid_of scheduler)"
n=$(injections | wc -l)
wait_for "injections after the restart" sh -c "[ \$($BIN/mobkitctl -s $SOCK --json events --type runtime.injection.executed | wc -l) -ge $((n + 3)) ]"
[ "$(injections | sort | uniq -d | wc -l)" = 0 ] || fail "a claim fired twice: $(injections | sort | uniq -d)"
# mobkitd restart with state_dir: claims are remembered
injections >"$T/claims.before"
ctl shutdown >/dev/null; wait_for "daemon exit" daemon_gone
stopped=$(($(date +%s%3N)))
sleep 7	# slow (every 3 s) misses two due times
started=$(($(date +%s%3N)))
start_daemon
wait_for "scheduler healthy" is_state scheduler healthy
out=$(jctl tick --at $at)
echo "$out" | jq -e '.dispatched == [] and (.skipped_claims | index("daily:1767600000000") != null)' >/dev/null || fail "claim forgotten across a restart: $out"
wait_for "slow again" sh -c "$BIN/mobkitctl -s $SOCK --json events --type runtime.injection.executed | jq -e 'select(.payload.schedule_id == \"slow\")' >/dev/null"
# catch_up = true fires the latest due time missed, once: the scheduler
# says which (a due time that passes while it starts is missed or not
# depending on how fast this machine starts it, so the test takes its
# word for which one), that one is later than the earlier missed ones
# (7 s down, every 3 s), and no slow due time before it was fired
wait_for "the catch-up" grep -q "schedule slow: catching up with" "$T/daemon.log"
caught=$(sed -n 's/.*schedule slow: catching up with \([0-9]*\).*/\1/p' "$T/daemon.log" | tail -1)
first=$(injections | awk -F: -v a=$stopped '$1 == "slow" && $2 > a {print $2}' | sort -n | head -1)
[ "$first" = "$caught" ] || fail "catch_up = true: first slow due time fired after the stop $first, caught up with $caught: $(injections | tr '\n' ' ')"
[ "$caught" -gt $((stopped + 3000)) ] || fail "catch_up = true fired more than the latest missed due time: $(injections | tr '\n' ' ')"
missed=$(injections | awk -F: -v a=$stopped -v b=$caught '$1 == "slow" && $2 > a && $2 <= b' | wc -l)
[ "$missed" = 1 ] || fail "catch_up = true fired $missed missed due time(s), want 1: $(injections | tr '\n' ' ')"
cat "$T/claims.before" - <<EOC | sort | uniq -d >"$T/dups"
$(injections)
EOC
[ ! -s "$T/dups" ] || fail "claims fired again after the restart: $(cat "$T/dups")"
# catch_up = false: the missed due times are skipped
ctl shutdown >/dev/null; wait_for "daemon exit" daemon_gone
write_cfg false
stopped=$(($(date +%s%3N)))
sleep 7
started=$(($(date +%s%3N)))
start_daemon
wait_for "slow again" sh -c "$BIN/mobkitctl -s $SOCK --json events --type runtime.injection.executed | jq -e 'select(.payload.schedule_id == \"slow\")' >/dev/null"
missed=$(injections | awk -F: -v a=$stopped -v b=$started '$1 == "slow" && $2 > a && $2 < b' | wc -l)
[ "$missed" = 0 ] || fail "catch_up = false fired $missed missed due time(s)"
[ "$(grep -c "schedule slow: catching up" "$T/daemon.log")" = 0 ] || fail "catch_up = false caught up"
