# The cluster as the verbs show it, from every node of three: cluster
# (JSON shape, the same on every node, a table for people), status and
# members (every member's node_id, "remote" where another node runs it),
# conversation, inputs and usage of a member read on any node equal to
# its owner's, reset of a remote member refused naming its node, a pin
# ([member] node = n2) honoured, and -t's FILE:LINE errors for node_id
# and lease_ms.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/pg.sh"
. "$(dirname "$0")/cluster.sh"
printf '[profile p]\nprovider = echo\n' >"$T/body.ini"
MS="m1 m2 m3 m4 m5 pin"
for m in m1 m2 m3 m4 m5; do printf '[member %s]\nprofile = p\n' "$m" >>"$T/body.ini"; done
printf '[member pin]\nprofile = p\nnode = n2\n' >>"$T/body.ini"
cl_setup "$T/body.ini" 3000

# -t: node_id and lease_ms checked with their FILE:LINE
cl_config 1
sed -i 's/^node_id = .*/node_id = bad id!/; s/^lease_ms = .*/lease_ms = 10/' "$T/n1.ini"
out=$("$BIN/mobkitd" -t -c "$T/n1.ini" 2>&1) && fail "-t accepted node_id \"bad id!\" and lease_ms 10"
l=$(grep -n '^node_id' "$T/n1.ini" | cut -d: -f1)
echo "$out" | grep -q "^$T/n1.ini:$l: node_id: \"bad id!\" is not 1 to 63 letters" ||
	fail "-t on node_id = bad id!: $out"
l=$(grep -n '^lease_ms' "$T/n1.ini" | cut -d: -f1)
echo "$out" | grep -q "^$T/n1.ini:$l: lease_ms: 10 is out of range" ||
	fail "-t on lease_ms = 10: $out"
sed -i 's/^lease_ms = .*/lease_ms = soon/' "$T/n1.ini"
out=$("$BIN/mobkitd" -t -c "$T/n1.ini" 2>&1) && fail "-t accepted lease_ms = soon"
echo "$out" | grep -q "^$T/n1.ini:$l: lease_ms: bad value \"soon\"" || fail "-t on lease_ms = soon: $out"
# placement: spread, the only one
sed -i 's/^lease_ms = .*/lease_ms = 3000\nplacement = random/' "$T/n1.ini"
out=$("$BIN/mobkitd" -t -c "$T/n1.ini" 2>&1) && fail "-t accepted placement = random"
l=$(grep -n '^placement' "$T/n1.ini" | cut -d: -f1)
echo "$out" | grep -q "^$T/n1.ini:$l: .*placement.*random" || fail "-t on placement = random: $out"
cl_config 1
out=$("$BIN/mobkitd" -t -c "$T/n1.ini" 2>&1) || fail "-t refused a good cluster config: $out"
sed 's/^lease_ms = .*/&\nplacement = spread/' "$T/n1.ini" >"$T/spread.ini"
grep -q '^placement = spread$' "$T/spread.ini" || fail "no placement line: $(cat "$T/spread.ini")"
out=$("$BIN/mobkitd" -t -c "$T/spread.ini" 2>&1) || fail "-t refused placement = spread: $out"

cl_start 1; cl_start 2; cl_start 3
# (the spread counts the unpinned members: 2, 2 and 1 beside the pin)
spread() { for i in 1 2 3; do [ "$(cl_held n$i)" -ge 1 ] || return 1; done; }
wait_for "members on each node" spread
wait_for "every member healthy on its node" cl_all_healthy
[ "$(owner_of pin)" = n2 ] || fail "pin runs on $(owner_of pin), not n2"

# cluster: its shape, and the same placement from every node
for i in 1 2 3; do
	njctl $i cluster >"$T/cl.$i" || fail "cluster on n$i: $(cat "$T/cl.$i")"
	jq -e --argjson lease "$LEASE_MS" '
	    (keys == ["members", "nodes"])
	    and (.nodes | length == 3)
	    and all(.nodes[]; (keys == ["alive", "last_seen_ms", "members", "node_id"])
	        and .alive == true and (.last_seen_ms | type == "number")
	        and .last_seen_ms >= 0 and .members >= 1)
	    and ([.nodes[].node_id] | sort) == ["n1", "n2", "n3"]
	    and (.members | length == 6)
	    and all(.members[]; (keys == ["id", "lease_expires_in_ms", "node_id"])
	        and (.node_id | type == "string")
	        and .lease_expires_in_ms > 0 and .lease_expires_in_ms <= $lease)
	    and ([.members[].id] | sort) == ["m1", "m2", "m3", "m4", "m5", "pin"]
	    and ([.members[] | select(.id == "pin")][0].node_id == "n2")
	    and (. as $c | all($c.nodes[]; . as $n | $n.members ==
	        ([$c.members[] | select(.node_id == $n.node_id)] | length)))' \
	    "$T/cl.$i" >/dev/null || fail "cluster on n$i: $(cat "$T/cl.$i")"
