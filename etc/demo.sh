#!/bin/sh
# demo.sh: start the demo tree from etc/mobkit.ini, show it, break it,
# watch it recover, reload, and shut it down in order.
set -eu
cd "$(dirname "$0")/.."
CTL="bin/mobkitctl -c etc/mobkit.ini"
bin/mobkitd -c etc/mobkit.ini -t
if $CTL status >/dev/null 2>&1; then
	echo "demo: a mobkitd already runs on etc/mobkit.ini;" \
	    "stop it first: $CTL shutdown" >&2
	exit 1
fi
mkdir -p run
bin/mobkitd -c etc/mobkit.ini 2>run/demo.log &
DPID=$!
# a step that fails leaves no daemon behind
trap 'kill -TERM $DPID 2>/dev/null || true' EXIT
i=0
until $CTL status >/dev/null 2>&1; do
	i=$((i + 1)); [ $i -lt 100 ] || { echo "mobkitd did not start"; cat run/demo.log; exit 1; }
	sleep 0.1
done
sleep 0.5
echo "== the tree (bin/mobkitctl -c etc/mobkit.ini status)"
$CTL status
pid=$($CTL status router | awk '$2 == "router" { print $4 }')	# ├─ NAME STATE PID
echo
echo "== kill -9 $pid (the router)"
kill -9 "$pid"
sleep 1
$CTL status router
echo
echo "== its transitions"
$CTL transitions router
echo
echo "== the last events"
$CTL events | tail -n 8
echo
echo "== the mob: a turn, and a message to a wired peer"
$CTL members
$CTL send worker-1 "Summarise the last report" --wait
$CTL send lead-1 "@worker-1 please check the numbers" --wait
$CTL inputs worker-1
echo
echo "== the modules: route, deliver, schedule"
$CTL resolve user@example.com --channel transactional
$CTL deliver audit --payload '{"event":"demo"}' --key demo-1
tail -n 1 run/audit.jsonl
$CTL schedules
$CTL tick --at 1767603600000
echo
echo "== reload (nothing changed, nothing moves)"
$CTL reload
echo
echo "== shutdown"
$CTL shutdown
wait "$DPID" || { echo "mobkitd exited $?"; exit 1; }
echo
echo "(the daemon's log is in run/demo.log)"
