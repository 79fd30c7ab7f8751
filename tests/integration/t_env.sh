# user, cwd and env.* reach the child, with MOBKIT_NAME and MOBKIT_KIND;
# a command that cannot be found is a config error, not a crash loop.
. "$(dirname "$0")/lib.sh"
mkdir -m 777 "$T/out" "$T/work"
user=$(id -un)
[ "$(id -u)" = 0 ] && user=nobody
{ header; cat <<EOT
[module e]
command = /bin/sh
args = -c 'echo "\$FOO|\$BAR|\$MOBKIT_NAME|\$MOBKIT_KIND|\${MOBKIT_FD:-none}|\$(pwd)|\$(id -un)" >$T/out/env; exec sleep 600'
cwd = $T/work
env.FOO = a b c
env.BAR = 2
EOT
[ "$(id -u)" = 0 ] && echo "user = nobody"
} >"$CFG"
start_daemon
wait_for "env written" test -s "$T/out/env"
[ "$(cat "$T/out/env")" = "a b c|2|e|module|none|$T/work|$user" ] || fail "child saw: $(cat "$T/out/env")"
# a missing command: -t, start and reload all refuse it, by line
printf '[module x]\ncommand = no-such-program-here\n' >>"$CFG"
out=$("$BIN/mobkitd" -t -c "$CFG" 2>&1); [ $? = 1 ] || fail "-t accepted a missing command"
echo "$out" | grep -q 'mobkit.ini:[0-9]*: \[module x\]: command "no-such-program-here" not found' || fail "-t said: $out"
out=$(ctl reload 2>&1); [ $? = 1 ] || fail "reload accepted a missing command"
echo "$out" | grep -q 'not found' || fail "reload said: $out"
