# events -n N (the last N that match), --name NAME, and -f that starts
# at the tail (the last 10, or -n N) instead of replaying the whole ring.
. "$(dirname "$0")/lib.sh"
{ header; cat <<EOT
[module a]
command = $MK
args = --ready none
[module b]
command = $MK
args = --ready none
EOT
} >"$CFG"
start_daemon
wait_for "a healthy" is_state a healthy
wait_for "b healthy" is_state b healthy
for i in 1 2 3; do ctl restart a >/dev/null || fail "restart a"; ctl restart b >/dev/null || fail "restart b"; done
wait_for "a healthy" is_state a healthy
wait_for "b healthy" is_state b healthy
jctl events >"$T/all"
total=$(wc -l <"$T/all")
[ "$total" -gt 20 ] || fail "too few events to test with: $total"

# -n: the last N
jctl events -n 3 >"$T/out"
[ "$(wc -l <"$T/out")" = 3 ] || fail "-n 3: $(cat "$T/out")"
[ "$(jq -s 'map(.seq)' "$T/out")" = "$(tail -n 3 "$T/all" | jq -s 'map(.seq)')" ] ||
	fail "-n 3 is not the last three: $(cat "$T/out")"
jctl events -n 100000 | cmp -s - "$T/all" || fail "-n larger than the ring: not all of it"
[ "$(jctl events -n 0 | wc -l)" = 0 ] || fail "-n 0 printed events"
# --name: only that child's; with -n, its last N
jctl events --name a >"$T/out"
[ "$(jq -r .name "$T/out" | sort -u)" = a ] || fail "--name a: $(jq -r .name "$T/out" | sort -u)"
[ "$(wc -l <"$T/out")" = "$(jq -c 'select(.name == "a")' "$T/all" | wc -l)" ] || fail "--name a left some out"
jctl events --name b --type child.transition -n 2 >"$T/out"
[ "$(jq -s 'map(.seq)' "$T/out")" = "$(jq -c 'select(.name == "b" and .event_type == "child.transition")' "$T/all" | tail -n 2 | jq -s 'map(.seq)')" ] ||
	fail "--name b --type -n 2: $(cat "$T/out")"
# for people: one line each
[ "$(ctl events -n 4 | wc -l)" = 4 ] || fail "human -n 4: $(ctl events -n 4)"

# -f starts at the tail: the last 10, then what comes
last=$(tail -n 1 "$T/all" | jq .seq)
jctl events -f >"$T/f1" 2>&1 &
F1=$!
jctl events -f -n 0 >"$T/f2" 2>&1 &
F2=$!
jctl events --follow --name b -n 1 >"$T/f3" 2>&1 &
F3=$!
wait_for "the last 10" sh -c "[ \$(wc -l <'$T/f1') -ge 10 ]"
wait_for "b's last one" sh -c "[ \$(wc -l <'$T/f3') -ge 1 ]"
[ "$(head -n 1 "$T/f1" | jq .seq)" = $((last - 9)) ] || fail "-f did not start 10 from the end: $(head -n 1 "$T/f1")"
[ "$(head -n 1 "$T/f3" | jq -r .name)" = b ] || fail "-f --name b -n 1: $(cat "$T/f3")"
ctl restart b >/dev/null || fail "restart b while following"
wait_for "f1 sees the restart" sh -c "jq -e 'select(.seq > $last and .name == \"b\" and .payload.to == \"healthy\")' '$T/f1'"
wait_for "f2 sees the restart" sh -c "jq -e 'select(.name == \"b\" and .payload.to == \"healthy\")' '$T/f2'"
wait_for "f3 sees the restart" sh -c "jq -e 'select(.seq > $last and .payload.to == \"healthy\")' '$T/f3'"
[ "$(jq -r 'select(.seq <= '"$last"') | .seq' "$T/f2")" = "" ] || fail "-f -n 0 replayed: $(cat "$T/f2")"
[ "$(jq -r .name "$T/f3" | sort -u)" = b ] || fail "-f --name b: $(cat "$T/f3")"
# nothing of the start of the ring
! jq -e 'select(.seq == 1)' "$T/f1" >/dev/null || fail "-f replayed the whole ring"
# --since still replays from there with -f
jctl events -f --since 0 >"$T/f4" 2>&1 &
F4=$!
wait_for "f4 replays all" sh -c "[ \$(wc -l <'$T/f4') -ge $total ]"
[ "$(head -n 1 "$T/f4" | jq .seq)" = 1 ] || fail "-f --since 0: $(head -n 1 "$T/f4")"
kill $F1 $F2 $F3 $F4 2>/dev/null
wait $F1 $F2 $F3 $F4 2>/dev/null

# a follower whose reader went away (SIGPIPE is ignored for the socket)
# ends at its next event, exit 0: "events -f | head -n 1" does not hang
( "$BIN/mobkitctl" -s "$SOCK" events -f -n 1; echo $? >"$T/f5.rc" ) |
	head -n 1 >"$T/f5" &
F5=$!
wait_for "head's event" test -s "$T/f5"
ctl restart a >/dev/null || fail "restart a"
wait_for "the follower to end when its reader went away" test -s "$T/f5.rc"
[ "$(cat "$T/f5.rc")" = 0 ] || fail "a follower without a reader exited $(cat "$T/f5.rc")"
wait $F5
:
