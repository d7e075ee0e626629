#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright 2026 The Moat developers
"""Measures moat against moatd holding 100,000 events (a benchmark, not a test):

  launch      time from process launch to the window's first frame (GdkFrameClock
              after-paint) and to the first event row filled in, Activity page open
  stall       the longest gap in the GUI main loop, from a 10 ms G_PRIORITY_HIGH
              timeout in the app (MOAT_DEBUG_TIMING=1); a gap over 10 ms is a stall
  filter      the longest stall while searches are typed into the Activity page
              (xdotool), each emptying the list and filling it again from moatd
  scroll      frame intervals while the Activity list is scrolled from a tick
              callback (MOAT_DEBUG_SCROLL=1): 300 frames at 30 px a frame, then the
              whole list in 600 frames (~170 rows a frame, every frame new pages)

Run: meson test -C BUILD --benchmark ui-measure -v  (or MOAT_BUILD_ROOT=BUILD measure.py)
Writes BUILD/tests/ui/output/measure.json."""

import json
import os
import re
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import moatui  # noqa: E402
from moatui import log, wait_for  # noqa: E402

N_EVENTS = int(os.environ.get("MOAT_MEASURE_EVENTS", "100000"))
LAUNCHES = int(os.environ.get("MOAT_MEASURE_LAUNCHES", "5"))
THREATS = ["content.malware", "content.phishing", "content.unwanted", "content.c2",
           "network.tls_interception", "network.dns_hijack", "app.risky_download"]
SEVERITIES = ["info", "low", "medium", "high", "critical"]


def parse(text):
    values = {}
    for line in text.splitlines():
        if not line.startswith("MOAT_TIMING "):
            continue
        words = line.split()[1:]
        prefix = ""
        if words and "=" not in words[0]:
            prefix = words[0] + ":"
            words = words[1:]
        for word in words:
            key, _, value = word.partition("=")
            try:
                values[prefix + key] = float(value)
            except ValueError:
                values[prefix + key] = value
    return values


def run_app(desktop, extra_env, until, timeout, quit_after=1.0, during=None):
    stderr_path = os.path.join(desktop.tmp, "moat-timing.log")
    with open(stderr_path, "w") as stderr:
        app = desktop.start_app(["--activity"], {"MOAT_DEBUG_TIMING": "1", **extra_env}, stderr=stderr)
        start = desktop.app_start

        def read():
            with open(stderr_path) as f:
                return f.read()
        wait_for(until, lambda: until in read(), timeout=timeout, interval=0.05)
        if during is not None:
            during()
        if quit_after is not None:
            time.sleep(quit_after)
            desktop.app_action("quit")
        app.wait(timeout=timeout)
    text = read()
    values = parse(text)
    if "first-frame-monotonic-us" in values:
        values["launch-to-first-frame-ms"] = values["first-frame-monotonic-us"] / 1000 - start * 1000
    if "first-row-monotonic-us" in values:
        values["launch-to-first-row-ms"] = values["first-row-monotonic-us"] / 1000 - start * 1000
    return values, text


