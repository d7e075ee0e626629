#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright 2026 The Moat developers
"""vpn_on_demand end to end: a real moatd, the real NetworkManager, a real OpenVPN server.

nm-netns.py makes the namespaces (client: NetworkManager on a private system
bus, "Company VPN"; server: openvpn, and here also a web server on
10.203.1.1:8080, the "company resource"). moatd runs in the client namespace
on a session bus of its own with the policy

    vpn = Company VPN
    vpn_timeout = 8
    protect = 10.203.1.1
    network.* >= medium: vpn_on_demand || block_protected_resources; notify

and threats come from the Testing D-Bus API (RaiseThreat / ClearThreat), so
this checks the responder and MoatNmNetwork, not the detectors.

Scenarios, each checked through NetworkManager (nmcli), moatctl --json threats
and curl through moatd's proxy to the protected resource:
  1. a threat: the VPN comes up (no wall: curl 200); cleared: it goes down
  2. the VPN server is down: vpn_on_demand fails, the wall goes up (curl 403);
     cleared: the wall goes (curl 200)
  3. the VPN is up for a threat and the server dies: NetworkManager reports
     the VPN down, Moat falls back to the wall (curl 403)
  4. the VPN is up for a threat and moatd restarts without the threat: the
     VPN Moat raised is taken down
Times (threat to VPN up, threat to wall, server death to wall) are printed.

Usage: moat-vpn-on-demand-test.py   (MOAT_BUILD_ROOT names the build tree)
Exit 77 (skip) when not root or a tool is missing.
"""

import importlib.util
import json
import os
import shutil
import subprocess
import sys
import time

SKIP = 77
HERE = os.path.dirname(os.path.abspath(__file__))
spec = importlib.util.spec_from_file_location("nm_netns", os.path.join(HERE, "nm-netns.py"))
nm_netns = importlib.util.module_from_spec(spec)
spec.loader.exec_module(nm_netns)

THREAT = "network.tls_interception"
SUBJECT = "Test LAN"
RESOURCE = f"http://{nm_netns.SERVER_ADDR}:8080/"
POLICY = f"""vpn = {nm_netns.VPN_NAME}
vpn_timeout = 8
protect = {nm_netns.SERVER_ADDR}
network.* >= medium: vpn_on_demand || block_protected_resources; notify
"""
SCHEMA = "io/github/moatproject/Moat"

failures = []


def log(message):
    print(f"# {message}", flush=True)


def fail(message):
    log(f"FAIL: {message}")
    failures.append(message)


def wait_for(what, predicate, timeout):
    """Seconds until predicate() held, or None (and a failure) after timeout."""
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if predicate():
            return time.monotonic() - start
        time.sleep(0.05)
    fail(f"timed out ({timeout} s) waiting for {what}")
    return None


