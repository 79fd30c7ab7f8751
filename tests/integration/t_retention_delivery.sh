# Retention of delivery records (file sink): at most
# delivery_retention_max finished records, for delivery_retention_ms; a
# replay of a remembered key sends nothing, a forgotten key is delivered
# anew.  In memory, then with state_dir across a kill -9.
. "$(dirname "$0")/lib.sh"

# config EXTRA: router, delivery, a file route
config() {
	{ header; printf '%s\n' "$1"; cat <<EOT

[module router]
command = mobkit-router

[module delivery]
command = mobkit-delivery

[route file]
recipient = audit
channel = *
sink = file
target = $T/audit.jsonl
EOT
	} >"$CFG"
}

up() {
	start_daemon
	wait_for "delivery healthy" is_state delivery healthy
	wait_for "router healthy" is_state router healthy
}
lines() { wc -l <"$T/audit.jsonl"; }
dl() { jctl deliver audit --payload "{\"n\":$1}" --key "d$1"; }

# caps LABEL: 12 keyed deliveries d0..d11 were made
caps() {
	jctl deliveries | jq -e 'length == 5 and all(.[]; .status == "sent") and
	    map(.key) == ["d11","d10","d9","d8","d7"]' >/dev/null ||
		fail "$1: $(jctl deliveries | jq -c 'map(.key)')"
	n=$(lines)
	out=$(dl 11) || fail "$1: replay: $out"
	echo "$out" | jq -e '.replayed == true and .status == "sent"' >/dev/null ||
		fail "$1: replay: $out"
	[ "$(lines)" = "$n" ] || fail "$1: a replay was written"
	err=$(ctl deliver audit --payload '{"n":"other"}' --key d11 2>&1) &&
		fail "$1: another payload under a remembered key: $err"
	out=$(dl 0) || fail "$1: a forgotten key: $out"
	echo "$out" | jq -e '.replayed == false and .status == "sent"' >/dev/null ||
		fail "$1: a forgotten key: $out"
	[ "$(lines)" = $((n + 1)) ] || fail "$1: a forgotten key was not written"
	[ "$(jctl deliveries | jq length)" = 5 ] || fail "$1: $(jctl deliveries | jq length) records"
}

config "delivery_retention_max = 5"
up
for i in 0 1 2 3 4 5 6 7 8 9 10 11; do dl $i >/dev/null || fail "d$i"; done
[ "$(lines)" = 12 ] || fail "$(lines) lines written"
caps "in memory"
kill -TERM "$DPID"; wait "$DPID" 2>/dev/null

rm -f "$T/audit.jsonl"
config "delivery_retention_max = 5
state_dir = $T/state"
up
for i in 0 1 2 3 4 5 6 7 8 9 10 11; do dl $i >/dev/null || fail "d$i"; done
caps "state_dir"
kill -9 "$DPID"; wait "$DPID" 2>/dev/null
up
jctl deliveries | jq -e 'length == 5 and .[0].key == "d0" and .[1].key == "d11"' \
    >/dev/null || fail "after kill -9: $(jctl deliveries | jq -c 'map(.key)')"
n=$(lines)
out=$(dl 10) || fail "after kill -9: replay: $out"
echo "$out" | jq -e '.replayed == true' >/dev/null || fail "after kill -9: $out"
err=$(ctl deliver audit --payload '{"n":"other"}' --key d10 2>&1) &&
	fail "after kill -9: another payload under a remembered key: $err"
out=$(dl 3) || fail "after kill -9: a forgotten key: $out"
echo "$out" | jq -e '.replayed == false' >/dev/null || fail "after kill -9: $out"
[ "$(lines)" = $((n + 1)) ] || fail "after kill -9: lines"
kill -TERM "$DPID"; wait "$DPID" 2>/dev/null

# delivery_retention_ms: forgotten after it
for extra in "" "state_dir = $T/state2"; do
	config "delivery_retention_ms = 1500
$extra"
	up
	out=$(jctl deliver audit --payload '{"z":1}' --key z1) || fail "z1: $out"
	out=$(jctl deliver audit --payload '{"z":1}' --key z1)
	echo "$out" | jq -e '.replayed == true' >/dev/null || fail "z1 at once: $out"
	wait_for "z1 forgotten (${extra:-in memory})" sh -c \
	    "$BIN/mobkitctl -s $SOCK --json deliveries | jq -e 'length == 0'"
	out=$(jctl deliver audit --payload '{"z":2}' --key z1) ||
		fail "z1 once forgotten: $out"
	echo "$out" | jq -e '.replayed == false' >/dev/null || fail "z1 once forgotten: $out"
	kill -TERM "$DPID"; wait "$DPID" 2>/dev/null
done
