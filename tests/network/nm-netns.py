#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright 2026 The Moat developers
"""The real NetworkManager and a real OpenVPN server, in network namespaces.

    client netns (NM-NS)                       server netns
    NetworkManager, private system bus         openvpn --server 10.203.8.0/24
    "Test LAN"  lan0 10.203.1.2/24  ---veth---  lan1 10.203.1.1/24
    "Company VPN" (OpenVPN, TLS, UDP 1194)  ==> tun, 10.203.8.1
    "Unreachable VPN" (the same, to 10.203.1.9 where nobody answers)

"Company VPN" has ping 2 and ping-exit 5: when the server goes away openvpn
exits within about 7 s and NetworkManager reports the VPN down (with the usual
ping-restart it would stay "activated" while openvpn retries for ever).

Everything lives in a work directory (mkdtemp, or --workdir): the system bus
(dbus-daemon, a config that allows everything, socket WORKDIR/system_bus_socket),
NetworkManager's configuration, connection profiles (keyfile) and state, a
small PKI made with openssl at start, logs (nm.log, openvpn.log, bus.log) and
state.json (namespaces and process ids). NetworkManager runs as
`NetworkManager --debug --config WORKDIR/nm/NetworkManager.conf ...` (keyfile
plugin only, no polkit, dns=none) in a private mount namespace inside the
client netns where a tmpfs hides /run (so /run/NetworkManager is its own and
/run/dbus/system_bus_socket points at the private bus, which the VPN plugin's
helpers use), WORKDIR/nm/lib is mounted on /var/lib/NetworkManager and /sys
is read-only (with a writable /sys NetworkManager waits for udev, which a
namespace does not have, and leaves every device unmanaged).
Nothing of the host's NetworkManager, bus or resolv.conf is touched.
Needs root, NetworkManager, network-manager-openvpn, openvpn, openssl,
dbus-daemon, ip and unshare.

As a library (the tests here use it):

    spec = importlib.util.spec_from_file_location("nm_netns", "tests/network/nm-netns.py")
    nm_netns = importlib.util.module_from_spec(spec); spec.loader.exec_module(nm_netns)
    with nm_netns.Harness() as h:         # raises nm_netns.SkipTest(why) if it cannot                  # starts all, stops and cleans on exit
        h.run_in_netns(["nmcli", "connection", "up", "Company VPN"])
        h.stop_vpn_server(); h.start_vpn_server()
        h.stop_nm(); h.start_nm()
        h.env()                           # DBUS_SYSTEM_BUS_ADDRESS=...

From the shell (for an end-to-end test of moatd, say):

    eval "$(tests/network/nm-netns.py start)"   # prints shell assignments:
        # MOAT_NM_WORKDIR, MOAT_NM_NETNS, MOAT_NM_SERVER_NETNS,
        # DBUS_SYSTEM_BUS_ADDRESS, MOAT_NM_VPN_NAME
    ip netns exec "$MOAT_NM_NETNS" env DBUS_SYSTEM_BUS_ADDRESS="$DBUS_SYSTEM_BUS_ADDRESS" \
        nmcli connection up "Company VPN"
    tests/network/nm-netns.py vpn-server stop|start  "$MOAT_NM_WORKDIR"
    tests/network/nm-netns.py nm stop|start          "$MOAT_NM_WORKDIR"
    tests/network/nm-netns.py stop                   "$MOAT_NM_WORKDIR"
    tests/network/nm-netns.py run "$MOAT_NM_WORKDIR" -- CMD ARGS...
        # CMD inside the client netns with the bus address set; exit code passed on

    tests/network/nm-netns.py check -- PROGRAM ARGS...
        # start, run a TAP test program in the client netns with
        # MOAT_NM_WORKDIR, MOAT_NM_HARNESS (this file) and the bus set, stop;
        # prints "1..0 # SKIP why" when the machine cannot (meson tap protocol)

`start` exits 77 (and prints why on stderr) when something is missing.

For moatd in the namespace: its session bus must be reachable from there.
Abstract unix sockets (dbus-run-session's default) belong to one network
namespace, so run `dbus-run-session` (or a dbus-daemon on a socket path)
inside the namespace too, e.g. `nm-netns.py run WORKDIR -- dbus-run-session
-- sh -c 'moatd & ...; moatctl ...'`. The VPN profile to name in a policy
is "Company VPN"; stop the server (`vpn-server stop`) to see the fallback.
"""

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

