/* SPDX-License-Identifier: GPL-3.0-or-later
 * Copyright 2026 The Moat developers
 */
#include "config.h"

#include "moat-test-harness.h"

#include <json-glib/json-glib.h>
#include <signal.h>
#include <string.h>

/*
 * A whole incident, replayed against the real moatd: a threat is raised
 * (through the Testing interface, as a detector would), the policy's chain
 * runs with its fallback, the proxy walls off the protected resources for
 * real curl requests, and everything is undone when the threat clears.
 * What happened is checked through moatctl and the event store.
 */

typedef struct {
  MoatHarness   h;
  gboolean      ready;
  char         *curl;
  /* A local origin on its own thread, so that curl can reach it while the
   * test waits for curl. */
  GThread      *origin_thread;
  GMainContext *origin_context;
  GMainLoop    *origin_loop;
  GSocketService *origin;
  guint16       origin_port;
  GSocketService *gateway;      /* a "company gateway": answers any proxied request */
  guint16       gateway_port;
} Fixture;

#define POLICY_FORMAT \
  "vpn = Company VPN\n" \
  "protect = 127.0.0.1\n" \
  "gateway = 127.0.0.1:%u\n" \
  "network.dns_hijack: route_via_gateway; notify\n" \
  "network.* >= medium: vpn_on_demand || block_protected_resources; notify\n" \
  "content.c2: block_host; notify\n"

static gboolean
on_origin_incoming_cb (GSocketService    *service,
                       GSocketConnection *connection,
                       GObject           *source,
                       gpointer           user_data)
{
  const char *answer = user_data;
  GInputStream *in = g_io_stream_get_input_stream (G_IO_STREAM (connection));
  GOutputStream *out = g_io_stream_get_output_stream (G_IO_STREAM (connection));
  char buf[4096];
  gsize got = 0;

  /* One request head, then the answer. */
  while (got < sizeof buf - 1)
    {
      gssize n = g_input_stream_read (in, buf + got, sizeof buf - 1 - got, NULL, NULL);

      if (n <= 0)
        break;
      got += n;
      buf[got] = '\0';
      if (strstr (buf, "\r\n\r\n") != NULL)
        break;
    }
  g_output_stream_write_all (out, answer, strlen (answer), NULL, NULL, NULL);
  g_io_stream_close (G_IO_STREAM (connection), NULL, NULL);
  return TRUE;
}

static gpointer
origin_thread_func (gpointer data)
{
  Fixture *f = data;

  g_main_context_push_thread_default (f->origin_context);
  g_main_loop_run (f->origin_loop);
  g_main_context_pop_thread_default (f->origin_context);
  return NULL;
}

static void
fixture_set_up (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) address = g_inet_socket_address_new (loopback, 0);
  g_autoptr(GSocketAddress) effective = NULL;

  f->ready = moat_harness_set_up (&f->h, MOAT_HARNESS_NONE);
  if (!f->ready)
    return;
  f->curl = g_find_program_in_path ("curl");
  if (f->curl == NULL)
    {
      g_test_skip ("curl is not installed");
      f->ready = FALSE;
      return;
    }

  f->origin_context = g_main_context_new ();
  f->origin_loop = g_main_loop_new (f->origin_context, FALSE);
  g_main_context_push_thread_default (f->origin_context);
  f->origin = g_threaded_socket_service_new (4);
  g_socket_listener_add_address (G_SOCKET_LISTENER (f->origin), address, G_SOCKET_TYPE_STREAM,
                                 G_SOCKET_PROTOCOL_TCP, NULL, &effective, &error);
  g_assert_no_error (error);
  f->origin_port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (effective));
  g_signal_connect (f->origin, "run", G_CALLBACK (on_origin_incoming_cb),
                    (gpointer) "HTTP/1.1 200 OK\r\nContent-Length: 6\r\nConnection: close\r\n\r\n"
                    "origin");
  g_socket_service_start (f->origin);
  g_clear_object (&effective);
  f->gateway = g_threaded_socket_service_new (4);
  g_socket_listener_add_address (G_SOCKET_LISTENER (f->gateway), address, G_SOCKET_TYPE_STREAM,
                                 G_SOCKET_PROTOCOL_TCP, NULL, &effective, &error);
  g_assert_no_error (error);
  f->gateway_port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (effective));
  g_signal_connect (f->gateway, "run", G_CALLBACK (on_origin_incoming_cb),
                    (gpointer) "HTTP/1.1 200 OK\r\nContent-Length: 7\r\nConnection: close\r\n\r\n"
                    "gateway");
  g_socket_service_start (f->gateway);
  g_main_context_pop_thread_default (f->origin_context);
  f->origin_thread = g_thread_new ("origin", origin_thread_func, f);

  /* The origin is on this computer: let the proxy reach it. */
  f->h.moatd_args = g_new0 (char *, 3);
  f->h.moatd_args[0] = g_strdup ("--allow-local-host");
  f->h.moatd_args[1] = g_strdup ("127.0.0.1");
}

