#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright 2026 The Moat developers
"""TLS interception caught by the real mitmproxy, in network namespaces.

    victim 10.201.1.2 --- 10.201.1.1 router 10.201.2.1 --- 10.201.2.2 origin

The origin serves origin.moat.test with a certificate from a test CA
(openssl s_server). The victim runs moat-probe-tool tls against it,
trusting the test CA. The router forwards; for the attack, mitmdump runs
there in transparent mode and iptables REDIRECTs the victim's port 443 to it.

Checks, in order:
  1. clean path, no mitmproxy: CLEAN, 5 runs
  2. mitmproxy intercepting: network.tls_interception with an issuer
     containing "mitmproxy", within 10 s; 3 runs, time-to-detect reported
  3. mitmproxy's CA trusted by the victim, the origin's CA pinned: still
     network.tls_interception (pin mismatch); and the trust-store check of
     that CA bundle against the old one: network.rogue_root_ca "mitmproxy"
  4. mitmproxy still running but the redirect gone: CLEAN, 5 runs
  5. the router drops port 443: INCONCLUSIVE (timed out)

Usage: moat-tls-netns-test.py PATH/TO/moat-probe-tool
Exit 77 (skip) when not root or a tool is missing.
"""

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
HOST = "origin.moat.test"
ORIGIN = "10.201.2.2"
TAG = f"moat-tls-{os.getpid()}"
NS_VICTIM, NS_ROUTER, NS_ORIGIN = f"{TAG}-v", f"{TAG}-r", f"{TAG}-o"
MITM_PORT = 8080
CLEAN_RUNS = 5
ATTACK_RUNS = 3
DETECT_LIMIT_S = 10.0


def cleanup():
    stop_all()


def wait_listening(name, port, proc, timeout=20.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"process for port {port} in {name} exited early")
        out = ns(name, "ss", "-Hltn", check=False).stdout
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
    for name, dev, addr in ((NS_VICTIM, "v-r", "10.201.1.2/24"),
                            (NS_ROUTER, "r-v", "10.201.1.1/24"),
                            (NS_ROUTER, "r-o", "10.201.2.1/24"),
                            (NS_ORIGIN, "o-r", "10.201.2.2/24")):
        ns(name, "ip", "addr", "add", addr, "dev", dev)
        ns(name, "ip", "link", "set", dev, "up")
    ns(NS_VICTIM, "ip", "route", "add", "default", "via", "10.201.1.1")
    ns(NS_ORIGIN, "ip", "route", "add", "default", "via", "10.201.2.1")
    ns(NS_ROUTER, "sysctl", "-qw", "net.ipv4.ip_forward=1")


def make_certs(tmp):
    def certtool(*args):
        run("certtool", *args)

    def template(name, text):
        path = os.path.join(tmp, name)
        with open(path, "w") as f:
            f.write(text)
        return path

    ca_key, ca = os.path.join(tmp, "ca.key"), os.path.join(tmp, "ca.pem")
    leaf_key, leaf = os.path.join(tmp, "leaf.key"), os.path.join(tmp, "leaf.pem")
    certtool("--generate-privkey", "--key-type=ecdsa", "--outfile", ca_key)
    certtool("--generate-self-signed", "--load-privkey", ca_key, "--outfile", ca,
             "--template", template("ca.tmpl", 'cn = "Moat Netns Test Root"\nca\n'
                                    'cert_signing_key\nexpiration_days = 30\n'))
    certtool("--generate-privkey", "--key-type=ecdsa", "--outfile", leaf_key)
    certtool("--generate-certificate", "--load-privkey", leaf_key,
             "--load-ca-certificate", ca, "--load-ca-privkey", ca_key,
             "--outfile", leaf,
             "--template", template("leaf.tmpl", f'cn = "{HOST}"\ndns_name = "{HOST}"\n'
                                    'tls_www_server\nsigning_key\nexpiration_days = 30\n'))
    return ca, leaf, leaf_key


