#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright 2026 The Moat developers
"""Strict-input conformance suite for any HTTP/1.1 forward proxy.

Sends hostile and malformed requests over raw sockets and checks, for each
case: the status the proxy answers (the one Moat must give), that the origin
behind the proxy never received what it must not (a smuggled second request,
a request that should have been refused), and that a normal GET on a fresh
connection still works afterwards. Standard library only.

The origin is a thread in this process on 127.0.0.1 that records every byte
it receives (unless --origin-port names an origin of yours; then what reached
the origin cannot be checked). --allowed-host must resolve to 127.0.0.1 for
the proxy and be allowed by it; --blocked-host must resolve there too and be
blocked by the proxy's list.

  proxy-conformance.py --proxy 127.0.0.1:3128 --allowed-host localhost \\
      --blocked-host blocked.example.test [--pid PID] [--json] [--only NAME]

Exit status 0 only when every case passed.
"""

import argparse
import json
import os
import resource
import select
import socket
import sys
import threading
import time

READ_TIMEOUT = 5.0     # the follow-up GET and other exchanges
CASE_TIMEOUT = 2.0     # a hostile request: a strict proxy answers at once


# ---------------------------------------------------------------- the origin

class Origin:
    """A minimal HTTP/1.1 origin: answers 200 with a short body to every
    request it can frame, keeps connections alive, and records every byte."""

    def __init__(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(256)
        self.port = self.sock.getsockname()[1]
        self.lock = threading.Lock()
        self.received = []          # one bytearray per connection
        self.bodies = []            # request bodies it framed
        self.running = True
        threading.Thread(target=self._accept_loop, daemon=True).start()

    def _accept_loop(self):
        while self.running:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn):
        buf = bytearray()
        with self.lock:
            self.received.append(buf)
        conn.settimeout(30)
        pending = b""
        try:
            while True:
                data = conn.recv(65536)
                if not data:
                    break
                with self.lock:
                    buf.extend(data)
                pending += data
                while True:
                    consumed, body = self._frame(pending)
                    if consumed is None:
                        break
                    pending = pending[consumed:]
                    with self.lock:
                        self.bodies.append(body)
                    payload = b"origin ok\n"
                    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
                                 b"Content-Length: %d\r\n\r\n%s" % (len(payload), payload))
        except OSError:
            pass
        finally:
            conn.close()

    @staticmethod
    def _frame(data):
        """(bytes used, body) of the first complete request, or (None, None)."""
        end = data.find(b"\r\n\r\n")
        if end < 0:
            return None, None
        head = data[:end].decode("latin-1").split("\r\n")
        length, chunked = 0, False
        for line in head[1:]:
            name, _, value = line.partition(":")
            name = name.strip().lower()
            if name == "content-length":
                try:
                    length = int(value.strip())
                except ValueError:
                    length = 0
            elif name == "transfer-encoding" and "chunked" in value.lower():
                chunked = True
        pos = end + 4
        if not chunked:
            if len(data) - pos < length:
                return None, None
            return pos + length, data[pos:pos + length]
        body = b""
        while True:
            eol = data.find(b"\r\n", pos)
            if eol < 0:
                return None, None
            size_text = data[pos:eol].split(b";")[0].strip()
            try:
                size = int(size_text, 16)
            except ValueError:
                return len(data), body
            pos = eol + 2
            if size == 0:
                trailer_end = data.find(b"\r\n", pos)
                while trailer_end >= 0 and trailer_end != pos:
                    pos = trailer_end + 2
                    trailer_end = data.find(b"\r\n", pos)
                if trailer_end < 0:
                    return None, None
                return trailer_end + 2, body
            if len(data) < pos + size + 2:
                return None, None
            body += data[pos:pos + size]
            pos += size + 2

    def seen(self, marker):
        with self.lock:
            return any(marker in bytes(b) for b in self.received)

    def body_seen(self, body):
        with self.lock:
            return body in self.bodies


# ------------------------------------------------------------ the client side

