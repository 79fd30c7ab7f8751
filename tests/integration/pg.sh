# pg.sh: a real PostgreSQL 15 for a test, sourced after lib.sh.
#
# pg_start makes a cluster in $T/pg (initdb, as the unprivileged user
# nobody: PostgreSQL refuses to run as root), listening only on a Unix
# socket in that directory, with a database "mobkit" owned by the role
# "mobkit" (trust: no password on the socket), and sets PGURI to its
# libpq URI.  pg_stop / pg_restart stop and start the same cluster;
# everything is stopped and removed when the test exits (lib.sh's cleanup
# removes $T; the server is stopped first).
PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}
PGDIR=$T/pg
PGURI=
PGUSER_OS=nobody

# as_pg CMD...: run a PostgreSQL program as the unprivileged user
as_pg() {
	setpriv --reuid="$PGUSER_OS" --regid="$(id -g "$PGUSER_OS")" \
	    --clear-groups env HOME="$PGDIR" "$@"
}

pg_stop() {
	as_pg "$PGBIN/pg_ctl" -D "$PGDIR/data" -m fast -w -t 30 stop \
	    >>"$PGDIR/ctl.log" 2>&1
}

pg_restart() {
	as_pg "$PGBIN/pg_ctl" -D "$PGDIR/data" -l "$PGDIR/server.log" -w \
	    -t 30 -o "-k $PGDIR -c listen_addresses= -c fsync=on" start \
	    >>"$PGDIR/ctl.log" 2>&1 || fail "PostgreSQL did not start: $(tail -5 "$PGDIR/server.log")"
}

# psql_q SQL: one query as the role mobkit, its values unaligned
psql_q() {
	as_pg "$PGBIN/psql" -X -q -At -h "$PGDIR" -U mobkit -d mobkit -c "$1"
}

pg_start() {
	[ -x "$PGBIN/initdb" ] || fail "no PostgreSQL 15 in $PGBIN (etc/deps.sh installs postgresql)"
	mkdir -p "$PGDIR"
	chown "$PGUSER_OS" "$PGDIR"
	as_pg "$PGBIN/initdb" -D "$PGDIR/data" -U mobkit --auth=trust \
	    -E UTF8 --locale=C.UTF-8 >"$PGDIR/initdb.log" 2>&1 ||
		fail "initdb failed: $(tail -5 "$PGDIR/initdb.log")"
	pg_restart
	as_pg "$PGBIN/createdb" -h "$PGDIR" -U mobkit mobkit ||
		fail "createdb failed"
	PGURI="postgresql://mobkit@/mobkit?host=$PGDIR"
}

# the server goes before lib.sh's cleanup removes its directory
pg_on_exit() {
	rc=$?
	if [ -n "$DPID" ] && kill -0 "$DPID" 2>/dev/null; then
		kill -TERM "$DPID" 2>/dev/null
		i=0
		while kill -0 "$DPID" 2>/dev/null && [ $i -lt 300 ]; do
			sleep 0.05
			i=$((i + 1))
		done
	fi
	if [ -f "$PGDIR/data/postmaster.pid" ]; then
		as_pg "$PGBIN/pg_ctl" -D "$PGDIR/data" -m immediate -w stop \
		    >/dev/null 2>&1
	fi
	(exit $rc)
	cleanup
}
trap pg_on_exit EXIT
