#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright 2026 The Moat developers
"""The simulated phone against the real Debian adb server (TAP output).

Starts the simulators (clean and hostile on emulator ports, risky reached with
`adb connect`, a clean phone that never authorizes), then a PRIVATE adb server
(`adb -P PORT`, HOME in a temporary directory, ADB_LOCAL_TRANSPORT_MAX_PORT
limiting the emulator scan), and checks everything through the real `adb`
binary and through the raw host protocol that Moat uses.
"""

import json
import os
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
SIM = os.path.join(HERE, "adbd-sim.py")
PROFILES = os.path.join(HERE, "profiles")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def port_free(port):
    with socket.socket() as s:
        # TIME-WAIT from an earlier simulator is fine: it listens with SO_REUSEADDR.
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    with socket.socket() as s:   # nothing listening for the adb scan either
        s.settimeout(0.2)
        return s.connect_ex(("127.0.0.1", port)) != 0


class Fixture:
    def __init__(self):
        self.tmp = tempfile.mkdtemp(prefix="moat-phone-")
        self.procs = []
        self.adb_port = free_port()
        self.env = dict(os.environ)
        self.env["HOME"] = self.tmp      # adb keys and server state stay private
        self.env.pop("ANDROID_ADB_SERVER_PORT", None)
        self.env.pop("ADB_VENDOR_KEYS", None)
        self.env.pop("ANDROID_SERIAL", None)
        self.sims = {}

    def start_sim(self, key, profile, port):
        """Starts a simulator; returns False if it could not listen on port."""
        ctl = os.path.join(self.tmp, key + ".ctl")
        state = os.path.join(self.tmp, key + ".state.json")
        ready = os.path.join(self.tmp, key + ".ready")
        log = open(os.path.join(self.tmp, key + ".log"), "w")
        p = subprocess.Popen([sys.executable, SIM, "--port", str(port), "--profile", profile,
                              "--control", ctl, "--state-file", state, "--ready-file", ready],
                             stdout=log, stderr=log, env=self.env)
        deadline = time.monotonic() + 10
        while not os.path.exists(ready):
            if p.poll() is not None:
                return False
            if time.monotonic() > deadline:
                p.kill()
                p.wait()
                raise RuntimeError("simulator %s did not start" % key)
            time.sleep(0.05)
        self.procs.append(p)
        self.sims[key] = {"proc": p, "ctl": ctl, "state": state, "port": port}
        return True

    def start_emulator_sim(self, key, profile):
        """Another test may race us for a port: take the highest pair that works."""
        for port in range(5585, 5554, -2):
            if any(v["port"] == port for v in self.sims.values()):
                continue
            if port_free(port) and port_free(port - 1) and self.start_sim(key, profile, port):
                return port
        return None

    def control(self, key, line):
        with socket.socket(socket.AF_UNIX) as s:
            s.settimeout(10)
            s.connect(self.sims[key]["ctl"])
            s.sendall(line.encode() + b"\n")
            return s.makefile("rb").read().decode()

    def state(self, key):
        return json.loads(self.control(key, "state"))

    def adb(self, *args, timeout=15, check=False):
        r = subprocess.run(["adb", "-P", str(self.adb_port)] + list(args), env=self.env,
                           stdin=subprocess.DEVNULL, capture_output=True, timeout=timeout)
        if check and r.returncode != 0:
            raise AssertionError("adb %s failed (%d): %r" % (args, r.returncode, r.stderr))
        return r

    def cleanup(self):
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


def wait_for(pred, timeout=10, what="condition"):
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


def contains(hay, needle):
    if needle not in hay:
        raise AssertionError("%r not in %r" % (needle, hay[:2000]))


# -- the raw host protocol, as Moat speaks it ------------------------------

def recvn(s, n):
    buf = b""
    while len(buf) < n:
        d = s.recv(n - len(buf))
        if not d:
            raise EOFError("short read: %d of %d" % (len(buf), n))
        buf += d
    return buf


