#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright 2026 The Moat developers
"""A simulated Android device: the adbd side of the adb wire protocol.

The real `adb` server connects to it as an emulator-style local transport
(127.0.0.1:PORT, serial emulator-(PORT-1)) or with `adb connect`.  Shell
commands are answered from a JSON profile; settings, disabled apps, started
activities and reverse forwards live in the simulator's state, which can be
dumped through the control socket or to a state file.  See README.md.

Written from the protocol description (protocol.txt, SERVICES.TXT,
shell protocol ids), stdlib only.
"""

import argparse
import asyncio
import base64
import binascii
import json
import os
import random
import shlex
import struct
import sys

A_SYNC = 0x434e5953
A_CNXN = 0x4e584e43
A_OPEN = 0x4e45504f
A_OKAY = 0x59414b4f
A_CLSE = 0x45534c43
A_WRTE = 0x45545257
A_AUTH = 0x48545541

A_VERSION = 0x01000001          # skips the data checksum
MAX_PAYLOAD = 256 * 1024
AUTH_TOKEN, AUTH_SIGNATURE, AUTH_RSAPUBLICKEY = 1, 2, 3

SHELL_STDIN, SHELL_STDOUT, SHELL_STDERR, SHELL_EXIT = 0, 1, 2, 3
SHELL_CLOSE_STDIN, SHELL_WINDOW = 4, 5

DEFAULT_FEATURES = ["shell_v2", "cmd", "stat_v2", "ls_v2", "fixed_push_mkdir",
                    "apex", "abb", "fixed_push_symlink_timestamp", "abb_exec",
                    "remount_shell", "push_sync"]

HEADER = struct.Struct("<6I")
PATH_DIRS = ("/product/bin", "/apex/com.android.runtime/bin", "/apex/com.android.art/bin",
             "/system_ext/bin", "/system/bin", "/system/xbin", "/odm/bin", "/vendor/bin",
             "/vendor/xbin", "/sbin")


def log(*args):
    if os.environ.get("ADBD_SIM_DEBUG"):
        print("adbd-sim:", *args, file=sys.stderr, flush=True)


class Disconnect(Exception):
    """A hostile command asks for the TCP connection to drop mid-WRTE."""

    def __init__(self, partial):
        super().__init__("disconnect")
        self.partial = partial


class StreamClosed(Exception):
    pass


SHA1_DIGEST_INFO = bytes.fromhex("3021300906052b0e03021a05000414")


def parse_adb_public_key(line):
    """adbkey.pub: base64 of {u32 words, u32 n0inv, u32 n[words], u32 rr[words],
    u32 e}, little-endian, then " user@host". Returns (n, e) or None."""
    try:
        blob = base64.b64decode(line.split()[0])
        words = struct.unpack_from("<I", blob, 0)[0]
        n = int.from_bytes(blob[8:8 + 4 * words], "little")
        e = struct.unpack_from("<I", blob, 8 + 8 * words)[0]
        return n, e
    except (ValueError, IndexError, struct.error, binascii.Error):
        return None


def verify_signature(key_line, token, signature):
    """adb signs the 20-byte token as if it were a SHA-1 digest (PKCS#1 v1.5)."""
    key = parse_adb_public_key(key_line)
    if key is None or token is None:
        return False
    n, e = key
    size = (n.bit_length() + 7) // 8
    if len(signature) != size:
        return False
    m = pow(int.from_bytes(signature, "big"), e, n).to_bytes(size, "big")
    tail = SHA1_DIGEST_INFO + token
    expected = b"\x00\x01" + b"\xff" * (size - 3 - len(tail)) + b"\x00" + tail
    return m == expected


# ---------------------------------------------------------------------------
# Device state and shell commands

