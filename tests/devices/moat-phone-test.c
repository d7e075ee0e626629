/* SPDX-License-Identifier: GPL-3.0-or-later
 * Copyright 2026 The Moat developers
 */
#include "config.h"

#include "moat-adb-client.h"
#include "moat-adb-protocol.h"
#include "moat-android-apps.h"
#include "moat-android-inspector.h"
#include "moat-android-posture.h"
#include "moat-error.h"
#include "moat-test-utils.h"

#include <glib/gstdio.h>
#include <string.h>

/*
 * Moat's adb client and posture checks through the REAL adb server (on a
 * private port, started by the client itself) against the simulated phones
 * of tests/phone/ (the adbd wire protocol), connected as Wi-Fi phones
 * (host:connect). The risky phone gives the findings its profile implies;
 * the hostile one (garbage, endless, slow and cut-off output) gives clear
 * per-command errors and leaves the client working.
 */

typedef struct {
  char          *tmpdir;
  char          *adb;
  char          *python;
  char          *sim;
  guint16        server_port;
  MoatAdbClient *client;
  GPtrArray     *sims;        /* GSubprocess */
  GAsyncResult  *result;
} Fixture;

static guint16
free_port (gboolean odd)
{
  for (;;)
    {
      g_autoptr(GSocket) socket = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM,
                                                G_SOCKET_PROTOCOL_TCP, NULL);
      g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
      g_autoptr(GSocketAddress) any = g_inet_socket_address_new (loopback, 0);
      g_autoptr(GSocketAddress) bound = NULL;
      guint16 port;

      g_assert_true (g_socket_bind (socket, any, TRUE, NULL));
      bound = g_socket_get_local_address (socket, NULL);
      port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound));
      if (!odd || port % 2 == 1)
        return port;
    }
}

static void
fixture_set_up (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  const char *source = g_getenv ("MOAT_SOURCE_ROOT");

  f->adb = g_find_program_in_path ("adb");
  f->python = g_find_program_in_path ("python3");
  if (source != NULL)
    f->sim = g_build_filename (source, "tests", "phone", "adbd-sim.py", NULL);
  f->tmpdir = g_dir_make_tmp ("moat-phone-test-XXXXXX", &error);
  g_assert_no_error (error);
  /* adb keeps its key in ~/.android: a home of the test's own. */
  g_setenv ("HOME", f->tmpdir, TRUE);
  f->server_port = free_port (FALSE);
  f->client = moat_adb_client_new (f->server_port, f->adb);
  f->sims = g_ptr_array_new_with_free_func (g_object_unref);
}

static void
fixture_tear_down (Fixture *f, gconstpointer data)
{
  for (guint i = 0; i < f->sims->len; i++)
    g_subprocess_force_exit (g_ptr_array_index (f->sims, i));
  g_ptr_array_unref (f->sims);
  g_clear_object (&f->result);
  g_clear_object (&f->client);
  if (f->adb != NULL)
    {
      g_autofree char *port = g_strdup_printf ("%u", f->server_port);
      const char *argv[] = { f->adb, "-P", port, "kill-server", NULL };

      g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_STDOUT_TO_DEV_NULL |
                    G_SPAWN_STDERR_TO_DEV_NULL, NULL, NULL, NULL, NULL, NULL, NULL);
    }
  moat_test_remove_tree (f->tmpdir);
  g_free (f->tmpdir);
  g_free (f->adb);
  g_free (f->python);
  g_free (f->sim);
}

