# Out of file descriptors: mobkitd (RLIMIT_NOFILE 40:40, so it cannot
# raise it) with clients holding every descriptor it has.  Accept pauses
# instead of spinning (little CPU, the log says so at most once a second);
# a child that must be respawned meanwhile is retried after its backoff
# without spending its restart budget (spawn.resource_error); once the
# clients go, the daemon answers again and the child comes back.
. "$(dirname "$0")/lib.sh"
{ header; cat <<EOT

[module a]
command = $MK

[module flap]
command = /bin/sh
args = -c 'while [ ! -e $T/flap.go ]; do sleep 0.05; done; exit 1'
ready = none
restart_backoff_ms = 200
restart_backoff_max_ms = 200
max_restarts = 2
restart_window_ms = 600000
EOT
} >"$CFG"
cat >"$T/hold.py" <<'EOT'
import os, socket, sys, time
path, release = sys.argv[1], sys.argv[2]
held = []
for i in range(200):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.setblocking(False)
    try:
        s.connect(path)
    except (BlockingIOError, OSError):
        s.close()
        break
    held.append(s)
print(len(held), flush=True)
while not os.path.exists(release):
    time.sleep(0.05)
for s in held:
    s.close()
EOT
prlimit --nofile=40:40 "$BIN/mobkitd" -c "$CFG" >"$T/daemon.log" 2>&1 &
DPID=$!
wait_for "the control socket" test -S "$SOCK"
wait_for "a healthy" is_state a healthy
wait_for "flap healthy" is_state flap healthy
python3 "$T/hold.py" "$SOCK" "$T/release" >"$T/held" &
hp=$!
wait_for "accept out of descriptors" grep -q "cannot accept a client" "$T/daemon.log"
touch "$T/flap.go"
wait_for "a spawn failing for lack of fds" grep -q "flap: cannot spawn for lack of resources" "$T/daemon.log"
# two seconds out of descriptors: CPU time and log lines spent meanwhile
cpu() { awk '{print $14 + $15}' "/proc/$DPID/stat"; }
c0=$(cpu); l0=$(count_lines "cannot accept a client" "$T/daemon.log")
sleep 2
c1=$(cpu); l1=$(count_lines "cannot accept a client" "$T/daemon.log")
alive "$DPID" || fail "mobkitd died"
[ $((c1 - c0)) -lt 40 ] || fail "mobkitd used $((c1 - c0)) ticks of CPU in 2 s out of descriptors"
[ $((l1 - l0)) -le 4 ] || fail "$((l1 - l0)) accept warnings in 2 s"
[ "$(wc -c <"$T/daemon.log")" -lt 200000 ] || fail "the log is flooded: $(wc -c <"$T/daemon.log") bytes"
rm -f "$T/flap.go"
touch "$T/release"
wait "$hp"
[ "$(cat "$T/held")" -gt 10 ] || fail "only $(cat "$T/held") clients connected"
# responsive again, and flap back without its budget spent on the failures
wait_for "status answers" ctl status a
wait_for "flap healthy again" is_state flap healthy
[ "$(field_of flap restarts)" = 1 ] || fail "flap restarts: $(field_of flap restarts)"
jctl events --type spawn.resource_error | jq -e -s 'length >= 1 and .[0].name == "flap"' >/dev/null ||
	fail "no spawn.resource_error: $(jctl events --type spawn.resource_error)"
[ "$(jctl events --type child.exhausted | wc -l)" = 0 ] || fail "a budget was spent: $(jctl events --type child.exhausted)"
is_state a healthy || fail "a: $(state_of a)"
