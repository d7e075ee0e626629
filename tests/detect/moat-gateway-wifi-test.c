/* SPDX-License-Identifier: GPL-3.0-or-later
 * Copyright 2026 The Moat developers
 */
#include "config.h"

#include "moat-gateway-probe.h"
#include "moat-test-utils.h"
#include "moat-wifi-check.h"

#include <glib/gstdio.h>
#include <string.h>

/* The gateway check on recorded kernel tables, and the Wi-Fi and VPN checks
 * on recorded NetworkManager states. (The real ARP spoofer is in the
 * gateway namespace test.) */

#define ROUTE_HEADER "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n"
#define ARP_HEADER "IP address       HW type     Flags       HW address            Mask     Device\n"

static void
test_parse (void)
{
  static const char route[] =
    ROUTE_HEADER
    "eth0\t000200C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0\n"
    "wlan0\t00000000\t0101A8C0\t0003\t0\t0\t600\t00000000\t0\t0\t0\n"
    "eth0\t00000000\t010200C0\t0003\t0\t0\t100\t00000000\t0\t0\t0\n";
  static const char arp[] =
    ARP_HEADER
    "192.0.2.1        0x1         0x2         02:FC:00:00:00:05     *        eth0\n"
    "192.0.2.7        0x1         0x0         00:00:00:00:00:00     *        eth0\n"
    "192.168.1.1      0x1         0x2         aa:aa:aa:aa:aa:aa     *        wlan0\n";
  g_autoptr(GError) error = NULL;
  g_autoptr(MoatGateway) gw = moat_gateway_parse (route, arp, &error);

  /* The route with the lowest metric wins. */
  g_assert_no_error (error);
  g_assert_cmpstr (gw->interface, ==, "eth0");
  g_assert_cmpstr (gw->address, ==, "192.0.2.1");
  g_assert_cmpstr (gw->mac, ==, "02:fc:00:00:00:05");
  g_assert_null (gw->shared_with);
}

static void
test_parse_shared (void)
{
  static const char route[] =
    ROUTE_HEADER "eth0\t00000000\t010200C0\t0003\t0\t0\t0\t00000000\t0\t0\t0\n";
  static const char arp[] =
    ARP_HEADER
    "192.0.2.66       0x1         0x2         02:00:00:00:00:66     *        eth0\n"
    "192.0.2.1        0x1         0x2         02:00:00:00:00:66     *        eth0\n";
  g_autoptr(GError) error = NULL;
  g_autoptr(MoatGateway) gw = moat_gateway_parse (route, arp, &error);

  g_assert_no_error (error);
  g_assert_cmpstr (gw->mac, ==, "02:00:00:00:00:66");
  g_assert_cmpstr (gw->shared_with, ==, "192.0.2.66");
}

static void
test_parse_bad (void)
{
  static const char *const routes[] = {
    "",
    ROUTE_HEADER,
    ROUTE_HEADER "eth0\t00000000\t00000000\t0001\t0\t0\t0\t00000000\t0\t0\t0\n",   /* no gateway */
    ROUTE_HEADER "eth0\t00000000\t010200C0\t0001\t0\t0\t0\t00000000\t0\t0\t0\n",   /* flag missing */
    ROUTE_HEADER "eth0\t00000000\tZZ0200C0\t0003\t0\t0\t0\t00000000\t0\t0\t0\n",
    ROUTE_HEADER "eth0 00000000\n",
    ROUTE_HEADER "this/is/bad\t00000000\t010200C0\t0003\t0\t0\t0\t00000000\t0\t0\t0\n",
  };

  for (guint i = 0; i < G_N_ELEMENTS (routes); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(MoatGateway) gw = moat_gateway_parse (routes[i], "garbage\n\x01\x02", &error);

      g_assert_null (gw);
      g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
    }
}

typedef struct {
  char      *dir;
  char      *route;
  char      *arp;
  GPtrArray *findings;
  MoatGateway *gateway;
} ProbeFixture;

static void
probe_done_cb (GObject *object, GAsyncResult *result, gpointer user_data)
{
  ProbeFixture *f = user_data;
  g_autoptr(GError) error = NULL;

  f->findings = moat_gateway_probe_run_finish (result, &f->gateway, &error);
  g_assert_no_error (error);
}

static void
run_probe (ProbeFixture *f, const char *arp, const char *known)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GHashTable) macs = g_hash_table_new (g_str_hash, g_str_equal);

  if (known != NULL)
    g_hash_table_insert (macs, (char *) "192.0.2.1 on eth0", (char *) known);
  g_file_set_contents (f->arp, arp, -1, &error);
  g_assert_no_error (error);
  g_clear_pointer (&f->findings, g_ptr_array_unref);
  g_clear_pointer (&f->gateway, moat_gateway_free);
  moat_gateway_probe_run_async (f->route, f->arp, macs, NULL, probe_done_cb, f);
  while (f->findings == NULL)
    g_main_context_iteration (NULL, TRUE);
  g_assert_cmpuint (f->findings->len, ==, 1);
}

