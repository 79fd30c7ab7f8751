# Six members on two nodes under keyed load; a third node joins and is
# given nothing while the others hold their leases; rebalance (through
# n1) answers the moves to n3, after which each node holds two members,
# each healthy where it runs; every input answered "accepted", before,
# during and after the moves, is consumed exactly once, the echo turn
# numbers of each member run 1..k, and a moved member's next turn
# continues its conversation on n3.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/pg.sh"
. "$(dirname "$0")/cluster.sh"
MS="m1 m2 m3 m4 m5 m6"
cl_echo_body "$MS"
cl_setup "$T/body.ini" 3000
cl_start 1; cl_start 2
wait_for "three members on each of two nodes" cl_spread 3 "1 2"
wait_for "every member healthy on its node" cl_all_healthy
cl_sender a "1 2" "$MS" & sa=$!
wait_for "load before" cl_acks 15

cl_start 3
alive3() { njctl 1 cluster | jq -e '.nodes[] | select(.node_id == "n3") | .alive'; }
wait_for "n3 alive in cluster" alive3
cl_sender b "3 1 2" "m6 m5 m4 m3 m2 m1" & sb=$!
# the others hold their leases: nothing is n3's without a rebalance
# (a window of a lease and a half)
end=$(( $(date +%s%N) / 1000000 + LEASE_MS * 3 / 2 ))
while [ $(( $(date +%s%N) / 1000000 )) -lt "$end" ]; do
	[ "$(cl_held n3)" = 0 ] || fail "n3 took members by itself: $(njctl 1 cluster)"
	sleep 0.2
done
cl_spread 3 "1 2" || fail "members moved without a rebalance: $(njctl 1 cluster)"

n=$(cat "$T"/acks.* | awk '$4 == "accepted"' | wc -l)
out=$(njctl 1 rebalance) || fail "rebalance: $out"
echo "$out" | jq -e '(.moves | length) == 2 and all(.moves[]; .to == "n3")
    and ([.moves[].from] | sort) == ["n1", "n2"]' >/dev/null ||
	fail "rebalance's moves: $out"
moved=$(echo "$out" | jq -r '.moves[].member')
wait_for "two members on each node" cl_spread 2 "1 2 3"
on3() {
	for m in $moved; do
		[ "$(owner_of "$m")" = n3 ] && cl_healthy 3 "$m" || return 1
	done
}
wait_for "the moved members ($(echo $moved)) healthy on n3" on3
wait_for "every member healthy on its node" cl_all_healthy
wait_for "load during and after the moves" cl_acks $((n + 20))
touch "$T/stop"
wait "$sa" "$sb"
cl_check_consumed 1

# a moved member's next turn, on n3, continues its conversation
for m in $moved; do
	k=$(njctl 3 conversation "$m" | jq '[.[] | select(.role == "user")] | length')
	[ "$k" -gt 0 ] || fail "$m had no turn before its move"
	out=$(njctl 3 send "$m" "on n3" --wait --key "on3-$m") || fail "send to $m on n3: $out"
	echo "$out" | jq -e --arg t "echo (turn $((k + 1))): on n3" '.result.text == $t' >/dev/null ||
		fail "$m's turn on n3 (after $k): $out"
	printf 'on3-%s %s 3 accepted %s 0\n' "$m" "$m" "$(echo "$out" | jq -r .input_id)" >>"$T/acks.c"
done
cl_check_consumed 2
echo "ok"
