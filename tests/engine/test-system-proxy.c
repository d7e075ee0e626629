/* SPDX-License-Identifier: GPL-3.0-or-later
 * Copyright 2026 The Moat developers
 *
 * "Protect this computer" against org.gnome.system.proxy from the system's
 * schema directory, on a memory backend, and on a keyfile backend that
 * outlives the object to play a crash and a restart.
 */
#define G_SETTINGS_ENABLE_BACKEND
#define G_LOG_DOMAIN "test-system-proxy"

#include "config.h"

#include "moat-error.h"
#include "moat-system-proxy.h"
#include "moat-test-utils.h"

#include <gio/gsettingsbackend.h>
#include <glib/gstdio.h>
#include <string.h>

#define SYSTEM_SCHEMA_DIR "/usr/share/glib-2.0/schemas"
#define PAC_URL "http://127.0.0.1:8080/proxy.pac"
#define PAC_URL2 "http://127.0.0.1:9090/proxy.pac"

static const char * const children[] = { "http", "https", "ftp", "socks" };

typedef struct {
  char                  *tmp;
  char                  *data_dir;
  char                  *state_path;
  char                  *keyfile;
  GSettingsSchemaSource *source;
  GSettingsSchema       *schema;
  GSettingsBackend      *backend;
  GSettings             *settings;
} Fixture;

static GSettings *
new_settings (Fixture          *fixture,
              GSettingsBackend *backend)
{
  return g_settings_new_full (fixture->schema, backend, NULL);
}

static void
fixture_set_up (Fixture       *fixture,
                gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  gboolean keyfile = GPOINTER_TO_INT (data);

  fixture->tmp = g_dir_make_tmp ("moat-system-proxy-XXXXXX", &error);
  g_assert_no_error (error);
  fixture->data_dir = g_build_filename (fixture->tmp, "data", "moat", NULL);
  fixture->state_path = g_build_filename (fixture->data_dir, MOAT_SYSTEM_PROXY_STATE_FILENAME, NULL);
  fixture->keyfile = g_build_filename (fixture->tmp, "dconf.ini", NULL);

  /* The test environment's GSETTINGS_SCHEMA_DIR names the build tree; the
   * desktop's proxy schema comes from the system's directory. */
  if (!g_file_test (SYSTEM_SCHEMA_DIR "/gschemas.compiled", G_FILE_TEST_EXISTS))
    return;
  fixture->source = g_settings_schema_source_new_from_directory (SYSTEM_SCHEMA_DIR, NULL, FALSE,
                                                                 &error);
  g_assert_no_error (error);
  fixture->schema = g_settings_schema_source_lookup (fixture->source, MOAT_SYSTEM_PROXY_SCHEMA,
                                                     FALSE);
  if (fixture->schema == NULL)
    return;
  if (keyfile)
    fixture->backend = g_keyfile_settings_backend_new (fixture->keyfile, "/", "root");
  else
    fixture->backend = g_memory_settings_backend_new ();
  fixture->settings = new_settings (fixture, fixture->backend);
}

static void
fixture_tear_down (Fixture       *fixture,
                   gconstpointer  data)
{
  g_clear_object (&fixture->settings);
  g_clear_object (&fixture->backend);
  g_clear_pointer (&fixture->schema, g_settings_schema_unref);
  g_clear_pointer (&fixture->source, g_settings_schema_source_unref);
  moat_test_remove_tree (fixture->tmp);
  g_free (fixture->tmp);
  g_free (fixture->data_dir);
  g_free (fixture->state_path);
  g_free (fixture->keyfile);
}

static gboolean
skip_without_schema (Fixture *fixture)
{
  if (fixture->settings != NULL)
    return FALSE;
  g_test_skip ("org.gnome.system.proxy is not installed in " SYSTEM_SCHEMA_DIR);
  return TRUE;
}

/* Every key of the schema and its children: (user value or nothing,
 * effective value), so "equal" covers values and user-set-ness alike. */
