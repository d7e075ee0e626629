#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright 2026 The Moat developers
"""Real attacks on a real moatd, in network namespaces this test makes.

    victim 10.204.1.2 ─┐
                       br0 10.204.1.1  router  10.204.2.1 ── 10.204.2.2 origin
    attacker 10.204.1.66┘   (dnsmasq, mitmdump)

The victim runs moatd (automatic network checks on, its own session bus,
settings in a keyfile pointing the checks at the origin) and the threat
policy "vpn_on_demand || block_protected_resources" with the origin as the
protected resource. There is no NetworkManager, so the VPN cannot come up
and the fallback walls off the origin.

Scenarios, each checked through moatctl, curl through moatd's proxy and
the event store:
  1. clean: scans see nothing (false positives counted), SafeSince is set
  2. TLS interception: mitmdump (transparent) on the router
  3. the same, seen by itself after a network change (no scan asked)
  4. SSL stripping and content manipulation: mitmdump with an addon that
     drops the HTTPS redirect and injects a script into pages
  5. DNS hijack: dnsmasq lying about the origin's name
  6. ARP spoofing: arpspoof on the victim's LAN
  7. a captive portal (every plain-HTTP request redirected to its login page,
     every name resolved to it): no threat at all, the DNS answers are held
     and the findings say a portal is in the way
Each attack raises its threat, walls off the protected resource (curl gets
403 through the proxy), and when the attack stops the next scan clears the
threat and the wall goes (curl gets 200).

Usage: moat-network-attack-test.py   (MOAT_BUILD_ROOT names the build tree)
Exit 77 (skip) when not root or a tool is missing.
"""

import hashlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from moatnetns import (log, listening, namespaces, ns, processes, run, spawn,  # noqa: E402
                       stop, stop_all, wait_for)

SKIP = 77
TAG = f"moat-atk-{os.getpid()}"
NS_V, NS_R, NS_O, NS_A = f"{TAG}-v", f"{TAG}-r", f"{TAG}-o", f"{TAG}-a"
VICTIM, GATEWAY, ATTACKER = "10.204.1.2", "10.204.1.1", "10.204.1.66"
ORIGIN = "10.204.2.2"
HOST = "origin.moat.test"
MITM_PORT = 8080
CLEAN_SCANS = 5
DETECT_LIMIT_S = 10.0
SCHEMA = "io/github/moatproject/Moat"
POLICY = f"""vpn = Company VPN
protect = {ORIGIN}
network.* >= medium: vpn_on_demand || block_protected_resources; notify
network.*: notify
"""

failures = []
timings = {}
false_positives = 0
clean_scans = 0


def fail(message):
    log(f"FAIL: {message}")
    failures.append(message)


def setup_network(tmp):
    for name in (NS_V, NS_R, NS_O, NS_A):
        run("ip", "netns", "add", name)
        namespaces.append(name)
        ns(name, "ip", "link", "set", "lo", "up")
    ns(NS_R, "ip", "link", "add", "br0", "type", "bridge")
    for name, dev, peer in ((NS_V, "v-r", "r-v"), (NS_A, "a-r", "r-a")):
        run("ip", "link", "add", dev, "netns", name, "type", "veth", "peer", "name", peer,
            "netns", NS_R)
        ns(NS_R, "ip", "link", "set", peer, "master", "br0")
        ns(NS_R, "ip", "link", "set", peer, "up")
    run("ip", "link", "add", "o-r", "netns", NS_O, "type", "veth", "peer", "name", "r-o",
        "netns", NS_R)
    for name, dev, addr in ((NS_V, "v-r", f"{VICTIM}/24"), (NS_A, "a-r", f"{ATTACKER}/24"),
                            (NS_R, "br0", f"{GATEWAY}/24"), (NS_R, "r-o", "10.204.2.1/24"),
                            (NS_O, "o-r", f"{ORIGIN}/24")):
        ns(name, "ip", "addr", "add", addr, "dev", dev)
        ns(name, "ip", "link", "set", dev, "up")
    for name in (NS_V, NS_A):
        ns(name, "ip", "route", "add", "default", "via", GATEWAY)
    ns(NS_O, "ip", "route", "add", "default", "via", "10.204.2.1")
    ns(NS_R, "sysctl", "-qw", "net.ipv4.ip_forward=1")
    # ip netns exec bind-mounts this over /etc/resolv.conf.
    os.makedirs(f"/etc/netns/{NS_V}", exist_ok=True)
    with open(f"/etc/netns/{NS_V}/resolv.conf", "w") as f:
        f.write(f"nameserver {GATEWAY}\n")


