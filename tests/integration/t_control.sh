# The control socket: mode 0600, foreign uids refused, garbage drops only
# that client, and mobkitctl's exit codes.
. "$(dirname "$0")/lib.sh"
{ header; cat <<EOT
[module a]
command = $MK
EOT
} >"$CFG"
start_daemon
wait_for "a healthy" is_state a healthy
[ "$(stat -c %a "$SOCK")" = 600 ] || fail "socket mode $(stat -c %a "$SOCK")"
if [ "$(id -u)" = 0 ]; then
	setpriv --reuid=65534 --regid=65534 --clear-groups "$BIN/mobkitctl" -s "$SOCK" status >/dev/null 2>&1
	rc=$?; [ $rc = 3 ] || fail "nobody through a 0600 socket: exit $rc"
	chmod 666 "$SOCK"
	err=$(setpriv --reuid=65534 --regid=65534 --clear-groups "$BIN/mobkitctl" -s "$SOCK" status 2>&1)
	rc=$?; [ $rc = 1 ] || fail "foreign uid: exit $rc"
	echo "$err" | grep -q "permission denied: uid 65534" || fail "foreign uid said: $err"
	chmod 600 "$SOCK"
else
	echo "not root: the foreign-uid part needs root to change uid" >&2
fi
for how in garbage oversized truncated notmap; do
	"$TB/ctlclient" "$SOCK" $how >/dev/null || fail "$how did not drop the client"
done
is_state a healthy || fail "daemon unwell after bad clients"
# exit codes
ctl nosuchverb >/dev/null 2>&1; [ $? = 2 ] || fail "usage exit"
ctl status a b c >/dev/null 2>&1; [ $? = 2 ] || fail "arity exit"
ctl status nosuch >/dev/null 2>&1; [ $? = 1 ] || fail "refused exit"
"$BIN/mobkitctl" -s "$T/nothing.sock" status >/dev/null 2>&1; [ $? = 3 ] || fail "unreachable exit"
ctl kill a BOGUS >/dev/null 2>&1; [ $? = 1 ] || fail "bad signal exit"
# -c FILE finds the socket from the config
"$BIN/mobkitctl" -c "$CFG" status >/dev/null || fail "-c FILE"
MOBKIT_SOCKET=$SOCK "$BIN/mobkitctl" status >/dev/null || fail "MOBKIT_SOCKET"
