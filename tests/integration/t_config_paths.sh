# Config paths: -c must name a regular file (a directory is an error naming
# it, at -t and at start); -t checks commands, cwd, the control socket's
# length, *_file keys, route targets, reserved names, and warns (exit 0)
# about an unset api_key_env; a reload while the config path is a
# directory, or gone, is refused and the tree does not change.
. "$(dirname "$0")/lib.sh"
# bad EXPECTED-REGEX: -t on $CFG must exit 1 with that line
bad() {
	out=$("$BIN/mobkitd" -t -c "$CFG" 2>&1); rc=$?
	[ $rc = 1 ] || fail "exit $rc (wanted 1) for: $(cat "$CFG")"
	echo "$out" | grep -Eq "$1" || fail "wanted /$1/, got: $out"
}
# good: -t on $CFG must exit 0
good() {
	out=$("$BIN/mobkitd" -t -c "$CFG" 2>&1) || fail "refused: $out, for: $(cat "$CFG")"
}
mkdir "$T/dir" "$T/work"
echo "be brief" >"$T/prompt.md"

# -c a directory: an error naming it, at -t and at start (no socket made)
out=$("$BIN/mobkitd" -t -c "$T/dir" 2>&1); [ $? = 1 ] || fail "-t accepted a directory"
echo "$out" | grep -q "^$T/dir: is a directory, not a config file$" || fail "-c dir: $out"
out=$("$BIN/mobkitd" -c "$T/dir" 2>&1); [ $? = 1 ] || fail "started on a directory"
echo "$out" | grep -q "$T/dir: is a directory" || fail "start on dir: $out"
out=$("$BIN/mobkitd" -t -c "$T/nothing.ini" 2>&1); [ $? = 1 ] || fail "-t accepted a missing file"
echo "$out" | grep -q "$T/nothing.ini: cannot read the config file: No such file" || fail "missing: $out"

