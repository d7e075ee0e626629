#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright 2026 The Moat developers
"""moatd and moatctl with phones (TAP output).

Three simulated phones (tests/phone/adbd-sim.py: risky, clean, hostile) are
reached by the REAL adb server, on a private port that moatd starts itself
(ANDROID_ADB_SERVER_PORT), through `moatctl connect`. Everything is checked
through moatctl as a user would, and on the simulators' own state: posture
findings exactly as each profile implies, device events, routing a phone's
web traffic through moatd's proxy (a request from the "phone" through the
reverse forward is filtered) and undoing it exactly when turned off, on
unplug and after moatd is killed, the app actions and the hostile phone
survived. Run under dbus-run-session (meson does).
"""

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
SIM = os.path.join(HERE, "adbd-sim.py")
PROFILES = os.path.join(HERE, "profiles")
BUILD = os.environ.get("MOAT_BUILD_ROOT", "")
MOATD = os.path.join(BUILD, "src", "daemon", "moatd")
MOATCTL = os.path.join(BUILD, "src", "cli", "moatctl")
BLOCKED = "spy-c2.example.test"
SOURCE = os.environ.get("MOAT_SOURCE_ROOT", os.path.dirname(os.path.dirname(HERE)))
BUNDLE = os.path.join(SOURCE, "tests", "fixtures", "ioc", "spymobile.stix2")
BROKEN_BUNDLE = os.path.join(SOURCE, "tests", "fixtures", "ioc", "bad-object.stix2")

RISKY_THREATS = {
    "os.outdated_patch", "os.unsupported_version", "os.verified_boot", "os.unlocked_bootloader",
    "os.dev_options", "os.unknown_sources", "os.verifier_off", "app.accessibility_service",
    "app.device_admin", "os.global_proxy", "app.sideloaded", "os.rooted", "os.no_screen_lock",
    "app.dangerous_permissions",
}


def free_port(odd=False):
    while True:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        if not odd or port % 2 == 1:
            return port


def wait_for(pred, timeout=30, what="condition"):
    deadline = time.monotonic() + timeout
    while True:
        v = pred()
        if v:
            return v
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting for " + what)
        time.sleep(0.1)


def eq(a, b):
    if a != b:
        raise AssertionError("%r != %r" % (a, b))


