# The ring of each child is bounded by log_buffer_bytes: a child printing
# far more keeps only its newest lines (the oldest are dropped) and the
# daemon's memory does not grow with what it printed; a line longer than
# the ring is kept cut, with a marker, and whole in the daemon's log.  A
# logs -f reader that stops reading owes at most client_buffer_bytes:
# it gets a gap marker, never more of the daemon's memory.
. "$(dirname "$0")/lib.sh"
cat >"$T/flood.sh" <<EOT
yes "a line of noise from a chatty child, again and again, 0123456789" | head -n 300000
echo "the last line"
touch $T/flooded
while [ ! -e $T/long ]; do sleep 0.05; done
head -c 6000 /dev/zero | tr '\\0' x; echo
touch $T/longdone
exec sleep 600
EOT
cat >"$T/ticker.sh" <<EOT
while [ ! -e $T/tick ]; do sleep 0.05; done
i=0
while :; do
	printf 'tick %s %0200d\n' \$i 0
	i=\$((i+1))
	[ -e $T/slow ] && sleep 0.01
done
EOT
{ header; cat <<EOT
log_buffer_bytes = 4096
client_buffer_bytes = 65536

[module flood]
command = /bin/sh
args = $T/flood.sh
ready = none

[module ticker]
command = /bin/sh
args = $T/ticker.sh
ready = none
EOT
} >"$CFG"
start_daemon
wait_for "flood healthy" is_state flood healthy
rss() { awk '/^VmRSS/ { print $2 }' /proc/"$DPID"/status; }
before=$(rss)
wait_for "the flood (20 MB) to be out" test -e "$T/flooded"
wait_for "the last line kept" sh -c "\"$BIN/mobkitctl\" -s \"$SOCK\" logs flood -n 1 | grep -q 'the last line\$'"
after=$(rss)
jctl logs flood >"$T/ring"
bytes=$(jq -j '.line + "\n"' "$T/ring" | wc -c)
n=$(wc -l <"$T/ring")
[ "$bytes" -le 4096 ] || fail "the ring holds $bytes bytes of lines, log_buffer_bytes is 4096"
[ "$n" -gt 10 ] || fail "the ring holds only $n lines"
[ "$(tail -n 1 "$T/ring" | jq -r .line)" = "the last line" ] || fail "the newest line is not last"
# 300000 lines went by: the daemon log has them all, the ring only the last
[ "$(grep -c 'mobkitd\[flood\] stdout: a line of noise' "$T/daemon.log")" -ge 300000 ] ||
	fail "the daemon log lost lines: $(grep -c 'mobkitd\[flood\] stdout' "$T/daemon.log")"
echo "rss before ${before} kB, after 20 MB of output ${after} kB"
[ $((after - before)) -lt 16384 ] || fail "RSS grew from $before kB to $after kB"

# a line longer than the ring: cut, with a marker; whole in the daemon log
touch "$T/long"
wait_for "the long line" test -e "$T/longdone"
wait_for "the long line kept" sh -c "\"$BIN/mobkitctl\" -s \"$SOCK\" --json logs flood -n 1 | grep -q 'bytes cut'"
line=$(jctl logs flood -n 1 | jq -r .line)
case $line in
xxxxxxxxxx*"...["*" bytes cut]") ;;
*) fail "the long line in the ring: $(printf %s "$line" | tail -c 60)" ;;
esac
[ ${#line} -le 4096 ] || fail "the cut line is ${#line} bytes"
grep -q "mobkitd\[flood\] stdout: $(head -c 6000 /dev/zero | tr '\0' x)\$" "$T/daemon.log" ||
	fail "the long line is not whole in the daemon log"

# a follower that stops reading: a gap marker, the daemon stays small
mkfifo "$T/pipe"
"$BIN/mobkitctl" -s "$SOCK" --json logs -f -n 0 ticker >"$T/pipe" &
fp=$!
exec 3<>"$T/pipe"	# keep the fifo open without reading it
sleep 0.5		# the follower is registered before the ticking starts
before=$(rss)
touch "$T/tick"
wait_for "the follower to fall behind" grep -q "logs ticker: a follower is .* bytes behind" "$T/daemon.log"
after=$(rss)
echo "rss with a stuck follower: before ${before} kB, after ${after} kB"
[ $((after - before)) -lt 16384 ] || fail "RSS grew from $before kB to $after kB"
touch "$T/slow"
cat <&3 >"$T/followed" &
reader=$!
wait_for "the gap marker" grep -q '"gap":{"lines":' "$T/followed"
jq -e -s 'map(select(.gap != null)) | .[0].gap.lines > 0' "$T/followed" >/dev/null ||
	fail "the gap: $(grep gap "$T/followed" | head -1)"
# lines go on after the gap
wait_for "lines after the gap" sh -c "sed -n '/\"gap\"/,\$p' \"$T/followed\" | grep -q '\"line\":\"tick '"
alive "$fp" || fail "the follower was dropped"
kill "$fp" "$reader" 2>/dev/null
exec 3>&-
is_state ticker healthy || fail "ticker: $(state_of ticker)"
true
