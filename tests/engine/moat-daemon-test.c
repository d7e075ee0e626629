/* SPDX-License-Identifier: GPL-3.0-or-later
 * Copyright 2026 The Moat developers
 */
#include "config.h"

#include "moat-dbus-generated.h"
#include "moat-error.h"
#include "moat-event.h"
#include "moat-test-utils.h"

#include <glib/gstdio.h>
#include <signal.h>
#include <string.h>


/* Smoke test of the moatd binary in this build tree on a private session bus. */

typedef struct {
  GTestDBus       *bus;
  GDBusConnection *connection;
  char            *tmpdir;
  char            *moatd_path;
  guint            n_events_added;
  gboolean         three_added;
} Fixture;

static void
fixture_set_up (Fixture       *fixture,
                gconstpointer  user_data)
{
  g_autoptr(GError) error = NULL;
  const char *build_root = g_getenv ("MOAT_BUILD_ROOT");

  g_assert_nonnull (build_root);
  fixture->moatd_path = g_build_filename (build_root, "src", "daemon", "moatd", NULL);
  fixture->tmpdir = g_dir_make_tmp ("moat-daemon-test-XXXXXX", &error);
  g_assert_no_error (error);

  fixture->bus = g_test_dbus_new (G_TEST_DBUS_NONE);
  g_test_dbus_add_service_dir (fixture->bus, MOATD_TEST_SERVICE_DIR);
  g_test_dbus_up (fixture->bus);
  fixture->connection =
    g_dbus_connection_new_for_address_sync (g_test_dbus_get_bus_address (fixture->bus),
                                            G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT |
                                            G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION,
                                            NULL, NULL, &error);
  g_assert_no_error (error);
}

static void
fixture_tear_down (Fixture       *fixture,
                   gconstpointer  user_data)
{
  g_dbus_connection_close_sync (fixture->connection, NULL, NULL);
  g_clear_object (&fixture->connection);
  g_test_dbus_down (fixture->bus);
  g_clear_object (&fixture->bus);
  moat_test_remove_tree (fixture->tmpdir);
  g_free (fixture->tmpdir);
  g_free (fixture->moatd_path);
}

static GSubprocess *
spawn_moatd (Fixture *fixture, gboolean replace)
{
  g_autoptr(GSubprocessLauncher) launcher =
    g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDERR_PIPE);
  g_autofree char *data_dir = g_build_filename (fixture->tmpdir, "data", NULL);
  g_autofree char *home = g_build_filename (fixture->tmpdir, "home", NULL);
  g_autoptr(GError) error = NULL;
  GSubprocess *process;

  g_subprocess_launcher_setenv (launcher, "XDG_DATA_HOME", home, TRUE);
  g_subprocess_launcher_setenv (launcher, "XDG_CONFIG_HOME", home, TRUE);
  g_subprocess_launcher_setenv (launcher, "XDG_CACHE_HOME", home, TRUE);
  g_subprocess_launcher_setenv (launcher, "DBUS_SESSION_BUS_ADDRESS",
                                g_test_dbus_get_bus_address (fixture->bus), TRUE);
  if (replace)
    process = g_subprocess_launcher_spawn (launcher, &error, fixture->moatd_path,
                                           "--data-dir", data_dir, "--replace",
                                           "--no-network-checks", NULL);
  else
    process = g_subprocess_launcher_spawn (launcher, &error, fixture->moatd_path,
                                           "--data-dir", data_dir,
                                           "--no-network-checks", NULL);
  g_assert_no_error (error);
  return process;
}

typedef struct {
  const char *not_owner;  /* NULL: any */
  gboolean    done;
} NameWait;

static void
on_name_appeared_cb (GDBusConnection *connection,
                     const char      *name,
                     const char      *owner,
                     gpointer         user_data)
{
  NameWait *wait = user_data;

  if (wait->not_owner == NULL || g_strcmp0 (wait->not_owner, owner) != 0)
    wait->done = TRUE;
}

static void
on_name_vanished_cb (GDBusConnection *connection,
                     const char      *name,
                     gpointer         user_data)
{
  NameWait *wait = user_data;

  wait->done = TRUE;
}

