# usage: the tokens the server reported, summed per member, kept across a
# worker restart; an aligned table for people.
. "$(dirname "$0")/lib.sh"
start_llm
{ header; cat <<EOT

[profile gpt]
provider = openai
model = test-model
base_url = http://127.0.0.1:$LLM_PORT/v1

[profile plain]
provider = echo

[member w]
profile = gpt

[member v]
profile = gpt

[member e]
profile = plain
EOT
} >"$CFG"
start_daemon
for m in w v e; do wait_for "$m healthy" is_state $m healthy; done
jctl usage | jq -e 'length == 3 and all(.[]; .input_tokens == 0 and .output_tokens == 0 and .turns == 0)' >/dev/null || fail "fresh: $(jctl usage)"
# the fixture reports 7 prompt tokens and one completion token a word
jctl send w "one" --wait >/dev/null		# "reply to: one": 3 words
jctl send w "two words" --wait >/dev/null	# 4 words
jctl send v "x" --wait >/dev/null
jctl send e "hi" --wait >/dev/null
out=$(jctl usage w)
echo "$out" | jq -e '. == [{"id":"w","input_tokens":14,"output_tokens":7,"turns":2}]' >/dev/null || fail "w: $out"
jctl usage | jq -e 'map(select(.id == "v"))[0] == {"id":"v","input_tokens":7,"output_tokens":3,"turns":1}' >/dev/null || fail "v: $(jctl usage)"
jctl usage e | jq -e '.[0].input_tokens == 0 and .[0].turns == 1' >/dev/null || fail "e: $(jctl usage e)"
# kept across a worker restart
p=$(member_pid w)
kill -KILL "$p"
wait_for "w back" sh -c "[ \"\$($BIN/mobkitctl -s $SOCK --json members | jq -r '.[] | select(.id == \"w\") | .pid')\" != $p ] && $BIN/mobkitctl -s $SOCK --json status w | jq -e '.children[0].state == \"healthy\"'"
jctl send w "again" --wait >/dev/null
jctl usage w | jq -e '.[0].input_tokens == 21 and .[0].output_tokens == 10 and .[0].turns == 3' >/dev/null || fail "after restart: $(jctl usage w)"
# people: a header and aligned columns
t=$(ctl usage)
echo "$t" | head -1 | grep -q '^ID  *INPUT_TOKENS  *OUTPUT_TOKENS  *TURNS$' || fail "table: $t"
echo "$t" | grep -q '^w  *21  *10  *3$' || fail "row: $t"
[ "$(echo "$t" | awk '{print length($0)}' | sort -u | wc -l)" = 1 ] || fail "not aligned: $t"
jctl usage nobody >/dev/null 2>&1 && fail "unknown member accepted"
# with state_dir: kept across a restart of mobkitd
kill -TERM "$DPID"
wait_for "mobkitd gone" daemon_gone
mkdir "$T/state"
sed -i "s|^control_socket = .*|&\nstate_dir = $T/state|" "$CFG"
start_daemon
wait_for "w healthy" is_state w healthy
jctl send w "one" --wait >/dev/null
jctl usage w | jq -e '.[0] == {"id":"w","input_tokens":7,"output_tokens":3,"turns":1}' >/dev/null || fail "state_dir: $(jctl usage w)"
kill -TERM "$DPID"
wait_for "mobkitd gone" daemon_gone
start_daemon
wait_for "w healthy" is_state w healthy
jctl usage w | jq -e '.[0] == {"id":"w","input_tokens":7,"output_tokens":3,"turns":1}' >/dev/null || fail "after a restart: $(jctl usage w)"
jctl send w "two words" --wait >/dev/null
jctl usage w | jq -e '.[0].input_tokens == 14 and .[0].output_tokens == 7 and .[0].turns == 2' >/dev/null || fail "counting on: $(jctl usage w)"
# a schema 2 store (no usage table) is migrated
kill -TERM "$DPID"
wait_for "mobkitd gone" daemon_gone
python3 -c "import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); c.execute('DROP TABLE usage'); c.execute('PRAGMA user_version=2'); c.commit()" "$T/state/mobkit.db"
start_daemon
wait_for "w healthy" is_state w healthy
grep -q "migrated from schema version 2 to 3" "$T/daemon.log" || fail "no migration"
jctl usage w | jq -e '.[0].turns == 0' >/dev/null || fail "migrated: $(jctl usage w)"
jctl send w "one" --wait >/dev/null
jctl usage w | jq -e '.[0].turns == 1' >/dev/null || fail "after migration: $(jctl usage w)"
echo ok
