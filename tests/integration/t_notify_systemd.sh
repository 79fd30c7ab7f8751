# Under systemd (Type=notify) with a never-ready child: READY=1 once the
# boot set has settled, after that child's first readiness deadline, with
# STATUS=degraded naming it and what waits for it; no STATUS= flood while
# it crash-loops; RELOADING=1 (MONOTONIC_USEC=) then READY=1 around
# SIGHUP and `mobkitctl reload`, READY=1 only once what the reload added
# is up; STATUS= at most once a second for a flapping child; STOPPING=1
# at SIGTERM and exit 0.  Children see neither NOTIFY_SOCKET nor
# WATCHDOG_*, but a ready = notify child still has its own socket.
. "$(dirname "$0")/lib.sh"
# the receiver: one line per datagram, "MONOTONIC_SECONDS LINE|LINE"
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
python3 "$T/recv.py" "$T/notify.sock" "$T/notes" "$T/bound" &
echo $! >"$T/recv.pid"
wait_for "the receiver" test -f "$T/bound"
notes() { grep -c "$1" "$T/notes" 2>/dev/null || true; }
{ header; cat <<EOT
[module good]
command = $MK
args = --ready message --ready-delay 200
ready = message

[module slow]
command = $MK
args = --ready message --never-ready
ready = message
start_timeout_ms = 500
restart_backoff_ms = 100
restart_backoff_max_ms = 100
max_restarts = 1000
restart_window_ms = 1000

[module after]
command = $MK
depends = slow

[module ownsock]
command = $MK
args = --ready notify
ready = notify

[profile p]
provider = echo

[member m]
profile = p
EOT
} >"$CFG"
cp "$CFG" "$T/base.ini"
NOTIFY_SOCKET=$T/notify.sock WATCHDOG_USEC=400000 WATCHDOG_PID=1 \
    start_daemon
wait_for "READY=1" grep -q "READY=1" "$T/notes"
ready=$(grep "READY=1" "$T/notes")
echo "$ready" | grep -q "STATUS=degraded: slow, after, m$" ||
	fail "READY=1 without the degraded status: $ready"
# READY=1 came after slow missed its first deadline, never before
dl=$(grep -n "slow: not ready within 500 ms" "$T/daemon.log" | head -1 | cut -d: -f1)
st=$(grep -n "boot settled, degraded" "$T/daemon.log" | head -1 | cut -d: -f1)
[ -n "$dl" ] && [ -n "$st" ] && [ "$dl" -lt "$st" ] ||
	fail "settled (line $st) before slow's deadline (line $dl)"
is_state good healthy || fail "READY=1 before good was healthy"
is_state ownsock healthy || fail "READY=1 before ownsock was healthy"
# the children do not talk to systemd for us
for c in good ownsock; do
	env=$(tr '\0' '\n' </proc/"$(pid_of $c)"/environ) || fail "environ of $c"
	echo "$env" | grep -q "^WATCHDOG_" && fail "$c saw WATCHDOG_*: $env"
	echo "$env" | grep -q "^NOTIFY_SOCKET=$T" && fail "$c saw our NOTIFY_SOCKET"
done
tr '\0' '\n' </proc/"$(pid_of good)"/environ | grep -q "^NOTIFY_SOCKET=" &&
	fail "good saw a NOTIFY_SOCKET"
tr '\0' '\n' </proc/"$(pid_of ownsock)"/environ | grep -q "^NOTIFY_SOCKET=@" ||
	fail "ownsock lost its own notify socket"
# slow crash-loops: no STATUS= while the status stays the same
r0=$(field_of slow restarts)
n0=$(notes STATUS=)
wait_for "slow restarted 3 more times" sh -c \
    "[ \$($BIN/mobkitctl -s $SOCK --json status slow | jq .children[0].restarts) -ge $((r0 + 3)) ]"
[ "$(notes STATUS=)" = "$n0" ] || fail "STATUS= repeated: $(tail -n 5 "$T/notes")"
[ "$(notes READY=1)" = 1 ] || fail "READY=1 sent more than once"
[ "$(notes WATCHDOG=1)" = 0 ] || fail "WATCHDOG=1 sent though WATCHDOG_PID is not mobkitd"
# reload by SIGHUP: slow goes, flap comes; READY=1 once flap has settled
{ sed '/^\[module slow\]/,/^$/d; /^\[module after\]/,/^$/d' "$T/base.ini"
cat <<EOT

[module flap]
command = $MK
args = --ready message --ready-delay 50 --exit-after 150
ready = message
restart_backoff_ms = 10
restart_backoff_max_ms = 10
max_restarts = 100000
EOT
} >"$CFG"
kill -HUP "$DPID"
wait_for "READY=1 after the reload" sh -c "[ \$(grep -c READY=1 $T/notes) -ge 2 ]"
rl=$(grep -n "RELOADING=1" "$T/notes" | head -1)
echo "$rl" | grep -Eq "RELOADING=1\|MONOTONIC_USEC=[0-9]+\|STATUS=reloading" ||
	fail "RELOADING=1: $rl"
[ "${rl%%:*}" -lt "$(grep -n READY=1 "$T/notes" | sed -n 2p | cut -d: -f1)" ] ||
	fail "READY=1 before RELOADING=1: $(cat "$T/notes")"
us=$(echo "$rl" | sed 's/.*MONOTONIC_USEC=\([0-9]*\).*/\1/')
[ "$us" -gt 0 ] || fail "MONOTONIC_USEC=$us"
# flap was healthy once before READY=1 (its first outcome)
[ "$(transitions_of flap | cut -d' ' -f2)" = healthy ] ||
	fail "flap: $(transitions_of flap)"
# flap flaps: healthy, failed, restarting, healthy ... STATUS= stays sparse
# (each restart would be two STATUS= lines, degraded then running)
t0=$(date +%s.%N)
s0=$(notes STATUS=)
r0=$(field_of flap restarts)
wait_for "flap restarted 20 times" sh -c \
    "[ \$($BIN/mobkitctl -s $SOCK --json status flap | jq .children[0].restarts) -ge $((r0 + 20)) ]"
s1=$(notes STATUS=)
t1=$(date +%s.%N)
[ $((s1 - s0)) -ge 1 ] || fail "no STATUS= while flap flaps"
awk -v n=$((s1 - s0)) -v t0="$t0" -v t1="$t1" 'BEGIN { exit !(n <= t1 - t0 + 2) }' ||
	fail "$((s1 - s0)) STATUS= in $(awk -v t0="$t0" -v t1="$t1" 'BEGIN { print t1 - t0 }') s: $(tail -n 12 "$T/notes")"
# reload by mobkitctl: RELOADING=1, READY=1 again
cp "$T/base.ini" "$CFG"
ctl reload >/dev/null || fail "mobkitctl reload"
wait_for "the second RELOADING=1" sh -c "[ \$(grep -c RELOADING=1 $T/notes) -ge 2 ]"
wait_for "READY=1 after mobkitctl reload" sh -c "[ \$(grep -c READY=1 $T/notes) -ge 3 ]"
# SIGTERM: STOPPING=1, then a clean exit
kill -TERM "$DPID"
wait_for "STOPPING=1" grep -q "STOPPING=1|STATUS=stopping" "$T/notes"
wait "$DPID"
rc=$?
[ "$rc" = 0 ] || fail "mobkitd exited $rc"
[ "$(notes WATCHDOG=1)" = 0 ] || fail "WATCHDOG=1 sent though WATCHDOG_PID is not mobkitd"
true
