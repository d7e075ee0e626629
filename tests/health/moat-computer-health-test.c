/* SPDX-License-Identifier: GPL-3.0-or-later
 * Copyright 2026 The Moat developers
 *
 * The checks of this computer against the fake roots of
 * tests/fixtures/health/ (both outcomes of every check, and the unknown
 * ones), fake PackageKit, fwupd and firewalld services on a private bus,
 * the GNOME schemas on the memory backend, and once on this machine.
 */
#include "config.h"

#define G_SETTINGS_ENABLE_BACKEND
#include <gio/gsettingsbackend.h>

#include "moat-computer-health.h"
#include "moat-computer-health-private.h"
#include "moat-error.h"

#include <string.h>
#include <sys/stat.h>

#define TEST_CA_SHA256 "65:3C:D1:F4:0E:97:61:B1:52:18:1B:B9:F8:F7:E8:BF:" \
                       "3C:35:4B:1C:96:96:84:99:7C:07:98:C7:04:6D:BB:BC"
#define DAY (G_USEC_PER_SEC * (gint64) 86400)

static char *
fixture_root (const char *name)
{
  const char *top = g_getenv ("MOAT_SOURCE_ROOT");

  g_assert_nonnull (top);
  return g_build_filename (top, "tests", "fixtures", "health", name, NULL);
}

/* The fixture's "now": @days after its newest update stamp, whenever the
 * tree was checked out. */
static GDateTime *
fixture_now (const char *root,
             int         days)
{
  const char *const stamps[] = { "var/lib/dpkg/status",
                                 "var/log/unattended-upgrades/unattended-upgrades.log",
                                 "var/lib/apt/periodic/unattended-upgrades-stamp", NULL };
  gint64 newest = 0;
  g_autoptr(GDateTime) base = NULL;

  for (guint i = 0; stamps[i] != NULL; i++)
    {
      g_autofree char *path = g_build_filename (root, stamps[i], NULL);
      struct stat st;

      if (stat (path, &st) == 0)
        newest = MAX (newest, (gint64) st.st_mtime);
    }
  if (newest == 0)
    newest = g_get_real_time () / G_USEC_PER_SEC;
  base = g_date_time_new_from_unix_utc (newest);
  return g_date_time_add (base, days * DAY + G_USEC_PER_SEC * (gint64) 3600);
}

static MoatHealthItem *
check_with (const char      *fixture,
            const char      *id,
            int              days,
            GDBusConnection *bus)
{
  g_autofree char *root = fixture_root (fixture);
  g_autoptr(GDateTime) now = fixture_now (root, days);
  MoatComputerHealthOptions options = { root, bus, NULL, NULL, now };
  MoatHealthItem *item = moat_computer_health_check_one_sync (&options, id, NULL);

  g_assert_nonnull (item);
  g_assert_cmpstr (item->id, ==, id);
  g_assert_cmpstr (item->area, ==, "computer");
  g_assert_cmpstr (item->subject, ==, "");
  g_assert_cmpstr (item->title, !=, "");
  g_assert_cmpstr (item->summary, !=, "");
  g_assert_cmpstr (item->why, !=, "");
  g_assert_cmpstr (item->impact, !=, "");
  g_assert_cmpint (item->checked, ==, g_date_time_to_unix (now) * G_USEC_PER_SEC);
  if (item->status == MOAT_HEALTH_PROBLEM)
    g_assert_cmpuint (g_strv_length (item->steps), >=, 1);
  else
    g_assert_cmpuint (g_strv_length (item->steps), ==, 0);
  if (item->status == MOAT_HEALTH_OK)
    g_assert_cmpint (item->severity, ==, MOAT_SEVERITY_INFO);
  return item;
}

static MoatHealthItem *
check (const char *fixture,
       const char *id)
{
  return check_with (fixture, id, 0, NULL);
}

static JsonObject *
evidence (const MoatHealthItem *item,
          JsonParser           *parser)
{
  g_autoptr(GError) error = NULL;

  json_parser_load_from_data (parser, item->evidence, -1, &error);
  g_assert_no_error (error);
  g_assert_true (JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)));
  return json_node_get_object (json_parser_get_root (parser));
}

/* An unknown item carries the severity its problem would have. */
static void
assert_status (const MoatHealthItem *item,
               MoatHealthStatus      status,
               MoatSeverity          severity)
{
  g_assert_cmpstr (moat_health_status_to_string (item->status), ==,
                   moat_health_status_to_string (status));
  if (status != MOAT_HEALTH_OK)
    g_assert_cmpstr (moat_severity_to_string (item->severity), ==,
                     moat_severity_to_string (severity));
}

/* ---- computer.os_updates ----------------------------------------------- */

static void
test_os_updates_healthy (void)
{
  g_autoptr(MoatHealthItem) item = check ("healthy", MOAT_COMPUTER_HEALTH_OS_UPDATES);
  g_autoptr(JsonParser) parser = json_parser_new ();
  JsonObject *ev;

  assert_status (item, MOAT_HEALTH_OK, MOAT_SEVERITY_INFO);
  ev = evidence (item, parser);
  g_assert_cmpstr (json_object_get_string_member (ev, "source"), ==, "apt-get");
  g_assert_cmpint (json_object_get_int_member (ev, "security_updates"), ==, 0);
  g_assert_cmpint (json_object_get_int_member (ev, "updates"), ==, 1);
  g_assert_true (json_object_has_member (ev, "package_lists_updated"));
  g_assert_true (json_object_has_member (ev, "last_package_change"));
  g_assert_true (json_object_get_boolean_member (
    json_object_get_object_member (ev, "unattended_upgrades"), "enabled"));
}

static void
test_os_updates_pending (void)
{
  g_autoptr(MoatHealthItem) item = check ("unhealthy", MOAT_COMPUTER_HEALTH_OS_UPDATES);
  g_autoptr(JsonParser) parser = json_parser_new ();
  JsonObject *ev;
  JsonArray *names;

  /* Automatic updates are not installed: high even though the updates are new. */
  assert_status (item, MOAT_HEALTH_PROBLEM, MOAT_SEVERITY_HIGH);
  g_assert_cmpstr (item->summary, ==,
                   "2 security updates are waiting, and automatic updates are off.");
  ev = evidence (item, parser);
  g_assert_cmpint (json_object_get_int_member (ev, "security_updates"), ==, 2);
  g_assert_cmpint (json_object_get_int_member (ev, "updates"), ==, 3);
  names = json_object_get_array_member (ev, "security_packages");
  g_assert_cmpuint (json_array_get_length (names), ==, 2);
  g_assert_cmpstr (json_array_get_string_element (names, 0), ==, "libssl3");
  g_assert_cmpstr (json_array_get_string_element (names, 1), ==, "openssl");
  g_assert_false (json_object_get_boolean_member (
    json_object_get_object_member (ev, "unattended_upgrades"), "installed"));
}

static void
test_os_updates_pending_age (void)
{
  g_autoptr(MoatHealthItem) fresh = check ("updates-pending", MOAT_COMPUTER_HEALTH_OS_UPDATES);
  g_autoptr(MoatHealthItem) old = check_with ("updates-pending", MOAT_COMPUTER_HEALTH_OS_UPDATES,
                                              10, NULL);

  assert_status (fresh, MOAT_HEALTH_PROBLEM, MOAT_SEVERITY_MEDIUM);
  g_assert_cmpstr (fresh->summary, ==, "2 security updates are waiting to be installed.");
  assert_status (old, MOAT_HEALTH_PROBLEM, MOAT_SEVERITY_HIGH);
  g_assert_cmpstr (old->summary, ==,
                   "2 security updates are waiting, and nothing has been updated for 10 days.");
}

static void
test_os_updates_apt_check (void)
{
  g_autoptr(MoatHealthItem) ok = check ("alt-ok", MOAT_COMPUTER_HEALTH_OS_UPDATES);
  g_autoptr(MoatHealthItem) bad = check ("alt-problem", MOAT_COMPUTER_HEALTH_OS_UPDATES);
  g_autoptr(JsonParser) parser = json_parser_new ();
  JsonObject *ev, *uu;

  /* 10periodic says "0", 20auto-upgrades (read later) says "1". */
  assert_status (ok, MOAT_HEALTH_OK, MOAT_SEVERITY_INFO);
  ev = evidence (ok, parser);
  g_assert_cmpstr (json_object_get_string_member (ev, "source"), ==, "apt-check");
  g_assert_cmpint (json_object_get_int_member (ev, "updates"), ==, 5);
  uu = json_object_get_object_member (ev, "unattended_upgrades");
  g_assert_true (json_object_get_boolean_member (uu, "enabled"));
  g_assert_cmpstr (json_object_get_string_member (uu, "setting_file"), ==,
                   "/etc/apt/apt.conf.d/20auto-upgrades");

  assert_status (bad, MOAT_HEALTH_PROBLEM, MOAT_SEVERITY_HIGH);
  g_assert_cmpstr (bad->summary, ==,
                   "3 security updates are waiting, and automatic updates are off.");
}

static void
test_os_updates_stale (void)
{
  g_autoptr(MoatHealthItem) item = check_with ("healthy", MOAT_COMPUTER_HEALTH_OS_UPDATES, 30,
                                               NULL);

  assert_status (item, MOAT_HEALTH_PROBLEM, MOAT_SEVERITY_MEDIUM);
  g_assert_cmpstr (item->summary, ==, "Automatic security updates have not run for 30 days.");
}

static void
test_os_updates_unknown (void)
{
  g_autoptr(MoatHealthItem) item = check ("unknown", MOAT_COMPUTER_HEALTH_OS_UPDATES);

  assert_status (item, MOAT_HEALTH_UNKNOWN, MOAT_SEVERITY_MEDIUM);
  g_assert_nonnull (strstr (item->summary, "could not find out"));
}

/* ---- computer.disk_encryption ------------------------------------------ */

static void
test_disk_encryption (void)
{
  g_autoptr(MoatHealthItem) lvm = check ("healthy", MOAT_COMPUTER_HEALTH_DISK_ENCRYPTION);
  g_autoptr(MoatHealthItem) btrfs = check ("alt-ok", MOAT_COMPUTER_HEALTH_DISK_ENCRYPTION);
  g_autoptr(MoatHealthItem) root = check ("unhealthy", MOAT_COMPUTER_HEALTH_DISK_ENCRYPTION);
  g_autoptr(MoatHealthItem) home = check ("alt-problem", MOAT_COMPUTER_HEALTH_DISK_ENCRYPTION);
  g_autoptr(MoatHealthItem) overlay = check ("unknown", MOAT_COMPUTER_HEALTH_DISK_ENCRYPTION);
  g_autoptr(JsonParser) parser = json_parser_new ();
  JsonObject *ev, *mount, *chain;

  /* LVM on LUKS: dm-1 (LVM) has dm-0 (CRYPT-LUKS2) under it. */
  assert_status (lvm, MOAT_HEALTH_OK, MOAT_SEVERITY_INFO);
  ev = evidence (lvm, parser);
  g_assert_true (json_object_get_boolean_member (ev, "home_on_root"));
  mount = json_array_get_object_element (json_object_get_array_member (ev, "mounts"), 0);
  g_assert_cmpstr (json_object_get_string_member (mount, "source"), ==, "/dev/mapper/vg-root");
  chain = json_array_get_object_element (json_object_get_array_member (mount, "chain"), 0);
  g_assert_cmpstr (json_object_get_string_member (chain, "device"), ==, "dm-1");

  /* btrfs's anonymous 0:31 is followed through /dev/mapper/luks-root. */
  assert_status (btrfs, MOAT_HEALTH_OK, MOAT_SEVERITY_INFO);

  assert_status (root, MOAT_HEALTH_PROBLEM, MOAT_SEVERITY_HIGH);
  g_assert_cmpstr (root->summary, ==, "The system disk is not encrypted.");
  assert_status (home, MOAT_HEALTH_PROBLEM, MOAT_SEVERITY_HIGH);
  g_assert_cmpstr (home->summary, ==, "The disk of the home folders is not encrypted.");

  assert_status (overlay, MOAT_HEALTH_UNKNOWN, MOAT_SEVERITY_HIGH);
  g_assert_cmpstr (overlay->summary, ==,
                   "Moat could not follow “overlay” (overlay) to a disk, so it cannot tell "
                   "whether it is encrypted.");
}

/* ---- computer.firewall --------------------------------------------------- */