class Device:
    def __init__(self, profile, state_file):
        self.profile = profile
        self.adb_keys = []       # authorized public keys (adbkey.pub lines)
        self.state_file = state_file
        self.props = dict(profile.get("props", {}))
        self.settings = {ns: dict(profile.get("settings", {}).get(ns, {}))
                         for ns in ("global", "secure", "system")}
        self.packages = {p["name"]: dict(p) for p in profile.get("packages", [])}
        self.files = dict(profile.get("files", {}))
        self.force_stopped = []
        self.disabled = []
        self.started = []
        self.tcpip = []
        self.command_log = []
        self.connections = []    # live Connection objects
        self.connection_count = 0
        self.settings_writes = []

    # -- state ------------------------------------------------------------
    def reverse_list(self):
        out = []
        for c in self.connections:
            for local, remote in c.reverses.items():
                out.append({"transport": c.transport_name, "local": local,
                            "remote": remote})
        return out

    def state(self):
        return {
            "profile": self.profile.get("name"),
            "settings": self.settings,
            "settings_writes": self.settings_writes,
            "force_stopped": self.force_stopped,
            "disabled_packages": self.disabled,
            "started": self.started,
            "reverse": self.reverse_list(),
            "tcpip": self.tcpip,
            "connections": len(self.connections),
            "authorized_keys": len(self.adb_keys),
            "connection_count": self.connection_count,
            "commands": self.command_log,
        }

    def save(self):
        if not self.state_file:
            return
        tmp = self.state_file + ".tmp"
        with open(tmp, "w") as f:
            json.dump(self.state(), f, indent=1, sort_keys=True)
        os.replace(tmp, self.state_file)

    # -- commands ---------------------------------------------------------
    async def run(self, cmdline, out):
        """Runs a shell command line; out(fd, bytes) writes. Returns exit code."""
        self.command_log.append(cmdline)
        self.save()
        special = self.profile.get("commands", {}).get(cmdline.strip())
        if special is not None:
            return await self.run_special(special, out)
        try:
            lex = shlex.shlex(cmdline, posix=True, punctuation_chars=";&|")
            lex.whitespace_split = True
            tokens = list(lex)
        except ValueError as e:
            await out(SHELL_STDERR, b"/system/bin/sh: syntax error: %s\n" % str(e).encode())
            return 2
        # A list of simple commands joined by ; && ||
        code = 0
        cur, op = [], ";"
        for tok in tokens + [";"]:
            if tok in (";", "&&", "||"):
                if cur:
                    if op == ";" or (op == "&&" and code == 0) or (op == "||" and code != 0):
                        code = await self.run_simple(cur, out)
                cur, op = [], tok
            elif tok in ("&", "|", "&&&", "|||"):
                await out(SHELL_STDERR, b"/system/bin/sh: pipes are not simulated\n")
                return 2
            else:
                cur.append(tok)
        return code

    async def run_special(self, spec, out):
        mode = spec.get("mode", "output")
        rng = random.Random(spec.get("seed", 6))
        if mode == "output":
            if "stdout" in spec:
                await out(SHELL_STDOUT, spec["stdout"].encode())
            if "stdout_hex" in spec:
                await out(SHELL_STDOUT, bytes.fromhex(spec["stdout_hex"]))
            if "stderr" in spec:
                await out(SHELL_STDERR, spec["stderr"].encode())
            return spec.get("exit", 0)
        if mode == "garbage":
            size = spec.get("bytes", 65536)
            data = bytes(rng.getrandbits(8) for _ in range(size))
            # Always include invalid UTF-8 and NULs.
            await out(SHELL_STDOUT, b"\xff\xfe\x00\xc3\x28" + data)
            return spec.get("exit", 0)
        if mode == "huge_line":
            size = spec.get("bytes", 4 * 1024 * 1024)
            chunk = (spec.get("prefix", "package:") + "A" * 65536).encode()[:65536]
            sent = 0
            while sent < size:
                piece = chunk[:min(len(chunk), size - sent)]
                await out(SHELL_STDOUT, piece)
                sent += len(piece)
            await out(SHELL_STDOUT, b"\n")
            return spec.get("exit", 0)
        if mode == "endless":
            line = spec.get("line", "y").encode() + b"\n"
            n = 0
            while True:
                await out(SHELL_STDOUT, line * 64)
                n += 1
                if n % 16 == 0:
                    await asyncio.sleep(0)
        if mode == "slow":
            text = spec.get("stdout", "").encode()
            delay = spec.get("delay_ms", 100) / 1000.0
            for i in range(len(text)):
                await out(SHELL_STDOUT, text[i:i + 1])
                await asyncio.sleep(delay)
            return spec.get("exit", 0)
        if mode == "disconnect":
            if "stdout" in spec:
                await out(SHELL_STDOUT, spec["stdout"].encode())
            raise Disconnect(spec.get("partial", "partial output that never ends").encode())
        await out(SHELL_STDERR, b"adbd-sim: bad mode %s\n" % mode.encode())
        return 1

    def not_found(self, name):
        return b"/system/bin/sh: %s: inaccessible or not found\n" % name.encode()

    async def run_simple(self, argv, out):
        name = argv[0]
        special = self.profile.get("commands", {}).get(shlex.join(argv))
        if special is not None:
            return await self.run_special(special, out)
        fn = getattr(self, "cmd_" + name.replace("-", "_"), None)
        if name.startswith("/system/bin/") and fn is None:
            fn = getattr(self, "cmd_" + name[len("/system/bin/"):], None)
        if fn is None:
            path = name if "/" in name else next(
                (d + "/" + name for d in PATH_DIRS if d + "/" + name in self.files), name)
            if path in self.files and self.files[path].get("exec"):
                f = self.files[path]
                await out(SHELL_STDOUT, f.get("stdout", "").encode())
                return f.get("exit", 0)
            await out(SHELL_STDERR, self.not_found(name))
            return 127
        return await fn(argv[1:], out)

    # Individual commands; each returns an exit code.
    async def cmd_true(self, args, out):
        return 0

    async def cmd_false(self, args, out):
        return 1

    async def cmd_exit(self, args, out):
        return int(args[0]) if args and args[0].isdigit() else 0

    async def cmd_echo(self, args, out):
        await out(SHELL_STDOUT, (" ".join(args) + "\n").encode())
        return 0

    async def cmd_id(self, args, out):
        await out(SHELL_STDOUT, (self.profile.get(
            "id", "uid=2000(shell) gid=2000(shell) groups=2000(shell),1004(input),1007(log),"
            "1011(adb),1015(sdcard_rw),1028(sdcard_r),3001(net_bt_admin),3002(net_bt),"
            "3003(inet),3006(net_bw_stats) context=u:r:shell:s0") + "\n").encode())
        return 0

    async def cmd_getprop(self, args, out):
        if args:
            single = self.profile.get("getprop_single", {})
            value = single.get(args[0], self.props.get(args[0],
                                                       args[1] if len(args) > 1 else ""))
            await out(SHELL_STDOUT, (value + "\n").encode())
            return 0
        text = "".join("[%s]: [%s]\n" % (k, v) for k, v in sorted(self.props.items()))
        await out(SHELL_STDOUT, text.encode())
        return 0

    async def cmd_settings(self, args, out):
        usage = b"usage:  settings [--user <USER_ID> | current] get namespace key\n"
        if len(args) >= 2 and args[0] == "--user":
            args = args[2:]
        if len(args) < 2 or args[1] not in self.settings:
            await out(SHELL_STDERR, usage)
            return 255
        verb, ns, rest = args[0], args[1], args[2:]
        table = self.settings[ns]
        if verb == "get" and len(rest) == 1:
            await out(SHELL_STDOUT, (table.get(rest[0], "null") + "\n").encode())
            return 0
        if verb == "put" and len(rest) >= 2:
            value = rest[1]
            if self.profile.get("settings_readonly", {}).get(ns, {}).get(rest[0]):
                await out(SHELL_STDERR, b"Exception occurred while executing 'put':\n"
                          b"java.lang.SecurityException: Permission denial\n")
                return 255
            self.settings_writes.append({"ns": ns, "name": rest[0], "value": value})
            table[rest[0]] = value
            self.save()
            return 0
        if verb == "delete" and len(rest) == 1:
            existed = rest[0] in table
            table.pop(rest[0], None)
            self.settings_writes.append({"ns": ns, "name": rest[0], "value": None})
            self.save()
            await out(SHELL_STDOUT, b"Deleted %d rows\n" % (1 if existed else 0))
            return 0
        if verb == "list" and not rest:
            text = "".join("%s=%s\n" % kv for kv in sorted(table.items()))
            await out(SHELL_STDOUT, text.encode())
            return 0
        await out(SHELL_STDERR, usage)
        return 255

    async def cmd_pm(self, args, out):
        if not args:
            await out(SHELL_STDERR, b"usage: pm [list|path|disable-user|enable] ...\n")
            return 1
        verb, rest = args[0], args[1:]
        if verb == "list" and rest[:1] == ["packages"]:
            words = list(rest[1:])
            if "--user" in words:       # --user N
                i = words.index("--user")
                del words[i:i + 2]
            flags = [a for a in words if a.startswith("-")]
            filt = [a for a in words if not a.startswith("-")]
            chars = set("".join(f[1:] for f in flags if not f.startswith("--")))
            lines = []
            for name in sorted(self.packages):
                p = self.packages[name]
                system = p.get("system", False)
                enabled = name not in self.disabled and p.get("enabled", True)
                if "3" in chars and system:
                    continue
                if "s" in chars and not system:
                    continue
                if "d" in chars and enabled:
                    continue
                if "e" in chars and not enabled:
                    continue
                if filt and filt[0] not in name:
                    continue
                line = "package:"
                if "f" in chars:
                    line += p.get("path", "/data/app/%s-1/base.apk" % name) + "="
                line += name
                if "i" in chars:
                    line += "  installer=%s" % (p.get("installer") or "null")
                if "U" in chars:
                    line += " uid:%d" % p.get("uid", 10000)
                lines.append(line + "\n")
            await out(SHELL_STDOUT, "".join(lines).encode())
            return 0
        if verb == "path" and rest:
            p = self.packages.get(rest[-1])
            if not p:
                return 1
            await out(SHELL_STDOUT, ("package:%s\n" % p.get(
                "path", "/data/app/%s-1/base.apk" % rest[-1])).encode())
            return 0
        if verb in ("disable-user", "enable", "disable"):
            pkgs = [a for a in rest if not a.startswith("--") and not a.isdigit()]
            if not pkgs or pkgs[-1] not in self.packages:
                name = pkgs[-1] if pkgs else ""
                await out(SHELL_STDERR, ("Exception occurred while executing '%s':\n"
                                         "java.lang.IllegalArgumentException: Unknown package: %s\n"
                                         % (verb, name)).encode())
                return 255
            name = pkgs[-1]
            if verb == "enable":
                if name in self.disabled:
                    self.disabled.remove(name)
                state = "enabled"
            else:
                if name not in self.disabled:
                    self.disabled.append(name)
                state = "disabled-user" if verb == "disable-user" else "disabled"
            self.save()
            await out(SHELL_STDOUT, ("Package %s new state: %s\n" % (name, state)).encode())
            return 0
        await out(SHELL_STDERR, ("Unknown command: %s\n" % verb).encode())
        return 255

    async def cmd_cmd(self, args, out):
        if args[:1] == ["package"]:
            return await self.cmd_pm(args[1:], out)
        if args[:1] == ["settings"]:
            return await self.cmd_settings(args[1:], out)
        await out(SHELL_STDERR, ("cmd: Can't find service: %s\n" % (args[0] if args else "")).encode())
        return 20

    async def cmd_am(self, args, out):
        if args[:1] == ["force-stop"] and len(args) >= 2:
            self.force_stopped.append(args[-1])
            self.save()
            return 0
        if args[:1] == ["start"]:
            action = None
            comp = None
            i = 1
            while i < len(args):
                if args[i] == "-a" and i + 1 < len(args):
                    action = args[i + 1]
                    i += 2
                elif args[i] == "-n" and i + 1 < len(args):
                    comp = args[i + 1]
                    i += 2
                else:
                    i += 1
            self.started.append({"action": action, "component": comp, "argv": args[1:]})
            self.save()
            desc = " ".join(x for x in (("act=" + action) if action else None,
                                        ("cmp=" + comp) if comp else None) if x)
            await out(SHELL_STDOUT, ("Starting: Intent { %s }\n" % desc).encode())
            return 0
        await out(SHELL_STDERR, b"Error: unknown command\n")
        return 255

    async def cmd_dumpsys(self, args, out):
        if not args:
            await out(SHELL_STDERR, b"dumpsys: the full dump is not simulated\n")
            return 1
        if args[0] == "device_policy":
            text = self.profile.get("device_policy_text")
            if text is None:
                text = self.device_policy_text()
            await out(SHELL_STDOUT, text.encode())
            return 0
        if args[0] == "package" and len(args) == 2:
            p = self.packages.get(args[1])
            if p is None:
                await out(SHELL_STDOUT, b"Dexopt state:\n  Unable to find package: %s\n"
                          % args[1].encode())
                return 0
            await out(SHELL_STDOUT, self.package_text(p).encode())
            return 0
        text = self.profile.get("dumpsys", {}).get(" ".join(args))
        if text is not None:
            await out(SHELL_STDOUT, text.encode())
            return 0
        await out(SHELL_STDERR, ("Can't find service: %s\n" % args[0]).encode())
        return 0

    def device_policy_text(self):
        lines = ["Current Device Policy Manager state:",
                 "  Immutable state:", "    mHasFeature=true", "    mIsWatch=false",
                 "  Device Owner: " + self.profile.get("device_owner", "none"), "",
                 "  Enabled Device Admins (User 0, provisioningState: 3):"]
        for admin in self.profile.get("device_admins", []):
            lines.append("    %s:" % admin["component"])
            lines.append("      uid=%d" % admin.get("uid", 10000))
            lines.append("      testOnlyAdmin=false")
            lines.append("      policies:")
            for pol in admin.get("policies", []):
                lines.append("        " + pol)
        lines.append("")
        return "\n".join(lines) + "\n"

    def package_text(self, p):
        name = p["name"]
        cert = p.get("cert_sha256", "")
        enabled = 0 if name not in self.disabled else 3
        lines = [
            "Packages:",
            "  Package [%s] (%08x):" % (name, binascii.crc32(name.encode())),
            "    userId=%d" % p.get("uid", 10000),
            "    pkg=Package{%08x %s}" % (binascii.crc32(name.encode()) >> 4, name),
            "    codePath=%s" % os.path.dirname(p.get("path", "/data/app/%s-1/base.apk" % name)),
            "    versionCode=%d minSdk=%d targetSdk=%d" % (p.get("version_code", 1),
                                                       p.get("min_sdk", 21),
                                                       p.get("target_sdk", 30)),
            "    versionName=%s" % p.get("version_name", "1.0"),
            "    flags=[ %s]" % ("SYSTEM HAS_CODE " if p.get("system") else "HAS_CODE "),
            "    installerPackageName=%s" % (p.get("installer") or "null"),
            "    signatures=PackageSignatures{%08x version:2, signatures:[%s], past signatures:[]}"
            % (binascii.crc32(name.encode()) >> 4, cert[:8]),
            # Not printed by a real phone: a real client must pull the APK
            # (`pm path`, `exec:cat`) and parse its signing block.
            "    simSigningCertSha256=%s" % cert,
            "    requested permissions:",
        ]
        for perm in p.get("permissions", []):
            lines.append("      " + perm)
        lines.append("    install permissions:")
        for perm in p.get("install_granted", []):
            lines.append("      %s: granted=true" % perm)
        lines.append("    User 0: ceDataInode=0 installed=true hidden=false suspended=false "
                     "stopped=false notLaunched=false enabled=%d instant=false virtual=false"
                     % enabled)
        lines.append("      runtime permissions:")
        for perm in p.get("runtime_granted", []):
            lines.append("        %s: granted=true, flags=[ USER_SET ]" % perm)
        return "\n".join(lines) + "\n"

    async def cmd_appops(self, args, out):
        if args[:1] == ["get"] and len(args) >= 3:
            p = self.packages.get(args[1])
            if p is None:
                await out(SHELL_STDERR, ("Error: Unknown package: %s\n" % args[1]).encode())
                return 255
            mode = p.get("appops", {}).get(args[2])
            await out(SHELL_STDOUT, (("%s: %s\n" % (args[2], mode)) if mode
                                     else "No operations.\n").encode())
            return 0
        if args[:1] == ["query-op"]:
            rest = [a for a in args[1:] if not a.startswith("--") and not a.isdigit()]
            if not rest:
                return 255
            op, mode = rest[0], rest[1] if len(rest) > 1 else "allow"
            names = [n for n in sorted(self.packages)
                     if self.packages[n].get("appops", {}).get(op) == mode]
            await out(SHELL_STDOUT, "".join(n + "\n" for n in names).encode()
                      if names else b"No operations.\n")
            return 0
        await out(SHELL_STDERR, b"Error: unknown appops command\n")
        return 255

    async def cmd_which(self, args, out):
        code = 1
        for a in args:
            for d in PATH_DIRS:
                if d + "/" + a in self.files:
                    await out(SHELL_STDOUT, (d + "/" + a + "\n").encode())
                    code = 0
                    break
        if not args:
            return 1
        return code

    async def cmd_ls(self, args, out):
        paths = [a for a in args if not a.startswith("-")]
        code = 0
        for p in paths:
            if p in self.files or any(f.startswith(p.rstrip("/") + "/") for f in self.files):
                await out(SHELL_STDOUT, (p + "\n").encode())
            else:
                await out(SHELL_STDERR, ("ls: %s: No such file or directory\n" % p).encode())
                code = 1
        return code

    async def cmd_cat(self, args, out):
        code = 0
        for p in args:
            f = self.files.get(p)
            if f is None:
                await out(SHELL_STDERR, ("cat: %s: No such file or directory\n" % p).encode())
                code = 1
            else:
                await out(SHELL_STDOUT, f.get("content", "").encode())
        return code

    async def cmd_sleep(self, args, out):
        await asyncio.sleep(float(args[0]) if args else 0)
        return 0


