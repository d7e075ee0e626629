#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright 2026 The Moat developers
"""Runs tests/proxy/proxy-conformance.py against moatd from this build tree.

moatd runs on the session bus meson gives it (dbus-run-session) with a
one-line block list and localhost allowed to reach this machine; the suite
talks to its proxy over raw sockets. Exit status: that of the suite.
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

BUILD = os.environ.get("MOAT_BUILD_ROOT", "")
SOURCE = os.environ.get("MOAT_SOURCE_ROOT", "")
MOATD = os.path.join(BUILD, "src", "daemon", "moatd")
MOATCTL = os.path.join(BUILD, "src", "cli", "moatctl")
SUITE = os.path.join(SOURCE, "tests", "proxy", "proxy-conformance.py")
BLOCKED = "blocked.example.test"


def main():
    if not os.path.exists(MOATD) or not os.path.exists(SUITE):
        print("moatd or the suite is missing (run through meson test); skipping")
        return 77
    tmp = tempfile.mkdtemp(prefix="moat-conformance-")
    os.environ["GSETTINGS_BACKEND"] = "memory"
    os.environ.pop("MOAT_DBUS_ADDRESS", None)
    listfile = os.path.join(tmp, "list.txt")
    with open(listfile, "w") as f:
        f.write("%s\n" % BLOCKED)
    log = open(os.path.join(tmp, "moatd.log"), "w")
    moatd = subprocess.Popen([MOATD, "--data-dir", os.path.join(tmp, "data"), "--proxy-port", "0",
                              "--no-network-checks",
                              "--list", listfile, "--allow-local-host", "localhost"],
                             stdout=log, stderr=log)
    try:
        proxy = ""
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not proxy:
            out = subprocess.run([MOATCTL, "--json", "status"], capture_output=True, text=True)
            if out.returncode == 0:
                proxy = json.loads(out.stdout).get("proxy_address") or ""
            if not proxy:
                time.sleep(0.2)
        if not proxy:
            print("moatd's proxy did not start")
            return 1
        code = subprocess.run([sys.executable, SUITE, "--proxy", proxy, "--allowed-host", "localhost",
                               "--blocked-host", BLOCKED, "--pid", str(moatd.pid)]).returncode
        if moatd.poll() is not None:
            print("moatd exited during the suite (status %d)" % moatd.returncode)
            return 1
        return code
    finally:
        moatd.terminate()
        try:
            moatd.wait(timeout=30)
        except subprocess.TimeoutExpired:
            moatd.kill()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
