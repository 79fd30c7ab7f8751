# A cluster of three nodes, each with its scheduler and delivery module:
# a schedule due on every node fires once per due time (the database's
# claim row decides, the others record it as fired elsewhere), and a
# delivery key used on two nodes is delivered once.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/pg.sh"
. "$(dirname "$0")/cluster.sh"
python3 "$FIX/hookserver.py" "$T/hook.port" "$T/hook.log" &
echo $! >"$T/hook.pid"
wait_for "the hook fixture" test -s "$T/hook.port"
H=http://127.0.0.1:$(cat "$T/hook.port")
cat >"$T/body.ini" <<EOT
[module scheduler]
command = mobkit-scheduler

[module router]
command = mobkit-router

[module delivery]
command = mobkit-delivery

[route hook]
recipient = hook
channel = *
sink = webhook
target = $H/ok

[profile p]
provider = echo

[member w]
profile = p

[schedule beat]
interval = */2s
member = w
message = beat
EOT
cl_setup "$T/body.ini" 3000
cl_start 1; cl_start 2; cl_start 3
mod_ok() { [ "$(njctl "$1" status "$2" | jq -r '.children[0].state')" = healthy ]; }
for n in 1 2 3; do
	for m in scheduler router delivery; do
		wait_for "n$n's $m healthy" mod_ok $n $m
	done
done
owned() { [ -n "$(owner_of w)" ]; }
wait_for "w taken by a node" owned

# --- the schedule: each due time once in the whole cluster -------------
executed() { # every node's executed claim keys, "node key" lines
	for k in 1 2 3; do
		njctl $k events --type runtime.injection.executed |
		    jq -r "select(.payload.schedule_id == \"beat\") | \"n$k \" + .payload.claim_key"
	done
}
t0=$(date +%s%3N)
enough() { [ "$(executed | wc -l)" -ge 5 ]; }
wait_for "five firings" enough
executed >"$T/executed"
t1=$(date +%s%3N)
echo "executed over $((t1 - t0)) ms:"; cat "$T/executed"
dups=$(awk '{print $2}' "$T/executed" | sort | uniq -d)
[ -z "$dups" ] || cl_fail "a due time fired on more than one node: $dups"
# the due times fired are consecutive (none lost between the first and last)
awk '{sub(/^beat:/, "", $2); print $2}' "$T/executed" | sort -n >"$T/dues"
first=$(head -1 "$T/dues"); last=$(tail -1 "$T/dues"); n=$(wc -l <"$T/dues")
[ $(((last - first) / 2000 + 1)) = "$n" ] || cl_fail "due times missed: $(tr '\n' ' ' <"$T/dues")"
# the other nodes skipped each one, naming the node that fired it
skipped() {
	for k in 1 2 3; do
		njctl $k events --type runtime.injection.skipped |
		    jq -r "select(.payload.schedule_id == \"beat\") | .payload.claim_key + \" \" + .payload.node_id"
	done
}
skips_named() { # every due time but the first (a node may have started
	       # after it) skipped by the two other nodes, naming the winner
	skipped >"$T/skipped"
	for d in $(sed -n '2,$p' "$T/dues"); do
		winner=$(grep " beat:$d\$" "$T/executed" | awk '{print $1}')
		[ "$(grep -c "^beat:$d $winner\$" "$T/skipped")" = 2 ] || return 1
	done
}
wait_for "the other nodes' skips" skips_named
# the member consumed each due time's input exactly once
consumed() {
	njctl 1 inputs w | jq -r '.[] | select(.state == "consumed" and (.key // "" | startswith("beat:"))) | .key'
}
all_consumed() {
	for d in $(cat "$T/dues"); do
		[ "$(consumed | grep -c "^beat:$d\$")" = 1 ] || return 1
	done
}
wait_for "each due time consumed once" all_consumed
[ -z "$(consumed | sort | uniq -d)" ] || cl_fail "an input consumed twice: $(consumed | sort | uniq -d)"
[ "$(psql_q "select count(*) from mobkit.inputs where member = 'w' and key like 'beat:%' and key in ($(sed "s/.*/'beat:&'/" "$T/dues" | paste -sd,))")" = "$n" ] ||
	cl_fail "inputs in the database: $(psql_q "select key from mobkit.inputs where member = 'w'")"
echo "schedule: $n due times, each fired by one node, consumed once"
# tick: a due time dispatched on n3 is a skipped claim on n1
at=1767603600000
out=$(njctl 3 tick --at $at) || cl_fail "n3 tick: $out"
echo "$out" | jq -e '.dispatched | map(.claim_key) | index("beat:1767603600000") != null' >/dev/null || cl_fail "n3 tick: $out"
out=$(njctl 1 tick --at $at) || cl_fail "n1 tick: $out"
echo "$out" | jq -e '.dispatched == [] and (.skipped_claims | index("beat:1767603600000") != null)' >/dev/null || cl_fail "n1 tick: $out"
njctl 1 events --type runtime.injection.skipped | jq -e -s 'map(.payload) | map(select(.claim_key == "beat:1767603600000")) | length == 1 and .[0].node_id == "n3"' >/dev/null ||
	cl_fail "n1's skip: $(njctl 1 events --type runtime.injection.skipped | tail -2)"
echo "tick: n3 dispatched, n1 skipped (fired by n3)"

