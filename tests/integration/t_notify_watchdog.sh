# systemd on an abstract NOTIFY_SOCKET ('@name') with WatchdogSec: an
# all-healthy tree gets READY=1 with STATUS=running once every child is
# healthy; WATCHDOG=1 comes again and again (WATCHDOG_USEC=400000, and
# WATCHDOG_PID is mobkitd's own pid); a child killed and back shows in
# STATUS=; the children see none of it.
. "$(dirname "$0")/lib.sh"
cat >"$T/recv.py" <<'EOT'
import socket, sys, time
addr = sys.argv[1]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind('\0' + addr[1:] if addr.startswith('@') else addr)
out = open(sys.argv[2], 'a', buffering=1)
open(sys.argv[3], 'w').close()
while True:
    d = s.recv(65536).decode('utf-8', 'replace')
    out.write('%.3f %s\n' % (time.monotonic(), d.replace('\n', '|')))
EOT
ABS="@mobkit-test-notify-$(basename "$T")"
python3 "$T/recv.py" "$ABS" "$T/notes" "$T/bound" &
echo $! >"$T/recv.pid"
wait_for "the receiver" test -f "$T/bound"
notes() { grep -c "$1" "$T/notes" 2>/dev/null || true; }
{ header; cat <<EOT
[module a]
command = $MK
args = --ready message --ready-delay 300
ready = message
restart_backoff_ms = 1500

[module b]
command = $MK
args = --ready message --ready-delay 600
ready = message
EOT
} >"$CFG"
# exec keeps the pid: WATCHDOG_PID names mobkitd itself
NOTIFY_SOCKET=$ABS WATCHDOG_USEC=400000 sh -c \
    'export WATCHDOG_PID=$$; exec "$0" -c "$1"' "$BIN/mobkitd" "$CFG" \
    >"$T/daemon.log" 2>&1 &
DPID=$!
wait_for "the control socket" test -S "$SOCK"
wait_for "READY=1" grep -q "READY=1" "$T/notes"
ready=$(grep "READY=1" "$T/notes")
echo "$ready" | grep -q "READY=1|STATUS=running: 2 children healthy$" ||
	fail "READY=1: $ready"
# READY=1 came after both were healthy (mobkitd's log is in order)
hb=$(grep -n "b: healthy" "$T/daemon.log" | cut -d: -f1)
ok=$(grep -n "every child is healthy" "$T/daemon.log" | cut -d: -f1)
[ -n "$hb" ] && [ -n "$ok" ] && [ "$hb" -lt "$ok" ] ||
	fail "settled (line $ok) before b was healthy (line $hb)"
[ "$(notes "READY=1")" = 1 ] || fail "READY=1 more than once"
wait_for "3 WATCHDOG=1" sh -c "[ \$(grep -c '^[0-9.]* WATCHDOG=1$' $T/notes) -ge 3 ]"
for c in a b; do
	tr '\0' '\n' </proc/"$(pid_of $c)"/environ | grep -Eq "^(NOTIFY_SOCKET|WATCHDOG_USEC|WATCHDOG_PID)=" &&
		fail "$c saw systemd's variables"
done
# a killed and restarted: degraded, then running again
kill -KILL "$(pid_of a)"
wait_for "STATUS=degraded: a" grep -q "STATUS=degraded: a$" "$T/notes"
wait_for "a healthy again" is_state a healthy
wait_for "STATUS=running again" sh -c \
    "grep STATUS= $T/notes | tail -n 1 | grep -q 'STATUS=running: 2 children healthy$'"
# WATCHDOG=1 keeps coming
w=$(notes WATCHDOG=1)
wait_for "3 more WATCHDOG=1" sh -c "[ \$(grep -c WATCHDOG=1 $T/notes) -ge $((w + 3)) ]"
jctl shutdown >/dev/null || fail "shutdown"
wait_for "STOPPING=1" grep -q "STOPPING=1" "$T/notes"
wait_for "mobkitd gone" daemon_gone
true
