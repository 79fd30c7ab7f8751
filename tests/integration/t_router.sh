# mobkit-router: match order, the recipient's form when no route matches,
# defaults and overrides, errors that name the field, roster routes that
# follow the members, route add/rm, and a resolve that waits out a kill -9
# of the router.
. "$(dirname "$0")/lib.sh"
{ header; cat <<EOT
[module router]
command = mobkit-router
restart_backoff_ms = 700

[route both]
recipient = alice
channel = sms
sink = webhook
target = http://127.0.0.1:9/both

[route rcpt]
recipient = alice
channel = *
sink = email
target = alice@example.org

[route chan]
recipient = *
channel = sms
sink = webhook
target = http://127.0.0.1:9/sms
retry_max = 5
backoff_ms = 100
rate_limit_per_minute = 10

[profile p]
provider = echo

[member m1]
profile = p
EOT
} >"$CFG"
start_daemon
wait_for "router healthy" is_state router healthy
wait_for "m1 healthy" is_state m1 healthy
res() { jctl resolve "$@"; }
[ "$(res alice --channel sms | jq -r .route)" = both ] || fail "exact/exact"
[ "$(res alice --channel mail | jq -r .route)" = rcpt ] || fail "exact/*"
[ "$(res bob --channel sms | jq -r .route)" = chan ] || fail "*/exact"
out=$(res bob --channel sms)
echo "$out" | jq -e '.sink == "webhook" and .target_module == "delivery" and .retry_max == 5 and .backoff_ms == 100 and .rate_limit_per_minute == 10' >/dev/null || fail "route values: $out"
# no route: the form decides; defaults
out=$(res user@example.com --channel transactional)
echo "$out" | jq -e '.sink == "email" and .target_module == "delivery" and .channel == "transactional" and .route == null and .retry_max == 1 and .backoff_ms == 250 and .rate_limit_per_minute == 60' >/dev/null || fail "email: $out"
[ "$(res https://example.org/h | jq -r .sink)" = webhook ] || fail "url"
[ "$(res https://example.org/h | jq -r .channel)" = notification ] || fail "default channel"
[ "$(res mob.member.m1 | jq -r .sink)" = mob_member ] || fail "mob.member form"
a=$(res bob@x.org | jq -r .route_id); b=$(res bob@x.org | jq -r .route_id)
[ "$a" != "$b" ] || fail "route_id not fresh"
# overrides and their errors
out=$(res bob@x.org --retry-max 3 --backoff-ms 50 --rate-limit 7)
echo "$out" | jq -e '.retry_max == 3 and .backoff_ms == 50 and .rate_limit_per_minute == 7' >/dev/null || fail "overrides: $out"
err=$(ctl resolve bob@x.org --retry-max 11 2>&1); [ $? = 1 ] || fail "retry_max 11 accepted"
echo "$err" | grep -q 'retry_max: bad value "11"' || fail "$err"
err=$(ctl resolve bob@x.org --rate-limit 0 2>&1); [ $? = 1 ] && echo "$err" | grep -q rate_limit_per_minute || fail "$err"
err=$(ctl resolve nobody-at-all 2>&1); [ $? = 1 ] || fail "unroutable accepted"
echo "$err" | grep -q 'no route matches and its form names no sink' || fail "$err"
# roster routes follow the members
jctl routes | jq -e 'map(select(.id == "mob.member.m1" and .recipient == "m1" and .channel == "notification" and .sink == "mob_member" and .target == "delivery")) | length == 1' >/dev/null || fail "roster: $(jctl routes)"
jctl spawn m2 p >/dev/null
wait_for "roster route for m2" sh -c "$BIN/mobkitctl -s $SOCK --json routes | jq -e 'map(select(.id == \"mob.member.m2\")) | length == 1'"
[ "$(res m2 | jq -r .sink)" = mob_member ] || fail "resolve m2"
jctl retire m2 >/dev/null
wait_for "roster route for m2 gone" sh -c "$BIN/mobkitctl -s $SOCK --json routes | jq -e 'map(select(.id == \"mob.member.m2\")) | length == 0'"
# route add / rm
out=$(jctl route add ops recipient=ops channel=* sink=file target=/tmp/ops.log retry_max=2) || fail "route add: $out"
[ "$(res ops | jq -r .route)" = ops ] || fail "added route not used"
err=$(ctl route add bad sink=pigeon target=x 2>&1); [ $? = 1 ] && echo "$err" | grep -q 'sink: bad value "pigeon"' || fail "$err"
err=$(ctl route add bad2 sink=file 2>&1); [ $? = 1 ] && echo "$err" | grep -q '"target" is required' || fail "$err"
err=$(ctl route add bad3 sink=file target=x color=red 2>&1); [ $? = 1 ] && echo "$err" | grep -q 'unknown route key "color"' || fail "$err"
# targets are checked as the INI's are: a URL for webhook, an address for email
err=$(ctl route add bad4 sink=webhook target=ftp://x 2>&1); [ $? = 1 ] && echo "$err" | grep -q 'target: "ftp://x" is not an http:// or https:// URL' || fail "$err"
err=$(ctl route add bad5 sink=email 'target=a b@x.org' 2>&1); [ $? = 1 ] && echo "$err" | grep -q 'target: "a b@x.org" is not an email address' || fail "$err"
err=$(ctl route add bad6 sink=email "$(printf 'target=ops@x.org\r\nBcc: e@x.org')" 2>&1); [ $? = 1 ] && echo "$err" | grep -q 'is not an email address: holds CR or LF' || fail "$err"
jctl routes | jq -e 'map(select(.id | startswith("bad"))) | length == 0' >/dev/null || fail "a bad route was added: $(jctl routes)"
# a recipient that only looks like an address names no sink
err=$(ctl resolve 'bob@-bad-.example' 2>&1); [ $? = 1 ] && echo "$err" | grep -q 'no route matches and its form names no sink' || fail "bad domain resolved: $err"
err=$(ctl resolve 'b"o"b@x.org' 2>&1); [ $? = 1 ] || fail "quoted local part resolved: $err"
ctl route rm mob.member.m1 >/dev/null 2>&1 && fail "roster route removed"
jctl route rm ops >/dev/null || fail "route rm"
ctl resolve ops >/dev/null 2>&1 && fail "removed route still used"
# a resolve sent while the router is down waits for its restart
p=$(pid_of router)
kill -9 "$p"
out=$(jctl resolve alice --channel sms) || fail "resolve across a router restart: $out"
[ "$(echo "$out" | jq -r .route)" = both ] || fail "after restart: $out"
[ "$(pid_of router)" != "$p" ] || fail "router not restarted"
# a module told to stop by a signal of its own exits cleanly
p=$(pid_of router)
ctl kill router TERM >/dev/null || fail "kill TERM"
wait_for "router back" sh -c "[ \"\$($BIN/mobkitctl -s $SOCK --json status router | jq -r '.children[0].pid')\" != $p ] && [ \"\$($BIN/mobkitctl -s $SOCK --json status router | jq -r '.children[0].state')\" = healthy ]"
[ "$(jctl status router | jq -c .children[0].last_exit)" = '{"code":0}' ] || fail "SIGTERM: $(jctl status router | jq -c .children[0].last_exit)"
