# mobkitd raises its soft RLIMIT_NOFILE to the hard limit; its children
# get the soft limit it was started with, or limit_nofile of their section.
. "$(dirname "$0")/lib.sh"
{ header; cat <<EOT

[module a]
command = $MK

[module b]
command = $MK
limit_nofile = 2000
EOT
} >"$CFG"
prlimit --nofile=1024:4096 "$BIN/mobkitd" -c "$CFG" >"$T/daemon.log" 2>&1 &
DPID=$!
wait_for "the control socket" test -S "$SOCK"
wait_for "a healthy" is_state a healthy
wait_for "b healthy" is_state b healthy
soft() { awk '/^Max open files/ {print $4}' "/proc/$1/limits"; }
[ "$(soft "$DPID")" = 4096 ] || fail "mobkitd's soft limit: $(soft "$DPID")"
[ "$(soft "$(pid_of a)")" = 1024 ] || fail "a's soft limit: $(soft "$(pid_of a)")"
[ "$(soft "$(pid_of b)")" = 2000 ] || fail "b's soft limit: $(soft "$(pid_of b)")"
