# An events --follow reader that stops reading is dropped once it owes
# client_buffer_bytes (or falls out of the event buffer); the daemon goes
# on answering.
. "$(dirname "$0")/lib.sh"
{ header; cat <<EOT
client_buffer_bytes = 65536
event_buffer_bytes = 262144

[module churn]
command = /bin/true
ready = none
restart_backoff_ms = 0
max_restarts = 100000000
EOT
} >"$CFG"
start_daemon
mkfifo "$T/pipe"
# the reader's stdout is a fifo nobody reads: it blocks, the socket fills
"$BIN/mobkitctl" -s "$SOCK" --json events --follow >"$T/pipe" &
rp=$!
exec 3<>"$T/pipe"	# keep the fifo open without reading it
wait_for "the follower dropped" grep -q "dropping an event follower" "$T/daemon.log"
is_state churn healthy || [ "$(field_of churn restarts)" -gt 0 ] || fail "daemon not answering"
kill "$rp" 2>/dev/null
exec 3>&-
true