static void
test_firewall (void)
{
  g_autoptr(MoatHealthItem) nft_ok = check ("healthy", MOAT_COMPUTER_HEALTH_FIREWALL);
  g_autoptr(MoatHealthItem) nft_bad = check ("unhealthy", MOAT_COMPUTER_HEALTH_FIREWALL);
  g_autoptr(MoatHealthItem) ufw_ok = check ("alt-ok", MOAT_COMPUTER_HEALTH_FIREWALL);
  g_autoptr(MoatHealthItem) ufw_bad = check ("alt-problem", MOAT_COMPUTER_HEALTH_FIREWALL);
  g_autoptr(MoatHealthItem) none = check ("unknown", MOAT_COMPUTER_HEALTH_FIREWALL);
  g_autoptr(JsonParser) parser = json_parser_new ();
  JsonObject *ev;

  assert_status (nft_ok, MOAT_HEALTH_OK, MOAT_SEVERITY_INFO);
  g_assert_cmpstr (nft_ok->summary, ==, "A firewall is active (nftables).");
  assert_status (nft_bad, MOAT_HEALTH_PROBLEM, MOAT_SEVERITY_MEDIUM);
  g_assert_cmpstr (nft_bad->summary, ==, "No firewall rules filter incoming connections.");
  ev = evidence (nft_bad, parser);
  g_assert_cmpuint (json_array_get_length (json_object_get_array_member (ev, "input_chains")),
                    ==, 1);

  /* nft is refused without root: ufw's setting decides. */
  assert_status (ufw_ok, MOAT_HEALTH_OK, MOAT_SEVERITY_INFO);
  g_assert_cmpstr (ufw_ok->summary, ==, "A firewall is active (ufw).");
  ev = evidence (ufw_ok, parser);
  g_assert_nonnull (strstr (json_object_get_string_member (ev, "nft_error"),
                            "Operation not permitted"));
  assert_status (ufw_bad, MOAT_HEALTH_PROBLEM, MOAT_SEVERITY_MEDIUM);
  g_assert_cmpstr (ufw_bad->summary, ==, "The firewall (ufw) is installed but turned off.");

  assert_status (none, MOAT_HEALTH_UNKNOWN, MOAT_SEVERITY_MEDIUM);
}

static void
test_firewall_timeout (void)
{
  g_autoptr(MoatHealthItem) item = check ("hung", MOAT_COMPUTER_HEALTH_FIREWALL);
  g_autoptr(JsonParser) parser = json_parser_new ();

  /* nft is killed after 5 s; nothing else to ask. */
  assert_status (item, MOAT_HEALTH_UNKNOWN, MOAT_SEVERITY_MEDIUM);
  g_assert_cmpstr (json_object_get_string_member (evidence (item, parser), "nft_error"), ==,
                   "/usr/sbin/nft did not answer within 5 s");
}

/* ---- computer.secure_boot ------------------------------------------------ */

static void
test_secure_boot (void)
{
  g_autoptr(MoatHealthItem) on = check ("healthy", MOAT_COMPUTER_HEALTH_SECURE_BOOT);
  g_autoptr(MoatHealthItem) off = check ("unhealthy", MOAT_COMPUTER_HEALTH_SECURE_BOOT);
  g_autoptr(MoatHealthItem) no_var = check ("alt-problem", MOAT_COMPUTER_HEALTH_SECURE_BOOT);
  g_autoptr(MoatHealthItem) bios = check ("unknown", MOAT_COMPUTER_HEALTH_SECURE_BOOT);

  assert_status (on, MOAT_HEALTH_OK, MOAT_SEVERITY_INFO);
  g_assert_cmpstr (on->summary, ==, "Secure Boot is on.");
  assert_status (off, MOAT_HEALTH_PROBLEM, MOAT_SEVERITY_MEDIUM);
  g_assert_cmpstr (off->summary, ==, "Secure Boot is off.");
  assert_status (no_var, MOAT_HEALTH_UNKNOWN, MOAT_SEVERITY_MEDIUM);
  assert_status (bios, MOAT_HEALTH_UNKNOWN, MOAT_SEVERITY_MEDIUM);
  g_assert_cmpstr (bios->summary, ==,
                   "This computer starts in legacy BIOS mode, which has no Secure Boot.");
}

/* ---- computer.auto_login ------------------------------------------------- */

static void
test_auto_login (void)
{
  g_autoptr(MoatHealthItem) gdm_off = check ("healthy", MOAT_COMPUTER_HEALTH_AUTO_LOGIN);
  g_autoptr(MoatHealthItem) on = check ("unhealthy", MOAT_COMPUTER_HEALTH_AUTO_LOGIN);
  g_autoptr(MoatHealthItem) lightdm_off = check ("alt-ok", MOAT_COMPUTER_HEALTH_AUTO_LOGIN);
  g_autoptr(MoatHealthItem) sddm_on = check ("alt-problem", MOAT_COMPUTER_HEALTH_AUTO_LOGIN);
  g_autoptr(MoatHealthItem) none = check ("unknown", MOAT_COMPUTER_HEALTH_AUTO_LOGIN);
  g_autoptr(JsonParser) parser = json_parser_new ();
  JsonArray *found;

  assert_status (gdm_off, MOAT_HEALTH_OK, MOAT_SEVERITY_INFO);
  assert_status (lightdm_off, MOAT_HEALTH_OK, MOAT_SEVERITY_INFO);
  assert_status (on, MOAT_HEALTH_PROBLEM, MOAT_SEVERITY_HIGH);
  found = json_object_get_array_member (evidence (on, parser), "automatic_login");
  g_assert_cmpuint (json_array_get_length (found), ==, 2);
  g_assert_cmpstr (json_array_get_string_element (found, 0), ==,
                   "/etc/gdm3/custom.conf: AutomaticLoginEnable (alice)");
  g_assert_cmpstr (json_array_get_string_element (found, 1), ==,
                   "/etc/lightdm/lightdm.conf: Seat:*/autologin-user=bob");
  assert_status (sddm_on, MOAT_HEALTH_PROBLEM, MOAT_SEVERITY_HIGH);
  found = json_object_get_array_member (evidence (sddm_on, parser), "automatic_login");
  g_assert_cmpstr (json_array_get_string_element (found, 0), ==,
                   "/etc/sddm.conf.d/autologin.conf: Autologin/User=carol");
  assert_status (none, MOAT_HEALTH_UNKNOWN, MOAT_SEVERITY_HIGH);
}

/* ---- computer.root_ca ---------------------------------------------------- */

