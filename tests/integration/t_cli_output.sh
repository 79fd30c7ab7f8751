# mobkitctl's output for people: every verb without --json prints text
# (aligned tables with a header, a tree for status, key-value lines), no
# JSON; times are local wall-clock times (TZ) and relative ones; colour
# only on a terminal (a pty from script(1)) and never with NO_COLOR.
. "$(dirname "$0")/lib.sh"
{ header; cat <<EOT
[module router]
command = mobkit-router
[module delivery]
command = mobkit-delivery
depends = router
[module scheduler]
command = mobkit-scheduler
depends = router delivery
[group workers]
strategy = one_for_one
[module w-a]
command = $MK
args = --ready none
group = workers
[module w-b]
command = $MK
args = --ready none
group = workers
[mob]
id = out-mob
[profile echo]
provider = echo
system = Be brief.
[member m1]
profile = echo
[member m2]
profile = echo
[route audit]
recipient = audit
sink = file
target = $T/audit.jsonl
[schedule daily]
cron = 0 9 * * *
timezone = UTC
member = m1
message = report
EOT
} >"$CFG"
# half an hour east of UTC, no tzdata needed: local times are visible
export TZ=XYZ-05:30
unset NO_COLOR
start_daemon
wait_for "m1 healthy" is_state m1 healthy
wait_for "w-b healthy" is_state w-b healthy
wait_for "scheduler healthy" is_state scheduler healthy

# human VERB...: run without --json, exit 0, keep the output in $T/h
human() {
	ctl "$@" >"$T/h" 2>"$T/herr" || fail "$*: exit $?: $(cat "$T/h" "$T/herr")"
	if grep -q $'\033' "$T/h"; then fail "$*: escape codes on a pipe: $(cat -v "$T/h")"; fi
}
# nojson: no JSON document in the output
nojson() { ! grep -q '^[[:space:]]*[[{]' "$T/h" && ! grep -q '": ' "$T/h" ||
	fail "$1 printed JSON: $(cat "$T/h")"; }
has() { grep -Eq "$1" "$T/h" || fail "$2: no /$1/ in: $(cat "$T/h")"; }

human status; nojson status
has '^mobkitd pid [0-9]+, running, up ' status
has '^NAME +STATE +PID +RESTARTS +BUDGET +SINCE$' status
has '^root +one_for_one +0 +5$' status
has '^├─ workers +one_for_one' status
has '^│  ├─ w-a +healthy +[0-9]+ +0 +5 +(now|[0-9]+s ago)$' status
has '^   └─ m2 +healthy' status
# the columns line up: STATE starts at the same place on every child row
[ "$(grep -E 'healthy' "$T/h" | sed 's/healthy.*//; s/├─/xx/; s/└─/xx/; s/│/x/g' |
	awk '{print length($0)}' | sort -u | wc -l)" = 1 ] ||
	fail "status columns not aligned: $(cat "$T/h")"

