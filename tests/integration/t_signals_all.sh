# No catchable signal ends mobkitd without the ordered shutdown: SIGUSR1
# (reopen logs), SIGUSR2 and SIGPIPE leave it running, and its children
# do not inherit what it ignores; SIGALRM, a realtime
# signal and a SIGSEGV sent with kill(1) each do the ordered shutdown: the
# grandchild is killed, the socket removed, exit 0.
. "$(dirname "$0")/lib.sh"
{ header; cat <<EOT
[module a]
command = $MK
args = --log $T/log --grandchild ignore-term --pidfile $T/gc.pid
EOT
} >"$CFG"
run_once() { # run_once SIGNAL
	rm -f "$T/gc.pid" "$T/log"
	start_daemon
	wait_for "a healthy" is_state a healthy
	wait_for "the grandchild" test -s "$T/gc.pid"
	gc=$(cat "$T/gc.pid")
	kill -s "$1" "$DPID"
	wait_for "daemon exit after SIG$1" daemon_gone
	wait "$DPID"; rc=$?
	[ $rc = 0 ] || fail "SIG$1: exit status $rc"
	dead "$gc" || fail "SIG$1: the grandchild escaped"
	test -e "$SOCK" && fail "SIG$1: socket left behind"
	grep -q "^stop a " "$T/log" || fail "SIG$1: a was not stopped in order: $(cat "$T/log")"
	grep -q "shutdown complete" "$T/daemon.log" || fail "SIG$1: no ordered shutdown"
}
start_daemon
wait_for "a healthy" is_state a healthy
pa=$(pid_of a)
# what mobkitd ignores (USR2, PIPE, XFSZ, IO), its children do not
ign=$(awk '/^SigIgn/ {print $2}' "/proc/$pa/status")
[ $((0x$ign & 0x11001800)) = 0 ] || fail "a child inherited ignored signals: SigIgn $ign"
for s in USR1 USR2 PIPE USR1; do
	kill -s $s "$DPID"
done
wait_for "reopening logs" grep -q "reopening logs" "$T/daemon.log"
sleep 0.2
alive "$DPID" || fail "a signal ended mobkitd: $(tail -3 "$T/daemon.log")"
is_state a healthy || fail "a not healthy after USR1/USR2/PIPE"
[ "$(pid_of a)" = "$pa" ] || fail "a was restarted"
kill -TERM "$DPID"
wait_for "daemon exit" daemon_gone
wait "$DPID"
for s in ALRM RTMIN SEGV VTALRM; do
	run_once $s
done
