/* SPDX-License-Identifier: GPL-3.0-or-later
 * Copyright 2026 The Moat developers
 */
#define G_LOG_DOMAIN "moat-protect-test"

#include "config.h"

#include "moat-test-harness.h"

#include <signal.h>
#include <string.h>

/*
 * "Protect this computer" end to end: moatd and moatctl from this build tree
 * share a GSettings keyfile backend with the test, which reads
 * org.gnome.system.proxy straight from the file.
 */

#define PROXY_GROUP "system/proxy"
#define HTTP_GROUP "system/proxy/http"
#define MOAT_GROUP "io/github/moatproject/Moat"

typedef struct {
  MoatHarness h;
  gboolean    ready;
  char       *keyfile;
} Fixture;

static gboolean
have_system_proxy_schema (void)
{
  GSettingsSchemaSource *source = g_settings_schema_source_get_default ();
  g_autoptr(GSettingsSchema) schema = NULL;

  if (source != NULL)
    schema = g_settings_schema_source_lookup (source, "org.gnome.system.proxy", TRUE);
  return schema != NULL;
}

static void
fixture_set_up (Fixture *f, gconstpointer data)
{
  g_autofree char *dir = NULL;
  g_autoptr(GError) error = NULL;
  /* What the user had: a company proxy set by hand. */
  const char *user_settings =
    "[" PROXY_GROUP "]\n"
    "mode='manual'\n"
    "ignore-hosts=['localhost', 'intranet.example']\n"
    "\n"
    "[" HTTP_GROUP "]\n"
    "host='gateway.example'\n"
    "port=3128\n";

  if (!have_system_proxy_schema ())
    {
      g_test_skip ("org.gnome.system.proxy is not installed (gsettings-desktop-schemas)");
      return;
    }
  f->ready = moat_harness_set_up (&f->h, MOAT_HARNESS_NONE);
  if (!f->ready)
    return;
  dir = g_build_filename (g_getenv ("XDG_CONFIG_HOME"), "glib-2.0", "settings", NULL);
  g_assert_cmpint (g_mkdir_with_parents (dir, 0700), ==, 0);
  f->keyfile = g_build_filename (dir, "keyfile", NULL);
  g_file_set_contents (f->keyfile, user_settings, -1, &error);
  g_assert_no_error (error);
}

static void
fixture_tear_down (Fixture *f, gconstpointer data)
{
  if (f->ready)
    moat_harness_tear_down (&f->h);
  g_free (f->keyfile);
}

static GKeyFile *
load_keyfile (Fixture *f)
{
  g_autoptr(GKeyFile) keyfile = g_key_file_new ();
  g_autoptr(GError) error = NULL;

  g_key_file_load_from_file (keyfile, f->keyfile, G_KEY_FILE_NONE, &error);
  g_assert_no_error (error);
  return g_steal_pointer (&keyfile);
}

/* The value of @key in @group as written (GVariant text), or NULL. */
static char *
read_key (Fixture *f, const char *group, const char *key)
{
  g_autoptr(GKeyFile) keyfile = load_keyfile (f);

  return g_key_file_get_value (keyfile, group, key, NULL);
}

static int
compare_strings (gconstpointer a, gconstpointer b)
{
  return g_strcmp0 (*(char * const *) a, *(char * const *) b);
}

/* Both proxy groups as text, keys sorted: what "exactly restored" compares. */
static char *
dump_proxy_groups (Fixture *f)
{
  g_autoptr(GKeyFile) keyfile = load_keyfile (f);
  g_autoptr(GString) out = g_string_new (NULL);
  const char *groups[] = { PROXY_GROUP, HTTP_GROUP, "system/proxy/https" };

  for (guint i = 0; i < G_N_ELEMENTS (groups); i++)
    {
      g_auto(GStrv) keys = g_key_file_get_keys (keyfile, groups[i], NULL, NULL);

      if (keys == NULL)
        continue;
      qsort (keys, g_strv_length (keys), sizeof (char *), compare_strings);
      for (guint k = 0; keys[k] != NULL; k++)
        {
          g_autofree char *value = g_key_file_get_value (keyfile, groups[i], keys[k], NULL);

          g_string_append_printf (out, "%s/%s=%s\n", groups[i], keys[k], value);
        }
    }
  return g_string_free (g_steal_pointer (&out), FALSE);
}

typedef struct {
  Fixture    *f;
  const char *group;
  const char *key;
  const char *value;   /* NULL: the key must be absent */
} KeyWait;

static gboolean
key_is_cb (gpointer data)
{
  KeyWait *wait = data;
  g_autofree char *value = read_key (wait->f, wait->group, wait->key);

  return g_strcmp0 (value, wait->value) == 0;
}

static void
wait_key (Fixture *f, const char *group, const char *key, const char *value)
{
  KeyWait wait = { f, group, key, value };
  g_autofree char *now = NULL;

  if (moat_harness_spin_until (key_is_cb, &wait, 30))
    return;
  now = read_key (f, group, key);
  g_error ("%s/%s is %s, not %s", group, key, now, value);
}

static gboolean
proxy_running_cb (gpointer data)
{
  MoatHarness *h = data;
  const char *address = moat_dbus_moat1_get_proxy_address (h->proxy);

  return address != NULL && address[0] != '\0';
}

static gboolean
state_is_protected_cb (gpointer data)
{
  return g_strcmp0 (moat_dbus_moat1_get_protection_state (data), "protected") == 0;
}

static char *
start_moatd (Fixture *f)
{
  moat_harness_start_moatd (&f->h);
  g_assert_true (moat_harness_spin_until (proxy_running_cb, &f->h, 30));
  return g_strdup_printf ("'http://%s/proxy.pac'", moat_dbus_moat1_get_proxy_address (f->h.proxy));
}

