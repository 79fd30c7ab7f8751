# A node killed (-9) under keyed load on three nodes: its members are
# adopted by the two others (a live owner, healthy there) within lease_ms
# and a margin; a send --wait to one of its members, in flight when it
# died, still completes; every input answered "accepted" is consumed
# exactly once, the echo turn numbers of each member run 1..k.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/pg.sh"
. "$(dirname "$0")/cluster.sh"
MS="m1 m2 m3 m4 m5 m6"
cl_echo_body "$MS"
cl_setup "$T/body.ini" 3000
cl_start 1; cl_start 2; cl_start 3
wait_for "two members on each node" cl_spread 2 "1 2 3"
wait_for "every member healthy on its node" cl_all_healthy

cl_sender a "1 2 3" "$MS" & sa=$!
cl_sender b "3 1 2" "m6 m5 m4 m3 m2 m1" & sb=$!
wait_for "load before" cl_acks 20

# the victim: the node running m1; its members and the survivors
v=$(owner_of m1)
v=${v#n}
vm=$(psql_q "SELECT member FROM mobkit.members WHERE node_id = 'n$v' ORDER BY 1")
s=$(( v % 3 + 1 ))
[ -n "$vm" ] || fail "n$v holds no member"
# a send --wait to m1 through a survivor while n$v cannot run it (stopped),
# then n$v dies: the wait is answered once m1 runs elsewhere (n$v beats
# no more from the STOP on: the time to adoption counts from there)
t0=$(date +%s%N)
cl_signal "$v" STOP
njctl "$s" send m1 "in flight" --key inflight --wait --timeout-ms 60000 \
    >"$T/wait.out" 2>&1 & wp=$!
has_input() { psql_q "SELECT count(*) FROM mobkit.inputs WHERE member = 'm1' AND key = 'inflight'" | grep -qx 1; }
wait_for "the in-flight input committed" has_input
cl_signal "$v" KILL
adopted() {
	for m in $vm; do
		o=$(owner_of "$m")
		[ -n "$o" ] && [ "$o" != "n$v" ] && cl_healthy "${o#n}" "$m" || return 1
	done
}
TIMEOUT=20 wait_for "n$v's members ($(echo $vm)) adopted" adopted
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
echo "n$v's members adopted and healthy ${ms} ms after it stopped (STOP, then kill -9; lease_ms 3000)"
[ "$ms" -le 15000 ] || fail "adoption took ${ms} ms"
njctl "$s" cluster | jq -e --arg v "n$v" '.nodes[] | select(.node_id == $v) | .alive == false' >/dev/null ||
	fail "n$v still alive in cluster: $(njctl "$s" cluster)"

wait "$wp" || fail "send --wait in flight: $(cat "$T/wait.out")"
jq -e '.outcome == "accepted" and .result.status == "completed" and (.result.text | test("^echo \\(turn [0-9]+\\): in flight$"))' \
    "$T/wait.out" >/dev/null || fail "send --wait in flight: $(cat "$T/wait.out")"
printf 'inflight m1 %s accepted %s 0\n' "$s" "$(jq -r .input_id "$T/wait.out")" >>"$T/acks.w"

n=$(cat "$T"/acks.* | awk '$4 == "accepted"' | wc -l)
wait_for "load after" cl_acks $((n + 20))
touch "$T/stop"
wait "$sa" "$sb"
cl_check_consumed "$s"
echo "$(cat "$T"/acks.* | awk '$4 == "accepted"' | wc -l) acknowledged inputs, each consumed once"
echo "ok"
