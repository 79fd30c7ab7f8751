# Control requests on fd 3 are the gateway's alone: a module that sends
# one (here: shutdown) is killed as a protocol violation, and the request
# has no effect.
. "$(dirname "$0")/lib.sh"
{ header; cat <<EOT
[module evil]
command = $MK
args = --ready message --forge ctl_shutdown --forge-once $T/evil.forged --log $T/evil.log
ready = message
restart_backoff_ms = 0
EOT
} >"$CFG"
start_daemon
wait_for "evil restarted" sh -c "[ \$(grep -c '^start' $T/evil.log) -ge 2 ]"
wait_for "evil healthy" is_state evil healthy
jctl events --type protocol.violation | jq -e -s 'any(.[]; .name == "evil" and .payload.type == "CTL_REQUEST")' >/dev/null ||
    fail "no protocol.violation: $(jctl events --type protocol.violation)"
jctl status | jq -e '.daemon.state == "running"' >/dev/null || fail "the forged shutdown was obeyed"
daemon_gone && fail "mobkitd exited"
echo ok
