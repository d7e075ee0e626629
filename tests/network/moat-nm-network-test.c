/* SPDX-License-Identifier: GPL-3.0-or-later
 * Copyright 2026 The Moat developers
 */
/*
 * MoatNmNetwork against the real NetworkManager and a real OpenVPN server.
 *
 * Two ways to run:
 *  - alone (suite 'unit'): only /moat/nm-network/no-bus runs, with
 *    DBUS_SYSTEM_BUS_ADDRESS pointing at a socket that does not exist; the
 *    others skip.
 *  - through `nm-netns.py check -- THIS --tap` (suite 'netns', root): inside
 *    the client namespace, with MOAT_NM_WORKDIR, MOAT_NM_HARNESS and the
 *    private bus set; the tests stop and start the OpenVPN server and
 *    NetworkManager through the harness.
 */
#include "config.h"

#include "moat-error.h"
#include "moat-nm-network.h"

#include <gio/gio.h>
#include <glib/gstdio.h>

#define VPN_NAME "Company VPN"
#define UNREACHABLE_NAME "Unreachable VPN"
/* the server's end of the tunnel (nm-netns.py) */
#define VPN_SERVER_IP "10.203.8.1"

typedef struct {
  MoatNetwork  *network;
  guint         vpn_down;
  char         *vpn_down_name;
  guint         changed;
} Fixture;

static gboolean in_netns;

/* ---- helpers ---- */

static void
store_result_cb (GObject      *object,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  GAsyncResult **out = user_data;

  *out = g_object_ref (result);
}

static GAsyncResult *
wait_result (GAsyncResult **slot)
{
  while (*slot == NULL)
    g_main_context_iteration (NULL, TRUE);
  return *slot;
}

static gboolean
activate (Fixture      *fixture,
          const char   *name,
          guint         timeout_s,
          GCancellable *cancellable,
          GError      **error)
{
  g_autoptr(GAsyncResult) result = NULL;

  moat_network_activate_vpn_async (fixture->network, name, timeout_s, cancellable,
                                   store_result_cb, &result);
  return moat_network_activate_vpn_finish (fixture->network, wait_result (&result), error);
}

static gboolean
deactivate (Fixture     *fixture,
            const char  *name,
            GError     **error)
{
  g_autoptr(GAsyncResult) result = NULL;

  moat_network_deactivate_vpn_async (fixture->network, name, NULL, store_result_cb, &result);
  return moat_network_deactivate_vpn_finish (fixture->network, wait_result (&result), error);
}

static gboolean
disconnect_wifi (Fixture     *fixture,
                 const char  *ssid,
                 GError     **error)
{
  g_autoptr(GAsyncResult) result = NULL;

  moat_network_disconnect_wifi_async (fixture->network, ssid, NULL, store_result_cb, &result);
  return moat_network_disconnect_wifi_finish (fixture->network, wait_result (&result), error);
}

static gboolean
timeout_cb (gpointer user_data)
{
  gboolean *flag = user_data;

  *flag = TRUE;
  return G_SOURCE_REMOVE;
}

/* Runs the main loop for @ms, or until *@until is non-zero. */
static void
spin (guint  ms,
      guint *until)
{
  gboolean done = FALSE;
  guint id = g_timeout_add (ms, timeout_cb, &done);

  while (!done && (until == NULL || *until == 0))
    g_main_context_iteration (NULL, TRUE);
  if (!done)
    g_source_remove (id);
}

static MoatVpnInfo *
find_vpn (MoatNetworkState *state,
          const char       *name)
{
  for (guint i = 0; i < state->vpns->len; i++)
    {
      MoatVpnInfo *vpn = g_ptr_array_index (state->vpns, i);

      if (g_strcmp0 (vpn->name, name) == 0)
        return vpn;
    }
  return NULL;
}