static GVariant *
snapshot (GSettings *settings)
{
  g_auto(GVariantBuilder) builder = G_VARIANT_BUILDER_INIT (G_VARIANT_TYPE ("a{s(mvv)}"));

  for (int c = -1; c < (int) G_N_ELEMENTS (children); c++)
    {
      g_autoptr(GSettings) child = c < 0 ? g_object_ref (settings)
                                         : g_settings_get_child (settings, children[c]);
      g_autoptr(GSettingsSchema) schema = NULL;
      g_auto(GStrv) keys = NULL;

      g_object_get (child, "settings-schema", &schema, NULL);
      keys = g_settings_schema_list_keys (schema);
      for (guint i = 0; keys[i] != NULL; i++)
        {
          g_autoptr(GVariant) user = g_settings_get_user_value (child, keys[i]);
          g_autoptr(GVariant) value = g_settings_get_value (child, keys[i]);
          g_autofree char *name = g_strdup_printf ("%s/%s", c < 0 ? "" : children[c], keys[i]);

          g_variant_builder_add (&builder, "{s(mvv)}", name, user, value);
        }
    }
  return g_variant_ref_sink (g_variant_builder_end (&builder));
}

static void
assert_snapshot_equal (GVariant *expected,
                       GVariant *actual)
{
  if (!g_variant_equal (expected, actual))
    {
      g_autofree char *e = g_variant_print (expected, FALSE);
      g_autofree char *a = g_variant_print (actual, FALSE);

      g_test_message ("expected %s", e);
      g_test_message ("actual   %s", a);
      g_assert_cmpstr (a, ==, e);
    }
}

static void
user_settings (GSettings *settings)
{
  const char * const ignore[] = { "localhost", "127.0.0.0/8", "::1", "*.corp.example", "10.0.0.0/8", NULL };
  g_autoptr(GSettings) http = g_settings_get_child (settings, "http");
  g_autoptr(GSettings) https = g_settings_get_child (settings, "https");

  g_settings_set_string (settings, "mode", "manual");
  g_settings_set_strv (settings, "ignore-hosts", ignore);
  g_settings_set_boolean (settings, "use-same-proxy", FALSE);
  g_settings_set_string (http, "host", "proxy.corp.example");
  g_settings_set_int (http, "port", 3128);
  g_settings_set_boolean (http, "use-authentication", TRUE);
  g_settings_set_string (http, "authentication-user", "alice");
  g_settings_set_string (https, "host", "proxy.corp.example");
  g_settings_set_int (https, "port", 3129);
  /* Set by the user to what happens to be the default: must stay user-set. */
  g_settings_set_string (settings, "autoconfig-url", "");
}

static void
enable (MoatSystemProxy *proxy,
        const char      *url)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;

  moat_system_proxy_enable_async (proxy, url, NULL, moat_test_result_cb, &result);
  g_assert_true (moat_system_proxy_enable_finish (proxy, moat_test_wait_result (&result), &error));
  g_assert_no_error (error);
}

static void
disable (MoatSystemProxy *proxy)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;

  moat_system_proxy_disable_async (proxy, NULL, moat_test_result_cb, &result);
  g_assert_true (moat_system_proxy_disable_finish (proxy, moat_test_wait_result (&result), &error));
  g_assert_no_error (error);
}

static gboolean
recover (MoatSystemProxy *proxy)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  gboolean restored = 99;

  moat_system_proxy_recover_async (proxy, NULL, moat_test_result_cb, &result);
  g_assert_true (moat_system_proxy_recover_finish (proxy, moat_test_wait_result (&result),
                                                   &restored, &error));
  g_assert_no_error (error);
  return restored;
}

static void
assert_points_at (GSettings  *settings,
                  const char *url)
{
  g_autofree char *mode = g_settings_get_string (settings, "mode");
  g_autofree char *autoconfig = g_settings_get_string (settings, "autoconfig-url");

  g_assert_cmpstr (mode, ==, "auto");
  g_assert_cmpstr (autoconfig, ==, url);
}