def cpu_seconds(pid):
    """User + system CPU time of a process, from /proc."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main():
    build_root = os.environ.get("MOAT_BUILD_ROOT") or (sys.argv[1] if len(sys.argv) > 1 else None)
    if not build_root:
        moatui.skip("MOAT_BUILD_ROOT is not set")
    out_dir = os.path.join(build_root, "tests", "ui", "output")
    os.makedirs(out_dir, exist_ok=True)

    desktop = moatui.Desktop(build_root)
    if os.environ.get("MOAT_MEASURE_NO_A11Y") == "1":
        desktop.env["NO_AT_BRIDGE"] = "1"
    report = {"events": N_EVENTS, "renderer": os.environ.get("GSK_RENDERER", "default"),
              "a11y": desktop.env.get("NO_AT_BRIDGE") != "1"}
    try:
        desktop.start_moatd()
        now = int(time.time() * 1_000_000)
        events = [(now - (N_EVENTS - i) * 1_000_000, "proxy", THREATS[i % len(THREATS)],
                   SEVERITIES[i % len(SEVERITIES)], f"host-{i}.example.net",
                   "blocked" if i % 3 else "notified", "{}")
                  for i in range(N_EVENTS)]
        t0 = time.monotonic()
        accepted = desktop.add_events(events)
        report["seed-seconds"] = round(time.monotonic() - t0, 2)
        log(f"seeded {accepted} events in {report['seed-seconds']} s")
        assert accepted == N_EVENTS, accepted

        desktop.set_window_size(1200, 800)
        launches = []
        for i in range(LAUNCHES):
            values, text = run_app(desktop, {}, "first-row-monotonic-us", timeout=60)
            launches.append(values)
            for line in text.splitlines():
                if line.startswith("MOAT_TIMING stall "):
                    log(f"launch {i + 1}: {line[12:]}")
            log(f"launch {i + 1}: first frame {values['launch-to-first-frame-ms']:.0f} ms, "
                f"first row {values['launch-to-first-row-ms']:.0f} ms, "
                f"max stall {values.get('max-stall-ms', -1):.1f} ms, "
                f"before the first frame {values.get('startup-max-stall-ms', -1):.1f} ms")

        def median(key):
            return round(statistics.median(v[key] for v in launches), 1)
        report["launch"] = {
            "runs": LAUNCHES,
            "first-frame-ms-median": median("launch-to-first-frame-ms"),
            "first-frame-ms-max": round(max(v["launch-to-first-frame-ms"] for v in launches), 1),
            "first-row-ms-median": median("launch-to-first-row-ms"),
            "exec-to-main-ms-median": median("exec-to-main-ms"),
            # main() to the main loop's first turn (GTK start-up, startup()); the
            # stall figures cover everything after it.
            "loop-start-ms-median": median("loop-start-since-main-ms"),
            "max-stall-ms": round(max(v["max-stall-ms"] for v in launches), 1),
            # from the loop's first turn to the first frame: building the window
            "startup-max-stall-ms": round(max(v["startup-max-stall-ms"] for v in launches), 1),
        }

        # Filtering: each change empties the list and fills it again from moatd.
        searches = ["host-1", "host-12", "", "phish", ""]

        def type_searches():
            wid = wait_for("the window", desktop.window_id, timeout=20)
            time.sleep(0.5)
            for text in searches:
                desktop.xdotool("key", "--window", wid, "ctrl+f")
                desktop.xdotool("key", "--window", wid, "ctrl+a", "BackSpace")
                if text:
                    desktop.xdotool("type", "--window", wid, "--delay", "80", text)
                time.sleep(1.0)
        values, text = run_app(desktop, {}, "first-row-monotonic-us", timeout=60,
                               during=type_searches)
        applied = [line.split("search=", 1)[1] for line in text.splitlines()
                   if line.startswith("MOAT_TIMING filter-applied ")]
        # Each search must have reached the list, or this measured nothing.
        assert [a for a in applied if a in searches][-len(searches):] == searches, applied
        report["filter"] = {
            "searches": searches,
            "max-stall-ms": values.get("max-stall-ms"),
            "stalls-over-50ms": values.get("stalls-over-50ms"),
        }
        log(f"filtering: max stall {values.get('max-stall-ms', -1):.1f} ms")

        if os.environ.get("MOAT_MEASURE_SCROLL") == "0":
            return 0
        moatd_cpu = cpu_seconds(desktop.moatd.pid)
        t0 = time.monotonic()
        values, text = run_app(desktop, {"MOAT_DEBUG_SCROLL": "1"}, "max-stall-ms", timeout=180,
                               quit_after=None)
        scroll_wall = time.monotonic() - t0
        if os.environ.get("MOAT_MEASURE_SCROLL") == "0":
            return 0
        moatd_cpu = cpu_seconds(desktop.moatd.pid) - moatd_cpu
        report["scroll"] = {
            phase: {k.split(":", 1)[1]: v for k, v in values.items() if k.startswith(f"scroll-{phase}:")}
            for phase in ("smooth", "sweep")
        }
        report["scroll"]["sweep-upper-px"] = values.get("scroll-sweep-upper-px")
        report["scroll"]["final-value-px"] = values.get("scroll-done:final-value-px")
        report["scroll"]["max-stall-ms"] = values.get("max-stall-ms")
        report["scroll"]["stalls-over-50ms"] = values.get("stalls-over-50ms")
        # On a 2-core machine moatd answering page requests competes with the app and the X server.
        report["scroll"]["moatd-cpu-share"] = round(moatd_cpu / scroll_wall, 2)
        if not report["scroll"]["smooth"]:
            print(text)
            raise AssertionError("the scroll run printed no figures")
    finally:
        desktop.close()

    with open(os.path.join(out_dir, "measure.json"), "w") as f:
        json.dump(report, f, indent=2)
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
