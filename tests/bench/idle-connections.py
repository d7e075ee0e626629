#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright 2026 The Moat developers
"""How much memory moatd's proxy needs per idle keep-alive client connection.

Starts moatd (private session bus, memory GSettings, a one-line list) and a
tiny origin on 127.0.0.1, opens N client connections, sends one request on
each through the proxy and reads the response, then leaves them idle and
measures moatd's RSS: (RSS with N idle connections - RSS before) / N.
Issue 4's target: at most 2 KiB per connection (squid: about 30 KiB).
"""

import argparse
import json
import os
import resource
import selectors
import shutil
import socket
import subprocess
import tempfile
import threading
import time


def rss_kib(pid):
    total = 0
    for p in [pid] + children(pid):
        try:
            with open("/proc/%d/status" % p) as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
        except FileNotFoundError:
            pass
    return total


def children(pid):
    out = []
    try:
        with open("/proc/%d/task/%d/children" % (pid, pid)) as f:
            for c in f.read().split():
                out.append(int(c))
                out.extend(children(int(c)))
    except FileNotFoundError:
        pass
    return out


def find_moatd(pid):
    for p in [pid] + children(pid):
        try:
            with open("/proc/%d/comm" % p) as f:
                if f.read().strip() == "moatd":
                    return p
        except FileNotFoundError:
            pass
    return None


def origin_server():
    """A keep-alive origin answering every request with 2 bytes."""
    srv = socket.socket()
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", 0))
    srv.listen(1024)
    srv.setblocking(False)
    sel = selectors.DefaultSelector()
    sel.register(srv, selectors.EVENT_READ)
    bufs = {}

    def loop():
        while True:
            for key, _ in sel.select():
                s = key.fileobj
                if s is srv:
                    c, _ = srv.accept()
                    c.setblocking(False)
                    bufs[c] = b""
                    sel.register(c, selectors.EVENT_READ)
                    continue
                try:
                    data = s.recv(65536)
                except OSError:
                    data = b""
                if not data:
                    sel.unregister(s)
                    s.close()
                    bufs.pop(s, None)
                    continue
                bufs[s] += data
                while b"\r\n\r\n" in bufs[s]:
                    _, bufs[s] = bufs[s].split(b"\r\n\r\n", 1)
                    s.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")

    threading.Thread(target=loop, daemon=True).start()
    return srv.getsockname()[1]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--moatd", required=True)
    ap.add_argument("--schema-dir", required=True)
    ap.add_argument("--connections", type=int, default=10000)
    ap.add_argument("--port", type=int, default=19100)
    ap.add_argument("--json")
    args = ap.parse_args()

    need = args.connections + 2000
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard < need:
        raise SystemExit("the hard limit on open files (%d) is below %d" % (hard, need))
    resource.setrlimit(resource.RLIMIT_NOFILE, (need, hard))

    probe = socket.socket()
    try:
        probe.bind(("127.0.0.1", args.port))
    except OSError:
        raise SystemExit("port %d is taken: stop what listens there first" % args.port)
    finally:
        probe.close()

    tmp = tempfile.mkdtemp(prefix="moat-idle-")
    listfile = os.path.join(tmp, "list.txt")
    with open(listfile, "w") as f:
        f.write("blocked.example.test\n")
    origin = origin_server()
    env = dict(os.environ, GSETTINGS_SCHEMA_DIR=args.schema_dir, GSETTINGS_BACKEND="memory")
    proc = subprocess.Popen(["dbus-run-session", "--", args.moatd, "--data-dir", os.path.join(tmp, "data"), "--no-network-checks",
                             "--proxy-port", str(args.port), "--list", listfile,
                             "--allow-local-host", "localhost"],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard)))
    socks = []
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", args.port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise SystemExit("moatd's proxy did not start")
                time.sleep(0.1)
        pid = None
        deadline = time.monotonic() + 10
        while pid is None and time.monotonic() < deadline:
            pid = find_moatd(proc.pid)
            time.sleep(0.05)
        if pid is None:
            raise SystemExit("cannot find moatd's process")
        time.sleep(1.0)
        before = rss_kib(pid)

        request = ("GET http://localhost:%d/ HTTP/1.1\r\nHost: localhost:%d\r\n\r\n"
                   % (origin, origin)).encode()
        failed = 0
        for i in range(args.connections):
            s = socket.create_connection(("127.0.0.1", args.port))
            s.sendall(request)
            socks.append(s)
            if len(socks) % 500 == 0:
                for t in socks[-500:]:
                    t.settimeout(10)
                    got = b""
                    while not got.endswith(b"ok"):
                        chunk = t.recv(4096)
                        if not chunk:
                            failed += 1
                            break
                        got += chunk
        for t in socks[len(socks) - len(socks) % 500:]:
            t.settimeout(10)
            got = b""
            while not got.endswith(b"ok"):
                chunk = t.recv(4096)
                if not chunk:
                    failed += 1
                    break
                got += chunk
        time.sleep(2.0)
        after = rss_kib(pid)
        # Still alive? One more request on the first connection.
        socks[0].sendall(request)
        alive = socks[0].recv(4096).startswith(b"HTTP/1.1 200")
        result = {
            "connections": args.connections,
            "failed": failed,
            "rss_before_kib": before,
            "rss_after_kib": after,
            "kib_per_connection": round((after - before) / args.connections, 3),
            # An upper bound that does not depend on what was allocated before:
            # all of moatd (matcher, buffers, libraries) divided among them.
            "total_rss_kib_per_connection": round(after / args.connections, 3),
            "first_connection_still_served": alive,
        }
        print(json.dumps(result, indent=1))
        if args.json:
            with open(args.json, "w") as f:
                json.dump(result, f, indent=1)
    finally:
        for s in socks:
            s.close()
        # moatd first: dbus-run-session does not pass SIGTERM on.
        moatd_pid = find_moatd(proc.pid)
        if moatd_pid is not None:
            os.kill(moatd_pid, 15)
        proc.wait(timeout=30)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
