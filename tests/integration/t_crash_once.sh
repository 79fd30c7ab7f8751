# A child that crashes once, then becomes ready, with restart = on_failure:
# exactly starting, failed, restarting, healthy.
. "$(dirname "$0")/lib.sh"
{ header; cat <<EOT
[module flaky]
command = $MK
args = --ready message --crash-once $T/crashed --log $T/log
ready = message
restart = on_failure
restart_backoff_ms = 50
EOT
} >"$CFG"
start_daemon
wait_for "flaky healthy" is_state flaky healthy
[ "$(transitions_of flaky)" = "starting failed restarting healthy" ] ||
	fail "transitions: $(transitions_of flaky)"
[ "$(field_of flaky restarts)" = 1 ] || fail "restarts $(field_of flaky restarts)"
[ "$(jctl status flaky | jq -c '.children[0].last_exit')" = '{"code":1}' ] ||
	fail "last_exit $(jctl status flaky | jq -c '.children[0].last_exit')"
[ "$(count_lines start "$T/log")" = 2 ] || fail "started $(count_lines start "$T/log") times"
