# mobkitctl logs NAME [-n N] [-f]: a child's stdout and stderr lines with
# their times; -n the last N; -f the last 10, then each new line; a JSON
# event line on stdout is an event and stays in the log; an unknown name
# exits 1 naming it; a follower ends when its child is removed.
. "$(dirname "$0")/lib.sh"
cat >"$T/talker.sh" <<EOT
i=0
while [ \$i -lt 50 ]; do echo "out \$i"; i=\$((i+1)); done
echo "err 0" >&2
echo "err 1" >&2
echo '{"event_type":"talker.said","payload":{"n":7}}'
touch $T/talked
while [ ! -e $T/go ]; do sleep 0.05; done
echo "after go"
echo "after go err" >&2
exec sleep 600
EOT
{ header; cat <<EOT

[module talker]
command = /bin/sh
args = $T/talker.sh
ready = none

[module quiet]
command = /bin/sleep
args = 600
ready = none

[module painter]
command = /bin/sh
args = $T/painter.sh
ready = none
EOT
} >"$CFG"
printf 'printf "\\033]0;pwned\\007title\\tx\\n" >&2\nexec sleep 600\n' >"$T/painter.sh"
start_daemon
wait_for "the talker's lines" test -e "$T/talked"
wait_for "52 lines kept" sh -c "[ \$(\"$BIN/mobkitctl\" -s \"$SOCK\" --json logs talker | wc -l) -eq 53 ]"

# all of them, for people: local time, stream, text
ctl logs talker >"$T/all" || fail "logs talker exited $?"
grep -Eq '^[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3} stdout out 0$' "$T/all" ||
	fail "no human line for out 0: $(head -2 "$T/all")"
grep -Eq ' stderr err 1$' "$T/all" || fail "no stderr line: $(cat "$T/all")"

# --json: one object a line, in the order they were kept per stream
jctl logs talker >"$T/all.json"
jq -e -s 'length == 53 and all(.[]; (.ts_ms | type) == "number" and .name == "talker")' "$T/all.json" >/dev/null ||
	fail "json lines: $(head -3 "$T/all.json")"
[ "$(jq -r 'select(.stream == "stdout") | .line' "$T/all.json" | head -n 50 | tail -n 1)" = "out 49" ] ||
	fail "stdout order: $(jq -r 'select(.stream == "stdout") | .line' "$T/all.json" | tr '\n' ' ')"
[ "$(jq -r 'select(.stream == "stderr") | .line' "$T/all.json" | tr '\n' ' ')" = "err 0 err 1 " ] ||
	fail "stderr lines: $(jq -r 'select(.stream == "stderr") | .line' "$T/all.json")"

# the JSON event line: in the event stream and in logs
jctl events --type talker.said | jq -e -s 'length == 1 and .[0].name == "talker" and .[0].source == "module" and .[0].payload.n == 7' >/dev/null ||
	fail "the event: $(jctl events --type talker.said)"
jq -e -s 'map(select(.line | startswith("{\"event_type\":\"talker.said\""))) | length == 1' "$T/all.json" >/dev/null ||
	fail "the event line is not in logs"

# -n N: the last N lines
[ "$(jctl logs talker -n 3 | wc -l)" -eq 3 ] || fail "-n 3: $(jctl logs talker -n 3)"
[ "$(jctl logs -n 1 talker | jq -r .line)" = "$(tail -n 1 "$T/all.json" | jq -r .line)" ] ||
	fail "-n 1 is not the last line"
[ "$(jctl logs talker -n 0 | wc -l)" -eq 0 ] || fail "-n 0 printed lines"
[ "$(jctl logs talker -n 1000 | wc -l)" -eq 53 ] || fail "-n 1000"

# a child that printed nothing: nothing, exit 0
out=$(ctl logs quiet) || fail "logs quiet exited $?"
[ -z "$out" ] || fail "logs quiet printed: $out"

# an unknown name: exit 1, named
ctl logs nosuch >"$T/out" 2>"$T/err"
rc=$?
[ $rc -eq 1 ] || fail "logs nosuch exited $rc"
grep -q '"nosuch"' "$T/err" || fail "the error does not name it: $(cat "$T/err")"
# no name: a usage error
ctl logs >/dev/null 2>&1
rc=$?
[ $rc -eq 2 ] || fail "logs without a name exited $rc"

