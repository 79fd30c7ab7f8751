# A node stopped (SIGSTOP) longer than lease_ms while its members keep
# getting inputs through the other nodes: they adopt its members; once
# continued (SIGCONT) it drops them (remote in its status) without
# running a turn of theirs again, its row is alive again in cluster, and
# rebalance gives it members back.  Every input answered "accepted" is
# consumed exactly once, the echo turn numbers of each member run 1..k.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/pg.sh"
. "$(dirname "$0")/cluster.sh"
MS="m1 m2 m3 m4 m5 m6"
cl_echo_body "$MS"
cl_setup "$T/body.ini" 3000
cl_start 1; cl_start 2; cl_start 3
wait_for "two members on each node" cl_spread 2 "1 2 3"
wait_for "every member healthy on its node" cl_all_healthy
pm=$(psql_q "SELECT member FROM mobkit.members WHERE node_id = 'n1' ORDER BY 1")
[ -n "$pm" ] || fail "n1 holds no member"

# n1 paused; sends (to every member, n1's too) only through n2 and n3
cl_sender a "2 3" "$MS" & sa=$!
cl_sender b "3 2" "$(echo $pm) $MS" & sb=$!
wait_for "load before" cl_acks 20
cl_signal 1 STOP
t0=$(date +%s)
adopted() {
	for m in $pm; do
		o=$(owner_of "$m")
		[ -n "$o" ] && [ "$o" != n1 ] && cl_healthy "${o#n}" "$m" || return 1
	done
}
TIMEOUT=20 wait_for "n1's members ($(echo $pm)) adopted" adopted
n=$(cat "$T"/acks.* | awk '$4 == "accepted"' | wc -l)
wait_for "load while n1 is stopped" cl_acks $((n + 10))
# paused well past lease_ms (6 s in all)
while [ $(( $(date +%s) - t0 )) -lt 6 ]; do sleep 0.2; done
cl_signal 1 CONT

# n1 knows it lost them: remote in its status, the node running them named
dropped() {
	for m in $pm; do
		njctl 1 status "$m" | jq -e --arg o "$(owner_of "$m")" \
		    '.children[0] | .state == "remote" and .node_id == $o' || return 1
	done
}
wait_for "n1 shows its old members remote" dropped
rejoined() {
	njctl 2 cluster | jq -e '.nodes[] | select(.node_id == "n1") | .alive'
}
wait_for "n1 alive again in cluster" rejoined
n=$(cat "$T"/acks.* | awk '$4 == "accepted"' | wc -l)
wait_for "load after" cl_acks $((n + 10))
touch "$T/stop"
wait "$sa" "$sb"
cl_check_consumed 1

# rebalance gives n1 members back (its join window may hold it for a while)
rb() {
	njctl 2 rebalance >"$T/rb.out" &&
	    jq -e '[.moves[] | select(.to == "n1")] | length > 0' "$T/rb.out"
}
got_two() { [ "$(cl_held n1)" = 2 ]; }
TIMEOUT=40 wait_for "rebalance moving members to n1" rb
wait_for "n1 holding two members" got_two
for m in $(psql_q "SELECT member FROM mobkit.members WHERE node_id = 'n1'"); do
	wait_for "$m healthy on n1" cl_healthy 1 "$m"
	out=$(njctl 1 send "$m" after --wait --key "after-$m") ||
		fail "send to $m on n1: $out"
	printf 'after-%s %s 1 accepted %s 0\n' "$m" "$m" "$(echo "$out" | jq -r .input_id)" >>"$T/acks.c"
done
cl_check_consumed 3
echo "ok"
