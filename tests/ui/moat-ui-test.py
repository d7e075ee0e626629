#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright 2026 The Moat developers
"""UI test: moat against a seeded moatd on a private desktop (Xvfb, session bus,
AT-SPI). Checks through the accessibility tree that the Overview shows the
daemon's state and the protect switch, that the Activity list shows the seeded
events and filters them, that a proxy block explains itself (rule, list) in its
details view, that the Lists page shows moatd's lists and changes its
categories and the user's hosts, and that the Threats page shows a raised
threat with its evidence, what Moat did, the policy and the switches; keeps screenshots at 1200 and 360 px under
<build>/tests/ui/output/.

Exit status: 0 pass, 1 fail, 77 skip (no Xvfb, AT-SPI or build products)."""

import json
import os
import subprocess
import sys
import time
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import moatui  # noqa: E402
from moatui import log, wait_for  # noqa: E402

PROTECTION_TEXT = {
    "protected": "This computer is protected",
    "unprotected": "This computer is not protected",
    "degraded": "This computer needs attention",
    "paused": "Protection is paused",
}
RISK_TEXT = {
    "none": "No Risk",
    "low": "Low Risk",
    "medium": "Medium Risk",
    "high": "High Risk",
    "critical": "Critical Risk",
}

results = []
# (desktop, window id, output dir) for a screenshot of each failure
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
                desktop.screenshot(os.path.join(out_dir, f"failed-{len(results)}.png"), wid)
            except Exception:
                pass


def seed_events():
    now = int(time.time() * 1_000_000)
    sec = 1_000_000
    events = []
    for i in range(30):
        events.append((now - (300 - i) * sec, "proxy", "content.unwanted", "low",
                       f"ads-{i}.example.net", "blocked", "{}"))
    for i in range(3):
        events.append((now - (100 - i) * sec, "proxy", "content.malware", "high",
                       f"evil-download-{i}.example.org", "blocked", "{}"))
    events.append((now - 50 * sec, "detector", "network.tls_interception", "critical",
                   "cafe-wifi", "notified", "{}"))
    events.append((now - 10 * sec, "proxy", "content.phishing", "medium",
                   "login-bank.example.com", "blocked", "{}"))
    return events


MOAT1 = "io.github.moatproject.Moat1"
PROXY_BLOCK_DETAIL = json.dumps({
    "reason": "filter", "tunnel": True, "port": 443, "category": "trackers",
    "list": "EasyPrivacy", "rule": "||tracker.example-ui.test^", "line": 4242,
})
TESTING = "io.github.moatproject.Moat1.Testing"
# As moatd's network checks write it: the network and each check that saw it.
THREAT_EVIDENCE = json.dumps({
    "network": "the network on eth0 via 192.0.2.1",
    "checks": [{
        "detector": "tls", "subject": "www.example.com:443",
        "summary": "The certificate of www.example.com was issued by CN=mitmproxy, O=mitmproxy, "
                   "which this computer does not trust.",
        "evidence": {
            "issuer": "CN=mitmproxy, O=mitmproxy",
            "spki_sha256": "3f2a9c0b5e7d1f4a6b8c2d0e9f1a3b5c7d9e0f2a4b6c8d0e1f3a5b7c9d1e3f5a",
            "chain_length": 2,
        },
    }],
})
# What the Threats page calls the policy's actions and their states.
ACTION_TEXT = {
    "vpn_on_demand": "Connect the company VPN",
    "block_protected_resources": "Block the company’s resources",
    "notify": "Notify",
}
STATE_TEXT = {
    "trying": "Trying…",
    "in-effect": "In effect until the network is safe",
    "done": "Done",
    "failed": "Failed",
}
# Line 2 is not list syntax; the others are.
BAD_LIST = "good-one.example\n[not a rule\ngood-two.example\n||good-three.example^\n"


def find_event_rows(a11y, text):
    """The event rows whose accessible label contains @text (rows may vanish
    while we look: the list view recycles them)."""
    found = []
    for node in a11y.find(contains=" severity, "):
        try:
            if text in node.get_name():
                found.append(node)
        except Exception:
            continue
    return found


def event_rows(a11y):
    # MoatEventRow's accessible label: "threat, subject, severity severity, action, time"
    return [n.get_name() for n in a11y.find(contains=" severity, ")]


def main():
    build_root = os.environ.get("MOAT_BUILD_ROOT")
    if not build_root:
        moatui.skip("MOAT_BUILD_ROOT is not set (run through meson test)")
    out_dir = os.path.join(build_root, "tests", "ui", "output")
    os.makedirs(out_dir, exist_ok=True)

    desktop = moatui.Desktop(build_root)
    try:
        run(desktop, out_dir)
    finally:
        if any(not ok for _, ok in results) and getattr(desktop, "app_log_path", None):
            with open(desktop.app_log_path) as f:
                for line in f.read().splitlines()[-40:]:
                    print(f"# moat: {line}")
        desktop.close()

    failed = sum(1 for _, ok in results if not ok)
    print(f"1..{len(results)}")
    print(f"{len(results) - failed} passed, {failed} failed")
    return 1 if failed else 0


