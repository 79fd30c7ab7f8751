# The systemd unit make install generates for PREFIX=/usr: its keys,
# systemd-analyze verify, and a systemd-analyze security exposure of at
# most 5.0.  Then that its sandbox lets the tree work: a tree run as an
# unprivileged user under strace makes no system call outside the unit's
# SystemCallFilter (the unit cannot be started here: no systemd as PID 1).
. "$(dirname "$0")/lib.sh"
SRC=$(cd "$(dirname "$0")/../.." && pwd)
for tool in systemd-analyze strace setpriv; do
	command -v $tool >/dev/null || fail "$tool is missing (etc/deps.sh installs it)"
done
make -C "$SRC" --no-print-directory BUILD="$T/b" PREFIX=/usr \
    "$T/b/mobkitd.service" >"$T/make.log" 2>&1 || fail "make: $(cat "$T/make.log")"
U=$T/mobkitd.service
cp "$T/b/mobkitd.service" "$U"

# key=value of the [Service] section (the last one when repeated)
key() { sed -n '/^\[Service\]/,/^\[/p' "$U" | sed -n "s/^$1=//p" | tail -n 1; }
has() { [ "$(key "$1")" = "$2" ] || fail "$1=$(key "$1"), want $2"; }
has Type notify
has ExecStart "/usr/sbin/mobkitd -c /etc/mobkit/mobkit.ini"
has ExecReload '/bin/kill -HUP $MAINPID'
# ... after a check of the config, so that systemctl reload fails on a bad one
[ "$(sed -n 's/^ExecReload=//p' "$U" | head -n 1)" = "/usr/sbin/mobkitd -t -c /etc/mobkit/mobkit.ini" ] ||
	fail "the first ExecReload: $(grep ExecReload "$U")"
has Restart on-failure
has StateDirectory mobkit
has RuntimeDirectory mobkit
has ConfigurationDirectory mobkit
has EnvironmentFile -/etc/default/mobkit
has KillMode mixed
has User mobkit
has NoNewPrivileges yes
has ProtectSystem strict
has ProtectHome yes
has PrivateTmp yes
has CapabilityBoundingSet ""
for k in LimitNOFILE WatchdogSec TimeoutStopSec; do
	[ -n "$(key $k)" ] || fail "no $k="
done
sed -n '/^\[Install\]/,$p' "$U" | grep -qx 'WantedBy=multi-user.target' ||
	fail "no WantedBy=multi-user.target"

# TimeoutStopSec outlasts the shipped config's shutdown at its worst: the
# drain, the members' stop, then each module's stop one after another
ini=$SRC/etc/mobkit-system.ini
ms() { sed -n "s/^$1 *= *\([0-9]*\).*/\1/p" "$ini"; }
drain=$(ms drain_timeout_ms)
stop=$(ms stop_timeout_ms)
nmod=$(grep -c '^\[module ' "$ini")
[ -n "$drain" ] && [ -n "$stop" ] && [ "$nmod" -ge 1 ] || fail "cannot read $ini"
worst=$(( (drain + stop * (nmod + 1)) / 1000 ))
tss=$(key TimeoutStopSec | sed 's/s$//')
[ "$tss" -gt "$worst" ] || fail "TimeoutStopSec=$tss s, shutdown may take $worst s"

# systemd-analyze verify, with ExecStart pointing at a binary that exists
mkdir "$T/v"
sed "s|^\(Exec[A-Za-z]*\)=/usr/sbin/mobkitd|\1=$(cd "$BIN" && pwd)/mobkitd|" "$U" \
    >"$T/v/mobkitd.service"
systemd-analyze verify --man=no "$T/v/mobkitd.service" >"$T/verify.log" 2>&1 ||
	fail "systemd-analyze verify: $(cat "$T/verify.log")"
grep -i "mobkitd.service" "$T/verify.log" && fail "verify warns: $(cat "$T/verify.log")"

