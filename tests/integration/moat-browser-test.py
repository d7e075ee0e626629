#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright 2026 The Moat developers
"""Headless Chromium through moatd's proxy.

moatd (this build tree) runs on a private session bus with a one-line block
list; a local origin on 127.0.0.1 serves a page with an allowed and a
blocked sub-resource. Chromium loads it through the proxy (--proxy-server,
with loopback not bypassed): the allowed image loads, the blocked one fails,
and a blocked main frame shows Moat's block page with the rule. Both blocks
are events in the store with their list and rule. Prints TAP.
"""

import http.server
import json
import os
import shutil
import socketserver
import subprocess
import sys
import tempfile
import threading
import time

BUILD = os.environ.get("MOAT_BUILD_ROOT", "")
MOATD = os.path.join(BUILD, "src", "daemon", "moatd")
MOATCTL = os.path.join(BUILD, "src", "cli", "moatctl")
BLOCKED = "blocked.example.test"

PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360f8cfc0f01f0005000201e2a1"
    "f2a10000000049454e44ae426082")

PAGE = """<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>pending</title></head><body>
<p id="state">pending</p>
<script>
var results = {};
function done(name, ok) {
  results[name] = ok ? "loaded" : "failed";
  if (Object.keys(results).length == 3)
    document.getElementById("state").textContent =
      JSON.stringify({allowed: results.allowed, blocked: results.blocked, path: results.path});
}
</script>
<img src="http://localhost:%(port)d/allowed.png" onload="done('allowed', true)" onerror="done('allowed', false)">
<img src="http://%(blocked)s:%(port)d/ad.png" onload="done('blocked', true)" onerror="done('blocked', false)">
<img src="http://localhost:%(port)d/ads/banner.png" onload="done('path', true)" onerror="done('path', false)">
</body></html>
"""

results = []


def tap(ok, name, detail=""):
    results.append(ok)
    print("%s %d - %s" % ("ok" if ok else "not ok", len(results), name))
    if detail and not ok:
        for line in str(detail).splitlines()[:40]:
            print("# " + line)
    sys.stdout.flush()


class Origin(http.server.BaseHTTPRequestHandler):
    seen = []

    def log_message(self, *args):
        pass

    def do_GET(self):
        Origin.seen.append((self.headers.get("Host"), self.path))
        if self.path == "/page.html":
            body = (PAGE % {"port": self.server.server_address[1], "blocked": BLOCKED}).encode()
            ctype = "text/html; charset=utf-8"
        elif self.path.endswith(".png"):
            body, ctype = PNG, "image/png"
        else:
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(body)


def chromium_binary():
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    return None


def dump_dom(chromium, proxy, url, profile):
    cmd = [chromium, "--headless=new", "--no-sandbox", "--disable-gpu",
           "--no-first-run", "--disable-extensions", "--disable-sync",
           "--user-data-dir=" + profile,
           "--proxy-server=http://" + proxy,
           "--proxy-bypass-list=<-loopback>",
           "--virtual-time-budget=5000", "--dump-dom", url]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=90)
    return out.stdout, out.stderr


def moatctl(*args):
    out = subprocess.run([MOATCTL, *args], capture_output=True, text=True, timeout=60)
    return out.returncode, out.stdout, out.stderr


def main():
    chromium = chromium_binary()
    if not os.path.exists(MOATD):
        print("1..0 # SKIP moatd is not built (run through meson test)")
        return 0
    if chromium is None:
        print("1..0 # SKIP Chromium is not installed (apt-get install chromium)")
        return 0
    if "DBUS_SESSION_BUS_ADDRESS" not in os.environ:
        print("1..0 # SKIP no session bus (meson runs this under dbus-run-session)")
        return 0

    tmp = tempfile.mkdtemp(prefix="moat-browser-test-")
    os.environ["GSETTINGS_BACKEND"] = "memory"
    os.environ.pop("MOAT_DBUS_ADDRESS", None)
    for var in ("XDG_DATA_HOME", "XDG_CONFIG_HOME", "XDG_CACHE_HOME"):
        os.environ[var] = os.path.join(tmp, var.lower())
    listfile = os.path.join(tmp, "list.txt")
    with open(listfile, "w") as f:
        # A host rule and a URL rule (plain HTTP is matched by its whole URL).
        f.write("[Adblock Plus 2.0]\n||%s^\n/ads/banner.png\n" % BLOCKED)

    socketserver.TCPServer.allow_reuse_address = True
    origin = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Origin)
    port = origin.server_address[1]
    threading.Thread(target=origin.serve_forever, daemon=True).start()

    moatd = subprocess.Popen([MOATD, "--data-dir", os.path.join(tmp, "data"), "--no-network-checks",
                              "--proxy-port", "0", "--list", listfile,
                              "--allow-local-host", "localhost"],
                             stdout=subprocess.DEVNULL, stderr=open(os.path.join(tmp, "moatd.log"), "w"))
    try:
        proxy = ""
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not proxy:
            code, out, _ = moatctl("--json", "status")
            if code == 0:
                proxy = json.loads(out).get("proxy_address") or ""
            if not proxy:
                time.sleep(0.2)
        print("1..6")
        tap(bool(proxy), "moatd's proxy runs", "no proxy address")
        if not proxy:
            return 1

        dom, err = dump_dom(chromium, proxy, "http://localhost:%d/page.html" % port,
                            os.path.join(tmp, "profile1"))
        tap('{"allowed":"loaded","blocked":"failed","path":"failed"}' in dom.replace("&quot;", '"'),
            "the allowed image loads; the blocked host and the blocked URL do not", dom + err)
        tap(not any(host.startswith(BLOCKED) or path.startswith("/ads/") for host, path in Origin.seen),
            "neither blocked request reached the origin", Origin.seen)

        dom, err = dump_dom(chromium, proxy, "http://%s:%d/page.html" % (BLOCKED, port),
                            os.path.join(tmp, "profile2"))
        tap(BLOCKED in dom and "list.txt" in dom and "Allow once" in dom.replace("\u00a0", " "),
            "a blocked main frame shows the block page with the host, list and actions",
            dom[:3000] + err)

        # Both blocks are events with the rule that decided.
        events = []
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            code, out, _ = moatctl("--json", "events", "--source", "proxy", "--limit", "0")
            events = json.loads(out) if code == 0 else []
            if len(events) >= 3:
                break
            time.sleep(0.3)
        details = [json.loads(e["detail"]) if isinstance(e["detail"], str) else e["detail"]
                   for e in events]
        rules = sorted((e["subject"], d.get("rule"), d.get("line")) for e, d in zip(events, details))
        tap(len(events) >= 3 and all(e["action"] == "blocked" for e in events)
            and ("localhost", "/ads/banner.png", 3) in rules
            and (BLOCKED, "||%s^" % BLOCKED, 2) in rules
            and all(r in (("localhost", "/ads/banner.png", 3), (BLOCKED, "||%s^" % BLOCKED, 2)) for r in rules),
            "each block is an event naming the list's rule and line", json.dumps(events, indent=1))
        # Allowed traffic is counted, never recorded.
        code, out, _ = moatctl("--json", "status")
        status = json.loads(out) if code == 0 else {}
        tap((status.get("proxy_requests") or 0) >= 4 and (status.get("proxy_blocked") or 0) >= 3,
            "moatctl status counts the proxy's requests and blocks", out)
    finally:
        moatd.terminate()
        try:
            moatd.wait(timeout=30)
        except subprocess.TimeoutExpired:
            moatd.kill()
        origin.shutdown()
        shutil.rmtree(tmp, ignore_errors=True)
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())
