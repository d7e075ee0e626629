#!/bin/bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright 2026 The Moat developers
#
# Issue 4's proxy benchmarks, in one run: moatd against tinyproxy, privoxy and
# squid (the shared proxy-bench harness), then 10,000 idle keep-alive
# connections held by moatd, then the matcher. Not a test; needs root (the
# harness edits /etc/hosts and pins processes) and takes 10-15 minutes.
#
#   tests/bench/run-proxy-bench.sh [--quick] [harness options...]
#
# SHARED_BENCH points at the shared bench folder (default ../shared/bench next
# to the checkout). Results: the harness's markdown report (path printed at the
# end), build-bench/idle-connections.json and build-bench/filter-matcher.txt.
set -euo pipefail

src=$(cd "$(dirname "$0")/../.." && pwd)
shared=${SHARED_BENCH:-$src/../shared/bench}
build=${BENCH_BUILD:-$src/build-bench}

if [ ! -x "$shared/proxy-bench.sh" ]; then
  echo "run-proxy-bench.sh: the shared proxy benchmark is not at $shared (set SHARED_BENCH)" >&2
  exit 2
fi
if [ "$(id -u)" != 0 ]; then
  echo "run-proxy-bench.sh: the harness needs root (/etc/hosts, taskset, ss -p)" >&2
  exit 2
fi

# An optimised build without the GUI; the test API is not compiled in.
if [ ! -d "$build" ]; then
  meson setup "$build" "$src" --buildtype=release -Dgui=false >/dev/null
fi
ninja -C "$build" src/daemon/moatd data/gschemas.compiled tests/filter/moat-filter-bench >/dev/null

data=$(mktemp -d /tmp/moat-bench-XXXXXX)
trap 'rm -rf "$data"' EXIT

# The harness's TLS origin listens on 18443: CONNECT may go there as well
# as to 443 (connect-ports), set in a keyfile GSettings backend of its own.
mkdir -p "$data/config/glib-2.0/settings"
printf '[io/github/moatproject/Moat]\nconnect-ports=[443, 18443]\n' \
  > "$data/config/glib-2.0/settings/keyfile"

# moatd needs a session bus; dbus-run-session gives it a private one. The
# harness measures the whole process tree (moatd and that idle dbus-daemon).
start="exec env GSETTINGS_SCHEMA_DIR=$build/data GSETTINGS_BACKEND=keyfile \
XDG_CONFIG_HOME=$data/config \
dbus-run-session -- $build/src/daemon/moatd --no-network-checks --data-dir $data/\$BENCH_PORT \
--proxy-port \$BENCH_PORT --list \"\$BENCH_BLOCKLIST\" \
--allow-local-host allowed.example.test --allow-local-host blocked.example.test"

"$shared/proxy-bench.sh" --install --with-peers \
  --proxy moat=127.0.0.1:19000 --start "moat=$start" "$@"

echo
echo "== 10,000 idle keep-alive connections =="
python3 "$src/tests/bench/idle-connections.py" --moatd "$build/src/daemon/moatd" \
  --schema-dir "$build/data" --connections 10000 --json "$build/idle-connections.json"

echo
echo "== Matcher (Debian's lists) =="
requests=$data/requests.tsv
if [ -f "$shared/matcher/make-requests.py" ]; then
  python3 "$shared/matcher/make-requests.py" --assets /usr/share/chromium/extensions/ublock-origin/assets \
    --seed 1 --out "$requests" >/dev/null || true
  [ -f "$data/requests.tsv" ] || requests=""
fi
MOAT_MATCHER_REQUESTS=$requests "$build/tests/filter/moat-filter-bench" | tee "$build/filter-matcher.txt"
