# The event stream with --follow: every transition and exit, seq strictly
# increasing, timestamps never going back.
. "$(dirname "$0")/lib.sh"
{ header; cat <<EOT
[module a]
command = $MK
restart_backoff_ms = 0
EOT
} >"$CFG"
start_daemon
wait_for "a healthy" is_state a healthy
jctl events --follow >"$T/events" 2>&1 &
fpid=$!
wait_for "replay of lifecycle" grep -q lifecycle.modules_started "$T/events"
p=$(pid_of a)
kill -9 "$p"
wait_for "exit event streamed" grep -q "\"child.exited\".*\"signal\":\"KILL\"" "$T/events"
wait_for "back to healthy in the stream" sh -c "grep '\"child.transition\"' $T/events | tail -1 | grep -q '\"to\":\"healthy\"'"
kill "$fpid"
jq -s -e '[.[].seq] as $s | ($s | length) > 5 and ([range(1; $s|length)] | all($s[.] > $s[. - 1]))' "$T/events" >/dev/null || fail "seq not increasing"
jq -s -e '[.[].timestamp_ms] as $s | [range(1; $s|length)] | all($s[.] >= $s[. - 1])' "$T/events" >/dev/null || fail "time went back"
for st in mob_started modules_started merged_stream_started; do
	grep -q "lifecycle.$st" "$T/events" || fail "no lifecycle.$st"
done
# --since and --type filter
n=$(jctl events --since 3 | jq -s 'map(select(.seq <= 3)) | length')
[ "$n" = 0 ] || fail "--since"
jctl events --type child.exited | jq -e -s 'length == 1' >/dev/null || fail "--type"
