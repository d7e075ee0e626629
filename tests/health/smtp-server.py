#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright 2026 The Moat developers
"""A one-message SMTP server on 127.0.0.1 for moat-smtp-test (aiosmtpd).

It prints "PORT n" once it listens, checks the one message it receives
against --expect (JSON: from, to, subject, body) and writes what it found to
--result as JSON: {"ok": true} or {"ok": false, "reason": "..."}, plus the
raw message and whether the client logged in. It answers 250 either way, so
the client's success says nothing about the checks: the result file does.

Modes:
  starttls        STARTTLS offered and required, AUTH (PLAIN, LOGIN) required
  starttls-login  the same, AUTH LOGIN only
  tls             TLS from the first byte (port 465 style), AUTH required
  plain           no STARTTLS (Moat must refuse to go on)
  starttls-noauth STARTTLS required, no AUTH (a relay that trusts its network)

--expect may give "subject_prefix" instead of "subject" and "body_contains"
(a list) instead of "body", for messages whose text moatd composes.

It stops by itself after --lifetime seconds (default 60).
"""

import argparse
import asyncio
import datetime
import email.policy
import email.utils
import json
import re
import ssl
import sys
import warnings

from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword

# aiosmtpd 1.4 warns about its own use of Session.login_data.
warnings.filterwarnings("ignore", category=DeprecationWarning)


def check_message(envelope, expect, authenticated):
    raw = envelope.original_content or envelope.content
    if isinstance(raw, str):
        raw = raw.encode("utf-8", "surrogateescape")
    head = raw.split(b"\r\n\r\n", 1)[0]
    for line in head.split(b"\r\n"):
        if len(line) > 998:
            return "a header line is longer than 998 bytes"
        if any(b >= 0x80 for b in line):
            return "a header is not ASCII: %r" % line
    if envelope.mail_from != expect["from"]:
        return "MAIL FROM was %r" % envelope.mail_from
    if envelope.rcpt_tos != [expect["to"]]:
        return "RCPT TO was %r" % envelope.rcpt_tos
    if expect.get("auth") and not authenticated:
        return "the client did not log in"

    msg = email.message_from_bytes(raw, policy=email.policy.default)
    for name in ("Date", "From", "To", "Subject", "Message-ID", "MIME-Version"):
        if len(msg.get_all(name, [])) != 1:
            return "%s is not there exactly once" % name
    if msg["From"].addresses[0].addr_spec != expect["from"]:
        return "From is %r" % str(msg["From"])
    if msg["To"].addresses[0].addr_spec != expect["to"]:
        return "To is %r" % str(msg["To"])
    if "subject" in expect and str(msg["Subject"]) != expect["subject"]:
        return "Subject is %r, not %r" % (str(msg["Subject"]), expect["subject"])
    if not str(msg["Subject"]).startswith(expect.get("subject_prefix", "")):
        return "Subject %r does not start with %r" % (str(msg["Subject"]),
                                                     expect["subject_prefix"])
    date = email.utils.parsedate_to_datetime(str(msg["Date"]))
    now = datetime.datetime.now(datetime.timezone.utc)
    if abs((now - date).total_seconds()) > 3600:
        return "Date %r is not now" % str(msg["Date"])
    if not re.fullmatch(r"<[^<>@\s]+@[^<>@\s]+>", str(msg["Message-ID"])):
        return "Message-ID %r is malformed" % str(msg["Message-ID"])
    if msg.get_content_type() != "text/plain" or msg.get_content_charset() != "utf-8":
        return "Content-Type is %r" % msg["Content-Type"]
    body = msg.get_content().replace("\r\n", "\n")
    for part in expect.get("body_contains", []):
        if part not in body:
            return "the body %r lacks %r" % (body, part)
    if "body" not in expect:
        return None
    want = expect["body"].replace("\r\n", "\n")
    if body.rstrip("\n") != want.rstrip("\n"):
        return "the body is %r, not %r" % (body, want)
    return None


class Handler:
    def __init__(self, args, expect, done):
        self.args = args
        self.expect = expect
        self.done = done

    async def handle_DATA(self, server, session, envelope):
        reason = check_message(envelope, self.expect, session.authenticated)
        raw = envelope.original_content or b""
        result = {
            "ok": reason is None,
            "reason": reason,
            "authenticated": bool(session.authenticated),
            "raw": raw.decode("utf-8", "replace"),
        }
        with open(self.args.result, "w", encoding="utf-8") as f:
            json.dump(result, f)
        self.done.set()
        return "250 OK"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--mode", choices=["starttls", "starttls-login", "starttls-noauth", "tls", "plain"],
                        required=True)
    parser.add_argument("--cert")
    parser.add_argument("--key")
    parser.add_argument("--user", default="alice")
    parser.add_argument("--password", default="s3cret")
    parser.add_argument("--expect", required=True)
    parser.add_argument("--result", required=True)
    parser.add_argument("--lifetime", type=float, default=60)
    args = parser.parse_args()

    with open(args.expect, encoding="utf-8") as f:
        expect = json.load(f)

    def authenticator(server, session, envelope, mechanism, auth_data):
        ok = (isinstance(auth_data, LoginPassword)
              and auth_data.login.decode() == args.user
              and auth_data.password.decode() == args.password)
        # handled=False: aiosmtpd answers 535 itself.
        return AuthResult(success=ok, handled=False)

    kwargs = {"hostname": "moat-test", "decode_data": False}
    server_ssl = None
    if args.mode != "plain":
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(args.cert, args.key)
    if args.mode == "tls":
        # The whole connection is TLS, which aiosmtpd's own check cannot see.
        server_ssl = context
        kwargs.update(auth_required=True, auth_require_tls=False, authenticator=authenticator)
    elif args.mode == "starttls-noauth":
        kwargs.update(tls_context=context, require_starttls=True, auth_required=False)
    elif args.mode.startswith("starttls"):
        kwargs.update(tls_context=context, require_starttls=True, auth_required=True,
                      auth_require_tls=True, authenticator=authenticator)
        if args.mode == "starttls-login":
            kwargs["auth_exclude_mechanism"] = ["PLAIN"]
    else:
        kwargs.update(auth_required=False)

    async def serve():
        done = asyncio.Event()
        handler = Handler(args, expect, done)
        loop = asyncio.get_running_loop()
        server = await loop.create_server(lambda: SMTP(handler, **kwargs), "127.0.0.1", 0,
                                          ssl=server_ssl)
        print("PORT %d" % server.sockets[0].getsockname()[1], flush=True)
        try:
            await asyncio.wait_for(done.wait(), args.lifetime)
            # Let the client QUIT.
            await asyncio.sleep(0.5)
        except asyncio.TimeoutError:
            pass
        server.close()

    asyncio.run(serve())
    return 0


if __name__ == "__main__":
    sys.exit(main())