static void
test_root_ca (void)
{
  g_autoptr(MoatHealthItem) standard = check ("healthy", MOAT_COMPUTER_HEALTH_ROOT_CA);
  g_autoptr(MoatHealthItem) local = check ("unhealthy", MOAT_COMPUTER_HEALTH_ROOT_CA);
  g_autoptr(MoatHealthItem) listed = check ("alt-problem", MOAT_COMPUTER_HEALTH_ROOT_CA);
  g_autoptr(MoatHealthItem) none = check ("unknown", MOAT_COMPUTER_HEALTH_ROOT_CA);
  g_autoptr(JsonParser) parser = json_parser_new ();
  JsonObject *ev, *extra;
  JsonArray *extras;

  assert_status (standard, MOAT_HEALTH_OK, MOAT_SEVERITY_INFO);
  ev = evidence (standard, parser);
  g_assert_cmpint (json_object_get_int_member (ev, "standard"), ==, 2);
  g_assert_cmpuint (json_array_get_length (json_object_get_array_member (ev, "extra")), ==, 0);

  /* In /usr/local/share/ca-certificates, linked from /etc/ssl/certs and in
   * the bundle: reported once. */
  assert_status (local, MOAT_HEALTH_PROBLEM, MOAT_SEVERITY_MEDIUM);
  g_assert_cmpstr (local->summary, ==, "An extra root certificate is trusted: "
                   "“CN=Moat Test Interception CA,O=Moat Test Fixtures”.");
  extras = json_object_get_array_member (evidence (local, parser), "extra");
  g_assert_cmpuint (json_array_get_length (extras), ==, 1);
  extra = json_array_get_object_element (extras, 0);
  g_assert_cmpstr (json_object_get_string_member (extra, "sha256"), ==, TEST_CA_SHA256);
  g_assert_cmpstr (json_object_get_string_member (extra, "file"), ==,
                   "/usr/local/share/ca-certificates/moat-test-ca.crt");

  /* Listed in ca-certificates.conf, but not one of Mozilla's. */
  assert_status (listed, MOAT_HEALTH_PROBLEM, MOAT_SEVERITY_MEDIUM);
  extras = json_object_get_array_member (evidence (listed, parser), "extra");
  g_assert_cmpuint (json_array_get_length (extras), ==, 1);
  extra = json_array_get_object_element (extras, 0);
  g_assert_cmpstr (json_object_get_string_member (extra, "file"), ==,
                   "/usr/share/ca-certificates/corp/corp-root.crt");

  assert_status (none, MOAT_HEALTH_UNKNOWN, MOAT_SEVERITY_MEDIUM);
}

/* ---- computer.ssh_exposed ------------------------------------------------ */

static void
test_ssh_exposed (void)
{
  g_autoptr(MoatHealthItem) loopback = check ("healthy", MOAT_COMPUTER_HEALTH_SSH_EXPOSED);
  g_autoptr(MoatHealthItem) exposed = check ("unhealthy", MOAT_COMPUTER_HEALTH_SSH_EXPOSED);
  g_autoptr(MoatHealthItem) mapped = check ("alt-ok", MOAT_COMPUTER_HEALTH_SSH_EXPOSED);
  g_autoptr(MoatHealthItem) keys_only = check ("alt-problem", MOAT_COMPUTER_HEALTH_SSH_EXPOSED);
  g_autoptr(MoatHealthItem) none = check ("unknown", MOAT_COMPUTER_HEALTH_SSH_EXPOSED);
  g_autoptr(JsonParser) parser = json_parser_new ();
  JsonObject *ev;
  JsonArray *listening;

  assert_status (loopback, MOAT_HEALTH_OK, MOAT_SEVERITY_INFO);
  ev = evidence (loopback, parser);
  g_assert_cmpstr (json_object_get_string_member (ev, "password_authentication"), ==, "no");
  listening = json_object_get_array_member (ev, "listening");
  g_assert_cmpuint (json_array_get_length (listening), ==, 2);
  g_assert_cmpstr (json_object_get_string_member (json_array_get_object_element (listening, 0),
                                                  "address"), ==, "127.0.0.1");
  g_assert_cmpstr (json_object_get_string_member (json_array_get_object_element (listening, 1),
                                                  "address"), ==, "::1");
  /* 127.0.0.3 and ::ffff:127.0.0.1 are loopback too. */
  assert_status (mapped, MOAT_HEALTH_OK, MOAT_SEVERITY_INFO);

  /* Port 2222 from an Include, passwords by OpenSSH's default. */
  assert_status (exposed, MOAT_HEALTH_PROBLEM, MOAT_SEVERITY_HIGH);
  ev = evidence (exposed, parser);
  g_assert_cmpstr (json_object_get_string_member (ev, "password_authentication"), ==,
                   "yes (default)");
  listening = json_object_get_array_member (ev, "listening");
  g_assert_cmpuint (json_array_get_length (listening), ==, 2);
  g_assert_cmpint (json_object_get_int_member (json_array_get_object_element (listening, 0),
                                               "port"), ==, 2222);
  g_assert_cmpstr (json_object_get_string_member (json_array_get_object_element (listening, 1),
                                                  "address"), ==, "::");

  /* The first PasswordAuthentication (no) wins. */
  assert_status (keys_only, MOAT_HEALTH_PROBLEM, MOAT_SEVERITY_MEDIUM);
  ev = evidence (keys_only, parser);
  g_assert_cmpstr (json_object_get_string_member (
    json_array_get_object_element (json_object_get_array_member (ev, "listening"), 0),
    "address"), ==, "192.168.1.2");

  assert_status (none, MOAT_HEALTH_UNKNOWN, MOAT_SEVERITY_MEDIUM);
}

/* ---- the parsers ---------------------------------------------------------- */

static void
test_parse_proc_net_tcp (void)
{
  const char *text =
    "  sl  local_address rem_address   st tx_queue\n"
    "   0: 0100007F:0016 00000000:0000 0A 00000000:00000000 00:00000000 00000000 0 0 1 1\n"
    "   1: 0100007F:16 00000000:0000 0A\n"
    "   2: 0100007F:10000 00000000:0000 0A\n"
    "   3: 0100007G:0016 00000000:0000 0A\n"
    "   4: 00000000:FFFF 00000000:0000 01\n"
    "   5: 0100007F:0016\n"
    "\n";
  g_autoptr(GArray) sockets = NULL;
  MoatTcpSocket *sock;
  guint bad = 0;

  sockets = moat_proc_net_tcp_parse (text, strlen (text), FALSE, &bad);
  g_assert_cmpuint (sockets->len, ==, 3);
  g_assert_cmpuint (bad, ==, 3);
  sock = &g_array_index (sockets, MoatTcpSocket, 0);
  g_assert_cmpstr (sock->address, ==, "127.0.0.1");
  g_assert_cmpuint (sock->port, ==, 22);
  g_assert_cmpuint (sock->state, ==, MOAT_TCP_LISTEN);
  g_assert_true (sock->loopback);
  sock = &g_array_index (sockets, MoatTcpSocket, 1);
  g_assert_cmpuint (sock->port, ==, 0x16);
  sock = &g_array_index (sockets, MoatTcpSocket, 2);
  g_assert_cmpstr (sock->address, ==, "0.0.0.0");
  g_assert_cmpuint (sock->port, ==, 65535);
  g_assert_cmpuint (sock->state, ==, 1);
  g_assert_false (sock->loopback);
  g_clear_pointer (&sockets, g_array_unref);

  /* A v4 address in the v6 file is one line that does not parse. */
  sockets = moat_proc_net_tcp_parse (text, strlen (text), TRUE, &bad);
  g_assert_cmpuint (sockets->len, ==, 0);
  g_assert_cmpuint (bad, ==, 6);
}

