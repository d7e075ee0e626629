/* SPDX-License-Identifier: GPL-3.0-or-later
 * Copyright 2026 The Moat developers
 */
#include "config.h"

#include "moat-adb-client.h"
#include "moat-adb-protocol.h"
#include "moat-error.h"

#include <string.h>

/*
 * The adb client against the REAL adb server on a private port (which the
 * client starts itself), and against listeners that are not adb: one that
 * answers nonsense, one that never answers.
 */

typedef struct {
  guint16        port;
  char          *adb;
  MoatAdbClient *client;
  GAsyncResult  *result;
  guint          lists;       /* ::devices-changed emissions */
  guint          last_len;
} Fixture;

static void
devices_changed_cb (MoatAdbClient *client, GPtrArray *devices, Fixture *f)
{
  f->lists++;
  f->last_len = devices->len;
}

static guint16
free_port (void)
{
  g_autoptr(GSocket) socket = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM,
                                            G_SOCKET_PROTOCOL_TCP, NULL);
  g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) any = g_inet_socket_address_new (loopback, 0);
  g_autoptr(GSocketAddress) bound = NULL;

  g_assert_true (g_socket_bind (socket, any, TRUE, NULL));
  bound = g_socket_get_local_address (socket, NULL);
  return g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound));
}

static void
fixture_set_up (Fixture *f, gconstpointer data)
{
  f->adb = g_find_program_in_path ("adb");
  f->port = free_port ();
  f->client = moat_adb_client_new (f->port, f->adb);
}

static void
fixture_tear_down (Fixture *f, gconstpointer data)
{
  g_clear_object (&f->result);
  g_clear_object (&f->client);
  if (f->adb != NULL)
    {
      g_autofree char *port = g_strdup_printf ("%u", f->port);
      const char *argv[] = { f->adb, "-P", port, "kill-server", NULL };

      g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_STDOUT_TO_DEV_NULL |
                    G_SPAWN_STDERR_TO_DEV_NULL, NULL, NULL, NULL, NULL, NULL, NULL);
    }
  g_free (f->adb);
}

static void
done_cb (GObject *object, GAsyncResult *result, gpointer user_data)
{
  Fixture *f = user_data;

  f->result = g_object_ref (result);
}

static void
wait_result (Fixture *f)
{
  g_clear_object (&f->result);
  while (f->result == NULL)
    g_main_context_iteration (NULL, TRUE);
}

static GBytes *
query (Fixture *f, const char *service, GError **error)
{
  moat_adb_client_query_async (f->client, service, NULL, done_cb, f);
  wait_result (f);
  return moat_adb_client_query_finish (f->client, f->result, error);
}

/* No server runs on the port: the client starts the real one and asks. */
static void
test_real_server (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) version = NULL;
  g_autoptr(GBytes) devices = NULL;
  g_autoptr(GPtrArray) list = NULL;
  g_autoptr(MoatAdbShellResult) shell = NULL;
  guint value = 0;

  if (f->adb == NULL)
    {
      g_test_skip ("adb is not installed");
      return;
    }
  version = query (f, "host:version", &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_bytes_get_size (version), ==, 4);
  g_assert_true (moat_adb_parse_length (g_bytes_get_data (version, NULL), &value));
  g_test_message ("adb server version %u", value);
  g_assert_cmpuint (value, >=, 29);

  devices = query (f, "host:devices-l", &error);
  g_assert_no_error (error);
  list = moat_adb_parse_devices (g_bytes_get_data (devices, NULL), g_bytes_get_size (devices),
                                 &error);
  g_assert_no_error (error);
  g_assert_nonnull (list);

  /* A service adb does not know: its FAIL and reason. */
  g_assert_null (query (f, "host:no-such-service", &error));
  g_assert_error (error, MOAT_ERROR, MOAT_ERROR_FAILED);
  g_test_message ("adb says: %s", error->message);
  g_clear_error (&error);

  /* A device that is not there. */
  moat_adb_client_shell_async (f->client, "no-such-phone", "getprop", 0, NULL, done_cb, f);
  wait_result (f);
  shell = moat_adb_client_shell_finish (f->client, f->result, &error);
  g_assert_null (shell);
  g_assert_error (error, MOAT_ERROR, MOAT_ERROR_FAILED);
  g_assert_nonnull (strstr (error->message, "no-such-phone"));

  /* Tracking: the server sends its list at once (empty here, unless an
   * emulator-style device listens on the ports adb scans). */
  g_signal_connect (f->client, "devices-changed", G_CALLBACK (devices_changed_cb), f);
  moat_adb_client_start_tracking (f->client);
  while (f->lists == 0)
    g_main_context_iteration (NULL, TRUE);
  g_assert_cmpuint (f->lists, >=, 1);
  g_assert_cmpuint (f->last_len, <, 256);
  moat_adb_client_stop_tracking (f->client);
}

