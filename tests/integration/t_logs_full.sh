# A log file that stops taking lines (the file size limit stands in for a
# full disk: writes fail with EFBIG as they would with ENOSPC) is said
# once, the daemon goes on supervising and answering, and once the file
# can be written again (logrotate moved it, SIGUSR1) it is, saying how
# many lines were lost meanwhile.
. "$(dirname "$0")/lib.sh"
cat >"$T/ticker.sh" <<EOT
i=0
while :; do printf 'tick %s %080d\n' \$i 0; i=\$((i+1)); sleep 0.005; done
EOT
{ header; cat <<EOT
log_dir = logs

[module ticker]
command = /bin/sh
args = $T/ticker.sh
ready = none

[module quiet]
command = /bin/sleep
args = 600
ready = none
EOT
} >"$CFG"
D=$T/logs
# stderr through a FIFO: the size limit (40 blocks: 20 or 40 KiB) is for
# the log files only
mkfifo "$T/err"
cat "$T/err" >"$T/daemon.log" &
catpid=$!
(ulimit -f 40 && exec "$BIN/mobkitd" -c "$CFG" 2>"$T/err") &
DPID=$!
wait_for "the control socket" test -S "$SOCK"
wait_for "ticker.log full" grep -q "log file $D/ticker.log: write: File too large" "$T/daemon.log"
sz=$(stat -c %s "$D/ticker.log")
[ "$sz" -le 40960 ] || fail "ticker.log is $sz bytes past the limit"
# a hundred more lines go by: said once, supervision goes on
n=$(grep -c 'mobkitd\[ticker\] stdout: tick' "$T/daemon.log")
wait_for "more ticks" sh -c "[ \$(grep -c 'mobkitd\[ticker\] stdout: tick' \"$T/daemon.log\") -ge $((n + 100)) ]"
[ "$(grep -c "log file $D/ticker.log" "$T/daemon.log")" -eq 1 ] ||
	fail "said $(grep -c "log file $D/ticker.log" "$T/daemon.log") times"
ctl kill quiet >/dev/null || fail "kill quiet"
wait_for "quiet restarted" sh -c "[ \$(\"$BIN/mobkitctl\" -s \"$SOCK\" --json status quiet | jq .children[0].restarts) -ge 1 ]"
wait_for "quiet healthy" is_state quiet healthy
is_state ticker healthy || fail "ticker: $(state_of ticker)"
# room again: logrotate moves the file away and sends SIGUSR1
mv "$D/ticker.log" "$D/ticker.log.1"
kill -USR1 "$DPID"
wait_for "said written again" grep -q "log file $D/ticker.log: written again ([0-9]* lines were lost)" "$T/daemon.log"
lost=$(grep -o "written again ([0-9]* lines" "$T/daemon.log" | grep -o '[0-9]*')
[ "$lost" -gt 0 ] || fail "lost $lost lines"
wait_for "new ticks in the new file" grep -q "stdout: tick" "$D/ticker.log"
kill -TERM "$DPID"
wait_for "daemon exit" daemon_gone
wait "$catpid"
grep -q "exiting with status 0" "$T/daemon.log" || fail "no clean exit"
true
