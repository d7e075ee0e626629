#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright 2026 The Moat developers
"""VPN on demand through the real NetworkManager, driven by a real moatd.

tests/network/nm-netns.py gives a client namespace with NetworkManager on a
private system bus, a LAN and an OpenVPN server ("Company VPN"). moatd runs in
the client namespace (its own session bus, the private system bus) with a
policy whose network rule is "vpn_on_demand || block_protected_resources".
Threats are raised and cleared through the Testing interface, as a detector
would (the detectors themselves are tested against real attacks in
moat-network-attack-test.py).

  1. a threat brings the VPN up (NetworkManager says so); clearing it takes
     the VPN down again
  2. with the VPN server down the VPN fails within vpn_timeout and the chain
     falls back: the protected resource gets 403 through the proxy; 200
     again after the threat clears
  3. the VPN drops while a threat needs it: the chain falls back to the wall
  4. moatd is killed while its VPN is up; the next moatd finds the VPN in
     its state file, no threat needing it, and takes it down
  5. a VPN the company does not know (network.malicious_vpn) is turned off
     through NetworkManager (disable_vpn)
  6. a rogue Wi-Fi: there is no Wi-Fi device here, so disconnect_wifi fails
     with NetworkManager's answer and the wall goes up instead

Needs a moatd built with -Dtest_api=true. Exit 77 (skip) when not root or a
tool is missing.
"""

import importlib.util
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

SKIP = 77
VPN = "Company VPN"
ORIGIN = "10.203.1.1"      # the VPN server's LAN address also serves a page
ORIGIN_PORT = 8000
VPN_TIMEOUT = 8
POLICY = f"""vpn = {VPN}
vpn_timeout = {VPN_TIMEOUT}
protect = {ORIGIN}
network.malicious_vpn: disable_vpn || block_protected_resources; notify
network.rogue_wifi: disconnect_wifi || block_protected_resources; notify
network.* >= medium: vpn_on_demand || block_protected_resources; notify
network.*: notify
"""
THREAT = ("network.tls_interception", "high", "Cafe Wi-Fi", '{"issuer": "mitmproxy"}')

failures = []
timings = {}


def log(message):
    print(f"# {message}", flush=True)


def fail(message):
    log(f"FAIL: {message}")
    failures.append(message)