static void
fixture_tear_down (Fixture *f, gconstpointer data)
{
  if (f->origin != NULL)
    {
      g_socket_service_stop (f->origin);
      g_socket_listener_close (G_SOCKET_LISTENER (f->origin));
      g_socket_service_stop (f->gateway);
      g_socket_listener_close (G_SOCKET_LISTENER (f->gateway));
      g_clear_object (&f->gateway);
      g_main_loop_quit (f->origin_loop);
      g_thread_join (f->origin_thread);
      g_clear_object (&f->origin);
      g_main_loop_unref (f->origin_loop);
      g_main_context_unref (f->origin_context);
    }
  g_free (f->curl);
  moat_harness_tear_down (&f->h);
}

static JsonNode *
parse_json (const char *text)
{
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) error = NULL;

  json_parser_load_from_data (parser, text, -1, &error);
  g_assert_no_error (error);
  return json_node_copy (json_parser_get_root (parser));
}

static gboolean
proxy_running_cb (gpointer data)
{
  const char *address = moat_dbus_moat1_get_proxy_address (data);

  return address != NULL && address[0] != '\0';
}

/* curl through moatd's proxy to @url (the origin when NULL); returns the
 * HTTP status. */
static int
fetch_url (Fixture *f, const char *target, char **out_body)
{
  g_autofree char *url = target != NULL ? g_strdup (target)
                                        : g_strdup_printf ("http://127.0.0.1:%u/", f->origin_port);
  g_autofree char *proxy = g_strdup_printf ("http://%s",
                                            moat_dbus_moat1_get_proxy_address (f->h.proxy));
  g_autofree char *out = NULL;
  g_autoptr(GError) error = NULL;
  const char *argv[] = { f->curl, "-sS", "--max-time", "20", "-x", proxy, "-w", "\n%{http_code}",
                         url, NULL };
  int status = 0;
  char *nl;

  g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, &out, NULL, &status,
                &error);
  g_assert_no_error (error);
  g_assert_true (g_spawn_check_wait_status (status, NULL));
  nl = strrchr (out, '\n');
  g_assert_nonnull (nl);
  if (out_body != NULL)
    *out_body = g_strndup (out, nl - out);
  return atoi (nl + 1);
}

static int
fetch (Fixture *f, char **out_body)
{
  return fetch_url (f, NULL, out_body);
}

static void
load_policy (Fixture *f)
{
  g_autofree char *path = g_build_filename (f->h.tmpdir, "company.policy", NULL);
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *policy = g_strdup_printf (POLICY_FORMAT, f->gateway_port);

  g_file_set_contents (path, policy, -1, &error);
  g_assert_no_error (error);
  g_assert_cmpint (moat_harness_moatctl (&f->h, &out, &err, "policy", "load", path, NULL), ==, 0);
}

/* The responses moatctl shows for the one active threat. */
static JsonArray *
dup_responses (Fixture *f, JsonNode **keep)
{
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  JsonArray *threats;

  g_assert_cmpint (moat_harness_moatctl (&f->h, &out, &err, "--json", "threats", NULL), ==, 0);
  *keep = parse_json (out);
  threats = json_node_get_array (*keep);
  g_assert_cmpuint (json_array_get_length (threats), ==, 1);
  return json_object_get_array_member (json_array_get_object_element (threats, 0), "responses");
}

typedef struct {
  const char *source;
  const char *threat;
  const char *action;
  const char *policy_action;   /* detail.action, or NULL */
} Expected;