/* Waits until the name has an owner other than @not_owner; returns that owner. */
static char *
wait_for_name (Fixture *fixture, const char *not_owner)
{
  NameWait wait = { not_owner, FALSE };
  g_autoptr(GVariant) reply = NULL;
  g_autoptr(GError) error = NULL;
  char *owner = NULL;
  guint watch;

  watch = g_bus_watch_name_on_connection (fixture->connection, MOAT_DBUS_NAME,
                                          G_BUS_NAME_WATCHER_FLAGS_NONE,
                                          on_name_appeared_cb, NULL, &wait, NULL);
  moat_test_wait_for (&wait.done);
  g_bus_unwatch_name (watch);

  reply = g_dbus_connection_call_sync (fixture->connection, "org.freedesktop.DBus",
                                       "/org/freedesktop/DBus", "org.freedesktop.DBus",
                                       "GetNameOwner", g_variant_new ("(s)", MOAT_DBUS_NAME),
                                       G_VARIANT_TYPE ("(s)"), G_DBUS_CALL_FLAGS_NONE, -1, NULL,
                                       &error);
  g_assert_no_error (error);
  g_variant_get (reply, "(s)", &owner);
  return owner;
}

static void
wait_cb (GObject      *object,
         GAsyncResult *result,
         gpointer      user_data)
{
  gboolean *done = user_data;

  g_subprocess_wait_finish (G_SUBPROCESS (object), result, NULL);
  *done = TRUE;
}

static void
wait_exit (GSubprocess *process)
{
  gboolean done = FALSE;

  g_subprocess_wait_async (process, NULL, wait_cb, &done);
  moat_test_wait_for (&done);
}

static char *
read_stderr (GSubprocess *process)
{
  GInputStream *stream = g_subprocess_get_stderr_pipe (process);
  g_autoptr(GOutputStream) memory = g_memory_output_stream_new_resizable ();
  g_autoptr(GError) error = NULL;

  g_output_stream_splice (memory, stream, G_OUTPUT_STREAM_SPLICE_CLOSE_TARGET, NULL, &error);
  g_assert_no_error (error);
  return g_strndup (g_memory_output_stream_get_data (G_MEMORY_OUTPUT_STREAM (memory)),
                    g_memory_output_stream_get_data_size (G_MEMORY_OUTPUT_STREAM (memory)));
}

static void
on_events_added_cb (MoatDBusMoat1 *proxy,
                    GVariant      *events,
                    Fixture       *fixture)
{
  fixture->n_events_added += g_variant_n_children (events);
  fixture->three_added = fixture->n_events_added >= 3;
}

static GVariant *
get_property (Fixture *fixture, const char *owner, const char *name)
{
  g_autoptr(GVariant) reply = NULL;
  g_autoptr(GError) error = NULL;
  GVariant *value = NULL;

  reply = g_dbus_connection_call_sync (fixture->connection, owner, MOAT_DBUS_PATH,
                                       "org.freedesktop.DBus.Properties", "Get",
                                       g_variant_new ("(ss)", "io.github.moatproject.Moat1", name),
                                       G_VARIANT_TYPE ("(v)"), G_DBUS_CALL_FLAGS_NONE, -1, NULL,
                                       &error);
  g_assert_no_error (error);
  g_variant_get (reply, "(v)", &value);
  return value;
}

/* An hour ago: recent enough that retention (90 days by default) never
 * prunes the test's events while it runs. */
static gint64 base_time;

static GVariant *
make_events (guint n, const char *threat)
{
  GVariantBuilder builder;

  g_variant_builder_init (&builder, G_VARIANT_TYPE ("a(xssssss)"));
  for (guint i = 0; i < n; i++)
    {
      g_autofree char *host = g_strdup_printf ("host%u.example", i);

      g_variant_builder_add (&builder, "(xssssss)", (gint64) (i == 0 ? 0 : base_time + i),
                             "proxy", threat, "high", host, "blocked", "{\"rule\":\"||x^\"}");
    }
  return g_variant_builder_end (&builder);
}

static gboolean
proxy_running (gpointer data)
{
  return moat_dbus_moat1_get_proxy_address (MOAT_DBUS_MOAT1 (data))[0] != '\0';
}

