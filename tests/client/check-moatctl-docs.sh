#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright 2026 The Moat developers
# moatctl --help, moatctl(1) and the bash completion name the same options and
# the man page has no roff warnings; the completion script parses.
set -eu
moatctl=$1
man=$2
completion=$3
status=0

options=$("$moatctl" --help | grep -oE -- '--[a-z]+' | sort -u)
for opt in $options; do
  if ! grep -qF -- "\\-\\-${opt#--}" "$man"; then
    echo "moatctl(1) does not document $opt"
    status=1
  fi
  if ! grep -qE -- "(^|[\" ])${opt}([\" ]|$)" "$completion"; then
    echo "the bash completion does not offer $opt"
    status=1
  fi
done
for command in status events; do
  grep -q "^\.B $command\$" "$man" || { echo "moatctl(1) does not document $command"; status=1; }
  grep -q "$command" "$completion" || { echo "the bash completion does not offer $command"; status=1; }
done
for field in id time time_us source threat severity subject action detail \
             version protection_state protection_summary risk_level proxy_address \
             store_state store_message start_time; do
  grep -q "^\.B $field\$" "$man" || { echo "moatctl(1) does not document the JSON field $field"; status=1; }
done

bash -n "$completion" || status=1
if command -v groff >/dev/null 2>&1; then
  warnings=$(groff -man -Tutf8 -ww -z "$man" 2>&1 || true)
  if [ -n "$warnings" ]; then
    echo "$warnings"
    status=1
  fi
fi
[ $status -eq 0 ] && echo "moatctl --help, moatctl(1) and the completion agree on $(echo $options | wc -w) options"
exit $status
