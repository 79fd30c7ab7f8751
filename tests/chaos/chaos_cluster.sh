#!/bin/bash
# chaos_cluster.sh: the "nothing lost" promise of a cluster under chaos.
#
# Three nodes on one real PostgreSQL (lease_ms 3000), MEMBERS echo
# members, keyed load from clload sent through nodes picked at random
# (a send whose node died unanswered is sent again, same key, through
# another).  For CHAOS_SECONDS (default 60), every 2 to 5 s a random node
# is killed with -9 and started again a moment later, or (one time in
# four) stopped with SIGSTOP for 1 to 5 s and continued.  Then the load
# stops and it asserts what a user relies on:
#   - every input acknowledged (accepted, or deduplicated: the id of the
#     one that holds its key) is in its member's conversation exactly
#     once as a user message (0 lost, 0 twice); no key's text is there
#     twice; the database holds no key twice;
#   - each member's echo turn numbers are 1..N, in order, none missing
#     or repeated (no turn lost or run twice under a fence);
#   - every node is alive and every member healthy on the node that
#     holds it.
# Prints its figures; exits 1 on any broken promise (CHAOS_KEEP=DIR: its
# directory, logs and conversations, copied there on a failure).
. "$(dirname "$0")/../integration/lib.sh"
. "$(dirname "$0")/../integration/pg.sh"
. "$(dirname "$0")/../integration/cluster.sh"
DUR=${CHAOS_SECONDS:-60}
MEMBERS=${CHAOS_MEMBERS:-9}
TIMEOUT=120

{
	cat <<EOT
drain_timeout_ms = 2000

[profile echo]
provider = echo
max_attempts = 1000
mailbox_capacity = 1000000
restart_backoff_ms = 0
restart_backoff_max_ms = 50
max_restarts = 1000000
restart_window_ms = 1000
EOT
	for i in $(seq 0 $((MEMBERS - 1))); do
		printf '[member m%d]\nprofile = echo\n' "$i"
	done
} >"$T/body.ini"
# the body follows [mobkitd]: drain_timeout_ms belongs there
cl_setup "$T/body.ini" 3000
cl_start 1; cl_start 2; cl_start 3

# every node alive, every member held by a live node and healthy there
all_well() {
	c=$(njctl 1 cluster) || return 1
	[ "$(echo "$c" | jq '[.nodes[] | select(.alive)] | length')" = 3 ] ||
		return 1
	echo "$c" | jq -r '.members[] | "\(.id) \(.node_id)"' >"$T/owners"
	[ "$(wc -l <"$T/owners")" = "$MEMBERS" ] || return 1
	while read -r m n; do
		case $n in
		n1|n2|n3) cl_healthy "${n#n}" "$m" || return 1 ;;
		*) return 1 ;;
		esac
	done <"$T/owners"
}
drained() {
	[ "$(psql_q 'SELECT count(*) FROM mobkit.inputs WHERE fin IS NULL')" = 0 ]
}
wait_for "every member healthy on some node" all_well

"$TB/clload" "$DUR" "$MEMBERS" "$T/answers" "$T/n1.sock" "$T/n2.sock" \
    "$T/n3.sock" >"$T/load.out" 2>&1 &
LPID=$!
kills=0
stops=0
chaos_end=$(( $(date +%s) + DUR ))
while [ "$(date +%s)" -lt "$chaos_end" ]; do
	sleep "$((2 + RANDOM % 3)).$((RANDOM % 10))"
	n=$((1 + RANDOM % 3))
	if [ $((RANDOM % 4)) = 0 ]; then
		cl_signal "$n" STOP
		sleep "$((1 + RANDOM % 5)).$((RANDOM % 10))"
		cl_signal "$n" CONT
		stops=$((stops + 1))
		echo "$(date +%T) stopped and continued n$n" >>"$T/chaos.log"
	else
		p=$(cl_pid "$n")
		kill -9 "$p"
		wait "$p" 2>/dev/null
		kills=$((kills + 1))
		sleep "0.$((RANDOM % 10))"
		rm -f "$T/n$n.sock"
		cl_start "$n"
		echo "$(date +%T) killed and restarted n$n" >>"$T/chaos.log"
	fi
done
wait "$LPID"
echo "load: $(cat "$T/load.out")"
wait_for "every node alive, every member healthy on some node" all_well
wait_for "every input finished" drained

# the conversations, as a user reads them (from any node)
for i in $(seq 0 $((MEMBERS - 1))); do
	njctl $((1 + i % 3)) conversation "m$i" >"$T/conv.m$i" ||
		cl_fail "conversation m$i"
done
psql_q "SELECT count(*) FROM (SELECT member, key FROM mobkit.inputs
    WHERE key IS NOT NULL GROUP BY member, key HAVING count(*) > 1) d" \
    >"$T/keys_twice"

python3 - "$T" "$MEMBERS" "$kills" "$stops" <<'EOF' ||
import json, re, sys
t, members, kills, stops = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
acked = {}
answers = 0
for line in open(t + "/answers"):
    k, m, outcome, iid = line.split()
    answers += 1
    if outcome in ("accepted", "deduplicated"):
        acked.setdefault(iid, set()).add(k)
ids, texts, bad_turns = {}, {}, []
for i in range(members):
    turns = []
    for msg in json.load(open("%s/conv.m%d" % (t, i))):
        if msg["role"] == "user":
            ids[msg["input_id"]] = ids.get(msg["input_id"], 0) + 1
            texts[msg["content"]] = texts.get(msg["content"], 0) + 1
        elif msg["role"] == "assistant":
            r = re.match(r"echo \(turn (\d+)\)", msg["content"] or "")
            if r:
                turns.append(int(r.group(1)))
    if turns != list(range(1, len(turns) + 1)):
        bad_turns.append("m%d" % i)
lost = [i for i in acked if i not in ids]
twice_ids = [i for i, n in ids.items() if n > 1]
twice_texts = [x for x, n in texts.items() if n > 1]
twice = twice_ids + [x for x in twice_texts]
keys_twice = int(open(t + "/keys_twice").read().strip() or 0)
print("chaos-cluster: %s kills, %s stops; %d answers, %d acknowledged, "
      "%d consumed, lost=%d, twice=%d (input ids %d, texts %d), "
      "keys twice in the store=%d, members with a gap in their turns=%d"
      % (kills, stops, answers, len(acked), len(ids), len(lost),
         len(twice), len(twice_ids), len(twice_texts), keys_twice,
         len(bad_turns)))
if lost:
    print("lost, e.g.:", sorted(lost)[:5])
if twice_ids:
    print("input ids twice, e.g.:", sorted(twice_ids)[:5])
if twice_texts:
    print("texts twice, e.g.:", sorted(twice_texts)[:5])
if bad_turns:
    print("turns not 1..N in:", bad_turns)
sys.exit(1 if lost or twice_ids or twice_texts or keys_twice or bad_turns or not acked else 0)
EOF
	{ [ -z "${CHAOS_KEEP:-}" ] || cp -r "$T" "$CHAOS_KEEP"
	  cl_fail "inputs lost or consumed twice"; }
echo "chaos-cluster: 1 passed, 0 failed"