static GPtrArray *
include_cb (const char *pattern,
            gpointer    user_data)
{
  GPtrArray *files = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);

  g_assert_cmpstr (pattern, ==, "/etc/ssh/sshd_config.d/*.conf");
  (*(guint *) user_data)++;
  /* Includes itself: the depth limit ends it. */
  g_ptr_array_add (files, g_bytes_new_static ("Port 2200\nInclude /etc/ssh/sshd_config.d/*.conf\n",
                                              strlen ("Port 2200\nInclude "
                                                      "/etc/ssh/sshd_config.d/*.conf\n")));
  return files;
}

static void
test_parse_sshd_config (void)
{
  const char *text =
    "# comment\n"
    "Include /etc/ssh/sshd_config.d/*.conf\n"
    "port 2222\n"
    "Port=70000\n"
    "ListenAddress [::1]:2022\n"
    "ListenAddress 10.0.0.1:2023\n"
    "ListenAddress fe80::1\n"
    "PASSWORDAUTHENTICATION \"No\"\n"
    "PasswordAuthentication yes\n"
    "Match Address 10.0.0.0/8\n"
    "  Port 9999\n"
    "  PasswordAuthentication yes\n";
  g_autoptr(MoatSshdConfig) config = moat_sshd_config_new ();
  guint calls = 0;

  moat_sshd_config_parse (config, text, strlen (text), include_cb, &calls);
  g_assert_cmpuint (calls, ==, 8);
  g_assert_cmpuint (config->includes, ==, 8);
  g_assert_cmpuint (config->ports->len, ==, 4);
  g_assert_cmpuint (g_array_index (config->ports, guint16, 0), ==, 2200);
  g_assert_cmpuint (g_array_index (config->ports, guint16, 1), ==, 2222);
  g_assert_cmpuint (g_array_index (config->ports, guint16, 2), ==, 2022);
  g_assert_cmpuint (g_array_index (config->ports, guint16, 3), ==, 2023);
  g_assert_cmpuint (config->listen_addresses->len, ==, 3);
  g_assert_cmpstr (g_ptr_array_index (config->listen_addresses, 2), ==, "fe80::1");
  g_assert_cmpstr (config->password_authentication, ==, "no");
  g_assert_cmpuint (config->match_blocks, ==, 1);
}

static void
test_parse_ini (void)
{
  const char *text =
    "; comment\n"
    "top = level\n"
    "[daemon]\n"
    "  AutomaticLoginEnable = true  \n"
    "not a pair\n"
    "[Seat:*]\n"
    "autologin-user=\n"
    "autologin-user=bob\n"
    "[broken\n"
    "key=v=w\n";
  g_autoptr(GHashTable) values = moat_ini_parse (text, strlen (text));

  g_assert_cmpuint (g_hash_table_size (values), ==, 4);
  g_assert_cmpstr (g_hash_table_lookup (values, "/top"), ==, "level");
  g_assert_cmpstr (g_hash_table_lookup (values, "daemon/AutomaticLoginEnable"), ==, "true");
  g_assert_cmpstr (g_hash_table_lookup (values, "Seat:*/autologin-user"), ==, "bob");
  /* "[broken" has no "]": still in [Seat:*]. */
  g_assert_cmpstr (g_hash_table_lookup (values, "Seat:*/key"), ==, "v=w");
}

/* ---- computer.screen_lock, on the memory backend -------------------------- */

typedef struct {
  GSettingsBackend *backend;
  GSettings        *screensaver;
  GSettings        *session;
} LockFixture;

static void
lock_setup (LockFixture   *fixture,
            gconstpointer  data)
{
  GSettingsSchemaSource *source = g_settings_schema_source_get_default ();
  g_autoptr(GSettingsSchema) screensaver = NULL;
  g_autoptr(GSettingsSchema) session = NULL;

  fixture->backend = g_memory_settings_backend_new ();
  screensaver = source != NULL ? g_settings_schema_source_lookup (
    source, "org.gnome.desktop.screensaver", TRUE) : NULL;
  session = source != NULL ? g_settings_schema_source_lookup (
    source, "org.gnome.desktop.session", TRUE) : NULL;
  if (screensaver == NULL || session == NULL)
    return;
  fixture->screensaver = g_settings_new_full (screensaver, fixture->backend, NULL);
  fixture->session = g_settings_new_full (session, fixture->backend, NULL);
}

static void
lock_teardown (LockFixture   *fixture,
               gconstpointer  data)
{
  g_clear_object (&fixture->screensaver);
  g_clear_object (&fixture->session);
  g_clear_object (&fixture->backend);
}

static MoatHealthItem *
check_lock (LockFixture *fixture)
{
  MoatComputerHealthOptions options = { "/nonexistent", NULL, NULL, fixture->backend, NULL };

  return moat_computer_health_check_one_sync (&options, MOAT_COMPUTER_HEALTH_SCREEN_LOCK, NULL);
}

static void
test_screen_lock_defaults (LockFixture   *fixture,
                           gconstpointer  data)
{
  g_autoptr(MoatHealthItem) item = NULL;

  if (fixture->screensaver == NULL)
    {
      g_test_skip ("needs gsettings-desktop-schemas");
      return;
    }
  /* GNOME's defaults: locks, 5 minutes, no grace period. */
  item = check_lock (fixture);
  assert_status (item, MOAT_HEALTH_OK, MOAT_SEVERITY_INFO);
  g_assert_false (item->auto_fix);
  g_assert_cmpstr (item->summary, ==, "The screen locks itself after 5 minutes without use.");
}