static gboolean
ready (Fixture *f)
{
  if (f->adb == NULL || f->python == NULL || f->sim == NULL ||
      !g_file_test (f->sim, G_FILE_TEST_EXISTS))
    {
      g_test_skip ("needs adb, python3 and tests/phone/adbd-sim.py");
      return FALSE;
    }
  return TRUE;
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

static MoatAdbShellResult *
shell (Fixture *f, const char *serial, const char *command, guint timeout_ms, GError **error)
{
  moat_adb_client_shell_async (f->client, serial, command, timeout_ms, NULL, done_cb, f);
  wait_result (f);
  return moat_adb_client_shell_finish (f->client, f->result, error);
}

static gboolean
file_exists (gpointer path)
{
  return g_file_test (path, G_FILE_TEST_EXISTS);
}

/* Starts a simulated phone and connects the adb server to it; returns its serial. */
static char *
plug_phone (Fixture *f, const char *profile)
{
  g_autofree char *profile_path = g_build_filename (g_getenv ("MOAT_SOURCE_ROOT"), "tests",
                                                    "phone", "profiles", profile, NULL);
  g_autofree char *ready_file = g_build_filename (f->tmpdir, profile, NULL);
  guint16 port = free_port (TRUE);
  g_autofree char *port_text = g_strdup_printf ("%u", port);
  g_autofree char *serial = g_strdup_printf ("127.0.0.1:%u", port);
  g_autofree char *connect = g_strconcat ("host:connect:", serial, NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) answer = NULL;
  GSubprocess *sim;
  gboolean online = FALSE;

  sim = g_subprocess_new (G_SUBPROCESS_FLAGS_NONE, &error, f->python, f->sim, "--port",
                          port_text, "--profile", profile_path, "--ready-file", ready_file, NULL);
  g_assert_no_error (error);
  g_ptr_array_add (f->sims, sim);
  /* Polled: nothing on our main context wakes up when the file appears. */
  for (guint i = 0; i < 500 && !file_exists (ready_file); i++)
    g_usleep (20000);
  g_assert_true (file_exists (ready_file));

  answer = query (f, connect, &error);
  g_assert_no_error (error);
  g_test_message ("adb: %.*s", (int) g_bytes_get_size (answer),
                  (const char *) g_bytes_get_data (answer, NULL));
  /* Wait until the server calls it a device. */
  for (guint i = 0; i < 100 && !online; i++)
    {
      g_autoptr(GBytes) list = query (f, "host:devices-l", &error);
      g_autoptr(GPtrArray) devices = NULL;

      g_assert_no_error (error);
      devices = moat_adb_parse_devices (g_bytes_get_data (list, NULL), g_bytes_get_size (list),
                                        &error);
      g_assert_no_error (error);
      for (guint d = 0; d < devices->len; d++)
        {
          const MoatAdbDevice *dev = g_ptr_array_index (devices, d);

          if (g_str_equal (dev->serial, serial) && g_str_equal (dev->state, "device"))
            {
              g_assert_true (dev->wifi);
              online = TRUE;
            }
        }
      if (!online)
        g_usleep (50000);
    }
  g_assert_true (online);
  return g_steal_pointer (&serial);
}

static char *
shell_text (Fixture *f, const char *serial, const char *command, int *exit_code)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(MoatAdbShellResult) r = shell (f, serial, command, 0, &error);

  g_assert_no_error (error);
  if (exit_code != NULL)
    *exit_code = r->exit_code;
  return g_strndup (g_bytes_get_data (r->out, NULL), g_bytes_get_size (r->out));
}

static const MoatPostureFinding *
find (GPtrArray *findings, const char *check)
{
  for (guint i = 0; i < findings->len; i++)
    {
      const MoatPostureFinding *f = g_ptr_array_index (findings, i);

      if (g_str_equal (f->check, check))
        return f;
    }
  g_assert_not_reached ();
  return NULL;
}

static void
log_findings (GPtrArray *findings)
{
  for (guint i = 0; i < findings->len; i++)
    {
      const MoatPostureFinding *f = g_ptr_array_index (findings, i);

      g_test_message ("  %-16s %-7s %-26s %s", f->check, moat_posture_result_to_string (f->result),
                      f->threat != NULL ? f->threat : "", f->summary);
    }
}

static MoatAndroidPosture *
inspect (Fixture *f, const char *serial, guint timeout_ms, GError **error)
{
  moat_android_inspect_async (f->client, serial, NULL, timeout_ms, NULL, done_cb, f);
  wait_result (f);
  return moat_android_inspect_finish (f->result, error);
}

