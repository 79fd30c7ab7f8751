# Disk full: state_dir on a small tmpfs, filled up.  Every send is
# answered accepted or rejected with a "store:" reason; mobkitd stays up,
# turns degraded and says store.write_failed; once space is freed it says
# store.recovered and is running again.  After a kill -9 and a restart
# every input answered accepted is there, and none answered rejected.
. "$(dirname "$0")/lib.sh"
MNT=$T/state
mkdir -p "$MNT"
mount -t tmpfs -o size=8m tmpfs "$MNT" || fail "cannot mount a tmpfs (run as root)"
on_exit() {
	rc=$?
	if [ -n "$DPID" ] && kill -0 "$DPID" 2>/dev/null; then
		kill -TERM "$DPID"
		i=0
		while kill -0 "$DPID" 2>/dev/null && [ $i -lt 200 ]; do
			sleep 0.05
			i=$((i + 1))
		done
		kill -KILL "$DPID" 2>/dev/null
	fi
	umount "$MNT" 2>/dev/null || umount -l "$MNT" 2>/dev/null
	(exit $rc)
	cleanup
}
trap on_exit EXIT
{ header; cat <<EOT
state_dir = $MNT

[profile p]
provider = echo

[member m1]
profile = p
EOT
} >"$CFG"
start_daemon
wait_for "m1 healthy" is_state m1 healthy
daemon_state() { jctl status | jq -r .daemon.state; }

# send_batch PREFIX N: N keyed sends from 4 clients at once; one line per
# answer in $T/answers: KEY OUTCOME INPUT_ID REASON
send_batch() {
	pids=
	for c in 1 2 3 4; do
		(
			i=0
			while [ $i -lt "$2" ]; do
				k=$1-$c-$i
				out=$("$BIN/mobkitctl" -s "$SOCK" --json send m1 "text $k" --key "$k" 2>&1)
				printf '%s\t%s\n' "$k" "$(echo "$out" | jq -r '[.outcome, (.input_id // "-"), (.reason // "-")] | @tsv' 2>/dev/null || echo "error $out")" >>"$T/answers.$c"
				i=$((i + 1))
			done
		) &
		pids="$pids $!"
	done
	wait $pids
	cat "$T"/answers.? >>"$T/answers"
	rm -f "$T"/answers.?
}

send_batch before 10
[ "$(grep -c accepted "$T/answers")" = 40 ] || fail "before the disk filled: $(grep -v accepted "$T/answers")"

# fill the file system to the last byte
dd if=/dev/zero of="$MNT/filler" bs=64k 2>/dev/null
dd if=/dev/zero of="$MNT/filler2" bs=512 2>/dev/null
send_batch full 60
wait_for "degraded while full" sh -c "[ \"\$($BIN/mobkitctl -s $SOCK --json status | jq -r .daemon.state)\" = degraded ]"
kill -0 "$DPID" || fail "mobkitd died"
bad=$(awk -F'\t' '$2 != "accepted" && !($2 == "rejected" && $4 ~ /^store: /)' "$T/answers")
[ -z "$bad" ] || fail "answers neither accepted nor rejected by the store: $bad"
nrej=$(awk -F'\t' '$2 == "rejected"' "$T/answers" | wc -l)
[ "$nrej" -gt 0 ] || fail "nothing was rejected on a full disk"
jctl events --type store.write_failed | jq -e -s 'length >= 1 and (.[0].payload.error | startswith("store: "))' >/dev/null ||
	fail "no store.write_failed event: $(jctl events --source supervisor | tail -5)"
out=$(jctl send m1 "while full" --key while-full)
echo "$out" | jq -e '.outcome == "rejected" and (.reason | startswith("store: "))' >/dev/null ||
	[ "$(daemon_state)" != degraded ] || fail "a send while degraded: $out"
printf 'while-full\t%s\n' "$(echo "$out" | jq -r '[.outcome, (.input_id // "-"), (.reason // "-")] | @tsv')" >>"$T/answers"

# free the space: the store writes again
rm -f "$MNT/filler" "$MNT/filler2"
wait_for "store.recovered" sh -c "$BIN/mobkitctl -s $SOCK --json events --type store.recovered | grep -q recovered"
wait_for "running again" sh -c "[ \"\$($BIN/mobkitctl -s $SOCK --json status | jq -r .daemon.state)\" = running ]"
send_batch after 5
awk -F'\t' '$1 ~ /^after-/ && $2 != "accepted"' "$T/answers" | grep . && fail "after the recovery: not accepted"
echo "$(grep -c accepted "$T/answers") accepted, $(grep -c rejected "$T/answers") rejected" >&2

# kill -9, restart: the answers hold
kill -9 "$DPID"
wait "$DPID" 2>/dev/null
start_daemon
wait_for "m1 healthy again" is_state m1 healthy
idle() { jctl inputs m1 | jq -e 'map(select(.state == "queued" or .state == "running")) | length == 0' >/dev/null; }
wait_for "every input finished" idle
jctl inputs m1 >"$T/inputs"
while IFS="$(printf '\t')" read -r k o id reason; do
	n=$(jq "[.[] | select(.key == \"$k\")] | length" "$T/inputs")
	case $o in
	accepted)
		jq -e "map(select(.key == \"$k\" and .input_id == \"$id\" and .state == \"consumed\")) | length == 1" "$T/inputs" >/dev/null ||
			fail "$k was answered accepted ($id) but is not there: $(jq -c "map(select(.key == \"$k\"))" "$T/inputs")"
		;;
	rejected)
		[ "$n" = 0 ] || fail "$k was answered rejected ($reason) but is there"
		;;
	esac
done <"$T/answers"