def make_certs(tmp):
    def template(name, text):
        path = os.path.join(tmp, name)
        with open(path, "w") as f:
            f.write(text)
        return path

    ca_key, ca = os.path.join(tmp, "ca.key"), os.path.join(tmp, "ca.pem")
    key, leaf = os.path.join(tmp, "leaf.key"), os.path.join(tmp, "leaf.pem")
    run("certtool", "--generate-privkey", "--key-type=ecdsa", "--outfile", ca_key)
    run("certtool", "--generate-self-signed", "--load-privkey", ca_key, "--outfile", ca,
        "--template", template("ca.tmpl", 'cn = "Moat Attack Test Root"\nca\n'
                               'cert_signing_key\nexpiration_days = 30\n'))
    run("certtool", "--generate-privkey", "--key-type=ecdsa", "--outfile", key)
    run("certtool", "--generate-certificate", "--load-privkey", key, "--load-ca-certificate", ca,
        "--load-ca-privkey", ca_key, "--outfile", leaf,
        "--template", template("leaf.tmpl", f'cn = "{HOST}"\ndns_name = "{HOST}"\n'
                               f'ip_address = "{ORIGIN}"\n'
                               'tls_www_server\nsigning_key\nexpiration_days = 30\n'))
    return ca, leaf, key


ORIGIN_HTTP = f"""
import http.server
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        if self.path == "/generate_204":
            self.send_response(204)
            self.end_headers()
        elif self.path == "/page":
            body = b"origin page"
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        else:
            self.send_response(301)
            self.send_header("Location", "https://{ORIGIN}/")
            self.send_header("Content-Length", "0")
            self.end_headers()
    def log_message(self, *args):
        pass
http.server.ThreadingHTTPServer(("0.0.0.0", 80), H).serve_forever()
"""

STRIP_ADDON = """
import os
from mitmproxy import http
PORTAL = os.path.join(os.environ["HOME"], "portal")
def request(flow):
    # A captive portal: every plain-HTTP request goes to its login page.
    if os.path.exists(PORTAL):
        flow.response = http.Response.make(302, b"", {"Location": "http://login.portal.test/"})
def response(flow):
    if os.path.exists(PORTAL):
        return
    if flow.response.status_code in (301, 302, 303, 307, 308):
        flow.response = http.Response.make(200, b"<html>no redirect here</html>",
                                           {"Content-Type": "text/html"})
    elif flow.response.status_code == 200:
        flow.response.content = flow.response.content + b"<script>steal()</script>"
"""
PAGE_SHA256 = hashlib.sha256(b"origin page").hexdigest()


