# [mobkitd] log_dir (relative to the config file): DIR/NAME.log per child
# and DIR/mobkitd.log, rotated at log_max_bytes keeping log_keep files;
# SIGUSR1 opens them again after logrotate's mv.  A file that cannot be
# written is said once in the log, never stops the daemon, and is written
# again once it can be.
. "$(dirname "$0")/lib.sh"
cat >"$T/burst.sh" <<EOT
i=0
while [ \$i -lt 2000 ]; do echo "burst line \$i of 2000, padded to be long enough"; i=\$((i+1)); done
touch $T/burst.done
while [ ! -e $T/again ]; do sleep 0.05; done
echo "after the move"
echo "after the move err" >&2
exec sleep 600
EOT
cat >"$T/ticker.sh" <<EOT
while [ ! -e $T/tick ]; do sleep 0.05; done
i=0
while :; do echo "tick \$i"; i=\$((i+1)); sleep 0.1; done
EOT
mkdir -p "$T/var/log"
{ header; cat <<EOT
log_dir = var/log/mobkit
log_max_bytes = 20000
log_keep = 3

[module burst]
command = /bin/sh
args = $T/burst.sh
ready = none

[module ticker]
command = /bin/sh
args = $T/ticker.sh
ready = none
EOT
} >"$CFG"
D=$T/var/log/mobkit
# ticker.log is a directory: it cannot be written until it is removed
mkdir -p "$D/ticker.log"
start_daemon
wait_for "the burst" test -e "$T/burst.done"
wait_for "burst.log written" grep -q "burst line 1999 of" "$D/burst.log"

# rotation: burst.log and .1 .. .3, none past log_max_bytes, no .4
for f in burst.log burst.log.1 burst.log.2 burst.log.3; do
	[ -f "$D/$f" ] || fail "no $f: $(ls "$D")"
	sz=$(stat -c %s "$D/$f")
	[ "$sz" -le 20000 ] || fail "$f is $sz bytes, log_max_bytes is 20000"
done
[ ! -e "$D/burst.log.4" ] || fail "log_keep = 3 kept a 4th file"
# the newest lines are in burst.log, in order, with their times and streams
grep -Eq '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z stdout: burst line 1999 of 2000' "$D/burst.log" ||
	fail "burst.log: $(tail -n 2 "$D/burst.log")"
first=$(head -n 1 "$D/burst.log.1" | sed 's/.*burst line \([0-9]*\) .*/\1/')
last=$(tail -n 1 "$D/burst.log.2" | sed 's/.*burst line \([0-9]*\) .*/\1/')
[ $((last + 1)) -eq "$first" ] || fail "burst.log.2 ends at $last, burst.log.1 starts at $first"
# the daemon's own lines, not the children's
grep -q 'mobkitd info: mobkitd .* started' "$D/mobkitd.log" || fail "mobkitd.log: $(head -3 "$D/mobkitd.log")"
grep -q 'burst line' "$D/mobkitd.log" && fail "a child's line in mobkitd.log"

# an unwritable file: said once, the daemon goes on
touch "$T/tick"
wait_for "ticks" sh -c "[ \$(grep -c 'mobkitd\[ticker\] stdout: tick' \"$T/daemon.log\") -ge 10 ]"
[ "$(grep -c "log file $D/ticker.log: open: Is a directory" "$T/daemon.log")" -eq 1 ] ||
	fail "the broken file was not said once: $(grep -c 'log file' "$T/daemon.log")"
grep -q "log file $D/ticker.log: open: Is a directory" "$D/mobkitd.log" || fail "not said in mobkitd.log"
is_state ticker healthy || fail "ticker: $(state_of ticker)"
rmdir "$D/ticker.log"
wait_for "ticker.log written" test -s "$D/ticker.log"
wait_for "said written again" grep -q "log file $D/ticker.log: written again ([0-9]* lines were lost)" "$T/daemon.log"

# logrotate's create mode: mv, then SIGUSR1 opens new files
mv "$D/burst.log" "$D/burst.log.moved"
mv "$D/mobkitd.log" "$D/mobkitd.log.moved"
kill -USR1 "$DPID"
wait_for "a new mobkitd.log" grep -q "SIGUSR1 received: reopening logs" "$D/mobkitd.log"
grep -q "SIGUSR1 received" "$D/mobkitd.log.moved" && fail "the line went to the moved file"
wait_for "a new burst.log" test -f "$D/burst.log"
touch "$T/again"
wait_for "the new line in the new burst.log" grep -q "stdout: after the move\$" "$D/burst.log"
wait_for "the new stderr line in the new burst.log" grep -q "stderr: after the move err\$" "$D/burst.log"
grep -q "after the move" "$D/burst.log.moved" && fail "the line went to the moved file"
alive "$DPID" || fail "the daemon died"
true