ctl send m1 hello --wait >"$T/h" || fail "send --wait"
has '^accepted in-' send
has '^completed: ' send
# a rejection has no input id to show; a text from standard input ends
# with its newline, the result line is still one line
ctl send nobody hi >"$T/h" 2>&1; has '^rejected: unknown member$' "send rejected"
printf 'from stdin\n' | ctl send m1 - --wait >"$T/h" || fail "send -"
has '^completed: .*from stdin$' "send -"
[ "$(wc -l <"$T/h")" = 2 ] || fail "send - printed a blank line: $(cat -A "$T/h")"
human members; nojson members
has '^ID +PROFILE +STATE +PID +QUEUED +RUNNING +RESTARTS$' members
has '^m1 +echo +healthy +[0-9]+ +0 +- +0$' members
human inputs m1; nojson inputs
has '^INPUT +STATE +ATTEMPTS +KEY +RESULT / ERROR$' inputs
has '^in-[^ ]+ +consumed +1 +-' inputs
human conversation m1
has '^\[[0-9:.]+\] user \(in-[^)]*\): hello$' conversation
human usage; nojson usage
has '^ID +INPUT_TOKENS +OUTPUT_TOKENS +TURNS$' usage
human routes; nojson routes
has '^ID +RECIPIENT +CHANNEL +SINK +TARGET +RETRY +BACKOFF_MS +PER_MIN +SOURCE$' routes
has "^audit +audit +\\* +file +$T/audit.jsonl +1 +250 +60 +config$" routes
human route add extra recipient=bob sink=file target="$T/bob.jsonl"; nojson "route add"
has '^route extra: bob/\* -> file ' "route add"
human route rm extra; has '^route extra removed$' "route rm"
human resolve audit; nojson resolve
has '^sink +file$' resolve
has '^target module +delivery$' resolve
# a value that says its unit: the key does not say it again
has '^backoff +250ms$' resolve
human deliver audit --payload '{"n":1}'; nojson deliver
has '^sent dl-[^:]+: audit -> file ' deliver
has '^ATTEMPT +STATUS +AT +ERROR$' deliver
has '^ +1 +sent +[0-9-]+ [0-9:]+ \((now|[0-9]+s ago)\) +-$' deliver
human deliveries; nojson deliveries
has '^DELIVERY +ROUTE +STATUS +SINK +RECIPIENT +ATTEMPTS +LAST +ERROR$' deliveries
has '^dl-[^ ]+ +audit +sent +file +audit +1 +(now|[0-9]+s ago) +-$' deliveries
human schedules; nojson schedules
has '^ID +KIND +EXPR +TIMEZONE +ENABLED +MEMBER +NEXT DUE +LAST CLAIM$' schedules
has '^daily +cron +0 9 \* \* \* +UTC +yes +m1 +[0-9-]+ [0-9:]+ \(in [0-9hm]+\) +-$' schedules
# the next 09:00 UTC is 14:30 here
has ' 14:30:00 \(in ' "schedules in local time"
human tick; nojson tick
has '^tick at [0-9-]+ [0-9:]+ \(now\): [0-9]+ dispatched$' tick
human tools; has '^SERVER +TOOL +DESCRIPTION$' tools
human spawn m3 echo; has '^m3: spawned \(profile echo\), ' spawn
wait_for "m3 healthy" is_state m3 healthy
human wire m3 m1; has '^wired m3 - m1$' wire
human wire m3 m1; has '^m3 - m1: already wired$' "wire again"
human unwire m3 m1; has '^unwired m3 - m1$' unwire
human reset m3; nojson reset; has '^id +m3$' reset; has '^inputs abandoned +0$' reset
human reconcile; has '^retired: m3$' reconcile; has '^retained: m1 m2$' reconcile
human restart w-a; nojson restart
has '^NAME +STATE +PID$' restart
has '^w-a +healthy +[0-9]+$' restart
human kill w-b TERM; has '^w-b: sent TERM to pid [0-9]+$' kill
human reload; has '^unchanged: ' reload
wait_for "w-b back" ctl is-healthy
human is-healthy
[ ! -s "$T/h" ] || fail "is-healthy printed: $(cat "$T/h")"

# transitions: local wall-clock time (TZ), then how long ago
human transitions w-a; nojson transitions
has '^TIME +NAME +FROM +TO +ATTEMPT +AGO$' transitions
has '^[A-Z][a-z]{2} [0-9]{2} [0-9:]{8}\.[0-9]{3} +w-a +\(new\) +starting +1 +([0-9]+[smh].* ago|now)$' transitions
at=$(jctl transitions w-a | jq '.[0].at_ms')
want=$(date -d "@$((at / 1000))" '+%b %d %H:%M:%S')
grep -q "^$want" "$T/h" || fail "transitions not in local time ($want): $(cat "$T/h")"
# events: local time, source, name, type, payload as key=value
human events --name w-a --type child.transition -n 1
[ "$(wc -l <"$T/h")" = 1 ] || fail "events -n 1: $(cat "$T/h")"
has '^[A-Z][a-z]{2} [0-9]{2} [0-9:.]{12} +supervisor +w-a +child.transition +from=[a-z]+ to=[a-z]+ attempt=[0-9]+ pid=[0-9]+$' events

# a terminal gets colour, NO_COLOR (and a pipe, above) none
export TERM=xterm
script -qc "$BIN/mobkitctl -s $SOCK status" /dev/null >"$T/tty" </dev/null ||
	fail "status on a pty"
grep -q $'\033\[32mhealthy\033\[0m' "$T/tty" || fail "no colour on a terminal: $(cat -v "$T/tty")"
NO_COLOR=1 script -qc "$BIN/mobkitctl -s $SOCK status" /dev/null >"$T/tty" </dev/null ||
	fail "status on a pty with NO_COLOR"
grep -q healthy "$T/tty" || fail "NO_COLOR: nothing printed: $(cat -v "$T/tty")"
! grep -q $'\033' "$T/tty" || fail "colour with NO_COLOR: $(cat -v "$T/tty")"
NO_COLOR= script -qc "$BIN/mobkitctl -s $SOCK events -n 3" /dev/null >"$T/tty" </dev/null ||
	fail "events on a pty"
grep -q $'\033\[' "$T/tty" || fail "an empty NO_COLOR turned colour off: $(cat -v "$T/tty")"
# --json is the same on a terminal: no colour in it
script -qc "$BIN/mobkitctl -s $SOCK --json status" /dev/null >"$T/tty" </dev/null
! grep -q $'\033' "$T/tty" || fail "colour in --json: $(cat -v "$T/tty")"
tr -d '\r' <"$T/tty" | jq -e '.daemon.state == "running"' >/dev/null || fail "--json on a pty: $(cat -v "$T/tty")"

human shutdown
has '^drained [0-9]+ in ' shutdown
has '^stopped: .*router$' shutdown
has '^orphans killed: 0$' shutdown
wait_for "mobkitd gone" daemon_gone
