#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright 2026 The Moat developers
"""moatctl report against a real moatd from this build tree (TAP output).

moatd runs on the session bus meson's dbus-run-session gives it, with its data
in a temporary folder, no network checks and GSETTINGS_BACKEND=memory. A
simulated risky Android phone (tests/phone/adbd-sim.py) is reached through the
real adb server on a private port when adb is installed. The Testing interface
raises a threat whose subject and evidence are hostile markup and records an
action. Then `moatctl report` writes each format, and tests/report/check-report.py
checks it as in the unit tests: JSON against the schema, HTML parsed, PDF
rendered with pdftoppm. Set MOAT_REPORT_PNG_DIR to keep the PDF's pages as PNG.
"""

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import traceback

BUILD = os.environ.get("MOAT_BUILD_ROOT", "")
SOURCE = os.environ.get("MOAT_SOURCE_ROOT", "")
MOATD = os.path.join(BUILD, "src", "daemon", "moatd")
MOATCTL = os.path.join(BUILD, "src", "cli", "moatctl")
CHECK = os.path.join(SOURCE, "tests", "report", "check-report.py")
SIM = os.path.join(SOURCE, "tests", "phone", "adbd-sim.py")
PROFILE = os.path.join(SOURCE, "tests", "phone", "profiles", "risky.json")
HOSTILE = '<script>alert("pwned")</script> on “Café Wi-Fi” \u202eevil'
ALL = "computer,phones,threats,actions,health"
DBUS = ["gdbus", "call", "--session", "--dest", "io.github.moatproject.Moat",
        "--object-path", "/io/github/moatproject/Moat"]


def gv(text):
    """A GVariant text literal of a string, for gdbus call."""
    return "'%s'" % text.replace("\\", "\\\\").replace("'", "\\'")


def free_port(odd=False):
    while True:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        if not odd or port % 2 == 1:
            return port


def wait_for(pred, timeout, what):
    deadline = time.monotonic() + timeout
    while True:
        v = pred()
        if v:
            return v
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting for " + what)
        time.sleep(0.2)


def eq(a, b):
    if a != b:
        raise AssertionError("%r != %r" % (a, b))


