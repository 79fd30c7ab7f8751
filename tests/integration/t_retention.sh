# Retention of finished inputs: at most input_retention_max per member
# are remembered (the newest), for input_retention_ms; a forgotten key is
# accepted anew, a remembered one deduplicated; inputs lists id, state,
# attempts and key only.  In memory, then with state_dir across a kill -9.
# Conversations: history_max_bytes bounds them in memory; with state_dir a
# restarted worker gets the whole one from the store.
. "$(dirname "$0")/lib.sh"

# config EXTRA: one echo member, input_retention_max = 50 unless EXTRA
# says otherwise
config() {
	{ header; printf '%s\n' "$1"; cat <<EOT

[profile p]
provider = echo

[member m1]
profile = p
EOT
	} >"$CFG"
}

inputs() { jctl inputs m1; }
idle() { inputs | jq -e 'map(select(.state == "queued" or .state == "running")) | length == 0' >/dev/null; }
outcome() { echo "$1" | jq -r .outcome; }

# send_keys FROM TO: keyed sends, each accepted
send_keys() {
	i=$1
	while [ "$i" -le "$2" ]; do
		out=$(jctl send m1 "text $i" --key "k$i")
		[ "$(outcome "$out")" = accepted ] || fail "k$i: $out"
		i=$((i + 1))
	done
}

# caps LABEL: what a user sees once 200 keyed inputs k0..k199 finished
caps() {
	wait_for "$1: every input finished" idle
	n=$(inputs | jq length)
	[ "$n" = 50 ] || fail "$1: $n inputs listed; at most 50 are remembered"
	inputs | jq -e '.[0].key == "k150" and .[49].key == "k199" and
	    all(.[]; .state == "consumed")' >/dev/null ||
		fail "$1: not the newest 50: $(inputs | jq -c 'map(.key)')"
	inputs | jq -e 'all(.[]; keys == ["attempts","input_id","key","state"])' \
	    >/dev/null || fail "$1: listing fields: $(inputs | jq -c '.[0]')"
	out=$(jctl send m1 "again" --key k199)
	[ "$(outcome "$out")" = deduplicated ] || fail "$1: a recent key: $out"
	echo "$out" | jq -e '.result.status == "completed" and
	    .existing_input_id == (.input_id)' >/dev/null || fail "$1: dedup: $out"
	out=$(jctl send m1 "again" --key k10)
	[ "$(outcome "$out")" = accepted ] || fail "$1: a forgotten key: $out"
	wait_for "$1: the new k10 finished" idle
	inputs | jq -e 'length == 50 and .[49].key == "k10" and .[0].key == "k151"' \
	    >/dev/null || fail "$1: after k10 again: $(inputs | jq -c 'map(.key)')"
}

# --- in memory
config "input_retention_max = 50"
start_daemon
wait_for "m1 healthy" is_state m1 healthy
send_keys 0 199
caps "in memory"
kill -TERM "$DPID"; wait "$DPID" 2>/dev/null

# --- with state_dir, and again after a kill -9
config "input_retention_max = 50
state_dir = $T/state"
start_daemon
wait_for "m1 healthy" is_state m1 healthy
send_keys 0 199
caps "state_dir"
out=$(jctl send m1 "again" --key k190)
echo "$out" | jq -e '.outcome == "deduplicated" and
    .result.text == "echo (turn 191): text 190"' >/dev/null ||
	fail "state_dir: the result is read back from the store: $out"
kill -9 "$DPID"; wait "$DPID" 2>/dev/null
start_daemon
wait_for "m1 healthy after the restart" is_state m1 healthy
inputs | jq -e 'length == 50 and .[0].key == "k151" and .[49].key == "k10"' \
    >/dev/null || fail "after kill -9: $(inputs | jq -c 'map(.key)')"
out=$(jctl send m1 "again" --key k199)
[ "$(outcome "$out")" = deduplicated ] || fail "after kill -9, a recent key: $out"
out=$(jctl send m1 "again" --key k20)
[ "$(outcome "$out")" = accepted ] || fail "after kill -9, a forgotten key: $out"
wait_for "k20 finished" idle
[ "$(inputs | jq length)" = 50 ] || fail "after kill -9: $(inputs | jq length) listed"
kill -TERM "$DPID"; wait "$DPID" 2>/dev/null

# --- input_retention_ms: forgotten after it, in memory and with state_dir
for extra in "" "state_dir = $T/state2"; do
	config "input_retention_ms = 1500
$extra"
	start_daemon
	wait_for "m1 healthy" is_state m1 healthy
	out=$(jctl send m1 "short-lived" --key brief --wait)
	id=$(echo "$out" | jq -r .input_id)
	[ "$(outcome "$out")" = accepted ] || fail "brief: $out"
	inputs | jq -e "map(select(.input_id == \"$id\")) | length == 1" >/dev/null ||
		fail "brief is not listed while remembered"
	out=$(jctl send m1 "again" --key brief)
	[ "$(outcome "$out")" = deduplicated ] || fail "brief, at once: $out"
	wait_for "brief forgotten (${extra:-in memory})" sh -c \
	    "$BIN/mobkitctl -s $SOCK --json inputs m1 | jq -e 'length == 0'"
	out=$(jctl send m1 "again" --key brief)
	[ "$(outcome "$out")" = accepted ] || fail "brief, once forgotten: $out"
	[ "$(echo "$out" | jq -r .input_id)" != "$id" ] || fail "the same input"
	kill -TERM "$DPID"; wait "$DPID" 2>/dev/null
done

# --- conversations: without state_dir at most history_max_bytes (the
# oldest turns dropped: a turn here is 187 bytes, its two messages noted
# with input_id and at_ms, so three are kept); with it, whole from the
# store at a restart
for extra in "" "state_dir = $T/state3"; do
	{ header; printf '%s\n' "$extra"; cat <<EOT

[profile p]
provider = echo
history_max_bytes = 650
restart_backoff_ms = 100

[member m1]
profile = p
EOT
	} >"$CFG"
	start_daemon
	wait_for "m1 healthy" is_state m1 healthy
	for i in 1 2 3 4 5; do
		jctl send m1 "t$i" --wait >/dev/null || fail "turn $i"
	done
	pid=$(member_pid m1)
	kill -9 "$pid"
	wait_for "m1 restarted" sh -c "[ \"\$($BIN/mobkitctl -s $SOCK --json members | jq -r '.[0].pid')\" != $pid ] && [ \"\$($BIN/mobkitctl -s $SOCK --json members | jq -r '.[0].state')\" = healthy ]"
	out=$(jctl send m1 "t6" --wait)
	want=${extra:+"echo (turn 6): t6"}
	want=${want:-"echo (turn 4): t6"}
	[ "$(echo "$out" | jq -r .result.text)" = "$want" ] ||
		fail "history ${extra:-in memory}: $out"
	kill -TERM "$DPID"; wait "$DPID" 2>/dev/null
done
