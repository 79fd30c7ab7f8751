# The web console in a real browser: headless Chromium driven by
# puppeteer-core (npm) under node.  The page and its files come from the
# gateway with a strict Content-Security-Policy; a wrong token is refused
# at the prompt, the right one shows the tree with its children; restart
# clicked on a child changes its pid on the page; a message sent from the
# member view streams its reply in; the event log filters; the browser's
# console holds no error.  A screenshot goes to the test dir (console.png)
# and, with CONSOLE_SHOT=PATH, there too (doc/console.png is made so).
# console = false: no page.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/gw.sh"
. "$(dirname "$0")/npm.sh"
npm_need puppeteer-core
CHROMIUM=${CHROMIUM:-$(command -v chromium || command -v chromium-browser)}
[ -x "$CHROMIUM" ] || fail "chromium is not installed (etc/deps.sh installs it)"
export CHROMIUM
{ header; cat <<EOT
[module a]
command = $MK
[module router]
command = mobkit-router
[profile p]
provider = echo
[member m1]
profile = p
[member m2]
profile = p
EOT
gw_section <<EOT
token_file = tokens
EOT
} >"$CFG"
start_daemon
wait_for "the gateway" gw_healthy
wait_for "m1" is_state m1 healthy
wait_for "m2" is_state m2 healthy
# the files, their types and the CSP, without a token
h=$(curl -s -D - -o "$T/index.html" "$GW_URL/")
echo "$h" | grep -q '^HTTP/1.1 200' || fail "GET /: $h"
echo "$h" | grep -qi "^Content-Security-Policy: default-src 'none'; script-src 'self'" || fail "no strict CSP: $h"
echo "$h" | grep -qi '^Content-Type: text/html' || fail "type of /: $h"
grep -q 'src="/app.js"' "$T/index.html" || fail "index.html: $(head -20 "$T/index.html")"
! grep -qiE 'https?://' "$T/index.html" || fail "the page names another host"
curl -s -D - -o /dev/null "$GW_URL/app.js" | grep -qi '^Content-Type: text/javascript' || fail "app.js type"
curl -s -D - -o /dev/null "$GW_URL/app.css" | grep -qi '^Content-Type: text/css' || fail "app.css type"
p0=$(pid_of a)
WANT_PID_FILE=$T/pid node "$FIX/console_browser.cjs" "$GW_URL" "$GW_TOKEN" "$T" >"$T/browser.out" 2>&1 ||
	fail "browser: $(cat "$T/browser.out")"
tail -1 "$T/browser.out" | grep -qx ok || fail "browser: $(cat "$T/browser.out")"
[ -s "$T/console.png" ] || fail "no screenshot"
# the pid the page showed is the tree's
[ "$(cat "$T/pid")" = "$(pid_of a)" ] && [ "$(pid_of a)" != "$p0" ] ||
	fail "the page's pid $(cat "$T/pid"), the tree's $(pid_of a), before $p0"
# console = false (a reload restarts the gateway with it): no page, the API on
sed -i 's/^token_file = tokens$/token_file = tokens\nconsole = false/' "$CFG"
jctl reload >/dev/null || fail "reload: $(jctl reload)"
wait_for "no console" sh -c "[ \"\$(curl -s -o /dev/null -w '%{http_code}' $GW_URL/)\" = 404 ]"
[ "$(curl -s -o /dev/null -w '%{http_code}' "$GW_URL/app.js")" = 404 ] || fail "app.js with console = false"
wait_for "the API" sh -c "[ \"\$(curl -s -o /dev/null -w '%{http_code}' -H 'Authorization: Bearer $GW_TOKEN' $GW_URL/v1/status)\" = 200 ]"
exit 0