static void
test_screen_lock_fix_undo (LockFixture   *fixture,
                           gconstpointer  data)
{
  g_autoptr(MoatHealthItem) weak = NULL;
  g_autoptr(MoatHealthItem) fixed = NULL;
  g_autoptr(MoatHealthItem) undone = NULL;
  g_autoptr(GVariant) previous = NULL;
  g_autoptr(GVariant) user = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *printed = NULL;

  if (fixture->screensaver == NULL)
    {
      g_test_skip ("needs gsettings-desktop-schemas");
      return;
    }
  g_settings_set_boolean (fixture->screensaver, "lock-enabled", FALSE);
  g_settings_set_uint (fixture->session, "idle-delay", 0);
  weak = check_lock (fixture);
  assert_status (weak, MOAT_HEALTH_PROBLEM, MOAT_SEVERITY_MEDIUM);
  g_assert_true (weak->auto_fix);
  g_assert_cmpstr (weak->summary, ==, "The screen lock is too weak: the screen never locks by "
                   "itself; the screen never goes blank.");

  previous = moat_computer_health_fix_screen_lock (NULL, fixture->backend, &error);
  g_assert_no_error (error);
  /* lock-delay was fine (the default): untouched, so not in the undo. */
  printed = g_variant_print (previous, TRUE);
  g_assert_cmpstr (printed, ==, "{'org.gnome.desktop.screensaver lock-enabled': @mv <false>, "
                   "'org.gnome.desktop.session idle-delay': <uint32 0>}");
  g_assert_true (g_settings_get_boolean (fixture->screensaver, "lock-enabled"));
  g_assert_cmpuint (g_settings_get_uint (fixture->session, "idle-delay"), ==, 300);
  user = g_settings_get_user_value (fixture->screensaver, "lock-delay");
  g_assert_null (user);
  fixed = check_lock (fixture);
  assert_status (fixed, MOAT_HEALTH_OK, MOAT_SEVERITY_INFO);

  g_assert_true (moat_computer_health_fix_screen_lock_undo (NULL, fixture->backend, previous,
                                                            &error));
  g_assert_no_error (error);
  g_assert_false (g_settings_get_boolean (fixture->screensaver, "lock-enabled"));
  g_assert_cmpuint (g_settings_get_uint (fixture->session, "idle-delay"), ==, 0);
  undone = check_lock (fixture);
  assert_status (undone, MOAT_HEALTH_PROBLEM, MOAT_SEVERITY_MEDIUM);
}

static void
test_screen_lock_undo_keeps_later_changes (LockFixture   *fixture,
                                           gconstpointer  data)
{
  g_autoptr(GVariant) previous = NULL;
  g_autoptr(GVariant) user = NULL;
  g_autoptr(GError) error = NULL;

  if (fixture->screensaver == NULL)
    {
      g_test_skip ("needs gsettings-desktop-schemas");
      return;
    }
  g_settings_set_uint (fixture->session, "idle-delay", 3600);
  g_settings_set_uint (fixture->screensaver, "lock-delay", 1800);
  previous = moat_computer_health_fix_screen_lock (NULL, fixture->backend, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_settings_get_uint (fixture->screensaver, "lock-delay"), ==, 0);
  /* The user picks 10 minutes after the fix: the undo leaves it. */
  g_settings_set_uint (fixture->session, "idle-delay", 600);
  g_assert_true (moat_computer_health_fix_screen_lock_undo (NULL, fixture->backend, previous,
                                                            &error));
  g_assert_no_error (error);
  g_assert_cmpuint (g_settings_get_uint (fixture->session, "idle-delay"), ==, 600);
  g_assert_cmpuint (g_settings_get_uint (fixture->screensaver, "lock-delay"), ==, 1800);
  user = g_settings_get_user_value (fixture->screensaver, "lock-enabled");
  g_assert_null (user);

  /* A fix of nothing has nothing to undo; a wrong type is refused. */
  g_clear_pointer (&previous, g_variant_unref);
  g_settings_set_uint (fixture->screensaver, "lock-delay", 60);
  previous = moat_computer_health_fix_screen_lock (NULL, fixture->backend, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_variant_n_children (previous), ==, 0);
  g_assert_false (moat_computer_health_fix_screen_lock_undo (NULL, fixture->backend,
                                                             g_variant_new_string ("x"),
                                                             &error));
  g_assert_error (error, MOAT_ERROR, MOAT_ERROR_INVALID_ARGUMENT);
}

static void
test_screen_lock_no_schemas (void)
{
  const char *dir = g_getenv ("GSETTINGS_SCHEMA_DIR");
  g_autoptr(GSettingsSchemaSource) source = NULL;
  g_autoptr(GSettingsBackend) backend = g_memory_settings_backend_new ();
  g_autoptr(MoatHealthItem) item = NULL;
  g_autoptr(GVariant) previous = NULL;
  g_autoptr(GError) error = NULL;
  MoatComputerHealthOptions options = { "/nonexistent", NULL, NULL, backend, NULL };

  /* Moat's own schemas only, without the system's. */
  g_assert_nonnull (dir);
  source = g_settings_schema_source_new_from_directory (dir, NULL, TRUE, &error);
  g_assert_no_error (error);
  options.schema_source = source;
  item = moat_computer_health_check_one_sync (&options, MOAT_COMPUTER_HEALTH_SCREEN_LOCK, NULL);
  assert_status (item, MOAT_HEALTH_UNKNOWN, MOAT_SEVERITY_MEDIUM);
  g_assert_false (item->auto_fix);
  previous = moat_computer_health_fix_screen_lock (source, backend, &error);
  g_assert_null (previous);
  g_assert_error (error, MOAT_ERROR, MOAT_ERROR_NOT_SUPPORTED);
}

/* ---- fake system services on a private bus -------------------------------- */

typedef struct {
  GTestDBus       *bus;
  GDBusConnection *client;
  GDBusConnection *service;
  char            *hsi;
  guint            ids[4];
} BusFixture;

static const char service_xml[] =
  "<node>"
  "  <interface name='org.freedesktop.fwupd'>"
  "    <property name='HostSecurityId' type='s' access='read'/>"
  "  </interface>"
  "  <interface name='org.fedoraproject.FirewallD1'>"
  "    <property name='state' type='s' access='read'/>"
  "  </interface>"
  "  <interface name='org.freedesktop.PackageKit'>"
  "    <method name='CreateTransaction'><arg type='o' direction='out'/></method>"
  "  </interface>"
  "  <interface name='org.freedesktop.PackageKit.Transaction'>"
  "    <method name='GetUpdates'><arg type='t' direction='in'/></method>"
  "    <signal name='Package'><arg type='u'/><arg type='s'/><arg type='s'/></signal>"
  "    <signal name='Finished'><arg type='u'/><arg type='u'/></signal>"
  "  </interface>"
  "</node>";

static GVariant *
service_get_property (GDBusConnection *connection,
                      const char      *sender,
                      const char      *path,
                      const char      *interface,
                      const char      *property,
                      GError         **error,
                      gpointer         user_data)
{
  BusFixture *fixture = user_data;

  if (g_str_equal (property, "HostSecurityId"))
    return g_variant_new_string (fixture->hsi);
  return g_variant_new_string ("RUNNING");
}

