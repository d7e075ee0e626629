#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright 2026 The Moat developers
"""Protection health through moatd and moatctl (TAP output).

A real moatd on the session bus dbus-run-session gives it; each of Moat's
own checks is driven into both outcomes through what a user would do:
the filter not in effect, then fixed by Moat (its probe through the real
proxy is blocked); a list that cannot be read, then removed; the policy's
VPN with no NetworkManager to ask; the event history on a nearly full disk
(a small tmpfs in a private mount namespace, as root); a risky phone's
findings as guided fixes. Problems found, fixed and cleared are health
events.
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import traceback

BUILD = os.environ.get("MOAT_BUILD_ROOT", "")
SOURCE = os.environ.get("MOAT_SOURCE_ROOT", "")
MOATD = os.path.join(BUILD, "src", "daemon", "moatd")
MOATCTL = os.path.join(BUILD, "src", "cli", "moatctl")
sys.path.insert(0, os.path.join(SOURCE, "tests", "phone"))


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


class Moat:
    def __init__(self, tmp, data_dir, env):
        self.tmp = tmp
        self.env = env
        self.data_dir = data_dir
        self.log = open(os.path.join(tmp, "moatd.log"), "a")
        self.proc = subprocess.Popen([MOATD, "--data-dir", data_dir, "--proxy-port", "0",
                                      "--no-network-checks", "--replace"],
                                     stdout=self.log, stderr=self.log, env=env)

        def up():
            r = self.ctl("--json", "status")
            return r.returncode == 0 and json.loads(r.stdout).get("proxy_address")
        wait_for(up, 60, "moatd's proxy")

    def ctl(self, *args):
        return subprocess.run([MOATCTL] + list(args), env=self.env, stdin=subprocess.DEVNULL,
                              capture_output=True, text=True, timeout=60)

    def ok(self, *args):
        r = self.ctl(*args)
        if r.returncode != 0:
            raise AssertionError("moatctl %s: %d %s" % (" ".join(args), r.returncode, r.stderr))
        return r.stdout

    def health(self, check=True):
        return json.loads(self.ok("--json", "health", *(["check"] if check else [])))

    def item(self, health, id, subject=""):
        return next(i for i in health["items"] if i["id"] == id and i["subject"] == subject)

    def events(self):
        return json.loads(self.ok("--json", "events", "--source", "health", "--limit", "0"))

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()


def notifications(log):
    if not os.path.exists(log):
        return []
    with open(log) as f:
        return [json.loads(line) for line in f]


def test_protection(m, notify_log):
    h = m.health()
    it = m.item(h, "moat.protection")
    eq((it["status"], it["severity"], it["auto_fix"]), ("problem", "high", True))
    assert it["steps"] and it["why"] and it["impact"], it
    eq(h["level"], 0)
    if notify_log is not None:
        # The first reminder goes out at once, and only once.
        wait_for(lambda: [n for n in notifications(notify_log) if n["summary"] == it["title"]],
                 10, "the reminder notification")
        m.health()
        time.sleep(1)
        sent = [n for n in notifications(notify_log) if n["summary"] == it["title"]]
        print("# reminder: %s: %s" % (sent[0]["summary"], sent[0]["body"]))
        eq(len(sent), 1)
        assert "Health page" in sent[0]["body"], sent
    print("# before: level %d, %s" % (h["level"], h["summary"]))
    out = m.ok("health", "fix", "moat.protection", "--yes")
    print("# fix: " + out.strip())
    h = m.health(check=False)
    it = m.item(h, "moat.protection")
    eq(it["status"], "ok")
    # The probe went through the real proxy and got its block page.
    assert it["evidence"]["probe"].startswith("HTTP/1.1 403"), it["evidence"]
    assert h["level"] >= 3, h["summary"]
    print("# after: level %d, %s" % (h["level"], h["summary"]))
    wait_for(lambda: [e["action"] for e in m.events()
                      if e["subject"] == "moat.protection"][:3] == ["detected", "fixed", "cleared"],
             10, "the health events")


def test_computer(m):
    """This computer's checks in moatd, on a fake root that is healthy."""
    items = [i for i in m.health()["items"] if i["area"] == "computer"]
    eq(sorted(i["id"] for i in items),
       sorted(["computer.os_updates", "computer.disk_encryption", "computer.screen_lock",
               "computer.firewall", "computer.secure_boot", "computer.hsi",
               "computer.auto_login", "computer.root_ca", "computer.ssh_exposed"]))
    for i in items:
        print("# %-26s %-8s %s" % (i["id"], i["status"], i["summary"]))
    eq([i["id"] for i in items if i["status"] == "problem"], [])
    # No fwupd without a system bus: Moat says it cannot tell.
    eq(next(i for i in items if i["id"] == "computer.hsi")["status"], "unknown")