class Fixture:
    def __init__(self):
        self.tmp = tempfile.mkdtemp(prefix="moat-phones-")
        self.adb_port = free_port()
        self.env = dict(os.environ)
        self.env["HOME"] = self.tmp
        self.env["ANDROID_ADB_SERVER_PORT"] = str(self.adb_port)
        self.env["GSETTINGS_BACKEND"] = "memory"
        # An iPhone from recorded lockdown and installation_proxy answers.
        self.env["MOAT_TEST_IOS_FIXTURE"] = os.path.join(SOURCE, "tests", "fixtures", "ios",
                                                         "risky")
        self.env.pop("MOAT_DBUS_ADDRESS", None)
        for k in ("ADB_VENDOR_KEYS", "ANDROID_SERIAL"):
            self.env.pop(k, None)
        self.sims = {}
        self.procs = []
        self.moatd = None

    def start_sim(self, key, profile, auth=None):
        port = free_port(odd=True)
        if auth is not None:
            with open(os.path.join(PROFILES, profile)) as fp:
                data = json.load(fp)
            data["auth"] = auth
            profile = os.path.join(self.tmp, key + ".json")
            with open(profile, "w") as fp:
                json.dump(data, fp)
        ctl = os.path.join(self.tmp, key + ".ctl")
        state = os.path.join(self.tmp, key + ".state.json")
        ready = os.path.join(self.tmp, key + ".ready")
        log = open(os.path.join(self.tmp, key + ".log"), "w")
        p = subprocess.Popen([sys.executable, SIM, "--port", str(port), "--profile",
                              os.path.join(PROFILES, profile), "--control", ctl, "--state-file",
                              state, "--ready-file", ready], stdout=log, stderr=log, env=self.env)
        wait_for(lambda: os.path.exists(ready) or p.poll() is not None, 10, key + " to start")
        if p.poll() is not None:
            raise RuntimeError("simulator %s did not start" % key)
        self.procs.append(p)
        self.sims[key] = {"ctl": ctl, "serial": "127.0.0.1:%d" % port}
        return self.sims[key]["serial"]

    def control(self, key, line):
        with socket.socket(socket.AF_UNIX) as s:
            s.settimeout(10)
            s.connect(self.sims[key]["ctl"])
            s.sendall(line.encode() + b"\n")
            return s.makefile("rb").read().decode()

    def state(self, key):
        return json.loads(self.control(key, "state"))

    def start_moatd(self):
        log = open(os.path.join(self.tmp, "moatd.log"), "a")
        self.moatd = subprocess.Popen([MOATD, "--data-dir", os.path.join(self.tmp, "data"),
                                       "--proxy-port", "0", "--no-network-checks",
                                       "--replace"],
                                      stdout=log, stderr=log, env=self.env)

        def proxy():
            r = self.ctl("--json", "status")
            return r.returncode == 0 and json.loads(r.stdout).get("proxy_address")
        self.proxy = wait_for(proxy, 60, "moatd's proxy")
        self.proxy_port = int(self.proxy.rsplit(":", 1)[1])
        # The user's block-list, with the lists moatd has built in.
        self.ok("block", BLOCKED)

    def ctl(self, *args, timeout=60):
        return subprocess.run([MOATCTL] + list(args), env=self.env, stdin=subprocess.DEVNULL,
                              capture_output=True, text=True, timeout=timeout)

    def ok(self, *args):
        r = self.ctl(*args)
        if r.returncode != 0:
            raise AssertionError("moatctl %s failed (%d): %s" % (" ".join(args), r.returncode,
                                                                 r.stderr.strip()))
        return r.stdout

    def devices(self):
        return {d["serial"]: d for d in json.loads(self.ok("--json", "devices"))}

    def device(self, key):
        return self.devices().get(self.sims[key]["serial"])

    def posture(self, key):
        return json.loads(self.ok("--json", "device", self.sims[key]["serial"], "posture"))

    def events(self):
        return json.loads(self.ok("--json", "events", "--source", "device", "--limit", "0"))

    def settled(self, key):
        d = self.device(key)
        return d is not None and d["state"] in ("ready", "error") and d

    def cleanup(self):
        if self.moatd is not None and self.moatd.poll() is None:
            self.moatd.terminate()
            try:
                self.moatd.wait(30)
            except subprocess.TimeoutExpired:
                self.moatd.kill()
        try:
            subprocess.run(["adb", "-P", str(self.adb_port), "kill-server"], env=self.env,
                           capture_output=True, timeout=10)
        except Exception:
            pass
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


def through_phone(f, key, port, host):
    """An app on the phone makes an HTTP request to 127.0.0.1:port on the phone."""
    with socket.socket(socket.AF_UNIX) as s:
        s.settimeout(15)
        s.connect(f.sims[key]["ctl"])
        s.sendall(b"connect %d\n" % port)
        rf = s.makefile("rb")
        line = rf.readline()
        if not line.startswith(b"OK"):
            raise AssertionError("reverse: %r" % line)
        s.sendall(b"GET http://%s/ HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n"
                  % (host.encode(), host.encode()))
        status = rf.readline().decode().strip()
        return status


def routing_events(f, serial):
    return [e["action"] for e in f.events()
            if e["subject"] == serial and e["threat"] == "moat.device_routing"]


def test_connect_and_posture(f):
    # The first GetDevices starts the adb server on the private port.
    eq([d for d in f.devices().values() if d["platform"] == "android"], [])
    for key in ("risky", "clean", "hostile"):
        out = f.ok("connect", f.sims[key]["serial"])
        assert "Connected to" in out, out
    for key in ("risky", "clean", "hostile"):
        d = wait_for(lambda: f.settled(key), 60, key + " to be checked")
        print("# %s: %s" % (key, json.dumps(d)))
    risky = f.device("risky")
    eq(risky["state"], "ready")
    eq(risky["connection"], "wifi")
    eq(risky["model"], "samsung SM-A515F")
    eq(risky["os"], "Android 11, patch 2023-01-05")
    eq(risky["risk"], "high")
    clean = f.device("clean")
    eq(clean["state"], "ready")
    eq(clean["risk"], "low")
    findings = f.posture("risky")
    threats = {x["threat"] for x in findings if x["result"] == "threat"}
    eq(threats, RISKY_THREATS)
    acc = next(x for x in findings if x["check"] == "accessibility")
    eq(acc["packages"], ["com.spy.mobile"])
    eq(acc["screen"], "accessibility")
    assert acc["why"] and acc["fix"], acc
    eq(acc["evidence"], {"services": ["com.spy.mobile/com.spy.mobile.services.KeyloggerService"]})
    clean_threats = [x["threat"] for x in f.posture("clean") if x["result"] == "threat"]
    eq(clean_threats, ["os.dev_options"])
    # The text output puts the worst first and says how to fix it.
    text = f.ok("device", f.sims["risky"]["serial"], "posture")
    assert text.startswith("high"), text[:200]
    assert "→" in text, text[:400]