# ---------------------------------------------------------------------------
# One adb transport (a TCP connection from the adb server)

class Stream:
    def __init__(self, conn, local_id, remote_id, service):
        self.conn = conn
        self.local_id = local_id
        self.remote_id = remote_id
        self.service = service
        self.okay = asyncio.Event()
        self.okay.set()
        self.opened = asyncio.Event()
        self.closed = False
        self.inbox = asyncio.Queue()
        self.task = None

    async def write(self, data):
        maxp = self.conn.max_payload
        for off in range(0, len(data), maxp):
            if self.closed:
                raise StreamClosed()
            await self.okay.wait()
            if self.closed:
                raise StreamClosed()
            self.okay.clear()
            await self.conn.send(A_WRTE, self.local_id, self.remote_id, data[off:off + maxp])

    async def close(self):
        if not self.closed:
            self.closed = True
            self.okay.set()
            self.conn.streams.pop(self.local_id, None)
            await self.conn.send(A_CLSE, self.local_id, self.remote_id or 0)

    def peer_closed(self):
        self.closed = True
        self.okay.set()
        self.opened.set()
        self.inbox.put_nowait(None)
        self.conn.streams.pop(self.local_id, None)
        if self.task:
            self.task.cancel()


class Connection:
    def __init__(self, sim, reader, writer):
        self.sim = sim
        self.dev = sim.device
        self.reader = reader
        self.writer = writer
        self.streams = {}
        self.next_id = 1
        self.max_payload = 4096
        self.version = A_VERSION
        self.online = False
        self.reverses = {}
        self.transport_name = sim.profile.get("reverse_transport_name",
                                              "host-%d" % (18 + sim.device.connection_count))
        self.lock = asyncio.Lock()
        self.tasks = set()
        self.token = None
        self.pending_key = None

    async def send(self, cmd, arg0, arg1, data=b""):
        hdr = HEADER.pack(cmd, arg0, arg1, len(data), sum(data) & 0xffffffff,
                          cmd ^ 0xffffffff)
        async with self.lock:
            self.writer.write(hdr + data)
            await self.writer.drain()

    def banner(self):
        p = self.dev.props
        feats = self.sim.profile.get("features", DEFAULT_FEATURES)
        return ("device::ro.product.name=%s;ro.product.model=%s;ro.product.device=%s;"
                "features=%s" % (p.get("ro.product.name", ""), p.get("ro.product.model", ""),
                                 p.get("ro.product.device", ""), ",".join(feats))).encode()

    async def send_cnxn(self):
        self.online = True
        await self.send(A_CNXN, self.version, MAX_PAYLOAD, self.banner())

    async def run(self):
        self.dev.connections.append(self)
        self.dev.connection_count += 1
        self.dev.save()
        try:
            while True:
                hdr = await self.reader.readexactly(HEADER.size)
                cmd, arg0, arg1, length, check, magic = HEADER.unpack(hdr)
                if magic != cmd ^ 0xffffffff or length > 16 * 1024 * 1024:
                    log("bad packet header, dropping connection")
                    break
                data = await self.reader.readexactly(length) if length else b""
                await self.handle(cmd, arg0, arg1, data)
        except (asyncio.IncompleteReadError, ConnectionError, Disconnect):
            pass
        finally:
            await self.shutdown()

    async def shutdown(self):
        if self in self.dev.connections:
            self.dev.connections.remove(self)
        for s in list(self.streams.values()):
            s.peer_closed()
        for t in list(self.tasks):
            t.cancel()
        try:
            self.writer.close()
        except Exception:
            pass
        self.dev.save()

    def spawn(self, coro):
        t = asyncio.ensure_future(coro)
        self.tasks.add(t)
        t.add_done_callback(self.tasks.discard)
        return t

    async def handle(self, cmd, arg0, arg1, data):
        auth = self.sim.profile.get("auth", "none")
        if cmd == A_CNXN:
            log("CNXN version=%08x maxdata=%d %r" % (arg0, arg1, data))
            self.version = min(arg0, A_VERSION)
            self.max_payload = min(arg1, MAX_PAYLOAD) or 4096
            self.sim.host_cnxn.append({"version": "0x%08x" % arg0, "max_payload": arg1,
                                       "banner": data.rstrip(b"\0").decode("latin-1")})
            if auth == "none":
                await self.send_cnxn()
            else:
                self.token = os.urandom(20)
                await self.send(A_AUTH, AUTH_TOKEN, 0, self.token)
            return
        if cmd == A_AUTH:
            log("AUTH type=%d len=%d" % (arg0, len(data)))
            self.sim.auth_seen.append(arg0)
            if auth == "any" and arg0 in (AUTH_SIGNATURE, AUTH_RSAPUBLICKEY):
                await self.send_cnxn()
            elif auth == "never" and arg0 == AUTH_SIGNATURE:
                await self.send(A_AUTH, AUTH_TOKEN, 0, os.urandom(20))
            elif auth == "keys" and arg0 == AUTH_SIGNATURE:
                good = [k for k in self.dev.adb_keys if verify_signature(k, self.token, data)]
                self.sim.auth_log.append({"type": arg0,
                                          "key": good[0].split()[0] if good else None})
                if good:
                    await self.send_cnxn()
                else:
                    self.token = os.urandom(20)
                    await self.send(A_AUTH, AUTH_TOKEN, 0, self.token)
            elif auth == "keys" and arg0 == AUTH_RSAPUBLICKEY:
                # The "Allow USB debugging?" dialog: wait for `allow` on the control socket.
                self.pending_key = data.rstrip(b"\0").decode("latin-1")
                self.sim.auth_log.append({"type": arg0, "key": self.pending_key.split()[0]})
            return
        if not self.online:
            return
        if cmd == A_OPEN:
            service = data.rstrip(b"\0").decode("utf-8", "replace")
            log("OPEN %d %r" % (arg0, service))
            handler = self.sim.service_handler(service)
            if handler is None:
                await self.send(A_CLSE, 0, arg0)
                return
            lid = self.next_id
            self.next_id += 1
            s = Stream(self, lid, arg0, service)
            s.opened.set()
            self.streams[lid] = s
            await self.send(A_OKAY, lid, arg0)
            s.task = self.spawn(self.run_service(s, handler))
            return
        s = self.streams.get(arg1)
        if s is None:
            if cmd == A_WRTE:
                await self.send(A_CLSE, 0, arg0)
            return
        if cmd == A_OKAY:
            if not s.opened.is_set():
                s.remote_id = arg0
                s.opened.set()
            s.okay.set()
        elif cmd == A_WRTE:
            s.inbox.put_nowait(data)
            await self.send(A_OKAY, s.local_id, s.remote_id)
        elif cmd == A_CLSE:
            s.peer_closed()

    async def run_service(self, s, handler):
        try:
            await handler(self, s)
            await s.close()
        except (StreamClosed, asyncio.CancelledError):
            pass
        except Disconnect as d:
            # Announce a WRTE with a full payload length, send half of it, drop the link.
            payload = d.partial
            hdr = HEADER.pack(A_WRTE, s.local_id, s.remote_id, len(payload) * 2,
                              sum(payload) & 0xffffffff, A_WRTE ^ 0xffffffff)
            async with self.lock:
                self.writer.write(hdr + payload)
                await self.writer.drain()
                self.writer.transport.abort()
        except (ConnectionError, OSError):
            pass

    async def open_reverse(self, remote):
        """Device-initiated stream, as adbd opens for a reverse listener."""
        lid = self.next_id
        self.next_id += 1
        s = Stream(self, lid, None, remote)
        self.streams[lid] = s
        await self.send(A_OPEN, lid, 0, remote.encode() + b"\0")
        await s.opened.wait()
        if s.closed:
            raise StreamClosed()
        return s


