/* SPDX-License-Identifier: GPL-3.0-or-later
 * Copyright 2026 The Moat developers
 */
#define G_LOG_DOMAIN "moat-test-harness"

#include "config.h"

#include "moat-test-harness.h"
#include "moat-test-utils.h"

#include <glib/gstdio.h>
#include <signal.h>
#include <sys/types.h>
#include <sys/wait.h>

static gboolean
flag_set_cb (gpointer data)
{
  return *(gboolean *) data;
}

static gboolean
set_flag_cb (gpointer data)
{
  *(gboolean *) data = TRUE;
  return G_SOURCE_REMOVE;
}

static gboolean
tick_cb (gpointer data)
{
  return G_SOURCE_CONTINUE;
}

/* @cond is checked at least every 10 ms, so it may poll as well as wait. */
gboolean
moat_harness_spin_until (gboolean (*cond) (gpointer data), gpointer data, guint timeout_s)
{
  gboolean expired = FALSE;
  guint id = g_timeout_add_seconds (timeout_s, set_flag_cb, &expired);
  guint tick = g_timeout_add (10, tick_cb, NULL);

  while (!cond (data) && !expired)
    g_main_context_iteration (NULL, TRUE);
  g_source_remove (tick);
  if (!expired)
    g_source_remove (id);
  return !expired;
}

void
moat_harness_spin_for (guint msec)
{
  gboolean done = FALSE;

  g_timeout_add (msec, set_flag_cb, &done);
  while (!done)
    g_main_context_iteration (NULL, TRUE);
}

static void
write_service (MoatHarness *h, const char *exec)
{
  g_autofree char *path = g_build_filename (h->service_dir, MOAT_DBUS_NAME ".service", NULL);
  g_autofree char *text = g_strdup_printf ("[D-BUS Service]\nName=%s\nExec=%s\n",
                                           MOAT_DBUS_NAME, exec);
  g_autoptr(GError) error = NULL;

  g_file_set_contents (path, text, -1, &error);
  g_assert_no_error (error);
}

gboolean
moat_harness_set_up (MoatHarness *h, MoatHarnessFlags flags)
{
  const char *build_root = g_getenv ("MOAT_BUILD_ROOT");
  g_autoptr(GError) error = NULL;
  const char *xdg[] = { "XDG_DATA_HOME", "XDG_CONFIG_HOME", "XDG_CACHE_HOME",
                        "XDG_STATE_HOME", "XDG_RUNTIME_DIR", "HOME" };

  if (build_root == NULL)
    {
      g_test_skip ("MOAT_BUILD_ROOT is not set (run through meson test)");
      return FALSE;
    }
  h->moatd_path = g_build_filename (build_root, "src", "daemon", "moatd", NULL);
  h->moatctl_path = g_build_filename (build_root, "src", "cli", "moatctl", NULL);
  if (!g_file_test (h->moatd_path, G_FILE_TEST_IS_EXECUTABLE) ||
      !g_file_test (h->moatctl_path, G_FILE_TEST_IS_EXECUTABLE))
    {
      g_test_skip ("moatd or moatctl is not built");
      return FALSE;
    }

  h->tmpdir = g_dir_make_tmp ("moat-integration-XXXXXX", &error);
  g_assert_no_error (error);
  h->data_dir = g_build_filename (h->tmpdir, "data", NULL);
  h->service_dir = g_build_filename (h->tmpdir, "services", NULL);
  g_assert_cmpint (g_mkdir_with_parents (h->service_dir, 0700), ==, 0);
  for (guint i = 0; i < G_N_ELEMENTS (xdg); i++)
    {
      g_autofree char *dir = g_build_filename (h->tmpdir, xdg[i], NULL);

      g_assert_cmpint (g_mkdir_with_parents (dir, 0700), ==, 0);
      g_setenv (xdg[i], dir, TRUE);
    }
  g_unsetenv ("MOAT_DBUS_ADDRESS");

  if (flags & MOAT_HARNESS_ACTIVATABLE)
    {
      g_autofree char *exec = g_strdup_printf ("%s --data-dir %s --no-network-checks",
                                               h->moatd_path, h->data_dir);

      write_service (h, exec);
    }
  else if (flags & MOAT_HARNESS_BROKEN_SERVICE)
    {
      g_autofree char *exec = g_build_filename (h->tmpdir, "no-such-moatd", NULL);

      write_service (h, exec);
    }

  h->bus = g_test_dbus_new (G_TEST_DBUS_NONE);
  g_test_dbus_add_service_dir (h->bus, h->service_dir);
  g_test_dbus_up (h->bus);

  h->connection = g_dbus_connection_new_for_address_sync (
    g_test_dbus_get_bus_address (h->bus),
    G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT |
    G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION,
    NULL, NULL, &error);
  g_assert_no_error (error);
  g_dbus_connection_set_exit_on_close (h->connection, FALSE);

  h->proxy = moat_dbus_moat1_proxy_new_sync (h->connection, G_DBUS_PROXY_FLAGS_DO_NOT_AUTO_START,
                                             MOAT_DBUS_NAME, MOAT_DBUS_PATH, NULL, &error);
  g_assert_no_error (error);
  h->testing = moat_dbus_moat1_testing_proxy_new_sync (
    h->connection,
    G_DBUS_PROXY_FLAGS_DO_NOT_AUTO_START | G_DBUS_PROXY_FLAGS_DO_NOT_LOAD_PROPERTIES,
    MOAT_DBUS_NAME, MOAT_DBUS_PATH, NULL, &error);
  g_assert_no_error (error);
  return TRUE;
}