def host_request(s, service):
    s.sendall(b"%04x" % len(service) + service.encode())
    status = recvn(s, 4)
    if status == b"FAIL":
        raise AssertionError("FAIL " + recvn(s, int(recvn(s, 4), 16)).decode())
    eq(status, b"OKAY")


def host_connect(port):
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    return s


def shell_v2_packets(s, limit=None):
    """Yields (id, payload) shell protocol packets until EOF or exit."""
    while True:
        try:
            hdr = recvn(s, 5)
        except EOFError:
            return
        pid, n = struct.unpack("<BI", hdr)
        data = recvn(s, n)
        yield pid, data
        if pid == 3:
            return


def raw_shell(port, serial, cmd):
    with host_connect(port) as s:
        host_request(s, "host:transport:" + serial)
        host_request(s, "shell,v2,raw:" + cmd)
        out, err, code, packets = b"", b"", None, 0
        for pid, data in shell_v2_packets(s):
            if pid == 1:
                out += data
                packets += 1
            elif pid == 2:
                err += data
            elif pid == 3:
                code = data[0]
        return out, err, code, packets


# -- the cases --------------------------------------------------------------

def main():
    if shutil.which("adb") is None:
        print("1..0 # SKIP adb is not installed (Debian package adb)")
        return 0
    f = Fixture()
    clean_profile = os.path.join(PROFILES, "clean.json")
    with open(clean_profile) as fp:
        never_profile = json.load(fp)
    never_profile["auth"] = "keys"
    never_path = os.path.join(f.tmp, "never.json")
    with open(never_path, "w") as fp:
        json.dump(never_profile, fp)
    ports = [f.start_emulator_sim("clean", clean_profile),
             f.start_emulator_sim("hostile", os.path.join(PROFILES, "hostile.json")),
             f.start_emulator_sim("never", never_path)]
    if None in ports:
        f.cleanup()
        print("1..0 # SKIP no free emulator port pairs in 5554..5585")
        return 0
    clean_port, hostile_port, never_port = ports
    clean = "emulator-%d" % (clean_port - 1)
    hostile = "emulator-%d" % (hostile_port - 1)
    never = "emulator-%d" % (never_port - 1)
    risky_port = None
    risky = None
    results = []

    def case(name):
        def deco(fn):
            results.append((name, fn))
            return fn
        return deco

    @case("devices -l lists the emulator-style phones with the profile model")
    def _():
        out = f.adb("devices", "-l", check=True).stdout.decode()
        lines = {l.split()[0]: l for l in out.splitlines()[1:] if l.strip()}
        contains(lines[clean], " device ")
        contains(lines[clean], "product:husky model:Pixel_8_Pro device:husky")
        contains(lines[hostile], " device ")
        contains(lines[never], " unauthorized ")

    @case("the host's CNXN is version 0x01000001, 1 MiB payload, no AUTH for a non-auth phone")
    def _():
        st = f.state("clean")
        eq(st["host_cnxn"][0]["version"], "0x01000001")
        eq(st["host_cnxn"][0]["max_payload"], 1048576)
        contains(st["host_cnxn"][0]["banner"], "shell_v2")
        eq(st["auth_seen"], [])
        # The phone that checks keys got a signature, then the public key.
        # (Another test's adb server scanning the same ports may add its own.)
        eq((2 in f.state("never")["auth_seen"], 3 in f.state("never")["auth_seen"]), (True, True))

    @case("an unauthorized phone comes online when the user allows, its key then verifies")
    def _():
        eq(f.adb("-s", never, "shell", "true").returncode, 1)
        eq(f.control("never", "allow")[:3], "OK ")
        wait_for(lambda: (never + "\tdevice") in f.adb("devices").stdout.decode(),
                 what="allowed device online")
        eq(f.adb("-s", never, "shell", "getprop ro.product.model").stdout, b"Pixel 8 Pro\n")
        eq(f.state("never")["authorized_keys"] >= 1, True)
        # Replugged: adb's signature now checks out against the kept key, no dialog.
        with open(os.path.join(f.tmp, ".android", "adbkey.pub")) as fp:
            mykey = fp.read().split()[0]
        seen = len(f.state("never")["auth_log"])
        eq(f.control("never", "unplug"), "OK\n")
        wait_for(lambda: never not in f.adb("devices").stdout.decode(), what="unplugged")
        eq(f.control("never", "plug"), "OK\n")
        wait_for(lambda: (never + "\tdevice") in f.adb("devices").stdout.decode(), timeout=15,
                 what="replugged device online without a dialog")
        # Entries of our own key only: another test's adb server may scan this port too.
        later = [e["type"] for e in f.state("never")["auth_log"][seen:] if e["key"] == mykey]
        eq(later, [2])

    @case("adb connect reaches a TCP adbd (the Wi-Fi path)")
    def _():
        r = f.adb("connect", risky, check=True)
        contains(r.stdout.decode(), "connected to " + risky)
        wait_for(lambda: (risky + "\tdevice") in f.adb("devices").stdout.decode(),
                 what="risky device online")

    @case("getprop NAME gives the profile's patch level")
    def _():
        r = f.adb("-s", clean, "shell", "getprop", "ro.build.version.security_patch", check=True)
        eq(r.stdout, b"2026-11-05\n")
        r = f.adb("-s", risky, "shell", "getprop", "ro.build.version.security_patch", check=True)
        eq(r.stdout, b"2023-01-05\n")

    @case("getprop lists every property in the phone's format")
    def _():
        out = f.adb("-s", clean, "shell", "getprop", check=True).stdout.decode()
        contains(out, "[ro.build.version.release]: [15]\n")
        contains(out, "[ro.boot.verifiedbootstate]: [green]\n")

    @case("exit codes travel over shell v2")
    def _():
        eq(f.adb("-s", clean, "shell", "false").returncode, 1)
        eq(f.adb("-s", clean, "shell", "true").returncode, 0)
        eq(f.adb("-s", clean, "shell", "exit 3").returncode, 3)
        r = f.adb("-s", clean, "shell", "no-such-tool", "--x")
        eq(r.returncode, 127)
        eq(r.stderr, b"/system/bin/sh: no-such-tool: inaccessible or not found\n")
        eq(r.stdout, b"")

    @case("settings put/get round trip, recorded in the state file")
    def _():
        eq(f.adb("-s", clean, "shell", "settings get global http_proxy").stdout, b"null\n")
        f.adb("-s", clean, "shell", "settings put global http_proxy 127.0.0.1:3128", check=True)
        eq(f.adb("-s", clean, "shell", "settings get global http_proxy").stdout,
           b"127.0.0.1:3128\n")
        f.adb("-s", clean, "shell", "settings put global http_proxy :0", check=True)
        eq(f.adb("-s", clean, "shell", "settings", "get", "global", "http_proxy").stdout, b":0\n")
        with open(f.sims["clean"]["state"]) as fp:
            st = json.load(fp)
        eq(st["settings"]["global"]["http_proxy"], ":0")
        eq(st["settings_writes"], [
            {"ns": "global", "name": "http_proxy", "value": "127.0.0.1:3128"},
            {"ns": "global", "name": "http_proxy", "value": ":0"}])

    @case("adb reverse, reverse --list, and a phone-side connection reaching the host port")
    def _():
        with socket.socket() as lst:
            lst.bind(("127.0.0.1", 0))
            lst.listen(1)
            lst.settimeout(10)
            host_port = lst.getsockname()[1]
            f.adb("-s", clean, "reverse", "tcp:8080", "tcp:%d" % host_port, check=True)
            out = f.adb("-s", clean, "reverse", "--list", check=True).stdout.decode()
            eq(out.strip().split(" ")[1:], ["tcp:8080", "tcp:%d" % host_port])
            contains(out.split(" ")[0], "host-")
            with socket.socket(socket.AF_UNIX) as c:
                c.settimeout(10)
                c.connect(f.sims["clean"]["ctl"])
                c.sendall(b"connect 8080\n")
                rf = c.makefile("rb")
                eq(rf.readline(), b"OK\n")
                c.sendall(b"GET / HTTP/1.0\r\n\r\n")
                peer, _ = lst.accept()
                with peer:
                    eq(recvn(peer, 18), b"GET / HTTP/1.0\r\n\r\n")
                    peer.sendall(b"HTTP/1.0 204 No Content\r\n\r\n")
                eq(rf.read(), b"HTTP/1.0 204 No Content\r\n\r\n")
        r = f.adb("-s", clean, "reverse", "--remove", "tcp:9")
        eq(r.returncode, 1)
        contains(r.stderr.decode(), "listener 'tcp:9' not found")
        f.adb("-s", clean, "reverse", "--remove", "tcp:8080", check=True)
        eq(f.adb("-s", clean, "reverse", "--list", check=True).stdout.strip(), b"")
        eq(f.state("clean")["reverse"], [])

    @case("risky: sideloaded apps with installer and uid, IOC cert in dumpsys package")
    def _():
        out = f.adb("-s", risky, "shell", "pm list packages -3 -f -i -U", check=True).stdout.decode()
        contains(out, "=com.spy.mobile  installer=null uid:10231\n")
        contains(out, "=com.example.stalkerware  installer=com.google.android.packageinstaller uid:10232\n")
        eq("package:/system" in out, False)
        out = f.adb("-s", risky, "shell", "dumpsys package com.example.stalkerware",
                    check=True).stdout.decode()
        contains(out, "simSigningCertSha256=c0ffee0ddba11c0ffee0ddba11c0ffee0ddba11c0ffee0ddba11c0ffee0ddba1\n")
        contains(out, "android.permission.READ_SMS: granted=true")
        out = f.adb("-s", risky, "shell", "settings get secure enabled_accessibility_services",
                    check=True).stdout
        eq(out, b"com.spy.mobile/com.spy.mobile.services.KeyloggerService\n")
        out = f.adb("-s", risky, "shell", "dumpsys device_policy", check=True).stdout.decode()
        contains(out, "    com.spy.mobile/com.spy.mobile.receivers.AdminReceiver:\n")
        eq(f.adb("-s", risky, "shell", "which su").stdout, b"/system/xbin/su\n")
        eq(f.adb("-s", risky, "shell", "su -c id").stdout,
           b"uid=0(root) gid=0(root) groups=0(root) context=u:r:magisk:s0\n")
        eq(f.adb("-s", clean, "shell", "which su").returncode, 1)
        eq(f.adb("-s", clean, "shell", "su -c id").returncode, 127)

    @case("risky: force-stop, disable-user and am start are recorded")
    def _():
        f.adb("-s", risky, "shell", "am force-stop com.spy.mobile", check=True)
        r = f.adb("-s", risky, "shell", "pm disable-user --user 0 com.spy.mobile", check=True)
        eq(r.stdout, b"Package com.spy.mobile new state: disabled-user\n")
        f.adb("-s", risky, "shell", "am start -a android.settings.SECURITY_SETTINGS", check=True)
        st = f.state("risky")
        eq(st["force_stopped"], ["com.spy.mobile"])
        eq(st["disabled_packages"], ["com.spy.mobile"])
        eq(st["started"][0]["action"], "android.settings.SECURITY_SETTINGS")
        out = f.adb("-s", risky, "shell", "pm list packages -d", check=True).stdout
        eq(out, b"package:com.spy.mobile\n")
        out = f.adb("-s", risky, "shell", "pm list packages -d --user 0 spy", check=True).stdout
        eq(out, b"package:com.spy.mobile\n")

    @case("raw host protocol: host:version, track-devices-l, transport + shell,v2,raw")
    def _():
        with host_connect(f.adb_port) as s:
            host_request(s, "host:version")
            eq(recvn(s, 4), b"0004")
            eq(recvn(s, 4), b"0029")
        with host_connect(f.adb_port) as s:
            host_request(s, "host:track-devices-l")
            n = int(recvn(s, 4), 16)
            listing = recvn(s, n).decode()
            contains(listing, clean)
            contains(listing, "model:Pixel_8_Pro")
        out, err, code, _ = raw_shell(f.adb_port, clean, "getprop ro.product.model")
        eq((out, err, code), (b"Pixel 8 Pro\n", b"", 0))
        out, err, code, _ = raw_shell(f.adb_port, clean, "ls /system/xbin/su")
        eq((out, err, code), (b"", b"ls: /system/xbin/su: No such file or directory\n", 1))
        for service, want in (("shell:no-such-tool", b"/system/bin/sh: no-such-tool: inaccessible or not found\n"),
                              ("exec:getprop ro.build.version.sdk", b"35\n"),
                              ("tcpip:5555", b"restarting in TCP mode port: 5555\n")):
            with host_connect(f.adb_port) as s:
                host_request(s, "host:transport:" + clean)
                host_request(s, service)
                got = b""
                while True:
                    d = s.recv(4096)
                    if not d:
                        break
                    got += d
                eq(got, want)
        eq(f.state("clean")["tcpip"], ["5555"])
        with host_connect(f.adb_port) as s:
            host_request(s, "host:transport:" + clean)
            host_request(s, "reverse:forward:tcp:7001;tcp:7002")
            eq(recvn(s, 4), b"OKAY")
        with host_connect(f.adb_port) as s:
            host_request(s, "host:transport:" + clean)
            host_request(s, "reverse:list-forward")
            n = int(recvn(s, 4), 16)
            eq(recvn(s, n).decode().split(" ")[1:], ["tcp:7001", "tcp:7002\n"])
        with host_connect(f.adb_port) as s:
            host_request(s, "host:transport:" + clean)
            host_request(s, "reverse:killforward-all")
            eq(recvn(s, 4), b"OKAY")

    @case("hostile: lying and conflicting getprop")
    def _():
        eq(f.adb("-s", hostile, "shell", "getprop ro.build.version.security_patch").stdout,
           b"2019-03-05\n")
        contains(f.adb("-s", hostile, "shell", "getprop").stdout.decode(),
                 "[ro.build.version.security_patch]: [2099-01-01]\n")

    @case("hostile: garbage and a 4 MiB line arrive intact")
    def _():
        out, err, code, _ = raw_shell(f.adb_port, hostile, "pm list packages -f -i -U")
        eq(code, 0)
        eq(out[:5], b"\xff\xfe\x00\xc3\x28")
        eq(len(out), 65536 + 5)
        out, err, code, _ = raw_shell(f.adb_port, hostile, "sim-huge")
        eq((len(out), out.count(b"\n"), code), (4 * 1024 * 1024 + 1, 1, 0))

    @case("hostile: slow output comes one byte per packet")
    def _():
        out, err, code, packets = raw_shell(f.adb_port, hostile, "sim-slow")
        eq((out, code, packets), (b"slow\n", 0, 5))

    @case("hostile: endless output until the client gives up, phone still answers")
    def _():
        r = None
        try:
            f.adb("-s", hostile, "shell", "dumpsys device_policy", timeout=1.5)
        except subprocess.TimeoutExpired as e:
            r = e
        eq(isinstance(r, subprocess.TimeoutExpired), True)
        with host_connect(f.adb_port) as s:
            host_request(s, "host:transport:" + hostile)
            host_request(s, "shell,v2,raw:sim-endless")
            got = 0
            for pid, data in shell_v2_packets(s):
                eq(pid, 1)
                got += len(data)
                if got > 1024 * 1024:
                    break
        eq(got > 1024 * 1024, True)
        eq(f.adb("-s", hostile, "shell", "getprop ro.product.model").stdout, b"Pixel 8 Pro\n")

    @case("hostile: the link drops mid-WRTE, no exit packet, adb reconnects the port")
    def _():
        out, err, code, _ = raw_shell(f.adb_port, hostile, "sim-disconnect")
        # The stream just ends: no exit packet (code None), only what came
        # before the cut WRTE.
        eq((out, err, code),
           (b"Packages:\n  Package [com.android.chrome] (1f2e3d4c):\n", b"", None))
        wait_for(lambda: f.state("hostile")["connection_count"] >= 2, what="reconnect")
        wait_for(lambda: (hostile + "\tdevice") in f.adb("devices").stdout.decode(),
                 what="hostile device back")
        eq(f.adb("-s", hostile, "shell", "echo", "back").stdout, b"back\n")
        # adb 29 itself exits 0 when the link drops before the exit packet, so
        # a client must treat a missing exit packet as an error.
        r = f.adb("-s", hostile, "shell", "sim-disconnect")
        print("# adb shell across a dropped link: exit %d" % r.returncode)
        eq(r.stdout, b"Packages:\n  Package [com.android.chrome] (1f2e3d4c):\n")
        wait_for(lambda: f.state("hostile")["connection_count"] >= 3, what="second reconnect")
        wait_for(lambda: (hostile + "\tdevice") in f.adb("devices").stdout.decode(),
                 what="hostile device back again")

    @case("unplug drops reverses but keeps settings; the phone comes back on plug")
    def _():
        f.adb("-s", clean, "reverse", "tcp:8080", "tcp:3128", check=True)
        f.adb("-s", clean, "shell", "settings put global http_proxy 127.0.0.1:8080", check=True)
        track = host_connect(f.adb_port)
        host_request(track, "host:track-devices-l")

        def next_listing():
            return recvn(track, int(recvn(track, 4), 16)).decode()

        def wait_listing(pred):
            while True:
                listing = next_listing()
                if pred(listing):
                    return listing

        with track:
            contains(next_listing(), clean + " ")
            eq(f.control("clean", "unplug"), "OK\n")
            # track-devices-l reports the unplug live, then the replug.
            wait_listing(lambda l: clean not in l)
            eq(clean in f.adb("devices").stdout.decode(), False)
            st = f.state("clean")
            eq((st["reverse"], st["settings"]["global"]["http_proxy"]), ([], "127.0.0.1:8080"))
            eq(f.control("clean", "plug"), "OK\n")
            listing = wait_listing(lambda l: any(x.startswith(clean + " ") and " device " in x
                                                 for x in l.splitlines()))
            contains(listing, "model:Pixel_8_Pro")
        eq(f.adb("-s", clean, "reverse", "--list", check=True).stdout.strip(), b"")

    @case("the device disappears from devices when the simulator stops")
    def _():
        eq(f.control("clean", "quit"), "OK\n")
        f.sims["clean"]["proc"].wait(10)
        wait_for(lambda: clean not in f.adb("devices").stdout.decode(), what="device gone")
        contains(f.adb("devices").stdout.decode(), hostile)

    t0 = time.monotonic()
    failed = 0
    try:
        for _ in range(5):
            risky_port = free_port()
            if f.start_sim("risky", os.path.join(PROFILES, "risky.json"), risky_port):
                break
        else:
            raise RuntimeError("risky simulator did not start")
        risky = "127.0.0.1:%d" % risky_port
        f.env["ADB_LOCAL_TRANSPORT_MAX_PORT"] = str(max(ports))
        r = f.adb("start-server", timeout=20)
        if r.returncode != 0:
            raise RuntimeError("adb start-server: %r" % r.stderr)
        # adb 29 scans the emulator ports once at start-up.
        wait_for(lambda: all((s + "\tdevice") in f.adb("devices").stdout.decode()
                             for s in (clean, hostile)), timeout=15, what="emulators online")
        print("1..%d" % len(results))
        for i, (name, fn) in enumerate(results, 1):
            try:
                fn()
                print("ok %d - %s" % (i, name))
            except Exception:
                failed += 1
                print("not ok %d - %s" % (i, name))
                for line in traceback.format_exc().splitlines():
                    print("# " + line)
            sys.stdout.flush()
    except Exception:
        print("Bail out! fixture: " + traceback.format_exc().replace("\n", " | "))
        failed += 1
    finally:
        f.cleanup()
    print("# %.1f s" % (time.monotonic() - t0))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
