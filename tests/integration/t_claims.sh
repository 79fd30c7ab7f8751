# Schedule claims are bounded as inputs are: past input_retention_max per
# schedule the oldest are forgotten, in memory and on disk; never the
# latest (where the scheduler resumes).  A forgotten claim fires anew, a
# remembered one is skipped, however old.
. "$(dirname "$0")/lib.sh"
{ header; cat <<EOT
state_dir = $T/state
input_retention_max = 3

[profile p]
provider = echo

[member w]
profile = p

[schedule daily]
cron = 0 9 * * *
timezone = UTC
member = w
message = report
EOT
} >"$CFG"
DAY=86400000
AT0=1767607200000	# 2026-01-05 10:00 UTC: due 09:00 that day
due() { echo $((AT0 - 3600000 + $1 * DAY)); }
on_disk() {
	python3 - "$T/state" <<'PY'
import glob, sqlite3, sys
db = sqlite3.connect(glob.glob(sys.argv[1] + "/*.db")[0])
print(" ".join(str(r[0]) for r in db.execute(
    "SELECT due_ms FROM claims WHERE schedule = 'daily' ORDER BY due_ms")))
PY
}

start_daemon
wait_for "w healthy" is_state w healthy
for d in 0 1 2 3 4 5 6 7; do
	out=$(jctl tick --at $((AT0 + d * DAY))) || fail "tick day $d: $out"
	echo "$out" | jq -e --arg k "daily:$(due $d)" \
	    '.dispatched | map(.claim_key) == [$k]' >/dev/null ||
		fail "day $d not dispatched: $out"
done
# remembered: the newest three; a second tick of day 7 is skipped
out=$(jctl tick --at $((AT0 + 7 * DAY)))
echo "$out" | jq -e '.dispatched == [] and (.skipped_claims | length == 1)' \
    >/dev/null || fail "day 7 again: $out"
[ "$(jctl schedules | jq -r '.[0].last_claim_due_ms')" = "$(due 7)" ] ||
	fail "last claim: $(jctl schedules)"
want="$(due 5) $(due 6) $(due 7)"
disk_is() { [ "$(on_disk)" = "$want" ]; }
wait_for "the claims on disk to be the newest three" disk_is
# forgotten: day 1 fires anew (its input's key is forgotten too); the
# latest claim stays the latest
out=$(jctl tick --at $((AT0 + 1 * DAY)))
echo "$out" | jq -e --arg k "daily:$(due 1)" '.dispatched | map(.claim_key) == [$k]' \
    >/dev/null || fail "a forgotten claim did not fire anew: $out"
[ "$(jctl schedules | jq -r '.[0].last_claim_due_ms')" = "$(due 7)" ] ||
	fail "last claim after an old tick: $(jctl schedules)"
# across a restart: what is on disk is what is remembered
out=$(jctl shutdown) || fail "shutdown: $out"
wait "$DPID" 2>/dev/null
DPID=
n=$(python3 -c "import glob,sqlite3; print(sqlite3.connect(glob.glob('$T/state/*.db')[0]).execute(\"SELECT COUNT(*) FROM claims\").fetchone()[0])")
[ "$n" -le 4 ] || fail "$n claims on disk, at most 4 expected"
start_daemon
wait_for "w healthy again" is_state w healthy
out=$(jctl tick --at $((AT0 + 7 * DAY)))
echo "$out" | jq -e '.dispatched == []' >/dev/null || fail "day 7 after the restart: $out"