class Moatd:
    """moatd and moatctl in the victim namespace, on a bus of their own."""

    def __init__(self, tmp, build):
        self.tmp = tmp
        self.moatd_path = os.path.join(build, "src", "daemon", "moatd")
        self.moatctl_path = os.path.join(build, "src", "cli", "moatctl")
        self.bus_path = os.path.join(tmp, "bus")
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
        self.env = dict(os.environ, HOME=home, XDG_DATA_HOME=os.path.join(home, "data"),
                        XDG_CONFIG_HOME=os.path.join(home, "config"),
                        XDG_CACHE_HOME=os.path.join(home, "cache"),
                        GSETTINGS_BACKEND="keyfile",
                        DBUS_SESSION_BUS_ADDRESS=f"unix:path={self.bus_path}")
        self.env.pop("MOAT_DBUS_ADDRESS", None)
        os.makedirs(os.path.join(home, "config", "glib-2.0", "settings"), exist_ok=True)
        self.bus = spawn(NS_V, ["dbus-daemon", "--nofork", "--config-file", config],
                         os.path.join(tmp, "bus.log"), env=self.env)
        wait_for("the session bus", lambda: os.path.exists(self.bus_path))

    def configure(self, ca):
        keyfile = os.path.join(self.env["XDG_CONFIG_HOME"], "glib-2.0", "settings", "keyfile")
        with open(keyfile, "w") as f:
            f.write(f"[{SCHEMA}]\n"
                    f"tls-probe-targets=['{HOST}:443@{ORIGIN}']\n"
                    f"tls-probe-ca-file='{ca}'\n"
                    f"dns-probe-pinned=['{HOST}={ORIGIN}']\n"
                    "dns-probe-nxdomain-zone=''\n"
                    f"http-probe-targets=['http://{ORIGIN}/generate_204 expect-status 204', "
                    f"'http://{ORIGIN}/ expect-redirect https://{ORIGIN}/', "
                    f"'http://{ORIGIN}/page expect-sha256 {PAGE_SHA256}']\n"
                    "notifications-enabled=false\n")

    def start(self):
        self.proc = spawn(NS_V, [self.moatd_path, "--data-dir", os.path.join(self.tmp, "data"),
                                 "--proxy-port", "0", "-v"],
                          os.path.join(self.tmp, "moatd.log"), env=self.env)
        wait_for("moatd's proxy", lambda: self.proxy_address() not in ("", None), timeout=30)

    def ctl(self, *args, check=True):
        out = ns(NS_V, "env", *[f"{k}={v}" for k, v in self.env.items()
                                if k in ("DBUS_SESSION_BUS_ADDRESS", "HOME")],
                 self.moatctl_path, *args, check=False)
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

    def spawn_scan(self):
        return subprocess.Popen(["ip", "netns", "exec", NS_V, "env",
                                 f"DBUS_SESSION_BUS_ADDRESS={self.env['DBUS_SESSION_BUS_ADDRESS']}",
                                 f"HOME={self.env['HOME']}", self.moatctl_path, "--json", "scan"],
                                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)

    def scan(self):
        start = time.monotonic()
        findings = self.json("scan")
        return findings, time.monotonic() - start

    def threats(self):
        return self.json("threats")

    def curl(self):
        out = ns(NS_V, "curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "--max-time", "10",
                 "-x", f"http://{self.proxy_address()}", f"http://{ORIGIN}/page", check=False)
        return out.stdout.strip()


def threat_ids(threats):
    return sorted(t["threat"] for t in threats)


def clean_scans_check(moatd, label, runs=1):
    """Scans that must find no threat at all."""
    global false_positives, clean_scans
    for i in range(runs):
        findings, wall = moatd.scan()
        bad = [f for f in findings if f["result"] == "threat"]
        clean_scans += 1
        if bad:
            false_positives += 1
            fail(f"{label}: false positive {bad}")
        log(f"{label} scan {i + 1}: {len(findings)} findings, "
            f"{sum(f['result'] == 'clean' for f in findings)} clean, {wall:.2f} s")
        if i == 0:
            for f in findings:
                if f["result"] != "clean":
                    log(f"    {f['detector']} {f['subject']}: {f['result']}: {f['summary']}")
    active = moatd.threats()
    if active:
        fail(f"{label}: threats still active: {threat_ids(active)}")
    code = moatd.curl()
    if code != "200":
        fail(f"{label}: the protected resource answers {code}, not 200")