class Fixture:
    def __init__(self):
        self.tmp = tempfile.mkdtemp(prefix="moat-report-")
        self.env = dict(os.environ)
        self.env["HOME"] = self.tmp
        self.env["GSETTINGS_BACKEND"] = "memory"
        self.env["ANDROID_ADB_SERVER_PORT"] = str(free_port())
        # Under -Db_sanitize=address: fontconfig's own lasting allocations.
        self.env["LSAN_OPTIONS"] = "suppressions=" + os.path.join(SOURCE, "tests", "report",
                                                                  "lsan.supp")
        for k in ("MOAT_DBUS_ADDRESS", "ADB_VENDOR_KEYS", "ANDROID_SERIAL"):
            self.env.pop(k, None)
        self.procs = []
        self.moatd = None
        self.serial = None

    def ctl(self, *args, timeout=120):
        return subprocess.run([MOATCTL] + list(args), env=self.env, stdin=subprocess.DEVNULL,
                              capture_output=True, text=True, timeout=timeout)

    def ok(self, *args):
        r = self.ctl(*args)
        if r.returncode != 0:
            raise AssertionError("moatctl %s failed (%d): %s" % (" ".join(args), r.returncode,
                                                                 r.stderr.strip()))
        return r.stdout

    def testing(self, method, *args):
        r = subprocess.run(DBUS + ["--method", "io.github.moatproject.Moat1.Testing." + method]
                           + list(args), env=self.env, capture_output=True, text=True, timeout=30)
        if r.returncode != 0:
            raise AssertionError("%s: %s" % (method, r.stderr.strip()))

    def start(self):
        log = open(os.path.join(self.tmp, "moatd.log"), "w")
        self.moatd = subprocess.Popen([MOATD, "--data-dir", os.path.join(self.tmp, "data"),
                                       "--proxy-port", "0", "--no-network-checks"],
                                      stdout=log, stderr=log, env=self.env)
        wait_for(lambda: self.ctl("status").returncode == 0, 60, "moatd")
        if shutil.which("adb") is not None:
            port = free_port(odd=True)
            ready = os.path.join(self.tmp, "sim.ready")
            simlog = open(os.path.join(self.tmp, "sim.log"), "w")
            p = subprocess.Popen([sys.executable, SIM, "--port", str(port), "--profile", PROFILE,
                                  "--control", os.path.join(self.tmp, "sim.ctl"),
                                  "--state-file", os.path.join(self.tmp, "sim.state.json"),
                                  "--ready-file", ready], stdout=simlog, stderr=simlog,
                                 env=self.env)
            self.procs.append(p)
            wait_for(lambda: os.path.exists(ready) or p.poll() is not None, 15, "the simulator")
            self.serial = "127.0.0.1:%d" % port
            self.ok("connect", self.serial)

            def checked():
                devices = json.loads(self.ok("--json", "devices"))
                d = [x for x in devices if x["serial"] == self.serial]
                return d and d[0]["state"] in ("ready", "error") and d[0]
            d = wait_for(checked, 90, "the phone's check")
            eq(d["state"], "ready")
        # What the report must show: a threat with hostile strings, an action.
        self.testing("RaiseThreat", gv("network.tls_interception"), gv("high"), gv(HOSTILE),
                     gv(json.dumps({"issuer": HOSTILE, "pin": "sha256/" + "Q" * 90})))
        self.testing("AddEvents", "[(0, 'engine', 'network.tls_interception', 'high', 'wifi', "
                     "'action-taken', '{\"action\": \"vpn_on_demand\"}')]")
        self.testing("Flush")
        # Health checked once (a moatd without health checks still makes a report).
        self.ctl("health", "check")

    def report(self, fmt, *extra):
        path = os.path.join(self.tmp, "report-%s-%d.%s" % (fmt, len(os.listdir(self.tmp)), fmt))
        r = self.ctl("report", "--format", fmt, "-o", path, *extra)
        if r.returncode != 0:
            raise AssertionError("moatctl report failed (%d): %s" % (r.returncode, r.stderr))
        assert "Wrote the report to" in r.stderr, r.stderr
        return path

    def check(self, path, fmt, *args):
        r = subprocess.run([sys.executable, CHECK, "--format", fmt, path] + list(args),
                           capture_output=True, text=True, env=self.env)
        for line in r.stdout.splitlines():
            print("# " + line)
        if r.returncode == 77:
            return False
        if r.returncode != 0:
            raise AssertionError("check-report.py %s: %s" % (fmt, r.stdout + r.stderr))
        return True

    def cleanup(self):
        if self.moatd is not None and self.moatd.poll() is None:
            self.moatd.terminate()
            try:
                self.moatd.wait(30)
            except subprocess.TimeoutExpired:
                self.moatd.kill()
        if shutil.which("adb") is not None:
            subprocess.run(["adb", "-P", self.env["ANDROID_ADB_SERVER_PORT"], "kill-server"],
                           env=self.env, capture_output=True, timeout=10)
        for p in self.procs:
            if p.poll() is None:
                p.terminate()
                try:
                    p.wait(5)
                except subprocess.TimeoutExpired:
                    p.kill()
        if os.environ.get("MOAT_KEEP_TMP"):
            print("# kept %s" % self.tmp)
        else:
            shutil.rmtree(self.tmp, ignore_errors=True)


def test_json(f):
    path = f.report("json")
    f.check(path, "json", "--sections", ALL)
    with open(path, encoding="utf-8") as fp:
        m = json.load(fp)
    eq(m["moat_version"], json.loads(f.ok("--json", "status"))["version"])
    eq(m["policy"], "default")
    active = [t for t in m["threats"]["active"] if t["subject"] == HOSTILE]
    eq(len(active), 1)
    eq(active[0]["evidence"]["issuer"], HOSTILE)
    eq([e["action"] for e in m["threats"]["events"] if e["subject"] == HOSTILE], ["detected"])
    taken = [e for e in m["actions"]["events"] if e["action"] == "action-taken"]
    eq(taken[0]["detail"], {"action": "vpn_on_demand"})
    if m["health"]["available"]:
        assert m["summary"]["health_level"] is not None, m["summary"]
        assert m["health"]["items"], "no health items"
        for item in m["health"]["items"] + m["computer"]["items"]:
            assert item["fix_status"] in ("ok", "open", "automatic", "unknown"), item
    else:
        print("# health not available: %s" % m["health"]["message"])
    if f.serial is not None:
        phones = [p for p in m["phones"]["devices"] if p["serial"] == f.serial]
        eq(len(phones), 1)
        eq(phones[0]["model"], "samsung SM-A515F")
        eq(phones[0]["risk"], "high")
        posture = json.loads(f.ok("--json", "device", f.serial, "posture"))
        # Every finding the user sees in "device posture" is in the report, no more.
        eq(sorted(x["check"] for x in phones[0]["findings"]), sorted(x["check"] for x in posture))
        acc = [x for x in phones[0]["findings"] if x["check"] == "accessibility"][0]
        eq(acc["fix_status"], "open")
        assert acc["fix"] and acc["evidence"], acc