static void
service_method_call (GDBusConnection       *connection,
                     const char            *sender,
                     const char            *path,
                     const char            *interface,
                     const char            *method,
                     GVariant              *parameters,
                     GDBusMethodInvocation *invocation,
                     gpointer               user_data)
{
  const char *const packages[] = { "libssl3;3.0.15-1~deb12u1;amd64;debian-security",
                                   "openssl;3.0.15-1~deb12u1;amd64;debian-security",
                                   "tzdata;2025b-0+deb12u1;all;debian" };
  /* PackageKit 1.2.6+ adds the severity above bit 16. */
  const guint32 infos[] = { 8, 8 | (3 << 16), 6 };
  guint64 filter;

  if (g_str_equal (method, "CreateTransaction"))
    {
      g_dbus_method_invocation_return_value (invocation, g_variant_new ("(o)", "/1"));
      return;
    }
  g_variant_get (parameters, "(t)", &filter);
  g_assert_cmpuint (filter, ==, 2);
  g_dbus_method_invocation_return_value (invocation, NULL);
  for (guint i = 0; i < G_N_ELEMENTS (packages); i++)
    g_dbus_connection_emit_signal (connection, NULL, "/1",
                                   "org.freedesktop.PackageKit.Transaction", "Package",
                                   g_variant_new ("(uss)", infos[i], packages[i], ""), NULL);
  g_dbus_connection_emit_signal (connection, NULL, "/1", "org.freedesktop.PackageKit.Transaction",
                                 "Finished", g_variant_new ("(uu)", 1, 12), NULL);
}

static const GDBusInterfaceVTable service_vtable = {
  service_method_call, service_get_property, NULL, { 0 }
};

static void
bus_setup (BusFixture    *fixture,
           gconstpointer  data)
{
  g_autoptr(GDBusNodeInfo) info = g_dbus_node_info_new_for_xml (service_xml, NULL);
  g_autoptr(GError) error = NULL;
  const char *const names[] = { "org.freedesktop.fwupd", "org.fedoraproject.FirewallD1",
                                "org.freedesktop.PackageKit", NULL };
  const char *const paths[] = { "/", "/org/fedoraproject/FirewallD1",
                                "/org/freedesktop/PackageKit", "/1" };

  fixture->hsi = g_strdup (data);
  fixture->bus = g_test_dbus_new (G_TEST_DBUS_NONE);
  g_test_dbus_up (fixture->bus);
  fixture->client = g_dbus_connection_new_for_address_sync (
    g_test_dbus_get_bus_address (fixture->bus),
    G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT |
    G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION, NULL, NULL, &error);
  g_assert_no_error (error);
  fixture->service = g_dbus_connection_new_for_address_sync (
    g_test_dbus_get_bus_address (fixture->bus),
    G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT |
    G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION, NULL, NULL, &error);
  g_assert_no_error (error);
  for (guint i = 0; i < G_N_ELEMENTS (paths); i++)
    {
      fixture->ids[i] = g_dbus_connection_register_object (fixture->service, paths[i],
                                                           info->interfaces[i],
                                                           &service_vtable, fixture, NULL,
                                                           &error);
      g_assert_no_error (error);
    }
  for (guint i = 0; names[i] != NULL; i++)
    {
      g_autoptr(GVariant) reply = g_dbus_connection_call_sync (
        fixture->service, "org.freedesktop.DBus", "/org/freedesktop/DBus",
        "org.freedesktop.DBus", "RequestName", g_variant_new ("(su)", names[i], 4),
        G_VARIANT_TYPE ("(u)"), G_DBUS_CALL_FLAGS_NONE, -1, NULL, &error);

      g_assert_no_error (error);
    }
}

static void
bus_teardown (BusFixture    *fixture,
              gconstpointer  data)
{
  for (guint i = 0; i < G_N_ELEMENTS (fixture->ids); i++)
    g_dbus_connection_unregister_object (fixture->service, fixture->ids[i]);
  g_dbus_connection_close_sync (fixture->client, NULL, NULL);
  g_dbus_connection_close_sync (fixture->service, NULL, NULL);
  g_clear_object (&fixture->client);
  g_clear_object (&fixture->service);
  g_test_dbus_down (fixture->bus);
  g_clear_object (&fixture->bus);
  g_free (fixture->hsi);
}

static void
check_done_cb (GObject      *object,
               GAsyncResult *result,
               gpointer      user_data)
{
  GPtrArray **out = user_data;
  g_autoptr(GError) error = NULL;

  *out = moat_computer_health_check_finish (result, &error);
  g_assert_no_error (error);
}

/* All checks in the worker thread while this thread serves the fakes. */
static GPtrArray *
check_all_async (const char      *fixture,
                 GDBusConnection *bus)
{
  g_autofree char *root = fixture_root (fixture);
  g_autoptr(GDateTime) now = fixture_now (root, 0);
  g_autoptr(GSettingsBackend) backend = g_memory_settings_backend_new ();
  MoatComputerHealthOptions options = { root, bus, NULL, backend, now };
  GPtrArray *items = NULL;

  moat_computer_health_check_async (&options, NULL, check_done_cb, &items);
  while (items == NULL)
    g_main_context_iteration (NULL, TRUE);
  g_assert_cmpuint (items->len, ==, g_strv_length ((char **) moat_computer_health_check_ids ()));
  return items;
}

static const MoatHealthItem *
find_item (GPtrArray  *items,
           const char *id)
{
  for (guint i = 0; i < items->len; i++)
    if (g_str_equal (((MoatHealthItem *) g_ptr_array_index (items, i))->id, id))
      return g_ptr_array_index (items, i);
  g_assert_not_reached ();
  return NULL;
}

