# make install PREFIX=/usr into a DESTDIR lays out the tree mobkitd(8)
# FILES names; a tree started from there, with nothing of ours on PATH,
# runs every module, the gateway, an MCP bridge and a member from
# libexec/mobkit; a second install keeps an edited config; make uninstall
# leaves the config alone.  PREFIX=/usr/local puts the config in
# /usr/local/etc and names it in the unit; so does SYSCONFDIR=.  The
# Dockerfile (read, no engine here): its config stops within docker
# stop's 10 s, its runtime stage has every library the programs need.
. "$(dirname "$0")/lib.sh"
SRC=$(cd "$(dirname "$0")/../.." && pwd)
ABIN=$(cd "$BIN" && pwd)
ABUILD=$(cd "$TB/.." && pwd)
R=$T/root
# the binaries under test are those of MOBKIT_BIN, not rebuilt
mk() {
	make -C "$SRC" --no-print-directory BUILD="$ABUILD" BINDIR="$ABIN" "$@" \
	    >>"$T/make.log" 2>&1 || { cat "$T/make.log"; fail "make $*"; }
}

mk install PREFIX=/usr DESTDIR="$R"
for f in usr/sbin/mobkitd usr/bin/mobkitctl; do
	[ -x "$R/$f" ] || fail "$f not installed"
done
mods="mobkit-worker mobkit-router mobkit-delivery mobkit-scheduler
    mobkit-gateway mobkit-mcp"
for m in $mods; do
	[ -x "$R/usr/libexec/mobkit/$m" ] || fail "libexec/mobkit/$m not installed"
	cmp -s "$ABIN/$m" "$R/usr/libexec/mobkit/$m" || fail "$m differs"
done
[ "$(ls "$R/usr/bin")" = mobkitctl ] || fail "usr/bin holds: $(ls "$R/usr/bin")"
[ "$(ls "$R/usr/sbin")" = mobkitd ] || fail "usr/sbin holds: $(ls "$R/usr/sbin")"
for p in man1/mobkitctl.1 man5/mobkit.ini.5 man8/mobkitd.8 man8/mobkit-gateway.8; do
	[ -f "$R/usr/share/man/$p" ] || fail "man page $p not installed"
done
if [ -f "$SRC/etc/bash-completion/mobkitctl" ]; then
	cmp -s "$SRC/etc/bash-completion/mobkitctl" \
	    "$R/usr/share/bash-completion/completions/mobkitctl" ||
		fail "bash completion not installed"
fi
u=$R/usr/lib/systemd/system/mobkitd.service
grep -qx 'ExecStart=/usr/sbin/mobkitd -c /etc/mobkit/mobkit.ini' "$u" ||
	fail "unit: $(grep ExecStart "$u")"
! grep -q '@[A-Z]*@' "$u" || fail "unit left a placeholder: $(grep '@' "$u")"
cmp -s "$SRC/etc/mobkit-system.ini" "$R/etc/mobkit/mobkit.ini" ||
	fail "the config is not etc/mobkit-system.ini"
[ -f "$R/usr/share/doc/mobkit/README.md" ] || fail "no README in share/doc/mobkit"
"$R/usr/sbin/mobkitd" -t -c "$R/etc/mobkit/mobkit.ini" >"$T/t.out" 2>&1 ||
	fail "-t on the installed config: $(cat "$T/t.out")"

# a tree from the installed binaries: PATH has nothing of ours
{ header; cat <<EOT
[module router]
command = mobkit-router
[module delivery]
command = mobkit-delivery
depends = router
[module scheduler]
command = mobkit-scheduler
depends = router delivery
[gateway]
listen = 127.0.0.1:0
auth = none
[mcp fake]
command = python3
args = $FIX/mcpserver.py
[mob]
id = installed
[profile p]
provider = echo
[member w1]
profile = p
EOT
} >"$CFG"
PATH=/usr/bin:/bin
for m in $mods; do
	! command -v "$m" >/dev/null || fail "$m is on PATH: $(command -v "$m")"
done
"$R/usr/sbin/mobkitd" -c "$CFG" >"$T/daemon.log" 2>&1 &
DPID=$!
wait_for "the control socket" test -S "$SOCK"
for c in router delivery scheduler gateway fake w1; do
	wait_for "$c healthy" is_state "$c" healthy
done
# each child runs the installed binary of its kind
for c in router:mobkit-router delivery:mobkit-delivery \
    scheduler:mobkit-scheduler gateway:mobkit-gateway fake:mobkit-mcp \
    w1:mobkit-worker; do
	exe=$(readlink "/proc/$(pid_of "${c%%:*}")/exe")
	[ "$exe" = "$R/usr/libexec/mobkit/${c#*:}" ] ||
		fail "${c%%:*} runs $exe, not $R/usr/libexec/mobkit/${c#*:}"
done
out=$(jctl send w1 hello --wait) || fail "send: $out"
[ "$(echo "$out" | jq -r .result.status)" = completed ] || fail "send: $out"
jctl shutdown >/dev/null || fail "shutdown"
wait_for "mobkitd gone" daemon_gone

# a second install keeps the edited config
echo "; edited" >>"$R/etc/mobkit/mobkit.ini"
mk install PREFIX=/usr DESTDIR="$R"
tail -n 1 "$R/etc/mobkit/mobkit.ini" | grep -qx '; edited' ||
	fail "a second install replaced the config"

