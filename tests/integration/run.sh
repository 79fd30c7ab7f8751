#!/bin/sh
# run.sh: run every integration test; print "N passed, N failed".
dir=$(dirname "$0")
pass=0
failed=0
names=
for t in "$dir"/t_*.sh; do
	name=$(basename "$t" .sh)
	if [ -n "${ONLY:-}" ] && [ "$name" != "$ONLY" ]; then
		continue
	fi
	start=$(date +%s)
	if out=$(bash "$t" 2>&1); then
		pass=$((pass + 1))
		echo "ok   $name ($(( $(date +%s) - start ))s)"
	else
		failed=$((failed + 1))
		names="$names $name"
		echo "FAIL $name ($(( $(date +%s) - start ))s)"
		echo "$out" | sed 's/^/     /'
	fi
done
echo "integration: $pass passed, $failed failed"
[ $failed -eq 0 ] || { echo "failed:$names"; exit 1; }
