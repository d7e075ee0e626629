#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright 2026 The Moat developers
"""A stand-in for systemd's user manager on a test session bus.

Owns org.freedesktop.systemd1 and answers the two Manager calls Moat's
health check makes: GetUnitFileState (the unit's state, "disabled" at
first) and EnableUnitFiles (which makes it "enabled"). Each call is
appended to --log as a JSON line. Prints "READY" once it owns the name.
"""

import argparse
import json
import sys

from gi.repository import Gio, GLib

XML = """
<node>
  <interface name="org.freedesktop.systemd1.Manager">
    <method name="GetUnitFileState">
      <arg name="file" type="s" direction="in"/>
      <arg name="state" type="s" direction="out"/>
    </method>
    <method name="EnableUnitFiles">
      <arg name="files" type="as" direction="in"/>
      <arg name="runtime" type="b" direction="in"/>
      <arg name="force" type="b" direction="in"/>
      <arg name="carries_install_info" type="b" direction="out"/>
      <arg name="changes" type="a(sss)" direction="out"/>
    </method>
  </interface>
</node>
"""


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--state", default="disabled")
    parser.add_argument("--log", required=True)
    args = parser.parse_args()
    states = {"moatd.service": args.state}
    loop = GLib.MainLoop()

    def call(conn, sender, path, iface, method, params, invocation):
        with open(args.log, "a") as f:
            f.write(json.dumps({"method": method, "args": params.unpack()}) + "\n")
        if method == "GetUnitFileState":
            (name,) = params.unpack()
            if name not in states:
                invocation.return_dbus_error("org.freedesktop.systemd1.NoSuchUnit",
                                             "No such unit: " + name)
                return
            invocation.return_value(GLib.Variant("(s)", (states[name],)))
        elif method == "EnableUnitFiles":
            files, runtime, force = params.unpack()
            changes = []
            for name in files:
                states[name] = "enabled"
                changes.append(("symlink", "/home/u/.config/systemd/user/default.target.wants/"
                                + name, "/usr/lib/systemd/user/" + name))
            invocation.return_value(GLib.Variant("(ba(sss))", (True, changes)))

    def bus_acquired(conn, name):
        info = Gio.DBusNodeInfo.new_for_xml(XML).interfaces[0]
        conn.register_object("/org/freedesktop/systemd1", info, call, None, None)

    def name_acquired(conn, name):
        print("READY", flush=True)

    Gio.bus_own_name(Gio.BusType.SESSION, "org.freedesktop.systemd1",
                     Gio.BusNameOwnerFlags.NONE, bus_acquired, name_acquired,
                     lambda *a: loop.quit())
    loop.run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
