# is-healthy [NAME]: exit 0 when the tree (or NAME) is healthy, 1 when
# not (a child that never becomes ready), 3 when mobkitd cannot be
# reached; it prints nothing unless --json.  A child stopped on purpose
# leaves the tree healthy.
. "$(dirname "$0")/lib.sh"
# rc CMD...: run, stdout in $T/out, print the exit status
rc() { "$@" >"$T/out" 2>"$T/err"; echo $?; }
{ header; cat <<EOT
[module good]
command = $MK
args = --ready none
[module never]
command = $MK
args = --ready message --never-ready
ready = message
start_timeout_ms = 300
restart_backoff_ms = 100
max_restarts = 1000
EOT
} >"$CFG"
[ "$(rc ctl is-healthy)" = 3 ] || fail "no daemon: not 3 ($(cat "$T/err"))"
start_daemon
wait_for "good healthy" is_state good healthy
wait_for "never failed once" sh -c "[ \$($BIN/mobkitctl -s $SOCK --json transitions never | jq '[.[] | select(.to == \"failed\")] | length') -ge 1 ]"

[ "$(rc ctl is-healthy)" = 1 ] || fail "a never-ready child: tree not 1"
[ ! -s "$T/out" ] || fail "is-healthy printed: $(cat "$T/out")"
[ "$(rc ctl is-healthy never)" = 1 ] || fail "is-healthy never: not 1"
[ "$(rc ctl is-healthy good)" = 0 ] || fail "is-healthy good: not 0: $(cat "$T/err")"
[ ! -s "$T/out" ] || fail "is-healthy good printed: $(cat "$T/out")"
[ "$(rc jctl is-healthy)" = 1 ] || fail "--json: not 1"
jq -e '.healthy == false and .state == "running" and (.unhealthy | map(.name)) == ["never"]' "$T/out" >/dev/null ||
	fail "--json: $(cat "$T/out")"
[ "$(rc ctl is-healthy nosuch)" = 1 ] && grep -q 'nosuch' "$T/err" || fail "unknown name: $(cat "$T/err")"

# stopped on purpose: the tree is healthy again, the child itself is not
ctl stop never >/dev/null || fail "stop never"
[ "$(rc ctl is-healthy)" = 0 ] || fail "after stop: not 0: $(cat "$T/out")"
[ "$(rc ctl is-healthy never)" = 1 ] || fail "a stopped child named: not 1"
[ "$(rc jctl is-healthy)" = 0 ] && jq -e '.healthy == true and .unhealthy == []' "$T/out" >/dev/null ||
	fail "--json healthy: $(cat "$T/out")"
# a killed child is unhealthy until it is back
p=$(pid_of good)
ctl kill good KILL >/dev/null
wait_for "good restarted" sh -c "[ \"\$($BIN/mobkitctl -s $SOCK --json status good | jq -r '.children[0].pid')\" != $p ]"
wait_for "good healthy again" is_state good healthy
[ "$(rc ctl is-healthy)" = 0 ] || fail "after a restart: not 0"
