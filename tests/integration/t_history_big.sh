# A conversation larger than a frame (256 MiB) on disk: the restarted
# worker is handed its newest whole turns that fit, comes up healthy and
# goes on from there; the older turns stay on disk, and the log says so.
. "$(dirname "$0")/lib.sh"
# carrying and parsing 250 MiB takes long on a loaded machine or under
# AddressSanitizer: generous deadlines (mobkitd gives the worker a second
# per 2 MiB handed over on top of its start_timeout_ms)
BIG_WAIT=300
{ header; cat <<EOT
state_dir = $T/state

[profile p]
provider = echo

[member m]
profile = p
EOT
} >"$CFG"
start_daemon
wait_for "m healthy" is_state m healthy
out=$(jctl send m "first" --wait) || fail "first: $out"
out=$(jctl shutdown) || fail "shutdown: $out"
wait "$DPID" 2>/dev/null
DPID=
# 300 turns of 1 MiB each behind the first, written as mobkitd writes them
python3 - "$T/state" <<'PY' || fail "cannot write the conversation"
import glob, json, sqlite3, sys
db = sqlite3.connect(glob.glob(sys.argv[1] + "/*.db")[0])
pad = "x" * (1024 * 1024 - 100)
with db:
    for i in range(300):
        turn = [{"role": "user", "content": "old %d %s" % (i, pad)},
                {"role": "assistant", "content": "ok %d" % i}]
        db.execute("INSERT INTO messages (member, data) VALUES (?, ?)",
                   ("m", json.dumps(turn)))
PY
start_daemon
TIMEOUT=$BIG_WAIT wait_for "m healthy with a 300 MiB conversation" is_state m healthy
out=$(jctl send m "after" --wait --timeout-ms 300000) || fail "after: $out"
text=$(echo "$out" | jq -r .result.text)
# the newest 240-260 turns fit in a hand-over (the first one does not)
n=$(echo "$text" | sed -n 's/^echo (turn \([0-9]*\)): after$/\1/p')
[ -n "$n" ] && [ "$n" -gt 240 ] && [ "$n" -lt 262 ] ||
	fail "handed back the wrong part of the conversation: $text"
grep -q "m: the conversation is over .* bytes: the worker is handed its newest turns, [0-9]* older ones stay on disk" \
    "$T/daemon.log" || fail "no word in the log of the turns left out"
# nothing was deleted from disk
rows=$(python3 -c "import glob,sqlite3; print(sqlite3.connect(glob.glob('$T/state/*.db')[0]).execute(\"SELECT COUNT(*) FROM messages WHERE member = 'm'\").fetchone()[0])")
[ "$rows" = 302 ] || fail "$rows turns on disk, 302 expected"
grep -q "m: handing over [0-9]* bytes of conversation: [0-9]* ms more to become ready" \
    "$T/daemon.log" || fail "no word in the log of the longer deadline"