static void
test_defaults (Fixture       *fixture,
               gconstpointer  data)
{
  g_autoptr(MoatSystemProxy) proxy = NULL;
  g_autoptr(GVariant) before = NULL;
  g_autoptr(GVariant) after = NULL;
  g_autoptr(GVariant) user_mode = NULL;

  if (skip_without_schema (fixture))
    return;
  before = snapshot (fixture->settings);
  proxy = moat_system_proxy_new (fixture->data_dir, fixture->settings);
  g_assert_false (moat_system_proxy_get_enabled (proxy));
  g_assert_null (moat_system_proxy_get_pac_url (proxy));

  enable (proxy, PAC_URL);
  g_assert_true (moat_system_proxy_get_enabled (proxy));
  g_assert_cmpstr (moat_system_proxy_get_pac_url (proxy), ==, PAC_URL);
  assert_points_at (fixture->settings, PAC_URL);
  g_assert_true (g_file_test (fixture->state_path, G_FILE_TEST_IS_REGULAR));

  disable (proxy);
  g_assert_false (moat_system_proxy_get_enabled (proxy));
  g_assert_false (g_file_test (fixture->state_path, G_FILE_TEST_EXISTS));
  after = snapshot (fixture->settings);
  assert_snapshot_equal (before, after);
  /* Reset, not written back with the default value. */
  user_mode = g_settings_get_user_value (fixture->settings, "mode");
  g_assert_null (user_mode);

  /* Disabling again is a no-op. */
  disable (proxy);
  g_clear_pointer (&after, g_variant_unref);
  after = snapshot (fixture->settings);
  assert_snapshot_equal (before, after);
}

static void
test_user_settings (Fixture       *fixture,
                    gconstpointer  data)
{
  g_autoptr(MoatSystemProxy) proxy = NULL;
  g_autoptr(GVariant) before = NULL;
  g_autoptr(GVariant) during = NULL;
  g_autoptr(GVariant) after = NULL;
  g_autoptr(GVariant) url = NULL;

  if (skip_without_schema (fixture))
    return;
  user_settings (fixture->settings);
  before = snapshot (fixture->settings);
  proxy = moat_system_proxy_new (fixture->data_dir, fixture->settings);

  enable (proxy, PAC_URL);
  assert_points_at (fixture->settings, PAC_URL);
  during = snapshot (fixture->settings);
  g_assert_false (g_variant_equal (before, during));

  disable (proxy);
  after = snapshot (fixture->settings);
  assert_snapshot_equal (before, after);
  url = g_settings_get_user_value (fixture->settings, "autoconfig-url");
  g_assert_nonnull (url);
  g_assert_cmpstr (g_variant_get_string (url, NULL), ==, "");
}

static void
test_enable_twice (Fixture       *fixture,
                   gconstpointer  data)
{
  g_autoptr(MoatSystemProxy) proxy = NULL;
  g_autoptr(GVariant) before = NULL;
  g_autoptr(GVariant) after = NULL;

  if (skip_without_schema (fixture))
    return;
  user_settings (fixture->settings);
  before = snapshot (fixture->settings);
  proxy = moat_system_proxy_new (fixture->data_dir, fixture->settings);

  enable (proxy, PAC_URL);
  enable (proxy, PAC_URL2);   /* a new port: only the URL changes */
  assert_points_at (fixture->settings, PAC_URL2);
  g_assert_cmpstr (moat_system_proxy_get_pac_url (proxy), ==, PAC_URL2);

  disable (proxy);
  after = snapshot (fixture->settings);
  assert_snapshot_equal (before, after);
}