/* The probe remembers nothing: the caller hands in the MAC it saw before. */
static void
test_probe (void)
{
  ProbeFixture f = { 0 };
  g_autoptr(GError) error = NULL;
  const MoatFinding *finding;

  f.dir = g_dir_make_tmp ("moat-gateway-test-XXXXXX", &error);
  g_assert_no_error (error);
  f.route = g_build_filename (f.dir, "route", NULL);
  f.arp = g_build_filename (f.dir, "arp", NULL);
  g_file_set_contents (f.route,
                       ROUTE_HEADER "eth0\t00000000\t010200C0\t0003\t0\t0\t0\t00000000\t0\t0\t0\n",
                       -1, &error);
  g_assert_no_error (error);

  run_probe (&f, ARP_HEADER "192.0.2.1 0x1 0x2 02:00:00:00:00:01 * eth0\n", NULL);
  finding = g_ptr_array_index (f.findings, 0);
  g_assert_cmpint (finding->result, ==, MOAT_FINDING_CLEAN);
  g_assert_cmpstr (finding->subject, ==, "192.0.2.1 on eth0");
  g_assert_cmpstr (f.gateway->mac, ==, "02:00:00:00:00:01");

  run_probe (&f, ARP_HEADER "192.0.2.1 0x1 0x2 02:00:00:00:00:01 * eth0\n", "02:00:00:00:00:01");
  finding = g_ptr_array_index (f.findings, 0);
  g_assert_cmpint (finding->result, ==, MOAT_FINDING_CLEAN);

  /* Another MAC for the same gateway. */
  run_probe (&f, ARP_HEADER "192.0.2.1 0x1 0x2 02:00:00:00:00:66 * eth0\n", "02:00:00:00:00:01");
  finding = g_ptr_array_index (f.findings, 0);
  g_assert_cmpint (finding->result, ==, MOAT_FINDING_THREAT);
  g_assert_cmpstr (finding->threat, ==, "network.arp_spoof");
  g_assert_cmpint (finding->severity, ==, MOAT_SEVERITY_HIGH);
  g_assert_nonnull (strstr (finding->evidence, "\"expected_mac\":\"02:00:00:00:00:01\""));

  /* No neighbour entry even after asking: inconclusive, after the wait. */
  run_probe (&f, ARP_HEADER, "02:00:00:00:00:01");
  finding = g_ptr_array_index (f.findings, 0);
  g_assert_cmpint (finding->result, ==, MOAT_FINDING_INCONCLUSIVE);

  g_clear_pointer (&f.findings, g_ptr_array_unref);
  g_clear_pointer (&f.gateway, moat_gateway_free);
  moat_test_remove_tree (f.dir);
  g_free (f.dir);
  g_free (f.route);
  g_free (f.arp);
}

/* ---- Wi-Fi and VPN ---- */

static const MoatFinding *
find (GPtrArray *findings, const char *detector, const char *subject)
{
  for (guint i = 0; i < findings->len; i++)
    {
      const MoatFinding *f = g_ptr_array_index (findings, i);

      if (g_str_equal (f->detector, detector) && g_str_equal (f->subject, subject))
        return f;
    }
  g_test_message ("no %s finding for %s", detector, subject);
  g_assert_not_reached ();
  return NULL;
}

static void
test_wifi (void)
{
  static const char *const known[] = { "Office=wpa-eap,AA:BB:CC:00:00:01,aa:bb:cc:00:00:02",
                                       "Guest=wpa-psk", NULL };
  static const char *const vpns[] = { "Backup VPN", NULL };
  g_autoptr(MoatNetworkState) state = moat_network_state_new ();
  g_autoptr(GPtrArray) findings = NULL;
  g_autoptr(GError) error = NULL;
  const MoatFinding *f;

  state->available = TRUE;
  moat_network_state_add_ap (state, "Office", "aa:bb:cc:00:00:01", "wpa-eap", TRUE);
  moat_network_state_add_ap (state, "Office", "AA:BB:CC:00:00:02", "wpa-eap", FALSE);
  moat_network_state_add_ap (state, "Guest", "11:22:33:44:55:66", "wpa-psk", FALSE);
  moat_network_state_add_vpn (state, "Company VPN", "openvpn", TRUE);
  moat_network_state_add_vpn (state, "Free VPN", "openvpn", FALSE);

  /* A clean office. */
  findings = moat_wifi_check (state, known, vpns, "Company VPN", &error);
  g_assert_no_error (error);
  g_assert_cmpint (find (findings, "wifi", "Office")->result, ==, MOAT_FINDING_CLEAN);
  g_assert_cmpint (find (findings, "rogue-wifi", "Office")->result, ==, MOAT_FINDING_CLEAN);
  g_assert_cmpint (find (findings, "rogue-wifi", "Guest")->result, ==, MOAT_FINDING_CLEAN);
  g_assert_cmpint (find (findings, "vpn", "Company VPN")->result, ==, MOAT_FINDING_CLEAN);
  g_clear_pointer (&findings, g_ptr_array_unref);

  /* An evil twin in sight with the office's name but no encryption, and an
   * unknown VPN up. */
  moat_network_state_add_ap (state, "Office", "de:ad:be:ef:00:01", "open", FALSE);
  moat_network_state_add_vpn (state, "Free VPN", "wireguard", TRUE);
  findings = moat_wifi_check (state, known, vpns, "Company VPN", &error);
  g_assert_no_error (error);
  f = find (findings, "rogue-wifi", "Office");
  g_assert_cmpint (f->result, ==, MOAT_FINDING_THREAT);
  g_assert_cmpstr (f->threat, ==, "network.rogue_wifi");
  g_assert_cmpint (f->severity, ==, MOAT_SEVERITY_MEDIUM);
  g_assert_nonnull (strstr (f->evidence, "\"bssid\":\"DE:AD:BE:EF:00:01\""));
  f = find (findings, "vpn", "Free VPN");
  g_assert_cmpstr (f->threat, ==, "network.malicious_vpn");
  g_clear_pointer (&findings, g_ptr_array_unref);
}