# uninstall: every file but the config, and our own directories
mk uninstall PREFIX=/usr DESTDIR="$R"
left=$(cd "$R" && find . ! -type d | sort)
[ "$left" = ./etc/mobkit/mobkit.ini ] || fail "left after uninstall: $left"
for d in usr/libexec/mobkit usr/share/doc/mobkit; do
	[ ! -e "$R/$d" ] || fail "$d left after uninstall"
done

# PREFIX=/usr/local: the config in PREFIX/etc, named by the unit
R2=$T/root2
mk install PREFIX=/usr/local DESTDIR="$R2"
[ -f "$R2/usr/local/etc/mobkit/mobkit.ini" ] || fail "no /usr/local/etc/mobkit/mobkit.ini"
grep -qx 'ExecStart=/usr/local/sbin/mobkitd -c /usr/local/etc/mobkit/mobkit.ini' \
    "$R2/usr/local/lib/systemd/system/mobkitd.service" ||
	fail "/usr/local unit: $(grep ExecStart "$R2/usr/local/lib/systemd/system/mobkitd.service")"
mk uninstall PREFIX=/usr/local DESTDIR="$R2"
left=$(cd "$R2" && find . ! -type d | sort)
[ "$left" = ./usr/local/etc/mobkit/mobkit.ini ] || fail "left after uninstall: $left"

# SYSCONFDIR= on its own: the config there, and the unit names it
R3=$T/root3
mk install PREFIX=/opt/mobkit SYSCONFDIR=/etc DESTDIR="$R3"
[ -f "$R3/etc/mobkit/mobkit.ini" ] || fail "SYSCONFDIR=/etc: no /etc/mobkit/mobkit.ini"
grep -qx 'ExecStart=/opt/mobkit/sbin/mobkitd -c /etc/mobkit/mobkit.ini' \
    "$R3/opt/mobkit/lib/systemd/system/mobkitd.service" ||
	fail "SYSCONFDIR=/etc unit: $(grep ExecStart "$R3/opt/mobkit/lib/systemd/system/mobkitd.service")"
mk uninstall PREFIX=/opt/mobkit SYSCONFDIR=/etc DESTDIR="$R3"
left=$(cd "$R3" && find . ! -type d | sort)
[ "$left" = ./etc/mobkit/mobkit.ini ] || fail "left after uninstall: $left"

# etc/Dockerfile (no docker engine here: read it).  Its image installs
# etc/mobkit-docker.ini as the config mobkitd runs on, and that config's
# worst shutdown (the drain, the members, then each module one after
# another) fits in docker stop's 10 s
D=$SRC/etc/Dockerfile
grep -qx 'FROM debian:12-slim' "$D" || fail "the image is not Debian 12 slim"
grep -qx 'STOPSIGNAL SIGTERM' "$D" || fail "no STOPSIGNAL SIGTERM"
grep -q 'CMD \["/usr/sbin/mobkitd", "-c", "/etc/mobkit/mobkit.ini"\]' "$D" ||
	fail "mobkitd is not the image's command (PID 1) on /etc/mobkit/mobkit.ini"
grep -A1 '^HEALTHCHECK' "$D" | grep -q '"/usr/bin/mobkitctl", "is-healthy"' ||
	fail "the healthcheck does not run mobkitctl is-healthy"
grep -q 'install -m 644 etc/mobkit-docker.ini /out/etc/mobkit/mobkit.ini' "$D" ||
	fail "the image's config is not etc/mobkit-docker.ini"
ini=$SRC/etc/mobkit-docker.ini
ms() { sed -n "s/^$1 *= *\([0-9]*\).*/\1/p" "$ini"; }
drain=$(ms drain_timeout_ms); stop=$(ms stop_timeout_ms)
nmod=$(grep -c '^\[module ' "$ini")
[ -n "$drain" ] && [ -n "$stop" ] || fail "cannot read $ini"
worst=$((drain + stop * (nmod + 1)))
[ "$worst" -lt 10000 ] || fail "$ini may take $worst ms to stop: docker stop kills at 10000"
"$BIN/mobkitd" -t -c "$ini" >"$T/d.out" 2>&1 || fail "-t on $ini: $(cat "$T/d.out")"
# the runtime stage installs the package of every library the programs
# are linked with (and libcurl4, which they dlopen)
pkgs=$(sed -n '/^FROM debian:12-slim$/h; /^FROM debian:12-slim$/,$p' "$D" |
    sed -n '/apt-get install/,/rm -rf/p')
for lib in $(for b in "$BIN"/*; do readelf -d "$b"; done |
    sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' | sort -u); do
	f=$(/sbin/ldconfig -p | awk -v l="$lib" '$1 == l { print $NF; exit }')
	[ -n "$f" ] || fail "$lib: not found by ldconfig"
	pkg=$(dpkg -S "$(readlink -f "$f")" 2>/dev/null | head -1 | cut -d: -f1)
	[ -n "$pkg" ] || pkg=$(dpkg -S "$f" | head -1 | cut -d: -f1)
	case $pkg in libc6|libasan*|libubsan*) continue ;; esac	# sanitizers: check-asan
	echo "$pkgs" | grep -Eq "(^| )$pkg( |\$)" ||
		fail "the image lacks $pkg (for $lib): $pkgs"
done
echo "$pkgs" | grep -Eq "(^| )libcurl4( |\$)" || fail "the image lacks libcurl4"
true