SKIP = 77
VPN_NAME = "Company VPN"
# the same but at an address nobody answers on, and retrying for ever
# (ping-restart): never comes up, never fails by itself
UNREACHABLE_VPN_NAME = "Unreachable VPN"
UNREACHABLE_ADDR = "10.203.1.9"
LAN_NAME = "Test LAN"
CLIENT_ADDR = "10.203.1.2/24"
SERVER_ADDR = "10.203.1.1"
VPN_SUBNET = "10.203.8.0"
VPN_PORT = 1194
NM_BIN = "/usr/sbin/NetworkManager"
OPENVPN_PLUGIN = "/usr/lib/NetworkManager/nm-openvpn-service"

BUS_CONF = """<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <listen>unix:path={socket}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="*"/>
    <allow own="*"/>
    <allow send_destination="*" eavesdrop="true"/>
    <allow receive_sender="*"/>
    <allow eavesdrop="true"/>
  </policy>
</busconfig>
"""

NM_CONF = """[main]
plugins=keyfile
auth-polkit=false
dns=none
rc-manager=unmanaged
hostname-mode=none
no-auto-default=*
dhcp=internal

[keyfile]
path={connections}

[logging]
level=INFO
domains=DEFAULT,VPN:DEBUG,VPN_PLUGIN:DEBUG

[connectivity]
enabled=false
"""

LAN_PROFILE = """[connection]
id={lan_name}
uuid=5f1c2d3e-0a1b-4c5d-8e9f-102030405060
type=ethernet
interface-name=lan0
autoconnect=true

[ipv4]
method=manual
address1={client_addr},{server}

[ipv6]
method=disabled
"""

VPN_PROFILE = """[connection]
id={vpn_name}
uuid={uuid}
type=vpn
autoconnect=false
permissions=

[vpn]
service-type=org.freedesktop.NetworkManager.openvpn
connection-type=tls
remote={server}:{port}:udp
ca={pki}/ca.crt
cert={pki}/client.crt
key={pki}/client.key
cert-pass-flags=4
dev-type=tun
connect-timeout=5
ping=2
{ping_end}

[ipv4]
method=auto
never-default=true

[ipv6]
method=ignore
"""

SERVER_CONF = """dev tun
proto udp
local {server}
port {port}
topology subnet
server {subnet} 255.255.255.0
ca {pki}/ca.crt
cert {pki}/server.crt
key {pki}/server.key
dh none
keepalive 2 4
verb 3
"""


def log(message):
    print(f"# {message}", file=sys.stderr, flush=True)


def run(args, check=True, **kwargs):
    return subprocess.run(args, check=check, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True, **kwargs)


def pid_alive(pid):
    """Running (reaps it when it is our child; a zombie counts as gone)."""
    try:
        if os.waitpid(pid, os.WNOHANG) != (0, 0):
            return False
    except ChildProcessError:
        pass
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return False


def missing_requirements():
    """Why this machine cannot run the harness, or None."""
    if os.geteuid() != 0:
        return "needs root for network namespaces"
    for path in (NM_BIN, OPENVPN_PLUGIN):
        if not os.access(path, os.X_OK):
            return f"{path} is not installed"
    for tool in ("openvpn", "openssl", "dbus-daemon", "ip", "unshare", "nmcli"):
        if shutil.which(tool) is None:
            return f"{tool} is not installed"
    if not os.path.exists("/dev/net/tun"):
        return "/dev/net/tun is missing"
    return None


def make_pki(pki):
    """A CA, a server and a client certificate (EC P-256, a day long)."""
    os.makedirs(pki, exist_ok=True)

    def openssl(*args):
        run(["openssl"] + list(args), cwd=pki)

    openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
            "-nodes", "-keyout", "ca.key", "-out", "ca.crt", "-days", "1",
            "-subj", "/CN=Moat test VPN CA")
    for name, usage in (("server", "serverAuth"), ("client", "clientAuth")):
        with open(os.path.join(pki, f"{name}.ext"), "w") as f:
            f.write(f"basicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyAgreement\n"
                    f"extendedKeyUsage={usage}\n")
        openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                "-nodes", "-keyout", f"{name}.key", "-out", f"{name}.csr",
                "-subj", f"/CN=moat-test-{name}")
        openssl("x509", "-req", "-in", f"{name}.csr", "-CA", "ca.crt", "-CAkey", "ca.key",
                "-CAcreateserial", "-out", f"{name}.crt", "-days", "1",
                "-extfile", f"{name}.ext")
    for name in os.listdir(pki):
        os.chmod(os.path.join(pki, name), 0o644)


