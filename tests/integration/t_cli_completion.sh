# The bash completion of mobkitctl (etc/bash-completion/mobkitctl),
# sourced in bash: verbs, a verb's options, the live children's names
# (and groups for restart) from a running daemon; no names and no wait
# when the daemon is gone or does not answer.
. "$(dirname "$0")/lib.sh"
COMPL=$(cd "$(dirname "$0")/../.." && pwd)/etc/bash-completion/mobkitctl
[ -f "$COMPL" ] || fail "no $COMPL"
{ header; cat <<EOT
[group pool]
[module worker-1]
command = $MK
args = --ready none
group = pool
[module worker-2]
command = $MK
args = --ready none
group = pool
[module web]
command = $MK
args = --ready none
EOT
} >"$CFG"
# comp WORDS...: what the completion offers for the last word (sorted)
comp() {
	PATH="$BIN:$PATH" bash -c '
		. "$1"; shift
		complete -p mobkitctl >/dev/null || { echo "not registered"; exit 1; }
		COMP_WORDS=("$@"); COMP_CWORD=$(( $# - 1 ))
		COMP_LINE="$*"; COMP_POINT=${#COMP_LINE}
		_mobkitctl
		[ ${#COMPREPLY[@]} = 0 ] ||
		    printf "%s\n" "${COMPREPLY[@]}" | sort | tr "\n" " "' sh "$COMPL" "$@"
}

# verbs without a daemon
[ "$(comp mobkitctl res)" = "reset resolve restart " ] || fail "verb prefix: [$(comp mobkitctl res)]"
[ "$(comp mobkitctl is)" = "is-healthy " ] || fail "is-healthy: [$(comp mobkitctl is)]"
[ "$(comp mobkitctl route r)" = "rm " ] || fail "route r: [$(comp mobkitctl route r)]"
case "$(comp mobkitctl events --n)" in "--name ") ;; *) fail "events --n: [$(comp mobkitctl events --n)]" ;; esac
case "$(comp mobkitctl send w1 hi --)" in *--key*--stream*--timeout-ms*--wait*) ;; *)
	fail "send options: [$(comp mobkitctl send w1 hi --)]" ;; esac
case "$(comp mobkitctl --js)" in "--json ") ;; *) fail "--js: [$(comp mobkitctl --js)]" ;; esac
# no daemon: no names, exit at once
[ "$(comp mobkitctl -s "$SOCK" restart w)" = "" ] || fail "names with no daemon: [$(comp mobkitctl -s "$SOCK" restart w)]"

start_daemon
wait_for "web healthy" is_state web healthy
wait_for "worker-2 healthy" is_state worker-2 healthy
[ "$(comp mobkitctl -s "$SOCK" restart wo)" = "worker-1 worker-2 " ] ||
	fail "child-name prefix: [$(comp mobkitctl -s "$SOCK" restart wo)]"
[ "$(comp mobkitctl -s "$SOCK" restart p)" = "pool " ] || fail "group: [$(comp mobkitctl -s "$SOCK" restart p)]"
[ "$(comp mobkitctl -s "$SOCK" status w)" = "web worker-1 worker-2 " ] ||
	fail "status w: [$(comp mobkitctl -s "$SOCK" status w)]"
[ "$(comp mobkitctl -s "$SOCK" status p)" = "" ] || fail "a group offered to status"
[ "$(comp mobkitctl -s "$SOCK" events --name we)" = "web " ] || fail "--name: [$(comp mobkitctl -s "$SOCK" events --name we)]"
# -c FILE names the daemon too, and MOBKIT_SOCKET
[ "$(comp mobkitctl -c "$CFG" stop web)" = "web " ] || fail "-c: [$(comp mobkitctl -c "$CFG" stop web)]"
[ "$(MOBKIT_SOCKET=$SOCK comp mobkitctl kill web)" = "web " ] || fail "MOBKIT_SOCKET"

# a socket that accepts and never answers: no names, and no hang
python3 -c '
import socket, sys, time
s = socket.socket(socket.AF_UNIX); s.bind(sys.argv[1]); s.listen(8)
conns = []
while True:
    c, _ = s.accept(); conns.append(c)
' "$T/mute.sock" &
echo $! >"$T/mute.pid"
wait_for "the mute socket" test -S "$T/mute.sock"
start=$(date +%s)
[ "$(timeout 20 bash -c "$(declare -f comp); BIN=$BIN COMPL=$COMPL comp mobkitctl -s $T/mute.sock restart w")" = "" ] ||
	fail "names from a mute daemon"
[ $(( $(date +%s) - start )) -lt 15 ] || fail "completion waited on a mute daemon"
