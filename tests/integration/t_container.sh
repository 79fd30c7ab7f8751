# The runtime contract of etc/Dockerfile, without a Docker engine: the
# image's file tree (make install PREFIX=/usr plus the config the
# Dockerfile copies) laid over /usr and /etc in a new mount and PID
# namespace, /run and the /var/lib volume private, the Dockerfile's exact
# CMD run as an unprivileged user (its USER), so mobkitd is PID 1.  Its
# HEALTHCHECK command passes once the tree is healthy; its STOPSIGNAL
# shuts the tree down in order, exit 0, the state kept in the volume; the
# config's drain and stop timeouts fit in docker stop's default 10 s.
. "$(dirname "$0")/lib.sh"
SRC=$(cd "$(dirname "$0")/../.." && pwd)
DF=$SRC/etc/Dockerfile
ABIN=$(cd "$BIN" && pwd)
ABUILD=$(cd "$TB/.." && pwd)
R=$T/root
unshare --pid --fork --mount-proc true 2>/dev/null ||
	fail "cannot create a PID namespace here (needs root)"

# what the Dockerfile says
cmd=$(sed -n 's/^CMD //p' "$DF" | jq -r '.[]') || fail "CMD: $(grep ^CMD "$DF")"
health=$(sed -n '/^HEALTHCHECK/,/CMD/p' "$DF" | sed -n 's/.*CMD //p' | jq -r '.[]') ||
	fail "HEALTHCHECK: $(grep -A1 ^HEALTHCHECK "$DF")"
stopsig=$(sed -n 's/^STOPSIGNAL SIG//p' "$DF")
ini=$(sed -n 's|.*install -m 644 \(etc/[^ ]*\) /out/etc/mobkit/mobkit.ini.*|\1|p' "$DF")
grep -q '^FROM debian:12-slim' "$DF" || fail "not Debian 12 slim"
[ "$(sed -n 's/^USER //p' "$DF")" = mobkit ] || fail "USER is not mobkit"
[ "$stopsig" = TERM ] || fail "STOPSIGNAL SIG$stopsig"
[ -n "$ini" ] && [ -f "$SRC/$ini" ] || fail "the config the Dockerfile copies: '$ini'"
[ "$(echo "$cmd" | head -n 1)" = /usr/sbin/mobkitd ] || fail "CMD: $cmd"
echo "$health" | tr '\n' ' ' | grep -qx '/usr/bin/mobkitctl is-healthy ' ||
	fail "HEALTHCHECK: $health"

# docker stop waits 10 s: drain + members + each module, one by one
ms() { sed -n "s/^$1 *= *\([0-9]*\).*/\1/p" "$SRC/$ini"; }
nmod=$(grep -c '^\[module ' "$SRC/$ini")
worst=$(( $(ms drain_timeout_ms) + $(ms stop_timeout_ms) * (nmod + 1) ))
[ "$worst" -le 10000 ] || fail "shutdown may take $worst ms, docker stop waits 10000"

# the image's tree, as its build stage makes it
make -C "$SRC" --no-print-directory BUILD="$ABUILD" BINDIR="$ABIN" \
    PREFIX=/usr DESTDIR="$R" install >"$T/make.log" 2>&1 ||
	fail "make install: $(cat "$T/make.log")"
install -m 644 "$SRC/$ini" "$R/etc/mobkit/mobkit.ini"
mkdir -p "$T/run/mobkit" "$T/varlib/mobkit"
chown 65534:65534 "$T/run/mobkit" "$T/varlib/mobkit"
SOCK=$T/run/mobkit/mobkitd.sock
inner=
# unshare ignores SIGTERM while it waits: stop mobkitd itself first
trap 'rc=$?; [ -n "$inner" ] && [ -n "$DPID" ] && kill -TERM "$inner" 2>/dev/null &&
    sleep 1; (exit $rc); cleanup' EXIT

# shellcheck disable=SC2086
unshare --pid --fork --mount-proc --kill-child sh -c '
	mount -t overlay overlay -o lowerdir="$1/usr":/usr /usr &&
	mount -t overlay overlay -o lowerdir="$1/etc":/etc /etc &&
	mount --bind "$2/run" /run && mount --bind "$2/varlib" /var/lib || exit 70
	shift 2
	exec setpriv --reuid=65534 --regid=65534 --clear-groups "$@"' \
    sh "$R" "$T" $cmd >"$T/daemon.log" 2>&1 &
DPID=$!
wait_for "the control socket" test -S "$SOCK"
inner=$(pgrep -P "$DPID" | head -n 1)
[ -n "$inner" ] || fail "no process under unshare"
[ "$(jctl status | jq .daemon.pid)" = 1 ] || fail "not PID 1: $(jctl status | jq .daemon)"
[ "$(awk '/^Uid:/ { print $2 }' /proc/"$inner"/status)" = 65534 ] ||
	fail "mobkitd is not running as the unprivileged user"
for c in router delivery scheduler assistant-1; do
	wait_for "$c healthy" is_state $c healthy
done

# the HEALTHCHECK, run where docker runs it: in the container, as USER
hc() {
	# shellcheck disable=SC2086
	nsenter -t "$inner" -m -p -S 65534 -G 65534 $health
}
wait_for "the HEALTHCHECK command to pass" hc
# the children are the image's, from /usr/libexec/mobkit
rpid=$(pid_of router)
exe=$(nsenter -t "$inner" -m -p readlink "/proc/$rpid/exe")
[ "$exe" = /usr/libexec/mobkit/mobkit-router ] || fail "router runs $exe"
out=$(jctl send assistant-1 hello --wait) || fail "send: $out"
[ "$(echo "$out" | jq -r .result.status)" = completed ] || fail "send: $out"
# a child that dies is restarted, and the HEALTHCHECK follows the tree
nsenter -t "$inner" -m -p kill -KILL "$rpid" || fail "kill router"
router_moved() { [ "$(pid_of router)" != "$rpid" ]; }
wait_for "router restarted" router_moved
wait_for "router healthy again" is_state router healthy
wait_for "the HEALTHCHECK command to pass again" hc

# docker stop: STOPSIGNAL to PID 1, then an ordered shutdown, exit 0
kill -"$stopsig" "$inner"
wait "$DPID"
rc=$?
DPID=
[ $rc = 0 ] || fail "mobkitd as PID 1 exited $rc on SIG$stopsig"
grep -q "shutdown complete" "$T/daemon.log" || fail "no ordered shutdown"
[ -n "$(find "$T/varlib/mobkit" -type f)" ] || fail "no state in the volume"
true
