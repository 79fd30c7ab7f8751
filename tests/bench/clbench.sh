#!/bin/bash
# clbench.sh: the cluster's figures, each beside a baseline of the same run.
#
# Throughput: keyed inputs per second, send to consumed (clbench: 16
# connections per node, one send in flight each, MEMBERS echo members),
# through a 3-node cluster on one PostgreSQL, beside one node on the
# SQLite store (state_dir) with the same members and load; the median of
# RUNS runs of INPUTS inputs each.
# Failover: KILLS times, a node that runs a member is killed with -9 and
# at once an input is sent to that member through another node; the time
# from the kill to that input consumed on the node that adopted the
# member (its fin in the database).  The killed node is started again
# between kills.  Median and p99 beside the goal, lease_ms + 1000.
# BENCH_CL_MEMBERS (30), BENCH_CL_INPUTS (5000), BENCH_CL_RUNS (3) and
# BENCH_CL_KILLS (20) change the sizes; about 1.5 minutes as they are.
. "$(dirname "$0")/../integration/lib.sh"
. "$(dirname "$0")/../integration/pg.sh"
. "$(dirname "$0")/../integration/cluster.sh"
MEMBERS=${BENCH_CL_MEMBERS:-30}
INPUTS=${BENCH_CL_INPUTS:-5000}
RUNS=${BENCH_CL_RUNS:-3}
KILLS=${BENCH_CL_KILLS:-20}
LEASE=3000
TIMEOUT=60

members() {
	printf '[profile p]\nprovider = echo\nmailbox_capacity = 100000\n'
	for i in $(seq 0 $((MEMBERS - 1))); do
		printf '[member m%d]\nprofile = p\n' "$i"
	done
}
# median RUNS: the middle of the figures on stdin
median() { sort -n | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}'; }
# pct P: the P-th percentile (0..1) of the figures on stdin, as pct()
pct() { sort -n | awk -v p="$1" '{v[NR] = $1} END {print v[int(p * (NR - 1) + 0.5) + 1]}'; }

echo "cluster benchmarks: $MEMBERS echo members, keyed sends, 16" \
    "connections per node with one send in flight each, $INPUTS inputs" \
    "per run, median of $RUNS runs"

# the baseline: one node, SQLite
{ header; echo "state_dir = $T/state"; echo "log_level = error"; members; } >"$CFG"
start_daemon
all_up() {
	[ "$(jctl members | jq '[.[] | select(.state == "healthy")] | length')" = "$MEMBERS" ]
}
wait_for "every member healthy" all_up
for _ in $(seq 1 "$RUNS"); do
	"$TB/clbench" "$INPUTS" "$MEMBERS" "$SOCK" || fail "clbench (SQLite)"
done >"$T/sqlite.rates"
kill -TERM "$DPID"
wait "$DPID"
DPID=
sqlite=$(median <"$T/sqlite.rates")

# the cluster: 3 nodes, one PostgreSQL
{ echo "log_level = error"; members; } >"$T/body.ini"
cl_setup "$T/body.ini" "$LEASE"
cl_start 1; cl_start 2; cl_start 3
held() {
	[ "$(psql_q "SELECT count(*) FROM mobkit.members m
	    WHERE mobkit.alive(m.node_id)")" = "$MEMBERS" ]
}
held_all() {
	held && [ "$(psql_q 'SELECT count(*) FROM mobkit.nodes n
	    WHERE n.lease_until > now()')" = 3 ]
}
spread() {
	held && [ "$(psql_q 'SELECT count(DISTINCT node_id) FROM mobkit.members')" = 3 ]
}
all_healthy() {
	for n in 1 2 3; do
		njctl "$n" members | jq -r '.[] | select(.state == "healthy") | .id'
	done | sort -u | wc -l | grep -qx "$MEMBERS"
}
wait_for "members on all 3 nodes" spread
wait_for "every member healthy" all_healthy
for _ in $(seq 1 "$RUNS"); do
	"$TB/clbench" "$INPUTS" "$MEMBERS" "$T/n1.sock" "$T/n2.sock" \
	    "$T/n3.sock" || cl_fail "clbench (cluster)"
done >"$T/cluster.rates"
cl=$(median <"$T/cluster.rates")
echo "one node, SQLite (state_dir): $sqlite inputs/s (runs: $(tr '\n' ' ' <"$T/sqlite.rates"))"
echo "3 nodes, one PostgreSQL, sends through all 3: $cl inputs/s" \
    "(runs: $(tr '\n' ' ' <"$T/cluster.rates")), $(awk -v a="$cl" \
    -v b="$sqlite" 'BEGIN {printf "%.2f", a / b}')x the SQLite node"

# failover
consumed() { [ -n "$(psql_q "SELECT fin FROM mobkit.inputs WHERE id = '$1'")" ]; }
: >"$T/failover"
for k in $(seq 1 "$KILLS"); do
	m=m$((RANDOM % MEMBERS))
	v=$(owner_of "$m")
	[ -n "$v" ] || cl_fail "$m held by no live node"
	v=${v#n}
	o=$(( v % 3 + 1 ))
	p=$(cl_pid "$v")
	t0=$(date +%s%3N)
	kill -9 "$p"
	id=$(njctl "$o" send "$m" "failover $k" --key "f$k" | jq -r .input_id)
	[ -n "$id" ] && [ "$id" != null ] || cl_fail "send to $m through n$o"
	wait_for "$m's input consumed after n$v was killed" consumed "$id"
	fin=$(psql_q "SELECT fin FROM mobkit.inputs WHERE id = '$id'")
	[ "$(owner_of "$m")" != "n$v" ] || cl_fail "$m still on n$v"
	echo $((fin - t0)) >>"$T/failover"
	wait "$p" 2>/dev/null
	rm -f "$T/n$v.sock"
	cl_start "$v"
	wait_for "every node alive, every member held by one" held_all
done
echo "failover (lease_ms $LEASE, $KILLS kills of a node with -9): kill to" \
    "the adopted member's first input consumed on another node:" \
    "median $(median <"$T/failover") ms, p99 $(pct .99 <"$T/failover") ms" \
    "(goal: lease_ms + 1000 = $((LEASE + 1000)) ms)"