/* The unique name that owns MOAT_DBUS_NAME now, or NULL. */
static char *
dup_name_owner (MoatHarness *h)
{
  g_autoptr(GVariant) reply = NULL;
  char *owner = NULL;

  reply = g_dbus_connection_call_sync (h->connection, "org.freedesktop.DBus",
                                       "/org/freedesktop/DBus", "org.freedesktop.DBus",
                                       "GetNameOwner", g_variant_new ("(s)", MOAT_DBUS_NAME),
                                       G_VARIANT_TYPE ("(s)"), G_DBUS_CALL_FLAGS_NONE, -1,
                                       NULL, NULL);
  if (reply != NULL)
    g_variant_get (reply, "(s)", &owner);
  return owner;
}

gboolean
moat_harness_name_has_owner (MoatHarness *h)
{
  g_autofree char *owner = dup_name_owner (h);

  return owner != NULL;
}

typedef struct {
  MoatHarness *h;
  gboolean     owned;
} NameWait;

static gboolean
name_state_cb (gpointer data)
{
  NameWait *wait = data;
  g_autofree char *owner = dup_name_owner (wait->h);
  g_autofree char *testing_owner = g_dbus_proxy_get_name_owner (G_DBUS_PROXY (wait->h->testing));
  g_autofree char *proxy_owner = g_dbus_proxy_get_name_owner (G_DBUS_PROXY (wait->h->proxy));

  if ((owner != NULL) != wait->owned)
    return FALSE;
  /* The proxies follow the owner through NameOwnerChanged a moment later (the
   * one with properties after GetAll); a stale owner from before a kill does
   * not count. */
  return g_strcmp0 (testing_owner, owner) == 0 && g_strcmp0 (proxy_owner, owner) == 0;
}

void
moat_harness_wait_name (MoatHarness *h, gboolean owned)
{
  NameWait wait = { h, owned };

  g_assert_true (moat_harness_spin_until (name_state_cb, &wait, 30));
}

void
moat_harness_start_moatd (MoatHarness *h)
{
  g_autoptr(GError) error = NULL;

  g_autoptr(GPtrArray) argv = g_ptr_array_new ();

  g_assert_null (h->moatd);
  g_ptr_array_add (argv, h->moatd_path);
  g_ptr_array_add (argv, (char *) "--data-dir");
  g_ptr_array_add (argv, h->data_dir);
  g_ptr_array_add (argv, (char *) "--proxy-port");
  g_ptr_array_add (argv, (char *) "0");
  /* Tests reach only what they set up themselves. */
  g_ptr_array_add (argv, (char *) "--no-network-checks");
  for (guint i = 0; h->moatd_args != NULL && h->moatd_args[i] != NULL; i++)
    g_ptr_array_add (argv, h->moatd_args[i]);
  g_ptr_array_add (argv, NULL);
  h->moatd = g_subprocess_newv ((const char * const *) argv->pdata, G_SUBPROCESS_FLAGS_NONE,
                                &error);
  g_assert_no_error (error);
  moat_harness_wait_name (h, TRUE);
}

static void
wait_cb (GObject *object, GAsyncResult *result, gpointer data)
{
  g_subprocess_wait_finish (G_SUBPROCESS (object), result, NULL);
  *(gboolean *) data = TRUE;
}

static void
wait_process (GSubprocess *process)
{
  gboolean exited = FALSE;

  g_subprocess_wait_async (process, NULL, wait_cb, &exited);
  if (!moat_harness_spin_until (flag_set_cb, &exited, 30))
    {
      g_test_message ("process did not exit within 30 s; killing it");
      g_subprocess_force_exit (process);
      g_assert_true (moat_harness_spin_until (flag_set_cb, &exited, 30));
    }
}

int
moat_harness_stop_moatd (MoatHarness *h, int signum)
{
  int status;

  g_assert_nonnull (h->moatd);
  g_subprocess_send_signal (h->moatd, signum);
  wait_process (h->moatd);
  status = g_subprocess_get_status (h->moatd);
  g_clear_object (&h->moatd);
  moat_harness_wait_name (h, FALSE);
  return status;
}

