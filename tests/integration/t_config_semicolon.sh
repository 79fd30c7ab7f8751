# A ';' after a blank starts a comment (inih). Inside quotes in a value
# split like a shell would (args, ...) it is kept; where a comment cuts a
# value of words, -t warns (FILE:LINE, exit 0) and so does the daemon's log.
. "$(dirname "$0")/lib.sh"
{ header; cat <<EOT
[module quoted]
command = /bin/sh
args = -c 'echo semi-one ; echo semi-two; exec sleep 1000'
ready = none
[module escaped]
command = /bin/sh
args = -c 'echo "arg=\$0"; exec sleep 1000' \;
ready = none
[module cut]
command = /bin/sh
args = -c 'exec sleep 1000' ; echo never
ready = none  ; an ordinary comment after one word: no warning
[schedule daily]
cron = @daily                      ; ordinary comment
member = m
message = "Daily report ; please"
[profile p]
provider = echo
[member m]
profile = p
EOT
} >"$CFG"
out=$("$BIN/mobkitd" -t -c "$CFG" 2>"$T/err"); rc=$?
[ $rc = 0 ] || fail "-t exit $rc: $(cat "$T/err")"
grep -q "^$CFG:15: warning: \`;\` starts a comment here; the value is cut to \"-c 'exec sleep 1000'\"" "$T/err" ||
	fail "no warning for the cut args: $(cat "$T/err")"
grep -q "^$CFG:20: warning: \`;\` starts a comment here; the value is cut to \"\"Daily report\"" "$T/err" ||
	fail "no warning for the cut message: $(cat "$T/err")"
[ "$(wc -l <"$T/err")" = 2 ] || fail "warnings for what is no cut: $(cat "$T/err")"
# the daemon logs the same warnings, and runs the values as they are read
start_daemon
grep -q "warn: $CFG:15: warning: \`;\` starts a comment" "$T/daemon.log" ||
	fail "no warning in the log"
wait_for "quoted's output" grep -q "semi-two" "$T/daemon.log"
grep -q "semi-one" "$T/daemon.log" || fail "the quoted ; cut the value"
wait_for "escaped's output" grep -q "arg=;" "$T/daemon.log"
wait_for "cut healthy" is_state cut healthy
grep -q never "$T/daemon.log" && fail "the comment ran"
# a quoted ';' in a list (stop words) reaches the profile too
{ header; cat <<EOT
[profile p]
provider = echo
stop = "a ; b" c
[member m]
profile = p
EOT
} >"$T/list.ini"
"$BIN/mobkitd" -t -c "$T/list.ini" 2>"$T/err" || fail "-t refused a quoted ; in a list: $(cat "$T/err")"
[ -s "$T/err" ] && fail "a warning for a quoted ; in a list: $(cat "$T/err")"
# a unit after a number is an error that names the unit the key counts in:
# milliseconds for a *_ms key, a plain number for bytes and counts
{ header; cat <<EOT
log_max_bytes = 10MiB
drain_timeout_ms = 5s
log_keep = five
EOT
} >"$T/units.ini"
"$BIN/mobkitd" -t -c "$T/units.ini" 2>"$T/err" && fail "-t took 10MiB"
grep -qx "$T/units.ini:5: log_max_bytes: bad value \"10MiB\": expected a whole number >= 0" "$T/err" ||
	fail "log_max_bytes: $(cat "$T/err")"
grep -qx "$T/units.ini:6: drain_timeout_ms: bad value \"5s\": expected milliseconds (a whole number >= 0)" "$T/err" ||
	fail "drain_timeout_ms: $(cat "$T/err")"
grep -qx "$T/units.ini:7: log_keep: bad value \"five\": expected a whole number >= 0" "$T/err" ||
	fail "log_keep: $(cat "$T/err")"
# as mobkit.ini(5) says: a comment after one word of a split value warns,
# after a number does not
{ header; cat <<EOT
include = nothing.d/*.ini ; drop-ins
drain_timeout_ms = 3000 ; three seconds
EOT
} >"$T/one.ini"
"$BIN/mobkitd" -t -c "$T/one.ini" 2>"$T/err" || fail "-t refused one.ini: $(cat "$T/err")"
grep -q "^$T/one.ini:5: warning: \`;\` starts a comment here; the value is cut to \"nothing.d/\*.ini\"" "$T/err" ||
	fail "no warning for the include: $(cat "$T/err")"
[ "$(wc -l <"$T/err")" = 1 ] || fail "warnings: $(cat "$T/err")"
exit 0
