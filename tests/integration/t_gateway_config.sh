# [gateway] in mobkit.ini: FILE:LINE errors; auth on by default; auth =
# none only on loopback; the name "gateway" taken once.
. "$(dirname "$0")/lib.sh"
check() { # check EXPECTED-REGEX
	out=$("$BIN/mobkitd" -t -c "$CFG" 2>&1); rc=$?
	[ $rc = 1 ] || fail "exit $rc for: $(cat "$CFG")"
	echo "$out" | grep -Eq "$1" || fail "wanted /$1/, got: $out"
}
good() { "$BIN/mobkitd" -t -c "$CFG" >"$T/out" 2>&1 || fail "refused: $(cat "$T/out") for $(cat "$CFG")"; }
echo tok >"$T/tokens"
printf '[gateway]\nlisten = 0.0.0.0:8787\nauth = none\n' >"$CFG"
check 'mobkit.ini:3: \[gateway\]: auth = none is refused on "0.0.0.0:8787", which is not a loopback address'
printf '[gateway]\nlisten = [::]:8787\nauth = none\n' >"$CFG"
check 'mobkit.ini:3: \[gateway\]: auth = none is refused'
printf '[gateway]\nlisten = 127.0.0.1:8787\n' >"$CFG"
check 'mobkit.ini:1: \[gateway\]: auth = token needs token_file'
printf '[gateway]\nauth = jwt\n' >"$CFG"
check 'mobkit.ini:2: \[gateway\]: auth = jwt needs jwt_jwks_file'
printf '[gateway]\nauth = magic\n' >"$CFG"
check 'mobkit.ini:2: auth: bad value "magic": expected token \| jwt \| none'
printf '[gateway]\nlisten = nowhere\nauth = none\n' >"$CFG"
check 'mobkit.ini:2: \[gateway\]: listen: "nowhere" is not HOST:PORT'
printf '[gateway]\ntoken_file = missing.tokens\n' >"$CFG"
check 'mobkit.ini:2: token_file: cannot read ".*missing.tokens"'
printf '[gateway]\nauth = none\nbogus = 1\n' >"$CFG"
check 'mobkit.ini:3: unknown key "bogus"'
printf '[gateway]\nauth = none\n[gateway]\nauth = none\n' >"$CFG"
check 'mobkit.ini:3: duplicate section \[gateway\]'
printf '[module gateway]\ncommand = x\n[gateway]\nauth = none\n' >"$CFG"
check 'mobkit.ini:1: \[module gateway\]: "gateway" is the \[gateway\] section.s module'
printf '[profile p]\nprovider = echo\n[member gateway]\nprofile = p\n' >"$CFG"
check 'mobkit.ini:3: \[member gateway\]: "gateway" is the \[gateway\] section.s module'
printf '[gateway]\nauth = none\nrestart = sometimes\n' >"$CFG"
check 'mobkit.ini:3: restart: bad value'
printf '[gateway]\nauth = none\n' >"$CFG"; good
printf '[gateway]\nlisten = [::1]:8787\nauth = none\n' >"$CFG"; good
printf '[gateway]\nlisten = 0.0.0.0:8787\ntoken_file = tokens\nrestart = on_failure\nmax_restarts = 3\nuser = %s\n' "$(id -un)" >"$CFG"; good
echo ok
