# escalate: a child that spends its budget fails its group; the group's
# budget spent fails the root; the root spent shuts down in order, exit 3.
. "$(dirname "$0")/lib.sh"
{ cat <<EOT
[mobkitd]
control_socket = $SOCK
max_restarts = 1
restart_window_ms = 600000

[group inner]
strategy = one_for_one
max_restarts = 1
restart_window_ms = 600000

[module bad]
command = $MK
args = --ready none --exit-after 100 --code 1 --log $T/log
group = inner
max_restarts = 0
on_exhausted = escalate
restart_backoff_ms = 0

[module bystander]
command = $MK
args = --grandchild setsid --pidfile $T/gc.pid --log $T/by
EOT
} >"$CFG"
start_daemon
wait_for "daemon exit" daemon_gone
wait "$DPID"; rc=$?
[ $rc = 3 ] || fail "exit status $rc, want 3"
# bad: first start; inner restarts it (inner's budget: 1); inner spent ->
# root restarts inner with a fresh budget (root's: 1); inner restarts it
# once more; inner spent again -> root spent -> shutdown: 4 starts
[ "$(count_lines start "$T/log")" = 4 ] || fail "bad started $(count_lines start "$T/log") times"
grep -q "stop bystander" "$T/by" || fail "bystander not stopped in order"
wait_for "escaped grandchild gone" dead "$(cat "$T/gc.pid")"
grep -q "root group's budget is spent" "$T/daemon.log" || fail "no root message"
