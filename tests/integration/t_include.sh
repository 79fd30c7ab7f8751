# [mobkitd] include: more files by glob (sorted, relative to the main
# file's directory); any section but [mobkitd]; errors name the included
# file and its line; duplicates across files name both places; -t checks
# them and reload reads them again (a new file adds its member).
. "$(dirname "$0")/lib.sh"
D=$T/conf.d
mkdir "$D"
{ header; cat <<EOT
include = conf.d/*.ini
[module main]
command = $MK
EOT
} >"$CFG"
# no file matching the pattern is fine
"$BIN/mobkitd" -t -c "$CFG" || fail "-t refused an include matching nothing"
printf '[module a]\ncommand = %s\n' "$MK" >"$D/20-a.ini"
printf '[module b]\ncommand = %s\n[group g]\nstrategy = one_for_all\n' "$MK" >"$D/10-b.ini"
printf '[module x]\ncommand = %s\n' "$MK" >"$D/a.ini.disabled"
out=$("$BIN/mobkitd" -t -c "$CFG" 2>&1) || fail "-t refused good included files: $out"
start_daemon
for c in main a b; do wait_for "$c healthy" is_state $c healthy; done
ctl status x >/dev/null 2>&1 && fail "a file the pattern does not match was read"
# sorted: 10-b.ini before 20-a.ini, both after the main file
order=$(jctl status | jq -r '[.children[].name] | join(" ")')
[ "$order" = "main b a" ] || fail "start order: $order"

# reload reads the directory again: a new file adds its member
printf '[profile p]\nprovider = echo\n[member m1]\nprofile = p\n' >"$D/30-m.ini"
out=$(jctl reload) || fail "reload refused a new included file"
[ "$(echo "$out" | jq -c .added)" = '["m1"]' ] || fail "reload said $out"
wait_for "m1 healthy" is_state m1 healthy
r=$(jctl send m1 hello --wait | jq -r .result.status)
[ "$r" = completed ] || fail "m1 from an included file: $r"

# a bad included file: reload refused naming that file and line, nothing moves
pa=$(pid_of a)
printf '[module c]\ncommand = %s\nbogus = 1\n' "$MK" >"$D/40-c.ini"
err=$(ctl reload 2>&1); rc=$?
[ $rc = 1 ] || fail "reload of a bad included file: exit $rc"
echo "$err" | grep -q "mobkitctl: $D/40-c.ini:3: unknown key \"bogus\"" ||
	fail "reload error: $err"
ctl status c >/dev/null 2>&1 && fail "c appeared after a refused reload"
[ "$(pid_of a)" = "$pa" ] || fail "a moved after a refused reload"
rm "$D/40-c.ini"

check() { # check EXPECTED-REGEX: -t on $CFG fails with it
	out=$("$BIN/mobkitd" -t -c "$CFG" 2>&1); rc=$?
	[ $rc = 1 ] || fail "exit $rc for $*; output: $out"
	echo "$out" | grep -Eq "$1" || fail "wanted /$1/, got: $out"
}
# [mobkitd] in an included file
printf '[mobkitd]\nlog_level = debug\n' >"$D/50-d.ini"
check "^$D/50-d.ini:1: \[mobkitd\] belongs in the main file"
rm "$D/50-d.ini"
# a duplicate across files names both places
printf '\n[module a]\ncommand = %s\n' "$MK" >"$D/50-dup.ini"
check "^$D/50-dup.ini:2: duplicate name \"a\" \(first defined at $D/20-a.ini:1\)"
rm "$D/50-dup.ini"
printf '[module main]\ncommand = %s\n' "$MK" >"$D/50-dup.ini"
check "^$D/50-dup.ini:1: duplicate name \"main\" \(first defined at $CFG:6\)"
rm "$D/50-dup.ini"
# an error found after reading (checks across sections) names the file too
printf '[module e]\ncommand = %s\n\ndepends = nope\n' "$MK" >"$D/50-e.ini"
check "^$D/50-e.ini:4: \[module e\]: depends: unknown module \"nope\""
rm "$D/50-e.ini"
printf '[module e]\ncommand = ./no-such-program\n' >"$D/50-e.ini"
check "^$D/50-e.ini:1: \[module e\]: command"
rm "$D/50-e.ini"
# a key outside any section: each file starts outside one
printf 'command = %s\n' "$MK" >"$D/50-f.ini"
check "^$D/50-f.ini:1: \"command\" is outside any section"
rm "$D/50-f.ini"
# a directory the pattern matches is no config file
mkdir "$D/60-dir.ini"
check "^$CFG:5: include: \"$D/60-dir.ini\" is a directory"
rmdir "$D/60-dir.ini"

# several include lines, several patterns a line, a literal file name
cp "$CFG" "$T/main.ini"
mkdir "$T/more"
printf '[module y]\ncommand = %s\n' "$MK" >"$T/more/y.conf"
printf '[module z]\ncommand = %s\n' "$MK" >"$T/z.ini"
{ header; cat <<EOT
include = conf.d/*.ini
include = more/*.conf z.ini conf.d/20-a.ini
[module main]
command = $MK
EOT
} >"$CFG"
out=$("$BIN/mobkitd" -t -c "$CFG" 2>&1) || fail "-t refused two include lines: $out"
# a literal name that does not exist is an error (a glob matching nothing,
# even in a missing directory, is not)
printf '[mobkitd]\ninclude = conf.d/*.none nodir/*.ini\ninclude = missing.ini\n' >"$T/bad.ini"
out=$("$BIN/mobkitd" -t -c "$T/bad.ini" 2>&1); rc=$?
[ $rc = 1 ] || fail "a missing included file: exit $rc"
echo "$out" | grep -q "^$T/bad.ini:3: include: \"$T/missing.ini\": No such file" ||
	fail "a missing included file: $out"
[ "$(echo "$out" | wc -l)" = 1 ] || fail "a glob matching nothing was refused: $out"
# the main file is never read twice, even when a pattern matches it
printf '[mobkitd]\ninclude = *.ini\n' >"$T/self.ini"
out=$("$BIN/mobkitd" -t -c "$T/self.ini" 2>&1)
echo "$out" | grep -q "self.ini:1: \[mobkitd\]" && fail "the main file was included: $out"
# the reloaded tree: y, z from the second line; 20-a.ini only once
out=$(jctl reload) || fail "reload with two include lines"
[ "$(echo "$out" | jq -c '.added | sort')" = '["y","z"]' ] || fail "reload said $out"
wait_for "y healthy" is_state y healthy
wait_for "z healthy" is_state z healthy
exit 0