static void
test_bus_services (BusFixture    *fixture,
                   gconstpointer  data)
{
  g_autoptr(GPtrArray) items = check_all_async ("unknown", fixture->client);
  g_autoptr(JsonParser) parser = json_parser_new ();
  const MoatHealthItem *updates = find_item (items, MOAT_COMPUTER_HEALTH_OS_UPDATES);
  const MoatHealthItem *firewall = find_item (items, MOAT_COMPUTER_HEALTH_FIREWALL);
  const MoatHealthItem *hsi = find_item (items, MOAT_COMPUTER_HEALTH_HSI);
  JsonObject *ev;

  /* PackageKit: two of three updates are security updates; no apt here. */
  assert_status (updates, MOAT_HEALTH_PROBLEM, MOAT_SEVERITY_MEDIUM);
  ev = evidence (updates, parser);
  g_assert_cmpstr (json_object_get_string_member (ev, "source"), ==, "packagekit");
  g_assert_cmpint (json_object_get_int_member (ev, "security_updates"), ==, 2);
  g_assert_cmpint (json_object_get_int_member (ev, "updates"), ==, 3);

  assert_status (firewall, MOAT_HEALTH_OK, MOAT_SEVERITY_INFO);
  g_assert_cmpstr (firewall->summary, ==, "A firewall is active (firewalld).");

  if (g_str_equal (fixture->hsi, "HSI:0 (v1.8.12)"))
    {
      assert_status (hsi, MOAT_HEALTH_PROBLEM, MOAT_SEVERITY_LOW);
      g_assert_cmpstr (hsi->summary, ==,
                       "The firmware passes none of fwupd’s basic security tests (HSI:0).");
    }
  else
    {
      assert_status (hsi, MOAT_HEALTH_OK, MOAT_SEVERITY_INFO);
      g_assert_cmpstr (hsi->summary, ==, "The firmware’s security level is HSI:2!.");
      ev = evidence (hsi, parser);
      g_assert_true (json_object_get_boolean_member (ev, "runtime_issues"));
    }
}

static void
test_no_bus (void)
{
  g_autoptr(MoatHealthItem) hsi = check ("unknown", MOAT_COMPUTER_HEALTH_HSI);

  assert_status (hsi, MOAT_HEALTH_UNKNOWN, MOAT_SEVERITY_LOW);
  g_assert_cmpstr (hsi->summary, ==, "fwupd is not installed or not running, so the firmware's "
                   "security level is unknown.");
}

static void
cancelled_cb (GObject      *object,
              GAsyncResult *result,
              gpointer      user_data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) items = moat_computer_health_check_finish (result, &error);

  g_assert_null (items);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  *(gboolean *) user_data = TRUE;
}

static void
test_cancelled (void)
{
  g_autofree char *root = fixture_root ("healthy");
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  MoatComputerHealthOptions options = { root, NULL, NULL, NULL, NULL };
  gboolean done = FALSE;

  g_cancellable_cancel (cancellable);
  moat_computer_health_check_async (&options, cancellable, cancelled_cb, &done);
  while (!done)
    g_main_context_iteration (NULL, TRUE);
  g_assert_null (moat_computer_health_check_one_sync (&options, "computer.nope", NULL));
}

/* ---- this machine ---------------------------------------------------------- */

static void
test_this_machine (void)
{
  g_autoptr(GDBusConnection) bus = g_bus_get_sync (G_BUS_TYPE_SYSTEM, NULL, NULL);
  g_autoptr(GSettingsBackend) backend = g_memory_settings_backend_new ();
  MoatComputerHealthOptions options = { NULL, bus, NULL, backend, NULL };
  g_autoptr(GPtrArray) items = moat_computer_health_check_sync (&options, NULL);
  const char *const *ids = moat_computer_health_check_ids ();
  g_autoptr(JsonParser) parser = json_parser_new ();

  g_assert_cmpuint (items->len, ==, 9);
  for (guint i = 0; i < items->len; i++)
    {
      const MoatHealthItem *item = g_ptr_array_index (items, i);

      g_test_message ("%s: %s (%s): %s", item->id, moat_health_status_to_string (item->status),
                      moat_severity_to_string (item->severity), item->summary);
      g_assert_cmpstr (item->id, ==, ids[i]);
      g_assert_cmpstr (item->area, ==, "computer");
      g_assert_cmpint (item->status, >=, MOAT_HEALTH_OK);
      g_assert_cmpint (item->status, <=, MOAT_HEALTH_UNKNOWN);
      g_assert_cmpstr (item->title, !=, "");
      g_assert_cmpstr (item->summary, !=, "");
      g_assert_cmpstr (item->why, !=, "");
      g_assert_cmpstr (item->impact, !=, "");
      evidence (item, parser);
    }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/moat/computer-health/os-updates/healthy", test_os_updates_healthy);
  g_test_add_func ("/moat/computer-health/os-updates/pending", test_os_updates_pending);
  g_test_add_func ("/moat/computer-health/os-updates/pending-age", test_os_updates_pending_age);
  g_test_add_func ("/moat/computer-health/os-updates/apt-check", test_os_updates_apt_check);
  g_test_add_func ("/moat/computer-health/os-updates/stale", test_os_updates_stale);
  g_test_add_func ("/moat/computer-health/os-updates/unknown", test_os_updates_unknown);
  g_test_add_func ("/moat/computer-health/disk-encryption", test_disk_encryption);
  g_test_add_func ("/moat/computer-health/firewall", test_firewall);
  g_test_add_func ("/moat/computer-health/firewall/timeout", test_firewall_timeout);
  g_test_add_func ("/moat/computer-health/secure-boot", test_secure_boot);
  g_test_add_func ("/moat/computer-health/auto-login", test_auto_login);
  g_test_add_func ("/moat/computer-health/root-ca", test_root_ca);
  g_test_add_func ("/moat/computer-health/ssh-exposed", test_ssh_exposed);
  g_test_add_func ("/moat/computer-health/parse/proc-net-tcp", test_parse_proc_net_tcp);
  g_test_add_func ("/moat/computer-health/parse/sshd-config", test_parse_sshd_config);
  g_test_add_func ("/moat/computer-health/parse/ini", test_parse_ini);
  g_test_add ("/moat/computer-health/screen-lock/defaults", LockFixture, NULL, lock_setup,
              test_screen_lock_defaults, lock_teardown);
  g_test_add ("/moat/computer-health/screen-lock/fix-undo", LockFixture, NULL, lock_setup,
              test_screen_lock_fix_undo, lock_teardown);
  g_test_add ("/moat/computer-health/screen-lock/undo-keeps-later-changes", LockFixture, NULL,
              lock_setup, test_screen_lock_undo_keeps_later_changes, lock_teardown);
  g_test_add_func ("/moat/computer-health/screen-lock/no-schemas", test_screen_lock_no_schemas);
  g_test_add ("/moat/computer-health/bus/hsi-2", BusFixture, "HSI:2! (v1.8.12)", bus_setup,
              test_bus_services, bus_teardown);
  g_test_add ("/moat/computer-health/bus/hsi-0", BusFixture, "HSI:0 (v1.8.12)", bus_setup,
              test_bus_services, bus_teardown);
  g_test_add_func ("/moat/computer-health/bus/none", test_no_bus);
  g_test_add_func ("/moat/computer-health/cancelled", test_cancelled);
  g_test_add_func ("/moat/computer-health/this-machine", test_this_machine);

  return g_test_run ();
}
