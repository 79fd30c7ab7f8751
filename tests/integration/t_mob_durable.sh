# With state_dir, kill -9 of mobkitd under a stream of sends: every send
# answered "accepted" is consumed after the restart, and none twice.
. "$(dirname "$0")/lib.sh"
{ header; cat <<EOT
state_dir = $T/state

[profile p]
provider = echo

[member m1]
profile = p

[member m2]
profile = p
EOT
} >"$CFG"
start_daemon
wait_for "m1 healthy" is_state m1 healthy
(
	i=0
	while [ $i -lt 400 ]; do
		m=m$((i % 2 + 1))
		out=$("$BIN/mobkitctl" -s "$SOCK" --json send $m "job $i" --key "job-$i" 2>/dev/null) &&
			echo "$out" | jq -r 'select(.outcome == "accepted") | .input_id' >>"$T/accepted"
		i=$((i + 1))
	done
) &
sender=$!
# (a send is two processes: on a loaded machine 20 take a while)
TIMEOUT=120 wait_for "some accepted" sh -c "[ \$(wc -l <$T/accepted 2>/dev/null || echo 0) -ge 20 ]"
kill -9 "$DPID"
wait "$DPID" 2>/dev/null
wait "$sender" 2>/dev/null
n=$(wc -l <"$T/accepted")
echo "accepted before the kill: $n" >&2
# the workers died with it (PDEATHSIG); start again on the same state
wait_for "workers gone" sh -c "! pgrep -f 'mobkit-worker' -P 1 >/dev/null 2>&1 || true"
start_daemon
wait_for "m1 healthy again" is_state m1 healthy
all_done() {
	for m in m1 m2; do
		jctl inputs $m | jq -e 'map(select(.state == "queued" or .state == "running")) | length == 0' >/dev/null || return 1
	done
}
wait_for "every input finished" all_done
jctl inputs m1 >"$T/in1"; jctl inputs m2 >"$T/in2"
while read -r id; do
	c=$(jq -s "[.[][] | select(.input_id == \"$id\")] | length" "$T/in1" "$T/in2")
	[ "$c" = 1 ] || fail "$id is there $c times"
	s=$(jq -s -r ".[][] | select(.input_id == \"$id\") | .state" "$T/in1" "$T/in2")
	[ "$s" = consumed ] || fail "$id is $s"
done <"$T/accepted"
# keys stay unique: no key twice
dups=$(jq -s -r '[.[][] | .key] | group_by(.) | map(select(length > 1)) | length' "$T/in1" "$T/in2")
[ "$dups" = 0 ] || fail "$dups duplicated keys"
