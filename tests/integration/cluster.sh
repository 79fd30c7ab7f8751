# cluster.sh: several mobkitd nodes on one real PostgreSQL, sourced after
# lib.sh and pg.sh (which starts nothing by itself).
#
#   cl_setup BODY_FILE [LEASE_MS]  start PostgreSQL; each node's config is
#                                  the [mobkitd] section below, then BODY_FILE
#   cl_start N [ARGS]              start node N (node_id nN, socket $T/nN.sock,
#                                  log $T/nN.log); its pid in $T/nN.pid
#   cl_pid N                       that pid
#   cl_signal N SIG                kill -SIG node N
#   nctl N ... / njctl N ...       mobkitctl (--json) on node N
#   owner_of MEMBER                the node_id running MEMBER now, from the
#                                  database as `cluster` shows it ("" if none)
#   cl_healthy N MEMBER            MEMBER healthy on node N (node N runs it)
#   cl_held NODE_ID                how many members NODE_ID holds (live lease)
#   cl_sender NAME NODES MEMBERS   keyed sends until $T/stop exists (run it
#                                  in the background): key NAME-I, text
#                                  "t NAME-I", to each member of the list
#                                  MEMBERS in turn, through the nodes of the
#                                  list NODES in turn; a line an answer in
#                                  $T/acks.NAME: KEY MEMBER NODE OUTCOME
#                                  INPUT_ID RC
#   cl_echo_body MEMBERS           write $T/body.ini: profile p (echo) and
#                                  each of MEMBERS (a list) a member of it
#   cl_spread K NODES              each node of the list NODES holds K
#   cl_all_healthy                 each member of $MS healthy on its owner
#   cl_acks N                      at least N answers "accepted" so far
#   cl_check_consumed N            through node N, each member's conversation
#                                  holds every input answered "accepted" in
#                                  $T/acks.* exactly once as a user message,
#                                  none answered "rejected", no input or text
#                                  twice, and its "echo (turn K)" numbers are
#                                  1..k in order (waits for the last ones)
#
# fail (lib.sh's) prints the last lines of every node's log.
# Everything is stopped when the test exits: the test's background jobs
# (senders), the nodes (TERM, then KILL), PostgreSQL, then lib.sh's
# cleanup; a sanitizer report in any node's log fails the test.
LEASE_MS=3000

