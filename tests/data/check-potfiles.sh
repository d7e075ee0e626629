#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
# Every file with a user-visible (translatable) string must be listed in po/POTFILES.in,
# and every listed file must exist.
set -eu
top=${1:-.}
cd "$top"
status=0
listed=$(grep -v '^#' po/POTFILES.in | sed '/^$/d')
for f in $listed; do
  if [ ! -f "$f" ]; then
    echo "po/POTFILES.in lists $f, which does not exist"
    status=1
  fi
done
candidates=$(grep -rlE '(^|[^A-Za-z0-9_])(_|N_|C_|NC_)\(|translatable="yes"' src ui 2>/dev/null | sort || true)
for f in $candidates; do
  if ! printf '%s\n' $listed | grep -qxF "$f"; then
    echo "$f has translatable strings but is not in po/POTFILES.in"
    status=1
  fi
done
[ $status -eq 0 ] && echo "po/POTFILES.in lists all $(printf '%s\n' $listed | wc -l) files with translatable strings"
exit $status
