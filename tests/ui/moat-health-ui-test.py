#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright 2026 The Moat developers
"""UI test of the Health page: moat and moatd on a private desktop (see
moatui.py), moatd reading this computer from the fake root
tests/fixtures/health/unhealthy (MOAT_TEST_HEALTH_ROOT, test API builds only)
so that many checks have problems.

Checks through the accessibility tree that the page shows moatd's level
(below 4) and its problems, that a problem opens its guided fix with why it
matters, the steps and a Fix It button (for computer.screen_lock or
moat.protection), that Fix It asks first, that the Overview shows the level
and leads to the page, that Preferences has the email alert settings, and
that the page works at 360 px. Keeps health-1200.png (a guided fix open),
health-360.png, health-360-fix.png and preferences-alerts.png under
<build>/tests/ui/output/.

Exit status: 0 pass, 1 fail, 77 skip (no Xvfb, AT-SPI or build products)."""

import importlib.util
import json
import os
import shutil
import sys
import time
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import moatui  # noqa: E402
from moatui import log, wait_for  # noqa: E402

MOAT1 = "io.github.moatproject.Moat1"
FIXABLE = ("computer.screen_lock", "moat.protection")
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
                desktop.screenshot(os.path.join(out_dir, f"health-failed-{len(results)}.png"), wid)
            except Exception:
                pass


def main():
    build_root = os.environ.get("MOAT_BUILD_ROOT")
    source_root = os.environ.get("MOAT_SOURCE_ROOT")
    if not build_root or not source_root:
        moatui.skip("MOAT_BUILD_ROOT or MOAT_SOURCE_ROOT is not set (run through meson test)")
    out_dir = os.path.join(build_root, "tests", "ui", "output")
    os.makedirs(out_dir, exist_ok=True)

    desktop = moatui.Desktop(build_root)
    desktop.env["MOAT_TEST_HEALTH_ROOT"] = os.path.join(source_root, "tests", "fixtures", "health",
                                                        "unhealthy")
    phone = None
    if shutil.which("adb") is not None:
        # The simulated risky phone of the Devices UI test, for the phone's checks.
        spec = importlib.util.spec_from_file_location(
            "devices_ui", os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                       "moat-devices-ui-test.py"))
        devices_ui = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(devices_ui)
        phone = devices_ui.Phone(desktop, source_root, "risky.json")
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
        if phone is not None:
            phone.close()
        desktop.close()

    failed = sum(1 for _, ok in results if not ok)
    print(f"1..{len(results)}")
    print(f"{len(results) - failed} passed, {failed} failed")
    return 1 if failed else 0


