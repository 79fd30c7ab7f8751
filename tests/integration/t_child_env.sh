# Children's environment is declared, never mobkitd's whole: a secret in
# mobkitd's environment reaches no module, only the one whose pass_env
# names it, and the member whose profile's api_key_env names it; PATH,
# LANG, LC_* and TZ do pass; a user = child gets that user's HOME, USER
# and LOGNAME.  A schedule's time zone never leaks into a child spawned
# after it was computed.
. "$(dirname "$0")/lib.sh"
{ header; cat <<EOT
pass_env = SHARED_VAR

[module plain]
command = $MK

[module passer]
command = $MK
pass_env = SECRET_KEY

[profile p]
provider = echo
api_key_env = SECRET_KEY

[member m]
profile = p

[schedule tz]
cron = 0 9 * * *
timezone = Asia/Tokyo
member = m
message = good morning
EOT
[ "$(id -u)" = 0 ] && printf '\n[module other]\ncommand = %s\nuser = nobody\n' "$MK"
} >"$CFG"
env_of() { tr '\0' '\n' <"/proc/$1/environ"; }
has() { env_of "$1" | grep -qx "$2"; }
SECRET_KEY=s3cr3t SHARED_VAR=shared UNRELATED=nope LANG=C.UTF-8 LC_TIME=C \
    TZ=Europe/Lisbon HOME=/root/not-for-children start_daemon
wait_for "plain healthy" is_state plain healthy
wait_for "passer healthy" is_state passer healthy
wait_for "m healthy" is_state m healthy
p=$(pid_of plain); q=$(pid_of passer); w=$(member_pid m)
env_of "$p" | grep -q '^SECRET_KEY=' && fail "the secret reached a module: $(env_of "$p")"
env_of "$p" | grep -q '^UNRELATED=' && fail "an undeclared variable was inherited"
env_of "$p" | grep -q '^HOME=' && fail "mobkitd's HOME was inherited"
for v in SHARED_VAR=shared LANG=C.UTF-8 LC_TIME=C TZ=Europe/Lisbon MOBKIT_NAME=plain "PATH=$PATH"; do
	has "$p" "$v" || fail "plain lacks $v: $(env_of "$p")"
done
has "$q" SECRET_KEY=s3cr3t || fail "pass_env did not pass SECRET_KEY"
has "$w" SECRET_KEY=s3cr3t || fail "the member lacks its api_key_env variable"
env_of "$w" | grep -q '^UNRELATED=' && fail "the member inherited an undeclared variable"
if [ "$(id -u)" = 0 ]; then
	wait_for "other healthy" is_state other healthy
	o=$(pid_of other)
	home=$(getent passwd nobody | cut -d: -f6)
	has "$o" "HOME=$home" || fail "user = nobody: HOME is not $home: $(env_of "$o")"
	has "$o" USER=nobody || fail "user = nobody: no USER"
	has "$o" LOGNAME=nobody || fail "user = nobody: no LOGNAME"
	env_of "$o" | grep -q '^SECRET_KEY=' && fail "the secret reached user = nobody"
fi
# mobkitd computes the schedule's next due time in Asia/Tokyo ...
jctl schedules | jq -e '.[0].next_due_ms > 0' >/dev/null || fail "schedules: $(jctl schedules)"
ctl tick >/dev/null 2>&1
# ... and a child spawned after that still gets mobkitd's own TZ
ctl restart plain >/dev/null || fail "restart plain"
wait_for "plain restarted" sh -c "[ \"\$(jctl status plain | jq -r '.children[0].pid')\" != $p ]"
wait_for "plain healthy" is_state plain healthy
p=$(pid_of plain)
has "$p" TZ=Europe/Lisbon || fail "TZ of a child after a schedule: $(env_of "$p" | grep ^TZ=)"
true
