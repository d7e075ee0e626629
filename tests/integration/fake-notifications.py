#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright 2026 The Moat developers
"""A stand-in notification server on a test session bus.

Owns org.freedesktop.Notifications, answers GetServerInformation and
GetCapabilities (libnotify asks them first) and appends each Notify call to
--log as a JSON line {"summary", "body", "urgency"}. Prints "READY" once it
owns the name.
"""

import argparse
import itertools
import json
import sys

from gi.repository import Gio, GLib

XML = """
<node>
  <interface name="org.freedesktop.Notifications">
    <method name="GetServerInformation">
      <arg type="s" direction="out"/><arg type="s" direction="out"/>
      <arg type="s" direction="out"/><arg type="s" direction="out"/>
    </method>
    <method name="GetCapabilities">
      <arg type="as" direction="out"/>
    </method>
    <method name="Notify">
      <arg type="s" direction="in"/><arg type="u" direction="in"/>
      <arg type="s" direction="in"/><arg type="s" direction="in"/>
      <arg type="s" direction="in"/><arg type="as" direction="in"/>
      <arg type="a{sv}" direction="in"/><arg type="i" direction="in"/>
      <arg type="u" direction="out"/>
    </method>
    <method name="CloseNotification">
      <arg type="u" direction="in"/>
    </method>
    <signal name="ActionInvoked"><arg type="u"/><arg type="s"/></signal>
    <signal name="NotificationClosed"><arg type="u"/><arg type="u"/></signal>
  </interface>
</node>
"""


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--log", required=True)
    args = parser.parse_args()
    loop = GLib.MainLoop()
    ids = itertools.count(1)

    def call(conn, sender, path, iface, method, params, invocation):
        if method == "GetServerInformation":
            invocation.return_value(GLib.Variant("(ssss)", ("fake", "moat-tests", "1", "1.2")))
        elif method == "GetCapabilities":
            invocation.return_value(GLib.Variant("(as)", (["body", "actions"],)))
        elif method == "Notify":
            app, replaces, icon, summary, body, actions, hints, timeout = params.unpack()
            with open(args.log, "a") as f:
                f.write(json.dumps({"summary": summary, "body": body,
                                    "urgency": hints.get("urgency")}) + "\n")
            invocation.return_value(GLib.Variant("(u)", (next(ids),)))
        else:
            invocation.return_value(None)

    def bus_acquired(conn, name):
        info = Gio.DBusNodeInfo.new_for_xml(XML).interfaces[0]
        conn.register_object("/org/freedesktop/Notifications", info, call, None, None)

    def name_acquired(conn, name):
        print("READY", flush=True)

    Gio.bus_own_name(Gio.BusType.SESSION, "org.freedesktop.Notifications",
                     Gio.BusNameOwnerFlags.NONE, bus_acquired, name_acquired,
                     lambda *a: loop.quit())
    loop.run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
