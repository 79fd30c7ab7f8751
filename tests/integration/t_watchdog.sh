# Liveness: a stopped worker is aborted by the watchdog and restarted, and
# the input it held runs once after; a worker in a long LLM turn answers
# its pings and stays healthy; a module that closes fd 3 is
# restarted; a notify child that sends WATCHDOG=1 stays healthy, one that
# stops is restarted; with watchdog_ms = 0 nothing is pinged, and a stopped
# child stays healthy.
. "$(dirname "$0")/lib.sh"
start_llm
{ header; cat <<EOT
[profile echo]
provider = echo
watchdog_ms = 1000
restart_backoff_ms = 0

[member w]
profile = echo

[profile gpt]
provider = openai
model = m
base_url = http://127.0.0.1:$LLM_PORT/v1
watchdog_ms = 1000

[member slow]
profile = gpt

[module closer]
command = $MK
args = --ready message --close-fd3-after 300 --log $T/closer.log
ready = message
restart_backoff_ms = 0

[module beats]
command = $MK
args = --ready notify --watchdog-every 200
ready = notify
watchdog_ms = 1000

[module quiet]
command = $MK
args = --ready notify --watchdog-every 200 --watchdog-for 1500
ready = notify
watchdog_ms = 1000
restart_backoff_ms = 0

[module pinged]
command = $MK
args = --ready message --log $T/pinged.log
ready = message
watchdog_ms = 1000

[module unwatched]
command = $MK
args = --ready message --log $T/unwatched.log
ready = message
EOT
} >"$CFG"
start_daemon
for c in w slow beats pinged unwatched; do
	wait_for "$c healthy" is_state $c healthy
done

# a SIGSTOPped worker holding a keyed input
p=$(member_pid w)
u=$(pid_of unwatched)
kill -STOP "$p"
kill -STOP "$u"
out=$(jctl send w "hello there" --key k1) || fail "send: $out"
id=$(echo "$out" | jq -r .input_id)
[ "$(echo "$out" | jq -r .outcome)" = accepted ] || fail "send: $out"
wait_for "w restarted" sh -c "[ \"\$($BIN/mobkitctl -s $SOCK --json members | jq -r '.[0].pid')\" != $p ]"
wait_for "w healthy again" is_state w healthy
le=$(jctl status w | jq -c '.children[0].last_exit')
[ "$le" = '{"signal":"ABRT","reason":"watchdog"}' ] || fail "last_exit $le"
case " $(transitions_of w) " in
*" healthy failed restarting healthy "*) ;;
*) fail "transitions of w: $(transitions_of w)" ;;
esac
wait_for "the input consumed" input_is w "$id" consumed
[ "$(jctl inputs w | jq length)" = 1 ] || fail "inputs: $(jctl inputs w)"
n=$(jctl events --type run_completed | jq -s "map(select(.payload.input_id == \"$id\")) | length")
[ "$n" = 1 ] || fail "completed $n times"
[ "$(jctl send w "hello there" --key k1 | jq -r .outcome)" = deduplicated ] || fail "key forgotten"
[ "$(jctl events --type child.watchdog | jq -s 'map(select(.name == "w" and .payload.reason == "watchdog")) | length')" -ge 1 ] ||
	fail "no child.watchdog event for w"
dead "$p" || fail "the stopped worker $p is still there"
grep -q "w: no sign of life for 1000 ms (watchdog)" "$T/daemon.log" || fail "log"

# a turn that takes long (the LLM stalls) does not stop the pings
sp=$(member_pid slow)
sid=$(send_id slow "take your time [[stall]]")
wait_for "the slow turn running" sh -c "[ \"\$($BIN/mobkitctl -s $SOCK --json members | jq -r '.[] | select(.id == \"slow\") | .running')\" = $sid ]"
n0=$(count_lines ping "$T/pinged.log")
wait_for "3 s of pings" sh -c "[ \$(grep -c ping $T/pinged.log) -ge $((n0 + 6)) ]"
is_state slow healthy || fail "slow is $(state_of slow)"
[ "$(member_pid slow)" = "$sp" ] || fail "slow was restarted in its long turn"
[ "$(running_of slow)" = "$sid" ] || fail "the slow turn is no longer running"
ctl interrupt slow >/dev/null || fail "interrupt slow"

# watchdog_ms = 0: the stopped child is never pinged and stays healthy
is_state unwatched healthy || fail "unwatched is $(state_of unwatched)"
[ "$(pid_of unwatched)" = "$u" ] || fail "unwatched restarted"
kill -CONT "$u"
[ "$(count_lines ping "$T/unwatched.log")" = 0 ] || fail "unwatched was pinged"
wait_for "pinged answering pings" sh -c "[ \$(grep -c ping $T/pinged.log) -ge 2 ]"
is_state pinged healthy || fail "pinged is $(state_of pinged)"
[ "$(field_of pinged restarts)" = 0 ] || fail "pinged restarted"

# a module that closes fd 3 and runs on is restarted
wait_for "closer restarted" sh -c "[ \$(grep -c '^start' $T/closer.log) -ge 2 ]"
wait_for "closer's last exit" sh -c "$BIN/mobkitctl -s $SOCK --json status closer | jq -e '.children[0].last_exit.reason == \"socket_closed\"'"

# notify: WATCHDOG=1 keeps it healthy; silence is the end
wait_for "quiet restarted" sh -c "[ \$($BIN/mobkitctl -s $SOCK --json status quiet | jq '.children[0].restarts') -ge 1 ]"
[ "$(jctl status quiet | jq -r '.children[0].last_exit.reason')" = watchdog ] || fail "quiet: $(jctl status quiet | jq -c .children[0].last_exit)"
is_state beats healthy || fail "beats is $(state_of beats)"
[ "$(field_of beats restarts)" = 0 ] || fail "beats restarted"
[ "$(jctl status beats | jq -r '.children[0].last_exit')" = null ] || fail "beats exited"
exit 0