def test_html(f):
    path = f.report("html")
    f.check(path, "html", "--sections", ALL)
    with open(path, encoding="utf-8") as fp:
        source = fp.read()
    assert "&lt;script&gt;alert(&quot;pwned&quot;)&lt;/script&gt;" in source
    if f.serial is not None:
        assert "samsung SM-A515F" in source


def test_pdf(f):
    path = f.report("pdf")
    png_dir = os.environ.get("MOAT_REPORT_PNG_DIR")
    args = ["--png-dir", png_dir] if png_dir else []
    if not f.check(path, "pdf", *args):
        return
    text = subprocess.run(["pdftotext", path, "-"], capture_output=True, text=True).stdout
    flat = text.replace("\n", " ")
    assert '<script>alert("pwned")</script>' in flat, flat[:2000]
    if f.serial is not None:
        assert "samsung SM-A515F" in flat


def test_include(f):
    path = f.report("json", "--include", "threats,computer", "--since", "1h")
    f.check(path, "json", "--sections", "computer,threats")
    with open(path, encoding="utf-8") as fp:
        m = json.load(fp)
    eq(m["included"], ["computer", "threats"])
    for absent in ("phones", "actions", "health"):
        assert absent not in m, absent
    assert m["window"]["since"] is not None
    path = f.report("html", "--include", "phones")
    f.check(path, "html", "--sections", "phones")


def test_stdout(f):
    r = f.ctl("report", "--format", "json", "-o", "-", "--include", "actions")
    eq(r.returncode, 0)
    eq(json.loads(r.stdout)["included"], ["actions"])


def test_usage(f):
    for args in (["report"], ["report", "--format", "doc", "-o", "x"],
                 ["report", "--format", "pdf"], ["report", "--format", "pdf", "-o", "x",
                                                 "--include", "wifi"],
                 ["report", "--format", "pdf", "-o", "x", "--since", "soon"],
                 ["status", "--format", "pdf"], ["report", "--format", "pdf", "-o", "x", "more"]):
        r = f.ctl(*args)
        eq((args, r.returncode), (args, 2))
    # A file that cannot be written is a failure, and nothing is left behind.
    r = f.ctl("report", "--format", "html", "-o", os.path.join(f.tmp, "no", "such", "dir.html"))
    eq(r.returncode, 1)
    assert "Cannot write" in r.stderr, r.stderr


def main():
    if not os.path.exists(MOATD) or not os.path.exists(MOATCTL):
        print("1..0 # SKIP moatd or moatctl missing (run through meson test)")
        return 0
    if shutil.which("gdbus") is None:
        print("1..0 # SKIP gdbus is missing")
        return 0
    tests = [test_json, test_html, test_pdf, test_include, test_stdout, test_usage]
    print("1..%d" % len(tests))
    f = Fixture()
    failed = 0
    try:
        f.start()
        if f.serial is None:
            print("# adb is not installed: the report has no phone")
        for i, test in enumerate(tests, 1):
            try:
                test(f)
                print("ok %d %s" % (i, test.__name__))
            except Exception:
                failed += 1
                for line in traceback.format_exc().splitlines():
                    print("# " + line)
                print("not ok %d %s" % (i, test.__name__))
            sys.stdout.flush()
    except Exception:
        failed += 1
        for line in traceback.format_exc().splitlines():
            print("# " + line)
        print("not ok 1 setup")
    finally:
        if failed:
            try:
                with open(os.path.join(f.tmp, "moatd.log")) as log:
                    for line in log.read().splitlines()[-30:]:
                        print("# moatd: " + line)
            except OSError:
                pass
        f.cleanup()
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
