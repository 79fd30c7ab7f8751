# reload: only added, removed and changed children move; a bad file is
# refused with FILE:LINE and changes nothing.
. "$(dirname "$0")/lib.sh"
{ header; cat <<EOT
[module keep]
command = $MK

[module change]
command = $MK
args = --say one

[module gone]
command = $MK
EOT
} >"$CFG"
start_daemon
for c in keep change gone; do wait_for "$c healthy" is_state $c healthy; done
pk=$(pid_of keep); pc=$(pid_of change); pg=$(pid_of gone)
cp "$CFG" "$T/good.ini"
{ header; cat <<EOT
[module keep]
command = $MK

[module change]
command = $MK
args = --say two

[module added]
command = $MK
EOT
} >"$CFG"
out=$(jctl reload) || fail "reload failed"
[ "$(echo "$out" | jq -c .)" = '{"added":["added"],"removed":["gone"],"changed":["change"],"unchanged":["keep"]}' ] ||
	fail "reload said $out"
wait_for "added healthy" is_state added healthy
wait_for "change healthy again" sh -c "[ \"\$($BIN/mobkitctl -s $SOCK --json status change | jq -r '.children[0].pid')\" != $pc ] && [ \"\$($BIN/mobkitctl -s $SOCK --json status change | jq -r '.children[0].state')\" = healthy ]"
[ "$(pid_of keep)" = "$pk" ] || fail "keep restarted"
wait_for "gone dead" dead "$pg"
ctl status gone >/dev/null 2>&1 && fail "gone still listed"
# a bad file is refused and nothing changes
printf '[module x]\ncommand = %s\nbogus = 1\n' "$MK" >>"$CFG"
err=$(ctl reload 2>&1); rc=$?
[ $rc = 1 ] || fail "bad reload exit $rc"
echo "$err" | grep -q "mobkit.ini:[0-9]*: unknown key \"bogus\"" || fail "bad reload said: $err"
ctl status x >/dev/null 2>&1 && fail "x appeared"
[ "$(pid_of keep)" = "$pk" ] || fail "keep moved after a refused reload"