class Response:
    def __init__(self, status=None, head=b"", body=b"", closed=False, timed_out=False,
                 elapsed=0.0, error=None):
        self.status = status
        self.head = head
        self.body = body
        self.closed = closed
        self.timed_out = timed_out
        self.elapsed = elapsed
        self.error = error

    def describe(self):
        if self.status is not None:
            return str(self.status)
        if self.error:
            return "error (%s)" % self.error
        if self.timed_out:
            return "no answer within %.0f s" % self.elapsed
        return "closed without a response"


def connect(proxy, timeout=READ_TIMEOUT):
    s = socket.create_connection(proxy, timeout=timeout)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s


def read_response(s, timeout=READ_TIMEOUT):
    """Reads one response head (and as much body as Content-Length says)."""
    start = time.monotonic()
    data = b""
    deadline = start + timeout
    while b"\r\n\r\n" not in data:
        left = deadline - time.monotonic()
        if left <= 0:
            return Response(head=data, timed_out=True, elapsed=time.monotonic() - start)
        s.settimeout(left)
        try:
            chunk = s.recv(65536)
        except socket.timeout:
            return Response(head=data, timed_out=True, elapsed=time.monotonic() - start)
        except OSError as e:
            return Response(head=data, error=e.strerror or str(e), closed=True,
                            elapsed=time.monotonic() - start)
        if not chunk:
            return Response(head=data, closed=True, elapsed=time.monotonic() - start)
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    status = None
    first = head.split(b"\r\n", 1)[0]
    parts = first.split(b" ")
    if len(parts) >= 2 and parts[0].startswith(b"HTTP/") and parts[1].isdigit():
        status = int(parts[1])
    length = None
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            try:
                length = int(value.strip())
            except ValueError:
                pass
    if length is not None:
        while len(body) < length and time.monotonic() < deadline:
            s.settimeout(max(0.05, deadline - time.monotonic()))
            try:
                chunk = s.recv(65536)
            except OSError:
                break
            if not chunk:
                break
            body += chunk
    return Response(status=status, head=head, body=body, elapsed=time.monotonic() - start)


def exchange(proxy, payload, timeout=READ_TIMEOUT, pause_after=None):
    """Fresh connection, send @payload (bytes or a list of pieces), read one response."""
    try:
        s = connect(proxy)
    except OSError as e:
        return Response(error="connect: %s" % (e.strerror or e))
    try:
        pieces = payload if isinstance(payload, list) else [payload]
        for piece in pieces:
            try:
                s.sendall(piece)
            except OSError:
                break  # the proxy may answer and close before reading it all
            if pause_after:
                time.sleep(pause_after)
        return read_response(s, timeout)
    finally:
        s.close()


# ------------------------------------------------------------------ the suite