def wait_for(what, predicate, timeout, interval=0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    raise RuntimeError(f"timed out waiting for {what}")


class Moatd:
    def __init__(self, harness, tmp, build):
        self.h = harness
        self.tmp = tmp
        self.moatd_path = os.path.join(build, "src", "daemon", "moatd")
        self.moatctl_path = os.path.join(build, "src", "cli", "moatctl")
        self.bus_path = os.path.join(tmp, "session_bus")
        config = os.path.join(tmp, "session.conf")
        with open(config, "w") as f:
            f.write(f"""<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig><type>session</type><listen>unix:path={self.bus_path}</listen>
<auth>EXTERNAL</auth>
<policy context="default"><allow send_destination="*" eavesdrop="true"/>
<allow eavesdrop="true"/><allow own="*"/></policy></busconfig>
""")
        home = os.path.join(tmp, "home")
        os.makedirs(os.path.join(home, "config", "glib-2.0", "settings"), exist_ok=True)
        with open(os.path.join(home, "config", "glib-2.0", "settings", "keyfile"), "w") as f:
            f.write("[io/github/moatproject/Moat]\nnotifications-enabled=false\n")
        self.env = dict(os.environ, HOME=home, XDG_DATA_HOME=os.path.join(home, "data"),
                        XDG_CONFIG_HOME=os.path.join(home, "config"),
                        XDG_CACHE_HOME=os.path.join(home, "cache"),
                        GSETTINGS_BACKEND="keyfile",
                        DBUS_SESSION_BUS_ADDRESS=f"unix:path={self.bus_path}",
                        **harness.env())
        self.env.pop("MOAT_DBUS_ADDRESS", None)
        self.bus = self.spawn(["dbus-daemon", "--nofork", "--config-file", config], "bus.log")
        wait_for("the session bus", lambda: os.path.exists(self.bus_path), 10)
        self.proc = None

    def spawn(self, args, log_name):
        out = open(os.path.join(self.tmp, log_name), "a")
        return subprocess.Popen(["ip", "netns", "exec", self.h.netns] + args, stdout=out,
                                stderr=subprocess.STDOUT, env=self.env, start_new_session=True)

    def start(self):
        self.proc = self.spawn([self.moatd_path, "--data-dir", os.path.join(self.tmp, "data"),
                                "--proxy-port", "0", "--no-network-checks", "-v"], "moatd.log")
        wait_for("moatd's proxy", lambda: self.proxy_address(), 30)

    def kill(self, sig=signal.SIGTERM):
        os.killpg(self.proc.pid, sig)
        self.proc.wait(timeout=15)

    def run(self, args, check=True):
        out = subprocess.run(["ip", "netns", "exec", self.h.netns] + args, env=self.env,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        if check and out.returncode != 0:
            raise RuntimeError(f"{' '.join(args)}: {out.returncode} {out.stderr}")
        return out

    def ctl(self, *args):
        return self.run([self.moatctl_path, *args])

    def json(self, *args):
        return json.loads(self.ctl("--json", *args).stdout)

    def proxy_address(self):
        out = self.run([self.moatctl_path, "--json", "status"], check=False)
        if out.returncode != 0:
            return None
        return json.loads(out.stdout).get("proxy_address")

    def testing(self, method, *args):
        return self.run(["gdbus", "call", "--session", "-d", "io.github.moatproject.Moat",
                         "-o", "/io/github/moatproject/Moat", "-m",
                         f"io.github.moatproject.Moat1.Testing.{method}", *args])

    def raise_threat(self):
        self.testing("RaiseThreat", *THREAT)

    def clear_threat(self):
        self.testing("ClearThreat", THREAT[0], THREAT[2])

    def responses(self):
        threats = self.json("threats")
        return {r["action"]: r for t in threats for r in t["responses"]}

    def curl(self):
        out = self.run(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "--max-time", "10",
                        "-x", f"http://{self.proxy_address()}",
                        f"http://{ORIGIN}:{ORIGIN_PORT}/"], check=False)
        return out.stdout.strip()


def vpn_active(h):
    out = h.run_in_netns(["nmcli", "-t", "-f", "NAME,TYPE,STATE", "connection", "show",
                          "--active"], check=False).stdout
    return any(line.startswith(f"{VPN}:vpn:activated") for line in out.splitlines())


def vpn_gone(h):
    out = h.run_in_netns(["nmcli", "-t", "-f", "NAME", "connection", "show", "--active"],
                         check=False).stdout
    return VPN not in out.splitlines()


def wait_for_value(predicate, timeout, interval=0.3):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise RuntimeError("timed out")
        time.sleep(interval)


def main():
    build = os.environ.get("MOAT_BUILD_ROOT")
    source = os.environ.get("MOAT_SOURCE_ROOT",
                            os.path.dirname(os.path.dirname(os.path.dirname(
                                os.path.abspath(__file__)))))
    if os.geteuid() != 0:
        print("SKIP: needs root for network namespaces")
        return SKIP
    if build is None:
        print("SKIP: MOAT_BUILD_ROOT is not set (run through meson test)")
        return SKIP
    for prog in ("curl", "gdbus", "dbus-daemon", "nmcli"):
        if shutil.which(prog) is None:
            print(f"SKIP: needs {prog}")
            return SKIP
    spec = importlib.util.spec_from_file_location(
        "nm_netns", os.path.join(source, "tests", "network", "nm-netns.py"))
    nm_netns = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(nm_netns)

    tmp = tempfile.mkdtemp(prefix="moat-vpn-e2e-")
    os.chmod(tmp, 0o755)
    moatd = None
    try:
        with nm_netns.Harness() as h:
            web = h.spawn("web", h.server_netns,
                          [sys.executable, "-m", "http.server", "--bind", ORIGIN,
                           str(ORIGIN_PORT)], "web.log")
            moatd = Moatd(h, tmp, build)
            moatd.start()
            policy = os.path.join(tmp, "company.policy")
            with open(policy, "w") as f:
                f.write(POLICY)
            moatd.ctl("policy", "load", policy)
            wait_for("the origin", lambda: moatd.curl() == "200", 15, 0.3)

            # 1. On demand: up with the threat, down when it clears.
            start = time.monotonic()
            moatd.raise_threat()
            wait_for("the VPN to come up", lambda: vpn_active(h), 30, 0.2)
            up = time.monotonic() - start
            wait_for("moatd to see it", lambda: moatd.responses().get("vpn_on_demand", {})
                     .get("state") == "in-effect", 10)
            timings.setdefault("vpn up", []).append(up)
            log(f"threat raised → VPN activated in {up:.2f} s; responses {moatd.responses()}")
            if moatd.curl() != "200":
                fail("the protected resource is walled off although the VPN is up")
            start = time.monotonic()
            moatd.clear_threat()
            wait_for("the VPN to go down", lambda: vpn_gone(h), 30, 0.2)
            down = time.monotonic() - start
            timings.setdefault("vpn down", []).append(down)
            log(f"threat cleared → VPN down in {down:.2f} s")

            # 2. The VPN server is gone: fall back to the wall.
            h.stop_vpn_server()
            start = time.monotonic()
            moatd.raise_threat()
            try:
                wait_for("the fallback", lambda: moatd.responses()
                         .get("block_protected_resources", {}).get("state") == "in-effect",
                         VPN_TIMEOUT + 20, 0.2)
            except RuntimeError as e:
                fail(f"{e}: {moatd.responses()}")
            fallback = time.monotonic() - start
            timings.setdefault("fallback", []).append(fallback)
            reason = moatd.responses().get("block_protected_resources", {}).get("reason", "")
            log(f"VPN server down → fallback after {fallback:.2f} s, reason {reason!r}")
            if not reason:
                fail("the fallback does not say why the VPN failed")
            code = moatd.curl()
            if code != "403":
                fail(f"the protected resource answers {code} with the VPN down, not 403")
            moatd.clear_threat()
            code = moatd.curl()
            if code != "200":
                fail(f"the protected resource answers {code} after the threat cleared")
            h.start_vpn_server()

            # 3. The VPN drops while needed: the chain falls back.
            moatd.raise_threat()
            wait_for("the VPN to come up", lambda: vpn_active(h), 30, 0.2)
            wait_for("moatd to see it", lambda: moatd.responses().get("vpn_on_demand", {})
                     .get("state") == "in-effect", 10)
            start = time.monotonic()
            h.stop_vpn_server()
            try:
                wait_for("the fallback after the VPN dropped", lambda: moatd.responses()
                         .get("block_protected_resources", {}).get("state") == "in-effect",
                         30, 0.2)
                log(f"VPN dropped → wall after {time.monotonic() - start:.2f} s")
            except RuntimeError as e:
                fail(f"{e}: {moatd.responses()}")
            if moatd.curl() != "403":
                fail("the protected resource is not walled off after the VPN dropped")
            moatd.clear_threat()
            h.start_vpn_server()

            # 4. A crash with the VPN up: the next moatd takes it down.
            moatd.raise_threat()
            wait_for("the VPN to come up", lambda: vpn_active(h), 30, 0.2)
            wait_for("the state file", lambda: "Company VPN" in open(
                os.path.join(tmp, "data", "response-state.json")).read()
                if os.path.exists(os.path.join(tmp, "data", "response-state.json")) else False,
                10)
            moatd.kill(signal.SIGKILL)
            if not vpn_active(h):
                fail("the VPN went down with moatd")
            moatd.start()
            start = time.monotonic()
            try:
                wait_for("the next moatd to take the VPN down", lambda: vpn_gone(h), 30, 0.2)
                log(f"restart → stranded VPN down after {time.monotonic() - start:.2f} s")
            except RuntimeError as e:
                fail(str(e))
            try:
                # The store commits in batches, off moatd's main loop.
                wait_for("the event that says so", lambda: any(
                    e["threat"] == "moat.response_restored" and e["action"] == "action-reverted"
                    for e in moatd.json("events", "--limit", "0", "--kind", "moat.*")), 10, 0.2)
            except RuntimeError as e:
                fail(f"no event says the stranded VPN was taken down: {e}")

            # 5. An unknown VPN is up: Moat turns it off.
            h.run_in_netns(["nmcli", "connection", "up", VPN])
            wait_for("the VPN up by hand", lambda: vpn_active(h), 30, 0.2)
            moatd.testing("RaiseThreat", "network.malicious_vpn", "high", VPN, "{}")
            try:
                wait_for("disable_vpn", lambda: vpn_gone(h), 30, 0.2)
                wait_for("moatd to say so", lambda: moatd.responses().get("disable_vpn", {})
                         .get("state") == "done", 10)
                log(f"malicious VPN → turned off; responses {moatd.responses()}")
            except RuntimeError as e:
                fail(f"{e}: {moatd.responses()}")
            moatd.testing("ClearThreat", "network.malicious_vpn", VPN)

            # 6. A rogue Wi-Fi with no Wi-Fi device: the fallback.
            moatd.testing("RaiseThreat", "network.rogue_wifi", "high", "Office", "{}")
            try:
                wait_for("the fallback", lambda: moatd.responses()
                         .get("block_protected_resources", {}).get("state") == "in-effect", 15)
                reason = moatd.responses()["block_protected_resources"]["reason"]
                log(f"rogue Wi-Fi → disconnect_wifi failed ({reason!r}), wall in effect")
                if not reason:
                    fail("disconnect_wifi failed without a reason")
            except RuntimeError as e:
                fail(f"{e}: {moatd.responses()}")
            if moatd.curl() != "403":
                fail("the protected resource is not walled off for the rogue Wi-Fi")
            moatd.testing("ClearThreat", "network.rogue_wifi", "Office")

            # 7. Health: the policy's VPN is set up; then one that is not; then one
            # whose password is not saved (Moat could not bring it up alone).
            def vpn_health():
                h_ = moatd.json("health", "check")
                return next(i for i in h_["items"] if i["id"] == "moat.vpn")
            item = vpn_health()
            log(f"health with {VPN!r}: {item['status']}: {item['summary']}")
            if item["status"] != "ok":
                fail(f"the policy's VPN is set up, yet health says {item}")
            missing = os.path.join(tmp, "missing.policy")
            with open(missing, "w") as f:
                f.write(POLICY.replace(VPN, "Branch VPN"))
            moatd.ctl("policy", "load", missing)
            item = vpn_health()
            log(f"health with 'Branch VPN': {item['status']} {item['severity']}: {item['summary']}")
            if (item["status"], item["severity"]) != ("problem", "high") or not item["steps"]:
                fail(f"a VPN that is not set up is not a high problem: {item}")
            moatd.ctl("policy", "load", policy)
            h.run_in_netns(["nmcli", "connection", "modify", VPN, "+vpn.data",
                            "connection-type=password-tls, password-flags=2, username=alice"])
            item = wait_for_value(lambda: (lambda i: i if i["status"] == "problem" else None)(
                vpn_health()), 15)
            log(f"health with an unsaved password: {item['status']} {item['severity']}: "
                f"{item['summary']}")
            if item["severity"] != "medium":
                fail(f"a VPN asking for its password each time is not a medium problem: {item}")

            events = moatd.json("events", "--limit", "0", "--kind", "network.*")
            log(f"{len(events)} network events: "
                + ", ".join(sorted({e['action'] for e in events})))
            for name, values in timings.items():
                log(f"{name}: median {statistics.median(values):.2f} s (n={len(values)})")
            moatd.kill()
            web.terminate()
    except nm_netns.SkipTest as e:
        print(f"SKIP: {e}")
        return SKIP
    except (RuntimeError, subprocess.CalledProcessError, OSError, json.JSONDecodeError) as e:
        fail(f"{e} {getattr(e, 'stderr', '') or ''}".strip())
    finally:
        if moatd is not None:
            for proc in (moatd.proc, moatd.bus):
                if proc is not None and proc.poll() is None:
                    os.killpg(proc.pid, signal.SIGKILL)
            if failures:
                path = os.path.join(tmp, "moatd.log")
                if os.path.exists(path):
                    log("--- moatd.log:\n# " + open(path).read()[-4000:].replace("\n", "\n# "))
        shutil.rmtree(tmp, ignore_errors=True)

    if failures:
        print(f"FAIL: {len(failures)} problem(s)")
        return 1
    print("PASS")
    return 0


if __name__ == "__main__":
    sys.exit(main())