/* Everything the posture checks read, through adb as Moat reads it. */
static MoatAndroidPosture *
read_posture (Fixture *f, const char *serial)
{
  g_autoptr(GError) error = NULL;
  MoatAndroidPosture *posture = inspect (f, serial, 0, &error);

  g_assert_no_error (error);
  g_test_message ("%s: %s, %s, %u commands failed", posture->serial, posture->model,
                  posture->os, posture->failed);
  log_findings (posture->findings);
  return posture;
}

static void
test_risky (Fixture *f, gconstpointer data)
{
  g_autofree char *serial = NULL;
  g_autoptr(MoatAndroidPosture) posture = NULL;
  GPtrArray *props, *apps;
  g_autoptr(GError) error = NULL;
  g_autoptr(MoatAdbShellResult) r = NULL;

  if (!ready (f))
    return;
  serial = plug_phone (f, "risky.json");
  posture = read_posture (f, serial);
  props = apps = posture->findings;
  g_assert_cmpstr (posture->model, ==, "samsung SM-A515F");
  g_assert_cmpstr (posture->os, ==, "Android 11, patch 2023-01-05");
  g_assert_cmpuint (posture->failed, ==, 0);
  g_assert_cmpstr (find (apps, "screen-lock")->threat, ==, "os.no_screen_lock");
  g_assert_cmpstr (find (apps, "permissions")->threat, ==, "app.dangerous_permissions");
  g_assert_cmpint (find (apps, "permissions")->severity, ==, MOAT_SEVERITY_HIGH);
  g_assert_nonnull (strstr (find (apps, "permissions")->evidence, "com.spy.mobile"));
  g_assert_nonnull (strstr (find (apps, "permissions")->evidence, "com.example.stalkerware"));
  g_assert_null (strstr (find (apps, "permissions")->evidence, "org.signal.android"));
  g_assert_cmpstr (find (props, "security-patch")->threat, ==, "os.outdated_patch");
  g_assert_cmpint (find (props, "security-patch")->severity, ==, MOAT_SEVERITY_HIGH);
  g_assert_cmpstr (find (props, "android-version")->threat, ==, "os.unsupported_version");
  g_assert_cmpstr (find (props, "verified-boot")->threat, ==, "os.verified_boot");
  g_assert_cmpstr (find (props, "bootloader")->threat, ==, "os.unlocked_bootloader");
  g_assert_cmpstr (find (apps, "unknown-sources")->threat, ==, "os.unknown_sources");
  g_assert_cmpstr (find (apps, "play-protect")->threat, ==, "os.verifier_off");
  g_assert_cmpstr (find (apps, "accessibility")->threat, ==, "app.accessibility_service");
  g_assert_cmpstr (find (apps, "device-admins")->threat, ==, "app.device_admin");
  g_assert_cmpstr (find (apps, "global-proxy")->threat, ==, "os.global_proxy");
  g_assert_nonnull (strstr (find (apps, "sideloaded-apps")->evidence, "com.example.stalkerware"));
  g_assert_cmpstr (find (apps, "su")->threat, ==, "os.rooted");

  /* Exit codes come through shell v2. */
  r = shell (f, serial, "false", 0, &error);
  g_assert_no_error (error);
  g_assert_cmpint (r->exit_code, ==, 1);
}

static void
test_clean (Fixture *f, gconstpointer data)
{
  g_autofree char *serial = NULL;
  g_autoptr(MoatAndroidPosture) posture = NULL;

  if (!ready (f))
    return;
  serial = plug_phone (f, "clean.json");
  posture = read_posture (f, serial);
  g_assert_cmpuint (posture->failed, ==, 0);
  g_assert_cmpstr (find (posture->findings, "screen-lock")->summary, ==, "A screen lock is set.");
  g_assert_cmpint (find (posture->findings, "permissions")->result, ==, MOAT_POSTURE_OK);
  for (guint i = 0; i < posture->findings->len; i++)
    {
      const MoatPostureFinding *p = g_ptr_array_index (posture->findings, i);

      /* USB debugging is the one thing a phone on adb always shows. */
      if (g_str_equal (p->check, "usb-debugging"))
        g_assert_cmpstr (p->threat, ==, "os.dev_options");
      else
        g_assert_cmpint (p->result, ==, MOAT_POSTURE_OK);
    }
}

/* Garbage, endless, slow and cut-off output: a clear error per command,
 * and the client goes on working. */