# -f: the last 10 lines, then each new one
"$BIN/mobkitctl" -s "$SOCK" --json logs -f talker >"$T/follow" 2>"$T/follow.err" &
fp=$!
wait_for "10 lines followed" sh -c "[ \$(wc -l <\"$T/follow\") -ge 10 ]"
sleep 0.3
[ "$(wc -l <"$T/follow")" -eq 10 ] || fail "-f printed $(wc -l <"$T/follow") lines before new ones"
[ "$(head -n 1 "$T/follow" | jq -r .line)" = "$(sed -n 44p "$T/all.json" | jq -r .line)" ] ||
	fail "-f did not start 10 lines from the end: $(head -n 1 "$T/follow")"
touch "$T/go"
wait_for "the new stdout line" grep -q '"line":"after go"' "$T/follow"
wait_for "the new stderr line" grep -q '"stream":"stderr","line":"after go err"' "$T/follow"
alive "$fp" || fail "the follower ended"

# -f -n 2 for people
"$BIN/mobkitctl" -s "$SOCK" logs talker -f -n 2 >"$T/follow2" &
fp2=$!
wait_for "2 lines followed" sh -c "[ \$(wc -l <\"$T/follow2\") -ge 2 ]"
sleep 0.3
[ "$(wc -l <"$T/follow2")" -eq 2 ] || fail "-f -n 2 printed $(wc -l <"$T/follow2") lines"

# on a terminal: a child's control characters are not sent to it (its
# escape sequence shown with '?', its tab kept), stderr in colour with an
# empty NO_COLOR as for every verb; a pipe gets the line as it came
wait_for "the painter's line" sh -c "\"$BIN/mobkitctl\" -s \"$SOCK\" logs painter | grep -q title"
ctl logs painter | grep -q "$(printf ' stderr \033]0;pwned\007title\tx$')" ||
	fail "a pipe did not get the line as it came: $(ctl logs painter | cat -v)"
export TERM=xterm
NO_COLOR= script -qc "$BIN/mobkitctl -s $SOCK logs painter" /dev/null >"$T/tty" </dev/null ||
	fail "logs on a pty"
grep -q "$(printf '\033\\[31mstderr\033\\[0m ?]0;pwned?title\tx')" "$T/tty" ||
	fail "logs on a terminal: $(cat -v "$T/tty")"
NO_COLOR=1 script -qc "$BIN/mobkitctl -s $SOCK logs painter" /dev/null >"$T/tty" </dev/null
grep -q 'stderr ?]0;pwned?title' "$T/tty" && ! grep -q "$(printf '\033')" "$T/tty" ||
	fail "logs with NO_COLOR: $(cat -v "$T/tty")"

# a follower whose reader went away ends at the next line, exit 0:
# "logs -f | head -n 1" does not hang
( "$BIN/mobkitctl" -s "$SOCK" logs painter -f -n 1; echo $? >"$T/h1.rc" ) |
	head -n 1 >"$T/h1" &
hp=$!
wait_for "head's line" test -s "$T/h1"
ctl restart painter >/dev/null || fail "restart painter"
wait_for "the follower to end when its reader went away" test -s "$T/h1.rc"
[ "$(cat "$T/h1.rc")" = 0 ] || fail "a follower without a reader exited $(cat "$T/h1.rc")"
wait $hp

# the child removed by a reload: its followers end, exit 0
{ header; cat <<EOT

[module quiet]
command = /bin/sleep
args = 600
ready = none
EOT
} >"$CFG"
ctl reload >/dev/null || fail "reload"
wait_for "the follower to end" dead "$fp"
wait "$fp"
rc=$?
[ $rc -eq 0 ] || fail "the follower exited $rc: $(cat "$T/follow.err")"
wait_for "the second follower to end" dead "$fp2"
ctl logs talker >/dev/null 2>&1
[ $? -eq 1 ] || fail "logs of a removed child did not exit 1"
true
