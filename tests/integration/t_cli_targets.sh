# start, stop and restart take several names, group names (every child of
# the group, subgroups included) and glob patterns: exactly the children
# named are acted on (their pids change, no other's), each once; a name
# that takes no child is refused, naming it, and nothing is done.
. "$(dirname "$0")/lib.sh"
{ header; cat <<EOT
[group pool]
strategy = one_for_one
[group inner]
group = pool
[module worker-1]
command = $MK
args = --ready none
group = pool
[module worker-2]
command = $MK
args = --ready none
group = pool
[module deep]
command = $MK
args = --ready none
group = inner
[module web]
command = $MK
args = --ready none
[module db]
command = $MK
args = --ready none
[module cache]
command = $MK
args = --ready none
EOT
} >"$CFG"
ALL="worker-1 worker-2 deep web db cache"
start_daemon
for n in $ALL; do wait_for "$n healthy" is_state "$n" healthy; done

# pids: "name=pid ..." of every child
pids() { for n in $ALL; do printf '%s=%s ' "$n" "$(pid_of "$n")"; done; }
# changed BEFORE AFTER: the names whose pid changed, sorted
changed() {
	for n in $ALL; do
		b=$(echo "$1" | tr ' ' '\n' | grep "^$n=")
		a=$(echo "$2" | tr ' ' '\n' | grep "^$n=")
		[ "$a" = "$b" ] || echo "$n"
	done | sort | tr '\n' ' '
}
all_healthy() { for n in $ALL; do is_state "$n" healthy || return 1; done; }

# several names
b=$(pids)
ctl restart web db >"$T/out" || fail "restart web db: $(cat "$T/out")"
[ "$(grep -c ' healthy ' "$T/out")" = 2 ] || fail "one line per child: $(cat "$T/out")"
wait_for "all healthy" all_healthy
[ "$(changed "$b" "$(pids)")" = "db web " ] || fail "restart web db changed: $(changed "$b" "$(pids)")"

# a glob pattern (quoted: the shell must not expand it)
b=$(pids)
jctl restart 'worker-*' >"$T/out" || fail "restart worker-*: $(cat "$T/out")"
jq -e 'length == 2 and (map(.name) | sort) == ["worker-1","worker-2"]' "$T/out" >/dev/null ||
	fail "restart worker-* answered: $(cat "$T/out")"
wait_for "all healthy" all_healthy
[ "$(changed "$b" "$(pids)")" = "worker-1 worker-2 " ] || fail "worker-* changed: $(changed "$b" "$(pids)")"

# a group: its children and its subgroup's
b=$(pids)
ctl restart pool >"$T/out" || fail "restart pool: $(cat "$T/out")"
wait_for "all healthy" all_healthy
[ "$(changed "$b" "$(pids)")" = "deep worker-1 worker-2 " ] || fail "pool changed: $(changed "$b" "$(pids)")"

# a mix, with a child named twice (pattern and name): acted on once
b=$(pids)
jctl restart inner 'c?che' cache >"$T/out" || fail "restart mix: $(cat "$T/out")"
jq -e 'length == 2' "$T/out" >/dev/null || fail "a child twice: $(cat "$T/out")"
wait_for "all healthy" all_healthy
[ "$(changed "$b" "$(pids)")" = "cache deep " ] || fail "mix changed: $(changed "$b" "$(pids)")"

# stop and start by pattern
ctl stop 'w*' >/dev/null || fail "stop w*"
for n in worker-1 worker-2 web; do is_state "$n" stopped || fail "$n not stopped: $(state_of "$n")"; done
is_state db healthy || fail "db stopped by w*"
ctl start 'w*' >"$T/out" || fail "start w*: $(cat "$T/out")"
wait_for "all healthy" all_healthy

# one exact name: the old answer, one object
jctl restart db | jq -e 'type == "object" and .name == "db" and .state == "healthy"' >/dev/null ||
	fail "one name: $(jctl restart db)"
# (the older request shape {name}, which the gateway sends: t_gateway)

# a name that takes nothing: exit 1, named, nothing done
b=$(pids)
err=$(ctl restart web nosuch 2>&1); rc=$?
[ $rc = 1 ] || fail "unknown name: exit $rc: $err"
echo "$err" | grep -q 'no child or group named "nosuch"' || fail "unknown name: $err"
err=$(ctl stop 'zz-*' 2>&1); rc=$?
[ $rc = 1 ] && echo "$err" | grep -q 'no child matches "zz-\*"' || fail "empty pattern: $rc $err"
sleep 0.3
[ "$(changed "$b" "$(pids)")" = "" ] || fail "a refused request acted: $(changed "$b" "$(pids)")"
# no name at all: usage
ctl restart >/dev/null 2>&1; [ $? = 2 ] || fail "restart without a name: not 2"