def attack_check(moatd, name, threat, evidence_has=None):
    """One scan under attack: how soon the threat is active, its evidence, the wall."""
    start = time.monotonic()
    scan = moatd.spawn_scan()
    detected = None
    while time.monotonic() - start < DETECT_LIMIT_S + 10 and detected is None:
        if threat in threat_ids(moatd.threats()):
            detected = time.monotonic() - start
        else:
            time.sleep(0.05)
    out, _ = scan.communicate(timeout=60)
    wall = time.monotonic() - start
    findings = json.loads(out)
    seen = [f for f in findings if f["threat"] == threat]
    log(f"{name}: active after {detected if detected is None else round(detected, 2)} s, "
        f"scan done after {wall:.2f} s; findings: "
        + "; ".join(f"{f['detector']} {f['result']} {f['threat']}" for f in findings))
    if not seen or detected is None:
        fail(f"{name}: no {threat}")
        return
    timings.setdefault(name, []).append(detected)
    if detected >= DETECT_LIMIT_S:
        fail(f"{name}: detection took {detected:.2f} s")
    if evidence_has is not None and evidence_has not in json.dumps(seen):
        fail(f"{name}: the evidence lacks {evidence_has!r}: {seen}")
    active = [t for t in moatd.threats() if t["threat"] == threat]
    if len(active) != 1:
        fail(f"{name}: expected one active {threat}, got {threat_ids(moatd.threats())}")
        return
    responses = {r["action"]: r for r in active[0]["responses"]}
    wall_state = responses.get("block_protected_resources", {}).get("state")
    log(f"{name}: active on {active[0]['subject']!r}; responses "
        + "; ".join(f"{r['action']} {r['state']} {r['reason']!r}" for r in active[0]["responses"]))
    if wall_state != "in-effect":
        fail(f"{name}: the protected resources are not walled off: {active[0]['responses']}")
    code = moatd.curl()
    if code != "403":
        fail(f"{name}: the protected resource answers {code} during the attack, not 403")