static void
test_hostile (Fixture *f, gconstpointer data)
{
  g_autofree char *serial = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(MoatAdbShellResult) r = NULL;
  g_autofree char *patch = NULL;

  if (!ready (f))
    return;
  serial = plug_phone (f, "hostile.json");

  r = shell (f, serial, "dumpsys device_policy", 2000, &error);
  g_test_message ("endless: %s", error != NULL ? error->message : "no error");
  g_assert_null (r);
  g_assert_true (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT) ||
                 g_error_matches (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA));
  g_clear_error (&error);

  r = shell (f, serial, "settings get secure enabled_accessibility_services", 500, &error);
  g_test_message ("slow: %s", error != NULL ? error->message : "no error");
  g_assert_null (r);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT);
  g_clear_error (&error);

  /* Garbage is data: the parser decides. */
  r = shell (f, serial, "pm list packages -f -i -U", 0, &error);
  g_assert_no_error (error);
  {
    g_autoptr(GPtrArray) packages = moat_android_parse_packages (g_bytes_get_data (r->out, NULL),
                                                                 g_bytes_get_size (r->out), &error);

    g_test_message ("garbage: %s", error != NULL ? error->message : "parsed");
    g_assert_true (packages != NULL || error != NULL);
    g_clear_error (&error);
  }
  g_clear_pointer (&r, moat_adb_shell_result_free);

  /* The link drops in the middle of an answer: no exit status, an error. */
  r = shell (f, serial, "dumpsys package com.android.chrome", 5000, &error);
  g_test_message ("cut off: %s", error != NULL ? error->message : "no error");
  g_assert_null (r);
  g_assert_nonnull (error);
  g_clear_error (&error);
  /* adb reconnects to the phone on its own. */
  {
    gboolean back = FALSE;

    for (guint i = 0; i < 200 && !back; i++)
      {
        g_autoptr(MoatAdbShellResult) echo = shell (f, serial, "echo back", 2000, NULL);

        back = echo != NULL && echo->exit_code == 0;
        if (!back)
          g_usleep (50000);
      }
    g_assert_true (back);
  }

  /* After all that, the phone still answers and a lie is not believed. */
  patch = shell_text (f, serial, "getprop", NULL);
  {
    g_autoptr(GHashTable) props = moat_android_parse_getprop (patch, strlen (patch), NULL, NULL);
    g_autoptr(GDateTime) now = g_date_time_new_utc (2026, 11, 27, 10, 0, 0);
    g_autoptr(GPtrArray) findings = moat_android_check_properties (props, now);

    log_findings (findings);
    g_assert_cmpint (find (findings, "security-patch")->result, ==, MOAT_POSTURE_UNKNOWN);
  }

  /* The whole inspection, as moatd runs it: every check answers, the ones
   * whose command failed say why, and the rest still count. */
  {
    g_autoptr(MoatAndroidPosture) posture = inspect (f, serial, 1500, &error);
    const MoatPostureFinding *admins;

    g_assert_no_error (error);
    log_findings (posture->findings);
    g_assert_cmpuint (posture->failed, >=, 2);
    admins = find (posture->findings, "device-admins");
    g_assert_cmpint (admins->result, ==, MOAT_POSTURE_UNKNOWN);
    g_assert_nonnull (strstr (admins->evidence, "\"error\""));
    g_assert_cmpint (find (posture->findings, "accessibility")->result, ==, MOAT_POSTURE_UNKNOWN);
    g_assert_cmpint (find (posture->findings, "security-patch")->result, ==, MOAT_POSTURE_UNKNOWN);
    g_assert_cmpint (find (posture->findings, "bootloader")->result, !=, MOAT_POSTURE_UNKNOWN);
  }
}

int
main (int argc, char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  moat_error_quark ();

#define ADD(path, func) \
  g_test_add (path, Fixture, NULL, fixture_set_up, func, fixture_tear_down)
  ADD ("/moat/phone/risky", test_risky);
  ADD ("/moat/phone/clean", test_clean);
  ADD ("/moat/phone/hostile", test_hostile);
#undef ADD

  return g_test_run ();
}