/* Requests made back to back run in order. */
static void
test_queued (Fixture       *fixture,
             gconstpointer  data)
{
  g_autoptr(MoatSystemProxy) proxy = NULL;
  g_autoptr(GVariant) before = NULL;
  g_autoptr(GVariant) after = NULL;
  g_autoptr(GAsyncResult) enabled = NULL;
  g_autoptr(GAsyncResult) disabled = NULL;
  g_autoptr(GAsyncResult) enabled2 = NULL;
  g_autoptr(GError) error = NULL;

  if (skip_without_schema (fixture))
    return;
  user_settings (fixture->settings);
  before = snapshot (fixture->settings);
  proxy = moat_system_proxy_new (fixture->data_dir, fixture->settings);

  moat_system_proxy_enable_async (proxy, PAC_URL, NULL, moat_test_result_cb, &enabled);
  moat_system_proxy_disable_async (proxy, NULL, moat_test_result_cb, &disabled);
  moat_system_proxy_enable_async (proxy, PAC_URL2, NULL, moat_test_result_cb, &enabled2);
  g_assert_true (moat_system_proxy_enable_finish (proxy, moat_test_wait_result (&enabled2), &error));
  g_assert_no_error (error);
  g_assert_true (moat_system_proxy_enable_finish (proxy, enabled, &error));
  g_assert_no_error (error);
  g_assert_true (moat_system_proxy_disable_finish (proxy, disabled, &error));
  g_assert_no_error (error);
  assert_points_at (fixture->settings, PAC_URL2);

  disable (proxy);
  after = snapshot (fixture->settings);
  assert_snapshot_equal (before, after);
}

static void
test_crash_recover (Fixture       *fixture,
                    gconstpointer  data)
{
  g_autoptr(MoatSystemProxy) proxy = NULL;
  g_autoptr(MoatSystemProxy) proxy2 = NULL;
  g_autoptr(GSettingsBackend) backend2 = NULL;
  g_autoptr(GSettings) settings2 = NULL;
  g_autoptr(GVariant) before = NULL;
  g_autoptr(GVariant) after = NULL;

  if (skip_without_schema (fixture))
    return;
  user_settings (fixture->settings);
  before = snapshot (fixture->settings);
  proxy = moat_system_proxy_new (fixture->data_dir, fixture->settings);
  enable (proxy, PAC_URL);
  /* The crash: nothing restores. */
  g_clear_object (&proxy);
  g_clear_object (&fixture->settings);
  g_clear_object (&fixture->backend);

  /* The next start reads the same settings file afresh. */
  backend2 = g_keyfile_settings_backend_new (fixture->keyfile, "/", "root");
  settings2 = new_settings (fixture, backend2);
  assert_points_at (settings2, PAC_URL);
  proxy2 = moat_system_proxy_new (fixture->data_dir, settings2);
  g_assert_true (recover (proxy2));
  g_assert_false (moat_system_proxy_get_enabled (proxy2));
  g_assert_false (g_file_test (fixture->state_path, G_FILE_TEST_EXISTS));
  after = snapshot (settings2);
  assert_snapshot_equal (before, after);

  /* Nothing left to recover. */
  g_assert_false (recover (proxy2));
}

/* The user pointed the desktop elsewhere after the crash: theirs stays. */
static void
test_recover_user_changed (Fixture       *fixture,
                           gconstpointer  data)
{
  g_autoptr(MoatSystemProxy) proxy = NULL;
  g_autoptr(GVariant) before = NULL;
  g_autoptr(GVariant) after = NULL;

  if (skip_without_schema (fixture))
    return;
  proxy = moat_system_proxy_new (fixture->data_dir, fixture->settings);
  enable (proxy, PAC_URL);
  g_clear_object (&proxy);

  g_settings_set_string (fixture->settings, "mode", "none");
  before = snapshot (fixture->settings);
  proxy = moat_system_proxy_new (fixture->data_dir, fixture->settings);
  g_assert_false (recover (proxy));
  g_assert_false (g_file_test (fixture->state_path, G_FILE_TEST_EXISTS));
  after = snapshot (fixture->settings);
  assert_snapshot_equal (before, after);
}

/* A crash before recovery, then enabling again: what is saved must still
 * be the user's settings, not Moat's from the last run. */