def run(desktop, phone, out_dir):
    from gi.repository import GLib

    if phone is not None:
        phone.start()
    desktop.start_moatd(["--proxy-port", "0"])
    try:
        desktop.call_moatd(MOAT1, "CheckHealth", GLib.Variant("(s)", ("",)))
    except GLib.Error as e:
        if "not implemented" in e.message or "UnknownMethod" in e.message:
            moatui.skip(f"this moatd has no health checks yet: {e.message}")
        raise

    def fixable_problems():
        # Until the filter lists load, the proxy does not run and
        # moat.protection is a problem Moat cannot fix: check again.
        found = [i for i in desktop.call_moatd(MOAT1, "GetHealth", None)[0]
                 if i[0] in FIXABLE and i[3] == "problem" and i[11]]
        if not found:
            time.sleep(1)
            desktop.call_moatd(MOAT1, "CheckHealth", GLib.Variant("(s)", ("",)))
        return sorted(found, key=lambda i: FIXABLE.index(i[0]))
    target = wait_for(f"one of {FIXABLE} to be a problem Moat can fix", fixable_problems,
                      timeout=60)[0]
    items = desktop.call_moatd(MOAT1, "GetHealth", None)[0]
    level = desktop.moatd_properties()["HealthLevel"]
    problems = [i for i in items if i[3] == "problem"]
    log(f"{len(items)} checks, {len(problems)} problems, level {level}, target {target[0]}")

    desktop.set_window_size(1200, 800)
    desktop.env["ASAN_OPTIONS"] = desktop.env.get("ASAN_OPTIONS", "") + ":detect_leaks=0"
    desktop.env["G_DEBUG"] = "fatal-criticals"
    desktop.start_app()
    a11y = moatui.A11y()
    wait_for("moat on the accessibility bus", a11y.app, timeout=30)
    wid = wait_for("the moat window", desktop.window_id, timeout=30)
    failure_shot[:] = [(desktop, wid, out_dir)]

    def in_window(nodes):
        """The nodes inside the window: a folded AdwLeaflet keeps its hidden
        pane mapped beside the window."""
        w = desktop.window_geometry(wid)[2]
        return [n for n in nodes if 0 <= a11y.center(n)[0] < w]

    def level_labels():
        return [n for n in in_window(a11y.find(role="label", contains="Level "))
                if n.get_name().startswith("Level ")]

    def overview_row():
        row = wait_for("Protection Health on the Overview",
                       lambda: in_window(a11y.find(name="Protection Health", role="label")),
                       timeout=30)[0]
        pill = wait_for(f"“Level {level} of 4” on the Overview",
                        lambda: in_window(a11y.find(name=f"Level {level} of 4", role="label")))
        assert pill, "no level on the Overview"
        time.sleep(0.5)
        desktop.screenshot(os.path.join(out_dir, "health-overview-1200.png"), wid)
        a11y.click(row, desktop, wid)
        wait_for("the Health page", lambda: [n for n in level_labels() if ":" in n.get_name()])

    check("the Overview shows the health level and leads to the Health page", overview_row)

    def shows_level_and_problems():
        tabs = wait_for("the Health switcher", lambda: a11y.find(name="Health", role="page tab"))
        a11y.click(tabs[-1], desktop, wid)
        label = wait_for("the level label", lambda: [
            n for n in level_labels() if ":" in n.get_name()])[0].get_name()
        log(f"level label: {label}")
        shown = int(label.split(":")[0].split()[1])
        assert shown == level, f"the page says {shown}, moatd {level}"
        assert shown < 4, f"the unhealthy fixture is at level {shown}"
        first = problems[0]
        wait_for(f"the worst problem “{first[5]}”",
                 lambda: in_window(a11y.find(name=first[5], role="label")))
        order = {"critical": "Critical Problems", "high": "Serious Problems",
                 "medium": "Problems", "low": "Minor Problems"}
        if first[4] in order:
            wait_for(f"its group “{order[first[4]]}”",
                     lambda: in_window(a11y.find(name=order[first[4]], role="label")))
        if any(i[3] == "unknown" for i in items):
            wait_for("Could Not Check", lambda: in_window(a11y.find(name="Could Not Check",
                                                                    role="label")))
        wait_for("the healthy checks, collapsed", lambda: in_window(
            a11y.find(role="label", contains="passed")) or
            not any(i[3] == "ok" for i in items))
        x, y, w, h = desktop.window_geometry(wid)
        desktop.xdotool("mousemove", str(x + w - 20), str(y + h - 80))
        time.sleep(0.5)
        desktop.screenshot(os.path.join(out_dir, "health-list-1200.png"), wid)

    check("the Health page shows the level below 4 and the problems by severity",
          shows_level_and_problems)

    def opens_guided_fix():
        row = wait_for(f"the row “{target[5]}”",
                       lambda: in_window(a11y.find(name=target[5], role="label")))[0]
        a11y.scroll_into_view(row, desktop, wid)
        a11y.click(row, desktop, wid)
        wait_for("Why It Matters", lambda: in_window(a11y.find(name="Why It Matters",
                                                               role="label")))
        wait_for("If You Ignore It", lambda: in_window(a11y.find(name="If You Ignore It",
                                                                 role="label")))
        if target[10]:
            wait_for("the first step", lambda: in_window(a11y.find(name=target[10][0],
                                                                   role="label")))
            wait_for("its number", lambda: in_window(a11y.find(name="Step 1")))
        fix = wait_for(f"Fix It for {target[0]}",
                       lambda: in_window(a11y.find(name="Fix It", role="push button")))
        log(f"Fix It for {target[0]} ({len(fix)} button)")
        assert in_window(a11y.find(name="Remind Me Later", role="push button")), "no snooze"
        assert in_window(a11y.find(name="Check Again", role="push button")), "no Check Again"
        # Out of the way of the screenshot: the row's hover.
        x, y, w, h = desktop.window_geometry(wid)
        desktop.xdotool("mousemove", str(x + w - 20), str(y + h - 80))
        time.sleep(0.8)
        desktop.screenshot(os.path.join(out_dir, "health-1200.png"), wid)

    check("a problem opens its guided fix with Fix It", opens_guided_fix)

    def fix_asks_first():
        fix = wait_for("Fix It", lambda: in_window(a11y.find(name="Fix It", role="push button")))[0]
        a11y.click(fix, desktop, wid)
        wait_for("the question", lambda: a11y.find(name="Let Moat Fix This?", role="label"))
        wait_for("what Moat will change", lambda: a11y.find(
            contains="Moat will change ", role="label"))
        time.sleep(0.5)
        desktop.screenshot(os.path.join(out_dir, "health-fix-dialog.png"), wid)
        cancel = wait_for("Cancel", lambda: [
            b for b in a11y.find(role="push button") if b.get_name().endswith("Cancel")])[0]
        a11y.click(cancel)
        wait_for("the question to go",
                 lambda: not a11y.find(name="Let Moat Fix This?", role="label"))
        again = [i for i in desktop.call_moatd(MOAT1, "GetHealth", None)[0]
                 if i[0] == target[0] and i[2] == target[2]][0]
        assert again[3] == "problem", f"Cancel fixed it anyway: {again[3]}"

    check("Fix It asks first, and Cancel changes nothing", fix_asks_first)

    def snooze():
        button = wait_for("Remind Me Later", lambda: in_window(
            a11y.find(name="Remind Me Later", role="push button")))[0]
        a11y.click(button, desktop, wid)
        wait_for("the toast", lambda: a11y.find(contains="remind you about this again tomorrow",
                                                role="label"), timeout=20)

    check("Remind Me Later snoozes the problem for a day", snooze)

    def alert_preferences():
        desktop.app_action("preferences")
        pref_wid = wait_for("the Preferences window", lambda: desktop.window_id("^Preferences$"))
        tab = wait_for("the Alerts page", lambda: a11y.find(name="Alerts", role="page tab"))[0]
        a11y.click(tab, desktop, pref_wid)
        row = wait_for("Send Alerts To", lambda: a11y.find(name="Send Alerts To", role="label"))[0]
        wait_for("the mail server", lambda: a11y.find(name="Server", role="label"))
        wait_for("the password", lambda: a11y.find(name="Password", role="label"))
        a11y.click(row, desktop, pref_wid)
        time.sleep(0.3)
        desktop.xdotool("type", "--delay", "20", "helpdesk@example.org")
        keyfile = os.path.join(desktop.env["XDG_CONFIG_HOME"], "glib-2.0", "settings", "keyfile")

        def saved():
            with open(keyfile) as f:
                return "email-to='helpdesk@example.org'" in f.read()
        wait_for("email-to in the settings", saved, timeout=10)
        time.sleep(0.5)
        desktop.screenshot(os.path.join(out_dir, "preferences-alerts.png"), pref_wid)
        desktop.xdotool("key", "Escape")
        wait_for("the Preferences window to close", lambda: not desktop.window_id("^Preferences$"))

    check("the alert settings are in Preferences and write the settings moatd reads",
          alert_preferences)

    def phone_problems():
        if phone is None:
            log("SKIP the phone's checks: adb is not installed")
            return
        desktop.call_moatd(MOAT1, "GetDevices", None)  # starts following the adb server

        def phone_items():
            found = [i for i in desktop.call_moatd(MOAT1, "GetHealth", None)[0]
                     if i[2] == phone.serial]
            return len(found) > 5 and found
        found = wait_for("the phone's health checks", phone_items, timeout=120)
        model = [d for d in desktop.call_moatd(MOAT1, "GetDevices", None)[0]
                 if d[0] == phone.serial][0][2]
        with_screen = [i for i in found if i[3] == "problem" and i[9]]
        log(f"{len(found)} checks on {model}, {len(with_screen)} problems with a screen")
        assert with_screen, "no phone problem names a settings screen"
        item = with_screen[0]
        back = in_window(a11y.find(name="Health", role="push button"))
        if back:
            a11y.click(back[0], desktop, wid)
        # Live: moatd's HealthChanged brings the rows, under the phone's model.
        wait_for(f"a row on {model}", lambda: in_window(
            a11y.find(role="label", contains=f"{model} · ")), timeout=30)
        row = wait_for(f"the row “{item[5]}”",
                       lambda: in_window(a11y.find(name=item[5], role="label")))[0]
        a11y.scroll_into_view(row, desktop, wid)
        a11y.click(row, desktop, wid)
        button = wait_for("Open on Phone", lambda: in_window(
            a11y.find(name="Open on Phone", role="push button")))[0]
        before = len(phone.state()["started"])
        a11y.click(button, desktop, wid)
        wait_for("the settings screen started on the phone",
                 lambda: len(phone.state()["started"]) > before, timeout=30)
        log(f"started on the phone: {phone.state()['started'][-1]}")
        x, y, w, h = desktop.window_geometry(wid)
        desktop.xdotool("mousemove", str(x + w - 20), str(y + h - 80))
        time.sleep(0.8)
        desktop.screenshot(os.path.join(out_dir, "health-phone-1200.png"), wid)

    check("a phone's problems show under its model and open on the phone", phone_problems)

    def narrow():
        desktop.resize_window(wid, 360, 720)
        wait_for("a 360 px window", lambda: desktop.window_geometry(wid)[2] == 360)
        time.sleep(1.0)
        wait_for("the fix at 360 px", lambda: in_window(a11y.find(name="Why It Matters",
                                                                  role="label")))
        time.sleep(0.5)
        desktop.screenshot(os.path.join(out_dir, "health-360-fix.png"), wid)
        back = wait_for("the way back", lambda: in_window(a11y.find(name="Health",
                                                                    role="push button")))[0]
        a11y.click(back, desktop, wid)
        wait_for("the level label", lambda: [n for n in level_labels() if ":" in n.get_name()])
        time.sleep(0.8)
        desktop.screenshot(os.path.join(out_dir, "health-360.png"), wid)
        assert desktop.window_geometry(wid)[2] == 360, "the Health page needs more than 360 px"

    check("the Health page works at 360 px", narrow)

    def fix_it():
        row = wait_for(f"the row “{target[5]}”",
                       lambda: in_window(a11y.find(name=target[5], role="label")))[0]
        a11y.scroll_into_view(row, desktop, wid, bottom=120)
        a11y.click(row, desktop, wid)
        fix = wait_for("Fix It", lambda: in_window(a11y.find(name="Fix It", role="push button")))[0]
        a11y.click(fix, desktop, wid)
        wait_for("the question", lambda: a11y.find(name="Let Moat Fix This?", role="label"))
        # libadwaita 1.2 names a response "_Fix It Fix It".
        response = wait_for("the dialog's Fix It", lambda: [
            b for b in a11y.find(role="push button") if b.get_name().endswith(" Fix It")])[0]
        time.sleep(0.3)
        a11y.click(response)

        def changed():
            now = [i for i in desktop.call_moatd(MOAT1, "GetHealth", None)[0]
                   if i[0] == target[0] and i[2] == target[2]]
            return now and (now[0][3], now[0][6]) != (target[3], target[6]) and now[0]
        after = wait_for("moatd to check it again", changed, timeout=60)
        log(f"after the fix: {after[3]} “{after[6]}”")
        # The toast says what moatd says it did, as recorded in its event.
        def fixed_events():
            desktop.call_moatd(MOAT1 + ".Testing", "Flush", None)
            events = desktop.call_moatd(MOAT1, "ListEvents", GLib.Variant(
                "(a{sv}tu)", ({"search": GLib.Variant("s", target[0])}, 0, 100)))[0]
            return [e for e in events if e[6] == "fixed"]
        fixed = wait_for(f"a “fixed” event for {target[0]}", fixed_events, timeout=10)
        message = json.loads(fixed[0][7]).get("summary")
        log(f"moatd: {message}")
        assert not a11y.find(contains="Could not fix", role="label"), "Fix It failed"
        wait_for(f"the toast “{message}”", lambda: a11y.find(name=message, role="label"),
                 timeout=10)
        wait_for("the page to show the new result", lambda: in_window(
            a11y.find(name=after[6], role="label")), timeout=30)
        if after[3] == "ok":
            wait_for("Healthy", lambda: in_window(a11y.find(name="Healthy", role="label")))
        time.sleep(0.5)
        desktop.screenshot(os.path.join(out_dir, "health-360-fixed.png"), wid)

    check("Fix It makes the change and the page shows the check's new result", fix_it)

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
