# SIGTERM to mobkitd: ordered shutdown, exit 0, nothing left.  SIGHUP:
# reload.  b depends on a: b stops first (modules without a dependency
# between them stop at once, by dependency levels: their order is theirs).
. "$(dirname "$0")/lib.sh"
{ header; cat <<EOT
[module a]
command = $MK
args = --log $T/log
EOT
} >"$CFG"
start_daemon
wait_for "a healthy" is_state a healthy
{ header; cat <<EOT
[module a]
command = $MK
args = --log $T/log

[module b]
command = $MK
args = --log $T/log
depends = a
EOT
} >"$CFG"
kill -HUP "$DPID"
wait_for "b added by SIGHUP" is_state b healthy
pa=$(pid_of a); pb=$(pid_of b)
kill -TERM "$DPID"
wait_for "daemon exit" daemon_gone
wait "$DPID"; rc=$?
[ $rc = 0 ] || fail "exit status $rc"
dead "$pa" && dead "$pb" || fail "a child survived"
[ "$(awk '$1=="stop"{print $2}' "$T/log" | tr '\n' ' ')" = "b a " ] || fail "stop order $(cat "$T/log")"
test -S "$SOCK" && fail "socket left behind"
true
