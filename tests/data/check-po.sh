#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
# Every translation in po/LINGUAS compiles with msgfmt --check, and is complete.
set -eu
top=${1:-.}
cd "$top/po"
status=0
n=0
for lang in $(grep -v '^#' LINGUAS); do
  n=$((n + 1))
  if ! out=$(msgfmt --check --statistics -o /dev/null "$lang.po" 2>&1); then
    echo "$lang.po: $out"
    status=1
    continue
  fi
  echo "$lang.po: $out"
  case "$out" in
    *untranslated*|*fuzzy*) echo "$lang.po is not complete"; status=1 ;;
  esac
done
[ $n -gt 0 ] || echo "no translations in po/LINGUAS"
exit $status