class Harness:
    """Namespaces, bus, NetworkManager and an OpenVPN server; see the module doc."""

    def __init__(self, workdir=None, tag=None):
        self.tag = tag or f"moat-nm-{os.getpid()}"
        self.netns = f"{self.tag}-c"
        self.server_netns = f"{self.tag}-s"
        self.owns_workdir = workdir is None
        self.workdir = workdir or tempfile.mkdtemp(prefix="moat-nm-")
        os.chmod(self.workdir, 0o755)
        self.socket = os.path.join(self.workdir, "system_bus_socket")
        self.bus_address = f"unix:path={self.socket}"
        self.pids = {}
        self.namespaces = []

    # state shared between the CLI invocations
    def save(self):
        with open(os.path.join(self.workdir, "state.json"), "w") as f:
            json.dump({"tag": self.tag, "pids": self.pids,
                       "namespaces": self.namespaces,
                       "owns_workdir": self.owns_workdir}, f)

    @classmethod
    def load(cls, workdir):
        with open(os.path.join(workdir, "state.json")) as f:
            state = json.load(f)
        self = cls(workdir, state["tag"])
        self.pids = state["pids"]
        self.namespaces = state["namespaces"]
        self.owns_workdir = state["owns_workdir"]
        return self

    def env(self):
        return {"DBUS_SYSTEM_BUS_ADDRESS": self.bus_address}

    def path(self, *parts):
        return os.path.join(self.workdir, *parts)

    def ns_run(self, netns, args, check=True, **kwargs):
        return run(["ip", "netns", "exec", netns] + list(args), check=check, **kwargs)

    def run_in_netns(self, args, check=True, **kwargs):
        """Runs args in the client netns with the private bus; returns CompletedProcess."""
        env = dict(os.environ, **self.env())
        return self.ns_run(self.netns, args, check=check, env=env, **kwargs)

    def spawn(self, key, netns, args, log_name, env=None):
        out = open(self.path(log_name), "a")
        proc = subprocess.Popen(["ip", "netns", "exec", netns] + args, stdout=out,
                                stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                env=env, start_new_session=True)
        out.close()
        self.pids[key] = proc.pid
        self.save()
        return proc

    def kill(self, key, timeout=5.0):
        pid = self.pids.pop(key, None)
        self.save()
        if pid is None:
            return
        try:
            os.killpg(pid, signal.SIGTERM)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not pid_alive(pid):
                return
            time.sleep(0.05)
        try:
            os.killpg(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
        except (ProcessLookupError, ChildProcessError):
            pass

    def alive(self, key):
        pid = self.pids.get(key)
        return pid is not None and pid_alive(pid)

    def wait_for(self, what, predicate, timeout, key=None):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if predicate():
                return
            if key is not None and not self.alive(key):
                raise RuntimeError(f"{key} exited while waiting for {what}; "
                                   f"see {self.workdir}")
            time.sleep(0.05)
        raise RuntimeError(f"timed out waiting for {what}; see {self.workdir}")

    # the pieces
    def setup_network(self):
        for name in (self.netns, self.server_netns):
            run(["ip", "netns", "add", name])
            self.namespaces.append(name)
            self.save()
            self.ns_run(name, ["ip", "link", "set", "lo", "up"])
        run(["ip", "-n", self.netns, "link", "add", "lan0", "type", "veth",
             "peer", "name", "lan1", "netns", self.server_netns])
        self.ns_run(self.server_netns, ["ip", "addr", "add", f"{SERVER_ADDR}/24", "dev", "lan1"])
        self.ns_run(self.server_netns, ["ip", "link", "set", "lan1", "up"])

    def write_configs(self):
        nm = self.path("nm")
        for d in ("conf.d", "system-conf.d", "connections", "lib"):
            os.makedirs(os.path.join(nm, d), exist_ok=True)
        os.chmod(os.path.join(nm, "connections"), 0o700)
        with open(self.path("bus.conf"), "w") as f:
            f.write(BUS_CONF.format(socket=self.socket))
        with open(os.path.join(nm, "NetworkManager.conf"), "w") as f:
            f.write(NM_CONF.format(connections=os.path.join(nm, "connections")))
        make_pki(self.path("pki"))
        profiles = {
            "test-lan.nmconnection": LAN_PROFILE.format(
                lan_name=LAN_NAME, client_addr=CLIENT_ADDR, server=SERVER_ADDR),
            "company-vpn.nmconnection": VPN_PROFILE.format(
                vpn_name=VPN_NAME, uuid="8a7b6c5d-4e3f-4a1b-9c8d-0e1f2a3b4c5d",
                server=SERVER_ADDR, port=VPN_PORT, pki=self.path("pki"),
                ping_end="ping-exit=5"),
            "unreachable-vpn.nmconnection": VPN_PROFILE.format(
                vpn_name=UNREACHABLE_VPN_NAME, uuid="8a7b6c5d-4e3f-4a1b-9c8d-0e1f2a3b4c5e",
                server=UNREACHABLE_ADDR, port=VPN_PORT, pki=self.path("pki"),
                ping_end="ping-restart=5"),
        }
        for name, text in profiles.items():
            path = os.path.join(nm, "connections", name)
            with open(path, "w") as f:
                f.write(text)
            os.chmod(path, 0o600)
        with open(self.path("openvpn-server.conf"), "w") as f:
            f.write(SERVER_CONF.format(server=SERVER_ADDR, port=VPN_PORT,
                                       subnet=VPN_SUBNET, pki=self.path("pki")))

    def start_bus(self):
        if os.path.exists(self.socket):
            os.unlink(self.socket)
        self.spawn("bus", self.netns, ["dbus-daemon", "--nofork", "--nopidfile",
                                       f"--config-file={self.path('bus.conf')}"], "bus.log")
        self.wait_for("the private system bus", lambda: os.path.exists(self.socket), 10, "bus")
        os.chmod(self.socket, 0o666)

    def nm_running(self):
        r = run(["dbus-send", f"--bus={self.bus_address}", "--print-reply",
                 "--dest=org.freedesktop.DBus", "/org/freedesktop/DBus",
                 "org.freedesktop.DBus.NameHasOwner", "string:org.freedesktop.NetworkManager"],
                check=False)
        return r.returncode == 0 and "boolean true" in r.stdout

    def nm_lan_up(self):
        r = self.run_in_netns(["nmcli", "-g", "GENERAL.STATE", "connection", "show", LAN_NAME],
                              check=False)
        return r.returncode == 0 and "activated" in r.stdout

    def start_nm(self, wait=True):
        """NetworkManager in a private mount namespace; waits until "Test LAN" is up."""
        nm = self.path("nm")
        script = (
            "set -e\n"
            "mount --make-rprivate /\n"
            "mount -t tmpfs -o mode=0755 moat-nm-run /run\n"
            # NM waits for udev when /sys is writable, and there is no udev here
            "mount -o remount,ro /sys\n"
            "mkdir -p /run/dbus /run/NetworkManager\n"
            f"ln -s '{self.socket}' /run/dbus/system_bus_socket\n"
            f"mount --bind '{nm}/lib' /var/lib/NetworkManager\n"
            f"exec {NM_BIN} --debug --config='{nm}/NetworkManager.conf'"
            f" --config-dir='{nm}/conf.d' --system-config-dir='{nm}/system-conf.d'"
            f" --intern-config='{nm}/lib/NetworkManager-intern.conf'"
            f" --state-file='{nm}/lib/NetworkManager.state'"
            " --pid-file=/run/NetworkManager/NetworkManager.pid\n")
        env = dict(os.environ, **self.env())
        self.spawn("nm", self.netns, ["unshare", "--mount", "sh", "-c", script], "nm.log",
                   env=env)
        if wait:
            self.wait_for("NetworkManager on the bus", self.nm_running, 20, "nm")
            self.wait_for(f"“{LAN_NAME}” activated", self.nm_lan_up, 20, "nm")

    def stop_nm(self):
        self.kill("nm", timeout=10)
        # NM leaves the VPN plugin and openvpn to die with their bus name;
        # make sure no openvpn of ours outlives it in the client netns
        out = run(["ip", "netns", "pids", self.netns], check=False).stdout.split()
        for pid in out:
            try:
                with open(f"/proc/{pid}/comm") as f:
                    comm = f.read().strip()
            except OSError:
                continue
            if comm in ("openvpn", "nm-openvpn-serv"):
                try:
                    os.kill(int(pid), signal.SIGTERM)
                except ProcessLookupError:
                    pass
        # NM leaves lan0 configured; a new NM would only "assume" it as an
        # external connection instead of activating "Test LAN"
        if self.netns in self.namespaces:
            self.ns_run(self.netns, ["ip", "addr", "flush", "dev", "lan0"], check=False)

    def vpn_server_listening(self):
        r = self.ns_run(self.server_netns, ["ss", "-Hlun"], check=False)
        return f"{SERVER_ADDR}:{VPN_PORT}" in r.stdout

    def start_vpn_server(self):
        self.spawn("openvpn", self.server_netns,
                   ["openvpn", "--config", self.path("openvpn-server.conf")], "openvpn.log")
        self.wait_for("the OpenVPN server", self.vpn_server_listening, 10, "openvpn")

    def stop_vpn_server(self):
        self.kill("openvpn")

    def start(self):
        why = missing_requirements()
        if why:
            raise SkipTest(why)
        try:
            self.setup_network()
            self.write_configs()
            self.start_bus()
            self.start_vpn_server()
            self.start_nm()
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self):
        # what a user of the harness spawned (spawn(key, ...)) goes first
        for key in [k for k in self.pids if k not in ("nm", "openvpn", "bus")]:
            self.kill(key)
        for key in ("nm", "openvpn", "bus"):
            if key == "nm":
                self.stop_nm()
            else:
                self.kill(key)
        for name in self.namespaces:
            run(["ip", "netns", "del", name], check=False)
        self.namespaces = []
        if self.owns_workdir and not os.environ.get("MOAT_NM_KEEP_WORKDIR"):
            shutil.rmtree(self.workdir, ignore_errors=True)
        elif os.path.isdir(self.workdir):
            self.save()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
        return False


