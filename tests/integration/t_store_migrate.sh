# A store of schema version 1 (made here exactly as mobkitd 1 made it:
# AUTOINCREMENT messages, the per-member index of finish times) is
# migrated to the current version in one transaction at open and keeps its finished
# and queued inputs, their keys, the conversation, the claims and the
# delivery records.
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

mkdir -p "$S"
python3 - "$DB" <<'EOF' || fail "making a version 1 store"
import sqlite3, sys, time
c = sqlite3.connect(sys.argv[1])
c.executescript("""
PRAGMA journal_mode=WAL;
CREATE TABLE IF NOT EXISTS inputs (id TEXT PRIMARY KEY, member TEXT NOT NULL,
  seq INTEGER NOT NULL, key TEXT, text TEXT NOT NULL, state INTEGER NOT NULL,
  attempts INTEGER NOT NULL, accepted_ms INTEGER, result TEXT, error TEXT,
  fin INTEGER);
CREATE TABLE IF NOT EXISTS messages (member TEXT NOT NULL, seq INTEGER
  PRIMARY KEY AUTOINCREMENT, data TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS peers (a TEXT NOT NULL, b TEXT NOT NULL,
  PRIMARY KEY (a, b));
CREATE TABLE IF NOT EXISTS claims (schedule TEXT NOT NULL, due_ms INTEGER
  NOT NULL, PRIMARY KEY (schedule, due_ms));
CREATE TABLE IF NOT EXISTS deliveries (id TEXT PRIMARY KEY, record BLOB
  NOT NULL);
CREATE TABLE IF NOT EXISTS meta (k TEXT PRIMARY KEY, v);
CREATE INDEX IF NOT EXISTS inputs_key ON inputs (member, key) WHERE key IS
  NOT NULL;
CREATE INDEX IF NOT EXISTS inputs_fin ON inputs (member, fin) WHERE fin IS
  NOT NULL;
CREATE INDEX IF NOT EXISTS messages_member ON messages (member, seq);
PRAGMA application_id=1835755892;
PRAGMA user_version=1;
""")
now = int(time.time() * 1000)
ins = "INSERT INTO inputs VALUES (?,?,?,?,?,?,?,?,?,?,?)"
c.execute(ins, ('in-v1-1', 'm1', 1, 'k-one', 'hello', 2, 1, now - 2000,
    'echo (turn 1): hello', None, now - 1900))
c.execute(ins, ('in-v1-2', 'm1', 2, 'k-two', 'again', 2, 1, now - 1000,
    'echo (turn 2): again', None, now - 900))
c.execute(ins, ('in-v1-3', 'm1', 3, 'k-three', 'still queued', 0, 0, now,
    None, None, None))
for i, t in ((1, 'hello'), (2, 'again')):
    c.execute("INSERT INTO messages (member, data) VALUES ('m1', ?)",
        ('[{"role":"user","content":"%s"},{"role":"assistant",'
         '"content":"echo (turn %d): %s"}]' % (t, i, t),))
c.execute("INSERT INTO claims VALUES ('nightly', ?)", (now + 86400000,))
def s(x):
    b = x.encode()
    return bytes([0xa0 | len(b)]) + b
rec = {'id': 'dl-v1', 'recipient': 'https://example.invalid/x',
       'sink': 'webhook', 'target': 'https://example.invalid/x',
       'payload': '{"a":1}', 'key': 'dkey-v1'}
blob = bytes([0x80 | (len(rec) + 2)])
for k, v in rec.items():
    blob += s(k) + s(v)
blob += s('status') + bytes([1]) + s('fin_ms') + b'\xd3' + now.to_bytes(8, 'big')
c.execute("INSERT INTO deliveries VALUES ('dl-v1', ?)", (blob,))
c.commit()
c.close()
EOF
"$BIN/mobkitd" -t -c "$CFG" || fail "-t on a version 1 store"
start_daemon
wait_for "m1 healthy" is_state m1 healthy
grep -q "migrated from schema version 1 to 3" "$T/daemon.log" ||
	fail "no migration said: $(cat "$T/daemon.log")"
wait_for "the queued input consumed" sh -c "$BIN/mobkitctl -s $SOCK --json inputs m1 | jq -e 'map(select(.input_id == \"in-v1-3\" and .state == \"consumed\")) | length == 1'"
ids=$(jctl inputs m1 | jq -c 'map(.input_id)')
[ "$ids" = '["in-v1-1","in-v1-2","in-v1-3"]' ] || fail "the inputs: $ids"
for k in one two; do
	out=$(jctl send m1 "dup" --key "k-$k")
	echo "$out" | jq -e '.outcome == "deduplicated"' >/dev/null ||
		fail "the key k-$k: $out"
done
out=$(jctl send m1 "fourth" --wait)
echo "$out" | jq -e '.result.text == "echo (turn 4): fourth"' >/dev/null ||
	fail "the conversation was not carried over: $out"
jctl deliveries | jq -e 'map(select(.key == "dkey-v1" and .status == "sent")) | length == 1' >/dev/null ||
	fail "the delivery record: $(jctl deliveries)"
kill -TERM "$DPID"; wait "$DPID" 2>/dev/null
python3 - "$DB" <<'EOF' || fail "after the migration"
import sqlite3, sys
c = sqlite3.connect(sys.argv[1])
q = lambda s: c.execute(s).fetchall()
v = q("PRAGMA user_version")[0][0], q("PRAGMA application_id")[0][0]
assert v == (3, 0x6d6b6974), v
sql = q("SELECT sql FROM sqlite_master WHERE name = 'messages'")[0][0]
assert 'AUTOINCREMENT' not in sql, sql
idx = sorted(r[0] for r in q("SELECT name FROM sqlite_master WHERE type = "
    "'index' AND sql IS NOT NULL"))
assert idx == ['inputs_done', 'inputs_key', 'messages_member'], idx
assert q("SELECT COUNT(*) FROM claims WHERE schedule = 'nightly'")[0][0] == 1
assert q("SELECT COUNT(*) FROM deliveries WHERE id = 'dl-v1'")[0][0] == 1
turns = q("SELECT seq, data FROM messages WHERE member = 'm1' ORDER BY seq")
assert len(turns) == 4 and 'fourth' in turns[-1][1], turns
assert q("SELECT COUNT(*) FROM usage")[0][0] >= 0
assert q("PRAGMA quick_check")[0][0] == 'ok'
EOF
