#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright 2026 The Moat developers
"""UI test of the Devices page: moat and moatd on a private desktop (see
moatui.py) with the simulated risky phone (tests/phone/adbd-sim.py) behind a
private adb server (ANDROID_ADB_SERVER_PORT, which moatd honours), connected
as a Wi-Fi phone with `adb connect 127.0.0.1:PORT`.

Checks through the accessibility tree that the phone is listed with its risk
level, that its findings show with why they matter and how to fix them, that
Connect Over Wi-Fi shows adb's error in the dialog, that Stop App is confirmed
and reaches the phone, that Protect Web Traffic asks first, and that the page
works at 360 px. Keeps devices-1200.png, devices-360.png and
devices-360-detail.png under <build>/tests/ui/output/.

Exit status: 0 pass, 1 fail, 77 skip (no Xvfb, AT-SPI, adb or build products)."""

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import moatui  # noqa: E402
from moatui import log, wait_for  # noqa: E402

MOAT1 = "io.github.moatproject.Moat1"
results = []
failure_shot = []


def check(name, func):
    try:
        func()
        results.append((name, True))
        print(f"ok {len(results)} {name}", flush=True)
    except Exception:
        results.append((name, False))
        print(f"not ok {len(results)} {name}", flush=True)
        for line in traceback.format_exc().splitlines():
            print(f"# {line}")
        if failure_shot:
            desktop, wid, out_dir = failure_shot[0]
            try:
                desktop.screenshot(os.path.join(out_dir, f"devices-failed-{len(results)}.png"), wid)
            except Exception:
                pass


def free_port(odd=False):
    while True:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        if not odd or port % 2 == 1:
            return port


class Phone:
    """The simulated phone and the private adb server that talks to it."""

    def __init__(self, desktop, source_root, profile):
        self.adb = shutil.which("adb")
        self.desktop = desktop
        self.sim_path = os.path.join(source_root, "tests", "phone", "adbd-sim.py")
        self.profile = os.path.join(source_root, "tests", "phone", "profiles", profile)
        self.server_port = free_port()
        self.port = free_port(odd=True)
        self.serial = f"127.0.0.1:{self.port}"
        self.control = os.path.join(desktop.tmp, "sim.ctl")
        self.sim = None
        self.server_started = False

    def adb_cmd(self, *args, check=True):
        return subprocess.run([self.adb, "-P", str(self.server_port), *args],
                              env=self.desktop.env, capture_output=True, text=True, timeout=60,
                              check=check)

    def start(self):
        ready = os.path.join(self.desktop.tmp, "sim.ready")
        self.sim_log = open(os.path.join(self.desktop.tmp, "sim.log"), "w")
        self.sim = subprocess.Popen(["/usr/bin/python3", self.sim_path, "--port", str(self.port),
                                     "--profile", self.profile, "--control", self.control,
                                     "--ready-file", ready],
                                    env=self.desktop.env, stdout=self.sim_log,
                                    stderr=subprocess.STDOUT)
        wait_for("the simulated phone to listen", lambda: os.path.exists(ready), timeout=20)
        # moatd and adb both read the private port from here.
        self.desktop.env["ANDROID_ADB_SERVER_PORT"] = str(self.server_port)
        self.server_started = True
        self.adb_cmd("start-server")
        out = self.adb_cmd("connect", self.serial).stdout
        log(f"adb connect: {out.strip()}")

        def online():
            out = self.adb_cmd("devices").stdout
            return any(line.split("\t") == [self.serial, "device"] for line in out.splitlines())
        wait_for("the adb server to call the phone a device", online, timeout=30)

    def state(self):
        with socket.socket(socket.AF_UNIX) as s:
            s.settimeout(10)
            s.connect(self.control)
            s.sendall(b"state\n")
            data = b""
            while not data.endswith(b"\n"):
                chunk = s.recv(65536)
                if not chunk:
                    break
                data += chunk
        return json.loads(data)

    def close(self):
        if self.server_started and self.adb is not None:
            try:
                self.adb_cmd("kill-server", check=False)
            except Exception:
                pass
        if self.sim is not None and self.sim.poll() is None:
            self.sim.terminate()
            try:
                self.sim.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.sim.kill()
                self.sim.wait()


