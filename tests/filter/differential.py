#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright 2026 The Moat developers
"""Differential test of Moat's URL matcher against @ghostery/adblocker.

Both engines load the Debian uBlock Origin lists (EasyList, EasyPrivacy,
URLhaus, uBlock badware) and judge the same request set; a request agrees
when both block or both do not. Each disagreement is sorted into one of the
deliberate differences of tests/filter/DIFFERENCES.md or "unexplained".
Fails below --min-agreement (99.5 %) overall; exits 77 (skipped) when node,
the npm package, the lists or the request set are missing.

    npm install --prefix BUILD/node @ghostery/adblocker@2.18.2
    MOAT_MATCHER_REQUESTS=requests.tsv meson test -C BUILD --suite differential -v

Without MOAT_MATCHER_REQUESTS the request set is generated with
make-requests.py (seed 1) from MOAT_MATCHER_BENCH_DIR (the shared matcher
benchmark folder) into the build directory.
"""

import argparse
import collections
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

SKIP = 77
HERE = os.path.dirname(os.path.abspath(__file__))
BARE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


def skip(msg):
    print(f"SKIP: {msg}")
    sys.exit(SKIP)


def read_verdicts(path):
    rows = []
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            if line.startswith("#") or not line.strip():
                continue
            parts = line.rstrip("\n").split("\t")
            parts += [""] * (4 - len(parts))
            rows.append((parts[1], parts[2], parts[3]))
    return rows


def read_requests(path):
    rows = []
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            if line.startswith("#") or not line.strip():
                continue
            parts = line.rstrip("\n").split("\t")
            parts += [""] * (4 - len(parts))
            rows.append(parts[:4])
    return rows


def options(rule):
    i = rule.rfind("$")
    return rule[i + 1:].split(",") if i >= 0 and not rule.endswith("/") else []


def classify(g, m):
    """Which deliberate difference explains a disagreement."""
    g_block = g[0] == "block"
    rule = g[1] if g_block else m[1]
    opts = options(rule)
    if g_block and BARE.match(rule) and "." in rule:
        return "bare-host-line"
    if any(o.startswith("to=") for o in opts):
        return "to-option"
    if any(o.startswith("domain=") for o in opts) or (
            m[0] == "exception" and any(o.startswith("domain=") for o in options(m[1]))):
        return "domain-below-registrable"
    if any(o in ("third-party", "3p", "~third-party", "1p", "first-party") for o in opts):
        return "party-public-suffix-list"
    return "unexplained"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--match-requests", required=True, help="the match-requests executable")
    build_root = os.environ.get("MOAT_BUILD_ROOT", os.getcwd())
    ap.add_argument("--node-dir", default=os.environ.get("MOAT_GHOSTERY_DIR", os.path.join(build_root, "node")))
    ap.add_argument("--assets", default=os.environ.get("MOAT_UBO_ASSETS",
                                                       "/usr/share/chromium/extensions/ublock-origin/assets"))
    ap.add_argument("--requests", default=os.environ.get("MOAT_MATCHER_REQUESTS"))
    ap.add_argument("--bench-dir", default=os.environ.get("MOAT_MATCHER_BENCH_DIR"))
    ap.add_argument("--min-agreement", type=float, default=99.5)
    ap.add_argument("--report", help="write a JSON summary here")
    ap.add_argument("--examples", type=int, default=5, help="examples shown per class")
    args = ap.parse_args()

    node = shutil.which("node")
    if node is None:
        skip("node is not installed")
    if not os.path.isfile(os.path.join(args.node_dir, "node_modules", "@ghostery", "adblocker", "package.json")):
        skip(f"@ghostery/adblocker is not installed in {args.node_dir} "
             f"(npm install --prefix {args.node_dir} @ghostery/adblocker@2.18.2)")
    if not os.path.isfile(os.path.join(args.assets, "thirdparties", "easylist", "easylist.txt")):
        skip(f"no uBlock Origin lists in {args.assets} (package webext-ublock-origin-chromium)")

    tmp = tempfile.mkdtemp(prefix="moat-differential-")
    try:
        requests = args.requests
        if requests is None:
            gen = os.path.join(args.bench_dir or "", "make-requests.py")
            if not args.bench_dir or not os.path.isfile(gen):
                skip("no request set: set MOAT_MATCHER_REQUESTS, or MOAT_MATCHER_BENCH_DIR to the "
                     "folder with make-requests.py")
            requests = os.path.join(tmp, "requests.tsv")
            subprocess.run([sys.executable, gen, "--assets", args.assets, "--seed", "1", "--out", requests],
                           check=True, stdout=subprocess.DEVNULL)
        if not os.path.isfile(requests):
            skip(f"no request set at {requests}")

        moat_out = os.path.join(tmp, "moat.tsv")
        ghostery_out = os.path.join(tmp, "ghostery.tsv")
        with open(moat_out, "w") as f:
            subprocess.run([args.match_requests, "--assets", args.assets, "--requests", requests],
                           check=True, stdout=f)
        with open(ghostery_out, "w") as f:
            subprocess.run([node, os.path.join(HERE, "differential.mjs"), args.node_dir, args.assets, requests],
                           check=True, stdout=f)
        reqs = read_requests(requests)
        moat = read_verdicts(moat_out)
        ghostery = read_verdicts(ghostery_out)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    if not (len(reqs) == len(moat) == len(ghostery)) or not reqs:
        print(f"FAIL: {len(reqs)} requests, {len(moat)} Moat verdicts, {len(ghostery)} ghostery verdicts")
        return 1

    agree = 0
    classes = collections.Counter()
    directions = collections.Counter()
    examples = collections.defaultdict(list)
    three_way = 0
    for r, g, m in zip(reqs, ghostery, moat):
        if (g[0] == "block") == (m[0] == "block"):
            agree += 1
            three_way += g[0] == m[0]
            continue
        cls = classify(g, m)
        classes[cls] += 1
        directions[(cls, "ghostery blocks" if g[0] == "block" else "Moat blocks")] += 1
        if len(examples[cls]) < args.examples:
            examples[cls].append({"url": r[0][:160], "source": r[1][:100], "type": r[2], "category": r[3],
                                  "ghostery": [g[0], g[1][:160]], "moat": [m[0], m[1][:160]]})
    n = len(reqs)
    pct = 100.0 * agree / n
    explained = sum(v for k, v in classes.items() if k != "unexplained")
    summary = {
        "requests": n,
        "agree": agree,
        "agreement_percent": round(pct, 3),
        "agreement_percent_counting_deliberate_differences": round(100.0 * (agree + explained) / n, 3),
        "same_three_way_verdict": three_way,
        "moat_verdicts": collections.Counter(v[0] for v in moat),
        "ghostery_verdicts": collections.Counter(v[0] for v in ghostery),
        "differences": dict(classes),
        "by_direction": {f"{k[0]} / {k[1]}": v for k, v in directions.items()},
        "examples": examples,
    }
    text = json.dumps(summary, indent=2)
    print(text)
    if args.report:
        with open(args.report, "w") as f:
            f.write(text + "\n")
    print(f"agreement {agree}/{n} = {pct:.3f} % (minimum {args.min_agreement} %)")
    return 0 if pct >= args.min_agreement else 1


if __name__ == "__main__":
    sys.exit(main())