static void
test_enable_after_crash (Fixture       *fixture,
                         gconstpointer  data)
{
  g_autoptr(MoatSystemProxy) proxy = NULL;
  g_autoptr(GVariant) before = NULL;
  g_autoptr(GVariant) after = NULL;

  if (skip_without_schema (fixture))
    return;
  user_settings (fixture->settings);
  before = snapshot (fixture->settings);
  proxy = moat_system_proxy_new (fixture->data_dir, fixture->settings);
  enable (proxy, PAC_URL);
  g_clear_object (&proxy);

  proxy = moat_system_proxy_new (fixture->data_dir, fixture->settings);
  enable (proxy, PAC_URL2);
  disable (proxy);
  after = snapshot (fixture->settings);
  assert_snapshot_equal (before, after);
}

static void
test_recover_damaged (Fixture       *fixture,
                      gconstpointer  data)
{
  static const char garbage[] = "\x00\x01not a GVariant at all\xff";
  g_autoptr(MoatSystemProxy) proxy = NULL;
  g_autoptr(GVariant) before = NULL;
  g_autoptr(GVariant) after = NULL;
  g_autoptr(GVariant) state = NULL;
  g_autoptr(GError) error = NULL;
  g_auto(GVariantBuilder) saved = G_VARIANT_BUILDER_INIT (G_VARIANT_TYPE ("a{smv}"));

  if (skip_without_schema (fixture))
    return;
  g_assert_cmpint (g_mkdir_with_parents (fixture->data_dir, 0700), ==, 0);
  proxy = moat_system_proxy_new (fixture->data_dir, fixture->settings);

  /* Not a state file: dropped, settings untouched. */
  g_settings_set_string (fixture->settings, "mode", "auto");
  g_settings_set_string (fixture->settings, "autoconfig-url", PAC_URL);
  before = snapshot (fixture->settings);
  g_file_set_contents (fixture->state_path, garbage, sizeof garbage - 1, &error);
  g_assert_no_error (error);
  g_test_expect_message ("moat-engine", G_LOG_LEVEL_WARNING, "*not a state file*");
  g_assert_false (recover (proxy));
  g_test_assert_expected_messages ();
  g_assert_false (g_file_test (fixture->state_path, G_FILE_TEST_EXISTS));
  after = snapshot (fixture->settings);
  assert_snapshot_equal (before, after);

  /* A state file with values of the wrong type, or out of range, or keys
   * Moat never changes: those keys are reset, the others never touched. */
  g_variant_builder_add (&saved, "{smv}", "mode", g_variant_new_int32 (5));
  g_variant_builder_add (&saved, "{smv}", "autoconfig-url", g_variant_new_string ("http://x/"));
  g_variant_builder_add (&saved, "{smv}", "ignore-hosts", g_variant_new_strv (NULL, 0));
  g_variant_builder_add (&saved, "{smv}", "no-such-key", g_variant_new_string ("x"));
  state = g_variant_ref_sink (g_variant_new ("(us@a{smv})", 1, PAC_URL,
                                             g_variant_builder_end (&saved)));
  g_file_set_contents (fixture->state_path, g_variant_get_data (state),
                       (gssize) g_variant_get_size (state), &error);
  g_assert_no_error (error);
  g_settings_set_strv (fixture->settings, "ignore-hosts", (const char * const[]) { "a", NULL });
  g_test_expect_message ("moat-engine", G_LOG_LEVEL_MESSAGE, "Restoring the proxy settings*");
  g_test_expect_message ("moat-engine", G_LOG_LEVEL_WARNING, "*“mode” is not valid*");
  g_assert_true (recover (proxy));
  g_test_assert_expected_messages ();
  {
    g_autoptr(GVariant) mode = g_settings_get_user_value (fixture->settings, "mode");
    g_autofree char *url = g_settings_get_string (fixture->settings, "autoconfig-url");
    g_auto(GStrv) ignore = g_settings_get_strv (fixture->settings, "ignore-hosts");

    g_assert_null (mode);
    g_assert_cmpstr (url, ==, "http://x/");
    g_assert_cmpuint (g_strv_length (ignore), ==, 1);
    g_assert_cmpstr (ignore[0], ==, "a");
  }
}

/* Someone else changes the settings while Moat protects: Moat lets go and
 * later leaves them as they are. */
