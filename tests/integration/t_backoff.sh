# Backoff doubles per consecutive failure up to its cap, and returns to
# the base once the child has stayed healthy for a window.
. "$(dirname "$0")/lib.sh"
{ header; cat <<EOT
[module b]
command = /bin/sh
args = -c 'if [ -f $T/stable ]; then exec sleep 600; fi; sleep 0.05; exit 1'
restart_backoff_ms = 100
restart_backoff_max_ms = 400
restart_window_ms = 1500
max_restarts = 1000
EOT
} >"$CFG"
start_daemon
delays() { jctl events --type child.restart_scheduled | jq -r .payload.delay_ms | tr '\n' ' '; }
wait_for "five restarts" sh -c "[ \$($BIN/mobkitctl -s $SOCK --json events --type child.restart_scheduled | wc -l) -ge 5 ]"
touch "$T/stable"
case "$(delays)" in
"100 200 400 400 400"*) ;;
*) fail "delays: $(delays)" ;;
esac
wait_for "b healthy" is_state b healthy
sleep 1.7
n=$(jctl events --type child.restart_scheduled | wc -l)
kill -9 "$(pid_of b)"
wait_for "one more restart" sh -c "[ \$($BIN/mobkitctl -s $SOCK --json events --type child.restart_scheduled | wc -l) -gt $n ]"
last=$(jctl events --type child.restart_scheduled | tail -1 | jq .payload.delay_ms)
[ "$last" = 100 ] || fail "after a healthy window the delay is $last, want 100"
