# The gateway's event streams: GET /v1/events as JSON and as SSE (id,
# event, data), filters, resume after Last-Event-ID across kill -9 of the
# gateway with nothing missed and nothing twice, a burst of events to
# several streams with different filters (each has its events once, in
# order, the same as the others with its filter), a streamed input (delta
# events then one result), and a client that does not read dropped with a
# last event while another one keeps up.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/gw.sh"
SSE="python3 $FIX/sse_client.py"
{ header; cat <<EOT
[module a]
command = $MK
restart_backoff_ms = 0
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
# JSON: an array; since, type and name filter
expect 200 GET "/v1/events"
body_is 'type == "array" and length > 3 and ([.[].seq] | . == (sort | unique))'
expect 200 GET "/v1/events?since=3"
body_is 'all(.[]; .seq > 3)'
expect 200 GET "/v1/events?type=child.transition&name=a"
body_is 'length > 0 and all(.[]; .event_type == "child.transition" and .name == "a")'
# SSE with filters
$SSE "$GW_URL/v1/events?type=child.*&name=a" "$GW_TOKEN" "$T/f.jsonl" &
echo $! >"$T/f.pid"
wait_for "filtered events" grep -q '"child.transition"' "$T/f.jsonl"
jq -s -e 'map(select(.event)) | all(.[]; (.event | startswith("child.")) and .data.name == "a" and (.id | tonumber) == .data.seq)' "$T/f.jsonl" >/dev/null || fail "filter: $(cat "$T/f.jsonl")"
kill "$(cat "$T/f.pid")"
# a burst to several streams: an event's text is shared by the streams it
# goes to; each has its events once and in order
since=$(jctl events | tail -1 | jq .seq)
for i in 0 1 2 3 4 5; do
	f=input.accepted; [ $((i % 2)) = 0 ] || f='input.*'
	$SSE "$GW_URL/v1/events?since=$since&type=$f" "$GW_TOKEN" "$T/b$i.jsonl" &
	echo $! >"$T/b$i.pid"
done
ctl send m1 "burst 0" >/dev/null
for i in 0 1 2 3 4 5; do
	wait_for "stream $i live" grep -q '"input.accepted"' "$T/b$i.jsonl"
done
n=1
while [ $n -le 30 ]; do
	ctl send m1 "burst $n" >/dev/null
	n=$((n + 1))
done
accepted() { jq -s -c 'map(select(.event == "input.accepted") | .id | tonumber)' "$1"; }
for i in 0 1 2 3 4 5; do
	wait_for "stream $i has the burst" sh -c "[ \$(jq -s 'map(select(.event == \"input.accepted\")) | length' $T/b$i.jsonl) -ge 31 ]"
	jq -s -e 'map(select(.id) | .id | tonumber) | . == (sort | unique)' "$T/b$i.jsonl" >/dev/null ||
		fail "stream $i: not once and in order: $(jq -s -c 'map(.id)' "$T/b$i.jsonl")"
	[ "$(accepted "$T/b$i.jsonl")" = "$(accepted "$T/b0.jsonl")" ] ||
		fail "stream $i: $(accepted "$T/b$i.jsonl") against $(accepted "$T/b0.jsonl")"
done
[ "$(accepted "$T/b0.jsonl" | jq length)" = 31 ] || fail "the burst: $(accepted "$T/b0.jsonl")"
jq -s -e 'all(.[]; .event == null or .event == "input.accepted")' "$T/b0.jsonl" >/dev/null || fail "type filter: $(cat "$T/b0.jsonl")"
jq -s -e 'map(select(.event)) | (map(.event) | unique | length) > 1 and all(.[]; .event | startswith("input."))' "$T/b1.jsonl" >/dev/null ||
	fail "prefix filter: $(jq -s -c 'map(.event)' "$T/b1.jsonl")"
# the same filter, the same events up to the burst's last
cut=$(accepted "$T/b0.jsonl" | jq last)
upto() { jq -s -c --argjson c "$cut" 'map(select(.id) | .id | tonumber | select(. <= $c))' "$1"; }
for i in 3 5; do
	[ "$(upto "$T/b$i.jsonl")" = "$(upto "$T/b1.jsonl")" ] || fail "streams 1 and $i differ: $(upto "$T/b$i.jsonl")"
done
for i in 0 1 2 3 4 5; do kill "$(cat "$T/b$i.pid")"; done
# resume across kill -9 of the gateway: everything once
$SSE "$GW_URL/v1/events" "$GW_TOKEN" "$T/s1.jsonl" &
echo $! >"$T/s1.pid"
wait_for "the first stream" grep -q lifecycle.modules_started "$T/s1.jsonl"
p=$(gw_pid)
kill -9 "$p"
wait_for "the first stream ends" grep -q '"end"' "$T/s1.jsonl"
ctl restart a >/dev/null		# events while no gateway serves
ctl send m1 "while down" >/dev/null
last=$(jq -s -r 'map(select(.id)) | last | .id' "$T/s1.jsonl")
wait_for "the gateway again" gw_healthy
[ "$(gw_pid)" != "$p" ] || fail "same gateway pid"
$SSE "$GW_URL/v1/events" "$GW_TOKEN" "$T/s2.jsonl" --last-event-id "$last" &
echo $! >"$T/s2.pid"
wait_for "the resumed stream has the restart" grep -q '"input.consumed"' "$T/s2.jsonl"
first=$(jq -s -r 'map(select(.id)) | first | .id' "$T/s2.jsonl")
[ "$first" = $((last + 1)) ] || fail "resumed at $first after $last"
cat "$T/s1.jsonl" "$T/s2.jsonl" | jq -s -e 'map(select(.id) | .id | tonumber) | . == [range(1; length + 1)]' >/dev/null ||
    fail "missed or doubled: $(cat "$T/s1.jsonl" "$T/s2.jsonl" | jq -s -c 'map(select(.id) | .id | tonumber)')"
kill "$(cat "$T/s2.pid")"
# ?since= resumes too
$SSE "$GW_URL/v1/events?since=$last" "$GW_TOKEN" "$T/s3.jsonl" &
echo $! >"$T/s3.pid"
wait_for "since" grep -q '"id"' "$T/s3.jsonl"
[ "$(jq -s -r 'map(select(.id)) | first | .id' "$T/s3.jsonl")" = $((last + 1)) ] || fail "?since="
kill "$(cat "$T/s3.pid")"
# a streamed input: delta events, then one result, then the end
$SSE "$GW_URL/v1/members/m1/inputs" "$GW_TOKEN" "$T/in.jsonl" --post '{"text":"stream me"}'
jq -s -e 'map(select(.event == "delta")) | length >= 1 and (map(.data.delta) | join("") | test("stream me"))' "$T/in.jsonl" >/dev/null || fail "no delta: $(cat "$T/in.jsonl")"
jq -s -e 'map(select(.event == "result")) | length == 1 and (.[0].data.result.status == "completed") and (.[0].data.result.text | test("stream me"))' "$T/in.jsonl" >/dev/null || fail "no result: $(cat "$T/in.jsonl")"
jq -s -e '.[-2].event == "result" and .[-1].end == "eof"' "$T/in.jsonl" >/dev/null || fail "result not last: $(cat "$T/in.jsonl")"
# a slow client is dropped with a last event; a fast one sees everything
$SSE "$GW_URL/v1/events?name=m1" "$GW_TOKEN" "$T/fast.jsonl" &
echo $! >"$T/fast.pid"
$SSE "$GW_URL/v1/events?name=m1" "$GW_TOKEN" "$T/slow.jsonl" --slow 20 &
echo $! >"$T/slow.pid"
wait_for "the fast stream" grep -q '"id"' "$T/fast.jsonl"
big=$(head -c 60000 /dev/zero | tr '\0' x)
i=0
while [ $i -lt 80 ]; do
	hc -o /dev/null -d "{\"text\":\"$i $big\",\"key\":\"big$i\"}" "$GW_URL/v1/members/m1/inputs"
	i=$((i + 1))
done
wait_for "the fast one saw the last input run" sh -c "jq -s -e 'map(select(.event == \"run_completed\" and (.data.payload.text | test(\"turn [0-9]+\\\\): 79 \")))) | length == 1' $T/fast.jsonl"
wait_for "the slow one dropped" grep -q '"end"' "$T/slow.jsonl"
jq -s -e 'map(select(.event)) | last | .event == "dropped" and .data.error == "slow_client" and (.data.resume_from_seq > 0)' "$T/slow.jsonl" >/dev/null ||
    fail "slow client: $(tail -c 600 "$T/slow.jsonl")"
curl -sf "$GW_URL/healthz" >/dev/null || fail "the gateway suffered"
# a quiet stream gets a keep-alive comment every 15 s
curl -sN -H "Authorization: Bearer $GW_TOKEN" -H 'Accept: text/event-stream' \
    "$GW_URL/v1/events?type=nothing.matches" >"$T/quiet" 2>/dev/null &
echo $! >"$T/quiet.pid"
TIMEOUT=40 wait_for "a keep-alive" grep -q '^: keep-alive$' "$T/quiet"
kill "$(cat "$T/quiet.pid")"
echo ok
