# Shutdown never waits more than 100 ms in all for control clients that do
# not read: six event followers whose output nobody reads hold megabytes
# of unsent events, and mobkitd still exits promptly.
. "$(dirname "$0")/lib.sh"
cat >"$T/burst.sh" <<EOT
test -e $T/go || exec sleep 600
yes '{"event_type":"burst.noise","payload":{"pad":"0123456789012345678901234567890123456789"}}' | head -n 5000
touch $T/burst.done
exec sleep 600
EOT
{ header; cat <<EOT
[module a]
command = $MK

[module burst]
command = /bin/sh
args = $T/burst.sh
ready = none
EOT
} >"$CFG"
start_daemon
wait_for "a healthy" is_state a healthy
pids=
for i in 1 2 3 4 5 6; do
	# a follower whose standard output nobody reads
	( "$BIN/mobkitctl" -s "$SOCK" events --follow | sleep 600 ) \
	    >/dev/null 2>&1 &
	pids="$pids $!"
done
wait_for "six followers" sh -c "[ \$(pgrep -c -f 'mobkitctl -s $SOCK events --follow') -ge 6 ]"
touch "$T/go"
ctl restart burst >/dev/null || fail "restart burst"
wait_for "the burst" test -e "$T/burst.done"
is_state a healthy || fail "the daemon does not answer"
start=$(date +%s%N)
kill -TERM "$DPID"
wait_for "daemon exit" daemon_gone
ms=$(( ($(date +%s%N) - start) / 1000000 ))
wait "$DPID"; rc=$?
[ $rc = 0 ] || fail "exit status $rc"
# stopping two modules takes a few ms; each non-reading client used to add 2 s
echo "shutdown took $ms ms"
[ $ms -lt 2000 ] || fail "shutdown took $ms ms with non-reading clients"
pkill -f "mobkitctl -s $SOCK events" 2>/dev/null
for p in $pids; do pkill -P "$p" 2>/dev/null; kill "$p" 2>/dev/null; done
true
