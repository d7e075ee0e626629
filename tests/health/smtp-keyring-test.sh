#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright 2026 The Moat developers
#
# Runs moat-smtp-test's keyring case against gnome-keyring's Secret Service
# on a private session bus, with a throwaway HOME, so no real keyring is
# touched. Skips (TAP) when gnome-keyring or dbus-run-session is missing.
set -eu

test_bin=$1
if ! command -v gnome-keyring-daemon >/dev/null 2>&1 || ! command -v dbus-run-session >/dev/null 2>&1; then
  echo "1..0 # SKIP needs gnome-keyring-daemon and dbus-run-session (packages gnome-keyring, dbus)"
  exit 0
fi

home=$(mktemp -d)
trap 'rm -rf "$home"' EXIT
mkdir -m 700 "$home/run"
export HOME="$home" XDG_RUNTIME_DIR="$home/run" XDG_DATA_HOME="$home/data" \
  XDG_CONFIG_HOME="$home/config" XDG_CACHE_HOME="$home/cache"
export MOAT_TEST_SECRET_SERVICE=1

exec dbus-run-session -- sh -c '
  printf "throwaway" | gnome-keyring-daemon --unlock --components=secrets >/dev/null 2>&1 || {
    echo "1..0 # SKIP gnome-keyring-daemon did not start"; exit 0; }
  exec "$0" --tap -p /moat/smtp/keyring' "$test_bin"