static void
test_changed_elsewhere (Fixture       *fixture,
                        gconstpointer  data)
{
  g_autoptr(MoatSystemProxy) proxy = NULL;
  g_autoptr(GVariant) before = NULL;
  g_autoptr(GVariant) after = NULL;

  if (skip_without_schema (fixture))
    return;
  proxy = moat_system_proxy_new (fixture->data_dir, fixture->settings);
  enable (proxy, PAC_URL);
  g_assert_true (moat_system_proxy_get_enabled (proxy));

  g_settings_set_string (fixture->settings, "mode", "manual");
  before = snapshot (fixture->settings);
  g_assert_false (moat_system_proxy_get_enabled (proxy));
  g_assert_null (moat_system_proxy_get_pac_url (proxy));

  /* Disabling waits for the state file to go, and restores nothing. */
  disable (proxy);
  g_assert_false (g_file_test (fixture->state_path, G_FILE_TEST_EXISTS));
  after = snapshot (fixture->settings);
  assert_snapshot_equal (before, after);
}

static void
on_notify_enabled_cb (GObject    *object,
                      GParamSpec *pspec,
                      guint      *count)
{
  (*count)++;
}

static void
test_notify (Fixture       *fixture,
             gconstpointer  data)
{
  g_autoptr(MoatSystemProxy) proxy = NULL;
  guint count = 0;

  if (skip_without_schema (fixture))
    return;
  proxy = moat_system_proxy_new (fixture->data_dir, fixture->settings);
  g_signal_connect (proxy, "notify::enabled", G_CALLBACK (on_notify_enabled_cb), &count);
  enable (proxy, PAC_URL);
  g_assert_cmpuint (count, ==, 1);
  enable (proxy, PAC_URL2);
  g_assert_cmpuint (count, ==, 1);
  disable (proxy);
  g_assert_cmpuint (count, ==, 2);
}

static void
test_disk_error (Fixture       *fixture,
                 gconstpointer  data)
{
  g_autoptr(MoatSystemProxy) proxy = NULL;
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) before = NULL;
  g_autoptr(GVariant) after = NULL;
  g_autofree char *file = NULL;
  g_autofree char *below_file = NULL;

  if (skip_without_schema (fixture))
    return;
  /* The data dir would be below a regular file. */
  file = g_build_filename (fixture->tmp, "file", NULL);
  g_file_set_contents (file, "x", 1, &error);
  g_assert_no_error (error);
  below_file = g_build_filename (file, "moat", NULL);
  user_settings (fixture->settings);
  before = snapshot (fixture->settings);

  proxy = moat_system_proxy_new (below_file, fixture->settings);
  moat_system_proxy_enable_async (proxy, PAC_URL, NULL, moat_test_result_cb, &result);
  g_assert_false (moat_system_proxy_enable_finish (proxy, moat_test_wait_result (&result), &error));
  g_assert_error (error, G_FILE_ERROR, G_FILE_ERROR_NOTDIR);
  g_assert_false (moat_system_proxy_get_enabled (proxy));
  after = snapshot (fixture->settings);
  assert_snapshot_equal (before, after);
}

/* The keys cannot be written (locked down, or outside what the backend may
 * write): nothing is saved or changed. */
static void
test_locked (Fixture       *fixture,
             gconstpointer  data)
{
  g_autoptr(MoatSystemProxy) proxy = NULL;
  g_autoptr(GSettingsBackend) backend = NULL;
  g_autoptr(GSettings) settings = NULL;
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *mode = NULL;

  if (skip_without_schema (fixture))
    return;
  backend = g_keyfile_settings_backend_new (fixture->keyfile, "/elsewhere/", NULL);
  settings = new_settings (fixture, backend);
  g_assert_false (g_settings_is_writable (settings, "mode"));
  proxy = moat_system_proxy_new (fixture->data_dir, settings);

  moat_system_proxy_enable_async (proxy, PAC_URL, NULL, moat_test_result_cb, &result);
  g_assert_false (moat_system_proxy_enable_finish (proxy, moat_test_wait_result (&result), &error));
  g_assert_error (error, MOAT_ERROR, MOAT_ERROR_PERMISSION_DENIED);
  g_assert_false (moat_system_proxy_get_enabled (proxy));
  g_assert_false (g_file_test (fixture->state_path, G_FILE_TEST_EXISTS));
  mode = g_settings_get_string (settings, "mode");
  g_assert_cmpstr (mode, ==, "none");
}