# the exposure score: "→ Overall exposure level for mobkitd.service: 1.2 OK"
systemd-analyze security --offline=true "$U" >"$T/sec.log" 2>&1 ||
	fail "systemd-analyze security: $(tail -5 "$T/sec.log")"
score=$(sed -n 's/.*Overall exposure level for mobkitd.service: \([0-9.]*\).*/\1/p' "$T/sec.log")
[ -n "$score" ] || fail "no score in: $(tail -3 "$T/sec.log")"
awk -v s="$score" 'BEGIN { exit !(s <= 5.0) }' ||
	fail "exposure $score > 5.0: $(grep '✗' "$T/sec.log")"
echo "exposure $score"

# the system calls the unit allows: @system-service less @privileged
# (SystemCallFilter= lines, in order, each group expanded)
expand() {
	systemd-analyze syscall-filter "$1" | sed 1d |
	    awk '$1 !~ /^#/ { print $1 }' | while read -r n; do
		case $n in @*) expand "$n" ;; *) echo "$n" ;; esac
	done
}
: >"$T/allowed"
sed -n '/^\[Service\]/,/^\[/p' "$U" | sed -n 's/^SystemCallFilter=//p' |
    while read -r line; do
	deny=0
	case $line in "~"*) deny=1; line=${line#\~} ;; esac
	for g in $line; do
		case $g in @*) expand "$g" ;; *) echo "$g" ;; esac
	done | sort -u >"$T/group"
	if [ $deny = 1 ]; then
		comm -23 "$T/allowed" "$T/group" >"$T/a2"
	else
		sort -u "$T/allowed" "$T/group" >"$T/a2"
	fi
	mv "$T/a2" "$T/allowed"
done
grep -qx execve "$T/allowed" || fail "no filter read: $(wc -l <"$T/allowed") calls"

# a tree as nobody, as the unit runs it (no capabilities), every kind of
# child: modules, the gateway, an MCP bridge and its server, a member
mkdir "$T/state" "$T/run"
chown nobody "$T/state" "$T/run"
SOCK=$T/run/ctl.sock
{ header; cat <<EOT
state_dir = $T/state
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
id = unit
[profile p]
provider = echo
tools = fake/echo
[member w1]
profile = p
[route audit]
recipient = audit
sink = file
target = $T/state/audit.jsonl
[schedule s]
interval = */1s
member = w1
message = tick
EOT
} >"$CFG"
chmod 644 "$CFG"
strace -f -qq -c -o "$T/strace.sum" setpriv --reuid=nobody --regid=nogroup \
    --clear-groups --inh-caps=-all --bounding-set=-all --no-new-privs \
    "$BIN/mobkitd" -c "$CFG" >"$T/daemon.log" 2>&1 &
DPID=$!
wait_for "the control socket" test -S "$SOCK"
for c in router delivery scheduler gateway fake w1; do
	wait_for "$c healthy" is_state "$c" healthy
done
out=$(jctl send w1 hello --wait) || fail "send: $out"
out=$(jctl deliver audit --payload '{"a":1}') || fail "deliver: $out"
jctl call fake echo --args '{"message":"hi"}' >/dev/null || fail "call"
jctl reload >/dev/null || fail "reload"
jctl shutdown >/dev/null || fail "shutdown"
wait_for "mobkitd gone" daemon_gone
wait "$DPID" || true
# setpriv's own calls (capset, setgroups, setresuid...) come before the
# exec and are the unit's doing under systemd: leave them out
awk 'NR > 2 && $1 !~ /^-/ && $NF != "total" { print $NF }' "$T/strace.sum" |
    sort -u | grep -vxE 'capset|setgroups|setresuid|setresgid' >"$T/used"
[ "$(wc -l <"$T/used")" -ge 20 ] || fail "strace saw little: $(cat "$T/strace.sum")"
bad=$(comm -23 "$T/used" "$T/allowed" | tr '\n' ' ')
[ -z "$bad" ] || fail "system calls outside the unit's filter: $bad"
true