/* The events since the test began, oldest first, are exactly @expected. */
static void
check_events (Fixture *f, const Expected *expected, guint n_expected)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_autoptr(JsonNode) root = NULL;
  JsonArray *events;
  guint n;

  g_assert_true (moat_dbus_moat1_testing_call_flush_sync (f->h.testing, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpint (moat_harness_moatctl (&f->h, &out, &err, "--json", "events", NULL), ==, 0);
  root = parse_json (out);
  events = json_node_get_array (root);
  n = json_array_get_length (events);
  g_assert_cmpuint (n, ==, n_expected);
  /* moatctl lists oldest first. */
  for (guint i = 0; i < n; i++)
    {
      JsonObject *event = json_array_get_object_element (events, i);
      JsonObject *detail = json_object_get_object_member (event, "detail");

      g_test_message ("event %u: %s %s %s", i, json_object_get_string_member (event, "source"),
                      json_object_get_string_member (event, "threat"),
                      json_object_get_string_member (event, "action"));
      g_assert_cmpstr (json_object_get_string_member (event, "source"), ==, expected[i].source);
      g_assert_cmpstr (json_object_get_string_member (event, "threat"), ==, expected[i].threat);
      g_assert_cmpstr (json_object_get_string_member (event, "action"), ==, expected[i].action);
      if (expected[i].policy_action != NULL)
        {
          g_assert_nonnull (detail);
          g_assert_cmpstr (json_object_get_string_member (detail, "action"), ==,
                           expected[i].policy_action);
          g_assert_cmpint (json_object_get_int_member (detail, "rule"), >, 0);
        }
    }
}

/* The VPN cannot come up (no network control here), so the chain falls
 * back to walling off the protected resources; the wall goes when the
 * threat clears. */
static void
test_fallback (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) keep = NULL;
  g_autofree char *body = NULL;
  JsonArray *responses;
  JsonObject *chain;
  static const Expected expected[] = {
    { "detector", "network.tls_interception", "detected", NULL },
    { "engine", "network.tls_interception", "action-failed", "vpn_on_demand" },
    { "engine", "network.tls_interception", "action-taken", "block_protected_resources" },
    { "proxy", "moat.protected_resource", "blocked", NULL },
    { "detector", "network.tls_interception", "cleared", NULL },
    { "engine", "network.tls_interception", "action-reverted", "block_protected_resources" },
  };

  if (!f->ready)
    return;
  moat_harness_start_moatd (&f->h);
  g_assert_true (moat_harness_spin_until (proxy_running_cb, f->h.proxy, 30));
  load_policy (f);

  /* Safe network: the company's resource answers. */
  g_assert_cmpint (fetch (f, &body), ==, 200);
  g_assert_cmpstr (body, ==, "origin");
  g_clear_pointer (&body, g_free);

  g_assert_true (moat_dbus_moat1_testing_call_raise_threat_sync (
    f->h.testing, "network.tls_interception", "high", "Cafe Wi-Fi",
    "{\"issuer\": \"mitmproxy\"}", NULL, &error));
  g_assert_no_error (error);

  responses = dup_responses (f, &keep);
  g_assert_cmpuint (json_array_get_length (responses), ==, 2);
  chain = json_array_get_object_element (responses, 0);
  g_assert_cmpstr (json_object_get_string_member (chain, "action"), ==,
                   "block_protected_resources");
  g_assert_cmpstr (json_object_get_string_member (chain, "state"), ==, "in-effect");
  /* Why the VPN did not come up is kept with the fallback. */
  g_assert_cmpstr (json_object_get_string_member (chain, "reason"), !=, "");
  chain = json_array_get_object_element (responses, 1);
  g_assert_cmpstr (json_object_get_string_member (chain, "action"), ==, "notify");
  g_assert_cmpstr (json_object_get_string_member (chain, "state"), ==, "done");

  /* The wall is real: the proxy refuses the protected resource. */
  g_assert_cmpint (fetch (f, &body), ==, 403);
  g_assert_nonnull (strstr (body, "protected resources"));
  g_clear_pointer (&body, g_free);

  g_assert_true (moat_dbus_moat1_testing_call_clear_threat_sync (
    f->h.testing, "network.tls_interception", "Cafe Wi-Fi", NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpint (fetch (f, &body), ==, 200);
  g_assert_cmpstr (body, ==, "origin");

  check_events (f, expected, G_N_ELEMENTS (expected));
  g_assert_cmpint (moat_harness_stop_moatd (&f->h, SIGTERM), ==, 0);
}

/* A command-and-control host is cut off for as long as its threat lasts,
 * whatever the lists say; other hosts are untouched. */
static void
test_block_host (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) keep = NULL;
  JsonArray *responses;
  JsonObject *chain;
  static const Expected expected[] = {
    { "detector", "content.c2", "detected", NULL },
    { "engine", "content.c2", "action-taken", "block_host" },
    { "proxy", "moat.policy_block", "blocked", NULL },
    { "detector", "content.c2", "cleared", NULL },
    { "engine", "content.c2", "action-reverted", "block_host" },
  };

  if (!f->ready)
    return;
  moat_harness_start_moatd (&f->h);
  g_assert_true (moat_harness_spin_until (proxy_running_cb, f->h.proxy, 30));
  load_policy (f);

  g_assert_true (moat_dbus_moat1_testing_call_raise_threat_sync (
    f->h.testing, "content.c2", "high", "127.0.0.1", "{}", NULL, &error));
  g_assert_no_error (error);
  responses = dup_responses (f, &keep);
  chain = json_array_get_object_element (responses, 0);
  g_assert_cmpstr (json_object_get_string_member (chain, "action"), ==, "block_host");
  g_assert_cmpstr (json_object_get_string_member (chain, "state"), ==, "in-effect");
  g_assert_cmpint (fetch (f, NULL), ==, 403);

  g_assert_true (moat_dbus_moat1_testing_call_clear_threat_sync (
    f->h.testing, "content.c2", "127.0.0.1", NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpint (fetch (f, NULL), ==, 200);

  check_events (f, expected, G_N_ELEMENTS (expected));
  g_assert_cmpint (moat_harness_stop_moatd (&f->h, SIGTERM), ==, 0);
}

/* While a threat needs it, every request goes through the company's
 * gateway (the policy's "gateway"), and no longer once it clears. */
static void
test_route_via_gateway (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) keep = NULL;
  g_autofree char *body = NULL;
  JsonArray *responses;
  JsonObject *chain;

  if (!f->ready)
    return;
  moat_harness_start_moatd (&f->h);
  g_assert_true (moat_harness_spin_until (proxy_running_cb, f->h.proxy, 30));
  load_policy (f);

  /* Direct: the origin answers. */
  g_assert_cmpint (fetch (f, &body), ==, 200);
  g_assert_cmpstr (body, ==, "origin");
  g_clear_pointer (&body, g_free);

  g_assert_true (moat_dbus_moat1_testing_call_raise_threat_sync (
    f->h.testing, "network.dns_hijack", "high", "Hotel", "{}", NULL, &error));
  g_assert_no_error (error);
  responses = dup_responses (f, &keep);
  chain = json_array_get_object_element (responses, 0);
  g_assert_cmpstr (json_object_get_string_member (chain, "action"), ==, "route_via_gateway");
  g_assert_cmpstr (json_object_get_string_member (chain, "state"), ==, "in-effect");
  /* The same request now reaches the gateway instead. */
  g_assert_cmpint (fetch (f, &body), ==, 200);
  g_assert_cmpstr (body, ==, "gateway");
  g_clear_pointer (&body, g_free);

  g_assert_true (moat_dbus_moat1_testing_call_clear_threat_sync (
    f->h.testing, "network.dns_hijack", "Hotel", NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpint (fetch (f, &body), ==, 200);
  g_assert_cmpstr (body, ==, "origin");
  g_assert_cmpint (moat_harness_stop_moatd (&f->h, SIGTERM), ==, 0);
}

int
main (int argc, char *argv[])
{
  g_test_init (&argc, &argv, NULL);

#define ADD(path, func) \
  g_test_add (path, Fixture, NULL, fixture_set_up, func, fixture_tear_down)
  ADD ("/moat/integration/incident/fallback", test_fallback);
  ADD ("/moat/integration/incident/block-host", test_block_host);
  ADD ("/moat/integration/incident/route-via-gateway", test_route_via_gateway);
#undef ADD

  return g_test_run ();
}
