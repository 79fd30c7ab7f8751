# PostgreSQL stopped under load: every send is answered accepted, or
# rejected with a "store: ..." reason (mobkitctl exits 1); mobkitd stays
# up, turns degraded and says store.write_failed; once PostgreSQL is back
# it says store.recovered and runs again.  After a kill -9 and a restart
# every input answered accepted was consumed once, and none answered
# rejected is there.  A bad store line is named by -t.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/pg.sh"
pg_start

# -t names what is wrong with the store line
{ header; echo "store = postgresql://mobkit@/mobkit?host=$T/nowhere"; } >"$CFG"
out=$("$BIN/mobkitd" -t -c "$CFG" 2>&1) && fail "-t accepted an unreachable database"
echo "$out" | grep -q "^$CFG:5: store postgresql://mobkit@/mobkit?host=$T/nowhere: cannot connect: .*$T/nowhere" ||
	fail "-t on an unreachable database: $out"
{ header; echo "store = postgresql://mobkit:secret@/mobkit?host=$T/nowhere"; } >"$CFG"
out=$("$BIN/mobkitd" -t -c "$CFG" 2>&1) && fail "-t accepted an unreachable database"
echo "$out" | grep -q secret && fail "-t shows the password: $out"
{ header; echo "store = postgresql://mobkit@/mobkit?host=$PGDIR&bogus=1"; } >"$CFG"
out=$("$BIN/mobkitd" -t -c "$CFG" 2>&1) && fail "-t accepted a bad URI"
echo "$out" | grep -q "^$CFG:5: store .*: not a valid PostgreSQL URI: .*bogus" || fail "-t on a bad URI: $out"
{ header; echo "store = mysql://db/mobkit"; } >"$CFG"
out=$("$BIN/mobkitd" -t -c "$CFG" 2>&1) && fail "-t accepted mysql://"
echo "$out" | grep -q "^$CFG:5: store: not a PostgreSQL URI" || fail "-t on mysql://: $out"
{ header; echo "state_dir = $T/state"; echo "store = $PGURI"; echo "lease_ms = 10"; } >"$CFG"
out=$("$BIN/mobkitd" -t -c "$CFG" 2>&1) && fail "-t accepted store with state_dir"
echo "$out" | grep -q "^$CFG:6: store: cannot be used with state_dir" || fail "-t on store and state_dir: $out"
echo "$out" | grep -q "^$CFG:7: lease_ms: 10 is out of range" || fail "-t on lease_ms = 10: $out"

{ header; cat <<EOT
store = $PGURI

[profile p]
provider = echo

[member m1]
profile = p
EOT
} >"$CFG"
start_daemon
wait_for "m1 healthy" is_state m1 healthy
daemon_state() { jctl status | jq -r .daemon.state; }

# sender C: keyed sends until $T/stop exists; one line an answer in
# $T/answers.C: KEY OUTCOME INPUT_ID REASON RC
sender() {
	i=0
	while [ ! -e "$T/stop" ]; do
		k=$1-$i
		out=$("$BIN/mobkitctl" -s "$SOCK" --json send m1 "text $k" --key "$k" 2>/dev/null)
		rc=$?
		printf '%s\t%s\t%s\n' "$k" "$(echo "$out" | jq -r '[.outcome, (.input_id // "-"), (.reason // "-")] | @tsv' 2>/dev/null || echo "error	-	$out")" "$rc" >>"$T/answers.$1"
		i=$((i + 1))
	done
}
sender a & sa=$!
sender b & sb=$!
nans() { [ "$(cat "$T"/answers.? 2>/dev/null | wc -l)" -ge "$1" ]; }
wait_for "answers before" nans 6
pg_stop
wait_for "degraded while PostgreSQL is down" sh -c "[ \"\$($BIN/mobkitctl -s $SOCK --json status | jq -r .daemon.state)\" = degraded ]"
kill -0 "$DPID" || fail "mobkitd died"
jctl events --type store.write_failed | jq -e -s 'length == 1 and (.[0].payload.error | startswith("store: "))' >/dev/null ||
	fail "not one store.write_failed event: $(jctl events --type store.write_failed)"
out=$(jctl send m1 "while down" --key while-down)
rc=$?
echo "$out" | jq -e '.outcome == "rejected" and (.reason | startswith("store: "))' >/dev/null ||
	fail "a send while PostgreSQL is down: $out"
[ "$rc" = 1 ] || fail "a rejected send exits $rc"
printf 'while-down\trejected\t-\t-\t1\n' >>"$T/answers.x"
n=$(cat "$T"/answers.? | wc -l)
wait_for "sends refused while down" nans $((n + 4))

pg_restart
wait_for "store.recovered" sh -c "$BIN/mobkitctl -s $SOCK --json events --type store.recovered | grep -q recovered"
wait_for "running again" sh -c "[ \"\$($BIN/mobkitctl -s $SOCK --json status | jq -r .daemon.state)\" = running ]"
n=$(cat "$T"/answers.? | wc -l)
wait_for "answers after" nans $((n + 4))
# the connection cut under load, three times (a transaction may be in
# flight, its COMMIT unanswered): reconnected each time
for cut in 1 2 3; do
	psql_q "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name LIKE 'mobkitd %'" >/dev/null
	wait_for "store.recovered ($cut)" sh -c "[ \$($BIN/mobkitctl -s $SOCK --json events --type store.recovered | wc -l) -ge $((cut + 1)) ]"
	n=$(cat "$T"/answers.? | wc -l)
	wait_for "answers after cut $cut" nans $((n + 2))
done
wait_for "running again" sh -c "[ \"\$($BIN/mobkitctl -s $SOCK --json status | jq -r .daemon.state)\" = running ]"
n=$(cat "$T"/answers.? | wc -l)
wait_for "answers at the end" nans $((n + 4))
touch "$T/stop"
wait $sa $sb
cat "$T"/answers.? >"$T/answers"
bad=$(awk -F'\t' '!($2 == "accepted" && $5 == 0) && !($2 == "rejected" && $4 ~ /^store: / && $5 == 1) && $1 != "while-down"' "$T/answers")
[ -z "$bad" ] || fail "answers neither accepted nor rejected by the store: $bad"
nrej=$(awk -F'\t' '$2 == "rejected"' "$T/answers" | wc -l)
[ "$nrej" -gt 1 ] || fail "nothing was rejected while PostgreSQL was down"
for c in a b; do
	tail -n 1 "$T/answers.$c" | awk -F'\t' '$2 != "accepted"' | grep . && fail "after the recovery: not accepted"
done
echo "$(grep -c accepted "$T/answers") accepted, $nrej rejected" >&2

# kill -9, restart: the answers hold
kill -9 "$DPID"
wait "$DPID" 2>/dev/null
start_daemon
wait_for "m1 healthy again" is_state m1 healthy
idle() { jctl inputs m1 | jq -e 'map(select(.state == "queued" or .state == "running")) | length == 0' >/dev/null; }
wait_for "every input finished" idle
jctl inputs m1 >"$T/inputs"
bad=$(jq -n -c --rawfile ans "$T/answers" --slurpfile in "$T/inputs" '
	$in[0] as $all | $ans | split("\n") | map(select(length > 0) | split("\t")) |
	map(.[0] as $k | .[1] as $o | .[2] as $id | [$all[] | select(.key == $k)] as $f |
	    select(($o == "accepted" and ($f | length != 1 or .[0].input_id != $id or .[0].state != "consumed")) or
	        ($o == "rejected" and ($f | length) != 0)) | {key: $k, answer: $o, found: $f})')
[ "$bad" = "[]" ] || fail "answers do not hold after the restart: $bad"
