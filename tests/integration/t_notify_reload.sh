# sd_notify around reloads at the edges: a reload during the boot, before
# READY=1, sends no RELOADING=1 and the one READY=1 covers it (and a
# reload that removes the child the boot waits for lets the boot settle,
# members included); a refused reload sends RELOADING=1 then READY=1 and
# changes nothing; a reload that removes the only unhealthy child ends in
# READY=1 with STATUS=running; a shutdown during a reload says STOPPING=1
# and never READY=1 after it; an operator who stops the module the boot
# waits for lets it go on too.
. "$(dirname "$0")/lib.sh"
cat >"$T/recv.py" <<'EOT'
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
out = open(sys.argv[2], 'a', buffering=1)
open(sys.argv[3], 'w').close()
while True:
    out.write(s.recv(65536).decode('utf-8', 'replace').replace('\n', '|') + '\n')
EOT
python3 "$T/recv.py" "$T/notify.sock" "$T/notes" "$T/bound" &
echo $! >"$T/recv.pid"
wait_for "the receiver" test -f "$T/bound"
notes() { grep -c "$1" "$T/notes" 2>/dev/null || true; }
good() { cat <<EOT
[module good]
command = $MK
args = --ready message
ready = message

[profile p]
provider = echo

[member m]
profile = p
EOT
}
# the boot waits for "slow" (a deadline far away) ...
{ header; good; cat <<EOT

[module slow]
command = $MK
args = --ready message --never-ready
ready = message
start_timeout_ms = 600000
EOT
} >"$CFG"
NOTIFY_SOCKET=$T/notify.sock start_daemon
wait_for "good healthy" is_state good healthy
is_state slow starting || fail "slow: $(state_of slow)"
[ "$(notes READY=1)" = 0 ] || fail "READY=1 while slow starts: $(cat "$T/notes")"
# ... until a reload removes it: READY=1 then, once, and no RELOADING=1
{ header; good; } >"$CFG"
ctl reload >/dev/null || fail "the reload during the boot"
wait_for "READY=1" grep -q READY=1 "$T/notes"
wait_for "m healthy" is_state m healthy
[ "$(notes RELOADING=1)" = 0 ] || fail "RELOADING=1 before the first READY=1: $(cat "$T/notes")"
grep "READY=1" "$T/notes" | grep -q "STATUS=running: 2 children healthy$" ||
	fail "READY=1: $(cat "$T/notes")"

# a refused reload: RELOADING=1 then READY=1, with the same status
cp "$CFG" "$T/good.ini"
printf '[module bad]\ncommand = %s\nready = nonee\n' "$MK" >>"$CFG"
ctl reload >/dev/null 2>&1 && fail "a bad file was accepted"
wait_for "READY=1 after the refused reload" sh -c "[ \$(grep -c READY=1 $T/notes) -ge 2 ]"
rl=$(grep -n RELOADING=1 "$T/notes" | head -1 | cut -d: -f1)
rd=$(grep -n READY=1 "$T/notes" | sed -n 2p | cut -d: -f1)
[ -n "$rl" ] && [ "$rl" -lt "$rd" ] || fail "refused reload: $(cat "$T/notes")"
sed -n "${rd}p" "$T/notes" | grep -q "STATUS=running: 2 children healthy$" ||
	fail "after the refused reload: $(cat "$T/notes")"

# a failing child makes the tree degraded; the reload that removes it
# ends in READY=1 with STATUS=running
{ cat "$T/good.ini"; cat <<EOT

[module broken]
command = $MK
args = --ready message --exit-after 1 --exit-code 3
ready = message
restart_backoff_ms = 200
restart_backoff_max_ms = 200
max_restarts = 100000
EOT
} >"$CFG"
ctl reload >/dev/null || fail "the reload adding broken"
wait_for "degraded: broken" grep -q "STATUS=degraded: broken$" "$T/notes"
n=$(notes READY=1)
cp "$T/good.ini" "$CFG"
ctl reload >/dev/null || fail "the reload removing broken"
wait_for "READY=1 after broken went" sh -c "[ \$(grep -c READY=1 $T/notes) -gt $n ]"
grep READY=1 "$T/notes" | tail -n 1 | grep -q "STATUS=running: 2 children healthy$" ||
	fail "after broken went: $(tail -n 4 "$T/notes")"

# six failing children with the longest names: STATUS= names whole ones
# and counts the rest ("and N more"), never a name cut in the middle
long=$(printf 'x%.0s' $(seq 62))
{ cat "$T/good.ini"
for i in 1 2 3 4 5 6; do cat <<EOT

[module ${long}-$i]
command = /bin/false
ready = message
restart_backoff_ms = 200
restart_backoff_max_ms = 200
max_restarts = 100000
EOT
done
} >"$CFG"
ctl reload >/dev/null || fail "the reload adding six"
wait_for "degraded: ... more" grep -q "STATUS=degraded: .* and [0-9]* more$" "$T/notes"
st=$(grep -o "STATUS=degraded: .* and [0-9]* more$" "$T/notes" | tail -n 1)
names=${st#STATUS=degraded: }
more=${names##* and }
more=${more% more}
names=${names% and * more}
shown=0
for w in $(echo "$names" | tr -d ','); do
	echo "$w" | grep -Eqx "${long}-[1-6]" || fail "a cut name \"$w\" in: $st"
	shown=$((shown + 1))
done
[ $((shown + more)) = 6 ] || fail "$shown named and $more more, not 6: $st"
cp "$T/good.ini" "$CFG"
ctl reload >/dev/null || fail "the reload removing six"
wait_for "STATUS=running again" sh -c "tail -n 1 $T/notes | grep -q 'STATUS=running: 2 children healthy$'"

# a shutdown while a reload waits for a child: STOPPING=1, no READY=1 after
{ cat "$T/good.ini"; cat <<EOT

[module slow]
command = $MK
args = --ready message --never-ready
ready = message
start_timeout_ms = 600000
EOT
} >"$CFG"
n=$(notes READY=1)
ctl reload >/dev/null || fail "the reload adding slow"
wait_for "slow starting" is_state slow starting
wait_for "RELOADING=1" sh -c "tail -n 1 $T/notes | grep -q STATUS=reloading"
kill -TERM "$DPID"
wait "$DPID"
rc=$?
[ "$rc" = 0 ] || fail "mobkitd exited $rc"
tail -n 1 "$T/notes" | grep -q "^STOPPING=1|STATUS=stopping$" ||
	fail "the last notification: $(tail -n 3 "$T/notes")"
[ "$(notes READY=1)" = "$n" ] || fail "READY=1 during the shutdown: $(tail -n 4 "$T/notes")"

# the same boot, but an operator stops slow: the members start, READY=1
: >"$T/notes"
{ header; good; cat <<EOT

[module slow]
command = $MK
args = --ready message --never-ready
ready = message
start_timeout_ms = 600000
EOT
} >"$CFG"
NOTIFY_SOCKET=$T/notify.sock start_daemon
wait_for "good healthy" is_state good healthy
is_state m stopped || fail "m started before the modules: $(state_of m)"
ctl stop slow >/dev/null || fail "stop slow"
wait_for "m healthy after slow was stopped" is_state m healthy
wait_for "READY=1 after slow was stopped" grep -q "READY=1" "$T/notes"
true