def main():
    build_root = os.environ.get("MOAT_BUILD_ROOT")
    source_root = os.environ.get("MOAT_SOURCE_ROOT")
    if not build_root or not source_root:
        moatui.skip("MOAT_BUILD_ROOT or MOAT_SOURCE_ROOT is not set (run through meson test)")
    if shutil.which("adb") is None:
        moatui.skip("adb is not installed")
    out_dir = os.path.join(build_root, "tests", "ui", "output")
    os.makedirs(out_dir, exist_ok=True)

    desktop = moatui.Desktop(build_root)
    phone = Phone(desktop, source_root, "risky.json")
    try:
        run(desktop, phone, out_dir)
    finally:
        if any(not ok for _, ok in results):
            for path in (getattr(desktop, "app_log_path", None),
                         os.path.join(desktop.tmp, "moatd.log")):
                if path and os.path.exists(path):
                    with open(path) as f:
                        for line in f.read().splitlines()[-30:]:
                            print(f"# {os.path.basename(path)}: {line}")
        # Before the desktop: moatd may still talk to the adb server.
        phone.close()
        desktop.close()

    failed = sum(1 for _, ok in results if not ok)
    print(f"1..{len(results)}")
    print(f"{len(results) - failed} passed, {failed} failed")
    return 1 if failed else 0