def test_service(m, tmp):
    """moatd enabled at login, through a stand-in for systemd's user manager."""
    try:
        import gi  # noqa: F401
    except ImportError:
        return "needs python3-gi for the stand-in systemd"
    log = os.path.join(tmp, "systemd.log")
    fake = subprocess.Popen([sys.executable, os.path.join(SOURCE, "tests", "integration",
                                                          "fake-systemd.py"),
                             "--log", log, "--state", "disabled"], stdout=subprocess.PIPE,
                            text=True, env=m.env)
    try:
        eq(fake.stdout.readline().strip(), "READY")
        it = m.item(m.health(), "moat.service")
        print("# service: %s %s: %s" % (it["status"], it["severity"], it["summary"]))
        eq((it["status"], it["severity"], it["auto_fix"]), ("problem", "medium", True))
        print("# fix: " + m.ok("health", "fix", "moat.service", "--yes").strip())
        it = m.item(m.health(check=False), "moat.service")
        eq((it["status"], it["evidence"]["state"]), ("ok", "enabled"))
        with open(log) as f:
            calls = [json.loads(line) for line in f]
        enable = [c for c in calls if c["method"] == "EnableUnitFiles"]
        eq(enable, [{"method": "EnableUnitFiles", "args": [["moatd.service"], False, True]}])
    finally:
        fake.terminate()
        fake.wait()
    return None


def test_lists(m, tmp):
    missing = os.path.join(tmp, "gone.txt")
    with open(missing, "w") as f:
        f.write("bad.example.test\n")
    m.ok("lists", "add", missing, "--category", "malware")
    os.unlink(missing)
    lid = wait_for(lambda: next((l["id"] for l in json.loads(m.ok("--json", "lists"))
                                 if l["source"] == missing), None), 30, "the list")

    def broken():
        it = m.item(m.health(), "moat.lists")
        return it["status"] == "problem" and it
    it = wait_for(broken, 30, "the missing list to be a problem")
    print("# lists: " + it["summary"])
    eq(it["severity"], "medium")
    m.ok("lists", "remove", lid)
    wait_for(lambda: m.item(m.health(), "moat.lists")["status"] == "ok", 30, "the lists to heal")


def test_vpn(m, tmp):
    it = m.item(m.health(), "moat.vpn")
    eq(it["status"], "ok")      # the default policy names no VPN
    policy = os.path.join(tmp, "vpn.policy")
    with open(policy, "w") as f:
        f.write("vpn = Company VPN\nnetwork.* >= medium: vpn_on_demand || "
                "block_protected_resources; notify\n")
    m.ok("policy", "load", policy)
    it = m.item(m.health(), "moat.vpn")
    print("# vpn: %s: %s" % (it["status"], it["summary"]))
    # No NetworkManager on this private bus: Moat cannot tell, and says so.
    eq(it["status"], "unknown")
    eq(it["evidence"]["vpn"], "Company VPN")


def test_store_disk(tmp):
    """A nearly full disk: a 16 MiB tmpfs in a private mount namespace."""
    if os.geteuid() != 0 or shutil.which("unshare") is None:
        return "not root: a tmpfs needs a private mount namespace"
    script = os.path.join(tmp, "small-disk.py")
    with open(script, "w") as f:
        f.write(SMALL_DISK)
    r = subprocess.run(["unshare", "--mount", "--propagation", "private", sys.executable, script,
                        tmp], capture_output=True, text=True, timeout=180,
                       env=dict(os.environ, MOAT_BUILD_ROOT=BUILD, MOAT_SOURCE_ROOT=SOURCE))
    for line in (r.stdout + r.stderr).splitlines():
        print("# " + line)
    if r.returncode != 0:
        raise AssertionError("the small-disk run failed")
    return None


def make_certificates(tmp):
    files = {}
    for name in ("ca.key", "ca.pem", "ca.tmpl", "server.key", "server.pem", "server.tmpl"):
        files[name] = os.path.join(tmp, name)
    with open(files["ca.tmpl"], "w") as f:
        f.write('cn = "Moat test CA"\nca\ncert_signing_key\nexpiration_days = 2\n')
    with open(files["server.tmpl"], "w") as f:
        f.write('cn = "localhost"\nip_address = "127.0.0.1"\ndns_name = "localhost"\n'
                'tls_www_server\nsigning_key\nexpiration_days = 2\n')
    for step in (["--generate-privkey", "--key-type=ecdsa", "--outfile", files["ca.key"]],
                 ["--generate-self-signed", "--load-privkey", files["ca.key"], "--template",
                  files["ca.tmpl"], "--outfile", files["ca.pem"]],
                 ["--generate-privkey", "--key-type=ecdsa", "--outfile", files["server.key"]],
                 ["--generate-certificate", "--load-privkey", files["server.key"],
                  "--load-ca-certificate", files["ca.pem"], "--load-ca-privkey", files["ca.key"],
                  "--template", files["server.tmpl"], "--outfile", files["server.pem"]]):
        subprocess.run(["certtool"] + step, check=True, capture_output=True)
    return files


