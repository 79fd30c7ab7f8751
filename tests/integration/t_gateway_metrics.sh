# /metrics: Prometheus text format 0.0.4 that promtool accepts, with the
# families of SPEC 9 (turn durations, tokens and deliveries too); behind
# the token unless metrics_auth = false.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/gw.sh"
command -v promtool >/dev/null || fail "promtool is not installed (etc/deps.sh)"
{ header; cat <<EOT
[module a]
command = $MK
[profile p]
provider = echo
[member m1]
profile = p
EOT
gw_section <<EOT
token_file = tokens
EOT
} >"$CFG"
start_daemon
wait_for "the gateway" gw_healthy
ctl send m1 hello --wait >/dev/null
ctl send m1 again --wait >/dev/null
s=$(curl -s -o /dev/null -w '%{http_code}' "$GW_URL/metrics")
[ "$s" = 401 ] || fail "metrics without a token: $s"
h=$(hc -D - -o "$T/m" "$GW_URL/metrics")
echo "$h" | grep -qi '^Content-Type: text/plain; version=0.0.4' || fail "content type: $h"
promtool check metrics <"$T/m" >"$T/promtool" 2>&1 || fail "promtool: $(cat "$T/promtool")"
for f in 'mobkit_child_up{name="a",kind="module"} 1' 'mobkit_child_up{name="gateway",kind="module"} 1' \
    'mobkit_child_restarts_total{name="m1",kind="member"} 0' 'mobkit_children{state="healthy"} 3' \
    'mobkit_mailbox_queued{member="m1"} 0' 'mobkit_events_total ' 'process_resident_memory_bytes ' \
    'process_open_fds ' 'process_start_time_seconds ' \
    'mobkit_inputs_total{member="m1",outcome="accepted"} 2' \
    'mobkit_inputs_total{member="m1",outcome="consumed"} 2' \
    'mobkit_store_write_failures_total 0' \
    'mobkit_turn_duration_seconds_count{member="m1"} 2' \
    'mobkit_turn_duration_seconds_bucket{member="m1",le="+Inf"} 2' \
    'mobkit_llm_tokens_total{member="m1",direction="input"} 0' \
    'mobkit_llm_tokens_total{member="m1",direction="output"} 0' \
    '# TYPE mobkit_deliveries_total counter'; do
	grep -qF "$f" "$T/m" || fail "no $f in: $(cat "$T/m")"
done
dpid=$(jctl status | jq .daemon.pid)
rss=$(awk '/^VmRSS/ {print $2 * 1024}' /proc/"$dpid"/status)
m=$(awk '/^process_resident_memory_bytes/ {print $2}' "$T/m")
[ "$m" -gt $((rss / 2)) ] && [ "$m" -lt $((rss * 2)) ] || fail "rss $m, /proc says $rss"
# a restart counts
p=$(pid_of a)
kill -9 "$p"
wait_for "a back" sh -c "[ \"\$(\"$BIN/mobkitctl\" -s $SOCK --json status a | jq -r '.children[0].restarts')\" = 1 ]"
hc "$GW_URL/metrics" | grep -qF 'mobkit_child_restarts_total{name="a",kind="module"} 1' || fail "restart not counted"
# metrics_auth = false: open; the rest still needs the token
{ header; gw_section <<EOT
token_file = tokens
metrics_auth = false
EOT
} >"$CFG"
ctl reload >/dev/null || fail reload
wait_for "metrics without a token" curl -sf "$GW_URL/metrics"
s=$(curl -s -o /dev/null -w '%{http_code}' "$GW_URL/v1/status")
[ "$s" = 401 ] || fail "status without a token: $s"
echo ok
