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
#
# Everything is stopped when the test exits: the nodes (TERM, then KILL),
# PostgreSQL, then lib.sh's cleanup; a sanitizer report in any node's log
# fails the test.
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

cl_on_exit() {
	rc=$?
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
