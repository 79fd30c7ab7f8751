# PostgreSQL stopped under keyed load on three nodes: sends through any
# node are refused ("store: ...", mobkitctl exits non-zero), every node
# turns degraded and, its leases unproven, runs no member; PostgreSQL back: every node runs again, every member
# is healthy on some node, and every input answered "accepted" is
# consumed exactly once (none answered "rejected" is), the echo turn
# numbers of each member run 1..k.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/pg.sh"
. "$(dirname "$0")/cluster.sh"
MS="m1 m2 m3 m4 m5 m6"
cl_echo_body "$MS"
cl_setup "$T/body.ini" 3000
cl_start 1; cl_start 2; cl_start 3
wait_for "two members on each node" cl_spread 2 "1 2 3"
wait_for "every member healthy on its node" cl_all_healthy
node_state() { [ "$(njctl "$1" status | jq -r .daemon.state)" = "$2" ]; }
for i in 1 2 3; do node_state $i running || fail "n$i: $(njctl $i status | jq -c .daemon)"; done

cl_sender a "1 2 3" "$MS" & sa=$!
cl_sender b "3 1 2" "m6 m5 m4 m3 m2 m1" & sb=$!
wait_for "load before" cl_acks 20
pg_stop
t0=$(date +%s)
for i in 1 2 3; do
	wait_for "n$i degraded" node_state $i degraded
	out=$(njctl $i send m$i "while down" --key "down-$i")
	rc=$?
	[ "$rc" != 0 ] || fail "a send through n$i while PostgreSQL is down exits 0: $out"
	echo "$out" | jq -e '.outcome == "rejected" and (.reason | startswith("store: "))' >/dev/null ||
		fail "a send through n$i while PostgreSQL is down: $out"
	printf 'down-%s m%s %s rejected - %s\n' $i $i $i $rc >>"$T/acks.x"
	out=$(nctl $i is-healthy --json)
	[ $? = 1 ] || fail "n$i is-healthy while PostgreSQL is down: $out"
done
# the load meanwhile: refused, none accepted
n=$(wc -l <"$T/acks.a")
more_answers() { [ "$(wc -l <"$T/acks.a")" -gt $((n + 3)) ]; }
wait_for "sends refused while down" more_answers
awk -v n=$n 'NR > n' "$T/acks.a" | awk '$4 == "accepted"' | grep . &&
	fail "accepted while PostgreSQL is down"
# no node runs a member whose lease it cannot prove: past lease_ms none
# is healthy anywhere
none_run() {
	for i in 1 2 3; do
		njctl $i status | jq -e '[.children[] | select(.kind == "member"
		    and .state == "healthy")] | length == 0' || return 1
	done
}
wait_for "every node's members stopped" none_run
# down past lease_ms
while [ $(( $(date +%s) - t0 )) -lt 5 ]; do sleep 0.2; done

pg_restart
for i in 1 2 3; do wait_for "n$i running again" node_state $i running; done
wait_for "every member healthy on some node" cl_all_healthy
n=$(cat "$T"/acks.* | awk '$4 == "accepted"' | wc -l)
wait_for "load after" cl_acks $((n + 20))
touch "$T/stop"
wait "$sa" "$sb"
for i in 1 2 3; do node_state $i running || fail "n$i: $(njctl $i status | jq -c .daemon)"; done
cl_check_consumed 2
echo "$(cat "$T"/acks.* | awk '$4 == "accepted"' | wc -l) acknowledged inputs, $(cat "$T"/acks.* | awk '$4 == "rejected"' | wc -l) refused"
echo "ok"
