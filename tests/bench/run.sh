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
# an MCP tool round trip: the real server-everything when the MCP tests
# have installed it (build/npm), else the python fixture
EVERY=${MOBKIT_NPM_CACHE:-build/npm}/node_modules/@modelcontextprotocol/server-everything/dist/index.js
if [ -f "$EVERY" ]; then
	"$MOBKIT_TESTBIN/mcpbench" "$MOBKIT_BIN" ${BENCH_MCP:-2000} node "$(cd "$(dirname "$EVERY")" && pwd)/index.js" stdio
fi
"$MOBKIT_TESTBIN/mcpbench" "$MOBKIT_BIN" ${BENCH_MCP:-2000} python3 "$(cd "$(dirname "$0")/../fixtures" && pwd)/mcpserver.py"
echo
sh "$(dirname "$0")/gwbench.sh" "$MOBKIT_BIN" ${BENCH_GW_SECONDS:-5} ${BENCH_CTL:-500}
echo
# the cluster: 3 nodes on one PostgreSQL beside one SQLite node, failover
# (bash's notes of the nodes it killed left out)
bash "$(dirname "$0")/clbench.sh" 2>"${TMPDIR:-/tmp}/clbench.$$.err" ||
	{ cat "${TMPDIR:-/tmp}/clbench.$$.err" >&2; rm -f "${TMPDIR:-/tmp}/clbench.$$.err"; exit 1; }
grep -v ' Killed ' "${TMPDIR:-/tmp}/clbench.$$.err" >&2 || true
rm -f "${TMPDIR:-/tmp}/clbench.$$.err"
