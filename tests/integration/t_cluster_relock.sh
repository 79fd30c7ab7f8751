# Two mobkitds with one node_id: the session lock that refuses a second
# one at start is taken again whenever a node's connection comes back.
# n1 is stopped (SIGSTOP), its sessions are ended, and a second mobkitd
# with node_id n1 starts meanwhile (the lock is free): when the first one
# continues, its reconnection finds the lock taken and it stops, saying
# why, without letting the members go; the second runs them, and every
# acknowledged input is consumed once.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/pg.sh"
. "$(dirname "$0")/cluster.sh"
printf '[profile p]\nprovider = echo\n' >"$T/body.ini"
for i in 1 2; do printf '[member m%s]\nprofile = p\n' $i >>"$T/body.ini"; done
cl_setup "$T/body.ini" 3000
cl_start 1
held2() { [ "$(cl_held n1)" = 2 ]; }
wait_for "n1 holding both members" held2
wait_for "m1 healthy on n1" cl_healthy 1 m1
for i in 1 2 3; do
	out=$(njctl 1 send m1 "before $i" --wait) || cl_fail "send before: $out"
done
a=$(cl_pid 1)
kill -STOP "$a"
psql_q "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name LIKE 'mobkitd %'" >/dev/null
# the second mobkitd as node n1, on its own socket
sed "s|^control_socket = .*|control_socket = $T/n1b.sock|" "$T/n1.ini" >"$T/n1b.ini"
"$BIN/mobkitd" -c "$T/n1b.ini" >"$T/n1b.log" 2>&1 &
b=$!
echo "$b" >"$T/n1b.pid"
wait_for "the second n1's socket" test -S "$T/n1b.sock"
bctl() { "$BIN/mobkitctl" -s "$T/n1b.sock" --json "$@"; }
b_healthy() { [ "$(bctl status m1 | jq -r '.children[0].state')" = healthy ]; }
TIMEOUT=60 wait_for "m1 healthy on the second n1" b_healthy
kill -CONT "$a"
a_gone() { ! kill -0 "$a" 2>/dev/null; }
TIMEOUT=60 wait_for "the first n1 stopped" a_gone
wait "$a" 2>/dev/null
rc=$?
[ "$rc" != 0 ] || cl_fail "the first n1 exited 0"
grep -q "another mobkitd runs as node n1" "$T/n1.log" ||
	cl_fail "the first n1 did not say why it stopped: $(tail -5 "$T/n1.log")"
grep -q "shutting down (another mobkitd has this node_id)" "$T/n1.log" ||
	cl_fail "the first n1's shutdown: $(grep 'shutting down' "$T/n1.log")"
grep -q "let go of" "$T/n1.log" && cl_fail "the first n1 let the other's members go"
kill -0 "$b" 2>/dev/null || cl_fail "the second n1 is gone: $(tail -20 "$T/n1b.log")"
for i in 1 2 3; do
	out=$(bctl send m1 "after $i" --wait) || cl_fail "send after: $out"
done
b_healthy || cl_fail "m1 not healthy on the second n1"
# each input once, turns 1..6
conv=$(bctl conversation m1)
[ "$(echo "$conv" | jq '[.[] | select(.role == "user")] | length')" = 6 ] ||
	cl_fail "m1's conversation: $conv"
[ "$(echo "$conv" | jq -r '[.[] | select(.role == "assistant") | .content | capture("turn (?<n>[0-9]+)").n] | join(" ")')" = "1 2 3 4 5 6" ] ||
	cl_fail "m1's turns: $conv"
echo "the first n1 stopped (exit $rc): $(grep -o 'mobkit: node taken.*' "$T/n1.log" | head -1)"