static void
test_bad_url (Fixture       *fixture,
              gconstpointer  data)
{
  static const char * const bad[] = {
    NULL, "", "http://", "https://127.0.0.1:8080/proxy.pac", "javascript:alert(1)",
    "file:///etc/passwd", "http://127.0.0.1:8080/proxy.pac\n", "http://127.0.0.1/ x",
  };
  g_autoptr(MoatSystemProxy) proxy = NULL;
  g_autoptr(GVariant) before = NULL;
  g_autoptr(GVariant) after = NULL;

  if (skip_without_schema (fixture))
    return;
  before = snapshot (fixture->settings);
  proxy = moat_system_proxy_new (fixture->data_dir, fixture->settings);
  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr(GAsyncResult) result = NULL;
      g_autoptr(GError) error = NULL;

      moat_system_proxy_enable_async (proxy, bad[i], NULL, moat_test_result_cb, &result);
      g_assert_false (moat_system_proxy_enable_finish (proxy, moat_test_wait_result (&result),
                                                       &error));
      g_assert_error (error, MOAT_ERROR, MOAT_ERROR_INVALID_ARGUMENT);
    }
  after = snapshot (fixture->settings);
  assert_snapshot_equal (before, after);
  g_assert_false (g_file_test (fixture->state_path, G_FILE_TEST_EXISTS));
}

static void
test_cancelled (Fixture       *fixture,
                gconstpointer  data)
{
  g_autoptr(MoatSystemProxy) proxy = NULL;
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(GAsyncResult) first = NULL;
  g_autoptr(GAsyncResult) second = NULL;
  g_autoptr(GError) error = NULL;

  if (skip_without_schema (fixture))
    return;
  proxy = moat_system_proxy_new (fixture->data_dir, fixture->settings);
  /* The second waits behind the first and is cancelled before its turn. */
  moat_system_proxy_enable_async (proxy, PAC_URL, NULL, moat_test_result_cb, &first);
  moat_system_proxy_disable_async (proxy, cancellable, moat_test_result_cb, &second);
  g_cancellable_cancel (cancellable);
  g_assert_false (moat_system_proxy_disable_finish (proxy, moat_test_wait_result (&second), &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_clear_error (&error);
  g_assert_true (moat_system_proxy_enable_finish (proxy, moat_test_wait_result (&first), &error));
  g_assert_no_error (error);
  assert_points_at (fixture->settings, PAC_URL);
  disable (proxy);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

#define ADD(path, func, keyfile) g_test_add ("/moat/system-proxy/" path, Fixture, \
                                             GINT_TO_POINTER (keyfile), fixture_set_up, func, \
                                             fixture_tear_down)
  ADD ("defaults", test_defaults, FALSE);
  ADD ("user-settings", test_user_settings, FALSE);
  ADD ("user-settings-keyfile", test_user_settings, TRUE);
  ADD ("enable-twice", test_enable_twice, FALSE);
  ADD ("queued", test_queued, FALSE);
  ADD ("crash-recover", test_crash_recover, TRUE);
  ADD ("recover-user-changed", test_recover_user_changed, TRUE);
  ADD ("enable-after-crash", test_enable_after_crash, TRUE);
  ADD ("recover-damaged", test_recover_damaged, FALSE);
  ADD ("changed-elsewhere", test_changed_elsewhere, FALSE);
  ADD ("notify", test_notify, FALSE);
  ADD ("disk-error", test_disk_error, FALSE);
  ADD ("bad-url", test_bad_url, FALSE);
  ADD ("locked", test_locked, FALSE);
  ADD ("cancelled", test_cancelled, FALSE);
#undef ADD
  return g_test_run ();
}
