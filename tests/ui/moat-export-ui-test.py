#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright 2026 The Moat developers
"""UI test of Export Report: moat and moatd on a private desktop (see
moatui.py). Opens the main menu's Export Report…, chooses HTML and leaves the
phones out, saves through the file chooser, and checks the file moatd's data
made: a self-contained HTML report (tests/report/check-report.py) without a
phones section. Then a PDF with everything, checked the same way (pdfinfo,
pdftoppm). Keeps export-dialog.png under <build>/tests/ui/output/.

Exit status: 0 pass, 1 fail, 77 skip (no Xvfb, AT-SPI or build products)."""

import os
import subprocess
import sys
import tempfile
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import moatui  # noqa: E402
from moatui import log, wait_for  # noqa: E402

results = []


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
    try:
        run(desktop, source_root, out_dir)
    finally:
        if any(not ok for _, ok in results):
            path = getattr(desktop, "app_log_path", None)
            if path and os.path.exists(path):
                with open(path) as f:
                    for line in f.read().splitlines()[-30:]:
                        print(f"# app: {line}")
        desktop.close()
    failed = sum(1 for _, ok in results if not ok)
    print(f"1..{len(results)}")
    return 1 if failed else 0


def adb_servers_of(tmp):
    """adb servers started from this test's desktop (its HOME)."""
    found = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                cmd = f.read().split(b"\0")
            with open(f"/proc/{pid}/environ", "rb") as f:
                env = f.read()
        except OSError:
            continue
        if cmd and os.path.basename(cmd[0]) == b"adb" and tmp.encode() in env:
            found.append(pid)
    return found


def run(desktop, source_root, out_dir):
    from gi.repository import GLib

    desktop.start_moatd(["--proxy-port", "0"])
    desktop.call_moatd("io.github.moatproject.Moat1", "CheckHealth", GLib.Variant("(s)", ("",)))
    desktop.set_window_size(1200, 800)
    desktop.env["ASAN_OPTIONS"] = desktop.env.get("ASAN_OPTIONS", "") + ":detect_leaks=0"
    desktop.start_app()
    a11y = moatui.A11y()
    wait_for("moat on the accessibility bus", a11y.app, timeout=30)
    wid = wait_for("the moat window", desktop.window_id, timeout=30)
    tmp = tempfile.mkdtemp(prefix="moat-export-", dir=desktop.tmp)
    checker = os.path.join(source_root, "tests", "report", "check-report.py")

    def adb_servers():
        return adb_servers_of(desktop.tmp)
    schema = os.path.join(source_root, "data", "report", "moat-report.schema.json")

    def export(path, choose_html, phones_off, shot):
        # F10 opens the primary menu, as for a user.
        desktop.xdotool("windowfocus", "--sync", wid)
        desktop.xdotool("key", "F10")
        wait_for("Export Report…", lambda: a11y.find(name="Export Report…"))
        # The menu's first item has the focus: the keyboard, as the popover is
        # its own surface.
        desktop.xdotool("key", "Return")
        dialog = wait_for("the Export Report dialog", lambda: desktop.window_id("^Export Report$"))
        if choose_html:
            row = wait_for("the format row", lambda: a11y.find(name="Format"))[0]
            a11y.click(row, desktop, dialog)
            wait_for("the formats", lambda: a11y.find(name="Web page (HTML)"))
            # The list is a popover: the keyboard, from the chosen PDF to HTML.
            desktop.xdotool("key", "Down")
            desktop.xdotool("key", "Return")
            wait_for("HTML chosen", lambda: not a11y.find(name="PDF document"))
        if phones_off:
            # The row toggles its switch.
            row = wait_for("the Phones row", lambda: a11y.find(
                name="Each phone’s findings and their evidence"))[0]
            a11y.click(row, desktop, dialog)
        if shot:
            desktop.screenshot(os.path.join(out_dir, "export-dialog.png"), dialog)
        button = wait_for("Export…", lambda: [
            b for b in a11y.find(contains="Export", role="push button")
            if b.get_name().endswith("Export…")])[0]
        a11y.click(button, desktop, dialog)
        def windows():
            return subprocess.run(["xdotool", "search", "--onlyvisible", "--name",
                                   "^Export Report$"], env=desktop.env, capture_output=True,
                                  text=True).stdout.split()
        chooser = wait_for("the file chooser", lambda: [w for w in windows() if w != dialog],
                           timeout=20)[0]
        desktop.xdotool("windowfocus", "--sync", chooser)
        desktop.xdotool("key", "ctrl+a")
        desktop.xdotool("type", "--delay", "10", path)
        desktop.xdotool("key", "Return")
        wait_for("the report file", lambda: os.path.exists(path) and os.path.getsize(path) > 0,
                 timeout=60)
        wait_for("the dialog to close", lambda: not desktop.window_id("^Export Report$"),
                 timeout=30)

    def html_without_phones():
        path = os.path.join(tmp, "report.html")
        export(path, True, True, True)
        r = subprocess.run([sys.executable, checker, path, "--format", "html"],
                           capture_output=True, text=True)
        log(r.stdout + r.stderr)
        assert r.returncode == 0, r.stdout + r.stderr
        with open(path, encoding="utf-8") as f:
            text = f.read()
        assert "<script" not in text.lower()
        assert "computer.screen_lock" in text or "Screen lock" in text or "screen" in text
    check("Export Report writes an HTML report without the phones", html_without_phones)

    def pdf_with_everything():
        path = os.path.join(tmp, "report.pdf")
        export(path, False, False, False)
        r = subprocess.run([sys.executable, checker, path, "--format", "pdf"], capture_output=True,
                           text=True)
        log(r.stdout + r.stderr)
        assert r.returncode == 0, r.stdout + r.stderr
        pages = subprocess.run(["pdfinfo", path], capture_output=True, text=True).stdout
        log(pages)
        assert "Pages:" in pages

    def no_adb_server():
        """Opening Moat, its Health page and a report without the phones
        start no adb server: only looking at the phones does."""
        mine = adb_servers()
        assert not mine, f"adb servers started by this test's moat: {mine}"
    check("no adb server is started without looking at the phones", no_adb_server)

    check("Export Report writes a PDF", pdf_with_everything)
    # A report with the phones asks moatd for them, which starts an adb
    # server: not left behind.
    for pid in adb_servers():
        os.kill(int(pid), 15)
    del schema


if __name__ == "__main__":
    sys.exit(main())