/* Whether the VPN's state has @active, polling the cache for up to @ms. */
static gboolean
wait_vpn_active (Fixture  *fixture,
                 gboolean  active,
                 guint     ms)
{
  gint64 deadline = g_get_monotonic_time () + ms * 1000;

  do
    {
      g_autoptr(MoatNetworkState) state =
        moat_nm_network_get_state (MOAT_NM_NETWORK (fixture->network));

      for (guint i = 0; i < state->vpns->len; i++)
        {
          MoatVpnInfo *vpn = g_ptr_array_index (state->vpns, i);

          if (g_strcmp0 (vpn->name, VPN_NAME) == 0 && vpn->active == active)
            return TRUE;
        }
      spin (50, NULL);
    }
  while (g_get_monotonic_time () < deadline);
  return FALSE;
}

static gboolean
wait_available (Fixture  *fixture,
                gboolean  available,
                guint     ms)
{
  gint64 deadline = g_get_monotonic_time () + ms * 1000;

  do
    {
      g_autoptr(MoatNetworkState) state =
        moat_nm_network_get_state (MOAT_NM_NETWORK (fixture->network));

      if (state->available == available)
        return TRUE;
      spin (50, NULL);
    }
  while (g_get_monotonic_time () < deadline);
  return FALSE;
}

/* A tun device in this namespace (openvpn's). */
static gboolean
has_tun (void)
{
  g_autoptr(GDir) dir = g_dir_open ("/sys/class/net", 0, NULL);
  const char *name;

  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    if (g_str_has_prefix (name, "tun"))
      return TRUE;
  return FALSE;
}

static gboolean
wait_tun (gboolean present,
          guint    ms)
{
  gint64 deadline = g_get_monotonic_time () + ms * 1000;

  do
    {
      if (has_tun () == present)
        return TRUE;
      spin (50, NULL);
    }
  while (g_get_monotonic_time () < deadline);
  return FALSE;
}

/* The source address this namespace would use towards @ip (a UDP
 * "connect" sends nothing). */
static char *
dup_source_address (const char *ip)
{
  g_autoptr(GSocket) socket = NULL;
  g_autoptr(GInetAddress) address = g_inet_address_new_from_string (ip);
  g_autoptr(GSocketAddress) remote = g_inet_socket_address_new (address, 9);
  g_autoptr(GSocketAddress) local = NULL;
  g_autoptr(GError) error = NULL;

  socket = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_DATAGRAM, G_SOCKET_PROTOCOL_UDP,
                         &error);
  g_assert_no_error (error);
  if (!g_socket_connect (socket, remote, NULL, &error))
    return g_strdup (error->message);
  local = g_socket_get_local_address (socket, &error);
  g_assert_no_error (error);
  return g_inet_address_to_string (
    g_inet_socket_address_get_address (G_INET_SOCKET_ADDRESS (local)));
}

/* `nm-netns.py WHAT ACTION WORKDIR`: stops or starts a piece of the setup. */
static void
harness (const char *what,
         const char *action)
{
  const char *argv[] = {
    "python3", g_getenv ("MOAT_NM_HARNESS"), what, action, g_getenv ("MOAT_NM_WORKDIR"), NULL,
  };
  g_autoptr(GError) error = NULL;
  g_autofree char *err = NULL;
  int status = 0;

  g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_SEARCH_PATH | G_SPAWN_STDOUT_TO_DEV_NULL,
                NULL, NULL, NULL, &err, &status, &error);
  g_assert_no_error (error);
  if (!g_spawn_check_wait_status (status, &error))
    g_printerr ("%s", err);
  g_assert_no_error (error);
}

static int
compare_doubles (gconstpointer a,
                 gconstpointer b)
{
  double x = *(const double *) a;
  double y = *(const double *) b;

  return (x > y) - (x < y);
}

/* ---- fixture ---- */

static void
on_vpn_down_cb (MoatNetwork *network,
                const char  *name,
                Fixture     *fixture)
{
  fixture->vpn_down++;
  g_free (fixture->vpn_down_name);
  fixture->vpn_down_name = g_strdup (name);
}

static void
on_changed_cb (MoatNetwork *network,
               Fixture     *fixture)
{
  fixture->changed++;
}

