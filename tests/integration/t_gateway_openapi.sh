# /v1/openapi.json cannot drift from the routes: every route of the table
# (gateway/routes.c) is documented, every documented path and method is
# routed (over HTTP: never "no such route" nor 405), and it is OpenAPI 3.1
# with the error shape.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/gw.sh"
SRC=$(cd "$(dirname "$0")/../.." && pwd)/gateway/routes.c
{ header; gw_section <<EOT
token_file = tokens
EOT
} >"$CFG"
start_daemon
wait_for "the gateway" gw_healthy
expect 200 GET /v1/openapi.json
cp "$T/body" "$T/openapi.json"
body_is '.openapi == "3.1.0" and (.paths | length > 20) and .components.schemas.Error.properties.error != null'
# the table, from the source
sed -n '/^const struct gw_route gw_routes\[\]/,/^};/p' "$SRC" |
    sed -n 's/^[[:space:]]*{ "\([A-Z]*\)", "\([^"]*\)".*/\1 \2/p' | sort >"$T/table"
[ "$(wc -l <"$T/table")" -gt 20 ] || fail "routes table not read: $(cat "$T/table")"
jq -r '.paths | to_entries[] | .key as $p | .value | keys[] | "\(ascii_upcase) \($p)"' \
    "$T/openapi.json" | sort >"$T/doc"
diff "$T/table" "$T/doc" >"$T/diff" || fail "routes and openapi.json differ (< routed only, > documented only):
$(cat "$T/diff")"
# every documented operation is routed by the running gateway
while read -r m p; do
	u=$(echo "$p" | sed 's/{[a-z]*}/x/g')
	code "$m" "$u" -d '{}' >/dev/null
	if jq -e '.error.message == "no such route" or .error.code == "method_not_allowed"' "$T/body" >/dev/null 2>&1; then
		fail "$m $p documented, not routed: $(cat "$T/body")"
	fi
done <"$T/doc"
# every path parameter is declared
jq -e '[.paths | to_entries[] | .key as $p | .value[] | (($p | [scan("{([a-z]+)}")[0]]) - [(.parameters // [])[] | select(.in == "path") | .name]) | length] | all(. == 0)' \
    "$T/openapi.json" >/dev/null || fail "a path parameter is not declared"
echo ok