typedef struct {
  GSocketService *service;
  guint16         port;
  const char     *answer;   /* NULL: never answer */
} Listener;

static gboolean
on_incoming_cb (GSocketService    *service,
                GSocketConnection *connection,
                GObject           *source,
                gpointer           user_data)
{
  Listener *l = user_data;

  if (l->answer != NULL)
    g_output_stream_write_all (g_io_stream_get_output_stream (G_IO_STREAM (connection)),
                               l->answer, strlen (l->answer), NULL, NULL, NULL);
  else
    /* Keep it open and silent. */
    g_object_set_data_full (G_OBJECT (service), "kept", g_object_ref (connection),
                            g_object_unref);
  return TRUE;
}

static void
listener_start (Listener *l, const char *answer)
{
  g_autoptr(GError) error = NULL;

  l->answer = answer;
  l->service = g_socket_service_new ();
  l->port = g_socket_listener_add_any_inet_port (G_SOCKET_LISTENER (l->service), NULL, &error);
  g_assert_no_error (error);
  g_signal_connect (l->service, "incoming", G_CALLBACK (on_incoming_cb), l);
}

static void
listener_stop (Listener *l)
{
  g_socket_service_stop (l->service);
  g_socket_listener_close (G_SOCKET_LISTENER (l->service));
  g_clear_object (&l->service);
}

/* What answers on the port is not adb: a clear error, no crash. */
static void
test_not_adb (Fixture *f, gconstpointer data)
{
  Listener l = { 0 };
  g_autoptr(GError) error = NULL;
  g_autoptr(MoatAdbShellResult) shell = NULL;

  listener_start (&l, "HTTP/1.1 400 Bad Request\r\n\r\n");
  g_clear_object (&f->client);
  f->client = moat_adb_client_new (l.port, "/nonexistent/adb");
  g_assert_null (query (f, "host:version", &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA);
  g_clear_error (&error);
  listener_stop (&l);

  /* One that never answers: the timeout. */
  listener_start (&l, NULL);
  g_clear_object (&f->client);
  f->client = moat_adb_client_new (l.port, "/nonexistent/adb");
  moat_adb_client_shell_async (f->client, "phone", "getprop", 300, NULL, done_cb, f);
  wait_result (f);
  shell = moat_adb_client_shell_finish (f->client, f->result, &error);
  g_assert_null (shell);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT);
  listener_stop (&l);
}

/* Nothing on the port and no adb to start: says so. */
static void
test_no_adb (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;

  g_clear_object (&f->client);
  f->client = moat_adb_client_new (f->port, "/nonexistent/adb");
  g_assert_null (query (f, "host:version", &error));
  g_assert_error (error, MOAT_ERROR, MOAT_ERROR_NOT_SUPPORTED);
}

int
main (int argc, char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  moat_error_quark ();

#define ADD(path, func) \
  g_test_add (path, Fixture, NULL, fixture_set_up, func, fixture_tear_down)
  ADD ("/moat/adb-client/real-server", test_real_server);
  ADD ("/moat/adb-client/not-adb", test_not_adb);
  ADD ("/moat/adb-client/no-adb", test_no_adb);
#undef ADD

  return g_test_run ();
}