static void
fixture_set_up (Fixture       *fixture,
                gconstpointer  data)
{
  gboolean needs_netns = GPOINTER_TO_INT (data);

  if (needs_netns != in_netns)
    return;
  fixture->network = moat_nm_network_new ();
  g_signal_connect (fixture->network, "vpn-down", G_CALLBACK (on_vpn_down_cb), fixture);
  g_signal_connect (fixture->network, "changed", G_CALLBACK (on_changed_cb), fixture);
  if (in_netns)
    g_assert_true (wait_available (fixture, TRUE, 20000));
}

static void
fixture_tear_down (Fixture       *fixture,
                   gconstpointer  data)
{
  if (fixture->network != NULL && in_netns)
    {
      g_autoptr(GError) error = NULL;

      /* leave the VPN down for the next test */
      deactivate (fixture, VPN_NAME, &error);
      g_assert_no_error (error);
    }
  g_clear_object (&fixture->network);
  g_clear_pointer (&fixture->vpn_down_name, g_free);
}

static gboolean
skip_unless (gboolean netns)
{
  if (netns && !in_netns)
    {
      g_test_skip ("needs NetworkManager in a namespace: meson test --suite netns (root)");
      return TRUE;
    }
  if (!netns && in_netns)
    {
      g_test_skip ("runs in the unit suite, without a system bus");
      return TRUE;
    }
  return FALSE;
}

/* ---- tests ---- */

static void
test_no_bus (Fixture       *fixture,
             gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(MoatNetworkState) state = NULL;

  if (skip_unless (FALSE))
    return;

  g_assert_false (activate (fixture, VPN_NAME, 5, NULL, &error));
  g_assert_error (error, MOAT_ERROR, MOAT_ERROR_NOT_SUPPORTED);
  g_assert_cmpstr (error->message, ==,
                   "NetworkManager is not running, so Moat cannot bring up the VPN");
  g_clear_error (&error);

  g_assert_false (deactivate (fixture, VPN_NAME, &error));
  g_assert_error (error, MOAT_ERROR, MOAT_ERROR_NOT_SUPPORTED);
  g_clear_error (&error);

  g_assert_false (disconnect_wifi (fixture, NULL, &error));
  g_assert_error (error, MOAT_ERROR, MOAT_ERROR_NOT_SUPPORTED);

  state = moat_nm_network_get_state (MOAT_NM_NETWORK (fixture->network));
  g_assert_false (state->available);
  g_assert_cmpuint (state->vpns->len, ==, 0);
  g_assert_cmpuint (state->wifi->len, ==, 0);
}

static void
test_state (Fixture       *fixture,
            gconstpointer  data)
{
  g_autoptr(MoatNetworkState) state = NULL;
  MoatVpnInfo *vpn;

  if (skip_unless (TRUE))
    return;

  state = moat_nm_network_get_state (MOAT_NM_NETWORK (fixture->network));
  g_assert_true (state->available);
  /* "Test LAN" is ethernet: only the VPNs are listed */
  g_assert_cmpuint (state->vpns->len, ==, 2);
  vpn = find_vpn (state, VPN_NAME);
  g_assert_nonnull (vpn);
  g_assert_cmpstr (vpn->type, ==, "openvpn");
  g_assert_false (vpn->active);
  vpn = find_vpn (state, UNREACHABLE_NAME);
  g_assert_nonnull (vpn);
  g_assert_cmpstr (vpn->type, ==, "openvpn");
  g_assert_false (vpn->active);
  /* no Wi-Fi in a namespace */
  g_assert_cmpuint (state->wifi->len, ==, 0);
}