def run(desktop, out_dir):
    from gi.repository import Atspi, GLib
    desktop.start_moatd(["--proxy-port", "0"])
    events = seed_events()
    accepted = desktop.add_events(events)
    log(f"seeded {accepted} events")
    blocked = sum(1 for e in events if e[5] == "blocked")

    desktop.set_window_size(1200, 800)
    # GTK does not free everything at exit; memory errors still abort.
    desktop.env["ASAN_OPTIONS"] = desktop.env.get("ASAN_OPTIONS", "") + ":detect_leaks=0"
    desktop.env["G_DEBUG"] = "fatal-criticals"
    desktop.start_app()
    a11y = moatui.A11y()
    wait_for("moat on the accessibility bus", a11y.app, timeout=30)
    wid = wait_for("the moat window", desktop.window_id, timeout=30)
    failure_shot[:] = [(desktop, wid, out_dir)]

    def overview_shows_state():
        def agree():
            props = desktop.moatd_properties()
            want_status = PROTECTION_TEXT[props["ProtectionState"]]
            want_risk = RISK_TEXT[props["RiskLevel"]]
            return (a11y.find(name=want_status, role="label") and
                    a11y.find(name=want_risk, role="label")) and (want_status, want_risk)
        status, risk = wait_for("the Overview to show moatd's protection state and risk", agree)
        log(f"Overview shows “{status}” and “{risk}”")

    check("overview shows the daemon's protection state and risk level", overview_shows_state)

    def overview_shows_blocked_today():
        want = f"{blocked} blocked today"
        charts = wait_for(f"the chart to say “{want}”",
                          lambda: [n for n in a11y.find(contains="blocked today")
                                   if n.get_name().startswith(want)])
        name = charts[0].get_name()
        assert "Malware: 3" in name, name
        assert "Unwanted content: 30" in name, name
        assert "TLS interception" not in name, f"a notified event counted as blocked: {name}"
        assert a11y.find(name=str(blocked), role="label"), "no total label"

    check("overview charts what was blocked today", overview_shows_blocked_today)

    def overview_lists_latest():
        wait_for("the latest event on the Overview",
                 lambda: a11y.find(name="login-bank.example.com"))

    check("overview lists the latest events", overview_lists_latest)
    desktop.screenshot(os.path.join(out_dir, "overview-1200.png"), wid)

    def latest_event_opens_details():
        label = wait_for("the latest event on the Overview",
                         lambda: a11y.find(name="login-bank.example.com", role="label"))[0]
        a11y.click(label, desktop, wid)
        wait_for("its details in Activity", lambda: a11y.find(name="Moat blocked this site."))
        assert a11y.find(name="Back", role="push button"), "no way back to the list"
        desktop.xdotool("key", "Escape")
        time.sleep(0.5)

    check("a latest event on the Overview opens its details", latest_event_opens_details)

    def activity_lists_events():
        buttons = wait_for("the Activity switcher", lambda: a11y.find(name="Activity",
                                                                      role="page tab"))
        a11y.click(buttons[0], desktop, wid)
        rows = wait_for("event rows", lambda: len(event_rows(a11y)) >= 10 and event_rows(a11y))
        log(f"{len(rows)} rows showing, first: {rows[0]}")
        assert any(r.startswith("Phishing, login-bank.example.com, Medium severity, Blocked")
                   for r in rows), rows[:5]
        assert any(r.startswith("TLS interception, cafe-wifi, Critical severity, Notified")
                   for r in rows), rows[:5]
        assert any(r.startswith("Malware, evil-download-2.example.org, High severity")
                   for r in rows), rows[:5]

    check("activity lists the seeded events, newest first", activity_lists_events)

    def activity_reaches_oldest():
        # The list is revealed a few rows per frame (a fresh list would block
        # the main loop otherwise); it must still end with the oldest event.
        oldest = wait_for("a row for the oldest event", lambda: [
            n.get_name() for n in a11y.find(contains="ads-0.example.net", showing_only=False)])
        log(f"oldest row: {oldest[0]}")

    check("activity reaches the oldest event", activity_reaches_oldest)

    def live_events_arrive():
        desktop.add_events([(0, "proxy", "content.malware", "high", "fresh-event.example.com",
                             "blocked", "{}")])
        rows = wait_for("the new event at the top of the list",
                        lambda: [r for r in event_rows(a11y) if "fresh-event.example.com" in r])
        assert rows[0].startswith("Malware, fresh-event.example.com, High severity"), rows
        want = f"{blocked + 1} blocked today"
        # The Overview is hidden now; it refreshes at most every 2 s.
        wait_for(f"the Overview chart to say “{want}”",
                 lambda: [n for n in a11y.find(contains="blocked today", showing_only=False)
                          if n.get_name().startswith(want)], timeout=10)

    check("new events reach the list and the Overview while moat runs", live_events_arrive)
    time.sleep(0.5)
    desktop.screenshot(os.path.join(out_dir, "activity-1200.png"), wid)

    def search_filters():
        x, y, w, h = desktop.window_geometry(wid)
        desktop.xdotool("mousemove", str(x + w // 2), str(y + h // 2))
        desktop.xdotool("windowfocus", "--sync", wid)
        desktop.xdotool("key", "ctrl+f")
        desktop.xdotool("type", "--delay", "40", "evil")

        def only_evil():
            rows = event_rows(a11y)
            return len(rows) == 3 and all("evil-download" in r for r in rows) and rows
        rows = wait_for("the search to leave the three evil-download events", only_evil)
        log(f"after searching “evil”: {rows}")
        assert not a11y.find(contains="ads-1.example.net"), "a non-matching event is still shown"

    check("typing a search filters the list", search_filters)
    desktop.screenshot(os.path.join(out_dir, "activity-search-1200.png"), wid)

    def search_without_matches():
        desktop.xdotool("key", "ctrl+a")
        desktop.xdotool("type", "--delay", "40", "nothing-like-this")
        wait_for("the no-match state", lambda: a11y.find(name="No Matching Events"))
        assert event_rows(a11y) == [], event_rows(a11y)
        desktop.xdotool("key", "Escape")
        wait_for("the full list again", lambda: len(event_rows(a11y)) >= 10)

    check("a search without matches says so, Escape clears it", search_without_matches)

    def overview_has_protect_switch():
        overview = wait_for("the Overview switcher", lambda: a11y.find(name="Overview",
                                                                       role="page tab"))
        a11y.click(overview[0], desktop, wid)
        switch = wait_for("the protect switch",
                          lambda: a11y.find(name="Protect this computer", role="check box"))[0]
        assert a11y.find(name="Send this computer’s web traffic through Moat’s filter"), \
            "no subtitle under the protect switch"
        want = desktop.moatd_properties()["ProtectComputer"]
        states = switch.get_state_set()
        from gi.repository import Atspi
        assert states.contains(Atspi.StateType.CHECKED) == want, \
            f"the switch does not show ProtectComputer={want}"
        a11y.click(switch, desktop, wid)
        # Either moatd points the desktop at its proxy, or it refuses and the
        # switch goes back with a toast saying why.
        def settled():
            if desktop.moatd_properties()["ProtectComputer"] != want:
                return "on"
            return a11y.find(contains="Could not change the protection") and "refused"
        outcome = wait_for("ProtectComputer to change or an error toast", settled)
        log(f"protect switch: {outcome}")
        if outcome == "on":
            wait_for("the switch on", lambda: switch.get_state_set().contains(
                Atspi.StateType.CHECKED) != want)
            desktop.call_moatd(MOAT1, "SetProtectComputer", GLib.Variant("(b)", (want,)))
            wait_for("the switch back off", lambda: switch.get_state_set().contains(
                Atspi.StateType.CHECKED) == want)
        else:
            wait_for("the switch back where it was", lambda: switch.get_state_set().contains(
                Atspi.StateType.CHECKED) == want)
        time.sleep(0.5)
        desktop.screenshot(os.path.join(out_dir, "overview-protect-1200.png"), wid)

    check("the Overview has the protect switch and it follows moatd", overview_has_protect_switch)

    def block_details_explain():
        desktop.add_events([(0, "proxy", "content.tracker", "low", "tracker.example-ui.test",
                             "blocked", PROXY_BLOCK_DETAIL)])
        tabs = wait_for("the Activity switcher", lambda: a11y.find(name="Activity",
                                                                   role="page tab"))
        a11y.click(tabs[0], desktop, wid)
        # New events arrive above the rows in view (the list stays put), so
        # search for it: then it is the first row.
        desktop.xdotool("key", "ctrl+f")
        desktop.xdotool("key", "ctrl+a")
        desktop.xdotool("type", "--delay", "30", "tracker.example-ui")

        def only_tracker():
            rows = find_event_rows(a11y, "tracker.example-ui.test")
            return len(rows) == 1 and len(event_rows(a11y)) == 1 and rows
        row = wait_for("the tracker block alone in the list", only_tracker)[0]
        time.sleep(0.3)
        a11y.click(row, desktop, wid)
        wait_for("the rule in the details", lambda: a11y.find(name="||tracker.example-ui.test^"))
        assert a11y.find(name="EasyPrivacy"), "the list is not named"
        assert a11y.find(name="4242"), "the rule's line is not shown"
        assert a11y.find(name="Tracking"), "the category is not in words"
        assert a11y.find(contains="because the list “EasyPrivacy”"), "no sentence saying why"
        assert not a11y.find(contains="\"reason\""), "raw JSON shown outside Technical Details"
        button = a11y.find(name="Allow Once", role="push button")
        assert button, "no Allow Once button"
        assert a11y.find(name="Always Allow", role="push button"), "no Always Allow button"
        time.sleep(0.5)
        desktop.screenshot(os.path.join(out_dir, "details-1200.png"), wid)
        a11y.click(button[0], desktop, wid)
        wait_for("the Allow Once toast",
                 lambda: a11y.find(contains="tracker.example-ui.test is allowed for a few minutes"))
        # Back to the list (hidden pages stay in the accessibility tree, so
        # the next check's click on a row is what shows the list is back).
        desktop.xdotool("key", "Escape")
        time.sleep(0.5)

    check("a proxy block's details say which rule of which list blocked it", block_details_explain)

    def local_block_details():
        detail = json.dumps({"reason": "local-destination", "tunnel": False, "port": 80,
                             "url": "http://router.local-ui.test/admin"})
        desktop.add_events([(0, "proxy", "network.local_destination", "medium",
                             "router.local-ui.test", "blocked", detail)])
        desktop.xdotool("key", "ctrl+f")
        desktop.xdotool("key", "ctrl+a")
        desktop.xdotool("type", "--delay", "30", "router.local-ui")
        row = wait_for("the local block in the list",
                       lambda: find_event_rows(a11y, "router.local-ui.test"))
        time.sleep(0.3)
        a11y.click(row[0], desktop, wid)
        wait_for("the sentence about local addresses",
                 lambda: a11y.find(contains="tried to reach this computer or its local network"))
        assert a11y.find(name="http://router.local-ui.test/admin"), "the URL is not shown"
        assert a11y.find(name="Not encrypted (HTTP)"), "the connection is not described"
        # Allowing the host would not lift this block: no buttons offering it.
        assert not a11y.find(name="Allow Once", role="push button"), "Allow Once offered"
        desktop.xdotool("key", "Escape")
        time.sleep(0.5)

    check("a block of a local address says so and offers no Allow Once", local_block_details)

    def lists_page_shows_lists():
        tabs = wait_for("the Lists switcher", lambda: a11y.find(name="Lists", role="page tab"))
        a11y.click(tabs[0], desktop, wid)
        wait_for("the built-in lists", lambda: a11y.find(name="Moat: phishing test sites"))
        assert a11y.find(name="Advertising"), "no Advertising category"
        assert a11y.find(name="Your own lists"), "no category for the user's own lists"
        assert a11y.find(contains="1 rule"), "no rule count"
        time.sleep(0.5)
        desktop.screenshot(os.path.join(out_dir, "lists-1200.png"), wid)

    check("the Lists page shows moatd's lists and categories", lists_page_shows_lists)

    def category_switch_changes_moatd():
        def ads_switch():
            return [n for n in a11y.find(name="Advertising", role="check box")]
        switch = wait_for("the Advertising switch", ads_switch)[0]
        a11y.scroll_into_view(switch, desktop, wid)
        assert "ads" in desktop.moatd_properties()["EnabledCategories"]
        a11y.click(switch, desktop, wid)
        wait_for("moatd without ads", lambda: "ads" not in
                 desktop.moatd_properties()["EnabledCategories"])
        # EasyList's own switch is off and explains why.
        def easylist_off():
            nodes = a11y.find(name="EasyList", role="check box")
            from gi.repository import Atspi
            return nodes and not nodes[0].get_state_set().contains(Atspi.StateType.SENSITIVE)
        wait_for("EasyList's switch to be insensitive", easylist_off)
        a11y.click(wait_for("the Advertising switch", ads_switch)[0], desktop, wid)
        wait_for("moatd with ads again", lambda: "ads" in
                 desktop.moatd_properties()["EnabledCategories"])

    check("a category switch turns the category off and on in moatd",
          category_switch_changes_moatd)

    def blocked_host_added():
        entry = wait_for("the Always Blocked entry",
                         lambda: a11y.find(name="Add a site to block"))[0]
        a11y.scroll_into_view(entry, desktop, wid)
        a11y.click(entry, desktop, wid)
        desktop.xdotool("type", "--delay", "30", "Blocked-By-UI.example")
        desktop.xdotool("key", "Return")
        wait_for("the new host in Always Blocked",
                 lambda: a11y.find(name="blocked-by-ui.example"))
        result = desktop.call_moatd(MOAT1, "Check",
                                    GLib.Variant("(s)", ("www.blocked-by-ui.example",)))[0]
        assert result["verdict"] == "block", result
        # Bad input gets a toast saying why (in Always Allowed: the toast
        # covers the entry of Always Blocked now).
        allow_entry = a11y.find(name="Add a site to allow")[0]
        a11y.click(allow_entry, desktop, wid)
        desktop.xdotool("type", "--delay", "30", "not a host!")
        desktop.xdotool("key", "Return")
        wait_for("an error toast", lambda: a11y.find(contains="Could not add the site"))
        desktop.xdotool("key", "ctrl+a", "BackSpace")
        allowed, blocked = desktop.call_moatd(MOAT1, "GetUserHosts", None)
        assert allowed == [] and blocked == ["blocked-by-ui.example"], (allowed, blocked)

    check("adding an always-blocked site shows it and moatd blocks it", blocked_host_added)

    def bad_lines_shown():
        path = os.path.join(desktop.tmp, "my-list.txt")
        with open(path, "w") as f:
            f.write(BAD_LIST)
        desktop.call_moatd(MOAT1, "AddList", GLib.Variant("(sss)", (path, "custom", "My test list")))
        row = wait_for("the new list", lambda: a11y.find(name="My test list", role="list item"))
        a11y.scroll_into_view(row[0], desktop, wid)
        a11y.click(row[0], desktop, wid)
        wait_for("its bad line", lambda: a11y.find(name="Lines not understood: 2"))
        assert a11y.find(name="1 line was skipped"), "the count of bad lines is missing"
        assert a11y.find(contains="3 rules"), "the list's rules are not counted"
        time.sleep(0.5)
        desktop.screenshot(os.path.join(out_dir, "lists-bad-lines-1200.png"), wid)

        # A refresh (ListsChanged after a change made elsewhere) rebuilds the
        # rows but keeps this one open and the page where it was.
        _, y_before = a11y.center(a11y.find(name="My test list", role="list item")[0])
        desktop.call_moatd(MOAT1, "AddUserHost", GLib.Variant("(ss)", ("refresh.example",
                                                                         "allow")))
        wait_for("the refresh", lambda: a11y.find(name="refresh.example", role="label",
                                                  showing_only=False))
        assert a11y.find(name="Lines not understood: 2"), "the open row closed on refresh"
        _, y_after = a11y.center(a11y.find(name="My test list", role="list item")[0])
        assert abs(y_after - y_before) <= 2, f"the page scrolled from {y_before} to {y_after}"
        desktop.call_moatd(MOAT1, "RemoveUserHost", GLib.Variant("(ss)", ("refresh.example",
                                                                            "allow")))

    check("a list's bad lines are named by number", bad_lines_shown)

    def add_and_remove_subscription():
        button = wait_for("the Add List button", lambda: a11y.find(name="Add List…",
                                                                   role="push button"))[0]
        a11y.scroll_into_view(button, desktop, wid)
        a11y.click(button, desktop, wid)
        dialog = wait_for("the Add List dialog", lambda: desktop.window_id("^Add List$"))
        url = wait_for("the address entry", lambda: a11y.find(name="Web address", role="text"))[0]
        a11y.click(url, desktop, dialog)
        desktop.xdotool("type", "--delay", "20", "ftp://example.com/x.txt")
        desktop.xdotool("key", "Return")
        wait_for("moatd's refusal in the dialog",
                 lambda: a11y.find(contains="is neither a web address"))
        desktop.screenshot(os.path.join(out_dir, "add-list-error.png"), dialog)
        a11y.click(url, desktop, dialog)
        desktop.xdotool("key", "ctrl+a")
        desktop.xdotool("type", "--delay", "20", "https://lists.example-ui.test/ads.txt")
        name = a11y.find(name="Name (optional)", role="text")[0]
        a11y.click(name, desktop, dialog)
        desktop.xdotool("type", "--delay", "20", "UI test subscription")
        a11y.click(url, desktop, dialog)
        desktop.xdotool("key", "End", "Return")
        wait_for("the dialog to close", lambda: not desktop.window_id("^Add List$"))
        wait_for("the new list", lambda: a11y.find(name="UI test subscription", role="list item"))
        ids = [l["id"] for l in desktop.call_moatd(MOAT1, "GetLists", None)[0]
               if l["name"] == "UI test subscription"]
        assert len(ids) == 1, ids
        remove = wait_for("its remove button",
                          lambda: a11y.find(name="Remove UI test subscription",
                                            role="push button"))[0]
        a11y.scroll_into_view(remove, desktop, wid)
        a11y.click(remove, desktop, wid)
        wait_for("the list gone from moatd", lambda: not [
            l for l in desktop.call_moatd(MOAT1, "GetLists", None)[0]
            if l["name"] == "UI test subscription"])
        undo = wait_for("the Undo button", lambda: [
            n for n in a11y.find(role="push button") if "Undo" in n.get_name()])[0]
        a11y.click(undo, desktop, wid)
        wait_for("the list back in moatd", lambda: [
            l for l in desktop.call_moatd(MOAT1, "GetLists", None)[0]
            if l["name"] == "UI test subscription"])

    check("a subscription is added in the dialog, removed and restored with Undo",
          add_and_remove_subscription)

    def threats_page_shows_incident():
        desktop.call_moatd(TESTING, "RaiseThreat", GLib.Variant(
            "(ssss)", ("network.tls_interception", "high", "ui-cafe-wifi", THREAT_EVIDENCE)))
        tabs = wait_for("the Threats switcher", lambda: a11y.find(name="Threats", role="page tab"))
        a11y.click(tabs[0], desktop, wid)
        wait_for("the threat's row", lambda: a11y.find(contains="ui-cafe-wifi · since "))
        assert a11y.find(name="TLS interception", role="list item"), "no row titled by the threat"
        wait_for("the count of active threats", lambda: a11y.find(name="1 Active Threat"))
        assert a11y.find(name="High Risk", role="label"), "the risk level is not shown"

        # What Moat did, as moatd says once the responder settled.
        def responses_shown():
            responses = [r for r in desktop.call_moatd(MOAT1, "GetResponses", None)[0]
                         if r[0] == "network.tls_interception" and r[1] == "ui-cafe-wifi"]
            if not responses or any(r[3] == "trying" for r in responses):
                return None
            for _, _, action, state, reason in responses:
                rows = a11y.find(name=ACTION_TEXT.get(action, action), role="list item")
                want = STATE_TEXT[state] + (f": {reason}" if reason and state == "failed" else "")
                if not rows or not a11y.find(name=want, role="label"):
                    return None
            return responses
        responses = wait_for("a row for each of moatd's responses", responses_shown)
        log(f"responses: {[(r[2], r[3]) for r in responses]}")
        # The default policy: no VPN is configured and no company resource is
        # protected, so the chain ends failed; the user is notified.
        assert ("block_protected_resources", "failed") in [(r[2], r[3]) for r in responses], \
            responses
        assert a11y.find(contains="Failed: ", role="label"), "the failure does not say why"
        # The chain tried the VPN first (none is configured): the events say so.
        wait_for("the failed VPN attempt before the wall",
                 lambda: a11y.find(name="Connect the company VPN", role="list item"))
        assert a11y.find(name="Issuer: CN=mitmproxy, O=mitmproxy", role="list item"), \
            "the evidence is not shown"
        assert a11y.find(name="CN=mitmproxy, O=mitmproxy", role="label"), "no evidence value"
        assert a11y.find(name="Policy in Force", role="list item"), "no policy row"
        assert a11y.find(name="Moat’s default policy", role="label"), "the policy is not named"
        time.sleep(0.5)
        desktop.screenshot(os.path.join(out_dir, "threats-1200.png"), wid)

    check("the Threats page shows an active threat, its evidence and what Moat did",
          threats_page_shows_incident)

    def threats_page_policy_and_switches():
        button = wait_for("the policy's Show button",
                          lambda: a11y.find(name="Show", role="push button"))[0]
        a11y.scroll_into_view(button, desktop, wid)
        a11y.click(button, desktop, wid)
        policy_wid = wait_for("the policy window", lambda: desktop.window_id("^Policy in Force$"))
        text = wait_for("the policy's text", lambda: a11y.find(name="The policy’s rules"))[0]
        rules = text.get_text_iface().get_text(0, -1)
        assert "network.* >= medium: vpn_on_demand || block_protected_resources" in rules, rules
        assert not text.get_state_set().contains(Atspi.StateType.EDITABLE), "the policy is editable"
        time.sleep(0.5)
        desktop.screenshot(os.path.join(out_dir, "threats-policy.png"), policy_wid)
        desktop.xdotool("key", "Escape")
        wait_for("the policy window to close",
                 lambda: not desktop.window_id("^Policy in Force$"))

        keyfile = os.path.join(desktop.env["XDG_CONFIG_HOME"], "glib-2.0", "settings", "keyfile")
        switch = wait_for("the VPN on Demand switch",
                          lambda: a11y.find(name="VPN on Demand", role="check box"))[0]
        assert switch.get_state_set().contains(Atspi.StateType.CHECKED), "VPN on demand is off"
        a11y.scroll_into_view(switch, desktop, wid)
        a11y.click(switch, desktop, wid)

        def saved(line):
            with open(keyfile) as f:
                return line in f.read()
        wait_for("vpn-on-demand=false in the settings", lambda: saved("vpn-on-demand=false"),
                 timeout=10)
        a11y.click(switch, desktop, wid)
        wait_for("vpn-on-demand=true in the settings", lambda: saved("vpn-on-demand=true"),
                 timeout=10)
        assert a11y.find(name="Block Company Resources When Unsafe", role="check box"), \
            "no switch for the wall"

    check("the Threats page shows the policy's text and its switches change the settings",
          threats_page_policy_and_switches)

    def threats_page_after_clearing():
        desktop.call_moatd(TESTING, "ClearThreat",
                           GLib.Variant("(ss)", ("network.tls_interception", "ui-cafe-wifi")))
        wait_for("the empty state", lambda: a11y.find(name="No Threats on This Network"))
        assert not a11y.find(contains="ui-cafe-wifi · since "), "the cleared threat is still active"
        past = wait_for("the incident under Past Threats", lambda: [
            n for n in a11y.find(role="label", contains="ui-cafe-wifi\nDetected ")])
        text = past[0].get_name()
        log(f"past threat: {text!r}")
        assert ", cleared " in text, text
        assert "Block the company’s resources (failed)" in text, text
        time.sleep(0.5)
        desktop.screenshot(os.path.join(out_dir, "threats-cleared-1200.png"), wid)

    check("a cleared threat leaves the Threats page empty and shows under Past Threats",
          threats_page_after_clearing)

    def threats_page_check_now():
        try:
            desktop.call_moatd(MOAT1, "GetFindings", None)
        except GLib.Error as e:
            log(f"SKIP Check Now: moatd has no network checks ({e.message})")
            return
        button = wait_for("the Check Now button",
                          lambda: a11y.find(name="Check Now", role="push button"))[0]
        a11y.scroll_into_view(button, desktop, wid)
        started = int(time.time() * 1_000_000)
        a11y.click(button, desktop, wid)
        # Offline, every check ends clean or inconclusive at once.
        findings = wait_for("moatd's checks to run", lambda: [
            f for f in desktop.call_moatd(MOAT1, "GetFindings", None)[0] if f[7] >= started])
        assert not a11y.find(contains="Could not check the network"), "the scan failed"
        row = wait_for("the Checks row", lambda: a11y.find(name="Checks", role="list item"))[0]
        clean = sum(1 for f in findings if f[2] == "clean")
        wait_for("the count of clean checks",
                 lambda: a11y.find(contains=f"{clean} clean, ", role="label"))
        a11y.scroll_into_view(row, desktop, wid)
        a11y.click(row, desktop, wid)
        first = findings[0][5]
        wait_for("a check's summary", lambda: a11y.find(contains=first, role="label"))
        time.sleep(0.5)
        desktop.screenshot(os.path.join(out_dir, "threats-checks-1200.png"), wid)

    check("Check Now runs the network checks and lists their results", threats_page_check_now)

    def narrow_window():
        desktop.resize_window(wid, 360, 720)
        wait_for("a 360 px window", lambda: desktop.window_geometry(wid)[2] == 360)
        # At 360 px the view switcher moves to the bottom bar.
        def bottom_switcher():
            tabs = a11y.find(name="Overview", role="page tab")
            return [t for t in tabs if a11y.center(t)[1] > 600]
        tab = wait_for("the view switcher at the bottom", bottom_switcher)[0]
        activity_tab = [t for t in a11y.find(name="Activity", role="page tab")
                        if a11y.center(t)[1] > 600]
        a11y.click(activity_tab[0], desktop, wid)
        # An earlier check left a search in the entry: Escape clears it.
        desktop.xdotool("key", "ctrl+f")
        desktop.xdotool("key", "Escape")
        wait_for("event rows at 360 px", lambda: len(event_rows(a11y)) >= 3)
        time.sleep(0.8)
        desktop.screenshot(os.path.join(out_dir, "activity-360.png"), wid)
        a11y.click(tab, desktop, wid)
        time.sleep(0.8)
        desktop.screenshot(os.path.join(out_dir, "overview-360.png"), wid)
        x, y, w, h = desktop.window_geometry(wid)
        assert w == 360, f"the window is {w} px wide: something needs more than 360 px"
        lists_tab = [t for t in a11y.find(name="Lists", role="page tab") if a11y.center(t)[1] > 600]
        a11y.click(lists_tab[0], desktop, wid)
        wait_for("the Lists page", lambda: a11y.find(name="Moat: phishing test sites"))
        time.sleep(0.8)
        desktop.screenshot(os.path.join(out_dir, "lists-360.png"), wid)
        activity_tab = [t for t in a11y.find(name="Activity", role="page tab")
                        if a11y.center(t)[1] > 600]
        a11y.click(activity_tab[0], desktop, wid)
        desktop.xdotool("key", "ctrl+f")
        desktop.xdotool("key", "ctrl+a")
        desktop.xdotool("type", "--delay", "30", "tracker.example-ui")
        row = wait_for("the tracker block in the list",
                       lambda: find_event_rows(a11y, "tracker.example-ui.test"))[0]
        time.sleep(0.3)
        a11y.click(row, desktop, wid)
        wait_for("the rule in the details", lambda: a11y.find(name="||tracker.example-ui.test^"))
        time.sleep(0.8)
        desktop.screenshot(os.path.join(out_dir, "details-360.png"), wid)
        assert desktop.window_geometry(wid)[2] == 360, "the details need more than 360 px"
        desktop.xdotool("key", "Escape")
        wait_for("the event list again", lambda: a11y.find(name="Search events"))
        desktop.xdotool("key", "ctrl+f")
        desktop.xdotool("key", "Escape")
        a11y.click(tab, desktop, wid)

    check("the window works at 360 px", narrow_window)

    def threats_page_narrow():
        desktop.call_moatd(TESTING, "RaiseThreat", GLib.Variant(
            "(ssss)", ("network.tls_interception", "high", "ui-cafe-wifi", THREAT_EVIDENCE)))
        tab = wait_for("the Threats switcher at the bottom", lambda: [
            t for t in a11y.find(name="Threats", role="page tab") if a11y.center(t)[1] > 600])[0]
        a11y.click(tab, desktop, wid)
        wait_for("the threat's row", lambda: a11y.find(contains="ui-cafe-wifi · since "))
        wait_for("its responses", lambda: a11y.find(contains="Failed: ", role="label"))
        time.sleep(0.8)
        desktop.screenshot(os.path.join(out_dir, "threats-360.png"), wid)
        row = a11y.find(name="Policy in Force", role="list item")[0]
        a11y.scroll_into_view(row, desktop, wid)
        time.sleep(0.5)
        desktop.screenshot(os.path.join(out_dir, "threats-360-bottom.png"), wid)
        assert desktop.window_geometry(wid)[2] == 360, "the Threats page needs more than 360 px"
        desktop.call_moatd(TESTING, "ClearThreat",
                           GLib.Variant("(ss)", ("network.tls_interception", "ui-cafe-wifi")))
        wait_for("the empty state", lambda: a11y.find(name="No Threats on This Network"))
        overview = [t for t in a11y.find(name="Overview", role="page tab") if a11y.center(t)[1] > 600]
        a11y.click(overview[0], desktop, wid)

    check("the Threats page works at 360 px", threats_page_narrow)

    def preferences_write_settings():
        desktop.app_action("preferences")
        switch = wait_for("the notifications switch",
                          lambda: a11y.find(name="Show Notifications", role="check box"))[0]
        pref_wid = wait_for("the Preferences window", lambda: desktop.window_id("^Preferences$"))
        desktop.screenshot(os.path.join(out_dir, "preferences.png"), pref_wid)
        a11y.click(switch, desktop, pref_wid)
        keyfile = os.path.join(desktop.env["XDG_CONFIG_HOME"], "glib-2.0", "settings", "keyfile")

        def saved():
            with open(keyfile) as f:
                return "notifications-enabled=false" in f.read()
        wait_for("notifications-enabled=false in the settings", saved, timeout=10)
        desktop.xdotool("key", "Escape")
        wait_for("the Preferences window to close", lambda: not desktop.window_id("^Preferences$"))

    check("preferences change the settings moatd reads", preferences_write_settings)

    def second_instance_defers():
        # moatd owns the app id, so moat keeps one instance through its own name.
        second = desktop.spawn([desktop.moat_path, "--activity"], stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE, text=True)
        _, err = second.communicate(timeout=20)
        assert second.returncode == 0, f"second moat exited with {second.returncode}: {err}"
        assert desktop.app.poll() is None, "the first moat went away"
        windows = subprocess.run(["xdotool", "search", "--onlyvisible", "--name", "^Moat$"],
                                 env=desktop.env, capture_output=True, text=True).stdout.split()
        assert windows == [wid], f"expected the one window {wid}, found {windows}"
        # --activity reached the first instance through app.show-activity.
        wait_for("the Activity page", lambda: a11y.find(name="Search events"))

    check("a second moat hands over to the running one and exits", second_instance_defers)

    def quits_cleanly():
        desktop.app_action("quit")
        code = desktop.app.wait(timeout=20)
        with open(desktop.app_log_path) as f:
            log_text = f.read()
        assert code == 0, f"moat exited with {code}"
        for bad in ("CRITICAL", "AddressSanitizer", "runtime error"):
            assert bad not in log_text, f"“{bad}” in moat's output:\n{log_text[-2000:]}"

    check("app.quit over D-Bus ends moat cleanly", quits_cleanly)

    def window_size_saved():
        keyfile = os.path.join(desktop.env["XDG_CONFIG_HOME"], "glib-2.0", "settings", "keyfile")
        with open(keyfile) as f:
            text = f.read()
        assert "window-width=360" in text and "window-height=720" in text, text

    check("closing the window saves its size", window_size_saved)

    def engine_down_then_started():
        desktop.stop_moatd()
        desktop.start_app()
        wait_for("moat on the accessibility bus", a11y.app, timeout=30)
        new_wid = wait_for("the moat window", desktop.window_id, timeout=30)
        wait_for("the engine-not-running page",
                 lambda: a11y.find(name="The Moat engine is not running", role="label"))
        # The GUI never starts moatd by itself.
        time.sleep(1.0)
        assert not desktop.name_has_owner(moatui.DBUS_NAME), "moat started moatd without asking"
        desktop.screenshot(os.path.join(out_dir, "engine-down-360.png"), new_wid)
        button = wait_for("the Start Engine button",
                          lambda: a11y.find(name="Start Engine", role="push button"))[0]
        a11y.click(button, desktop, new_wid)
        wait_for("moatd started through D-Bus activation",
                 lambda: desktop.name_has_owner(moatui.DBUS_NAME), timeout=30)
        state = desktop.moatd_properties()["ProtectionState"]
        wait_for("the Overview after the start",
                 lambda: a11y.find(name=PROTECTION_TEXT[state], role="label"))

    check("with moatd down, Start Engine starts it through D-Bus activation",
          engine_down_then_started)


if __name__ == "__main__":
    sys.exit(main())
