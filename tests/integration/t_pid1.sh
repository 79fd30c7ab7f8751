# As PID 1 of a PID namespace, mobkitd reaps adopted orphans and still
# shuts down with nothing left.
. "$(dirname "$0")/lib.sh"
if ! unshare --pid --fork --mount-proc true 2>/dev/null; then
	echo "cannot create a PID namespace here (needs root)" >&2
	exit 1
fi
{ header; cat <<EOT
[module a]
command = /bin/sh
args = -c '(sh -c "sleep 0.3" &); (setsid sh -c "sleep 600" &); exec sleep 600'
EOT
} >"$CFG"
unshare --pid --fork --mount-proc --kill-child "$BIN/mobkitd" -c "$CFG" >"$T/daemon.log" 2>&1 &
DPID=$!
wait_for "control socket" test -S "$SOCK"
wait_for "a healthy" is_state a healthy
[ "$(jctl status | jq .daemon.pid)" = 1 ] || fail "not PID 1: $(jctl status | jq .daemon.pid)"
sleep 1
# the orphan (sleep 0.3), adopted by PID 1, has been reaped: no zombie
inner=$(pgrep -P "$DPID" mobkitd || pgrep -f "^$BIN/mobkitd -c $CFG" | head -1)
[ -n "$inner" ] || fail "no inner mobkitd"
zombies=$(ps -o stat= --ppid "$inner" | grep -c Z || true)
[ "$zombies" = 0 ] || fail "$zombies zombie(s) under PID 1"
report=$(jctl shutdown) || fail "shutdown"
wait_for "namespace gone" daemon_gone
[ "$(echo "$report" | jq .orphans_killed)" -ge 1 ] || fail "report: $report"
pgrep -f "sleep 600" | while read -r p; do
	grep -q "$T" /proc/"$p"/cmdline 2>/dev/null && fail "a sleep survived"
done
true
