#!/bin/sh
# deps.sh: install what mobkit needs to build and test on Debian 12.
set -eu
if [ "$(id -u)" != 0 ]; then
	echo "deps.sh: run as root (it uses apt-get)" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends build-essential pkg-config \
    libev-dev libmsgpack-dev libcurl4-openssl-dev libinih-dev check \
    libjansson-dev libsqlite3-dev uthash-dev jq procps util-linux tzdata \
    python3 libmicrohttpd-dev libjwt-dev libssl-dev libgnutls28-dev \
    curl openssl >/dev/null
# the PostgreSQL store: libpq to build; a PostgreSQL 15 server that its
# tests start themselves (initdb, pg_ctl in a temporary directory)
apt-get install -y -qq --no-install-recommends libpq-dev postgresql \
    >/dev/null
# the MCP tests run the real @modelcontextprotocol/server-everything (npm);
# a Node.js that already has its npm (NodeSource's nodejs conflicts with
# Debian's npm package) is kept
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
	apt-get install -y -qq --no-install-recommends nodejs npm >/dev/null
fi
# make check: promtool (the gateway's /metrics); make bench: wrk
apt-get install -y -qq --no-install-recommends prometheus wrk >/dev/null
# make check: the console's test drives a headless Chromium (puppeteer-core
# from npm, with the node and npm the MCP tests need)
apt-get install -y -qq --no-install-recommends chromium >/dev/null
# make fuzz: clang and its libFuzzer runtime (make check needs neither)
apt-get install -y -qq --no-install-recommends clang libclang-rt-14-dev \
    >/dev/null
# make deb, t_deb and t_unit: debhelper and lintian (the package),
# systemd-analyze (the unit's keys and its exposure score), strace (the
# tree's system calls against the unit's filter)
apt-get install -y -qq --no-install-recommends debhelper lintian systemd \
    strace >/dev/null