static void
test_up_down (Fixture       *fixture,
              gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(MoatNetworkState) state = NULL;
  g_autofree char *source = NULL;
  MoatVpnInfo *vpn;

  if (skip_unless (TRUE))
    return;

  g_assert_false (has_tun ());
  source = dup_source_address (VPN_SERVER_IP);
  g_assert_cmpstr (source, ==, "10.203.1.2");
  g_clear_pointer (&source, g_free);

  g_assert_true (activate (fixture, VPN_NAME, 20, NULL, &error));
  g_assert_no_error (error);
  g_assert_true (has_tun ());

  /* traffic to the company network goes through the tunnel now, and the
   * server's TCP stack answers (a reset: nothing listens on port 9) */
  source = dup_source_address (VPN_SERVER_IP);
  g_assert_true (g_str_has_prefix (source, "10.203.8."));
  {
    g_autoptr(GSocketClient) client = g_socket_client_new ();
    g_autoptr(GSocketConnection) connection = NULL;

    g_socket_client_set_timeout (client, 5);
    connection = g_socket_client_connect_to_host (client, VPN_SERVER_IP ":9", 0, NULL, &error);
    g_assert_null (connection);
    g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CONNECTION_REFUSED);
    g_clear_error (&error);
  }

  state = moat_nm_network_get_state (MOAT_NM_NETWORK (fixture->network));
  g_assert_cmpuint (state->vpns->len, ==, 2);
  vpn = find_vpn (state, VPN_NAME);
  g_assert_nonnull (vpn);
  g_assert_cmpstr (vpn->type, ==, "openvpn");
  g_assert_true (vpn->active);
  g_assert_false (find_vpn (state, UNREACHABLE_NAME)->active);

  /* up already: success at once */
  g_assert_true (activate (fixture, VPN_NAME, 20, NULL, &error));
  g_assert_no_error (error);

  /* ::changed followed the VPN (within its 1 s coalescing) */
  spin (1500, &fixture->changed);
  g_assert_cmpuint (fixture->changed, >, 0);

  g_assert_true (deactivate (fixture, VPN_NAME, &error));
  g_assert_no_error (error);
  g_assert_true (wait_vpn_active (fixture, FALSE, 5000));
  g_assert_true (wait_tun (FALSE, 10000));

  /* down already: success */
  g_assert_true (deactivate (fixture, VPN_NAME, &error));
  g_assert_no_error (error);

  /* taking it down ourselves is not ::vpn-down */
  spin (500, NULL);
  g_assert_cmpuint (fixture->vpn_down, ==, 0);
}

static void
test_not_found (Fixture       *fixture,
                gconstpointer  data)
{
  g_autoptr(GError) error = NULL;

  if (skip_unless (TRUE))
    return;

  g_assert_false (activate (fixture, "No Such VPN", 5, NULL, &error));
  g_assert_error (error, MOAT_ERROR, MOAT_ERROR_NOT_FOUND);
  g_assert_cmpstr (error->message, ==, "There is no VPN connection named “No Such VPN”");
  g_clear_error (&error);

  /* a connection that is not a VPN is not one */
  g_assert_false (activate (fixture, "Test LAN", 5, NULL, &error));
  g_assert_error (error, MOAT_ERROR, MOAT_ERROR_NOT_FOUND);
  g_clear_error (&error);

  g_assert_true (deactivate (fixture, "No Such VPN", &error));
  g_assert_no_error (error);

  g_assert_false (disconnect_wifi (fixture, NULL, &error));
  g_assert_error (error, MOAT_ERROR, MOAT_ERROR_NOT_FOUND);
  g_assert_cmpstr (error->message, ==, "This computer is not connected to a Wi-Fi network");
  g_clear_error (&error);

  g_assert_false (disconnect_wifi (fixture, "Café", &error));
  g_assert_error (error, MOAT_ERROR, MOAT_ERROR_NOT_FOUND);
  g_assert_cmpstr (error->message, ==,
                   "This computer is not connected to the Wi-Fi network “Café”");
}

static void
test_server_down (Fixture       *fixture,
                  gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  gint64 start;

  if (skip_unless (TRUE))
    return;

  /* ping-exit 5: openvpn gives up before our 8 s, NetworkManager says why */
  harness ("vpn-server", "stop");
  start = g_get_monotonic_time ();
  g_assert_false (activate (fixture, VPN_NAME, 8, NULL, &error));
  g_test_message ("failed after %.1f s: %s", (g_get_monotonic_time () - start) / 1e6,
                  error->message);
  g_assert_error (error, MOAT_ERROR, MOAT_ERROR_FAILED);
  /* NetworkManager 1.42 races with itself here: the reason is "service
   * stopped" on the active connection, or only on a later VPN state signal
   * that libnm does not always deliver (nmcli then says "Unknown reason") */
  if (g_strcmp0 (error->message, "The VPN “Company VPN” could not connect: NetworkManager "
                 "gave no reason") != 0)
    g_assert_cmpstr (error->message, ==,
                     "The VPN “Company VPN” could not connect: the VPN service stopped "
                     "unexpectedly");
  g_assert_true (wait_vpn_active (fixture, FALSE, 10000));
  g_assert_true (wait_tun (FALSE, 10000));
  g_assert_cmpuint (fixture->vpn_down, ==, 0);
  harness ("vpn-server", "start");
}

