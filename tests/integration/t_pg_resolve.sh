# store = postgresql://mobkit@localhost:PORT/mobkit: the host name is
# looked up once, at start.  The server kills mobkitd's connections three
# times; mobkitd reconnects each time (over TCP, to 127.0.0.1) and sends
# are accepted again, and strace, attached to mobkitd after its start,
# sees the reconnections (connect to the port) and no name look-up at all
# (no /etc/hosts, resolv.conf, nsswitch.conf, nscd, DNS socket).  The
# same with several hosts (a Unix socket without a server, localhost on
# a closed port, a numeric address).  A host name that does not resolve
# does not stop the start: it is kept, said once, and looked up again by
# each reconnection (which strace sees: the check above can fail).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/pg.sh"
command -v strace >/dev/null || fail "no strace (apt-get install -y strace)"
pg_start
pg_stop

# the same cluster on its Unix socket and on a loopback TCP port
PORT=
for try in 1 2 3 4 5 6; do
	p=$((20000 + ($$ * 7 + try * 977) % 30000))
	if as_pg "$PGBIN/pg_ctl" -D "$PGDIR/data" -l "$PGDIR/server.log" -w \
	    -t 30 -o "-k $PGDIR -c listen_addresses=127.0.0.1 -p $p -c fsync=on" \
	    start >>"$PGDIR/ctl.log" 2>&1; then
		PORT=$p
		break
	fi
done
[ -n "$PORT" ] || fail "PostgreSQL did not start on a TCP port: $(tail -5 "$PGDIR/server.log")"
pq() { as_pg "$PGBIN/psql" -X -q -At -h 127.0.0.1 -p "$PORT" -U mobkit -d mobkit -c "$1"; }
[ "$(pq 'SELECT 1')" = 1 ] || fail "psql over TCP on port $PORT"
MINE="application_name LIKE 'mobkitd%'"

config() {
	{ header; cat <<EOT
store = $1

[profile p]
provider = echo

[member m1]
profile = p
EOT
	} >"$CFG"
}

# strace_on: strace attached to every thread of mobkitd (its children,
# the workers, are not followed), its output in $T/strace.out
SPID=
strace_on() {
	: >"$T/strace.err"
	set --
	for t in /proc/"$DPID"/task/*; do
		set -- "$@" -p "${t##*/}"
	done
	strace -e trace=connect,openat,open -o "$T/strace.out" "$@" \
	    2>"$T/strace.err" &
	SPID=$!
	ntasks=$(($# / 2))
	attached() { [ "$(grep -c 'attached$' "$T/strace.err")" -ge "$ntasks" ]; }
	wait_for "strace attached to mobkitd ($ntasks threads)" attached
}
strace_off() {
	kill -TERM "$SPID"
	wait "$SPID" 2>/dev/null
	SPID=
}

# cut N: the server ends mobkitd's connections; mobkitd reconnects (its
# Nth "connected again"), over TCP, and a send is accepted again
reconnected() { [ "$(grep -c 'connected again' "$T/daemon.log")" -ge "$1" ]; }
accepted() { jctl send m1 "after cut $1" | jq -e '.outcome == "accepted"'; }
cut() {
	n=$(pq "SELECT count(*) FROM pg_stat_activity WHERE $MINE")
	[ "$n" -ge 1 ] || fail "cut $1: no connection of mobkitd's to end"
	pq "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE $MINE" >/dev/null
	wait_for "reconnection $1" reconnected "$1"
	wait_for "a send accepted after cut $1" accepted "$1"
	addr=$(pq "SELECT string_agg(DISTINCT host(client_addr), ' ') FROM pg_stat_activity WHERE $MINE")
	[ "$addr" = 127.0.0.1 ] || fail "cut $1: mobkitd reconnected from '$addr', not over TCP from 127.0.0.1"
}

# run URI: mobkitd on it, healthy and accepting; strace on; three cuts
run() {
	config "$1"
	start_daemon
	wait_for "m1 healthy" is_state m1 healthy
	wait_for "a first send accepted" accepted 0
	strace_on
	for c in 1 2 3; do
		cut $c
	done
	strace_off
	n=$(grep -c "htons($PORT)" "$T/strace.out")
	[ "$n" -ge 3 ] || fail "strace saw $n connections to port $PORT, not the 3 reconnections: $(cat "$T/strace.out" "$T/strace.err")"
}
LOOKUP='/etc/hosts|/etc/resolv.conf|/etc/nsswitch.conf|/etc/host.conf|/etc/gai.conf|nscd|htons\(53\)'

stop() {
	kill -TERM "$DPID"
	wait_for "mobkitd to stop" dead "$DPID"
	wait "$DPID" 2>/dev/null
	DPID=
	rm -f "$SOCK"
	# (the next start writes a new log: a sanitizer's report is read now)
	! grep -Eq "ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:" \
	    "$T/daemon.log" || fail "a sanitizer report (the log below)"
}

# the task's URI: localhost is 127.0.0.1 in /etc/hosts
run "postgresql://mobkit@localhost:$PORT/mobkit"
grep -E "$LOOKUP" "$T/strace.out" &&
	fail "a name looked up after the start (above), during the reconnections"
grep -q "kept as a name" "$T/daemon.log" && fail "localhost said unresolved: $(grep 'kept as a name' "$T/daemon.log")"
stop

# several hosts: a Unix socket directory without a server, localhost on a
# closed port (1), 127.0.0.1: each reconnection tries them in order
mkdir "$T/nosock"
run "postgresql://mobkit@/mobkit?host=$T/nosock,localhost,127.0.0.1&port=$PORT,1,$PORT"
grep -E "$LOOKUP" "$T/strace.out" &&
	fail "several hosts: a name looked up during the reconnections (above)"
grep -q 'htons(1), sin_addr=inet_addr("127.0.0.1")' "$T/strace.out" ||
	fail "several hosts: localhost (port 1) not tried by its address: $(cat "$T/strace.out")"
grep -q "$T/nosock/.s.PGSQL.$PORT" "$T/strace.out" ||
	fail "several hosts: the Unix socket not tried: $(cat "$T/strace.out")"
stop

# a name that does not resolve: the start goes on (localhost answers), it
# is said once, and each reconnection looks it up again
run "postgresql://mobkit@nonexistent.invalid,localhost:$PORT/mobkit"
n=$(grep -c "host nonexistent.invalid: .*kept as a name" "$T/daemon.log")
[ "$n" = 1 ] || fail "the unresolved name said $n times, not once"
grep -Eq "$LOOKUP" "$T/strace.out" ||
	fail "strace saw no look-up of the unresolved name: $(cat "$T/strace.out")"
stop
echo "reconnected over 127.0.0.1:$PORT, no look-up after the start" >&2