# ---------------------------------------------------------------------------
# Services

class Sim:
    def __init__(self, profile, state_file, port):
        self.profile = profile
        self.device = Device(profile, state_file)
        self.port = port
        self.server = None
        self.host_cnxn = []
        self.auth_seen = []
        self.auth_log = []

    def service_handler(self, service):
        if service.startswith("shell"):
            head, sep, cmd = service.partition(":")
            if not sep:
                return None
            args = head.split(",")[1:]
            v2 = "v2" in args
            return lambda c, s: self.svc_shell(c, s, cmd, v2)
        if service.startswith("exec:"):
            return lambda c, s: self.svc_shell(c, s, service[5:], False)
        if service.startswith("reverse:"):
            return lambda c, s: self.svc_reverse(c, s, service[8:])
        if service.startswith("tcpip:"):
            return lambda c, s: self.svc_tcpip(c, s, service[6:])
        return None

    async def svc_shell(self, conn, s, cmd, v2):
        if not cmd.strip():
            # Interactive shells are not simulated.
            if v2:
                await s.write(struct.pack("<BI", SHELL_STDERR, 38)
                              + b"adbd-sim: interactive shell not here\n\n"[:38])
                await s.write(struct.pack("<BIB", SHELL_EXIT, 1, 1))
            return

        async def out(fd, data):
            if not data:
                return
            if v2:
                await s.write(struct.pack("<BI", fd, len(data)) + data)
            else:
                await s.write(data)

        code = await self.device.run(cmd, out)
        if v2:
            await s.write(struct.pack("<BIB", SHELL_EXIT, 1, code & 0xff))

    async def svc_reverse(self, conn, s, req):
        dev = self.device
        if req == "list-forward":
            text = "".join("%s %s %s\n" % (r["transport"], r["local"], r["remote"])
                           for r in dev.reverse_list() if r["transport"] == conn.transport_name)
            await s.write(b"%04x" % len(text.encode()) + text.encode())
            return
        if req == "killforward-all":
            conn.reverses.clear()
            dev.save()
            await s.write(b"OKAY")
            return
        kill = req.startswith("killforward:")
        if kill:
            spec = req[len("killforward:"):]
            pieces = spec.split(";")
            if len(pieces) != 1 or not pieces[0]:
                return await self.fail(s, "bad killforward: %s" % spec)
            if pieces[0] not in conn.reverses:
                return await self.fail(s, "listener '%s' not found" % spec)
            del conn.reverses[pieces[0]]
            dev.save()
            await s.write(b"OKAY")
            return
        if req.startswith("forward:"):
            spec = req[len("forward:"):]
            norebind = spec.startswith("norebind:")
            if norebind:
                spec = spec[len("norebind:"):]
            pieces = spec.split(";")
            if len(pieces) != 2 or not pieces[0] or not pieces[1] or pieces[1][0] == "*":
                return await self.fail(s, "bad forward: %s" % spec)
            local, remote = pieces
            if norebind and local in conn.reverses:
                return await self.fail(s, "cannot rebind existing socket")
            resolved = None
            if local == "tcp:0":
                resolved = str(random.randint(20000, 40000))
                local = "tcp:" + resolved
            if not local.startswith(("tcp:", "localabstract:", "localreserved:",
                                     "localfilesystem:", "local:")):
                return await self.fail(s, "cannot bind listener: unknown socket specification '%s'" % local)
            conn.reverses[local] = remote
            dev.save()
            await s.write(b"OKAY")
            if resolved:
                await s.write(b"%04x%s" % (len(resolved), resolved.encode()))
            return
        await self.fail(s, "unknown reverse request: %s" % req)

    async def fail(self, s, msg):
        m = msg.encode()
        await s.write(b"FAIL%04x" % len(m) + m)

    async def svc_tcpip(self, conn, s, port):
        self.device.tcpip.append(port)
        self.device.save()
        await s.write(("restarting in TCP mode port: %s\n" % port).encode())

    # -- listening --------------------------------------------------------
    async def on_adb(self, reader, writer):
        sock = writer.get_extra_info("socket")
        try:
            import socket
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except Exception:
            pass
        await Connection(self, reader, writer).run()

    async def plug(self):
        if self.server is None:
            self.server = await asyncio.start_server(self.on_adb, "127.0.0.1", self.port,
                                                     reuse_address=True)

    async def unplug(self):
        if self.server is not None:
            self.server.close()
            await self.server.wait_closed()
            self.server = None
        for c in list(self.device.connections):
            c.writer.transport.abort()

    # -- control socket ---------------------------------------------------
    async def on_control(self, reader, writer):
        try:
            line = (await reader.readline()).decode().strip()
            words = line.split()
            if not words:
                return
            if words[0] == "state":
                st = self.device.state()
                st["host_cnxn"] = self.host_cnxn
                st["auth_seen"] = self.auth_seen
                st["auth_log"] = self.auth_log
                writer.write(json.dumps(st, sort_keys=True).encode() + b"\n")
            elif words[0] == "unplug":
                await self.unplug()
                writer.write(b"OK\n")
            elif words[0] == "plug":
                await self.plug()
                writer.write(b"OK\n")
            elif words[0] == "allow":
                # The user taps "Allow" (with "Always allow" the key is kept).
                n = 0
                for c in list(self.device.connections):
                    if c.pending_key and not c.online:
                        if c.pending_key not in self.device.adb_keys:
                            self.device.adb_keys.append(c.pending_key)
                        c.pending_key = None
                        await c.send_cnxn()
                        n += 1
                self.device.save()
                writer.write(b"OK %d\n" % n)
            elif words[0] == "quit":
                writer.write(b"OK\n")
                await writer.drain()
                await self.unplug()
                self.stop.set()
            elif words[0] == "connect" and len(words) == 2:
                await self.control_connect(words[1], reader, writer)
            else:
                writer.write(b"ERR unknown control command\n")
            await writer.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            try:
                writer.close()
            except Exception:
                pass

    async def control_connect(self, port, reader, writer):
        """An app on the phone connects to device port `port`: follow a reverse."""
        local = "tcp:" + port
        conn = next((c for c in self.device.connections if local in c.reverses), None)
        if conn is None:
            writer.write(b"ERR no reverse listener on %s\n" % local.encode())
            return
        try:
            s = await conn.open_reverse(conn.reverses[local])
        except StreamClosed:
            writer.write(b"ERR host refused %s\n" % conn.reverses[local].encode())
            return
        writer.write(b"OK\n")
        await writer.drain()

        async def up():
            try:
                while True:
                    data = await reader.read(4096)
                    if not data:
                        break
                    await s.write(data)
            except (StreamClosed, ConnectionError):
                pass
            # Half-close is not part of adb streams; leave the stream open for
            # the answer and close it when the host side closes.

        async def down():
            while True:
                data = await s.inbox.get()
                if data is None:
                    break
                writer.write(data)
                await writer.drain()

        up_t = asyncio.ensure_future(up())
        try:
            await down()
        finally:
            up_t.cancel()
            if not s.closed:
                await s.close()