# commands: missing, a directory, not executable
printf '[module a]\ncommand = %s/nope\n' "$T" >"$CFG"; bad "mobkit.ini:1: \[module a\]: command \"$T/nope\" not found or not executable"
printf '[module a]\ncommand = %s/dir\n' "$T" >"$CFG"; bad "mobkit.ini:1: \[module a\]: command \"$T/dir\" is not a file"
printf '[module a]\ncommand = %s/prompt.md\n' "$T" >"$CFG"; bad "command \"$T/prompt.md\" not found or not executable"
printf '[module a]\ncommand = no-such-command-here\n' >"$CFG"; bad "command \"no-such-command-here\" not found next to mobkitd or in PATH"
# cwd: missing, a file; a directory is fine (relative to the config's)
printf '[module a]\ncommand = %s\ncwd = %s/gone\n' "$MK" "$T" >"$CFG"; bad "mobkit.ini:1: \[module a\]: cwd: \"$T/gone\": No such file or directory"
printf '[module a]\ncommand = %s\ncwd = prompt.md\n' "$MK" >"$CFG"; bad "mobkit.ini:1: \[module a\]: cwd: \"$T/prompt.md\" is not a directory"
printf '[profile p]\ncwd = %s/gone\n[member m]\nprofile = p\n' "$T" >"$CFG"; bad "mobkit.ini:3: \[member m\]: cwd: \"$T/gone\""
printf '[module a]\ncommand = %s\ncwd = work\n' "$MK" >"$CFG"; good
# the control socket path: 107 bytes fit, 108 do not
pad() { printf '%s/' "$T"; head -c $(($1 - ${#T} - 1)) /dev/zero | tr '\0' s; }
printf '[mobkitd]\nlog_level = info\ncontrol_socket = %s\n' "$(pad 107)" >"$CFG"; good
printf '[mobkitd]\nlog_level = info\ncontrol_socket = %s\n' "$(pad 108)" >"$CFG"; bad "mobkit.ini:3: control_socket: \".*\" is 108 bytes long, a socket path holds at most 107"
# *_file keys: readable regular files
printf '[profile p]\nsystem_file = dir\n' >"$CFG"; bad "mobkit.ini:1: system_file: \"$T/dir\" is a directory"
printf '[profile p]\nsystem_file = gone.md\n' >"$CFG"; bad "mobkit.ini:1: system_file: cannot read \"$T/gone.md\": No such file"
printf '[profile p]\n[member m]\nprofile = p\ninstructions_file = dir\n' >"$CFG"; bad "mobkit.ini:2: instructions_file: \"$T/dir\" is a directory"
printf '[profile p]\nsystem_file = prompt.md\n[member m]\nprofile = p\ninstructions_file = prompt.md\n' >"$CFG"; good
mkfifo "$T/fifo"
printf '[profile p]\nsystem_file = fifo\n' >"$CFG"; bad "system_file: \"$T/fifo\" is not a regular file"
# route targets: webhook a URL, email an address; [delivery] too
printf '[route r]\nsink = webhook\ntarget = ftp://example.org/x\n' >"$CFG"; bad "mobkit.ini:1: \[route r\]: target: \"ftp://example.org/x\" is not an http:// or https:// URL"
printf '[route r]\nsink = webhook\ntarget = example.org/hook\n' >"$CFG"; bad "is not an http:// or https:// URL"
printf '[route r]\nsink = email\ntarget = ops@example.com>\n' >"$CFG"; bad "mobkit.ini:1: \[route r\]: target: \"ops@example.com>\" is not an email address"
printf '[route r]\nsink = email\ntarget = Ops <ops@example.com>\n' >"$CFG"; bad "is not an email address"
printf '[route r]\nsink = email\ntarget = ops@example.com\n[route w]\nsink = webhook\ntarget = https://example.org/h?a=1\n' >"$CFG"; good
printf '[delivery]\nmail_from = mobkit\n' >"$CFG"; bad "mobkit.ini:2: mail_from: \"mobkit\" is not an email address"
printf '[delivery]\nsmtp_url = http://127.0.0.1\n' >"$CFG"; bad "mobkit.ini:2: smtp_url: \"http://127.0.0.1\" is not an smtp:// or smtps:// URL"
# reserved names; the groups root and mob stay usable
printf '[module root]\ncommand = %s\n' "$MK" >"$CFG"; bad "mobkit.ini:1: \[module root\]: \"root\" is a reserved name"
printf '[module mob]\ncommand = %s\n' "$MK" >"$CFG"; bad "\[module mob\]: \"mob\" is a reserved name"
printf '[profile p]\n[member root]\nprofile = p\n' >"$CFG"; bad "mobkit.ini:2: \[member root\]: \"root\" is a reserved name"
printf '[group mob]\nstrategy = one_for_all\n[module a]\ncommand = %s\ngroup = mob\n[module b]\ncommand = %s\ngroup = root\n' "$MK" "$MK" >"$CFG"; good
# api_key_env unset: a warning, exit 0; set: nothing said
printf '[profile p]\nprovider = openai\nmodel = m\napi_key_env = MOBKIT_T_NO_KEY\n' >"$CFG"
out=$(env -u MOBKIT_T_NO_KEY "$BIN/mobkitd" -t -c "$CFG" 2>&1) || fail "a warning made -t fail: $out"
echo "$out" | grep -q "mobkit.ini:1: warning: \[profile p\]: api_key_env: MOBKIT_T_NO_KEY is not set" || fail "no warning: $out"
out=$(MOBKIT_T_NO_KEY=k "$BIN/mobkitd" -t -c "$CFG" 2>&1) || fail "-t with the key: $out"
[ -z "$out" ] || fail "a warning with the key set: $out"

# a reload while the config path is a directory, then gone: refused,
# the tree unchanged
{ header; cat <<EOT
[module a]
command = $MK
EOT
} >"$CFG"
start_daemon
wait_for "a healthy" is_state a healthy
pa=$(pid_of a)
mv "$CFG" "$T/saved.ini"
mkdir "$CFG"
out=$(ctl reload 2>&1); [ $? = 1 ] || fail "reload of a directory: exit 0: $out"
echo "$out" | grep -q "$CFG: is a directory, not a config file" || fail "reload of a directory said: $out"
rmdir "$CFG"
out=$(ctl reload 2>&1); [ $? = 1 ] || fail "reload of a missing file: exit 0: $out"
echo "$out" | grep -q "$CFG: cannot read the config file: No such file" || fail "reload of nothing said: $out"
kill -HUP "$DPID"
wait_for "SIGHUP's refusal in the log" grep -q "reload refused" "$T/daemon.log"
[ "$(jctl status | jq -r '[.children[].name] | join(" ")')" = a ] || fail "tree changed: $(jctl status)"
is_state a healthy && [ "$(pid_of a)" = "$pa" ] || fail "a was touched: $(jctl status a)"
alive "$DPID" || fail "mobkitd died"
mv "$T/saved.ini" "$CFG"
jctl reload >/dev/null || fail "reload of the restored file"