# --- a delivery key: once in the whole cluster -------------------------
hits() { jq -r "select(.kind == \"http\" and .key == \"$1\") | .key" "$T/hook.log" 2>/dev/null | wc -l; }
out1=$(njctl 1 deliver hook --payload '{"n":1}' --key k1) || cl_fail "n1 deliver: $out1"
echo "$out1" | jq -e '.status == "sent" and .replayed == false' >/dev/null || cl_fail "n1 deliver: $out1"
out2=$(njctl 2 deliver hook --payload '{"n":1}' --key k1) || cl_fail "n2 deliver: $out2"
echo "$out2" | jq -e --arg id "$(echo "$out1" | jq -r .delivery_id)" \
    '.replayed == true and .delivery_id == $id and .status == "sent"' >/dev/null ||
	cl_fail "n2 with n1's key: $out2 (n1: $out1)"
# the same key with another payload is refused on a third node
out3=$(njctl 3 deliver hook --payload '{"n":2}' --key k1 2>&1) && cl_fail "another payload taken: $out3"
echo "$out3" | grep -q "different payload" || cl_fail "another payload: $out3"
# at the same time on two nodes: one request
njctl 1 deliver hook --payload '{"n":3}' --key k2 >"$T/k2.1" 2>&1 &
p1=$!
njctl 2 deliver hook --payload '{"n":3}' --key k2 >"$T/k2.2" 2>&1 &
p2=$!
wait $p1 || cl_fail "n1 k2: $(cat "$T/k2.1")"
wait $p2 || cl_fail "n2 k2: $(cat "$T/k2.2")"
[ "$(jq -s 'map(.delivery_id) | unique | length' "$T/k2.1" "$T/k2.2")" = 1 ] ||
	cl_fail "two deliveries for k2: $(cat "$T/k2.1" "$T/k2.2")"
[ "$(jq -s 'map(select(.replayed)) | length' "$T/k2.1" "$T/k2.2")" = 1 ] ||
	cl_fail "k2 answers: $(cat "$T/k2.1" "$T/k2.2")"
one_k2() { [ "$(hits k2)" -ge 1 ]; }
wait_for "k2 delivered" one_k2
sleep 1		# (a second request would have come by now)
[ "$(hits k1)" = 1 ] || cl_fail "k1 reached the server $(hits k1) times"
[ "$(hits k2)" = 1 ] || cl_fail "k2 reached the server $(hits k2) times"
[ "$(psql_q "select count(*) from mobkit.delivery_keys")" = 2 ] ||
	cl_fail "keys: $(psql_q "select idem, id, node_id from mobkit.delivery_keys")"
echo "delivery: k1 (n1 then n2) and k2 (n1 and n2 at once) each reached the server once"

# a node that starts loads every node's records: another node's pending
# delivery is not sent from there (4 attempts in all, n1's)
njctl 1 deliver "$H/down" --payload '{"n":4}' --key k3 --retry-max 3 --backoff-ms 1500 >"$T/k3" 2>&1 &
p3=$!
tried() { [ "$(hits k3)" -ge 1 ]; }
wait_for "k3's first attempt" tried
p2=$(cl_pid 2)
cl_signal 2 TERM
n2_gone() { ! kill -0 "$p2" 2>/dev/null; }
wait_for "n2 stopped" n2_gone
rm -f "$T/n2.sock"
cl_start 2
wait_for "n2's delivery healthy" mod_ok 2 delivery
njctl 2 deliveries | jq -e 'map(select(.key == "k3")) | length == 1' >/dev/null ||
	cl_fail "n2 does not know k3: $(njctl 2 deliveries)"
wait $p3
jq -e '.status == "failed" and (.attempts | length) == 4' "$T/k3" >/dev/null || cl_fail "k3: $(cat "$T/k3")"
sleep 2		# (n2's module would have sent by now)
[ "$(hits k3)" = 4 ] || cl_fail "k3 reached the server $(hits k3) times, not 4"
# and n2 answers a replay of it (as n1 wrote it), sending nothing
out=$(njctl 2 deliver "$H/down" --payload '{"n":4}' --key k3)
echo "$out" | jq -e '.replayed == true and .status == "failed"' >/dev/null || cl_fail "k3 on n2: $out"
[ "$(hits k3)" = 4 ] || cl_fail "k3's replay was sent"
echo "delivery: a pending delivery of n1 is not sent by n2 when n2 restarts"

# a node that dies with a delivery pending: a live node takes the record
# over (once its lease has run out) and goes on with the attempts left
njctl 1 deliver "$H/down" --payload '{"n":5}' --key k4 --retry-max 5 --backoff-ms 500 >/dev/null 2>&1 &
tried4() { [ "$(hits k4)" -ge 1 ]; }
wait_for "k4's first attempt" tried4
cl_signal 1 KILL
k4_node() { psql_q "select d.node_id from mobkit.deliveries d join mobkit.delivery_keys k on k.id = d.id where k.idem like '%k4'"; }
taken4() { n=$(k4_node); [ -n "$n" ] && [ "$n" != n1 ]; }
TIMEOUT=60 wait_for "k4 taken over by a live node" taken4
n4=$(k4_node)
done4() { njctl "${n4#n}" deliveries | jq -e 'map(select(.key == "k4" and .status == "failed")) | length == 1' >/dev/null; }
TIMEOUT=90 wait_for "k4 finished on $n4" done4
att=$(njctl "${n4#n}" deliveries | jq -r 'map(select(.key == "k4"))[0].attempts | length')
[ "$att" -ge 6 ] || cl_fail "k4 finished after $att attempts, not 6"
[ "$(hits k4)" -ge 6 ] || cl_fail "k4 reached the server $(hits k4) times"
grep -q "taken over from a node that is gone" "$T/$n4.log" || cl_fail "no takeover in $n4's log"
echo "delivery: n1 killed with k4 pending; $n4 took it over, $(hits k4) attempts in all"
