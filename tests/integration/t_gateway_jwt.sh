# auth = jwt: tokens signed HS256, RS256 and ES256 with keys of a JWKS
# file pass; alg none, a bad signature, an expired token, one not valid
# yet, the wrong issuer or audience get 401 with WWW-Authenticate.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/gw.sh"
MINT="python3 $FIX/jwtmint.py"
$MINT keys "$T" || fail "cannot make keys"
{ header; gw_section <<EOT
auth = jwt
jwt_jwks_file = jwks.json
jwt_issuer = https://id.example.org
jwt_audience = mobkit-console
EOT
} >"$CFG"
start_daemon
wait_for "the gateway" gw_healthy
now=$(date +%s)
claims() { # claims [JQ-UPDATE]
	jq -cn --argjson now "$now" "{iss: \"https://id.example.org\", aud: \"mobkit-console\", sub: \"op\", iat: \$now, exp: (\$now + 600)} ${1:+| $1}"
}
st() { # st TOKEN: the status of GET /v1/status with it
	curl -s -D "$T/hdr" -o "$T/body" -w '%{http_code}' \
	    -H "Authorization: Bearer $1" "$GW_URL/v1/status"
}
ok() { s=$(st "$2"); [ "$s" = 200 ] || fail "$1: $s $(cat "$T/body")"; }
no() {
	s=$(st "$2")
	[ "$s" = 401 ] || fail "$1: $s, wanted 401"
	grep -qi '^WWW-Authenticate: Bearer' "$T/hdr" || fail "$1: no WWW-Authenticate"
	jq -e '.error.code == "unauthorized"' "$T/body" >/dev/null || fail "$1: $(cat "$T/body")"
}
ok HS256 "$($MINT token "$T" HS256 "$(claims)" hs)"
ok RS256 "$($MINT token "$T" RS256 "$(claims)" rs)"
ok "ES256 without kid" "$($MINT token "$T" ES256 "$(claims)")"
ok "aud as an array" "$($MINT token "$T" HS256 "$(claims '.aud = ["x", "mobkit-console"]')" hs)"
no "alg none" "$($MINT token "$T" none "$(claims)")"
no expired "$($MINT token "$T" HS256 "$(claims '.exp = $now - 3600')" hs)"
grep -q expired "$T/body" || fail "expired: $(cat "$T/body")"
no "not yet valid" "$($MINT token "$T" HS256 "$(claims '.nbf = $now + 3600')" hs)"
no "wrong aud" "$($MINT token "$T" HS256 "$(claims '.aud = "other"')" hs)"
grep -q audience "$T/body" || fail "wrong aud: $(cat "$T/body")"
no "wrong iss" "$($MINT token "$T" RS256 "$(claims '.iss = "https://evil"')" rs)"
no "no exp" "$($MINT token "$T" HS256 "$(claims 'del(.exp)')" hs)"
t=$($MINT token "$T" RS256 "$(claims)" rs)
no "bad signature" "${t%?????}AAAAA"
no "unknown kid" "$($MINT token "$T" HS256 "$(claims)" nokey)"
no "no token" ""
echo ok
