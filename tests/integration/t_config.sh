# mobkitd -t: every problem as FILE:LINE: message, exit 1; a good file 0.
. "$(dirname "$0")/lib.sh"
check() { # check EXPECTED-REGEX: the config in $CFG must fail with it
	out=$("$BIN/mobkitd" -t -c "$CFG" 2>&1); rc=$?
	[ $rc = 1 ] || fail "exit $rc for: $(cat "$CFG")"
	echo "$out" | grep -Eq "$1" || fail "wanted /$1/, got: $out"
}
printf '[mobkitd]\nbogus = 1\n' >"$CFG"; check "mobkit.ini:2: unknown key \"bogus\""
printf '[nonsense]\n' >"$CFG"; check "mobkit.ini:1: unknown section \[nonsense\]"
printf '[module a]\ncommand = x\n[module a]\ncommand = y\n' >"$CFG"; check "mobkit.ini:3: duplicate name \"a\" \(first defined at line 1\)"
printf '[module a]\nargs = x\n' >"$CFG"; check "mobkit.ini:1: \[module a\]: missing \"command\""
printf '[module a]\ncommand = x\ncommand = y\n' >"$CFG"; check "mobkit.ini:3: duplicate key \"command\""
printf '[module a]\ncommand = x\nrestart = sometimes\n' >"$CFG"; check "mobkit.ini:3: restart: bad value \"sometimes\": expected always \| on_failure \| never"
printf '[module a]\ncommand = x\nstop_timeout_ms = 5s\n' >"$CFG"; check "mobkit.ini:3: stop_timeout_ms: bad value \"5s\""
printf '[module a]\ncommand = x\ndepends = b\n[module b]\ncommand = x\ndepends = a\n' >"$CFG"; check "dependency cycle"
printf '[module a]\ncommand = x\ndepends = nope\n' >"$CFG"; check "mobkit.ini:3: \[module a\]: depends: unknown module \"nope\""
printf '[module a]\ncommand = x\nstop_signal = NOPE\n' >"$CFG"; check "mobkit.ini:3: stop_signal: bad value"
printf '[module a]\ncommand = x\ngroup = nogroup\n' >"$CFG"; check "mobkit.ini:3: \[module a\]: group: no \[group nogroup\]"
printf '[module a]\ncommand = x\nargs = "unterminated\n' >"$CFG"; check "unterminated double quote"
printf 'orphan = 1\n' >"$CFG"; check "mobkit.ini:1: \"orphan\" is outside any section"
printf '[module a]\ncommand = x\njunk line here\n' >"$CFG"; check "mobkit.ini:3: expected \"key = value\""
{ printf '[module a]\ncommand = x\nargs = '; head -c 250 /dev/zero | tr '\0' a; printf '\n'; } >"$CFG"
check "mobkit.ini:3: line is 257 characters long, the limit is 197"
printf '[member m]\nprofile = nope\n' >"$CFG"; check "mobkit.ini:2: \[member m\]: profile: no \[profile nope\]"
printf '[schedule s]\ninterval = */5x\nmember = m\nmessage = hi\n' >"$CFG"; check "interval: bad value"
# two problems, two lines
printf '[mobkitd]\nbogus = 1\nlog_level = loud\n' >"$CFG"
out=$("$BIN/mobkitd" -t -c "$CFG" 2>&1)
[ "$(echo "$out" | wc -l)" = 2 ] || fail "two problems, got: $out"
# a long value continued on indented lines is joined with newlines
cat >"$CFG" <<EOT
[profile p]
system = You are a helpful assistant.
  Keep it short.
[member m]
profile = p
EOT
"$BIN/mobkitd" -t -c "$CFG" || fail "continuation refused"
"$BIN/mobkitd" -t -c "$(dirname "$0")/../../etc/mobkit.ini" || fail "etc/mobkit.ini refused"
# the daemon refuses to start on a bad file, exit 1
printf '[mobkitd]\nbogus = 1\n' >"$CFG"
"$BIN/mobkitd" -c "$CFG" >/dev/null 2>&1; [ $? = 1 ] || fail "daemon started on a bad file"