def run(desktop, phone, out_dir):
    from gi.repository import Atspi, GLib

    phone.start()
    desktop.start_moatd(["--proxy-port", "0"])
    try:
        desktop.call_moatd(MOAT1, "GetDevices", None)
    except GLib.Error as e:
        if "not implemented" in e.message or "UnknownMethod" in e.message:
            moatui.skip(f"this moatd has no phones yet: {e.message}")
        raise

    desktop.set_window_size(1200, 800)
    desktop.env["ASAN_OPTIONS"] = desktop.env.get("ASAN_OPTIONS", "") + ":detect_leaks=0"
    desktop.env["G_DEBUG"] = "fatal-criticals"
    desktop.start_app()
    a11y = moatui.A11y()
    wait_for("moat on the accessibility bus", a11y.app, timeout=30)
    wid = wait_for("the moat window", desktop.window_id, timeout=30)
    failure_shot[:] = [(desktop, wid, out_dir)]

    def our_device():
        for d in desktop.call_moatd(MOAT1, "GetDevices", None)[0]:
            if d[0] == phone.serial:
                return d
        return None

    def checked_device():
        d = our_device()
        return d if d is not None and d[5] in ("ready", "error") and d[9] > 0 else None

    def in_window(nodes):
        """The nodes inside the window: a folded AdwLeaflet keeps its hidden
        pane mapped beside the window."""
        w = desktop.window_geometry(wid)[2]
        return [n for n in nodes if 0 <= a11y.center(n)[0] < w]

    def open_devices_tab():
        tabs = wait_for("the Devices switcher", lambda: a11y.find(name="Devices", role="page tab"))
        a11y.click(tabs[-1], desktop, wid)

    state = {}

    def lists_the_phone():
        open_devices_tab()
        device = wait_for("moatd to check the phone", checked_device, timeout=90)
        log(f"moatd: {device}")
        state["device"] = device
        assert device[5] == "ready", f"the check failed: {device[7]}"
        assert device[4] == "wifi", device
        model = device[2]
        wait_for(f"a row for {model}", lambda: a11y.find(name=model, role="label"))
        assert a11y.find(name="Wi-Fi", role="label"), "no Wi-Fi badge"
        risk = {"high": "High Risk", "critical": "Critical Risk"}.get(device[6])
        assert risk is not None, f"the risky phone has risk {device[6]}"
        pills = wait_for(f"the “{risk}” pill", lambda: a11y.find(name=risk, role="label"))
        log(f"{len(pills)} “{risk}” labels (list and header)")
        assert len(pills) >= 2, "the risk is not shown in both the list and the phone's header"

    check("the Devices page lists the risky phone with its risk level", lists_the_phone)

    def shows_findings():
        findings = desktop.call_moatd(MOAT1, "GetDevicePosture", GLib.Variant("(s)", (phone.serial,)))[0]
        threats = [f for f in findings if f[1] == "threat"]
        assert threats, "moatd found nothing on the risky phone"
        order = ["critical", "high", "medium", "low", "info"]
        threats.sort(key=lambda f: order.index(f[3]) if f[3] in order else 9)
        first = threats[0]
        state["first"] = first
        log(f"{len(threats)} threats, first: {first[0]} {first[3]} “{first[4]}”")
        row = wait_for("the first finding's row", lambda: a11y.find(name=first[4], role="label"))[0]
        wait_for("its severity group", lambda: a11y.find(name=first[3].capitalize(), role="label"))
        if any(f[1] == "ok" for f in findings):
            assert a11y.find(name="Passed Checks", role="label"), "no Passed Checks row"
        a11y.scroll_into_view(row, desktop, wid)
        a11y.click(row, desktop, wid)
        if first[5]:
            wait_for("Why It Matters", lambda: a11y.find(name="Why It Matters", role="label"))
            wait_for("why it matters", lambda: a11y.find(name=first[5], role="label"))
        if first[6]:
            wait_for("How to Fix", lambda: a11y.find(name="How to Fix", role="label"))
        time.sleep(0.8)
        desktop.screenshot(os.path.join(out_dir, "devices-1200.png"), wid)

    check("the phone's findings show, the most severe first, with why and how to fix",
          shows_findings)

    def check_again():
        before = our_device()[9]
        button = wait_for("Check Again", lambda: a11y.find(name="Check Again", role="push button"))[0]
        a11y.scroll_into_view(button, desktop, wid)
        a11y.click(button, desktop, wid)
        wait_for("a new check", lambda: (our_device()[9] > before and our_device()[5] == "ready"),
                 timeout=90)
        wait_for("the button back", lambda: a11y.find(name="Check Again", role="push button"))
        assert not a11y.find(contains="Could not check the phone"), "Check Again failed"

    check("Check Again checks the phone again", check_again)

    def connect_error_inline():
        menu = wait_for("the page's menu", lambda: in_window(a11y.find(name="Phone Actions")))[0]
        a11y.click(menu, desktop, wid)
        item = wait_for("Connect Over Wi-Fi…", lambda: [
            n for n in a11y.find(role="menu item") if "Connect Over" in (n.get_name() or "")])[0]
        # A popover is a window of its own: its coordinates are not the main window's.
        a11y.click(item)
        dialog = wait_for("the dialog", lambda: desktop.window_id("^Connect Over Wi-Fi$"))
        time.sleep(0.5)
        desktop.xdotool("windowfocus", "--sync", dialog)
        address = f"127.0.0.1:{free_port(odd=True)}"  # nothing listens there
        desktop.xdotool("type", "--delay", "20", address)
        desktop.xdotool("key", "Return")
        # adb 29: "failed to connect to '127.0.0.1:P': Connection refused"
        label = wait_for("adb's error in the dialog", lambda: [
            n for n in a11y.find(role="label", contains=address)], timeout=60)[0]
        log(f"dialog says: {label.get_name()}")
        time.sleep(0.5)
        desktop.screenshot(os.path.join(out_dir, "devices-connect.png"), dialog)
        desktop.xdotool("key", "Escape")
        wait_for("the dialog to close", lambda: not desktop.window_id("^Connect Over Wi-Fi$"))

    check("Connect Over Wi-Fi shows adb's error in the dialog", connect_error_inline)

    def stop_app_confirmed():
        findings = desktop.call_moatd(MOAT1, "GetDevicePosture", GLib.Variant("(s)", (phone.serial,)))[0]
        with_app = [f for f in findings if f[1] == "threat" and f[8]]
        assert with_app, "no finding names an app"
        finding = with_app[0]
        package = finding[8][0]
        row = wait_for("the finding's row", lambda: a11y.find(name=finding[4], role="label"))[0]
        a11y.scroll_into_view(row, desktop, wid)

        def stop_buttons():
            return a11y.find(name=f"Stop App ({package})", role="push button")
        if not stop_buttons():
            a11y.click(row, desktop, wid)  # open the row
        button = wait_for(f"Stop App for {package}", stop_buttons)[0]
        a11y.scroll_into_view(button, desktop, wid)
        a11y.click(button, desktop, wid)
        wait_for("the question naming the app",
                 lambda: a11y.find(contains=f"“{package}” stops running on", role="label"))
        # libadwaita 1.2 names a response "_Stop App Stop App".
        responses = wait_for("the dialog's Stop App", lambda: [
            b for b in a11y.find(role="push button") if b.get_name().endswith(" Stop App")])
        time.sleep(0.3)
        a11y.click(responses[0])
        wait_for(f"{package} force-stopped on the phone",
                 lambda: package in phone.state().get("force_stopped", []), timeout=30)
        log(f"force_stopped: {phone.state().get('force_stopped')}")

    check("Stop App asks first, naming the app, then stops it on the phone", stop_app_confirmed)

    def disable_app_and_undo():
        findings = desktop.call_moatd(MOAT1, "GetDevicePosture", GLib.Variant("(s)", (phone.serial,)))[0]
        finding = [f for f in findings if f[1] == "threat" and f[8]][0]
        package = finding[8][0]

        def disable_buttons():
            return a11y.find(name=f"Disable App ({package})", role="push button")
        if not disable_buttons():
            row = wait_for("the finding's row", lambda: a11y.find(name=finding[4], role="label"))[0]
            a11y.scroll_into_view(row, desktop, wid)
            a11y.click(row, desktop, wid)
        button = wait_for(f"Disable App for {package}", disable_buttons)[0]
        a11y.scroll_into_view(button, desktop, wid)
        a11y.click(button, desktop, wid)
        wait_for("the question naming the app",
                 lambda: a11y.find(contains=f"“{package}” stops and cannot run on", role="label"))
        responses = wait_for("the dialog's Disable App", lambda: [
            b for b in a11y.find(role="push button") if b.get_name().endswith(" Disable App")])
        time.sleep(0.3)
        a11y.click(responses[0])
        wait_for(f"{package} disabled on the phone",
                 lambda: package in phone.state().get("disabled_packages", []), timeout=30)
        undo = wait_for("the toast's Undo", lambda: [
            b for b in a11y.find(role="push button") if b.get_name().replace("_", "")
            .startswith("Undo")])[0]
        a11y.click(undo, desktop, wid)
        wait_for(f"{package} enabled again", lambda: package not in phone.state().get(
            "disabled_packages", []), timeout=30)
        log(f"disabled then enabled again: {package}")

    check("Disable App asks first, disables the app, and the toast's Undo enables it",
          disable_app_and_undo)

    def protect_asks_first():
        switch = wait_for("Protect Web Traffic",
                          lambda: a11y.find(name="Protect Web Traffic", role="check box") or
                          a11y.find(name="Protect Web Traffic", role="toggle button"))[0]
        a11y.scroll_into_view(switch, desktop, wid)
        settings_before = phone.state()["settings"].get("global", {}).get("http_proxy")
        a11y.click(switch, desktop, wid)
        wait_for("the question", lambda: a11y.find(contains="Protect the Web Traffic of",
                                                   role="label"))
        cancel = wait_for("Cancel", lambda: [
            b for b in a11y.find(role="push button") if b.get_name().endswith("Cancel")])[0]
        a11y.click(cancel)
        wait_for("the switch off again", lambda: not switch.get_state_set().contains(
            Atspi.StateType.CHECKED))
        time.sleep(0.5)
        assert phone.state()["settings"].get("global", {}).get("http_proxy") == settings_before, \
            "the phone's proxy changed although the user said Cancel"
        assert not our_device()[8], "moatd routes the phone although the user said Cancel"

    check("Protect Web Traffic asks first and Cancel changes nothing", protect_asks_first)

    def protect_on_and_off():
        switch = wait_for("Protect Web Traffic", lambda: a11y.find(name="Protect Web Traffic",
                                                                   role="check box"))[0]
        proxy = desktop.moatd_properties()["ProxyAddress"]
        before = phone.state()["settings"].get("global", {}).get("http_proxy")
        a11y.scroll_into_view(switch, desktop, wid)
        a11y.click(switch, desktop, wid)
        protect = wait_for("Protect", lambda: [
            b for b in a11y.find(role="push button") if b.get_name().endswith(" Protect")])[0]
        a11y.click(protect)
        wait_for("the phone's proxy pointing here", lambda: phone.state()["settings"].get(
            "global", {}).get("http_proxy", "").endswith(":" + proxy.rsplit(":", 1)[-1]),
            timeout=30)
        assert phone.state()["reverse"], "no reverse forward on the phone"
        wait_for("the switch on", lambda: switch.get_state_set().contains(Atspi.StateType.CHECKED))
        wait_for("moatd to say so", lambda: our_device()[8])
        time.sleep(0.5)
        desktop.screenshot(os.path.join(out_dir, "devices-protected-1200.png"), wid)
        # Off needs no question: it puts the phone back as it was.
        a11y.click(switch, desktop, wid)
        wait_for("the phone's proxy as before", lambda: phone.state()["settings"].get(
            "global", {}).get("http_proxy") == before, timeout=30)
        wait_for("the reverse forward gone", lambda: phone.state()["reverse"] == [])
        wait_for("the switch off", lambda: not switch.get_state_set().contains(
            Atspi.StateType.CHECKED))
        assert not a11y.find(contains="Could not", role="label"), "an error toast"

    check("Protect Web Traffic on sets the phone's proxy, off restores it", protect_on_and_off)

    def import_indicators():
        bundle = os.path.join(os.environ["MOAT_SOURCE_ROOT"], "tests", "fixtures", "ioc",
                              "spymobile.stix2")
        menu = wait_for("the page's menu", lambda: in_window(a11y.find(name="Phone Actions")))[0]
        a11y.click(menu, desktop, wid)
        item = wait_for("Import Indicators…", lambda: [
            n for n in a11y.find(role="menu item") if "Import Indicators" in (n.get_name() or "")])[0]
        a11y.click(item)
        chooser = wait_for("the file chooser",
                           lambda: desktop.window_id("^Import Indicators of Compromise$"))
        time.sleep(1.0)
        desktop.xdotool("windowfocus", "--sync", chooser)
        desktop.xdotool("key", "ctrl+l")
        desktop.xdotool("type", "--delay", "10", bundle)
        desktop.xdotool("key", "Return")
        toast = wait_for("the import's toast", lambda: a11y.find(contains="Imported ", role="label")
                         or a11y.find(contains="Could not import the indicators", role="label"),
                         timeout=30)[0].get_name()
        log(f"toast: {toast}")
        if "not implemented" in toast or "UnknownMethod" in toast:
            log("SKIP import: this moatd has no ImportIndicators yet")
            return
        assert toast.startswith("Imported "), toast
        # spymobile.stix2 names apps and domains; every kind gets words, not moatd's ids.
        assert " apps" in toast or " app," in toast or toast.endswith(" app"), toast
        assert "domain" in toast, toast
        for raw in ("app-id", "app-cert", "file-name", "android-property"):
            assert raw not in toast, f"“{raw}” in the toast: {toast}"
        wait_for("the bundle under Indicators of Compromise", lambda: [
            n for n in a11y.find(role="label", contains="spymobile")
            if "indicators, imported" not in n.get_name()])
        # Out of the way of the screenshot: the menu button's tooltip.
        x, y, w, h = desktop.window_geometry(wid)
        desktop.xdotool("mousemove", str(x + w - 40), str(y + h // 2))
        # moatd checks the phones again: the bundle's apps are on the risky phone.
        wait_for("a known malicious app among the findings",
                 lambda: a11y.find(name="Known malicious app", role="label"), timeout=90)
        time.sleep(0.5)
        desktop.screenshot(os.path.join(out_dir, "devices-ioc-1200.png"), wid)

    check("Import Indicators passes the chosen bundle to moatd", import_indicators)

    def follows_unplug():
        model = state["device"][2]
        control = socket.socket(socket.AF_UNIX)

        def send(command):
            with socket.socket(socket.AF_UNIX) as s:
                s.connect(phone.control)
                s.sendall(command.encode() + b"\n")
        send("unplug")
        gone = wait_for("moatd to see the phone go", lambda: (
            our_device() if our_device() is None or our_device()[5] != "ready" else None) or
            (our_device() is None and "removed"), timeout=60)
        log(f"unplugged: {gone}")
        control.close()
        if gone != "removed":
            # The row says what moatd says: the step to take, or that it is gone.
            want = gone[7] if gone[5] in ("unauthorized", "offline", "no-permissions", "error") \
                else "Not connected"
            if want:
                wait_for(f"the row to say “{want}”", lambda: [
                    n for n in in_window(a11y.find(role="label", contains=want))])
        time.sleep(0.5)
        desktop.screenshot(os.path.join(out_dir, "devices-unplugged-1200.png"), wid)
        send("plug")
        if gone == "removed" or phone.serial not in phone.adb_cmd("devices").stdout:
            phone.adb_cmd("connect", phone.serial, check=False)
        wait_for("the phone back and checked", lambda: (
            our_device() is not None and our_device()[5] == "ready"), timeout=90)
        wait_for(f"the row for {model} with its risk again", lambda: in_window(
            a11y.find(name={"high": "High Risk", "critical": "Critical Risk"}[our_device()[6]],
                      role="label")))

    check("unplugging and plugging the phone back show live", follows_unplug)

    def narrow():
        desktop.resize_window(wid, 360, 720)
        wait_for("a 360 px window", lambda: desktop.window_geometry(wid)[2] == 360)
        time.sleep(1.0)
        # Folded: the list, or the phone with a way back to it.
        back = in_window(a11y.find(name="Phones", role="push button"))
        if back:
            a11y.click(back[0], desktop, wid)
        model = state["device"][2]
        row = wait_for("the phone's row",
                       lambda: in_window(a11y.find(name=model, role="label")))[0]
        time.sleep(0.8)
        desktop.screenshot(os.path.join(out_dir, "devices-360.png"), wid)
        a11y.click(row, desktop, wid)
        wait_for("the way back", lambda: in_window(a11y.find(name="Phones", role="push button")))
        wait_for("the phone's findings",
                 lambda: in_window(a11y.find(name=state["first"][4], role="label")))
        time.sleep(0.8)
        desktop.screenshot(os.path.join(out_dir, "devices-360-detail.png"), wid)
        assert desktop.window_geometry(wid)[2] == 360, "the Devices page needs more than 360 px"

    check("the Devices page works at 360 px", narrow)

    def quits_cleanly():
        desktop.app_action("quit")
        code = desktop.app.wait(timeout=20)
        with open(desktop.app_log_path) as f:
            log_text = f.read()
        assert code == 0, f"moat exited with {code}"
        for bad in ("CRITICAL", "AddressSanitizer", "runtime error"):
            assert bad not in log_text, f"“{bad}” in moat's output:\n{log_text[-2000:]}"

    check("moat quits cleanly", quits_cleanly)


if __name__ == "__main__":
    sys.exit(main())