void
moat_harness_stop_owner (MoatHarness *h)
{
  g_autoptr(GVariant) reply = NULL;
  g_autoptr(GError) error = NULL;
  guint32 pid = 0;

  reply = g_dbus_connection_call_sync (h->connection, "org.freedesktop.DBus",
                                       "/org/freedesktop/DBus", "org.freedesktop.DBus",
                                       "GetConnectionUnixProcessID",
                                       g_variant_new ("(s)", MOAT_DBUS_NAME),
                                       G_VARIANT_TYPE ("(u)"), G_DBUS_CALL_FLAGS_NONE, -1,
                                       NULL, &error);
  if (reply == NULL)
    return;
  g_variant_get (reply, "(u)", &pid);
  g_assert_cmpuint (pid, >, 1);
  g_assert_cmpint (kill ((pid_t) pid, SIGTERM), ==, 0);
  moat_harness_wait_name (h, FALSE);
}

static GSubprocess *
spawn_moatctl_va (MoatHarness *h, GSubprocessFlags flags, GError **error, va_list args)
{
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  const char *arg;

  g_ptr_array_add (argv, h->moatctl_path);
  while ((arg = va_arg (args, const char *)) != NULL)
    g_ptr_array_add (argv, (gpointer) arg);
  g_ptr_array_add (argv, NULL);
  return g_subprocess_newv ((const char * const *) argv->pdata, flags, error);
}

GSubprocess *
moat_harness_spawn_moatctl (MoatHarness *h, GError **error, ...)
{
  GSubprocess *process;
  va_list args;

  va_start (args, error);
  process = spawn_moatctl_va (h, G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_PIPE,
                              error, args);
  va_end (args);
  return process;
}

typedef struct {
  gboolean  done;
  char     *out;
  char     *err;
} Communicate;

static void
communicate_cb (GObject *object, GAsyncResult *result, gpointer data)
{
  Communicate *c = data;
  g_autoptr(GError) error = NULL;

  g_subprocess_communicate_utf8_finish (G_SUBPROCESS (object), result, &c->out, &c->err, &error);
  g_assert_no_error (error);
  c->done = TRUE;
}

static gboolean
communicate_done_cb (gpointer data)
{
  return ((Communicate *) data)->done;
}

int
moat_harness_moatctl (MoatHarness *h, char **out_stdout, char **out_stderr, ...)
{
  g_autoptr(GSubprocess) process = NULL;
  g_autoptr(GError) error = NULL;
  Communicate c = { 0 };
  gboolean exited = FALSE;
  va_list args;
  int status;

  va_start (args, out_stderr);
  process = spawn_moatctl_va (h, G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_PIPE,
                              &error, args);
  va_end (args);
  g_assert_no_error (error);

  /* Asynchronously, so that this process's main loop keeps running. */
  g_subprocess_communicate_utf8_async (process, NULL, NULL, communicate_cb, &c);
  g_assert_true (moat_harness_spin_until (communicate_done_cb, &c, 60));
  g_subprocess_wait_async (process, NULL, wait_cb, &exited);
  g_assert_true (moat_harness_spin_until (flag_set_cb, &exited, 60));

  status = g_subprocess_get_if_exited (process) ? g_subprocess_get_exit_status (process)
                                                : 128 + g_subprocess_get_term_sig (process);
  if (out_stdout != NULL)
    *out_stdout = g_steal_pointer (&c.out);
  if (out_stderr != NULL)
    *out_stderr = g_steal_pointer (&c.err);
  g_free (c.out);
  g_free (c.err);
  return status;
}

void
moat_harness_add_events (MoatHarness *h, GVariant *events)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) owned = g_variant_ref_sink (events);
  guint accepted = 0;

  g_assert_true (moat_dbus_moat1_testing_call_add_events_sync (h->testing, owned, &accepted,
                                                               NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (accepted, ==, g_variant_n_children (owned));
  g_assert_true (moat_dbus_moat1_testing_call_flush_sync (h->testing, NULL, &error));
  g_assert_no_error (error);
}

void
moat_harness_tear_down (MoatHarness *h)
{
  if (h->moatd != NULL)
    moat_harness_stop_moatd (h, SIGTERM);
  if (h->connection != NULL && moat_harness_name_has_owner (h))
    moat_harness_stop_owner (h);
  g_clear_object (&h->proxy);
  g_clear_object (&h->testing);
  if (h->connection != NULL)
    g_dbus_connection_close_sync (h->connection, NULL, NULL);
  g_clear_object (&h->connection);
  if (h->bus != NULL)
    g_test_dbus_down (h->bus);
  g_clear_object (&h->bus);
  if (h->tmpdir != NULL)
    moat_test_remove_tree (h->tmpdir);
  g_clear_pointer (&h->tmpdir, g_free);
  g_clear_pointer (&h->data_dir, g_free);
  g_clear_pointer (&h->service_dir, g_free);
  g_clear_pointer (&h->moatd_path, g_free);
  g_clear_pointer (&h->moatctl_path, g_free);
  g_clear_pointer (&h->moatd_args, g_strfreev);
}