static void
moatctl_ok (Fixture *f, const char *arg, const char *expected_out)
{
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;

  g_assert_cmpint (moat_harness_moatctl (&f->h, &out, &err, "protect", arg, NULL), ==, 0);
  g_assert_cmpstr (err, ==, "");
  if (expected_out != NULL)
    g_assert_cmpstr (out, ==, expected_out);
}

static void
test_on_off (Fixture *f, gconstpointer data)
{
  g_autofree char *before = NULL;
  g_autofree char *after = NULL;
  g_autofree char *pac = NULL;
  g_autofree char *pac_text = NULL;
  g_autofree char *pac_url = NULL;
  g_autofree char *curl = g_find_program_in_path ("curl");
  g_autoptr(GError) error = NULL;
  int status = 0;

  if (!f->ready)
    return;
  before = dump_proxy_groups (f);
  pac = start_moatd (f);
  moatctl_ok (f, NULL, "This computer’s proxy settings do not use Moat.\n");

  moatctl_ok (f, "on", "This computer’s proxy settings point at Moat now.\n");
  wait_key (f, PROXY_GROUP, "mode", "'auto'");
  wait_key (f, PROXY_GROUP, "autoconfig-url", pac);
  g_assert_true (moat_dbus_moat1_get_protect_computer (f->h.proxy) ||
                 moat_harness_spin_until ((gboolean (*) (gpointer)) moat_dbus_moat1_get_protect_computer,
                                          f->h.proxy, 30));
  moatctl_ok (f, NULL, "This computer’s proxy settings point at Moat.\n");
  /* Only now is this computer protected. */
  g_assert_true (moat_harness_spin_until (state_is_protected_cb, f->h.proxy, 30));

  /* The PAC file the desktop now uses is served by moatd and names it. */
  pac_url = g_strndup (pac + 1, strlen (pac) - 2);
  if (curl != NULL)
    {
      const char *argv[] = { "curl", "-sS", "--noproxy", "*", pac_url, NULL };

      g_spawn_sync (NULL, (char **) argv, NULL,
                    G_SPAWN_SEARCH_PATH, NULL, NULL, &pac_text, NULL, &status, &error);
      g_assert_no_error (error);
      g_assert_true (g_spawn_check_wait_status (status, NULL));
      g_assert_nonnull (strstr (pac_text, "FindProxyForURL"));
      g_assert_nonnull (strstr (pac_text, moat_dbus_moat1_get_proxy_address (f->h.proxy)));
    }

  moatctl_ok (f, "off", "This computer’s previous proxy settings are back.\n");
  wait_key (f, PROXY_GROUP, "mode", "'manual'");
  wait_key (f, PROXY_GROUP, "autoconfig-url", NULL);
  after = dump_proxy_groups (f);
  g_assert_cmpstr (after, ==, before);
  g_assert_cmpint (moat_harness_stop_moatd (&f->h, SIGTERM), ==, 0);
}

/* A clean exit restores; the next start points the desktop at Moat again
 * (the user still wants it); after a crash the next start finds the saved
 * settings and the final "off" still restores exactly what the user had. */
static void
test_exit_and_crash (Fixture *f, gconstpointer data)
{
  g_autofree char *before = NULL;
  g_autofree char *after = NULL;
  g_autofree char *pac = NULL;

  if (!f->ready)
    return;
  before = dump_proxy_groups (f);
  pac = start_moatd (f);
  moatctl_ok (f, "on", NULL);
  wait_key (f, PROXY_GROUP, "autoconfig-url", pac);

  g_assert_cmpint (moat_harness_stop_moatd (&f->h, SIGTERM), ==, 0);
  g_clear_pointer (&f->h.moatd, g_object_unref);
  after = dump_proxy_groups (f);
  g_assert_cmpstr (after, ==, before);
  g_clear_pointer (&after, g_free);
  {
    g_autofree char *protect = read_key (f, MOAT_GROUP, "protect-computer");

    g_assert_cmpstr (protect, ==, "true");
  }

  g_free (pac);
  pac = start_moatd (f);
  wait_key (f, PROXY_GROUP, "autoconfig-url", pac);
  moat_harness_stop_moatd (&f->h, SIGKILL);
  g_clear_pointer (&f->h.moatd, g_object_unref);
  /* Crashed: the desktop still points at the dead proxy. */
  {
    g_autofree char *mode = read_key (f, PROXY_GROUP, "mode");

    g_assert_cmpstr (mode, ==, "'auto'");
  }

  g_free (pac);
  pac = start_moatd (f);
  wait_key (f, PROXY_GROUP, "autoconfig-url", pac);
  moatctl_ok (f, "off", NULL);
  wait_key (f, PROXY_GROUP, "mode", "'manual'");
  after = dump_proxy_groups (f);
  g_assert_cmpstr (after, ==, before);
  g_assert_cmpint (moat_harness_stop_moatd (&f->h, SIGTERM), ==, 0);
}

int
main (int argc, char *argv[])
{
  /* Before anything touches GSettings: moatd, moatctl and the test share one
   * keyfile under the harness's XDG_CONFIG_HOME. */
  g_setenv ("GSETTINGS_BACKEND", "keyfile", TRUE);
  g_test_init (&argc, &argv, NULL);

  g_test_add ("/moat/protect/on-off", Fixture, NULL, fixture_set_up, test_on_off,
              fixture_tear_down);
  g_test_add ("/moat/protect/exit-and-crash", Fixture, NULL, fixture_set_up,
              test_exit_and_crash, fixture_tear_down);
  return g_test_run ();
}