def spki_pin(pem):
    pub = run("openssl", "x509", "-in", pem, "-pubkey", "-noout").stdout
    der = subprocess.run(["openssl", "pkey", "-pubin", "-outform", "der"], input=pub.encode(),
                         stdout=subprocess.PIPE, check=True).stdout
    digest = subprocess.run(["openssl", "dgst", "-sha256", "-binary"], input=der,
                            stdout=subprocess.PIPE, check=True).stdout
    import base64
    return "sha256/" + base64.b64encode(digest).decode()


def probe(tool, ca_file, pin=None, timeout=5):
    """Runs the tool in the victim namespace; returns (finding, wall seconds)."""
    target = f"{HOST}:443@{ORIGIN}" + (f"#{pin}" if pin else "")
    start = time.monotonic()
    out = ns(NS_VICTIM, tool, "tls", "--target", target, "--ca-file", ca_file,
             "--timeout", str(timeout), check=False)
    wall = time.monotonic() - start
    if out.returncode != 0:
        raise RuntimeError(f"moat-probe-tool failed ({out.returncode}): {out.stderr}")
    findings = [json.loads(line) for line in out.stdout.splitlines() if line.strip()]
    if len(findings) != 1:
        raise RuntimeError(f"expected one finding, got {out.stdout!r}")
    return findings[0], wall


def expect_clean(tool, ca, label):
    false_positives = 0
    for i in range(CLEAN_RUNS):
        finding, wall = probe(tool, ca)
        log(f"{label} run {i + 1}: {finding['result']} ({wall:.2f} s) {finding['summary']}")
        if finding["result"] != "clean":
            false_positives += 1
    return false_positives


