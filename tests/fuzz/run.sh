#!/bin/sh
# run.sh DIR TARGET...: run each libFuzzer binary DIR/fuzz-TARGET, one at a
# time, for FUZZ_SECONDS (and at most FUZZ_RUNS executions when set), on
# its seeds (tests/fuzz/corpus/TARGET, read only) and a working corpus in
# DIR/corpus/TARGET; print per target the executions, the time, the
# crashes and the corpus size; fail when any target crashed.
set -u
dir=$1
shift
top=$(cd "$(dirname "$0")/../.." && pwd)
secs=${FUZZ_SECONDS:-60}
runs=${FUZZ_RUNS:-0}
[ "$runs" -gt 0 ] 2>/dev/null || runs=-1

maxlen() {
	case $1 in
	cron) echo 256 ;;
	ctlreq) echo 4096 ;;
	ini|json) echo 8192 ;;
	*) echo 16384 ;;
	esac
}

failed=0
summary=""
for t in "$@"; do
	work=$dir/corpus/$t
	art=$dir/artifacts/$t
	log=$dir/$t.log
	rm -rf "$art"
	mkdir -p "$work" "$art"
	dict=$top/tests/fuzz/dict/$t.dict
	[ -f "$dict" ] && dictopt=-dict=$dict || dictopt=
	echo "fuzz $t: ${secs}s, max_len $(maxlen "$t"), log in $log"
	start=$(date +%s)
	"$dir/fuzz-$t" -max_total_time="$secs" -runs="$runs" \
	    -max_len="$(maxlen "$t")" -timeout=10 -rss_limit_mb=2048 \
	    -print_final_stats=1 -artifact_prefix="$art/" $dictopt \
	    "$work" "$top/tests/fuzz/corpus/$t" >"$log" 2>&1
	rc=$?
	end=$(date +%s)
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
	corp=$(grep -o 'corp: [0-9]*/[0-9a-zA-Z]*' "$log" | tail -1 | cut -d' ' -f2)
	crashes=$(ls "$art" | wc -l)
	line=$(printf "%-8s %12s execs %6ss  crashes %s  corpus %s" "$t" \
	    "${execs:-?}" "$((end - start))" "$crashes" "${corp:-?}")
	if [ "$rc" -ne 0 ] || [ "$crashes" -ne 0 ]; then
		failed=1
		line="$line  FAILED (exit $rc; see $log and $art)"
		grep -m1 -E '^==[0-9]+==ERROR|runtime error|^SUMMARY|deadly|timeout' \
		    "$log" | sed 's/^/    /'
	fi
	echo "$line"
	summary="$summary$line
"
done
echo "--- fuzz summary"
printf "%s" "$summary"
exit $failed
