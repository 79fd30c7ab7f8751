# Under systemd (NOTIFY_SOCKET set) mobkitd says READY=1 once the boot set
# is healthy and STOPPING=1 at shutdown; children never see its socket.
. "$(dirname "$0")/lib.sh"
"$TB/ctlclient" listen "$T/notify.sock" >"$T/notes" &
lp=$!
wait_for "listener" test -S "$T/notify.sock"
{ header; cat <<EOT
[module a]
command = $MK
args = --ready message --ready-delay 300
EOT
} >"$CFG"
NOTIFY_SOCKET=$T/notify.sock start_daemon
wait_for "READY=1" grep -q READY=1 "$T/notes"
is_state a healthy || fail "READY=1 before the child was healthy"
tr '\0' '\n' </proc/"$(pid_of a)"/environ | grep -q "^NOTIFY_SOCKET=" && fail "child saw NOTIFY_SOCKET"
ctl shutdown >/dev/null
wait_for "STOPPING=1" grep -q STOPPING=1 "$T/notes"
kill "$lp"
