# make deb builds a lintian-clean package (tags left are explained in
# debian/mobkit.lintian-overrides); dpkg -i installs it to /usr with the
# mobkit system user, the unit and /etc/mobkit/mobkit.ini as a conffile;
# mobkitd -t passes on the shipped config, and the packaged tree runs as
# the mobkit user on it (its directories made as systemd would).  dpkg -r
# leaves only the config (and the state); dpkg --purge leaves nothing of
# the package, its config or its state.  The mobkit user stays, as Debian
# keeps system users.  Needs root (dpkg); builds in the source tree's
# build-deb/.
. "$(dirname "$0")/lib.sh"
SRC=$(cd "$(dirname "$0")/../.." && pwd)
[ "$(id -u)" = 0 ] || fail "t_deb needs root (dpkg -i)"
for tool in dh lintian dpkg-deb; do
	command -v $tool >/dev/null || fail "$tool is missing (etc/deps.sh installs it)"
done
if dpkg-query -W -f='${Status}' mobkit 2>/dev/null | grep -q installed; then
	fail "a mobkit package is installed already: dpkg --purge mobkit first"
fi
installed=0
# our own cleanup first: the packaged daemon, then the package
trap 'rc=$?; [ -n "$DPID" ] && kill -TERM "$DPID" 2>/dev/null && sleep 1;
    [ $installed = 1 ] && dpkg --purge mobkit >/dev/null 2>&1; (exit $rc); cleanup' EXIT

start=$(date +%s)
env -u MAKEFLAGS -u MFLAGS make -C "$SRC" --no-print-directory deb \
    DEB_OUT="$T/out" >"$T/make.log" 2>&1 || fail "make deb: $(tail -n 30 "$T/make.log")"
echo "make deb: $(( $(date +%s) - start )) s"
deb=$(ls "$T"/out/mobkit_*.deb) || fail "no .deb in $T/out"
grep -E '^[EW]: ' "$T/make.log" && fail "lintian: $(grep -E '^[EW]: ' "$T/make.log")"

dpkg-deb -c "$deb" | awk '{ print $6 }' | sed 's|^\./|/|' >"$T/contents"
for f in /usr/sbin/mobkitd /usr/bin/mobkitctl /etc/mobkit/mobkit.ini \
    /lib/systemd/system/mobkitd.service /usr/libexec/mobkit/mobkit-worker \
    /usr/libexec/mobkit/mobkit-router /usr/libexec/mobkit/mobkit-delivery \
    /usr/libexec/mobkit/mobkit-scheduler /usr/libexec/mobkit/mobkit-gateway \
    /usr/libexec/mobkit/mobkit-mcp /usr/share/man/man8/mobkitd.8.gz; do
	grep -qx "$f" "$T/contents" || fail "$f not in the package"
done
! grep -q '^/usr/local' "$T/contents" || fail "the package ships /usr/local"

dpkg -i "$deb" >"$T/dpkg.log" 2>&1 || fail "dpkg -i: $(cat "$T/dpkg.log")"
installed=1
dpkg-query -L mobkit | sort >"$T/listed"
dpkg-query -W -f='${Conffiles}\n' mobkit | awk 'NF { print $1 }' >"$T/conffiles"
[ "$(cat "$T/conffiles")" = /etc/mobkit/mobkit.ini ] ||
	fail "conffiles: $(cat "$T/conffiles")"

# the mobkit system user, which the unit runs as
ent=$(getent passwd mobkit) || fail "no mobkit user"
uid=$(echo "$ent" | cut -d: -f3)
[ "$uid" -lt 1000 ] || fail "mobkit is not a system user: $ent"
[ "$(echo "$ent" | cut -d: -f6)" = /var/lib/mobkit ] || fail "home: $ent"
getent group mobkit >/dev/null || fail "no mobkit group"
grep -qx 'User=mobkit' /lib/systemd/system/mobkitd.service || fail "unit user"
grep -qx 'ExecStart=/usr/sbin/mobkitd -c /etc/mobkit/mobkit.ini' \
    /lib/systemd/system/mobkitd.service || fail "unit: $(grep ExecStart \
    /lib/systemd/system/mobkitd.service)"

/usr/sbin/mobkitd -t -c /etc/mobkit/mobkit.ini >"$T/t.out" 2>&1 ||
	fail "mobkitd -t on the shipped config: $(cat "$T/t.out")"

# the packaged tree as the unit would run it: the mobkit user, the
# directories of StateDirectory= and RuntimeDirectory=, PATH without
# libexec; mobkitctl as root finds the default socket
[ ! -e /run/mobkit ] || fail "/run/mobkit exists before the test"
install -d -o mobkit -g mobkit -m 750 /var/lib/mobkit /run/mobkit
env -i PATH=/usr/bin:/bin setpriv --reuid=mobkit --regid=mobkit --clear-groups \
    /usr/sbin/mobkitd -c /etc/mobkit/mobkit.ini >"$T/daemon.log" 2>&1 &
DPID=$!
wait_for "/run/mobkit/mobkitd.sock" test -S /run/mobkit/mobkitd.sock
SOCK=/run/mobkit/mobkitd.sock
for c in router delivery scheduler assistant-1; do
	wait_for "$c healthy" is_state $c healthy
done
out=$(/usr/bin/mobkitctl --json send assistant-1 hello --wait) ||
	fail "mobkitctl (default socket) send: $out"
[ "$(echo "$out" | jq -r .result.status)" = completed ] || fail "send: $out"
/usr/bin/mobkitctl --json shutdown >/dev/null || fail "shutdown"
wait_for "mobkitd gone" daemon_gone
DPID=
[ -n "$(find /var/lib/mobkit -type f)" ] || fail "no state in /var/lib/mobkit"

# dpkg -r: every file but the conffile is gone
dpkg -r mobkit >"$T/dpkg.log" 2>&1 || fail "dpkg -r: $(cat "$T/dpkg.log")"
while read -r f; do
	[ -d "$f" ] && continue
	grep -qx "$f" "$T/conffiles" && continue
	[ ! -e "$f" ] && [ ! -L "$f" ] || fail "dpkg -r left $f"
done <"$T/listed"
[ -f /etc/mobkit/mobkit.ini ] || fail "dpkg -r removed the config"

# dpkg --purge: nothing of the package, its config, its state or its
# service links is left; the user stays
dpkg --purge mobkit >"$T/dpkg.log" 2>&1 || fail "dpkg --purge: $(cat "$T/dpkg.log")"
installed=0
while read -r f; do
	[ -d "$f" ] && continue		# /usr, /etc...: ours are below
	[ ! -e "$f" ] && [ ! -L "$f" ] || fail "dpkg --purge left $f"
done <"$T/listed"
for p in /etc/mobkit /var/lib/mobkit /var/log/mobkit /run/mobkit \
    /usr/libexec/mobkit /usr/share/doc/mobkit; do
	[ ! -e "$p" ] || fail "dpkg --purge left $p: $(ls -A "$p")"
done
left=$(find /etc/systemd /var/lib/systemd -name 'mobkitd*' 2>/dev/null)
[ -z "$left" ] || fail "dpkg --purge left service links: $left"
getent passwd mobkit >/dev/null || fail "purge removed the mobkit user"
true
