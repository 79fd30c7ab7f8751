# Logging never blocks the loop: with stderr on a FIFO that nobody reads
# and a child logging heavily, mobkitctl still gets answers; once the FIFO
# is read again, the log says how many lines were dropped.
. "$(dirname "$0")/lib.sh"
{ header; cat <<EOT
[module noisy]
command = /bin/sh
args = -c 'yes "a line of noise from a chatty child, again and again" | head -n 300000 >&2; touch $T/noise.done; exec sleep 600'
ready = none

[module a]
command = $MK
EOT
} >"$CFG"
mkfifo "$T/err"
exec 3<>"$T/err"	# the FIFO has a reader that does not read
"$BIN/mobkitd" -c "$CFG" 2>"$T/err" &
DPID=$!
wait_for "the control socket" test -S "$SOCK"
wait_for "a healthy" is_state a healthy
# the noise is out: 300000 lines, far more than the FIFO and the queue hold
wait_for "the noisy child done" test -e "$T/noise.done"
for i in 1 2 3; do
	out=$(timeout 5 "$BIN/mobkitctl" -s "$SOCK" status a) || fail "status did not answer while stderr was full"
done
is_state noisy healthy || fail "noisy: $(state_of noisy)"
# now read the FIFO: the lines that fit, then the count of the rest
cat <&3 >"$T/read.log" &
reader=$!
wait_for "the dropped-lines report" grep -q "log lines dropped" "$T/read.log"
n=$(grep -o "[0-9]* log lines dropped" "$T/read.log" | head -1 | cut -d' ' -f1)
[ "$n" -gt 1000 ] || fail "only $n lines dropped"
# the loop goes on logging after the report
kill -HUP "$DPID"
wait_for "a line after the report" grep -q "SIGHUP received" "$T/read.log"
kill -TERM "$DPID"
wait_for "daemon exit" daemon_gone
kill "$reader" 2>/dev/null
exec 3>&-
true
