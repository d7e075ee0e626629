#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright 2026 The Moat developers
"""House rules from STYLE.md that a script can check (fwupd's check-source.py does the same)."""

import os
import re
import sys

top = sys.argv[1] if len(sys.argv) > 1 else "."
problems = []

LAYER_FORBIDDEN = {
    # folder: patterns its .c/.h files must not include or call
    "src/common": [r"#include\s+<(gtk|adwaita|sqlite3|libnotify)", r'#include\s+"moat-(store|engine|client|daemon)'],
    "src/store": [r"#include\s+<(gtk|adwaita|libnotify)", r'#include\s+"moat-(engine|client|daemon)'],
    "src/engine": [r"#include\s+<(gtk|adwaita|sqlite3)", r'#include\s+"moat-(client|daemon)', r"moat_dbus_"],
    "src/daemon": [r"#include\s+<(gtk|adwaita|sqlite3)", r'#include\s+"moat-client'],
    "src/client": [r"#include\s+<(gtk|adwaita|sqlite3|libnotify)", r'#include\s+"moat-(store|engine|daemon)'],
    "src/cli": [r"#include\s+<(gtk|adwaita|sqlite3|libnotify)", r'#include\s+"moat-(store|engine|daemon)'],
    "src/app": [r"#include\s+<(sqlite3|libnotify)", r'#include\s+"moat-(store|engine|daemon)', r"g_dbus_proxy_call\b"],
}

RULES = [
    (r"\bg_error\s*\(", "never call g_error(): bad input gets a GError, not an abort"),
    (r"(?<![_a-z])g_assert\s*\(", "use g_assert_true/cmpint/... (G_DISABLE_ASSERT removes g_assert)"),
    (r"\bsprintf\s*\(", "use g_strdup_printf or g_snprintf"),
    (r"\bstrcpy\s*\(|\bstrcat\s*\(", "use g_strlcpy/g_strconcat"),
    (r"\bsignal\s*\(\s*SIG(TERM|INT|HUP)", "use g_unix_signal_add for SIGTERM/SIGINT/SIGHUP"),
]

for root, dirs, files in os.walk(os.path.join(top, "src")):
    for name in files:
        if not name.endswith((".c", ".h")):
            continue
        path = os.path.join(root, name)
        rel = os.path.relpath(path, top)
        text = open(path, encoding="utf-8").read()
        if "SPDX-License-Identifier" not in text[:400]:
            problems.append(f"{rel}: no SPDX-License-Identifier in the header")
        if name.endswith(".c"):
            m_dom = re.search(r'#define\s+G_LOG_DOMAIN', text)
            m_cfg = re.search(r'#include\s+"config\.h"', text)
            if m_cfg is None:
                problems.append(f"{rel}: does not include config.h")
            elif m_dom is None or m_dom.start() > m_cfg.start():
                problems.append(f"{rel}: G_LOG_DOMAIN must be defined before config.h")
        else:
            if "#pragma once" not in text:
                problems.append(f"{rel}: header without #pragma once")
            if re.search(r'#include\s+"config\.h"', text):
                problems.append(f"{rel}: a header must not include config.h")
        for folder, pats in LAYER_FORBIDDEN.items():
            if rel.startswith(folder + "/"):
                for pat in pats:
                    for m in re.finditer(pat, text):
                        line = text.count("\n", 0, m.start()) + 1
                        problems.append(f"{rel}:{line}: layer rule: {folder} must not use “{m.group(0)}”")
        for pat, why in RULES:
            for m in re.finditer(pat, text):
                line = text.count("\n", 0, m.start()) + 1
                problems.append(f"{rel}:{line}: {why}")

for p in problems:
    print(p)
if problems:
    print(f"{len(problems)} problem(s)")
    sys.exit(1)
print("source rules ok")