static void
test_daemon_smoke (Fixture       *fixture,
                   gconstpointer  user_data)
{
  g_autoptr(GSubprocess) moatd = spawn_moatd (fixture, FALSE);
  g_autofree char *owner = wait_for_name (fixture, NULL);
  g_autoptr(MoatDBusMoat1) proxy = NULL;
  g_autoptr(MoatDBusMoat1Testing) testing = NULL;
  g_autoptr(GVariant) events = NULL;
  g_autoptr(GVariant) counts = NULL;
  g_autoptr(GVariant) store_state = NULL;
  g_autoptr(GVariant) filter = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) parsed = NULL;
  g_autoptr(GVariantDict) bad_filter = NULL;
  guint accepted = 0;
  guint64 count = 0;
  guint64 blocked = 0;
  MoatEvent *newest, *oldest;
  GVariantDict dict;

  proxy = moat_dbus_moat1_proxy_new_sync (fixture->connection, G_DBUS_PROXY_FLAGS_NONE,
                                          MOAT_DBUS_NAME, MOAT_DBUS_PATH, NULL, &error);
  g_assert_no_error (error);
  testing = moat_dbus_moat1_testing_proxy_new_sync (fixture->connection, G_DBUS_PROXY_FLAGS_NONE,
                                                    MOAT_DBUS_NAME, MOAT_DBUS_PATH, NULL, &error);
  g_assert_no_error (error);
  g_signal_connect (proxy, "events-added", G_CALLBACK (on_events_added_cb), fixture);

  g_assert_cmpstr (moat_dbus_moat1_get_version (proxy), ==, PACKAGE_VERSION);
  /* The proxy starts once the lists are loaded; until then moatd says it
   * does not protect. */
  if (moat_dbus_moat1_get_proxy_address (proxy)[0] == '\0')
    {
      g_assert_cmpstr (moat_dbus_moat1_get_protection_state (proxy), ==, "unprotected");
      g_assert_cmpstr (moat_dbus_moat1_get_protection_summary (proxy), ==,
                       "The filtering proxy is not running yet.");
      moat_test_wait_until (proxy_running, proxy);
    }
  g_assert_true (g_str_has_prefix (moat_dbus_moat1_get_proxy_address (proxy), "127.0.0.1:"));
  /* The filter runs, but the desktop does not use it yet. */
  g_assert_cmpstr (moat_dbus_moat1_get_protection_state (proxy), ==, "unprotected");
  g_assert_nonnull (strstr (moat_dbus_moat1_get_protection_summary (proxy),
                            moat_dbus_moat1_get_proxy_address (proxy)));
  g_assert_cmpstr (moat_dbus_moat1_get_risk_level (proxy), ==, "none");
  g_assert_cmpint (moat_dbus_moat1_get_start_time (proxy), >, 0);

  moat_dbus_moat1_testing_call_add_events_sync (testing, make_events (3, "content.malware"),
                                                &accepted, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (accepted, ==, 3);
  moat_dbus_moat1_testing_call_flush_sync (testing, NULL, &error);
  g_assert_no_error (error);

  store_state = get_property (fixture, owner, "StoreState");
  g_assert_cmpstr (g_variant_get_string (store_state, NULL), ==, "ok");

  g_variant_dict_init (&dict, NULL);
  filter = g_variant_ref_sink (g_variant_dict_end (&dict));
  moat_dbus_moat1_call_list_events_sync (proxy, filter, 0, 10, &events, NULL, &error);
  g_assert_no_error (error);
  parsed = moat_events_new_from_variant (events, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (parsed->len, ==, 3);
  /* Newest (largest id) first; the event sent with time 0 got "now". */
  newest = g_ptr_array_index (parsed, 0);
  g_assert_cmpstr (newest->subject, ==, "host2.example");
  g_assert_cmpint (newest->time, ==, base_time + 2);
  g_assert_cmpint (newest->id, >, ((MoatEvent *) g_ptr_array_index (parsed, 1))->id);
  oldest = g_ptr_array_index (parsed, 2);
  g_assert_cmpstr (oldest->subject, ==, "host0.example");
  g_assert_cmpint (oldest->time, >, base_time + 2);
  g_assert_cmpstr (oldest->detail, ==, "{\"rule\":\"||x^\"}");
  g_assert_cmpint (oldest->severity, ==, MOAT_SEVERITY_HIGH);
  g_assert_cmpint (oldest->source, ==, MOAT_EVENT_SOURCE_PROXY);

  moat_dbus_moat1_call_count_events_sync (proxy, filter, &count, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (count, ==, 3);

  moat_dbus_moat1_call_get_category_counts_sync (proxy, 0, 0, "blocked", &counts, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (g_variant_lookup (counts, "content.malware", "t", &blocked));
  g_assert_cmpuint (blocked, ==, 3);

  /* Batched announcements reach the client. */
  moat_test_wait_for (&fixture->three_added);
  g_assert_cmpuint (fixture->n_events_added, ==, 3);

  /* Bad input: clear errors in Moat's domain, and nothing half-done. */
  {
    GVariantBuilder builder;
    g_autoptr(GVariant) mixed = NULL;

    g_variant_builder_init (&builder, G_VARIANT_TYPE ("a(xssssss)"));
    g_variant_builder_add (&builder, "(xssssss)", (gint64) 0, "proxy", "content.malware", "high",
                           "ok.example", "blocked", "{}");
    g_variant_builder_add (&builder, "(xssssss)", (gint64) 0, "proxy", "not-a-threat", "high",
                           "bad.example", "blocked", "{}");
    mixed = g_variant_ref_sink (g_variant_builder_end (&builder));
    g_assert_false (moat_dbus_moat1_testing_call_add_events_sync (testing, mixed, &accepted,
                                                                  NULL, &error));
    g_assert_error (error, MOAT_ERROR, MOAT_ERROR_INVALID_ARGUMENT);
    g_assert_nonnull (strstr (error->message, "Event 1"));
    g_clear_error (&error);
  }
  moat_dbus_moat1_testing_call_flush_sync (testing, NULL, &error);
  g_assert_no_error (error);
  moat_dbus_moat1_call_count_events_sync (proxy, filter, &count, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (count, ==, 3);

  g_clear_pointer (&events, g_variant_unref);
  g_assert_false (moat_dbus_moat1_call_list_events_sync (proxy, filter, 0, 0, &events, NULL,
                                                         &error));
  g_assert_error (error, MOAT_ERROR, MOAT_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);

  bad_filter = g_variant_dict_new (NULL);
  g_variant_dict_insert (bad_filter, "colour", "s", "red");
  g_assert_false (moat_dbus_moat1_call_list_events_sync (proxy, g_variant_dict_end (bad_filter),
                                                         0, 10, &events, NULL, &error));
  g_assert_error (error, MOAT_ERROR, MOAT_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);

  g_assert_false (moat_dbus_moat1_call_get_category_counts_sync (proxy, 10, 5, "", &counts,
                                                                 NULL, &error));
  g_assert_error (error, MOAT_ERROR, MOAT_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);

  /* Clean shutdown. */
  g_subprocess_send_signal (moatd, SIGTERM);
  wait_exit (moatd);
  g_assert_true (g_subprocess_get_if_exited (moatd));
  g_assert_cmpint (g_subprocess_get_exit_status (moatd), ==, 0);
}

typedef struct {
  guint n_ok;
  guint n_limited;
  guint n_other;
  guint n_done;
  guint n_total;
  gboolean all_done;
} Burst;

static void
burst_list_cb (GObject      *object,
               GAsyncResult *result,
               gpointer      user_data)
{
  Burst *burst = user_data;
  g_autoptr(GVariant) events = NULL;
  g_autoptr(GError) error = NULL;

  if (moat_dbus_moat1_call_list_events_finish (MOAT_DBUS_MOAT1 (object), &events, result, &error))
    burst->n_ok++;
  else if (g_error_matches (error, MOAT_ERROR, MOAT_ERROR_LIMIT_EXCEEDED))
    burst->n_limited++;
  else
    {
      if (burst->n_other == 0)
        g_test_message ("unexpected error: %s", error->message);
      burst->n_other++;
    }
  burst->n_done++;
  burst->all_done = burst->n_done == burst->n_total;
}

static void
test_daemon_limit (Fixture       *fixture,
                   gconstpointer  user_data)
{
  g_autoptr(GSubprocess) moatd = spawn_moatd (fixture, FALSE);
  g_autofree char *owner = wait_for_name (fixture, NULL);
  g_autoptr(MoatDBusMoat1) proxy = NULL;
  g_autoptr(MoatDBusMoat1Testing) testing = NULL;
  g_autoptr(GError) error = NULL;
  Burst burst = { 0 };
  guint accepted = 0;

  proxy = moat_dbus_moat1_proxy_new_sync (fixture->connection, G_DBUS_PROXY_FLAGS_NONE,
                                          MOAT_DBUS_NAME, MOAT_DBUS_PATH, NULL, &error);
  g_assert_no_error (error);
  testing = moat_dbus_moat1_testing_proxy_new_sync (fixture->connection, G_DBUS_PROXY_FLAGS_NONE,
                                                    MOAT_DBUS_NAME, MOAT_DBUS_PATH, NULL, &error);
  g_assert_no_error (error);
  moat_dbus_moat1_testing_call_add_events_sync (testing, make_events (10000, "content.malware"),
                                                &accepted, NULL, &error);
  g_assert_no_error (error);
  moat_dbus_moat1_testing_call_flush_sync (testing, NULL, &error);
  g_assert_no_error (error);

  /* A burst of slow queries from one client: at most 16 run at once, the
   * rest are refused with LimitExceeded instead of piling up. */
  burst.n_total = 100;  /* below dbus-daemon's own limit of pending replies (128) */
  for (guint i = 0; i < burst.n_total; i++)
    {
      g_auto(GVariantDict) dict;

      g_variant_dict_init (&dict, NULL);
      g_variant_dict_insert (&dict, "search", "s", "no such subject");
      moat_dbus_moat1_call_list_events (proxy, g_variant_dict_end (&dict), 0, 1000, NULL,
                                        burst_list_cb, &burst);
    }
  moat_test_wait_for (&burst.all_done);
  g_test_message ("%u of %u calls served, %u refused", burst.n_ok, burst.n_total,
                  burst.n_limited);
  g_assert_cmpuint (burst.n_other, ==, 0);
  g_assert_cmpuint (burst.n_ok + burst.n_limited, ==, burst.n_total);
  g_assert_cmpuint (burst.n_ok, >=, 16);
  g_assert_cmpuint (burst.n_limited, >, 0);

  /* SIGHUP reloads and keeps serving; SIGTERM ends cleanly. */
  g_subprocess_send_signal (moatd, SIGHUP);
  {
    g_autoptr(GVariant) version = get_property (fixture, owner, "Version");

    g_assert_cmpstr (g_variant_get_string (version, NULL), ==, PACKAGE_VERSION);
  }
  g_subprocess_send_signal (moatd, SIGTERM);
  wait_exit (moatd);
  g_assert_true (g_subprocess_get_if_exited (moatd));
  g_assert_cmpint (g_subprocess_get_exit_status (moatd), ==, 0);
}

static void
test_daemon_replace (Fixture       *fixture,
                     gconstpointer  user_data)
{
  g_autoptr(GSubprocess) first = spawn_moatd (fixture, FALSE);
  g_autofree char *first_owner = wait_for_name (fixture, NULL);
  g_autoptr(GSubprocess) second = NULL;
  g_autoptr(GSubprocess) third = NULL;
  g_autofree char *second_err = NULL;
  g_autofree char *third_owner = NULL;

  /* Without --replace: one clear sentence, exit 1, the first keeps the name. */
  second = spawn_moatd (fixture, FALSE);
  wait_exit (second);
  g_assert_true (g_subprocess_get_if_exited (second));
  g_assert_cmpint (g_subprocess_get_exit_status (second), ==, 1);
  second_err = read_stderr (second);
  g_assert_nonnull (strstr (second_err, "another moatd already owns io.github.moatproject.Moat"));

  /* With --replace: the first steps aside and exits cleanly. */
  third = spawn_moatd (fixture, TRUE);
  third_owner = wait_for_name (fixture, first_owner);
  g_assert_cmpstr (third_owner, !=, first_owner);
  wait_exit (first);
  g_assert_true (g_subprocess_get_if_exited (first));
  g_assert_cmpint (g_subprocess_get_exit_status (first), ==, 0);

  g_subprocess_send_signal (third, SIGINT);
  wait_exit (third);
  g_assert_true (g_subprocess_get_if_exited (third));
  g_assert_cmpint (g_subprocess_get_exit_status (third), ==, 0);
}

static void
test_daemon_activation (Fixture       *fixture,
                        gconstpointer  user_data)
{
  g_autoptr(MoatDBusMoat1) proxy = NULL;
  g_autoptr(GVariant) version = NULL;
  g_autoptr(GVariant) reply = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *owner = NULL;
  guint32 pid = 0;
  NameWait gone = { NULL, FALSE };
  guint watch;

  /* The bus starts moatd from the activation file in the build tree. */
  reply = g_dbus_connection_call_sync (fixture->connection, MOAT_DBUS_NAME, MOAT_DBUS_PATH,
                                       "org.freedesktop.DBus.Properties", "Get",
                                       g_variant_new ("(ss)", "io.github.moatproject.Moat1",
                                                      "Version"),
                                       G_VARIANT_TYPE ("(v)"), G_DBUS_CALL_FLAGS_NONE, -1, NULL,
                                       &error);
  g_assert_no_error (error);
  g_variant_get (reply, "(v)", &version);
  g_assert_cmpstr (g_variant_get_string (version, NULL), ==, PACKAGE_VERSION);
  g_clear_pointer (&reply, g_variant_unref);

  owner = wait_for_name (fixture, NULL);
  reply = g_dbus_connection_call_sync (fixture->connection, "org.freedesktop.DBus",
                                       "/org/freedesktop/DBus", "org.freedesktop.DBus",
                                       "GetConnectionUnixProcessID", g_variant_new ("(s)", owner),
                                       G_VARIANT_TYPE ("(u)"), G_DBUS_CALL_FLAGS_NONE, -1, NULL,
                                       &error);
  g_assert_no_error (error);
  g_variant_get (reply, "(u)", &pid);
  g_assert_cmpuint (pid, >, 0);

  watch = g_bus_watch_name_on_connection (fixture->connection, MOAT_DBUS_NAME,
                                          G_BUS_NAME_WATCHER_FLAGS_NONE, NULL,
                                          on_name_vanished_cb, &gone, NULL);
  g_assert_cmpint (kill ((pid_t) pid, SIGTERM), ==, 0);
  moat_test_wait_for (&gone.done);
  g_bus_unwatch_name (watch);
}

static void
test_daemon_version (Fixture       *fixture,
                     gconstpointer  user_data)
{
  g_autoptr(GSubprocess) process = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *out = NULL;

  process = g_subprocess_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE, &error,
                              fixture->moatd_path, "--version", NULL);
  g_assert_no_error (error);
  g_subprocess_communicate_utf8 (process, NULL, NULL, &out, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (out, ==, "moatd " PACKAGE_VERSION "\n");
  g_assert_cmpint (g_subprocess_get_exit_status (process), ==, 0);
}

int
main (int   argc,
      char *argv[])
{
  g_autoptr(GError) error = NULL;
  g_autofree char *home = NULL;
  int status;

  g_test_init (&argc, &argv, NULL);
  base_time = g_get_real_time () - G_TIME_SPAN_HOUR;

  /* A moatd that the bus activates inherits this environment: keep its store
   * out of the real home. Set before any thread runs. */
  home = g_dir_make_tmp ("moat-daemon-test-home-XXXXXX", &error);
  g_assert_no_error (error);
  g_setenv ("XDG_DATA_HOME", home, TRUE);
  g_setenv ("XDG_CONFIG_HOME", home, TRUE);
  g_setenv ("XDG_CACHE_HOME", home, TRUE);

  /* Registers MOAT_ERROR's D-Bus names so remote errors map back to it. */
  moat_error_quark ();

#define ADD(path, func) \
  g_test_add (path, Fixture, NULL, fixture_set_up, func, fixture_tear_down)
  ADD ("/moat/daemon/smoke", test_daemon_smoke);
  ADD ("/moat/daemon/limit", test_daemon_limit);
  ADD ("/moat/daemon/replace", test_daemon_replace);
  ADD ("/moat/daemon/activation", test_daemon_activation);
  ADD ("/moat/daemon/version", test_daemon_version);
#undef ADD

  status = g_test_run ();
  moat_test_remove_tree (home);
  return status;
}