static void
test_wifi_connected_rogue (void)
{
  static const char *const known[] = { "Office=wpa-eap", NULL };
  g_autoptr(MoatNetworkState) state = moat_network_state_new ();
  g_autoptr(GPtrArray) findings = NULL;
  g_autoptr(GError) error = NULL;
  const MoatFinding *f;

  state->available = TRUE;
  /* On a fake "Office" that asks for a shared password. */
  moat_network_state_add_ap (state, "Office", "02:00:00:00:00:09", "wpa-psk", TRUE);
  findings = moat_wifi_check (state, known, NULL, NULL, &error);
  g_assert_no_error (error);
  f = find (findings, "rogue-wifi", "Office");
  g_assert_cmpstr (f->threat, ==, "network.rogue_wifi");
  g_assert_cmpint (f->severity, ==, MOAT_SEVERITY_HIGH);
  g_assert_cmpint (find (findings, "vpn", "vpn")->result, ==, MOAT_FINDING_CLEAN);
  g_clear_pointer (&findings, g_ptr_array_unref);

  /* A café's open network. */
  g_ptr_array_set_size (state->wifi, 0);
  moat_network_state_add_ap (state, "Cafe", "02:00:00:00:00:0a", "open", TRUE);
  findings = moat_wifi_check (state, known, NULL, NULL, &error);
  f = find (findings, "wifi", "Cafe");
  g_assert_cmpstr (f->threat, ==, "network.open_wifi");
  g_assert_cmpint (f->severity, ==, MOAT_SEVERITY_LOW);
}

static void
test_wifi_unavailable (void)
{
  g_autoptr(MoatNetworkState) state = moat_network_state_new ();
  g_autoptr(GPtrArray) findings = NULL;

  findings = moat_wifi_check (state, NULL, NULL, NULL, NULL);
  g_assert_cmpuint (findings->len, ==, 2);
  g_assert_cmpint (find (findings, "wifi", "wifi")->result, ==, MOAT_FINDING_INCONCLUSIVE);
  g_assert_cmpint (find (findings, "vpn", "vpn")->result, ==, MOAT_FINDING_INCONCLUSIVE);
}

static void
test_known_invalid (void)
{
  static const char *const bad[] = {
    "Office", "=wpa-eap", "Office=wpa3", "Office=wpa-eap,AA:BB", "Office=wpa-eap,GG:BB:CC:DD:EE:FF",
    "Office=", "\xff=open",
  };

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr(GError) error = NULL;
      const char *one[] = { bad[i], NULL };
      g_autoptr(MoatNetworkState) state = moat_network_state_new ();
      g_autoptr(GPtrArray) findings = moat_wifi_check (state, one, NULL, NULL, &error);

      g_test_message ("entry %u", i);
      g_assert_null (findings);
      g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
      g_assert_false (moat_wifi_known_network_is_valid (bad[i], NULL));
    }
  g_assert_true (moat_wifi_known_network_is_valid ("Office=sae,aa:bb:cc:dd:ee:ff", NULL));
  /* An SSID may hold "=". */
  g_assert_true (moat_wifi_known_network_is_valid ("a=b=open", NULL));
}

int
main (int argc, char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/moat/gateway/parse", test_parse);
  g_test_add_func ("/moat/gateway/parse-shared", test_parse_shared);
  g_test_add_func ("/moat/gateway/parse-bad", test_parse_bad);
  g_test_add_func ("/moat/gateway/probe", test_probe);
  g_test_add_func ("/moat/wifi/check", test_wifi);
  g_test_add_func ("/moat/wifi/connected-rogue", test_wifi_connected_rogue);
  g_test_add_func ("/moat/wifi/unavailable", test_wifi_unavailable);
  g_test_add_func ("/moat/wifi/known-invalid", test_known_invalid);

  return g_test_run ();
}