cl_setup() {
	CL_BODY=$1
	[ $# -ge 2 ] && LEASE_MS=$2
	pg_start
}

cl_config() {
	n=$1
	{
		cat <<EOT
[mobkitd]
control_socket = $T/n$n.sock
start_timeout_ms = 10000
stop_timeout_ms = 3000
store = $PGURI
node_id = n$n
lease_ms = $LEASE_MS

EOT
		cat "$CL_BODY"
	} >"$T/n$n.ini"
}

cl_start() {
	n=$1
	shift
	cl_config "$n"
	"$BIN/mobkitd" -c "$T/n$n.ini" "$@" >>"$T/n$n.log" 2>&1 &
	echo $! >"$T/n$n.pid"
	wait_for "node n$n's control socket" test -S "$T/n$n.sock"
}

cl_pid() { cat "$T/n$1.pid"; }
cl_signal() { kill -"$2" "$(cl_pid "$1")"; }
nctl() { n=$1; shift; "$BIN/mobkitctl" -s "$T/n$n.sock" "$@"; }
njctl() { n=$1; shift; "$BIN/mobkitctl" -s "$T/n$n.sock" --json "$@"; }

owner_of() {
	psql_q "SELECT m.node_id FROM mobkit.members m JOIN mobkit.nodes n
	    ON n.node_id = m.node_id WHERE m.member = '$1'
	    AND n.lease_until > now()"
}

cl_healthy() {
	[ "$(njctl "$1" status "$2" | jq -r '.children[0].state')" = healthy ]
}

# the last lines of every node's log, for a failure
cl_logs() {
	for f in "$T"/n*.log; do
		[ -f "$f" ] || continue
		echo "--- last lines of $(basename "$f"):"
		tail -n 25 "$f"
	done
}

cl_fail() {
	echo "FAIL: $*"
	cl_logs
	exit 1
}

fail() { cl_fail "$@"; }

cl_held() {
	psql_q "SELECT count(*) FROM mobkit.members m JOIN mobkit.nodes n
	    ON n.node_id = m.node_id WHERE m.node_id = '$1'
	    AND n.lease_until > now()"
}

cl_sender() {
	local name=$1 i=0 node member out rc
	local -a nodes members
	read -ra nodes <<<"$2"
	read -ra members <<<"$3"
	while [ ! -e "$T/stop" ]; do
		member=${members[$((i % ${#members[@]}))]}
		node=${nodes[$((i / ${#members[@]} % ${#nodes[@]}))]}
		# a node stopped (SIGSTOP) or dead must not hold the loop
		out=$(timeout 10 "$BIN/mobkitctl" -s "$T/n$node.sock" --json \
		    send "$member" "t $name-$i" --key "$name-$i" 2>&1)
		rc=$?
		printf '%s %s %s %s %s %s\n' "$name-$i" "$member" "$node" \
		    "$(echo "$out" | jq -r .outcome 2>/dev/null || echo error)" \
		    "$(echo "$out" | jq -r '.input_id // "-"' 2>/dev/null || echo -)" \
		    "$rc" >>"$T/acks.$name"
		i=$((i + 1))
	done
}

cl_acks() {
	[ "$(cat "$T"/acks.* 2>/dev/null | awk '$4 == "accepted"' | wc -l)" -ge "$1" ]
}

# cl_conv_problems N MEMBER: what is wrong with MEMBER's conversation as
# node N shows it, against $T/acks.* (nothing: all is well)
cl_conv_problems() {
	local acked others
	acked=$(cat "$T"/acks.* | awk -v m="$2" '$2 == m && $4 == "accepted" { print $5 }')
	others=$(cat "$T"/acks.* | awk -v m="$2" '$2 == m && $4 == "rejected" { print "t " $1 }')
	njctl "$1" conversation "$2" | jq -r --arg acked "$acked" \
	    --arg others "$others" '
	    ($acked | split("\n") | map(select(length > 0))) as $a
	    | ($others | split("\n") | map(select(length > 0))) as $o
	    | [.[] | select(.role == "user")] as $u
	    | [.[] | select(.role == "assistant") | .content
	       | (capture("^echo \\(turn (?<n>[0-9]+)\\)").n // "?")] as $t
	    | ($u | map(.input_id)) as $ids
	    | ($a - $ids | map("acknowledged " + . + " not consumed"))[],
	      ($ids | group_by(.)[] | select(length > 1)
	       | "input " + .[0] + " consumed \(length) times"),
	      ($u | map(.content) | group_by(.)[] | select(length > 1)
	       | "text \"" + .[0] + "\" consumed \(length) times"),
	      ($u | map(select(.content as $c | any($o[]; . == $c)))
	       | .[] | "\"" + .content + "\" consumed, not acknowledged"),
	      (if $t != [range(1; ($u | length) + 1) | tostring]
	       then "turns \($t | join(",")) for \($u | length) user messages"
	       else empty end)'
}

cl_check_consumed() {
	local m p end
	for m in $(cat "$T"/acks.* | awk '{ print $2 }' | sort -u); do
		end=$(( $(date +%s) + TIMEOUT ))
		while p=$(cl_conv_problems "$1" "$m" 2>&1); [ -n "$p" ]; do
			[ "$(date +%s)" -lt "$end" ] ||
				fail "$m's conversation through n$1:
$p"
			sleep 0.2
		done
	done
}

cl_on_exit() {
	rc=$?
	# the test's own background jobs (senders) first
	touch "$T/stop"
	for p in $(jobs -p); do
		kill "$p" 2>/dev/null
	done
	for f in "$T"/n*.pid; do
		[ -f "$f" ] || continue
		p=$(cat "$f")
		kill -CONT "$p" 2>/dev/null
		kill -TERM "$p" 2>/dev/null
	done
	for f in "$T"/n*.pid; do
		[ -f "$f" ] || continue
		p=$(cat "$f")
		i=0
		while kill -0 "$p" 2>/dev/null && [ $i -lt 300 ]; do
			sleep 0.05
			i=$((i + 1))
		done
		kill -KILL "$p" 2>/dev/null
	done
	for f in "$T"/n*.log; do
		[ -f "$f" ] || continue
		if grep -Eq "ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:" "$f"; then
			echo "FAIL: sanitizer report in $(basename "$f"):"
			grep -E -A 12 "ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:" \
			    "$f" | head -40
			rc=1
		fi
	done
	(exit $rc)
	pg_on_exit
}
trap cl_on_exit EXIT

cl_echo_body() {
	printf '[profile p]\nprovider = echo\n' >"$T/body.ini"
	for m in $1; do
		printf '[member %s]\nprofile = p\n' "$m" >>"$T/body.ini"
	done
}

cl_spread() {
	for i in $2; do
		[ "$(cl_held "n$i")" = "$1" ] || return 1
	done
}

cl_all_healthy() {
	for m in $MS; do
		o=$(owner_of "$m")
		[ -n "$o" ] && cl_healthy "${o#n}" "$m" || return 1
	done
}
