# Memory stays bounded under unbounded work: with input_retention_max =
# 1000, once the cap is reached mobkitd's RSS grows by at most 128 bytes
# per further keyed input, plus 1 MiB of allocator noise (and, with
# state_dir, 3 MiB: SQLite's page caches filling up to their caps, 2 MiB
# for the writer and 1 MiB for the reader).  RSS_INPUTS (default 4000)
# sets how many are sent after the warm-up; the figures are printed.
. "$(dirname "$0")/lib.sh"
N=${RSS_INPUTS:-4000}
WARM=2000
# a sanitizer's quarantine makes RSS meaningless: check the cap only
sanitized=
if grep -qa __asan_init "$BIN/mobkitd"; then
	sanitized=1
	N=200
	WARM=1100
fi

# config EXTRA: one echo member; small event buffer and history so that
# only the retention of inputs is measured
config() {
	{ header; printf '%s\n' "$1"; cat <<EOT
input_retention_max = 1000
event_buffer_bytes = 262144

[profile p]
provider = echo
history_max_bytes = 65536

[member m1]
profile = p
EOT
	} >"$CFG"
}

rss() { awk '/^VmRSS:/ { print $2 * 1024 }' /proc/"$DPID"/status; }
idle() { jctl members | jq -e '.[0].queued == 0 and .[0].running == null' >/dev/null; }

# send PREFIX N: N keyed sends, 4 clients at once
send() {
	seq 1 "$2" | sed "s/^/$1-/" | xargs -P 4 -n 50 sh -c '
		sock=$1; shift
		for k; do
			"$0" -s "$sock" send m1 "some text for $k" --key "$k" >/dev/null ||
				exit 255
		done' "$BIN/mobkitctl" "$SOCK" || fail "a send failed"
	wait_for "$1: all finished" idle
}

for extra in "" "state_dir = $T/state"; do
	label=${extra:+state_dir}
	label=${label:-in memory}
	slack=$(( ${extra:+3 +} 1 ))
	config "$extra"
	start_daemon
	wait_for "m1 healthy" is_state m1 healthy
	r0=$(rss)
	send warm "$WARM"
	r1=$(rss)
	send more "$N"
	r2=$(rss)
	jctl inputs m1 | jq -e 'length == 1000' >/dev/null ||
		fail "$label: $(jctl inputs m1 | jq length) inputs remembered"
	grow=$((r2 - r1))
	echo "$label: RSS $((r0 / 1024)) KiB at start, $((r1 / 1024)) KiB after" \
	    "$WARM inputs (cap 1000 reached), $((r2 / 1024)) KiB after $N more:" \
	    "$((grow / N)) bytes per input" >&2
	[ -n "$sanitized" ] || [ "$grow" -le $((N * 128 + slack * 1048576)) ] ||
		fail "$label: RSS grew by $grow bytes over $N inputs past the cap"
	kill -TERM "$DPID"; wait "$DPID" 2>/dev/null
done