class Suite:
    def __init__(self, args):
        host, _, port = args.proxy.rpartition(":")
        self.proxy = (host or "127.0.0.1", int(port))
        self.allowed = args.allowed_host
        self.blocked = args.blocked_host
        self.origin = None
        if args.origin_port:
            self.origin_port = args.origin_port
        else:
            self.origin = Origin()
            self.origin_port = self.origin.port
        self.tls_port = args.tls_origin_port or 443
        self.local_alias = args.local_alias or self._find_local_alias()
        self.pid = args.pid or find_listener_pid(self.proxy[1])
        self.results = []
        self.counter = 0

    def _find_local_alias(self):
        for name in ("localhost", "ip6-localhost", "ip6-loopback", "localhost.localdomain",
                     "runsc", "vm"):
            if name == self.allowed:
                continue
            try:
                addrs = {a[4][0] for a in socket.getaddrinfo(name, None)}
            except OSError:
                continue
            if any(a.startswith("127.") or a == "::1" for a in addrs):
                return name
        return "localhost"

    # helpers
    def hp(self, host=None, port=None):
        return "%s:%d" % (host or self.allowed, port or self.origin_port)

    def url(self, path, host=None):
        return "http://%s%s" % (self.hp(host), path)

    def get(self, path, host=None, extra="", version="HTTP/1.1"):
        return ("GET %s %s\r\nHost: %s\r\n%s\r\n"
                % (self.url(path, host), version, self.hp(host), extra)).encode()

    def normal_get_works(self):
        self.counter += 1
        marker = "/ok/%d-%d" % (os.getpid(), self.counter)
        r = exchange(self.proxy, self.get(marker, extra="Connection: close\r\n"))
        if r.status != 200:
            return False, "follow-up GET got %s" % r.describe()
        if self.origin and not self.origin.seen(marker.encode()):
            return False, "follow-up GET answered 200 but never reached the origin"
        return True, ""

    def record(self, name, expected, got, ok, detail=""):
        self.results.append({"name": name, "expected": expected, "got": got,
                             "pass": ok, "detail": detail})

    def origin_check(self, markers, settle=0.3):
        """Markers the origin must not have seen; returns a failure text or ''."""
        if not self.origin or not markers:
            return ""
        time.sleep(settle)
        for m in markers:
            if self.origin.seen(m.encode()):
                return "origin received %s" % m
        return ""

    def run_case(self, name, payload, expected, forbidden=(), must_see=(), check=None,
                 pause_after=None, follow_up=True):
        r = exchange(self.proxy, payload, timeout=CASE_TIMEOUT, pause_after=pause_after)
        ok = r.status in expected
        detail = []
        if not ok and r.status is None:
            detail.append(r.describe())
        bad = self.origin_check(forbidden)
        if bad:
            ok = False
            detail.append(bad)
        if self.origin:
            for m in must_see:
                if not self.origin.seen(m.encode()) and not self.origin.body_seen(m.encode()):
                    ok = False
                    detail.append("origin never received %s" % m)
        if check:
            msg = check(r)
            if msg:
                ok = False
                detail.append(msg)
        if follow_up:
            works, why = self.normal_get_works()
            if not works:
                ok = False
                detail.append(why)
        self.record(name, "|".join(str(e) for e in sorted(expected)), r.describe(), ok,
                    "; ".join(detail))

    # ---- the cases
    def cases(self):
        a, b = self.allowed, self.blocked
        u = self.url
        hp = self.hp
        post = "POST %s HTTP/1.1\r\nHost: %s\r\n" % (u("/c/%s"), hp())
        smuggled = lambda n: ("GET %s HTTP/1.1\r\nHost: %s\r\n\r\n"
                              % (u("/smuggled/" + n), hp())).encode()
        C = []

        def case(name, payload, expected, **kw):
            C.append((name, payload, expected, kw))

        def post_case(name, fields, body, expected, forbid_request=True, **kw):
            head = (post % name) + fields + "\r\n"
            forbidden = ["/smuggled/" + name]
            if forbid_request:
                forbidden.append("/c/" + name)
            case(name, head.encode() + body, expected, forbidden=forbidden, **kw)

        case("get-ok", self.get("/c/get-ok"), {200}, must_see=["/c/get-ok"])
        case("blocked-get", self.get("/c/blocked-get", host=b), {403},
             forbidden=["/c/blocked-get"])

        # request smuggling: framing
        post_case("cl-te", "Content-Length: 6\r\nTransfer-Encoding: chunked\r\n",
                  b"0\r\n\r\n" + smuggled("cl-te"), {400})
        post_case("te-cl", "Transfer-Encoding: chunked\r\nContent-Length: 6\r\n",
                  b"0\r\n\r\n" + smuggled("te-cl"), {400})
        sm = smuggled("cl-duplicate")
        post_case("cl-duplicate", "Content-Length: 0\r\nContent-Length: %d\r\n" % len(sm),
                  sm, {400})
        post_case("cl-plus", "Content-Length: +3\r\n", b"abc" + smuggled("cl-plus"), {400})
        post_case("cl-minus", "Content-Length: -1\r\n", smuggled("cl-minus"), {400})
        post_case("cl-space", "Content-Length: 1 3\r\n", b"a" + smuggled("cl-space"), {400})
        post_case("cl-list", "Content-Length: 3, 3\r\n", b"abc" + smuggled("cl-list"), {400})
        post_case("cl-huge", "Content-Length: 184467440737095516170\r\n",
                  b"abc" + smuggled("cl-huge"), {400})
        post_case("te-unknown", "Transfer-Encoding: xchunked\r\n",
                  b"0\r\n\r\n" + smuggled("te-unknown"), {501})
        post_case("te-not-final", "Transfer-Encoding: chunked, identity\r\n",
                  b"0\r\n\r\n" + smuggled("te-not-final"), {400})
        case("te-http10",
             ("POST %s HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n" % u("/c/te-http10")).encode()
             + b"0\r\n\r\n" + smuggled("te-http10"), {400},
             forbidden=["/c/te-http10", "/smuggled/te-http10"])

        # chunked bodies: the head is fine, the body is not (the head may reach the origin)
        post_case("chunk-size-overflow", "Transfer-Encoding: chunked\r\n",
                  b"10000000000000000\r\n\r\n0\r\n\r\n" + smuggled("chunk-size-overflow"), {400},
                  forbid_request=False)
        post_case("chunk-bare-lf", "Transfer-Encoding: chunked\r\n",
                  b"3\nabc\n0\n\n" + smuggled("chunk-bare-lf"), {400}, forbid_request=False)
        post_case("chunk-ext-ok", "Transfer-Encoding: chunked\r\n",
                  b"5;name=value;q=\"a b\"\r\nhello\r\n0\r\n\r\n", {200}, forbid_request=False,
                  must_see=["/c/chunk-ext-ok", "hello"])
        post_case("chunk-ext-bare-cr", "Transfer-Encoding: chunked\r\n",
                  b"5;a\rb\r\nhello\r\n0\r\n\r\n" + smuggled("chunk-ext-bare-cr"), {400},
                  forbid_request=False)
        post_case("chunk-ext-bare-lf", "Transfer-Encoding: chunked\r\n",
                  b"5;a\nb\r\nhello\r\n0\r\n\r\n" + smuggled("chunk-ext-bare-lf"), {400},
                  forbid_request=False)

        # Connection naming Host or framing fields
        case("connection-host", self.get("/c/connection-host", extra="Connection: host\r\n"),
             {400}, forbidden=["/c/connection-host"])
        post_case("connection-content-length",
                  "Content-Length: 3\r\nConnection: content-length\r\n",
                  b"abc" + smuggled("connection-content-length"), {400})
        post_case("connection-transfer-encoding",
                  "Transfer-Encoding: chunked\r\nConnection: close, Transfer-Encoding\r\n",
                  b"0\r\n\r\n" + smuggled("connection-transfer-encoding"), {400})

        # syntax
        case("obs-fold", self.get("/c/obs-fold", extra="X-Folded: a\r\n b\r\n"), {400},
             forbidden=["/c/obs-fold"])
        case("space-before-colon",
             ("GET %s HTTP/1.1\r\nHost : %s\r\n\r\n" % (u("/c/space-before-colon"), hp())).encode(),
             {400}, forbidden=["/c/space-before-colon"])
        case("nul-in-value", self.get("/c/nul-in-value", extra="X-A: a\0b\r\n"), {400},
             forbidden=["/c/nul-in-value"])
        case("cr-in-value", self.get("/c/cr-in-value", extra="X-A: a\rX-Injected: 1\r\n"),
             {400}, forbidden=["/c/cr-in-value"])
        case("bare-lf", self.get("/c/bare-lf").replace(b"\r\n", b"\n"), {400},
             forbidden=["/c/bare-lf"])
        case("missing-host",
             ("GET %s HTTP/1.1\r\n\r\n" % u("/c/missing-host")).encode(), {400},
             forbidden=["/c/missing-host"])
        case("bad-method", self.get("/c/bad-method").replace(b"GET", b"G(T", 1), {400},
             forbidden=["/c/bad-method"])
        case("http2-request-line", self.get("/c/http2", version="HTTP/2.0"), {505},
             forbidden=["/c/http2"])
        case("http09-request-line", self.get("/c/http09", version="HTTP/0.9"), {505},
             forbidden=["/c/http09"])
        case("http09-no-version", ("GET %s\r\n\r\n" % u("/c/http09-bare")).encode(), {400, 505},
             forbidden=["/c/http09-bare"])

        # limits
        case("long-request-line", self.get("/c/long-request-line/" + "a" * 9000), {414},
             forbidden=["/c/long-request-line"])
        case("big-head", self.get("/c/big-head", extra="".join(
            "X-Pad-%d: %s\r\n" % (i, "p" * 1000) for i in range(70))), {431},
             forbidden=["/c/big-head"])
        case("101-fields", self.get("/c/101-fields", extra="".join(
            "X-F%d: v\r\n" % i for i in range(100))), {431}, forbidden=["/c/101-fields"])

        case("upgrade-websocket", self.get("/c/upgrade", extra=(
            "Connection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\n"
            "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n")), {501}, forbidden=["/c/upgrade"])

        # authority tricks
        case("host-mismatch",
             ("GET %s HTTP/1.1\r\nHost: %s\r\n\r\n" % (u("/c/host-mismatch"), hp(b))).encode(),
             {400}, forbidden=["/c/host-mismatch"])
        case("host-mismatch-blocked",
             ("GET %s HTTP/1.1\r\nHost: %s\r\n\r\n" % (u("/c/host-mismatch-b", b), hp())).encode(),
             {400, 403}, forbidden=["/c/host-mismatch-b"])
        case("userinfo-blocked",
             ("GET http://%s@%s/c/userinfo HTTP/1.1\r\nHost: %s\r\n\r\n"
              % (a, hp(b), hp(b))).encode(), {400, 403}, forbidden=["/c/userinfo"])
        case("fragment-trick",
             ("GET http://%s#@%s/c/fragment HTTP/1.1\r\nHost: %s\r\n\r\n"
              % (hp(b), hp(a), hp(b))).encode(), {400, 403}, forbidden=["/c/fragment"])
        pct = b.replace("o", "%6f", 1) if "o" in b else "%" + "%02x" % ord(b[0]) + b[1:]
        case("percent-encoded-blocked",
             ("GET http://%s/c/percent HTTP/1.1\r\nHost: %s\r\n\r\n"
              % (hp(pct), hp(pct))).encode(), {400, 403}, forbidden=["/c/percent"])

        def no_injected_header(r):
            if b"x-injected" in r.head.lower():
                return "the response head carries the injected header"
            return ""
        case("crlf-in-blocked-url",
             ("GET http://%s/c/crlf%%0d%%0aX-Injected:%%20yes%%0d%%0a HTTP/1.1\r\nHost: %s\r\n\r\n"
              % (hp(b), hp(b))).encode(), {403}, forbidden=["/c/crlf"], check=no_injected_header)

        # CONNECT to this machine in every spelling, and to bad ports
        for label, target in (("127.0.0.1", "127.0.0.1"), ("0x7f.1", "0x7f.1"),
                              ("2130706433", "2130706433"), ("0177.0.0.1", "0177.0.0.1"),
                              ("ipv6-loopback", "[::1]"), ("ipv4-mapped", "[::ffff:127.0.0.1]"),
                              ("other-local-name", self.local_alias)):
            t = "%s:%d" % (target, self.tls_port)
            case("connect-" + label, ("CONNECT %s HTTP/1.1\r\nHost: %s\r\n\r\n" % (t, t)).encode(),
                 {403})
        case("connect-port-70000",
             ("CONNECT %s:70000 HTTP/1.1\r\nHost: %s:70000\r\n\r\n" % (a, a)).encode(), {400})
        case("connect-port-0",
             ("CONNECT %s:0 HTTP/1.1\r\nHost: %s:0\r\n\r\n" % (a, a)).encode(), {400})
        case("connect-port-22",
             ("CONNECT %s:22 HTTP/1.1\r\nHost: %s:22\r\n\r\n" % (a, a)).encode(), {403})
        return C

    def run(self, only=None):
        for name, payload, expected, kw in self.cases():
            if only and name != only:
                continue
            self.run_case(name, payload, expected, **kw)
        for name, func in (("loop-to-proxy", self.case_loop),
                           ("own-endpoint-wrong-host", self.case_own_endpoint),
                           ("slowloris-1000", self.case_slowloris),
                           ("fd-exhaustion", self.case_fd_exhaustion)):
            if only and name != only:
                continue
            func(name)
        return self.results

    # ---- cases that need more than one exchange
    def case_loop(self, name):
        host = "%s:%d" % self.proxy
        payload = ("GET http://%s/c/loop HTTP/1.1\r\nHost: %s\r\n\r\n" % (host, host)).encode()
        r = exchange(self.proxy, payload, timeout=10)
        ok = r.status is not None and 400 <= r.status <= 599 and r.elapsed < 5
        detail = "" if ok else ("answered after %.1f s" % r.elapsed if r.status else r.describe())
        works, why = self.normal_get_works()
        if not works:
            ok = False
            detail = (detail + "; " if detail else "") + why
        self.record(name, "4xx|5xx within 5 s", r.describe(), ok, detail)

    def case_own_endpoint(self, name):
        # An origin-form request is for the proxy itself; with a foreign Host it
        # must neither be served nor forwarded there (no transparent proxying).
        # (localhost is the proxy's own name: use another one of this machine then)
        host = self.allowed
        if host in ("localhost", "127.0.0.1", "[::1]"):
            host = self.local_alias
        payload = ("GET /c/own-endpoint HTTP/1.1\r\nHost: %s\r\n\r\n" % self.hp(host)).encode()
        self.run_case(name, payload, {421}, forbidden=["/c/own-endpoint"])

    def case_slowloris(self, name, count=1000):
        raise_nofile(count + 200)
        socks = []
        detail = ""
        try:
            for _ in range(count):
                try:
                    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                    s.setblocking(False)
                    s.connect_ex(self.proxy)
                    socks.append(s)
                except OSError as e:
                    detail = "opened only %d sockets (%s)" % (len(socks), e.strerror)
                    break
            time.sleep(0.5)
            first = ("GET %s HTTP/1.1\r\nHost: " % self.url("/c/slowloris")).encode()
            for piece in (first, b"a", b"l"):
                for s in socks:
                    try:
                        s.send(piece)
                    except OSError:
                        pass
                time.sleep(0.5)
            start = time.monotonic()
            works, why = self.normal_get_works()
            elapsed = time.monotonic() - start
            ok = works
            got = "200 in %.2f s" % elapsed if works else why
            self.record(name, "200 while %d slow sockets are open" % count, got, ok, detail)
        finally:
            for s in socks:
                s.close()

    def case_fd_exhaustion(self, name):
        limit = proxy_nofile(self.pid) if self.pid else None
        want = min((limit or 4096) + 300, 20000)
        have = raise_nofile(want + 100)
        want = min(want, have - 100)
        socks = []
        refused = 0
        for _ in range(want):
            try:
                s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                s.settimeout(0.25)
                s.connect(self.proxy)
                socks.append(s)
            except OSError:
                refused += 1
                s.close()
                if refused > 10:
                    break
        cpu_detail = ""
        ok = True
        try:
            # give a proxy that spins on EMFILE time to show it
            cpu = proxy_cpu_seconds(self.pid) if self.pid else None
            time.sleep(3)
            if cpu is not None:
                used = proxy_cpu_seconds(self.pid) - cpu
                cpu_detail = "proxy CPU %.0f %% of a core while saturated" % (used / 3 * 100)
                if used / 3 > 0.5:
                    ok = False
        finally:
            for s in socks:
                s.close()
        time.sleep(1)
        works, why = self.normal_get_works()
        if not works:
            ok = False
        got = ("answers again after %d connections were closed" % len(socks)) if works else why
        detail = "held %d connections, %d refused or timed out, proxy fd limit %s; %s" % (
            len(socks), refused, limit if limit else "unknown",
            cpu_detail if self.pid else "no --pid: CPU not measured")
        self.record(name, "answers again, no busy loop", got, ok, detail)


