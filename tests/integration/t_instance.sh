# One daemon per state and socket: a second mobkitd on the same socket or
# the same state_dir exits 1 "already running (pid N)" and the first goes
# on; a path that is not a socket is an error and is never deleted; a
# stale socket is replaced; a daemon that fails to start leaves no socket;
# -t takes no lock and touches no socket.
. "$(dirname "$0")/lib.sh"
write_cfg() { # write_cfg SOCKET STATE_DIR
	cat <<EOT
[mobkitd]
control_socket = $1
state_dir = $2

[module a]
command = $MK
EOT
}
write_cfg "$SOCK" "$T/state" >"$CFG"
start_daemon
wait_for "a healthy" is_state a healthy
# the same socket and state
out=$(timeout 20 "$BIN/mobkitd" -c "$CFG" 2>&1); rc=$?
[ $rc = 1 ] || fail "second daemon on the same socket: exit $rc: $out"
echo "$out" | grep -q "already running (pid $DPID)" || fail "second daemon said: $out"
# the same state_dir, another socket
write_cfg "$T/other.sock" "$T/state" >"$T/other.ini"
out=$(timeout 20 "$BIN/mobkitd" -c "$T/other.ini" 2>&1); rc=$?
[ $rc = 1 ] || fail "second daemon on the same state_dir: exit $rc: $out"
echo "$out" | grep -q "already running (pid $DPID)" || fail "second daemon said: $out"
test -e "$T/other.sock" && fail "the refused daemon made its socket"
# the same socket, another state_dir
write_cfg "$SOCK" "$T/state2" >"$T/third.ini"
out=$(timeout 20 "$BIN/mobkitd" -c "$T/third.ini" 2>&1); rc=$?
[ $rc = 1 ] || fail "second daemon on the same socket: exit $rc: $out"
echo "$out" | grep -q "already running (pid $DPID)" || fail "second daemon said: $out"
# -t neither locks nor touches the socket, and the first daemon goes on
"$BIN/mobkitd" -t -c "$CFG" >/dev/null 2>&1 || fail "-t refused while a daemon runs"
test -S "$SOCK" || fail "the live daemon's socket was removed"
is_state a healthy || fail "the first daemon does not answer"
ctl shutdown >/dev/null || fail "shutdown"
wait_for "daemon exit" daemon_gone

# a regular file at the socket path: an error, and the file stays
echo "precious" >"$T/file.sock"
write_cfg "$T/file.sock" "$T/state3" >"$T/file.ini"
out=$(timeout 20 "$BIN/mobkitd" -c "$T/file.ini" 2>&1); rc=$?
[ $rc = 1 ] || fail "a regular file as socket: exit $rc"
echo "$out" | grep -q "not a socket" || fail "said: $out"
[ "$(cat "$T/file.sock")" = precious ] || fail "the file at the socket path was touched"

# a stale socket (its daemon killed with -9) is replaced
start_daemon
wait_for "a healthy" is_state a healthy
apid=$(pid_of a)
kill -KILL "$DPID"
wait "$DPID" 2>/dev/null
wait_for "the child to go" dead "$apid"
test -S "$SOCK" || fail "no stale socket to test with"
start_daemon
wait_for "a healthy after the stale socket" is_state a healthy
grep -q "removing the socket of a daemon that is gone" "$T/daemon.log" || fail "stale socket not reported"
ctl shutdown >/dev/null
wait_for "daemon exit" daemon_gone

# a start-up error after the socket was made: no socket left behind
rm -rf "$T/state4"
mkdir -p "$T/state4/mobkit.db"
write_cfg "$SOCK" "$T/state4" >"$T/bad.ini"
out=$(timeout 20 "$BIN/mobkitd" -c "$T/bad.ini" 2>&1); rc=$?
[ $rc = 1 ] || fail "a store that cannot open: exit $rc: $out"
test -e "$SOCK" && fail "a daemon that failed to start left its socket: $out"
true