def test_events(f):
    serial = f.sims["risky"]["serial"]
    detected = {e["threat"] for e in f.events()
                if e["subject"] == serial and e["action"] == "detected"}
    eq(detected, RISKY_THREATS)


def test_hostile(f):
    d = f.device("hostile")
    assert d["state"] in ("ready", "error"), d
    findings = f.posture("hostile") if d["state"] == "ready" else []
    unknown = [x for x in findings if x["result"] == "unknown" and "error" in x["evidence"]]
    print("# hostile: %d checks could not run: %s" % (len(unknown),
                                                       ", ".join(x["check"] for x in unknown)))
    assert len(unknown) >= 2, findings
    # A lie about the patch is not believed.
    patch = next(x for x in findings if x["check"] == "security-patch")
    eq(patch["result"], "unknown")
    # moatd is still fine, and so are the other phones.
    assert f.moatd.poll() is None
    eq(f.device("clean")["state"], "ready")
    f.ok("device", f.sims["clean"]["serial"], "check")


def test_routing(f):
    serial = f.sims["risky"]["serial"]
    before = f.state("risky")["settings"]["global"].get("http_proxy")
    eq(before, "10.66.6.6:8888")
    r = f.ctl("device", serial, "protect", "on")
    eq(r.returncode, 2)     # no terminal, no --yes: nothing changes
    eq(f.state("risky")["settings"]["global"].get("http_proxy"), before)
    f.ok("device", serial, "protect", "on", "--yes")
    st = f.state("risky")
    eq(st["settings"]["global"]["http_proxy"], "127.0.0.1:%d" % f.proxy_port)
    eq([(r["local"], r["remote"]) for r in st["reverse"]],
       [("tcp:%d" % f.proxy_port, "tcp:%d" % f.proxy_port)])
    eq(f.device("risky")["routing"], True)
    # The phone's web traffic is filtered by moatd.
    status = through_phone(f, "risky", f.proxy_port, BLOCKED)
    print("# phone -> %s through the reverse: %s" % (BLOCKED, status))
    assert " 403 " in status, status
    # Moat's own proxy is not a finding.
    wait_for(lambda: f.settled("risky"), 30, "the check after routing")
    gp = next(x for x in f.posture("risky") if x["check"] == "global-proxy")
    eq(gp["result"], "ok")
    f.ok("device", serial, "protect", "off")
    st = f.state("risky")
    eq(st["settings"]["global"].get("http_proxy"), before)
    eq(st["reverse"], [])
    eq(f.device("risky")["routing"], False)
    wait_for(lambda: routing_events(f, serial)[-2:] == ["action-taken", "action-reverted"], 10,
             "the routing events")


def test_routing_unset(f):
    """A phone with no proxy before has none after: the setting is deleted."""
    serial = f.sims["clean"]["serial"]
    assert "http_proxy" not in f.state("clean")["settings"]["global"]
    f.ok("device", serial, "protect", "on", "--yes")
    eq(f.state("clean")["settings"]["global"]["http_proxy"], "127.0.0.1:%d" % f.proxy_port)
    f.ok("device", serial, "protect", "off")
    assert "http_proxy" not in f.state("clean")["settings"]["global"]


