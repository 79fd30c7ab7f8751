# The option conventions of both binaries: --help prints the usage on
# standard output and exits 0 (mobkitctl VERB --help: that verb's), a bad
# option prints it on standard error and exits 2, --version prints the
# version; long options work.
. "$(dirname "$0")/lib.sh"
# rc CMD...: run, keep stdout and stderr apart, print the exit status
rc() { "$@" >"$T/out" 2>"$T/err"; echo $?; }

[ "$(rc "$BIN/mobkitd" --help)" = 0 ] || fail "mobkitd --help: $(cat "$T/err")"
grep -q '^usage: mobkitd' "$T/out" || fail "mobkitd --help printed: $(cat "$T/out")"
[ ! -s "$T/err" ] || fail "mobkitd --help wrote to stderr: $(cat "$T/err")"
[ "$(rc "$BIN/mobkitd" -h)" = 0 ] || fail "mobkitd -h"
[ "$(rc "$BIN/mobkitd" --version)" = 0 ] && grep -q '^mobkitd [0-9]' "$T/out" ||
	fail "mobkitd --version: $(cat "$T/out" "$T/err")"
[ "$(rc "$BIN/mobkitd" --bogus)" = 2 ] || fail "mobkitd --bogus: not 2"
grep -q '^usage: mobkitd' "$T/err" && [ ! -s "$T/out" ] ||
	fail "mobkitd --bogus: usage not on stderr"
[ "$(rc "$BIN/mobkitd" -c "$CFG" extra)" = 2 ] || fail "mobkitd with an extra argument: not 2"
{ header; printf '[module a]\ncommand = %s\nargs = --ready none\n' "$MK"; } >"$CFG"
[ "$(rc "$BIN/mobkitd" --config "$CFG" --check)" = 0 ] ||
	fail "mobkitd --config F --check: $(cat "$T/err")"

C="$BIN/mobkitctl"
[ "$(rc "$C" --help)" = 0 ] || fail "mobkitctl --help: $(cat "$T/err")"
grep -q '^usage: mobkitctl' "$T/out" && grep -q '^  send ID TEXT' "$T/out" ||
	fail "mobkitctl --help printed: $(cat "$T/out")"
[ ! -s "$T/err" ] || fail "mobkitctl --help wrote to stderr"
[ "$(rc "$C" send --help)" = 0 ] || fail "mobkitctl send --help: $(cat "$T/err")"
grep -q '^usage: mobkitctl send ID TEXT' "$T/out" || fail "send --help printed: $(cat "$T/out")"
[ "$(rc "$C" --version)" = 0 ] && grep -q '^mobkitctl [0-9]' "$T/out" ||
	fail "mobkitctl --version: $(cat "$T/out" "$T/err")"
[ "$(rc "$C" -s "$SOCK" --bogus status)" = 2 ] || fail "mobkitctl --bogus: not 2"
[ -s "$T/err" ] && [ ! -s "$T/out" ] || fail "mobkitctl --bogus: usage not on stderr"
[ "$(rc "$C" -s "$SOCK" nosuchverb)" = 2 ] || fail "unknown verb: not 2"
# -V as mobkitd has it
[ "$(rc "$C" -V)" = 0 ] && grep -q '^mobkitctl [0-9]' "$T/out" ||
	fail "mobkitctl -V: $(cat "$T/out" "$T/err")"
# a text that starts with "-h" or "-V" is not a request for help or the
# version (exit 0 and nothing sent): a usage error that says to use --
for w in -hello -Very; do
	[ "$(rc "$C" -s "$SOCK" send m1 "$w" --wait)" = 2 ] &&
		grep -q 'goes after "--"' "$T/err" && [ ! -s "$T/out" ] ||
		fail "send m1 $w: $(cat "$T/out" "$T/err")"
done
# a verb of two words: "route --help" lists them on stdout, exit 0
[ "$(rc "$C" route --help)" = 0 ] && grep -q '^  route add ID' "$T/out" &&
	[ ! -s "$T/err" ] || fail "route --help: $(cat "$T/out" "$T/err")"
[ "$(rc "$C" -s "$SOCK" route)" = 2 ] || fail "route alone: not 2"
# a flag given a value is named as such, not as a garbled short option
[ "$(rc "$C" -s "$SOCK" status --json=1)" = 2 ] &&
	grep -q 'option "--json" takes no value' "$T/err" ||
	fail "--json=1: $(cat "$T/err")"
# an option whose value is missing at the end of the line says so
[ "$(rc "$C" -s)" = 2 ] && grep -q -- '-s needs a value' "$T/err" ||
	fail "-s without a value: $(cat "$T/err")"
# -c naming no file is an error naming it, not the default daemon's socket
[ "$(rc env -u MOBKIT_SOCKET "$C" -c "$T/none.ini" status)" = 2 ] &&
	grep -q "none.ini: No such file" "$T/err" ||
	fail "-c a missing file: $(cat "$T/err")"
# the daemon is not running: 3
[ "$(rc "$C" -s "$T/none.sock" status)" = 3 ] || fail "unreachable: not 3"
# options anywhere, against a live daemon
start_daemon
wait_for "a healthy" is_state a healthy
[ "$(rc "$C" status a --json -s "$SOCK")" = 0 ] && jq -e '.children[0].name == "a"' "$T/out" >/dev/null ||
	fail "options after the verb: $(cat "$T/out" "$T/err")"
# an empty MOBKIT_SOCKET (an EnvironmentFile's "MOBKIT_SOCKET=") is unset:
# -c FILE's socket is used
[ "$(MOBKIT_SOCKET= rc "$C" -c "$CFG" --json status a)" = 0 ] &&
	jq -e '.children[0].name == "a"' "$T/out" >/dev/null ||
	fail "an empty MOBKIT_SOCKET: $(cat "$T/out" "$T/err")"