static void
test_timeout (Fixture       *fixture,
              gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(MoatNetworkState) state = NULL;
  gint64 start;

  if (skip_unless (TRUE))
    return;

  /* nobody answers and openvpn retries for ever: our timeout ends it */
  start = g_get_monotonic_time ();
  g_assert_false (activate (fixture, UNREACHABLE_NAME, 8, NULL, &error));
  g_test_message ("failed after %.1f s: %s", (g_get_monotonic_time () - start) / 1e6,
                  error->message);
  g_assert_error (error, MOAT_ERROR, MOAT_ERROR_FAILED);
  g_assert_cmpstr (error->message, ==,
                   "The VPN “Unreachable VPN” did not connect within 8 seconds");
  /* and the half-up attempt is taken down */
  for (guint i = 0; i < 100; i++)
    {
      g_clear_pointer (&state, moat_network_state_free);
      state = moat_nm_network_get_state (MOAT_NM_NETWORK (fixture->network));
      if (!find_vpn (state, UNREACHABLE_NAME)->active)
        break;
      spin (100, NULL);
    }
  g_assert_false (find_vpn (state, UNREACHABLE_NAME)->active);
  g_assert_cmpuint (fixture->vpn_down, ==, 0);
}

static void
test_cancel (Fixture       *fixture,
             gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(GAsyncResult) result = NULL;

  if (skip_unless (TRUE))
    return;

  moat_network_activate_vpn_async (fixture->network, UNREACHABLE_NAME, 30, cancellable,
                                   store_result_cb, &result);
  /* let NetworkManager start the attempt, then give up on it */
  spin (1000, NULL);
  g_assert_null (result);
  g_cancellable_cancel (cancellable);
  g_assert_false (moat_network_activate_vpn_finish (fixture->network, wait_result (&result),
                                                    &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  /* the attempt is taken down */
  for (guint i = 0; i < 100; i++)
    {
      g_autoptr(MoatNetworkState) state =
        moat_nm_network_get_state (MOAT_NM_NETWORK (fixture->network));

      if (!find_vpn (state, UNREACHABLE_NAME)->active)
        return;
      spin (100, NULL);
    }
  g_assert_not_reached ();
}

static void
test_vpn_down (Fixture       *fixture,
               gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  gint64 start;

  if (skip_unless (TRUE))
    return;

  g_assert_true (activate (fixture, VPN_NAME, 20, NULL, &error));
  g_assert_no_error (error);

  /* the profile has ping 2, ping-exit 5: openvpn gives up, NM notices */
  harness ("vpn-server", "stop");
  start = g_get_monotonic_time ();
  spin (30000, &fixture->vpn_down);
  g_test_message ("::vpn-down %.1f s after the server stopped",
                  (g_get_monotonic_time () - start) / 1e6);
  g_assert_cmpuint (fixture->vpn_down, ==, 1);
  g_assert_cmpstr (fixture->vpn_down_name, ==, VPN_NAME);
  g_assert_true (wait_vpn_active (fixture, FALSE, 5000));
  harness ("vpn-server", "start");
}

static void
test_nm_restart (Fixture       *fixture,
                 gconstpointer  data)
{
  g_autoptr(GError) error = NULL;

  if (skip_unless (TRUE))
    return;

  harness ("nm", "stop");
  g_assert_true (wait_available (fixture, FALSE, 10000));
  g_assert_false (activate (fixture, VPN_NAME, 5, NULL, &error));
  g_assert_error (error, MOAT_ERROR, MOAT_ERROR_NOT_SUPPORTED);
  g_assert_cmpstr (error->message, ==,
                   "NetworkManager is not running, so Moat cannot bring up the VPN");
  g_clear_error (&error);

  /* NetworkManager coming back is picked up */
  fixture->changed = 0;
  harness ("nm", "start");
  g_assert_true (wait_available (fixture, TRUE, 20000));
  spin (2000, &fixture->changed);
  g_assert_cmpuint (fixture->changed, >, 0);
  g_assert_true (wait_vpn_active (fixture, FALSE, 10000));
  g_assert_true (activate (fixture, VPN_NAME, 20, NULL, &error));
  g_assert_no_error (error);
  g_assert_true (wait_vpn_active (fixture, TRUE, 1000));
}

/* Not a check: how long up and down take, for the report. */
static void
test_times (Fixture       *fixture,
            gconstpointer  data)
{
  g_autoptr(GArray) up = g_array_new (FALSE, FALSE, sizeof (double));
  g_autoptr(GArray) down = g_array_new (FALSE, FALSE, sizeof (double));
  const guint runs = 5;

  if (skip_unless (TRUE))
    return;

  for (guint i = 0; i < runs; i++)
    {
      g_autoptr(GError) error = NULL;
      gint64 t0 = g_get_monotonic_time ();
      double seconds;

      g_assert_true (activate (fixture, VPN_NAME, 20, NULL, &error));
      g_assert_no_error (error);
      seconds = (g_get_monotonic_time () - t0) / 1e6;
      g_array_append_val (up, seconds);

      t0 = g_get_monotonic_time ();
      g_assert_true (deactivate (fixture, VPN_NAME, &error));
      g_assert_no_error (error);
      seconds = (g_get_monotonic_time () - t0) / 1e6;
      g_array_append_val (down, seconds);
      g_assert_true (wait_tun (FALSE, 10000));
      g_test_message ("run %u: up %.3f s, down %.3f s (tun gone after %.3f s)", i + 1,
                      g_array_index (up, double, i), g_array_index (down, double, i),
                      (g_get_monotonic_time () - t0) / 1e6);
    }
  g_array_sort (up, compare_doubles);
  g_array_sort (down, compare_doubles);
  g_test_message ("median of %u: up %.3f s, down %.3f s", runs,
                  g_array_index (up, double, runs / 2), g_array_index (down, double, runs / 2));
}

int
main (int   argc,
      char *argv[])
{
  g_autofree char *tmp = NULL;
  g_autofree char *address = NULL;

  in_netns = g_getenv ("MOAT_NM_WORKDIR") != NULL && g_getenv ("MOAT_NM_HARNESS") != NULL;
  if (!in_netns)
    {
      /* no system bus at all: a socket path that does not exist */
      tmp = g_dir_make_tmp ("moat-nm-test-XXXXXX", NULL);
      address = g_strdup_printf ("unix:path=%s/no-such-socket", tmp);
      g_setenv ("DBUS_SYSTEM_BUS_ADDRESS", address, TRUE);
    }

  g_test_init (&argc, &argv, NULL);

#define ADD(path, func, netns) \
  g_test_add (path, Fixture, GINT_TO_POINTER (netns), fixture_set_up, func, fixture_tear_down)
  ADD ("/moat/nm-network/no-bus", test_no_bus, FALSE);
  ADD ("/moat/nm-network/state", test_state, TRUE);
  ADD ("/moat/nm-network/up-down", test_up_down, TRUE);
  ADD ("/moat/nm-network/not-found", test_not_found, TRUE);
  ADD ("/moat/nm-network/server-down", test_server_down, TRUE);
  ADD ("/moat/nm-network/timeout", test_timeout, TRUE);
  ADD ("/moat/nm-network/cancel", test_cancel, TRUE);
  ADD ("/moat/nm-network/vpn-down", test_vpn_down, TRUE);
  ADD ("/moat/nm-network/nm-restart", test_nm_restart, TRUE);
  ADD ("/moat/nm-network/times", test_times, TRUE);
#undef ADD

  {
    int ret = g_test_run ();

    if (tmp != NULL)
      g_rmdir (tmp);
    return ret;
  }
}