def test_unplug(f):
    serial = f.sims["risky"]["serial"]
    f.ok("device", serial, "protect", "on", "--yes")
    f.control("risky", "unplug")
    # Over Wi-Fi adb keeps the phone, offline, and tries to reach it again.
    wait_for(lambda: f.device("risky")["state"] in ("disconnected", "offline"), 30, "the unplug")
    eq(f.device("risky")["routing"], False)
    # Still set on the phone: nothing could reach it.
    eq(f.state("risky")["settings"]["global"]["http_proxy"], "127.0.0.1:%d" % f.proxy_port)
    t0 = time.monotonic()
    f.control("risky", "plug")
    wait_for(lambda: f.state("risky")["settings"]["global"].get("http_proxy") == "10.66.6.6:8888",
             60, "the setting to be put back after the phone came back")
    print("# put back %.1f s after the phone was plugged in again" % (time.monotonic() - t0))
    wait_for(lambda: f.settled("risky"), 30, "the check after the phone came back")
    wait_for(lambda: routing_events(f, serial)[-3:] == ["action-taken", "routing-interrupted",
                                                         "action-reverted"], 10,
             "the routing events")


def test_crash(f):
    serial = f.sims["risky"]["serial"]
    f.ok("device", serial, "protect", "on", "--yes")
    eq(f.state("risky")["settings"]["global"]["http_proxy"], "127.0.0.1:%d" % f.proxy_port)
    f.moatd.send_signal(signal.SIGKILL)
    f.moatd.wait()
    t0 = time.monotonic()
    f.start_moatd()
    wait_for(lambda: f.state("risky")["settings"]["global"].get("http_proxy") == "10.66.6.6:8888",
             60, "the next moatd to put the setting back")
    print("# put back %.1f s after moatd was started again" % (time.monotonic() - t0))
    eq(f.state("risky")["reverse"], [])


def test_actions(f):
    serial = f.sims["risky"]["serial"]
    wait_for(lambda: f.settled("risky"), 60, "the risky phone")
    out = f.ok("device", serial, "stop-app", "com.spy.mobile", "--yes")
    assert "com.spy.mobile" in out, out
    assert "com.spy.mobile" in f.state("risky")["force_stopped"]
    f.ok("device", serial, "disable-app", "com.spy.mobile", "--yes")
    assert "com.spy.mobile" in f.state("risky")["disabled_packages"]
    f.ok("device", serial, "enable-app", "com.spy.mobile", "--yes")
    assert "com.spy.mobile" not in f.state("risky")["disabled_packages"]
    f.ok("device", serial, "open-settings", "accessibility")
    eq(f.state("risky")["started"][-1]["action"], "android.settings.ACCESSIBILITY_SETTINGS")
    # Not an app of the phone, a system app, a shell trick, an unknown screen: refused.
    for bad in (["stop-app", "com.not.there"], ["disable-app", "android"],
                ["stop-app", "com.spy.mobile;reboot"], ["open-settings", "bootloader"]):
        r = f.ctl("device", serial, *bad, "--yes")
        eq(r.returncode, 1)
        assert r.stderr.strip(), bad
    eq(f.state("risky")["disabled_packages"], [])
    wait_for(lambda: [e["action"] for e in f.events() if e["subject"] == serial and
                      e["threat"] == "moat.device_action"][-4:] ==
             ["force-stop", "disable-app", "enable-app", "open-settings"], 10, "the action events")


def test_indicators(f):
    """An MVT-style bundle: the risky phone's spy apps match, its domains are c2."""
    serial = f.sims["risky"]["serial"]
    wait_for(lambda: f.settled("risky"), 60, "the risky phone")
    # A bundle that does not parse adds nothing.
    r = f.ctl("ioc", "import", BROKEN_BUNDLE)
    eq(r.returncode, 1)
    print("# broken bundle: " + r.stderr.strip())
    eq(json.loads(f.ok("--json", "ioc")), [])
    counts = json.loads(f.ok("--json", "ioc", "import", BUNDLE, "--name", "SpyMobile campaign"))
    print("# imported: %s" % json.dumps(counts, sort_keys=True))
    assert counts.get("app-id", 0) >= 2 and counts.get("domain", 0) >= 3, counts
    bundles = json.loads(f.ok("--json", "ioc"))
    eq([b["name"] for b in bundles], ["SpyMobile_campaign"])
    assert "SpyMobile" in bundles[0]["malware"], bundles
    # Phones are checked again against the indicators.
    def matched():
        d = f.device("risky")
        if d["state"] != "ready" or d["risk"] != "critical":
            return None
        return next((x for x in f.posture("risky") if x["threat"] == "app.ioc_match"), None)
    m = wait_for(matched, 60, "the spy apps to match")
    eq(m["severity"], "critical")
    eq(sorted(m["packages"]), ["com.example.stalkerware", "com.spy.mobile"])
    clean = [x for x in f.posture("clean") if x["check"] == "ioc"]
    eq([x["result"] for x in clean], ["ok"])
    # The bundle's domains are blocked as c2 by the proxy.
    def blocked():
        c = json.loads(f.ok("--json", "check", "upload.spy-c2.example"))
        return c["verdict"] == "block" and c
    c = wait_for(blocked, 30, "the proxy to block the bundle's domains")
    eq(c["category"], "c2")
    wait_for(lambda: any(e["threat"] == "app.ioc_match" and e["subject"] == serial and
                         e["action"] == "detected" for e in f.events()), 10, "the ioc event")


