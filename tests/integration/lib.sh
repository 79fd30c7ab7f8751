# lib.sh: helpers for the integration tests.  Each test runs real mobkitd
# and mobkitctl processes on a private socket in a temporary directory,
# polls for what a user would see (generous deadlines, never a fixed
# sleep as an assertion), and cleans up every process it started.
set -u
BIN=${MOBKIT_BIN:?set MOBKIT_BIN to the bin/ directory}
TB=${MOBKIT_TESTBIN:?set MOBKIT_TESTBIN to build/tests}
MK=$TB/mkchild
T=$(mktemp -d /tmp/mobkit-test.XXXXXX)
chmod 755 "$T"
SOCK=$T/ctl.sock
CFG=$T/mobkit.ini
DPID=
TIMEOUT=${TIMEOUT:-30}

fail() {
	echo "FAIL: $*"
	if [ -f "$T/daemon.log" ]; then
		echo "--- last lines of the daemon log:"
		tail -n 40 "$T/daemon.log"
	fi
	exit 1
}

ctl() { "$BIN/mobkitctl" -s "$SOCK" "$@"; }
jctl() { "$BIN/mobkitctl" -s "$SOCK" --json "$@"; }

# wait_for DESCRIPTION COMMAND...: poll until the command succeeds.
wait_for() {
	desc=$1
	shift
	end=$(( $(date +%s) + TIMEOUT ))
	until "$@" >/dev/null 2>&1; do
		[ "$(date +%s)" -lt "$end" ] || fail "timed out waiting for $desc"
		sleep 0.05
	done
}

# header: the [mobkitd] section every test config starts with.
header() {
	cat <<EOT
[mobkitd]
control_socket = $SOCK
start_timeout_ms = 10000
stop_timeout_ms = 3000
EOT
}

start_daemon() {
	"$BIN/mobkitd" -c "$CFG" "$@" >"$T/daemon.log" 2>&1 &
	DPID=$!
	wait_for "the control socket" test -S "$SOCK"
}

state_of() { jctl status "$1" | jq -r '.children[0].state'; }
pid_of() { jctl status "$1" | jq -r '.children[0].pid'; }
field_of() { jctl status "$1" | jq -r ".children[0].$2"; }
is_state() { [ "$(state_of "$1")" = "$2" ]; }
alive() { kill -0 "$1" 2>/dev/null; }
dead() { ! kill -0 "$1" 2>/dev/null || [ "$(awk '{print $3}' /proc/"$1"/stat 2>/dev/null)" = Z ]; }
daemon_gone() { ! kill -0 "$DPID" 2>/dev/null; }
count_lines() { grep -c "$1" "$2" 2>/dev/null || true; }

# transitions_of NAME: the "to" states, space separated.
transitions_of() { jctl transitions "$1" | jq -r '[.[].to] | join(" ")'; }

cleanup() {
	rc=$?
	if [ -n "$DPID" ] && kill -0 "$DPID" 2>/dev/null; then
		kill -TERM "$DPID" 2>/dev/null
		i=0
		while kill -0 "$DPID" 2>/dev/null && [ $i -lt 200 ]; do
			sleep 0.05
			i=$((i + 1))
		done
		kill -KILL "$DPID" 2>/dev/null
	fi
	# anything a test child left behind (only ours: by the temp dir)
	pkill -KILL -f "$T" 2>/dev/null
	for f in "$T"/*.pid; do
		[ -f "$f" ] && kill -KILL "$(cat "$f")" 2>/dev/null
	done
	# a sanitizer report from mobkitd or any child fails the test
	if grep -Eq "ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:" \
	    "$T/daemon.log" 2>/dev/null; then
		echo "FAIL: sanitizer report in the daemon log:"
		grep -E -A 12 "ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:" \
		    "$T/daemon.log" | head -40
		rc=1
	fi
	rm -rf "$T"
	exit $rc
}
trap cleanup EXIT

# start_llm: the OpenAI-compatible fixture on a free loopback port.
FIX=$(cd "$(dirname "$0")/../fixtures" && pwd)
LLM_PORT=
start_llm() {
	python3 "$FIX/llmserver.py" "$T/llm.port" "$T/llm.log" &
	echo $! >"$T/llm.pid"
	wait_for "the LLM fixture" test -s "$T/llm.port"
	LLM_PORT=$(cat "$T/llm.port")
	: >"$T/llm.log"
}

# input_field MEMBER INPUT_ID FIELD
input_field() { jctl inputs "$1" | jq -r ".[] | select(.input_id == \"$2\") | .$3"; }
input_is() { [ "$(input_field "$1" "$2" state)" = "$3" ]; }
running_of() { jctl members | jq -r ".[] | select(.id == \"$1\") | .running"; }
member_pid() { jctl members | jq -r ".[] | select(.id == \"$1\") | .pid"; }
# send_id MEMBER TEXT [ARGS]: send without waiting, print the input id
send_id() { m=$1; t=$2; shift 2; jctl send "$m" "$t" "$@" | jq -r .input_id; }