def test_email(tmp):
    """The policy's email alert reaches a local SMTP server over STARTTLS."""
    try:
        import aiosmtpd  # noqa: F401
    except ImportError:
        return "needs python3-aiosmtpd"
    if shutil.which("certtool") is None:
        return "needs certtool (gnutls-bin)"
    d = os.path.join(tmp, "email")
    os.makedirs(os.path.join(d, "config", "glib-2.0", "settings"))
    certs = make_certificates(d)
    expect = os.path.join(d, "expect.json")
    result = os.path.join(d, "result.json")
    with open(expect, "w") as f:
        json.dump({"from": "moat@test.example", "to": "helpdesk@test.example",
                   "subject_prefix": "Moat on ",
                   "body_contains": ["Moat’s filter", "moat.protection" if False else
                                     "Turn on “Protect This Computer”"]}, f)
    server = subprocess.Popen([sys.executable, os.path.join(SOURCE, "tests", "health",
                                                            "smtp-server.py"),
                               "--mode", "starttls-noauth", "--cert", certs["server.pem"],
                               "--key", certs["server.key"], "--expect", expect,
                               "--result", result, "--lifetime", "60"],
                              stdout=subprocess.PIPE, text=True)
    port = int(server.stdout.readline().split()[1])
    with open(os.path.join(d, "config", "glib-2.0", "settings", "keyfile"), "w") as f:
        f.write("[io/github/moatproject/Moat]\n"
                "email-server='127.0.0.1'\n"
                f"email-port=uint16 {port}\n"
                "email-security='starttls'\n"
                "email-from='moat@test.example'\n"
                f"email-ca-file='{certs['ca.pem']}'\n"
                "notifications-enabled=false\n"
                "[org/gnome/desktop/notifications]\n"
                "show-banners=false\n")
    policy = os.path.join(d, "alerts.policy")
    with open(policy, "w") as f:
        f.write("email = helpdesk@test.example\nemail_checks = moat.*\nemail_severity = high\n"
                "network.*: notify\n")
    env = dict(os.environ, GSETTINGS_BACKEND="keyfile", HOME=d,
               XDG_CONFIG_HOME=os.path.join(d, "config"),
               MOAT_TEST_HEALTH_ROOT=os.path.join(SOURCE, "tests", "fixtures", "health",
                                                  "healthy"))
    env.pop("MOAT_DBUS_ADDRESS", None)
    m = Moat(d, os.path.join(d, "data"), env)
    try:
        m.ok("policy", "load", policy)
        t0 = time.monotonic()
        it = m.item(m.health(), "moat.protection")
        eq((it["status"], it["severity"]), ("problem", "high"))
        wait_for(lambda: os.path.exists(result), 30, "the alert email")
        with open(result) as f:
            got = json.load(f)
        print("# email received %.1f s after the check: %s" % (time.monotonic() - t0,
                                                              got["raw"].splitlines()[0:1]))
        if not got["ok"]:
            raise AssertionError("the email: " + got["reason"])
        # The state survives a restart: no second email for the same problem now.
        state = os.path.join(d, "data", "health-reminders.json")
        wait_for(lambda: os.path.exists(state), 10, "the reminders' state")
        with open(state) as f:
            saved = json.load(f)
        assert saved["emails"] is not None, saved
        # Notification banners are off in this desktop's settings: Moat turns them on.
        it = m.item(m.health(), "moat.notifications")
        print("# notifications: %s %s: %s" % (it["status"], it["severity"], it["summary"]))
        eq((it["status"], it["auto_fix"]), ("problem", True))
        m.ok("health", "fix", "moat.notifications", "--yes")
        eq(m.item(m.health(check=False), "moat.notifications")["status"], "ok")
        with open(os.path.join(d, "config", "glib-2.0", "settings", "keyfile")) as f:
            assert "show-banners=true" in f.read()
    finally:
        m.stop()
        server.terminate()
        server.wait()
    return None