def raise_nofile(want):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < want:
        target = want if hard == resource.RLIM_INFINITY else min(want, hard)
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        except (ValueError, OSError):
            pass
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def find_listener_pid(port):
    """The pid owning the socket listening on 127.0.0.1:@port (needs root for other users)."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(table) as f:
                next(f)
                for line in f:
                    fields = line.split()
                    if fields[3] == "0A" and int(fields[1].split(":")[1], 16) == port:
                        inodes.add(fields[9])
        except OSError:
            continue
    if not inodes:
        return None
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            for fd in os.listdir("/proc/%s/fd" % pid):
                link = os.readlink("/proc/%s/fd/%s" % (pid, fd))
                if link.startswith("socket:[") and link[8:-1] in inodes:
                    return int(pid)
        except OSError:
            continue
    return None


def proxy_nofile(pid):
    try:
        with open("/proc/%d/limits" % pid) as f:
            for line in f:
                if line.startswith("Max open files"):
                    return int(line.split()[3])
    except (OSError, ValueError):
        pass
    return None


def proxy_cpu_seconds(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        ticks = os.sysconf("SC_CLK_TCK")
        return (int(fields[11]) + int(fields[12])) / ticks
    except (OSError, ValueError, IndexError):
        return None


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--proxy", required=True, help="HOST:PORT of the proxy under test")
    p.add_argument("--allowed-host", required=True,
                   help="a name the proxy allows that resolves to 127.0.0.1")
    p.add_argument("--blocked-host", required=True,
                   help="a name the proxy blocks that resolves to 127.0.0.1")
    p.add_argument("--origin-port", type=int, help="use this origin instead of our own")
    p.add_argument("--tls-origin-port", type=int,
                   help="port for the CONNECT cases (default 443, the usual allow-listed one)")
    p.add_argument("--local-alias", help="another name of this machine the proxy must refuse")
    p.add_argument("--pid", type=int, help="the proxy's pid, to measure its CPU")
    p.add_argument("--only", help="run one case")
    p.add_argument("--json", action="store_true", help="print the results as JSON")
    p.add_argument("--list", action="store_true", help="list the case names and exit")
    args = p.parse_args()

    if args.list:
        suite = Suite(args)
        for case in suite.cases():
            print(case[0])
        for name in ("loop-to-proxy", "own-endpoint-wrong-host", "slowloris-1000",
                     "fd-exhaustion"):
            print(name)
        return 0

    suite = Suite(args)
    try:
        connect(suite.proxy, timeout=2).close()
    except OSError as e:
        print("cannot connect to the proxy at %s: %s" % (args.proxy, e.strerror or e),
              file=sys.stderr)
        return 2
    started = time.monotonic()
    results = suite.run(args.only)
    passed = sum(1 for r in results if r["pass"])
    if args.json:
        json.dump({"proxy": args.proxy, "passed": passed, "total": len(results),
                   "seconds": round(time.monotonic() - started, 1), "cases": results},
                  sys.stdout, indent=2)
        print()
    else:
        for r in results:
            line = "%s %s: expected %s, got %s" % ("PASS" if r["pass"] else "FAIL", r["name"],
                                                   r["expected"], r["got"])
            if r["detail"]:
                line += " (%s)" % r["detail"]
            print(line)
        print("%d of %d passed (%.0f s)" % (passed, len(results), time.monotonic() - started))
    if args.only and not results:
        print("no case named %s" % args.only, file=sys.stderr)
        return 2
    return 0 if results and passed == len(results) else 1


if __name__ == "__main__":
    sys.exit(main())
