# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright 2026 The Moat developers
"""A private desktop for driving moat: Xvfb, a session bus, the accessibility
bus, moatd from the build tree with the Testing interface, and the app.

Used by moat-ui-test.py (suite 'ui') and measure.py (benchmark)."""

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

SKIP = 77
DBUS_NAME = "io.github.moatproject.Moat"
DBUS_PATH = "/io/github/moatproject/Moat"
APP_BUS_NAME = "io.github.moatproject.Moat.App"
APP_PATH = "/io/github/moatproject/Moat/App"
AT_SPI_LAUNCHER = "/usr/libexec/at-spi-bus-launcher"


def skip(reason):
    print(f"SKIP: {reason}")
    sys.exit(SKIP)


def log(msg):
    print(f"# {msg}", flush=True)


def wait_for(what, predicate, timeout=20.0, interval=0.1):
    deadline = time.monotonic() + timeout
    while True:
        try:
            value = predicate()
        except Exception as e:  # gi.repository.GLib.GError, imported lazily here
            # A widget went away while the accessibility tree was walked (a
            # toast, a re-built row): "The application no longer exists" is
            # about that object, not the app. Look again.
            if "no longer exists" not in str(e) or time.monotonic() > deadline:
                raise
            value = None
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(interval)


class Desktop:
    """Owns every process it starts and stops them all in close()."""

    def __init__(self, build_root, width=1200, height=800):
        self.build_root = build_root
        self.moatd_path = os.path.join(build_root, "src", "daemon", "moatd")
        self.moat_path = os.path.join(build_root, "src", "app", "moat")
        self.schema_dir = os.path.join(build_root, "data")
        self.procs = []
        self.app = None
        self.moatd = None
        self.check_tools()
        self.tmp = tempfile.mkdtemp(prefix="moat-ui-")
        self.env = self.make_env()
        self.start_xvfb(width, height)
        self.start_bus()

    def check_tools(self):
        for tool in ("Xvfb", "dbus-daemon", "xdotool", "import", "convert"):
            if shutil.which(tool) is None:
                skip(f"{tool} is not installed")
        if not os.path.exists(AT_SPI_LAUNCHER):
            skip("at-spi-bus-launcher is not installed (at-spi2-core)")
        for path in (self.moatd_path, self.moat_path):
            if not os.access(path, os.X_OK):
                skip(f"{path} is not built")
        try:
            import gi
            gi.require_version("Atspi", "2.0")
            from gi.repository import Atspi  # noqa: F401
        except (ImportError, ValueError) as e:
            skip(f"no AT-SPI bindings for Python (python3-gi, gir1.2-atspi-2.0): {e}")

    def make_env(self):
        env = dict(os.environ)
        # The accessibility bridge is the point of this test.
        env.pop("NO_AT_BRIDGE", None)
        env.pop("DBUS_SESSION_BUS_ADDRESS", None)
        env.pop("MOAT_DBUS_ADDRESS", None)
        home = os.path.join(self.tmp, "home")
        for sub in ("config", "data", "cache", "runtime"):
            os.makedirs(os.path.join(home, sub), exist_ok=True)
        os.chmod(os.path.join(home, "runtime"), 0o700)
        env.update({
            "HOME": home,
            "XDG_CONFIG_HOME": os.path.join(home, "config"),
            "XDG_DATA_HOME": os.path.join(home, "data"),
            "XDG_CACHE_HOME": os.path.join(home, "cache"),
            "XDG_RUNTIME_DIR": os.path.join(home, "runtime"),
            "GSETTINGS_SCHEMA_DIR": self.schema_dir,
            "GSETTINGS_BACKEND": "keyfile",
            "GTK_A11Y": "atspi",
            "GDK_BACKEND": "x11",
            "LANGUAGE": "C",
            "LC_ALL": "C.UTF-8",
            "G_DEBUG": "gc-friendly",
        })
        return env

    def spawn(self, args, **kwargs):
        proc = subprocess.Popen(args, env=self.env, **kwargs)
        self.procs.append(proc)
        return proc

    def start_xvfb(self, width, height):
        read_fd, write_fd = os.pipe()
        self.spawn(["Xvfb", "-displayfd", str(write_fd), "-screen", "0", f"{width}x{height}x24",
                    "-nolisten", "tcp", "-noreset"],
                   pass_fds=(write_fd,), stderr=subprocess.DEVNULL)
        os.close(write_fd)
        with os.fdopen(read_fd) as f:
            display = f.readline().strip()
        if not display:
            skip("Xvfb did not start")
        self.env["DISPLAY"] = f":{display}"
        os.environ["DISPLAY"] = self.env["DISPLAY"]

    def write_bus_config(self):
        """A session bus that can D-Bus-activate moatd from the build tree."""
        services = os.path.join(self.tmp, "services")
        os.makedirs(services, exist_ok=True)
        self.activated_data_dir = os.path.join(self.tmp, "moatd-activated")
        with open(os.path.join(services, f"{DBUS_NAME}.service"), "w") as f:
            f.write(f"[D-BUS Service]\nName={DBUS_NAME}\n"
                    f"Exec={self.moatd_path} --data-dir {self.activated_data_dir} "
                    f"--no-network-checks\n")
        config = os.path.join(self.tmp, "session.conf")
        with open(config, "w") as f:
            f.write(f"""<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:tmpdir={self.tmp}</listen>
  <auth>EXTERNAL</auth>
  <servicedir>{services}</servicedir>
  <standard_session_servicedirs/>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
""")
        return config

    def start_bus(self):
        config = self.write_bus_config()
        proc = self.spawn(["dbus-daemon", f"--config-file={config}", "--nofork", "--print-address=1"],
                          stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        address = proc.stdout.readline().strip()
        if not address:
            skip("dbus-daemon did not start")
        self.env["DBUS_SESSION_BUS_ADDRESS"] = address
        os.environ["DBUS_SESSION_BUS_ADDRESS"] = address
        self.spawn([AT_SPI_LAUNCHER, "--launch-immediately"], stderr=subprocess.DEVNULL)

        from gi.repository import Gio
        self.bus = Gio.DBusConnection.new_for_address_sync(
            address,
            Gio.DBusConnectionFlags.AUTHENTICATION_CLIENT | Gio.DBusConnectionFlags.MESSAGE_BUS_CONNECTION,
            None, None)
        wait_for("the accessibility bus", lambda: self.name_has_owner("org.a11y.Bus"), timeout=10)

    def name_has_owner(self, name):
        from gi.repository import GLib
        reply = self.bus.call_sync("org.freedesktop.DBus", "/org/freedesktop/DBus",
                                   "org.freedesktop.DBus", "NameHasOwner",
                                   GLib.Variant("(s)", (name,)), None, 0, -1, None)
        return reply.unpack()[0]

    # moatd

    def start_moatd(self, extra_args=()):
        data_dir = os.path.join(self.tmp, "moatd-data")
        os.makedirs(data_dir, exist_ok=True)
        self.moatd_log = open(os.path.join(self.tmp, "moatd.log"), "w")
        self.moatd = self.spawn([self.moatd_path, "--data-dir", data_dir, "--no-network-checks",
                                 *extra_args],
                                stdout=self.moatd_log, stderr=subprocess.STDOUT)
        wait_for("moatd on the bus", lambda: self.name_has_owner(DBUS_NAME), timeout=20)

    def moatd_pid(self):
        from gi.repository import GLib
        try:
            return self.bus.call_sync("org.freedesktop.DBus", "/org/freedesktop/DBus",
                                      "org.freedesktop.DBus", "GetConnectionUnixProcessID",
                                      GLib.Variant("(s)", (DBUS_NAME,)), None, 0, -1,
                                      None).unpack()[0]
        except GLib.Error:
            return None

    def stop_moatd(self):
        """Stops whichever moatd owns the name, started by us or by activation."""
        pid = self.moatd_pid()
        if pid is not None:
            os.kill(pid, signal.SIGTERM)
        wait_for("moatd to leave the bus", lambda: not self.name_has_owner(DBUS_NAME), timeout=20)
        if self.moatd is not None:
            self.moatd.wait(timeout=10)

    def call_moatd(self, interface, method, args, timeout_ms=120000):
        return self.bus.call_sync(DBUS_NAME, DBUS_PATH, interface, method, args,
                                  None, 0, timeout_ms, None).unpack()

    def add_events(self, events, batch=10000):
        """events: (time µs or 0, source, threat, severity, subject, action, detail)"""
        from gi.repository import GLib
        accepted = 0
        for i in range(0, len(events), batch):
            chunk = events[i:i + batch]
            accepted += self.call_moatd("io.github.moatproject.Moat1.Testing", "AddEvents",
                                        GLib.Variant("(a(xssssss))", (chunk,)))[0]
        self.call_moatd("io.github.moatproject.Moat1.Testing", "Flush", None)
        return accepted

    def moatd_properties(self):
        from gi.repository import GLib
        return self.bus.call_sync(DBUS_NAME, DBUS_PATH, "org.freedesktop.DBus.Properties", "GetAll",
                                  GLib.Variant("(s)", ("io.github.moatproject.Moat1",)),
                                  None, 0, -1, None).unpack()[0]

    # the app

    def set_window_size(self, width, height):
        settings = os.path.join(self.env["XDG_CONFIG_HOME"], "glib-2.0", "settings")
        os.makedirs(settings, exist_ok=True)
        with open(os.path.join(settings, "keyfile"), "w") as f:
            f.write("[io/github/moatproject/Moat]\n"
                    f"window-width={width}\nwindow-height={height}\nwindow-maximized=false\n")

    def start_app(self, args=(), extra_env=None, stderr=None):
        env = dict(self.env)
        env.update(extra_env or {})
        self.app_log_path = os.path.join(self.tmp, "moat.log")
        log_file = open(self.app_log_path, "w") if stderr is None else None
        self.app_start = time.monotonic()
        self.app = subprocess.Popen([self.moat_path, *args], env=env,
                                    stdout=log_file or subprocess.DEVNULL,
                                    stderr=stderr or log_file)
        self.procs.append(self.app)
        return self.app

    def app_action(self, action):
        from gi.repository import GLib
        self.bus.call_sync(APP_BUS_NAME, APP_PATH, "org.gtk.Actions", "Activate",
                           GLib.Variant("(sava{sv})", (action, [], {})), None, 0, 10000, None)

    def window_id(self, name="^Moat$"):
        out = subprocess.run(["xdotool", "search", "--onlyvisible", "--name", name],
                             env=self.env, capture_output=True, text=True).stdout.split()
        return out[0] if out else None

    def window_geometry(self, wid):
        out = subprocess.run(["xdotool", "getwindowgeometry", "--shell", wid],
                             env=self.env, capture_output=True, text=True, check=True).stdout
        geom = dict(line.split("=", 1) for line in out.split())
        return int(geom["X"]), int(geom["Y"]), int(geom["WIDTH"]), int(geom["HEIGHT"])

    def resize_window(self, wid, width, height):
        subprocess.run(["xdotool", "windowsize", wid, str(width), str(height)],
                       env=self.env, check=True)

    def xdotool(self, *args):
        subprocess.run(["xdotool", *args], env=self.env, check=True)

    def screenshot(self, path, wid):
        """The window's area of the root window (no window manager, so no frame)."""
        x, y, w, h = self.window_geometry(wid)
        full = path + ".root.png"
        subprocess.run(["import", "-window", "root", full], env=self.env, check=True)
        subprocess.run(["convert", full, "-crop", f"{w}x{h}+{max(x, 0)}+{max(y, 0)}", "+repage", path],
                       env=self.env, check=True)
        os.unlink(full)
        log(f"screenshot {path} ({w}x{h})")

    def close(self):
        if getattr(self, "bus", None) is not None:
            pid = self.moatd_pid()  # an activated moatd is not our child
            if pid is not None and all(p.pid != pid for p in self.procs):
                os.kill(pid, signal.SIGTERM)
        for proc in reversed(self.procs):
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in reversed(self.procs):
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        shutil.rmtree(self.tmp, ignore_errors=True)


class A11y:
    """The app's accessibility tree through AT-SPI."""

    def __init__(self, app_name="moat"):
        import gi
        gi.require_version("Atspi", "2.0")
        from gi.repository import Atspi
        self.Atspi = Atspi
        self.app_name = app_name

    def app(self):
        desktop = self.Atspi.get_desktop(0)
        for i in range(desktop.get_child_count()):
            child = desktop.get_child_at_index(i)
            if child is not None and child.get_name() == self.app_name:
                return child
        return None

    def is_shown(self, node):
        """GTK 4.8 sets no SHOWING state; an unmapped widget has empty extents."""
        try:
            ext = node.get_extents(self.Atspi.CoordType.WINDOW)
        except Exception:
            return True  # no Component (e.g. GtkStackPage): look at the children
        return ext.width > 0 and ext.height > 0

    def walk(self, root=None, showing_only=True, max_depth=60):
        root = root or self.app()
        if root is None:
            return
        stack = [(root, 0)]
        while stack:
            node, depth = stack.pop()
            try:
                if showing_only and depth > 1 and not self.is_shown(node):
                    continue
                yield node
                if depth < max_depth:
                    n = node.get_child_count()
                    for i in reversed(range(n)):
                        child = node.get_child_at_index(i)
                        if child is not None:
                            stack.append((child, depth + 1))
            except Exception:  # nodes may vanish while we walk
                continue

    def find(self, name=None, role=None, contains=None, showing_only=True):
        found = []
        for node in self.walk(showing_only=showing_only):
            try:
                node_name = node.get_name() or ""
                if name is not None and node_name != name:
                    continue
                if contains is not None and contains not in node_name:
                    continue
                if role is not None and node.get_role_name() != role:
                    continue
                found.append(node)
            except Exception:
                continue
        return found

    def names(self, role=None):
        out = []
        for node in self.walk():
            try:
                if role is None or node.get_role_name() == role:
                    out.append((node.get_role_name(), node.get_name()))
            except Exception:
                continue
        return out

    def center(self, node):
        ext = node.get_extents(self.Atspi.CoordType.WINDOW)
        return ext.x + ext.width // 2, ext.y + ext.height // 2

    def scroll_into_view(self, node, desktop, wid, top=60, bottom=60):
        """Turns the mouse wheel over the middle of the window until @node's
        centre is more than @top px below its top and @bottom px above its
        bottom (header bars and search bars are not scrolled)."""
        wx, wy, w, h = desktop.window_geometry(wid)
        for _ in range(60):
            _, y = self.center(node)
            if top <= y <= h - bottom:
                return
            # No --sync: xdotool 3.20160805 waits forever when the pointer is
            # already there, as it is from the second turn on.
            desktop.xdotool("mousemove", str(wx + w // 2), str(wy + h // 2))
            desktop.xdotool("click", "5" if y > h - bottom else "4")
            time.sleep(0.05)
        raise AssertionError(f"could not scroll {node.get_name()} into view")

    def click(self, node, desktop=None, wid=None):
        """Clicks with the pointer where the widget is, as a person would."""
        if desktop is None:
            action = node.get_action_iface()
            if action is None or action.get_n_actions() == 0:
                raise AssertionError(f"{node.get_name()} has no action")
            action.do_action(0)
            return
        x, y = self.center(node)
        wx, wy, _, _ = desktop.window_geometry(wid)
        desktop.xdotool("mousemove", "--sync", str(wx + x), str(wy + y))
        desktop.xdotool("click", "1")
