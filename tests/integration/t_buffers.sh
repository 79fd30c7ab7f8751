# Byte-bounded buffers.  The event buffer keeps event_buffer_bytes: an
# older --since starts with a gap line.  A follower that does not read is
# dropped with a last "lagged" line once it owes client_buffer_bytes, and
# another client is answered meanwhile.  A reply larger than that cap (an
# events replay, an inputs listing) still arrives whole.
. "$(dirname "$0")/lib.sh"
{ header; cat <<EOT
event_buffer_bytes = 1048576
client_buffer_bytes = 65536

[profile p]
provider = echo

[member m]
profile = p
EOT
} >"$CFG"
start_daemon
wait_for "m healthy" is_state m healthy
# 200 KB inputs: each turn's events hold about three times that
head -c 200000 /dev/zero | tr '\0' a >"$T/in"
for i in 1 2 3 4 5 6 7 8; do
	jctl send m - --wait <"$T/in" >/dev/null || fail "send $i"
done

# --since older than the buffer: a gap line first, then what is kept
jctl events --since 1 >"$T/since" || fail "events --since 1"
head -1 "$T/since" | jq -e '.gap.from_seq == 2 and .gap.to_seq > 2' >/dev/null ||
	fail "no gap line: $(head -c 200 "$T/since")"
to=$(head -1 "$T/since" | jq .gap.to_seq)
[ "$(sed -n 2p "$T/since" | jq .seq)" = $((to + 1)) ] || fail "the line after the gap is not $((to + 1))"
jctl events --since "$((to + 1))" | head -1 | jq -e '.gap == null' >/dev/null || fail "a gap inside the buffer"

# a replay larger than client_buffer_bytes arrives whole, without a gap line
jctl events >"$T/all" || fail "events"
[ "$(wc -c <"$T/all")" -gt 65536 ] || fail "the replay is small: $(wc -c <"$T/all")"
jq -s -e '.[0].seq != null and ([.[].seq] as $s | [range(1; $s | length)] | all($s[.] == $s[. - 1] + 1))' \
    "$T/all" >/dev/null || fail "events replay not whole"
# so does an inputs listing larger than the cap
for i in $(seq 1 400); do
	jctl send m "short $i" --key "key-$i-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx" >/dev/null
done
[ "$(jctl inputs m | tee "$T/inputs" | jq length)" = 408 ] || fail "inputs: $(jq length "$T/inputs")"
[ "$(wc -c <"$T/inputs")" -gt 65536 ] || fail "the listing is small"

# a follower that does not read: dropped with a last "lagged" line
last=$(tail -1 "$T/all" | jq .seq)
mkfifo "$T/pipe"
exec 3<>"$T/pipe"	# keep the fifo open without reading it
"$BIN/mobkitctl" -s "$SOCK" --json events --follow --since "$last" >"$T/pipe" 2>"$T/follower.err" 3>&- &
rp=$!
for i in 1 2 3; do
	jctl send m - --wait <"$T/in" >/dev/null || fail "send while following"
done
wait_for "the follower dropped" grep -q "dropping an event follower.*lagged" "$T/daemon.log"
# nobody else waits
t0=$(date +%s%N)
jctl status m >/dev/null || fail "status while a follower lags"
[ $(( ($(date +%s%N) - t0) / 1000000 )) -lt 2000 ] || fail "status took too long"
exec 4<"$T/pipe"	# a reader, opened before the other end goes
exec 3>&-
cat <&4 >"$T/followed" &
cp=$!
exec 4<&-
wait "$rp"
rc=$?
wait "$cp"
[ $rc = 1 ] || fail "the lagged follower exited $rc"
tail -1 "$T/followed" | jq -e '.error == "lagged" and .resume_from_seq > '"$last" >/dev/null ||
	fail "last line: $(tail -1 "$T/followed" | head -c 200)"
grep -q "lagged" "$T/follower.err" || fail "no message: $(cat "$T/follower.err")"
# what it got before is the stream from where it started, in order
jq -s -e '.[:-1] | [.[].seq] as $s | [range(1; $s | length)] | all($s[.] == $s[. - 1] + 1)' \
    "$T/followed" >/dev/null || fail "the follower's stream has holes"
resume=$(tail -1 "$T/followed" | jq .resume_from_seq)
[ "$(tail -2 "$T/followed" | head -1 | jq .seq)" = $((resume - 1)) ] || fail "resume_from_seq is not the next event"
alive "$DPID" || fail "mobkitd died"
true
