# The child side of a spawn: a child starts in its own process group with
# no signal blocked or ignored, fd 0 on /dev/null, 1 and 2 on pipes, 3 on
# its socket and nothing else open; user = gives it that user's ids and
# groups; each step that fails says so on the child's stderr in mobkitd's
# log and ends it with 126 (chdir) or 127 (exec).
. "$(dirname "$0")/lib.sh"
mkdir "$T/dir"
printf 'not a program\n' >"$T/noexec"
chmod 755 "$T/noexec"
{ header; cat <<EOT

[module plain]
command = $MK
ready = message

[module sleeper]
command = /bin/sleep
args = 1000
ready = none

[module nodir]
command = /bin/sleep
args = 1000
ready = none
cwd = $T/dir
restart_backoff_ms = 200
restart_backoff_max_ms = 1000

[module badexec]
command = $T/noexec
ready = none
restart_backoff_ms = 200
restart_backoff_max_ms = 1000
EOT
[ "$(id -u)" = 0 ] && printf '\n[module other]\ncommand = /bin/sleep\nargs = 1000\nready = none\nuser = nobody\n'
} >"$CFG"
start_daemon
wait_for "plain healthy" is_state plain healthy
wait_for "sleeper healthy" is_state sleeper healthy
p=$(pid_of plain)
fds=$(ls "/proc/$p/fd" | sort -n | tr '\n' ' ')
[ "$fds" = "0 1 2 3 " ] || fail "plain has fds $fds, not 0 1 2 3"
[ "$(readlink "/proc/$p/fd/0")" = /dev/null ] || fail "fd 0 is $(readlink "/proc/$p/fd/0")"
s=$(pid_of sleeper)
[ "$(ps -o pgid= -p "$s" | tr -d ' ')" = "$s" ] || fail "sleeper is not its own process group"
for f in SigBlk SigIgn SigCgt; do
	v=$(awk -v f="$f:" '$1 == f { print $2 }' "/proc/$s/status")
	[ "$v" = 0000000000000000 ] || fail "sleeper $f $v"
done
fds=$(ls "/proc/$s/fd" | sort -n | tr '\n' ' ')
[ "$fds" = "0 1 2 " ] || fail "sleeper (ready = none) has fds $fds"
# cwd gone after the config was read: the child says so and exits 126
wait_for "nodir healthy" is_state nodir healthy
rmdir "$T/dir"
kill -9 "$(pid_of nodir)"
wait_for "the chdir error" grep -q "cannot chdir to $T/dir: No such file or directory" "$T/daemon.log"
wait_for "nodir's exit 126" sh -c "jctl status nodir | jq -e '.children[0].last_exit.code == 126'"
wait_for "the exec error" grep -q "cannot execute $T/noexec: Exec format error" "$T/daemon.log"
wait_for "badexec's exit 127" sh -c "jctl status badexec | jq -e '.children[0].last_exit.code == 127'"
if [ "$(id -u)" = 0 ]; then
	wait_for "other healthy" is_state other healthy
	o=$(pid_of other)
	uid=$(id -u nobody) gid=$(id -g nobody)
	awk '$1 == "Uid:" { print $2, $3, $4, $5 }' "/proc/$o/status" | grep -qx "$uid $uid $uid $uid" ||
	    fail "other's Uid: $(grep Uid: "/proc/$o/status")"
	awk '$1 == "Gid:" { print $2, $3, $4, $5 }' "/proc/$o/status" | grep -qx "$gid $gid $gid $gid" ||
	    fail "other's Gid: $(grep Gid: "/proc/$o/status")"
	want=$(id -G nobody | tr ' ' '\n' | sort -n | tr '\n' ' ')
	got=$(awk '$1 == "Groups:" { $1 = ""; print }' "/proc/$o/status" | tr ' ' '\n' | grep . | sort -n | tr '\n' ' ')
	[ "$got" = "$want" ] || fail "other's groups are '$got', not '$want'"
fi
alive "$DPID" || fail "mobkitd died"
true
