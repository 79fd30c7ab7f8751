# SPEC §11: routes and roster changes made on one node are seen by all.
# Three nodes on one PostgreSQL: a member spawned on node 1 is listed by
# members on nodes 2 and 3, runs on exactly one node, and a send through
# node 3 reaches it; a route added on node 1 is listed and used (resolve)
# on node 3; a node started after the spawn has both at once; a retire
# on node 2 removes the member everywhere and ends its lease; a reload
# adding a member moves nothing a node runs; a route removed on node 3
# goes from node 1.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/pg.sh"
. "$(dirname "$0")/cluster.sh"
fail() { cl_fail "$@"; }
cat >"$T/body.ini" <<EOT
[module router]
command = mobkit-router

[profile p]
provider = echo

[member m1]
profile = p

[member m2]
profile = p
EOT
cl_setup "$T/body.ini" 3000
cl_start 1; cl_start 2; cl_start 3
held() { [ "$(psql_q "select count(*) from mobkit.members where node_id is not null")" = 2 ]; }
wait_for "m1 and m2 taken" held

fences() { psql_q "select string_agg(member || ':' || node_id || ':' || fence, ',' order by member) from mobkit.members where member in ('m1', 'm2')"; }
before=$(fences)

# spawn on node 1: listed everywhere, run on one node
out=$(njctl 1 spawn d1 p) || cl_fail "spawn: $out"
listed() { njctl "$1" members | jq -e 'map(.id) | index("d1") != null' >/dev/null; }
unlisted() { ! listed "$1"; }
listed2() { listed 2; }; listed3() { listed 3; }
wait_for "d1 listed on node 2" listed2 || cl_fail "d1 not on node 2"
wait_for "d1 listed on node 3" listed3 || cl_fail "d1 not on node 3"
[ "$(psql_q "select created_by from mobkit.roster where member = 'd1'")" = n1 ] ||
	cl_fail "no roster row for d1"
taken() { [ -n "$(owner_of d1)" ]; }
wait_for "d1 taken by a node" taken || cl_fail "d1 taken by no node"
runs_once() {
	k=0
	for n in 1 2 3; do cl_healthy $n d1 && k=$((k + 1)); done
	[ $k = 1 ]
}
wait_for "d1 healthy on exactly one node" runs_once ||
	cl_fail "d1 runs on $(for n in 1 2 3; do cl_healthy $n d1 && echo n$n; done)"
own=$(owner_of d1)
for n in 1 2 3; do
	seen() { [ "$(njctl $n members | jq -r '.[] | select(.id == "d1") | .node_id')" = "$own" ]; }
	wait_for "node $n to see d1 on $own" seen
done
# the members the nodes ran were left alone (not taken again)
[ "$(fences)" = "$before" ] || cl_fail "m1, m2 moved: $before -> $(fences)"
# a send through node 3 reaches it, and through each other node (those
# that do not run it write it for the one that does)
turn=0
for n in 3 1 2; do
	turn=$((turn + 1))
	out=$(njctl $n send d1 "hello-d1-via-n$n" --wait) ||
		cl_fail "send through n$n: $out"
	echo "$out" | jq -e --arg t "echo (turn $turn): hello-d1-via-n$n" \
	    '.result.status == "completed" and .result.text == $t' >/dev/null ||
		cl_fail "send through n$n: $out"
done
nctl 3 conversation d1 | grep -q 'echo (turn 3): hello-d1-via-n2' ||
	cl_fail "conversation: $(nctl 3 conversation d1)"

# a route added on node 1: listed and used on node 3
out=$(njctl 1 route add r1 recipient=carol channel=sms sink=webhook \
    target=http://127.0.0.1:9/r1) || cl_fail "route add: $out"
routed3() { njctl 3 routes | jq -e 'map(select(.id == "r1" and .source == "added")) | length == 1' >/dev/null; }
wait_for "r1 on node 3" routed3 || cl_fail "r1 not on node 3: $(njctl 3 routes)"
out=$(njctl 3 resolve carol --channel sms)
echo "$out" | jq -e '.route == "r1" and .target == "http://127.0.0.1:9/r1"' \
    >/dev/null || cl_fail "resolve on n3: $out"

# a node started afterwards has both from the start
cl_start 4
listed 4 || cl_fail "d1 not listed on node 4 at start"
njctl 4 routes | jq -e 'map(.id) | index("r1") != null' >/dev/null ||
	cl_fail "r1 not on node 4 at start"
[ "$(njctl 4 members | jq -r '.[] | select(.id == "d1") | .state')" != "" ] ||
	cl_fail "d1 on node 4: $(njctl 4 members)"

# retire on node 2: gone everywhere, its lease ended
out=$(njctl 2 retire d1) || cl_fail "retire: $out"
for n in 1 2 3 4; do
	g() { unlisted $n; }
	wait_for "d1 gone from node $n" g || cl_fail "d1 still on node $n"
done
[ "$(psql_q "select count(*) from mobkit.roster")" = 0 ] ||
	cl_fail "roster row left"
untaken() { [ -z "$(psql_q "select node_id from mobkit.members where member = 'd1'")" ]; }
wait_for "d1's lease let go" untaken || cl_fail "d1 still held: $(owner_of d1)"
for n in 1 2 3 4; do
	if grep -q 'd1.*cannot add it here' "$T/n$n.log"; then
		cl_fail "node $n refused d1"
	fi
done

# a reload adds a member (to node 1's INI only: pinned there) and takes
# nothing the node runs again
before=$(fences)
printf '\n[member m3]\nprofile = p\nnode = n1\n' >>"$T/body.ini"
cl_config 1
cl_signal 1 HUP
reloaded() { grep -q 'reloaded: 1 added' "$T/n1.log"; }
wait_for "node 1 reloaded" reloaded
m3taken() { [ "$(owner_of m3)" = n1 ]; }
wait_for "m3 taken" m3taken
[ "$(fences)" = "$before" ] || cl_fail "reload: m1, m2 moved: $before -> $(fences)"

# a route removed on node 3: gone from node 1
out=$(njctl 3 route rm r1) || cl_fail "route rm: $out"
unrouted1() { ! njctl 1 routes | jq -e 'map(.id) | index("r1") != null' >/dev/null; }
wait_for "r1 gone from node 1" unrouted1 || cl_fail "r1 still on node 1"
out=$(nctl 1 resolve carol --channel sms 2>&1) && cl_fail "resolve on n1: $out"
echo "$out" | grep -q 'no route matches' || cl_fail "resolve on n1: $out"
exit 0