SMALL_DISK = r'''
import json, os, subprocess, sys
sys.path.insert(0, os.path.join(os.environ["MOAT_SOURCE_ROOT"], "tests", "integration"))
import importlib.util
spec = importlib.util.spec_from_file_location("h", os.path.join(
    os.environ["MOAT_SOURCE_ROOT"], "tests", "integration", "moat-health-test.py"))
h = importlib.util.module_from_spec(spec); spec.loader.exec_module(h)
tmp = sys.argv[1]
disk = os.path.join(tmp, "small")
os.makedirs(disk, exist_ok=True)
subprocess.run(["mount", "-t", "tmpfs", "-o", "size=16m", "tmpfs", disk], check=True)
env = dict(os.environ, GSETTINGS_BACKEND="memory", HOME=tmp)
m = h.Moat(tmp, os.path.join(disk, "data"), env)
try:
    it = m.item(m.health(), "moat.store")
    print("store on 16 MiB: %s, %s: %s" % (it["status"], it["severity"], it["summary"]))
    h.eq((it["status"], it["severity"]), ("problem", "high"))
    assert it["steps"], it
finally:
    m.stop()
    subprocess.run(["umount", disk])
'''


def test_phone(m, f):
    serial = f.start_sim("risky", "risky.json")
    m.ok("connect", serial)

    def checked():
        items = [i for i in m.health(check=False)["items"] if i["subject"] == serial]
        return len(items) > 10 and items
    items = wait_for(checked, 60, "the phone's health")
    problems = [i for i in items if i["status"] == "problem"]
    lock = next(i for i in problems if i["id"] == "phone.screen_lock")
    eq(lock["screen"], "lock")
    assert len(lock["steps"]) >= 2 and lock["area"] == "phone", lock
    print("# phone: %d problems; screen lock: %s" % (len(problems), " / ".join(lock["steps"])))
    h = m.health(check=False)
    eq(h["level"], 1)     # a high problem on a phone


def main():
    if not os.path.exists(MOATD) or not os.path.exists(MOATCTL):
        print("1..0 # SKIP moatd or moatctl missing (run through meson test)")
        return 0
    tmp = tempfile.mkdtemp(prefix="moat-health-")
    env = dict(os.environ, GSETTINGS_BACKEND="memory", HOME=tmp,
               MOAT_TEST_HEALTH_ROOT=os.path.join(SOURCE, "tests", "fixtures", "health",
                                                  "healthy"))
    env.pop("MOAT_DBUS_ADDRESS", None)
    import importlib.util
    spec = importlib.util.spec_from_file_location(
        "phones", os.path.join(SOURCE, "tests", "phone", "test-moatd-phones.py"))
    phones = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(phones)
    f = phones.Fixture()
    env["ANDROID_ADB_SERVER_PORT"] = f.env["ANDROID_ADB_SERVER_PORT"]
    env["HOME"] = f.env["HOME"]
    tests = ["protection", "computer", "service", "lists", "vpn", "phone", "email", "store"]
    print("1..%d" % len(tests))
    failed = 0
    m = None
    notifier = None
    notify_log = None
    try:
        try:
            import gi  # noqa: F401
            notify_log = os.path.join(tmp, "notifications.log")
            notifier = subprocess.Popen([sys.executable, os.path.join(
                SOURCE, "tests", "integration", "fake-notifications.py"), "--log", notify_log],
                stdout=subprocess.PIPE, text=True, env=env)
            eq(notifier.stdout.readline().strip(), "READY")
        except ImportError:
            print("# no python3-gi: the reminder notification is not checked")
        m = Moat(tmp, os.path.join(tmp, "data"), env)
        for i, name in enumerate(tests, 1):
            t0 = time.monotonic()
            try:
                skip = None
                if name == "protection":
                    test_protection(m, notify_log)
                elif name == "computer":
                    test_computer(m)
                elif name == "service":
                    skip = test_service(m, tmp)
                elif name == "lists":
                    test_lists(m, tmp)
                elif name == "vpn":
                    test_vpn(m, tmp)
                elif name == "phone":
                    test_phone(m, f)
                elif name == "email":
                    # Its own moatd with a keyfile: this one goes first.
                    m.stop()
                    skip = test_email(tmp)
                else:
                    # Its own moatd, on the small disk: this one goes first.
                    m.stop()
                    skip = test_store_disk(tmp)
                if skip:
                    print("ok %d %s # SKIP %s" % (i, name, skip))
                else:
                    print("ok %d %s # %.1f s" % (i, name, time.monotonic() - t0))
            except Exception:
                failed += 1
                for line in traceback.format_exc().splitlines():
                    print("# " + line)
                print("not ok %d %s" % (i, name))
            sys.stdout.flush()
    finally:
        if m is not None:
            m.stop()
        if notifier is not None:
            notifier.terminate()
            notifier.wait()
        f.cleanup()
        if failed:
            with open(os.path.join(tmp, "moatd.log")) as log:
                for line in log.read().splitlines()[-30:]:
                    print("# moatd: " + line)
        shutil.rmtree(tmp, ignore_errors=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
