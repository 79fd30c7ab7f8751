# on_failure does not restart after exit 0; never restarts nothing.
. "$(dirname "$0")/lib.sh"
{ header; cat <<EOT
[module clean]
command = $MK
args = --exit-after 200 --code 0 --log $T/clean
restart = on_failure
restart_backoff_ms = 0

[module dirty]
command = $MK
args = --exit-after 200 --code 3 --log $T/dirty
restart = on_failure
restart_backoff_ms = 0
max_restarts = 1

[module never0]
command = $MK
args = --exit-after 200 --code 0 --log $T/never0
restart = never

[module never1]
command = $MK
args = --exit-after 200 --code 4 --log $T/never1
restart = never
EOT
} >"$CFG"
start_daemon
wait_for "clean stopped" is_state clean stopped
wait_for "never0 stopped" is_state never0 stopped
wait_for "never1 failed" is_state never1 failed
wait_for "dirty exhausted" is_state dirty exhausted
sleep 0.5
[ "$(count_lines start "$T/clean")" = 1 ] || fail "clean restarted"
[ "$(count_lines start "$T/never0")" = 1 ] || fail "never0 restarted"
[ "$(count_lines start "$T/never1")" = 1 ] || fail "never1 restarted"
[ "$(count_lines start "$T/dirty")" = 2 ] || fail "dirty started $(count_lines start "$T/dirty") times"
[ "$(jctl status never1 | jq -c .children[0].last_exit)" = '{"code":4}' ] || fail "never1 last_exit"