def test_iphone(f):
    """The iPhone behind the usbmuxd seam: the same threat model, no changes."""
    def iphone():
        return next((d for d in f.devices().values()
                     if d["platform"] == "ios" and d["state"] == "ready"), None)
    d = wait_for(iphone, 30, "the iPhone")
    print("# iphone: %s" % json.dumps(d))
    eq(d["connection"], "usb")
    findings = json.loads(f.ok("--json", "device", d["serial"], "posture"))
    threats = {x["threat"] for x in findings if x["result"] == "threat"}
    print("# iphone threats: %s" % ", ".join(sorted(threats)))
    assert {"os.no_screen_lock", "os.rooted", "app.sideloaded"} <= threats, threats
    lock = next(x for x in findings if x["threat"] == "os.no_screen_lock")
    assert "Passcode" in lock["fix"], lock
    # Moat never changes an iPhone.
    r = f.ctl("device", d["serial"], "protect", "on", "--yes")
    eq(r.returncode, 1)
    assert "iPhone" in r.stderr, r.stderr
    r = f.ctl("device", d["serial"], "open-settings", "security")
    eq(r.returncode, 1)


def test_unauthorized(f):
    """A phone that has not allowed this computer says what to tap, then is checked."""
    serial = f.start_sim("locked", "clean.json", auth="keys")
    f.ok("connect", serial)
    d = wait_for(lambda: (f.device("locked") or {}).get("state") == "unauthorized" and
                 f.device("locked"), 30, "the phone to wait for Allow")
    print("# message: " + d["message"])
    assert "Allow" in d["message"], d
    eq(d["risk"], "unknown")
    eq(f.ctl("device", serial, "check").returncode, 1)
    f.control("locked", "allow")
    d = wait_for(lambda: f.settled("locked"), 30, "the check once allowed")
    eq(d["state"], "ready")
    eq(d["risk"], "low")


def main():
    if not os.path.exists(MOATD) or not os.path.exists(MOATCTL):
        print("1..0 # SKIP moatd or moatctl missing (run through meson test)")
        return 0
    if shutil.which("adb") is None:
        print("1..0 # SKIP adb is not installed (apt install adb)")
        return 0
    f = Fixture()
    tests = [test_connect_and_posture, test_events, test_hostile, test_routing,
             test_routing_unset, test_unplug, test_crash, test_actions, test_indicators, test_iphone, test_unauthorized]
    print("1..%d" % len(tests))
    failed = 0
    try:
        for key, profile in (("risky", "risky.json"), ("clean", "clean.json"),
                             ("hostile", "hostile.json")):
            f.start_sim(key, profile)
        f.start_moatd()
        for i, test in enumerate(tests, 1):
            t0 = time.monotonic()
            try:
                test(f)
                print("ok %d %s # %.1f s" % (i, test.__name__, time.monotonic() - t0))
            except Exception:
                failed += 1
                for line in traceback.format_exc().splitlines():
                    print("# " + line)
                print("not ok %d %s" % (i, test.__name__))
            sys.stdout.flush()
        if f.moatd.poll() is not None:
            print("# moatd exited with %d" % f.moatd.returncode)
            failed += 1
    finally:
        if failed:
            try:
                with open(os.path.join(f.tmp, "moatd.log")) as log:
                    for line in log.read().splitlines()[-40:]:
                        print("# moatd: " + line)
            except OSError:
                pass
        f.cleanup()
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