class Moatd:
    """moatd and moatctl in the client namespace, on a session bus of their own."""

    def __init__(self, h, build):
        self.h = h
        self.tmp = h.workdir
        self.moatd_path = os.path.join(build, "src", "daemon", "moatd")
        self.moatctl_path = os.path.join(build, "src", "cli", "moatctl")
        self.bus_path = os.path.join(self.tmp, "session_bus_socket")
        config = os.path.join(self.tmp, "session.conf")
        with open(config, "w") as f:
            f.write(f"""<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig><type>session</type><listen>unix:path={self.bus_path}</listen>
<auth>EXTERNAL</auth>
<policy context="default"><allow send_destination="*" eavesdrop="true"/>
<allow eavesdrop="true"/><allow own="*"/></policy></busconfig>
""")
        home = os.path.join(self.tmp, "home")
        self.env = dict(os.environ, HOME=home, XDG_DATA_HOME=os.path.join(home, "data"),
                        XDG_CONFIG_HOME=os.path.join(home, "config"),
                        XDG_CACHE_HOME=os.path.join(home, "cache"),
                        GSETTINGS_BACKEND="keyfile",
                        DBUS_SESSION_BUS_ADDRESS=f"unix:path={self.bus_path}",
                        **h.env())
        self.env.pop("MOAT_DBUS_ADDRESS", None)
        settings = os.path.join(home, "config", "glib-2.0", "settings")
        os.makedirs(settings, exist_ok=True)
        with open(os.path.join(settings, "keyfile"), "w") as f:
            f.write(f"[{SCHEMA}]\nnotifications-enabled=false\n")
        h.spawn("session-bus", h.netns, ["dbus-daemon", "--nofork", "--config-file", config],
                "session-bus.log", env=self.env)
        h.wait_for("the session bus", lambda: os.path.exists(self.bus_path), 10, "session-bus")

    def start(self):
        self.h.spawn("moatd", self.h.netns,
                     [self.moatd_path, "--data-dir", os.path.join(self.tmp, "moat-data"),
                      "--proxy-port", "0", "--no-network-checks", "-v"],
                     "moatd.log", env=self.env)
        self.h.wait_for("moatd's proxy", lambda: self.proxy_address() not in ("", None), 30,
                        "moatd")

    def stop(self):
        self.h.kill("moatd", timeout=10)

    def ctl(self, *args, check=True):
        out = self.h.ns_run(self.h.netns, [self.moatctl_path] + list(args), check=False,
                            env=self.env)
        if check and out.returncode != 0:
            raise RuntimeError(f"moatctl {' '.join(args)}: {out.returncode} {out.stderr}")
        return out

    def json(self, *args):
        return json.loads(self.ctl("--json", *args).stdout)

    def proxy_address(self):
        try:
            return self.json("status").get("proxy_address")
        except (RuntimeError, json.JSONDecodeError):
            return None

    def testing(self, method, *args):
        self.h.ns_run(self.h.netns, ["gdbus", "call", "--session", "-d",
                                     "io.github.moatproject.Moat", "-o",
                                     "/io/github/moatproject/Moat", "-m",
                                     f"io.github.moatproject.Moat1.Testing.{method}"] + list(args),
                      env=self.env)

    def raise_threat(self):
        self.testing("RaiseThreat", THREAT, "high", SUBJECT, '{"issuer": "Evil CA"}')

    def clear_threat(self):
        self.testing("ClearThreat", THREAT, SUBJECT)

    def responses(self):
        for threat in self.json("threats"):
            if threat["threat"] == THREAT:
                return {r["action"]: r for r in threat["responses"]}
        return {}

    def state_of(self, action):
        return self.responses().get(action, {}).get("state")

    def curl(self):
        out = self.h.ns_run(self.h.netns, ["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}",
                                           "--max-time", "10", "-x",
                                           f"http://{self.proxy_address()}", RESOURCE],
                            check=False)
        return out.stdout.strip()


def vpn_active(h):
    out = h.run_in_netns(["nmcli", "-g", "GENERAL.STATE", "connection", "show",
                          nm_netns.VPN_NAME], check=False)
    return "activated" in out.stdout


def check_curl(moatd, expected, label):
    code = moatd.curl()
    if code != expected:
        fail(f"{label}: the protected resource answers {code}, not {expected}")


def scenario_vpn_up_down(h, moatd):
    start = time.monotonic()
    moatd.raise_threat()
    up = wait_for("the VPN up after the threat", lambda: vpn_active(h), 20)
    if up is not None:
        log(f"1. threat to VPN activated: {time.monotonic() - start:.3f} s")
    state = moatd.state_of("vpn_on_demand")
    if state != "in-effect":
        fail(f"1. vpn_on_demand is {state!r}, not in-effect: {moatd.responses()}")
    check_curl(moatd, "200", "1. VPN up")
    start = time.monotonic()
    moatd.clear_threat()
    if wait_for("the VPN down after the threat cleared", lambda: not vpn_active(h), 20):
        log(f"1. threat cleared to VPN down: {time.monotonic() - start:.3f} s")


