#!/bin/sh
# run.sh: make bench.  Prints each figure beside its same-run baseline.
set -e
"$MOBKIT_TESTBIN/mkbench" "$MOBKIT_BIN" "$MOBKIT_TESTBIN" ${BENCH_N:-1000}
echo
"$MOBKIT_TESTBIN/mobbench" "$MOBKIT_BIN" "$MOBKIT_TESTBIN" ${BENCH_INPUTS:-100000}
echo
"$MOBKIT_TESTBIN/modbench" "$MOBKIT_BIN" "$MOBKIT_TESTBIN" ${BENCH_REQUESTS:-20000}
echo
"$MOBKIT_TESTBIN/ctlbench" "$MOBKIT_BIN" ${BENCH_CTL:-500}
echo
"$MOBKIT_TESTBIN/turnbench" "$MOBKIT_BIN" ${BENCH_TURNS:-2000}
echo
sh "$(dirname "$0")/gwbench.sh" "$MOBKIT_BIN" ${BENCH_GW_SECONDS:-5} ${BENCH_CTL:-500}