done
placement() { jq -c '[.members[] | [.id, .node_id]] | sort' "$1"; }
[ "$(placement "$T/cl.1")" = "$(placement "$T/cl.2")" ] &&
    [ "$(placement "$T/cl.1")" = "$(placement "$T/cl.3")" ] ||
	fail "cluster differs between nodes: $(cat "$T"/cl.?)"

# status and members: every member's node, remote where another runs it
# (another node learns the owner at its next beat: polled)
seen_ok() {
	local o want
	o=$(owner_of "$2")
	if [ "$o" = "n$1" ]; then want=healthy; else want=remote; fi
	njctl "$1" status "$2" >"$T/seen" &&
	    jq -e --arg o "$o" --arg s "$want" \
	    '.children[0] | .node_id == $o and .state == $s' "$T/seen" &&
	    njctl "$1" members >"$T/seen" &&
	    jq -e --arg m "$2" --arg o "$o" --arg s "$want" \
	    '.[] | select(.id == $m) | .node_id == $o and .state == $s' "$T/seen"
}
for i in 1 2 3; do
	for m in $MS; do
		end=$(( $(date +%s) + 10 ))
		until seen_ok $i "$m" >/dev/null 2>&1; do
			[ "$(date +%s)" -lt "$end" ] ||
				fail "$m (owner $(owner_of "$m")) on n$i: $(cat "$T/seen")"
			sleep 0.1
		done
	done
done

# a few turns of m1, sent through every node
o=$(owner_of m1)
o=${o#n}
for i in 1 2 3; do
	out=$(njctl $i send m1 "via n$i" --wait --key "via-$i") || fail "send via n$i: $out"
done
# conversation, inputs and usage of m1 the same on every node as on its owner
same() {
	local a
	a=$(njctl "$o" "$@") || return 1
	for i in 1 2 3; do
		[ "$(njctl $i "$@")" = "$a" ] || return 1
	done
}
wait_for "m1's conversation the same on every node" same conversation m1
wait_for "m1's inputs the same on every node" same inputs m1
wait_for "m1's usage the same on every node" same usage m1
njctl "$o" conversation m1 | jq -e '[.[] | select(.role == "assistant") | .content] ==
    ["echo (turn 1): via n1", "echo (turn 2): via n2", "echo (turn 3): via n3"]' >/dev/null ||
	fail "m1's conversation: $(njctl "$o" conversation m1)"
njctl "$o" inputs m1 | jq -e '[.[] | select(.state == "consumed") | .key] == ["via-1", "via-2", "via-3"]' >/dev/null ||
	fail "m1's inputs: $(njctl "$o" inputs m1)"
njctl "$o" usage m1 | jq -e '.[0].id == "m1" and .[0].turns == 3' >/dev/null ||
	fail "m1's usage: $(njctl "$o" usage m1)"
# usage of every member: the same on every node, m1's counts among them
wait_for "every member's usage the same on every node" same usage
njctl 1 usage | jq -e 'map(select(.id == "m1"))[0].turns == 3 and length >= 6' >/dev/null ||
	fail "usage on n1: $(njctl 1 usage)"

# reset of a remote member: refused, naming the node that runs it
r=$(( o % 3 + 1 ))
out=$(nctl $r reset m1 2>&1) && fail "reset of m1 (on n$o) through n$r: $out"
echo "$out" | grep -q "n$o" || fail "reset of a remote member does not name n$o: $out"
njctl "$o" conversation m1 | jq -e 'length == 6' >/dev/null ||
	fail "a refused reset changed m1's conversation: $(njctl "$o" conversation m1)"

# for people: a table of the nodes, then one of the members
out=$(NO_COLOR=1 nctl 1 cluster) || fail "cluster: $out"
echo "$out" | grep -Eq '^NODE +ALIVE +LAST_SEEN_MS +MEMBERS *$' || fail "cluster's node table: $out"
for i in 1 2 3; do
	echo "$out" | grep -Eq "^n$i +yes +[0-9]+ +$(cl_held n$i) *\$" || fail "cluster's row of n$i: $out"
done
echo "$out" | grep -Eq '^MEMBER +NODE +LEASE_EXPIRES_IN_MS *$' || fail "cluster's member table: $out"
for m in $MS; do
	echo "$out" | grep -Eq "^$m +$(owner_of "$m") +[0-9]+ *\$" || fail "cluster's row of $m: $out"
done
out=$(NO_COLOR=1 nctl 1 members) || fail "members: $out"
echo "$out" | head -1 | grep -q 'NODE' || fail "members without a NODE column: $out"
echo "$out" | grep -Eq "^pin +p +remote .* n2 *\$" || fail "members' row of pin: $out"
echo "ok"
