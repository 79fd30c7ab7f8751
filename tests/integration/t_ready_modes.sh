# The four readiness modes; stdout's later JSON lines are module events,
# other lines are logged with the child's name.
. "$(dirname "$0")/lib.sh"
{ header; cat <<EOT
[module m]
command = $MK
args = --ready message --ready-delay 300
ready = message

[module s]
command = $MK
args = --ready stdout --ready-delay 300 --say plain-line-from-s
ready = stdout

[module e]
command = $MK
args = --ready stdout-envelope --ready-delay 300
ready = stdout

[module n]
command = $MK
args = --ready notify --ready-delay 300
ready = notify

[module z]
command = $MK
args = --ready none
ready = none
EOT
} >"$CFG"
start_daemon
for c in m s e n z; do wait_for "$c healthy" is_state $c healthy; done
for c in m s e n; do
	[ "$(transitions_of $c)" = "starting healthy" ] || fail "$c: $(transitions_of $c)"
done
wait_for "custom event from s" sh -c "$BIN/mobkitctl -s $SOCK --json events --source module --type custom.hello | jq -e 'select(.name == \"s\" and .payload.n == 1)'"
wait_for "plain line logged with the name" grep -q '\[s\] stdout: plain-line-from-s' "$T/daemon.log"
