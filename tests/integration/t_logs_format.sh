# log_format = json: every line of mobkitd's stderr (and of its log files)
# is one JSON object {ts, level, child, msg}, whatever the child printed.
# When stderr is the journal (JOURNAL_STREAM names the file on fd 2), text
# lines begin with their syslog priority and carry no time of their own;
# when it names another file, or is not set, they do not.
. "$(dirname "$0")/lib.sh"
cat >"$T/talker.sh" <<'EOT'
echo 'plain line'
printf 'quote " backslash \\ tab \t bell \a end\n'
printf 'not utf-8: \377\376 end\n'
echo 'warn: careful now' >&2
echo '<3>an sd-daemon error' >&2
echo '{"event_type":"talker.json","payload":{}}'
exec sleep 600
EOT
cfg() {
	{ header; echo "$1"; cat <<EOT

[module talker]
command = /bin/sh
args = $T/talker.sh
ready = none
EOT
	} >"$CFG"
}

# --- json --------------------------------------------------------------
cfg "log_format = json
log_dir = logs"
start_daemon
wait_for "the talker's lines" grep -q 'talker.json' "$T/daemon.log"
wait_for "its stderr" grep -q 'sd-daemon' "$T/daemon.log"
kill -HUP "$DPID"	# a reload, logged too
wait_for "the reload" grep -q 'SIGHUP received' "$T/daemon.log"
jq -e . "$T/daemon.log" >/dev/null || fail "a line that is not JSON: $(grep -v '^{' "$T/daemon.log" | head -3)"
[ "$(jq -c . "$T/daemon.log" | wc -l)" -eq "$(wc -l <"$T/daemon.log")" ] || fail "not one object a line"
jq -e -s 'all(.[]; (.ts | type) == "string" and (.level | IN("error", "warn", "info", "debug")) and has("child") and (.msg | type) == "string")' \
    "$T/daemon.log" >/dev/null || fail "fields: $(head -2 "$T/daemon.log")"
jq -e -s 'map(select(.child == null and (.msg | startswith("mobkitd ")) and (.msg | contains("started")))) | length == 1' \
    "$T/daemon.log" >/dev/null || fail "the start line"
jq -e -s 'map(select(.child == "talker" and .stream == "stdout" and .msg == "quote \" backslash \\ tab \t bell \u0007 end")) | length == 1' \
    "$T/daemon.log" >/dev/null || fail "the escaped line: $(grep quote "$T/daemon.log")"
jq -e -s 'map(select(.child == "talker" and .msg == "not utf-8: \ufffd\ufffd end")) | length == 1' \
    "$T/daemon.log" >/dev/null || fail "the non-UTF-8 line: $(grep utf-8 "$T/daemon.log")"
jq -e -s 'map(select(.child == "talker" and .stream == "stderr" and .level == "warn" and .msg == "warn: careful now")) | length == 1' \
    "$T/daemon.log" >/dev/null || fail "the warn line: $(grep careful "$T/daemon.log")"
jq -e -s 'map(select(.child == "talker" and .level == "error" and .msg == "<3>an sd-daemon error")) | length == 1' \
    "$T/daemon.log" >/dev/null || fail "the <3> line: $(grep sd-daemon "$T/daemon.log")"
# the files too
jq -e -s 'length > 0 and all(.[]; .child == null)' "$T/logs/mobkitd.log" >/dev/null || fail "mobkitd.log: $(head -2 "$T/logs/mobkitd.log")"
jq -e -s 'length == 6 and all(.[]; .child == "talker")' "$T/logs/talker.log" >/dev/null || fail "talker.log: $(cat "$T/logs/talker.log")"
kill -TERM "$DPID"
wait_for "daemon exit" daemon_gone
jq -e . "$T/daemon.log" >/dev/null || fail "a shutdown line that is not JSON: $(tail -n 3 "$T/daemon.log")"
rm -f "$SOCK"

# --- the journal: <N>, no time ------------------------------------------
cfg ""
: >"$T/daemon.log"
export JOURNAL_STREAM="$(stat -c '%d:%i' "$T/daemon.log")"
start_daemon
unset JOURNAL_STREAM
wait_for "the talker's lines" grep -q 'sd-daemon' "$T/daemon.log"
wait_for "its stdout" grep -q 'talker.json' "$T/daemon.log"
grep -Eq '^<6>mobkitd info: mobkitd .* started' "$T/daemon.log" || fail "the start line: $(head -1 "$T/daemon.log")"
grep -q '^<6>mobkitd\[talker\] stdout: plain line$' "$T/daemon.log" || fail "a child's line: $(grep plain "$T/daemon.log")"
grep -q '^<4>mobkitd\[talker\] stderr: warn: careful now$' "$T/daemon.log" || fail "a child's warn line: $(grep careful "$T/daemon.log")"
grep -q '^<3>mobkitd\[talker\] stderr: <3>an sd-daemon error$' "$T/daemon.log" || fail "a child's <3> line"
bad=$(grep -Ev '^<[0-7]>' "$T/daemon.log" | head -3)
[ -z "$bad" ] || fail "lines without a priority: $bad"
grep -Eq '^<[0-7]>[0-9]{4}-' "$T/daemon.log" && fail "a journal line with its own time"
kill -TERM "$DPID"
wait_for "daemon exit" daemon_gone
rm -f "$SOCK"

# --- JOURNAL_STREAM naming another file: plain text with times ----------
: >"$T/other"
export JOURNAL_STREAM="$(stat -c '%d:%i' "$T/other")"
start_daemon
unset JOURNAL_STREAM
wait_for "the talker's lines" grep -q 'plain line' "$T/daemon.log"
grep -q '^<' "$T/daemon.log" && fail "a priority prefix when stderr is not the journal: $(grep '^<' "$T/daemon.log" | head -1)"
grep -Eq '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z mobkitd info: mobkitd .* started' "$T/daemon.log" ||
	fail "the start line: $(head -1 "$T/daemon.log")"
kill -TERM "$DPID"
wait_for "daemon exit" daemon_gone
rm -f "$SOCK"

# --- not set: the same ----------------------------------------------------
start_daemon
wait_for "the talker's lines" grep -q 'plain line' "$T/daemon.log"
grep -q '^<' "$T/daemon.log" && fail "a priority prefix without JOURNAL_STREAM"
grep -Eq '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z mobkitd\[talker\] stdout: plain line$' "$T/daemon.log" ||
	fail "a child's line: $(grep plain "$T/daemon.log")"
true