def main():
    build = os.environ.get("MOAT_BUILD_ROOT")
    if os.geteuid() != 0:
        print("SKIP: needs root for network namespaces")
        return SKIP
    if build is None:
        print("SKIP: MOAT_BUILD_ROOT is not set (run through meson test)")
        return SKIP
    for prog in ("ip", "iptables", "mitmdump", "dnsmasq", "arpspoof", "certtool", "openssl",
                 "curl", "dbus-daemon", "ss"):
        if shutil.which(prog) is None:
            print(f"SKIP: needs {prog}")
            return SKIP

    tmp = tempfile.mkdtemp(prefix="moat-attack-")
    os.chmod(tmp, 0o755)
    dns = None
    try:
        setup_network(tmp)
        ca, leaf, key = make_certs(tmp)
        tls = spawn(NS_O, ["openssl", "s_server", "-accept", "443", "-www", "-cert", leaf,
                           "-key", key, "-quiet"], os.path.join(tmp, "origin-tls.log"))
        web = spawn(NS_O, [sys.executable, "-c", ORIGIN_HTTP], os.path.join(tmp, "origin-web.log"))
        wait_for("the origin", lambda: listening(NS_O, 443) and listening(NS_O, 80))

        def start_dns(address):
            proc = spawn(NS_R, ["dnsmasq", "--keep-in-foreground", "--no-resolv", "--no-hosts",
                                "--conf-file=/dev/null", "--bind-interfaces",
                                f"--listen-address={GATEWAY}", "--user=root",
                                f"--pid-file={tmp}/dnsmasq.pid",
                                f"--address=/{HOST}/{address}",
                                # Other names in the zone do not exist (NXDOMAIN check).
                                "--local=/moat.test/"],
                         os.path.join(tmp, "dnsmasq.log"))
            wait_for("dnsmasq", lambda: listening(NS_R, 53, "u"))
            return proc

        dns = start_dns(ORIGIN)

        moatd = Moatd(tmp, build)
        moatd.configure(ca)
        moatd.start()
        policy = os.path.join(tmp, "company.policy")
        with open(policy, "w") as f:
            f.write(POLICY)
        moatd.ctl("policy", "load", policy)

        # 1. Clean.
        clean_scans_check(moatd, "clean", CLEAN_SCANS)
        status = moatd.json("status")
        safe = moatd.ctl("status").stdout
        log(f"status after clean scans: risk {status.get('risk_level')}")
        out = ns(NS_V, "env", f"DBUS_SESSION_BUS_ADDRESS=unix:path={moatd.bus_path}", "gdbus",
                 "call", "--session", "-d", "io.github.moatproject.Moat", "-o",
                 "/io/github/moatproject/Moat", "-m", "org.freedesktop.DBus.Properties.Get",
                 "io.github.moatproject.Moat1", "SafeSince", check=False).stdout
        if "int64 0" in out or "int64" not in out:
            fail(f"SafeSince is not set after clean scans: {out!r} {safe!r}")

        # 2. TLS interception.
        confdir = os.path.join(tmp, "mitmproxy")
        addon = os.path.join(tmp, "strip.py")
        with open(addon, "w") as f:
            f.write(STRIP_ADDON)
        mitm = spawn(NS_R, ["mitmdump", "--mode", "transparent", "--listen-port", str(MITM_PORT),
                            "--ssl-insecure", "--set", f"confdir={confdir}", "-q", "-s", addon],
                     os.path.join(tmp, "mitmdump.log"), env=dict(os.environ, HOME=tmp))
        wait_for("mitmdump", lambda: listening(NS_R, MITM_PORT))

        def redirect(port, on):
            ns(NS_R, "iptables", "-t", "nat", "-A" if on else "-D", "PREROUTING", "-i", "br0",
               "-p", "tcp", "--dport", str(port), "-j", "REDIRECT", "--to-ports", str(MITM_PORT))

        redirect(443, True)
        attack_check(moatd, "tls_interception", "network.tls_interception", "mitmproxy")
        redirect(443, False)
        clean_scans_check(moatd, "after tls_interception")

        # 3. The same attack, seen by moatd itself after a network change.
        redirect(443, True)
        start = time.monotonic()
        ns(NS_V, "ip", "route", "del", "default")
        ns(NS_V, "ip", "route", "add", "default", "via", GATEWAY)
        try:
            wait_for("the automatic check", lambda: "network.tls_interception"
                     in threat_ids(moatd.threats()), timeout=DETECT_LIMIT_S + 5, interval=0.2)
            elapsed = time.monotonic() - start
            timings.setdefault("automatic (network change)", []).append(elapsed)
            log(f"automatic: network.tls_interception {elapsed:.2f} s after the network changed "
                f"(of which {2.0:.1f} s is the settle delay)")
            if elapsed >= DETECT_LIMIT_S:
                fail(f"automatic detection took {elapsed:.2f} s")
        except RuntimeError as e:
            fail(str(e))
        redirect(443, False)
        clean_scans_check(moatd, "after automatic")

        # 4. SSL stripping on plain HTTP.
        redirect(80, True)
        attack_check(moatd, "ssl_strip", "network.ssl_strip")
        if "network.content_manipulation" not in threat_ids(moatd.threats()):
            fail("the injected script was not seen (network.content_manipulation)")
        redirect(80, False)
        clean_scans_check(moatd, "after ssl_strip")
        stop(mitm)

        # 5. DNS hijack: the resolver lies about the origin.
        stop(dns)
        dns = start_dns(ATTACKER)
        attack_check(moatd, "dns_hijack", "network.dns_hijack", ATTACKER)
        stop(dns)
        dns = start_dns(ORIGIN)
        clean_scans_check(moatd, "after dns_hijack")

        # 6. ARP spoofing from a host on the victim's LAN.
        spoof = spawn(NS_A, ["arpspoof", "-i", "a-r", "-t", VICTIM, GATEWAY],
                      os.path.join(tmp, "arpspoof.log"))
        wait_for("the victim's poisoned ARP entry",
                 lambda: GATEWAY in ns(NS_V, "ip", "neigh", check=False).stdout and
                 ns(NS_A, "cat", "/sys/class/net/a-r/address").stdout.strip()
                 in ns(NS_V, "ip", "neigh", "show", GATEWAY, check=False).stdout, timeout=15)
        attack_check(moatd, "arp_spoof", "network.arp_spoof")
        stop(spoof)
        # arpspoof re-ARPs the real address as it exits; the entry may also
        # just be stale: make the victim ask again.
        ns(NS_V, "ip", "neigh", "flush", "dev", "v-r")
        clean_scans_check(moatd, "after arp_spoof")

        # 7. A captive portal is not an attack.
        stop(dns)
        dns = spawn(NS_R, ["dnsmasq", "--keep-in-foreground", "--no-resolv", "--no-hosts",
                           "--conf-file=/dev/null", "--bind-interfaces",
                           f"--listen-address={GATEWAY}", "--user=root",
                           f"--pid-file={tmp}/dnsmasq.pid", f"--address=/#/{ATTACKER}"],
                    os.path.join(tmp, "dnsmasq.log"))
        wait_for("dnsmasq", lambda: listening(NS_R, 53, "u"))
        mitm = spawn(NS_R, ["mitmdump", "--mode", "transparent", "--listen-port", str(MITM_PORT),
                            "--set", f"confdir={confdir}", "-q", "-s", addon],
                     os.path.join(tmp, "mitmdump.log"), env=dict(os.environ, HOME=tmp))
        wait_for("mitmdump", lambda: listening(NS_R, MITM_PORT))
        open(os.path.join(tmp, "portal"), "w").close()
        redirect(80, True)
        findings, wall = moatd.scan()
        portal = [f for f in findings if "captive_portal" in json.dumps(f.get("evidence"))]
        log(f"captive portal: {wall:.2f} s; "
            + "; ".join(f"{f['detector']} {f['result']} {f['threat']}" for f in findings))
        if [f for f in findings if f["result"] == "threat"] or moatd.threats():
            fail(f"a captive portal raised threats: {threat_ids(moatd.threats())}")
        if not portal:
            fail("no finding says a captive portal is in the way")
        held = [f for f in findings if f["detector"] == "dns" and "captive portal" in f["summary"]]
        if not held:
            fail("the DNS answers behind the portal were not held")
        # The user signs in: the portal lets everything through.
        os.unlink(os.path.join(tmp, "portal"))
        redirect(80, False)
        stop(mitm)
        stop(dns)
        dns = start_dns(ORIGIN)
        clean_scans_check(moatd, "after the captive portal")

        # The whole story is in the store.
        expected = [(threat, action)
                    for threat in ("network.tls_interception", "network.ssl_strip",
                                   "network.content_manipulation", "network.dns_hijack",
                                   "network.arp_spoof")
                    for action in ("detected", "action-failed", "action-taken", "cleared",
                                   "action-reverted")]
        events = []

        def all_recorded():
            # The store commits in batches, off moatd's main loop.
            nonlocal events
            events = moatd.json("events", "--limit", "0", "--kind", "network.*")
            actions = {(e["threat"], e["action"]) for e in events}
            return all(pair in actions for pair in expected)

        try:
            wait_for("every event in the store", all_recorded, timeout=10, interval=0.2)
        except RuntimeError:
            actions = {(e["threat"], e["action"]) for e in events}
            for threat, action in expected:
                if (threat, action) not in actions:
                    fail(f"no {action} event for {threat}")
        log(f"{len(events)} network events in the store")

        for name, values in timings.items():
            log(f"time-to-detect {name}: median {statistics.median(values):.2f} s "
                f"(min {min(values):.2f}, max {max(values):.2f}, n={len(values)})")
        log(f"false positives: {false_positives} in {clean_scans} clean scans")
        stop(moatd.proc)
        stop(moatd.bus)
    except (RuntimeError, subprocess.CalledProcessError, OSError, json.JSONDecodeError) as e:
        detail = getattr(e, "stderr", "") or ""
        fail(f"{e} {detail}".strip())
    finally:
        if failures:
            for name in ("moatd.log", "mitmdump.log", "dnsmasq.log", "arpspoof.log"):
                path = os.path.join(tmp, name)
                if os.path.exists(path):
                    log(f"--- {name}:\n" + open(path).read()[-3000:].replace("\n", "\n# "))
        stop_all()
        shutil.rmtree(f"/etc/netns/{NS_V}", ignore_errors=True)
        shutil.rmtree(tmp, ignore_errors=True)

    if failures:
        print(f"FAIL: {len(failures)} problem(s)")
        return 1
    print("PASS")
    return 0


if __name__ == "__main__":
    sys.exit(main())
