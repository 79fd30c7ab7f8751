# mobkitd as PID 1 of a new PID namespace (as in a container): mobkitctl
# status works against it; an orphan adopted by PID 1 is reaped (no
# zombie); a descendant that escaped with setsid is killed at shutdown;
# SIGTERM shuts down in order, exits 0, and nothing of the namespace is
# left.
. "$(dirname "$0")/lib.sh"
if ! unshare --pid --fork --mount-proc true 2>/dev/null; then
	echo "cannot create a PID namespace here (needs root)" >&2
	exit 1
fi
# the orphan lives until the test has seen it adopted
printf 'while [ ! -e %s/go ]; do sleep 0.05; done\n' "$T" >"$T/orphan.sh"
printf 'sleep 600\n' >"$T/escape.sh"
{ header; cat <<EOT
[module a]
command = /bin/sh
args = -c '(sh $T/orphan.sh &); (setsid sh $T/escape.sh &); exec sleep 600'
EOT
} >"$CFG"
unshare --pid --fork --mount-proc --kill-child "$BIN/mobkitd" -c "$CFG" >"$T/daemon.log" 2>&1 &
DPID=$!
wait_for "control socket" test -S "$SOCK"
wait_for "a healthy" is_state a healthy
[ "$(jctl status | jq .daemon.pid)" = 1 ] || fail "not PID 1: $(jctl status | jq .daemon.pid)"
ctl status >"$T/status.out" || fail "mobkitctl status exited $?"
grep -q "^a  *healthy" "$T/status.out" || grep -q "a .*healthy" "$T/status.out" ||
	fail "status: $(cat "$T/status.out")"
inner=$(pgrep -P "$DPID" mobkitd)
[ -n "$inner" ] || fail "no mobkitd under unshare $DPID"
ns=$(stat -L -c %i /proc/"$inner"/ns/pid) || fail "no pid namespace of $inner"
# the orphan is adopted by PID 1 (mobkitd), then reaped when it exits
wait_for "the orphan" pgrep -f "^sh $T/orphan.sh"
orphan=$(pgrep -f "^sh $T/orphan.sh")
adopted() { [ "$(ps -o ppid= -p "$orphan" | tr -d ' ')" = "$inner" ]; }
wait_for "the orphan $orphan adopted by mobkitd ($inner)" adopted
: >"$T/go"
wait_for "the orphan reaped" sh -c "! test -e /proc/$orphan"
zombies=$(ps -o stat= --ppid "$inner" | grep -c Z || true)
[ "$zombies" = 0 ] || fail "$zombies zombie(s) under PID 1"
escaped=$(pgrep -f "^sh $T/escape.sh")
[ -n "$escaped" ] || fail "the setsid descendant is not running"
# SIGTERM: the ordered shutdown, exit 0, nothing left
kill -TERM "$inner"
wait "$DPID"
rc=$?
[ "$rc" = 0 ] || fail "mobkitd as PID 1 exited $rc"
grep -q "shutdown complete in [0-9]* ms ([1-9][0-9]* orphan(s) killed)" "$T/daemon.log" ||
	fail "no orphan killed at shutdown"
alive "$escaped" && fail "the setsid descendant $escaped survived"
left=$(stat -L -c '%i %n' /proc/[0-9]*/ns/pid 2>/dev/null | grep "^$ns ")
[ -z "$left" ] || fail "still in mobkitd's namespace: $left"
true
