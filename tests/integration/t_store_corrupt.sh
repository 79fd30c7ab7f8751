# A store that cannot be read is never started over: a zero-byte file,
# random bytes, pages overwritten in the middle, a truncated file, another
# application's database, a newer schema: mobkitd exits 1 naming the file
# and what is wrong, and -t says the same.  A store of the previous schema
# (no application id, user_version 0) is migrated and keeps its inputs.
. "$(dirname "$0")/lib.sh"
S=$T/state
DB=$S/mobkit.db
{ header; cat <<EOT
state_dir = $S

[profile p]
provider = echo

[member m1]
profile = p
EOT
} >"$CFG"

# refused WHAT: both mobkitd and mobkitd -t exit 1 naming the file and WHAT
refused() {
	timeout 30 "$BIN/mobkitd" -c "$CFG" >"$T/start.log" 2>&1
	rc=$?
	[ $rc = 1 ] || fail "$1: mobkitd exited $rc: $(cat "$T/start.log")"
	grep -q "$DB: .*$1" "$T/start.log" || fail "$1: not said: $(cat "$T/start.log")"
	"$BIN/mobkitd" -t -c "$CFG" >"$T/check.log" 2>&1
	rc=$?
	[ $rc = 1 ] || fail "$1: mobkitd -t exited $rc: $(cat "$T/check.log")"
	grep -q "$DB: .*$1" "$T/check.log" || fail "$1: -t did not say it: $(cat "$T/check.log")"
	[ -s "$DB" ] || [ "$1" = "zero-length" ] || fail "$1: the file was emptied"
}

mkdir -p "$S"
: >"$DB"
refused "zero-length"
head -c 65536 /dev/urandom >"$DB"
refused "not a mobkit store"

# a real store, big enough to damage in the middle of its pages
rm -rf "$S"
"$BIN/mobkitd" -t -c "$CFG" || fail "-t with no store yet"
start_daemon
wait_for "m1 healthy" is_state m1 healthy
pad=$(head -c 1500 /dev/zero | tr '\0' x)
i=0
while [ $i -lt 300 ]; do
	jctl send m1 "$i $pad" --key "k$i" >/dev/null || fail "send $i"
	i=$((i + 1))
done
wait_for "all consumed" sh -c "$BIN/mobkitctl -s $SOCK --json inputs m1 | jq -e 'length == 300 and all(.[]; .state == \"consumed\")'"
kill -TERM "$DPID"; wait "$DPID" 2>/dev/null
[ ! -s "$DB-wal" ] || fail "the write-ahead log was not checkpointed at exit"
size=$(stat -c %s "$DB")
[ "$size" -gt 1000000 ] || fail "the store is only $size bytes"
"$BIN/mobkitd" -t -c "$CFG" || fail "-t on a sound store"
cp "$DB" "$T/good.db"

dd if=/dev/urandom of="$DB" bs=4096 seek=$((size / 8192)) count=16 \
    conv=notrunc 2>/dev/null
refused "corrupt"

cp "$T/good.db" "$DB"
truncate -s $((size / 2 + 1000)) "$DB"
refused "truncated"

cp "$T/good.db" "$DB"
python3 -c "import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); c.execute('PRAGMA user_version=7'); c.commit()" "$DB"
refused "schema version 7 is newer"

rm -f "$DB"
python3 -c "import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); c.execute('CREATE TABLE notes (t TEXT)'); c.commit()" "$DB"
refused "not a mobkit store"

# the previous schema: migrated in place, nothing lost
rm -f "$DB"
python3 - "$DB" <<'EOF' || fail "making a version 0 store"
import sqlite3, sys
c = sqlite3.connect(sys.argv[1])
c.executescript("""
PRAGMA journal_mode=WAL;
CREATE TABLE inputs (id TEXT PRIMARY KEY, member TEXT NOT NULL, seq INTEGER
  NOT NULL, key TEXT, text TEXT NOT NULL, state INTEGER NOT NULL, attempts
  INTEGER NOT NULL, accepted_ms INTEGER, result TEXT, error TEXT);
CREATE TABLE messages (member TEXT NOT NULL, seq INTEGER PRIMARY KEY
  AUTOINCREMENT, data TEXT NOT NULL);
CREATE TABLE peers (a TEXT NOT NULL, b TEXT NOT NULL, PRIMARY KEY (a, b));
CREATE TABLE claims (schedule TEXT NOT NULL, due_ms INTEGER NOT NULL,
  PRIMARY KEY (schedule, due_ms));
CREATE TABLE deliveries (id TEXT PRIMARY KEY, record BLOB NOT NULL);
""")
import time
now = int(time.time() * 1000)
c.execute("INSERT INTO inputs VALUES ('in-old-1','m1',1,'old-done','hello',2,1,?,'echo (turn 1): hello',NULL)", (now,))
c.execute("INSERT INTO inputs VALUES ('in-old-2','m1',2,'old-queued','still here',0,0,?,NULL,NULL)", (now,))
c.execute("""INSERT INTO messages (member, data) VALUES ('m1', '[{"role":"user","content":"hello"},{"role":"assistant","content":"echo (turn 1): hello"}]')""")
c.commit()
c.close()
EOF
"$BIN/mobkitd" -t -c "$CFG" || fail "-t on a version 0 store"
start_daemon
wait_for "m1 healthy" is_state m1 healthy
grep -q "migrated from schema version 0 to 3" "$T/daemon.log" || fail "no migration said"
wait_for "the queued input consumed" sh -c "$BIN/mobkitctl -s $SOCK --json inputs m1 | jq -e 'map(select(.input_id == \"in-old-2\" and .state == \"consumed\")) | length == 1'"
out=$(jctl send m1 "again" --key old-done)
echo "$out" | jq -e '.outcome == "deduplicated" and .existing_input_id == "in-old-1"' \
    >/dev/null || fail "the old key: $out"
out=$(jctl send m1 "third" --wait)
echo "$out" | jq -e '.result.text == "echo (turn 3): third"' >/dev/null ||
	fail "the conversation was not carried over: $out"
kill -TERM "$DPID"; wait "$DPID" 2>/dev/null
v=$(python3 -c "import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); print(c.execute('PRAGMA user_version').fetchone()[0], hex(c.execute('PRAGMA application_id').fetchone()[0]))" "$DB")
[ "$v" = "3 0x6d6b6974" ] || fail "after the migration: $v"
