# Control requests: whatever is wrong with a request (bytes that are not
# msgpack, a frame over the limit, fields of the wrong type, an argument
# of the wrong type, missing or unknown (named), arguments as an argv
# array, an unknown verb, no protocol version or another one), the client
# gets the error
# before it is dropped, and the daemon goes on serving everybody else.
. "$(dirname "$0")/lib.sh"
{ header; cat <<EOT
[module a]
command = $MK
EOT
} >"$CFG"
start_daemon
wait_for "a healthy" is_state a healthy
# a follower stays connected through all of it
jctl events --follow >"$T/follow.out" 2>&1 &
FPID=$!
echo $FPID >"$T/follower.pid"
wait_for "the follower" grep -q lifecycle.mob_started "$T/follow.out"
check() { # check MODE EXPECTED-ERROR
	out=$("$TB/ctlclient" "$SOCK" "$1") || fail "$1: not dropped: $out"
	printf '%s\n' "$out" | grep -qxF "error: $2" || fail "$1: said: $out"
	printf '%s\n' "$out" | tail -1 | grep -qx dropped || fail "$1: $out"
	grep -qF "control client" "$T/daemon.log" || fail "$1: not logged"
	is_state a healthy || fail "after $1: the daemon does not answer"
}
check garbage "bad request: malformed msgpack"
check truncated "bad request: truncated msgpack"
check oversized "bad request: frame larger than the limit"
check notmap "bad request: message is not a map"
check notrequest "bad request: message type 44 (FIRE) is not a request"
check wrongtypes 'bad request: "verb" is an integer, not a string'
check badargs 'bad request: status: "name" is an integer, not a string'
check missingarg 'bad request: kill: "name" is required'
check unknownarg 'bad request: status: unknown field "colour"'
check argsarray 'bad request: "args" is an array, not a map'
check unknownverb 'bad request: unknown verb "frobnicate"'
check noversion "bad request: the first request carries no protocol version (mobkitd speaks 1)"
check badversion "protocol version 2, expected 1"
alive "$FPID" || fail "the follower was dropped"
ctl kill a HUP >/dev/null || fail "a request after the bad ones"
wait_for "the follower sees on" grep -q child.exited "$T/follow.out"
exit 0