def main():
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    tool = os.path.abspath(sys.argv[1])
    if os.geteuid() != 0:
        print("SKIP: needs root for network namespaces")
        return SKIP
    for prog in ("ip", "iptables", "mitmdump", "openssl", "certtool", "ss"):
        if shutil.which(prog) is None:
            print(f"SKIP: needs {prog}")
            return SKIP

    failures = []
    tmp = tempfile.mkdtemp(prefix="moat-tls-netns-")
    try:
        setup_network()
        ca, leaf, leaf_key = make_certs(tmp)
        origin = spawn(NS_ORIGIN, ["openssl", "s_server", "-accept", "443", "-www",
                                   "-cert", leaf, "-key", leaf_key, "-quiet"],
                       os.path.join(tmp, "origin.log"))
        wait_listening(NS_ORIGIN, 443, origin)

        # 1. Clean path, nothing in the way.
        false_positives = expect_clean(tool, ca, "clean (direct)")

        # 2. mitmproxy in the router, transparent, the victim's 443 redirected to it.
        confdir = os.path.join(tmp, "mitmproxy")
        env = dict(os.environ, HOME=tmp)
        mitm = spawn(NS_ROUTER, ["mitmdump", "--mode", "transparent",
                                 "--listen-port", str(MITM_PORT), "--ssl-insecure",
                                 "--set", f"confdir={confdir}", "-q"],
                     os.path.join(tmp, "mitmdump.log"), env=env)
        wait_listening(NS_ROUTER, MITM_PORT, mitm)
        ns(NS_ROUTER, "iptables", "-t", "nat", "-A", "PREROUTING", "-i", "r-v", "-p", "tcp",
           "--dport", "443", "-j", "REDIRECT", "--to-ports", str(MITM_PORT))

        times, probe_times = [], []
        for i in range(ATTACK_RUNS):
            finding, wall = probe(tool, ca)
            evidence = finding.get("evidence") or {}
            log(f"attack run {i + 1}: {finding['result']} {finding['threat']} "
                f"({wall:.2f} s wall, {finding['duration_us'] / 1e6:.3f} s in the probe) "
                f"issuer {evidence.get('top_issuer')!r}: {finding['summary']}")
            if finding["result"] != "threat" or finding["threat"] != "network.tls_interception":
                failures.append(f"attack run {i + 1}: no network.tls_interception: {finding}")
            elif "mitmproxy" not in evidence.get("issuer", "") + evidence.get("top_issuer", ""):
                failures.append(f"attack run {i + 1}: issuer lacks mitmproxy: {evidence}")
            elif wall >= DETECT_LIMIT_S:
                failures.append(f"attack run {i + 1}: took {wall:.2f} s")
            times.append(wall)
            probe_times.append(finding["duration_us"] / 1e6)

        # 3. The victim trusts mitmproxy's CA (a rogue root), but pins the origin's CA.
        trusting = os.path.join(tmp, "ca-and-mitmproxy.pem")
        with open(trusting, "w") as f:
            f.write(open(ca).read())
            f.write(open(os.path.join(confdir, "mitmproxy-ca-cert.pem")).read())
        finding, wall = probe(tool, trusting, pin=spki_pin(ca))
        evidence = finding.get("evidence") or {}
        log(f"pinned run: {finding['result']} {finding['threat']} reason "
            f"{evidence.get('reason')!r} ({wall:.2f} s): {finding['summary']}")
        if finding["threat"] != "network.tls_interception" or evidence.get("reason") != "pin-mismatch":
            failures.append(f"pinned run: expected a pin mismatch: {finding}")
        finding, wall = probe(tool, trusting)
        log(f"unpinned run with mitmproxy's CA trusted: {finding['result']} (expected clean: "
            "without a pin only the rogue root CA check sees this)")
        if finding["result"] != "clean":
            failures.append(f"unpinned trusted run: {finding}")

        # The rogue root CA check sees the same change in the victim's store.
        baseline = os.path.join(tmp, "baseline")
        ns(NS_VICTIM, tool, "trust-store", "--path", ca, "--save", baseline)
        out = ns(NS_VICTIM, tool, "trust-store", "--path", trusting, "--baseline", baseline)
        findings = [json.loads(line) for line in out.stdout.splitlines() if line.strip()]
        log("trust store with mitmproxy's CA added: "
            + "; ".join(f"{f['result']} {f['threat']} {f['subject']!r}" for f in findings))
        if [(f["threat"], f["subject"]) for f in findings] != [("network.rogue_root_ca", "mitmproxy")]:
            failures.append(f"trust store: expected one rogue_root_ca for mitmproxy: {findings}")

        # 4. Redirect gone, mitmproxy still up: clean again.
        ns(NS_ROUTER, "iptables", "-t", "nat", "-F", "PREROUTING")
        false_positives += expect_clean(tool, ca, "clean (redirect removed)")
        stop(mitm)

        # 5. A router that drops the victim's 443: inconclusive when the time is up.
        ns(NS_ROUTER, "iptables", "-A", "FORWARD", "-i", "r-v", "-p", "tcp", "--dport", "443",
           "-j", "DROP")
        finding, wall = probe(tool, ca, timeout=1)
        log(f"dropped: {finding['result']} ({wall:.2f} s): {finding['summary']}")
        if finding["result"] != "inconclusive" or "timed out" not in finding["summary"]:
            failures.append(f"dropped run: expected inconclusive, timed out: {finding}")

        log(f"time-to-detect (wall, tool start to exit): min {min(times):.2f} s, "
            f"median {statistics.median(times):.2f} s, max {max(times):.2f} s")
        log(f"time-to-detect (in the probe): min {min(probe_times):.3f} s, "
            f"median {statistics.median(probe_times):.3f} s, max {max(probe_times):.3f} s")
        log(f"false positives: {false_positives} of {2 * CLEAN_RUNS} clean runs")
        if false_positives:
            failures.append(f"{false_positives} false positives")
    except (RuntimeError, subprocess.CalledProcessError, OSError) as e:
        detail = getattr(e, "stderr", "") or ""
        failures.append(f"{e} {detail}".strip())
        for name in ("origin.log", "mitmdump.log"):
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