class SkipTest(Exception):
    pass


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("start", help="start all; print shell assignments")
    p.add_argument("--workdir")
    p = sub.add_parser("stop", help="stop all and delete the namespaces")
    p.add_argument("workdir")
    for name in ("vpn-server", "nm"):
        p = sub.add_parser(name, help=f"stop or start the {name}")
        p.add_argument("action", choices=["start", "stop"])
        p.add_argument("workdir")
    p = sub.add_parser("check", help="start, run a TAP test in the client netns, stop "
                       "(prints a TAP skip when the machine cannot)")
    p.add_argument("cmd", nargs=argparse.REMAINDER)
    p = sub.add_parser("run", help="run a command in the client netns with the bus set")
    p.add_argument("workdir")
    p.add_argument("cmd", nargs=argparse.REMAINDER)
    args = parser.parse_args()
    # a meson timeout sends SIGTERM: clean up the namespaces on the way out
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(128 + signal.SIGTERM))

    if args.command == "check":
        cmd = args.cmd[1:] if args.cmd[:1] == ["--"] else args.cmd
        why = missing_requirements()
        if why:
            print(f"1..0 # SKIP {why}", flush=True)
            return 0
        h = Harness()
        with h:
            env = dict(os.environ, **h.env(), MOAT_NM_WORKDIR=h.workdir,
                       MOAT_NM_HARNESS=os.path.abspath(__file__))
            code = subprocess.call(["ip", "netns", "exec", h.netns] + cmd, env=env)
            # the test may have restarted pieces through the CLI
            h.pids = Harness.load(h.workdir).pids
            if code != 0:
                for name in ("nm.log", "openvpn.log"):
                    with open(h.path(name), errors="replace") as f:
                        tail = f.read().splitlines()[-40:]
                    print(f"# --- last lines of {name} ---", file=sys.stderr)
                    for line in tail:
                        print(f"# {line}", file=sys.stderr)
        return code

    if args.command == "start":
        if args.workdir:
            os.makedirs(args.workdir, exist_ok=True)
        h = Harness(args.workdir)
        try:
            h.start()
        except SkipTest as e:
            print(f"skipped: {e}", file=sys.stderr)
            return SKIP
        # the daemons must outlive this process: forget them, keep the ids
        h.owns_workdir = True
        h.save()
        print(f"MOAT_NM_WORKDIR='{h.workdir}'\nMOAT_NM_NETNS='{h.netns}'\n"
              f"MOAT_NM_SERVER_NETNS='{h.server_netns}'\n"
              f"DBUS_SYSTEM_BUS_ADDRESS='{h.bus_address}'\nMOAT_NM_VPN_NAME='{VPN_NAME}'")
        return 0

    h = Harness.load(args.workdir)
    if args.command == "stop":
        h.stop()
    elif args.command == "vpn-server":
        h.start_vpn_server() if args.action == "start" else h.stop_vpn_server()
    elif args.command == "nm":
        h.start_nm() if args.action == "start" else h.stop_nm()
    elif args.command == "run":
        cmd = args.cmd[1:] if args.cmd[:1] == ["--"] else args.cmd
        env = dict(os.environ, **h.env())
        return subprocess.call(["ip", "netns", "exec", h.netns] + cmd, env=env)
    return 0


if __name__ == "__main__":
    sys.exit(main())