def scenario_fallback(h, moatd):
    h.stop_vpn_server()
    start = time.monotonic()
    moatd.raise_threat()
    walled = wait_for("the wall after the VPN failed",
                      lambda: moatd.state_of("block_protected_resources") == "in-effect", 20)
    if walled is not None:
        log(f"2. VPN server down: threat to wall {time.monotonic() - start:.3f} s; responses "
            + "; ".join(f"{a} {r['state']} {r['reason']!r}" for a, r in moatd.responses().items()))
    check_curl(moatd, "403", "2. VPN down, wall up")
    if vpn_active(h):
        fail("2. the VPN is up although its server is down")
    moatd.clear_threat()
    wait_for("the wall to go", lambda: moatd.curl() == "200", 10)
    h.start_vpn_server()


def scenario_server_dies(h, moatd):
    moatd.raise_threat()
    wait_for("the VPN up after the threat", lambda: vpn_active(h), 20)
    check_curl(moatd, "200", "3. VPN up")
    start = time.monotonic()
    h.stop_vpn_server()
    walled = wait_for("the wall after the VPN server died",
                      lambda: moatd.state_of("block_protected_resources") == "in-effect", 40)
    if walled is not None:
        log(f"3. server died to wall: {time.monotonic() - start:.3f} s; responses "
            + "; ".join(f"{a} {r['state']} {r['reason']!r}" for a, r in moatd.responses().items()))
    check_curl(moatd, "403", "3. VPN gone, wall up")
    moatd.clear_threat()
    wait_for("the wall to go", lambda: moatd.curl() == "200", 10)
    h.start_vpn_server()


def scenario_restart(h, moatd):
    moatd.raise_threat()
    wait_for("the VPN up after the threat", lambda: vpn_active(h), 20)
    moatd.stop()
    if not vpn_active(h):
        fail("4. the VPN went down with moatd (it should stay up while moatd is away)")
    moatd.start()
    # the test threat is not raised again: the VPN Moat raised is not needed
    if wait_for("the VPN down after moatd came back without the threat",
                lambda: not vpn_active(h), 20) is not None:
        log("4. moatd restarted without the threat: the VPN it raised went down")


def main():
    build = os.environ.get("MOAT_BUILD_ROOT")
    why = nm_netns.missing_requirements()
    if why is None and build is None:
        why = "MOAT_BUILD_ROOT is not set (run through meson test)"
    for prog in ("curl", "gdbus"):
        if why is None and shutil.which(prog) is None:
            why = f"needs {prog}"
    if why is not None:
        print(f"SKIP: {why}")
        return SKIP

    try:
        with nm_netns.Harness() as h:
            h.spawn("web", h.server_netns,
                    [sys.executable, "-m", "http.server", "--bind", nm_netns.SERVER_ADDR, "8080"],
                    "web.log")
            h.wait_for("the company web server",
                       lambda: f"{nm_netns.SERVER_ADDR}:8080" in
                       h.ns_run(h.server_netns, ["ss", "-Hltn"], check=False).stdout, 10, "web")
            moatd = Moatd(h, build)
            moatd.start()
            policy = os.path.join(h.workdir, "company.policy")
            with open(policy, "w") as f:
                f.write(POLICY)
            moatd.ctl("policy", "load", policy)
            check_curl(moatd, "200", "0. no threat")

            for scenario in (scenario_vpn_up_down, scenario_fallback, scenario_server_dies,
                             scenario_restart):
                scenario(h, moatd)
            moatd.stop()
            for key in ("web", "session-bus"):
                h.kill(key)
            if failures:
                with open(os.path.join(h.workdir, "moatd.log"), errors="replace") as f:
                    for line in f.read().splitlines()[-40:]:
                        log(f"moatd: {line}")
    except nm_netns.SkipTest as e:
        print(f"SKIP: {e}")
        return SKIP
    if failures:
        log(f"{len(failures)} failure(s)")
        return 1
    log("all scenarios passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
