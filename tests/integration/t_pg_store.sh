# store = postgresql://... on a real PostgreSQL 15: keyed sends to two
# members, kill -9 of a worker, then of mobkitd, a restart: every send
# answered "accepted" is consumed exactly once, no key twice, and each
# conversation is whole (every consumed input once, the echo's turn
# numbers 1, 2, 3... in order: a worker handed a conversation with a turn
# missing or doubled would count differently).  -t checks the database.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/pg.sh"
pg_start
{ header; cat <<EOT
store = $PGURI
node_id = node-a
lease_ms = 5000

[profile p]
provider = echo

[member m1]
profile = p

[member m2]
profile = p
EOT
} >"$CFG"
out=$("$BIN/mobkitd" -t -c "$CFG" 2>&1) || fail "-t on an empty database: $out"
start_daemon
wait_for "m1 healthy" is_state m1 healthy
# the newest schema: as many versions as there are schema files
nschema=$(ls "$(dirname "$0")"/../../supervisor/pg/schema/*.sql | wc -l)
grep -q "schema version $nschema created" "$T/daemon.log" || fail "no schema created"
[ "$(psql_q 'SELECT max(version) FROM mobkit.schema_version')" = "$nschema" ] ||
	fail "schema_version: $(psql_q 'SELECT * FROM mobkit.schema_version')"
[ "$(psql_q 'SELECT node_id FROM mobkit.nodes')" = node-a ] || fail "no node row"
out=$("$BIN/mobkitd" -t -c "$CFG" 2>&1) || fail "-t on a live store: $out"

# a second mobkitd with the same node_id on the same database is refused
sed "s|^control_socket = .*|control_socket = $T/ctl2.sock|" "$CFG" >"$T/second.ini"
out=$(timeout 30 "$BIN/mobkitd" -c "$T/second.ini" 2>&1) && fail "a second mobkitd started on the same database"
echo "$out" | grep -q "already running (pid $DPID" || fail "second mobkitd: $out"

(
	i=0
	while [ $i -lt 300 ]; do
		m=m$((i % 2 + 1))
		out=$("$BIN/mobkitctl" -s "$SOCK" --json send $m "job $i" --key "job-$i" 2>/dev/null) &&
			echo "$out" | jq -r 'select(.outcome == "accepted") | .input_id' >>"$T/accepted"
		i=$((i + 1))
	done
) &
sender=$!
nacc() { [ "$(wc -l <"$T/accepted" 2>/dev/null || echo 0)" -ge "$1" ]; }
wait_for "some accepted" nacc 10
wpid=$(member_pid m1)
kill -9 "$wpid"
wait_for "m1 restarted" sh -c "[ \"\$($BIN/mobkitctl -s $SOCK --json members | jq -r '.[] | select(.id == \"m1\") | .pid')\" != $wpid ]"
wait_for "more accepted" nacc 25
kill -9 "$DPID"
wait "$DPID" 2>/dev/null
wait "$sender" 2>/dev/null
n=$(wc -l <"$T/accepted")
echo "accepted before the kill: $n" >&2
start_daemon
wait_for "m1 healthy again" is_state m1 healthy
grep -q "loaded .* pending input" "$T/daemon.log" || fail "nothing loaded"
all_done() {
	for m in m1 m2; do
		jctl inputs $m | jq -e 'map(select(.state == "queued" or .state == "running")) | length == 0' >/dev/null || return 1
	done
}
wait_for "every input finished" all_done
jctl inputs m1 >"$T/in1"; jctl inputs m2 >"$T/in2"
bad=$(jq -n -c --rawfile acc "$T/accepted" --slurpfile a "$T/in1" --slurpfile b "$T/in2" '
	($a[0] + $b[0]) as $all | $acc | split("\n") | map(select(length > 0)) |
	map(. as $id | [$all[] | select(.input_id == $id)] |
	    select(length != 1 or .[0].state != "consumed") | {id: $id, found: .})')
[ "$bad" = "[]" ] || fail "acknowledged inputs not consumed exactly once: $bad"
dups=$(jq -s -r '[.[][] | .key] | group_by(.) | map(select(length > 1)) | length' "$T/in1" "$T/in2")
[ "$dups" = 0 ] || fail "$dups duplicated keys"

# each conversation whole: every consumed input once, turns counted 1..N
for m in m1 m2; do
	jctl conversation $m >"$T/conv.$m"
	jq -r 'map(select(.state == "consumed") | .input_id) | sort | .[]' "$T/in${m#m}" >"$T/consumed.$m"
	jq -r 'map(select(.role == "user") | .input_id) | sort | .[]' "$T/conv.$m" >"$T/users.$m"
	cmp -s "$T/consumed.$m" "$T/users.$m" ||
		fail "$m: the conversation's inputs differ from those consumed: $(diff "$T/consumed.$m" "$T/users.$m" | head -5)"
	jq -e '[.[] | select(.role == "assistant") | .content | capture("^echo \\(turn (?<n>[0-9]+)\\)").n | tonumber] as $t |
	    $t == [range(1; ($t | length) + 1)]' "$T/conv.$m" >/dev/null ||
		fail "$m: turn numbers out of order: $(jq -c '[.[] | select(.role == "assistant") | .content[0:16]]' "$T/conv.$m" | head -c 600)"
done
# what the database holds agrees
rows=$(psql_q "SELECT count(*) FROM mobkit.inputs WHERE state = 2")
want=$(cat "$T/consumed.m1" "$T/consumed.m2" | wc -l)
[ "$rows" = "$want" ] || fail "the database has $rows consumed inputs, mobkitctl $want"
echo "consumed: $want; conversations whole" >&2

# the database refuses a write (a constraint): that send is rejected with
# the database's reason, mobkitd is degraded, then writes again
psql_q "ALTER TABLE mobkit.inputs ADD CONSTRAINT no_poison CHECK (text <> 'poison')" >/dev/null
out=$(jctl send m1 poison --key poison)
echo "$out" | jq -e '.outcome == "rejected" and (.reason | test("^store: .*no_poison"))' >/dev/null ||
	fail "a send the database refuses: $out"
wait_for "store.recovered" sh -c "$BIN/mobkitctl -s $SOCK --json events --type store.recovered | grep -q recovered"
out=$(jctl send m1 "after the refusal" --key after-refusal --wait)
echo "$out" | jq -e '.outcome == "accepted" and .result.status == "completed"' >/dev/null ||
	fail "a send after the refusal: $out"
[ "$(psql_q "SELECT count(*) FROM mobkit.inputs WHERE key = 'poison'")" = 0 ] || fail "the refused input is in the database"

# the schema is checked: a newer one is refused (by -t and at start),
# and so is a "mobkit" schema that is not mobkit's
stop_daemon() {
	kill -TERM "$DPID"
	wait_for "mobkitd gone" daemon_gone
	wait "$DPID" 2>/dev/null
}
stop_daemon
psql_q "INSERT INTO mobkit.schema_version (version, name) VALUES (99, '099_future.sql')" >/dev/null
out=$("$BIN/mobkitd" -t -c "$CFG" 2>&1) && fail "-t accepted a newer schema"
echo "$out" | grep -q "schema version 99 is newer than this mobkitd's ($nschema)" || fail "-t on a newer schema: $out"
out=$(timeout 30 "$BIN/mobkitd" -c "$CFG" 2>&1) && fail "mobkitd started on a newer schema"
echo "$out" | grep -q "schema version 99 is newer" || fail "start on a newer schema: $out"
psql_q "DELETE FROM mobkit.schema_version WHERE version = 99" >/dev/null
psql_q "DROP SCHEMA mobkit CASCADE; CREATE SCHEMA mobkit; CREATE TABLE mobkit.inputs (x int)" >/dev/null
out=$("$BIN/mobkitd" -t -c "$CFG" 2>&1) && fail "-t accepted a schema that is not mobkit's"
echo "$out" | grep -q "not a mobkit store" || fail "-t on a foreign schema: $out"
[ "$(psql_q 'SELECT count(*) FROM mobkit.inputs')" = 0 ] || fail "the foreign table was touched"