async def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--port", type=int, required=True, help="odd TCP port on 127.0.0.1")
    ap.add_argument("--profile", required=True, help="profile JSON file")
    ap.add_argument("--state-file", help="write the device state here on every change")
    ap.add_argument("--control", help="unix socket path for control commands")
    ap.add_argument("--ready-file", help="created once listening")
    ap.add_argument("--adb-keys", help="authorized keys, one adbkey.pub line each (auth: keys)")
    opts = ap.parse_args()
    with open(opts.profile) as f:
        profile = json.load(f)
    # Simulators share the emulator port range with other tests: hold a lock on
    # the port for our whole life, so no other simulator takes it while we
    # are unplugged.
    import fcntl
    lock = open(os.path.join(os.environ.get("TMPDIR", "/tmp"),
                             "moat-adbd-sim-%d.lock" % opts.port), "a")
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        print("adbd-sim: port %d is held by another simulator" % opts.port, file=sys.stderr)
        sys.exit(3)
    sim = Sim(profile, opts.state_file, opts.port)
    sim.stop = asyncio.Event()
    if opts.adb_keys:
        with open(opts.adb_keys) as f:
            sim.device.adb_keys = [l.strip() for l in f if l.strip()]
    await sim.plug()
    sim.device.save()
    if opts.control:
        try:
            os.unlink(opts.control)
        except FileNotFoundError:
            pass
        await asyncio.start_unix_server(sim.on_control, opts.control)
    if opts.ready_file:
        open(opts.ready_file, "w").close()
    loop = asyncio.get_running_loop()
    import signal
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, sim.stop.set)
    await sim.stop.wait()
    await sim.unplug()
    sim.device.save()


if __name__ == "__main__":
    asyncio.run(main())
