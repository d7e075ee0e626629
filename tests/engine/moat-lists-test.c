/* SPDX-License-Identifier: GPL-3.0-or-later
 * Copyright 2026 The Moat developers
 */
#include "config.h"

#include "moat-error.h"
#include "moat-lists.h"
#include "moat-test-utils.h"

#include <glib/gstdio.h>
#include <libsoup/soup.h>
#include <string.h>

typedef struct {
  char       *dir;
  char       *assets;
  GSettings  *settings;
  MoatLists  *lists;
  guint       changed;
} Fixture;

static void
write_file (const char *dir, const char *name, const char *text)
{
  g_autofree char *path = g_build_filename (dir, name, NULL);
  g_autofree char *parent = g_path_get_dirname (path);
  g_autoptr(GError) error = NULL;

  g_assert_cmpint (g_mkdir_with_parents (parent, 0700), ==, 0);
  g_file_set_contents (path, text, -1, &error);
  g_assert_no_error (error);
}

static void
on_changed_cb (MoatLists *lists, Fixture *fixture)
{
  fixture->changed++;
}

/* A small stand-in for Debian's uBlock Origin assets, so the test knows every
 * line number. */
static void
fixture_set_up (Fixture *fixture, gconstpointer data)
{
  g_autoptr(GError) error = NULL;

  fixture->dir = g_dir_make_tmp ("moat-lists-test-XXXXXX", &error);
  g_assert_no_error (error);
  fixture->assets = g_build_filename (fixture->dir, "assets", NULL);
  write_file (fixture->assets, "thirdparties/easylist/easylist.txt",
              "! EasyList\n||ads.example^\n##.banner\n||bad$thirdpartyy\n/banner/ad.js\n");
  write_file (fixture->assets, "thirdparties/easylist/easyprivacy.txt",
              "! EasyPrivacy\n||tracker.example^$third-party\n");
  write_file (fixture->assets, "thirdparties/urlhaus-filter/urlhaus-filter-online.txt",
              "! URLhaus\n||malware.example^\n");
  /* ublock/badware.min.txt is missing on purpose. */

  fixture->settings = g_settings_new ("io.github.moatproject.Moat");
  fixture->lists = moat_lists_new (fixture->settings, fixture->dir);
  moat_lists_set_assets_dir (fixture->lists, fixture->assets);
  g_signal_connect (fixture->lists, "changed", G_CALLBACK (on_changed_cb), fixture);
}

static void
fixture_tear_down (Fixture *fixture, gconstpointer data)
{
  g_clear_object (&fixture->lists);
  g_settings_reset (fixture->settings, "enabled-categories");
  g_settings_reset (fixture->settings, "disabled-lists");
  g_settings_reset (fixture->settings, "subscriptions");
  g_settings_reset (fixture->settings, "list-files");
  g_settings_reset (fixture->settings, "user-allowed-hosts");
  g_settings_reset (fixture->settings, "user-blocked-hosts");
  g_settings_reset (fixture->settings, "protected-resources");
  g_clear_object (&fixture->settings);
  moat_test_remove_tree (fixture->dir);
  g_free (fixture->assets);
  g_free (fixture->dir);
}

static void
load (Fixture *fixture)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;

  moat_lists_load_async (fixture->lists, NULL, moat_test_result_cb, &result);
  moat_test_wait_result (&result);
  g_assert_true (moat_lists_load_finish (fixture->lists, result, &error));
  g_assert_no_error (error);
}

static gboolean
generation_past (gpointer data)
{
  gpointer *args = data;

  return moat_lists_get_generation (args[0]) > GPOINTER_TO_UINT (args[1]);
}

/* Waits for the reload a settings change schedules. */
static void
wait_reload (Fixture *fixture, guint64 generation)
{
  gpointer args[2] = { fixture->lists, GUINT_TO_POINTER ((guint) generation) };

  moat_test_wait_until (generation_past, args);
}

static MoatListInfo *
find_info (GPtrArray *infos, const char *id)
{
  for (guint i = 0; i < infos->len; i++)
    if (g_str_equal (((MoatListInfo *) g_ptr_array_index (infos, i))->id, id))
      return g_ptr_array_index (infos, i);
  return NULL;
}

static void
assert_check (Fixture           *fixture,
              const char        *target,
              MoatFilterVerdict  verdict,
              const char        *list_id,
              const char        *rule,
              guint              line)
{
  MoatListCheck check;
  g_autoptr(GError) error = NULL;

  g_assert_true (moat_lists_check (fixture->lists, target, &check, &error));
  g_assert_no_error (error);
  g_assert_cmpint (check.verdict, ==, verdict);
  g_assert_cmpstr (check.list_id, ==, list_id);
  g_assert_cmpstr (check.rule, ==, rule);
  g_assert_cmpuint (check.line, ==, line);
  moat_list_check_clear (&check);
}

static void
test_defaults (Fixture *fixture, gconstpointer data)
{
  g_autoptr(GPtrArray) infos = NULL;
  MoatListInfo *info;

  load (fixture);
  g_assert_cmpuint (fixture->changed, ==, 1);
  infos = moat_lists_dup_infos (fixture->lists);

  info = find_info (infos, "easylist");
  g_assert_nonnull (info);
  g_assert_true (info->enabled);
  g_assert_true (info->loaded);
  g_assert_cmpint (info->category, ==, MOAT_FILTER_CATEGORY_ADS);
  g_assert_cmpint (info->kind, ==, MOAT_LIST_KIND_SYSTEM);
  g_assert_cmpuint (info->n_rules, ==, 2);
  g_assert_cmpuint (info->n_bad_lines, ==, 1);
  g_assert_cmpuint (info->bad_lines->len, ==, 1);
  g_assert_cmpuint (g_array_index (info->bad_lines, guint32, 0), ==, 4);
  g_assert_cmpint (info->updated, >, 0);
  g_assert_null (info->error);

  /* A missing file is an error of that list only. */
  info = find_info (infos, "ublock-badware");
  g_assert_nonnull (info);
  g_assert_true (info->enabled);
  g_assert_false (info->loaded);
  g_assert_nonnull (info->error);
  g_assert_nonnull (strstr (info->error, "badware.min.txt"));

  info = find_info (infos, "moat-phishing");
  g_assert_nonnull (info);
  g_assert_cmpint (info->kind, ==, MOAT_LIST_KIND_BUILT_IN);
  g_assert_true (info->loaded);

  assert_check (fixture, "ads.example", MOAT_FILTER_VERDICT_BLOCK, "easylist", "||ads.example^", 2);
  assert_check (fixture, "http://x.malware.example/path?q", MOAT_FILTER_VERDICT_BLOCK,
                "urlhaus", "||malware.example^", 2);
  assert_check (fixture, "INTERNETBADGUYS.COM.", MOAT_FILTER_VERDICT_BLOCK, "moat-phishing",
                "||internetbadguys.com^", 5);
  assert_check (fixture, "examplebotnetdomain.com", MOAT_FILTER_VERDICT_BLOCK, "moat-c2",
                "||examplebotnetdomain.com^", 5);
  assert_check (fixture, "example.org", MOAT_FILTER_VERDICT_NONE, NULL, NULL, 0);
  /* A plain-HTTP URL is matched whole; a host alone cannot match a path rule. */
  assert_check (fixture, "http://cdn.example.org/banner/ad.js", MOAT_FILTER_VERDICT_BLOCK,
                "easylist", "/banner/ad.js", 5);
  assert_check (fixture, "cdn.example.org", MOAT_FILTER_VERDICT_NONE, NULL, NULL, 0);
}

static void
test_user_hosts (Fixture *fixture, gconstpointer data)
{
  g_autofree char *normalized = NULL;
  g_autoptr(GError) error = NULL;
  guint64 generation;

  load (fixture);
  generation = moat_lists_get_generation (fixture->lists);
  g_assert_true (moat_lists_add_user_host (fixture->lists, "Example.COM.", FALSE, &normalized, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (normalized, ==, "example.com");
  wait_reload (fixture, generation);
  assert_check (fixture, "www.example.com", MOAT_FILTER_VERDICT_BLOCK, "user-block", "example.com", 1);

  /* Allowing moves it to the other list, and the user's allow beats a list. */
  generation = moat_lists_get_generation (fixture->lists);
  g_assert_true (moat_lists_add_user_host (fixture->lists, "example.com", TRUE, NULL, &error));
  g_assert_true (moat_lists_add_user_host (fixture->lists, "ads.example", TRUE, NULL, &error));
  g_assert_no_error (error);
  wait_reload (fixture, generation);
  assert_check (fixture, "www.example.com", MOAT_FILTER_VERDICT_ALLOW, "user-allow", "example.com", 1);
  assert_check (fixture, "ads.example", MOAT_FILTER_VERDICT_ALLOW, "user-allow", "ads.example", 2);
  {
    g_auto(GStrv) blocked = g_settings_get_strv (fixture->settings, "user-blocked-hosts");

    g_assert_cmpuint (g_strv_length (blocked), ==, 0);
  }

  g_assert_false (moat_lists_add_user_host (fixture->lists, "exa mple.com", TRUE, NULL, &error));
  g_assert_error (error, MOAT_ERROR, MOAT_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);

  generation = moat_lists_get_generation (fixture->lists);
  g_assert_true (moat_lists_remove_user_host (fixture->lists, "ADS.example", TRUE, &error));
  g_assert_no_error (error);
  wait_reload (fixture, generation);
  assert_check (fixture, "ads.example", MOAT_FILTER_VERDICT_BLOCK, "easylist", "||ads.example^", 2);
  g_assert_false (moat_lists_remove_user_host (fixture->lists, "ads.example", TRUE, &error));
  g_assert_error (error, MOAT_ERROR, MOAT_ERROR_NOT_FOUND);
}

static void
test_switches (Fixture *fixture, gconstpointer data)
{
  g_autoptr(GPtrArray) infos = NULL;
  g_autoptr(GError) error = NULL;
  guint64 generation;

  load (fixture);
  generation = moat_lists_get_generation (fixture->lists);
  g_assert_true (moat_lists_set_category_enabled (fixture->lists, MOAT_FILTER_CATEGORY_PHISHING, FALSE));
  g_assert_true (moat_lists_set_enabled (fixture->lists, "easylist", FALSE, &error));
  g_assert_no_error (error);
  wait_reload (fixture, generation);
  assert_check (fixture, "internetbadguys.com", MOAT_FILTER_VERDICT_NONE, NULL, NULL, 0);
  assert_check (fixture, "ads.example", MOAT_FILTER_VERDICT_NONE, NULL, NULL, 0);
  infos = moat_lists_dup_infos (fixture->lists);
  g_assert_false (find_info (infos, "moat-phishing")->enabled);
  g_assert_false (find_info (infos, "easylist")->enabled);
  g_assert_true (find_info (infos, "easyprivacy")->enabled);

  g_assert_false (moat_lists_set_enabled (fixture->lists, "no-such-list", FALSE, &error));
  g_assert_error (error, MOAT_ERROR, MOAT_ERROR_NOT_FOUND);
  g_clear_error (&error);
  g_assert_false (moat_lists_remove (fixture->lists, "easylist", &error));
  g_assert_error (error, MOAT_ERROR, MOAT_ERROR_NOT_SUPPORTED);
}

static void
test_files (Fixture *fixture, gconstpointer data)
{
  g_autofree char *path = g_build_filename (fixture->dir, "mine.txt", NULL);
  g_autofree char *id = NULL;
  g_autofree char *sub_id = NULL;
  g_autoptr(GPtrArray) infos = NULL;
  g_autoptr(GError) error = NULL;
  MoatListInfo *info;
  guint64 generation;
  /* Binary garbage, a huge line and a good rule on line 4. */
  g_autofree char *huge = g_strnfill (100000, 'x');
  g_autofree char *text = g_strdup_printf ("\x01\x02\xff\xfe\n%s\n||bad$unknownoption\n"
                                           "||gambling.example^\n", huge);

  load (fixture);
  write_file (fixture->dir, "mine.txt", text);
  generation = moat_lists_get_generation (fixture->lists);
  id = moat_lists_add (fixture->lists, path, MOAT_FILTER_CATEGORY_GAMBLING, "My list", &error);
  g_assert_no_error (error);
  g_assert_true (g_str_has_prefix (id, "file-"));
  g_assert_true (moat_lists_set_category_enabled (fixture->lists, MOAT_FILTER_CATEGORY_GAMBLING, TRUE));
  wait_reload (fixture, generation);
  assert_check (fixture, "gambling.example", MOAT_FILTER_VERDICT_BLOCK, id, "||gambling.example^", 4);
  infos = moat_lists_dup_infos (fixture->lists);
  info = find_info (infos, id);
  g_assert_nonnull (info);
  g_assert_cmpstr (info->name, ==, "My list");
  g_assert_cmpint (info->kind, ==, MOAT_LIST_KIND_FILE);
  g_assert_cmpuint (info->n_bad_lines, >=, 2);

  /* Added twice, relative, or not a URL: refused. */
  g_assert_null (moat_lists_add (fixture->lists, path, MOAT_FILTER_CATEGORY_ADS, NULL, &error));
  g_assert_error (error, MOAT_ERROR, MOAT_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_assert_null (moat_lists_add (fixture->lists, "lists/mine.txt", MOAT_FILTER_CATEGORY_ADS, NULL, &error));
  g_assert_error (error, MOAT_ERROR, MOAT_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);

  /* A subscription that was never downloaded says so and loads nothing. */
  generation = moat_lists_get_generation (fixture->lists);
  sub_id = moat_lists_add (fixture->lists, "https://lists.example/block.txt",
                           MOAT_FILTER_CATEGORY_MALWARE, NULL, &error);
  g_assert_no_error (error);
  wait_reload (fixture, generation);
  g_clear_pointer (&infos, g_ptr_array_unref);
  infos = moat_lists_dup_infos (fixture->lists);
  info = find_info (infos, sub_id);
  g_assert_nonnull (info);
  g_assert_false (info->loaded);
  g_assert_nonnull (info->error);

  /* A directory is not a list. */
  generation = moat_lists_get_generation (fixture->lists);
  g_assert_true (moat_lists_remove (fixture->lists, id, &error));
  g_assert_no_error (error);
  g_clear_pointer (&id, g_free);
  id = moat_lists_add (fixture->lists, fixture->assets, MOAT_FILTER_CATEGORY_GAMBLING, NULL, &error);
  g_assert_no_error (error);
  wait_reload (fixture, generation);
  assert_check (fixture, "gambling.example", MOAT_FILTER_VERDICT_NONE, NULL, NULL, 0);
  g_clear_pointer (&infos, g_ptr_array_unref);
  infos = moat_lists_dup_infos (fixture->lists);
  info = find_info (infos, id);
  g_assert_nonnull (info);
  g_assert_false (info->loaded);
  g_assert_nonnull (info->error);
}

static void
test_command_line (Fixture *fixture, gconstpointer data)
{
  g_autofree char *path = g_build_filename (fixture->dir, "bench.txt", NULL);
  const char *files[] = { path, NULL };
  g_autoptr(GPtrArray) infos = NULL;

  write_file (fixture->dir, "bench.txt", "one.example\ntwo.example\n");
  moat_lists_set_command_line_files (fixture->lists, files);
  load (fixture);
  assert_check (fixture, "two.example", MOAT_FILTER_VERDICT_BLOCK, "command-line-1", "two.example", 2);
  /* Exactly the named files: nothing from the configured set. */
  assert_check (fixture, "internetbadguys.com", MOAT_FILTER_VERDICT_NONE, NULL, NULL, 0);
  infos = moat_lists_dup_infos (fixture->lists);
  g_assert_null (find_info (infos, "easylist"));
}

typedef struct {
  guint status;
  char *body;
  guint requests;
} Served;

static void
serve_cb (SoupServer        *server,
          SoupServerMessage *msg,
          const char        *path,
          GHashTable        *query,
          gpointer           user_data)
{
  Served *served = user_data;

  served->requests++;
  soup_server_message_set_status (msg, served->status, NULL);
  if (served->status == 200)
    soup_server_message_set_response (msg, "text/plain", SOUP_MEMORY_COPY, served->body,
                                      strlen (served->body));
}

static gboolean
info_has_error (gpointer data)
{
  gpointer *args = data;
  g_autoptr(GPtrArray) infos = moat_lists_dup_infos (args[0]);
  MoatListInfo *info = find_info (infos, args[1]);

  return info != NULL && info->error != NULL && info->loaded;
}

/* Subscriptions come from a local server only when updates are allowed; a
 * failed update keeps the last good copy in use and says so. */
static void
test_subscription (Fixture *fixture, gconstpointer data)
{
  g_autoptr(SoupServer) server = soup_server_new (NULL, NULL);
  Served served = { 200, g_strdup ("||subscribed.example^\n"), 0 };
  g_autoptr(GError) error = NULL;
  g_autofree char *url = NULL;
  g_autofree char *id = NULL;
  g_autoptr(GSList) uris = NULL;
  guint64 generation;
  gpointer args[2];

  soup_server_add_handler (server, "/list.txt", serve_cb, &served, NULL);
  soup_server_listen_local (server, 0, SOUP_SERVER_LISTEN_IPV4_ONLY, &error);
  g_assert_no_error (error);
  uris = soup_server_get_uris (server);
  url = g_strdup_printf ("http://127.0.0.1:%d/list.txt", g_uri_get_port (uris->data));
  g_slist_free_full (g_steal_pointer (&uris), (GDestroyNotify) g_uri_unref);

  load (fixture);
  moat_lists_start_updates (fixture->lists);
  generation = moat_lists_get_generation (fixture->lists);
  id = moat_lists_add (fixture->lists, url, MOAT_FILTER_CATEGORY_MALWARE, "Local", &error);
  g_assert_no_error (error);
  wait_reload (fixture, generation);
  /* Updates are off by default: nothing was fetched, and asking fails. */
  g_assert_cmpuint (served.requests, ==, 0);
  g_assert_cmpint (moat_lists_update (fixture->lists, &error), ==, -1);
  g_assert_error (error, MOAT_ERROR, MOAT_ERROR_PERMISSION_DENIED);
  g_clear_error (&error);
  assert_check (fixture, "subscribed.example", MOAT_FILTER_VERDICT_NONE, NULL, NULL, 0);

  g_settings_set_boolean (fixture->settings, "list-updates-allowed", TRUE);
  /* Fetched at once, then loaded. */
  {
    MoatListCheck check;

    for (;;)
      {
        g_assert_true (moat_lists_check (fixture->lists, "subscribed.example", &check, NULL));
        if (check.verdict == MOAT_FILTER_VERDICT_BLOCK)
          break;
        moat_list_check_clear (&check);
        g_main_context_iteration (NULL, TRUE);
      }
    g_assert_cmpstr (check.list_id, ==, id);
    g_assert_cmpstr (check.rule, ==, "||subscribed.example^");
    moat_list_check_clear (&check);
  }
  g_assert_cmpuint (served.requests, ==, 1);

  /* The server fails: the copy from before stays in use, with the reason. */
  served.status = 500;
  g_assert_cmpint (moat_lists_update (fixture->lists, &error), ==, 1);
  g_assert_no_error (error);
  args[0] = fixture->lists;
  args[1] = id;
  moat_test_wait_until (info_has_error, args);
  assert_check (fixture, "subscribed.example", MOAT_FILTER_VERDICT_BLOCK, id,
                "||subscribed.example^", 1);
  g_settings_reset (fixture->settings, "list-updates-allowed");
  g_free (served.body);
}

/* Protected resources are data for the policy: they never block. */
static void
test_protected_resources (Fixture *fixture, gconstpointer data)
{
  g_autofree char *normalized = NULL;
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) stored = NULL;
  MoatListCheck check;
  guint64 generation;

  load (fixture);
  g_assert_false (moat_lists_is_protected_resource (fixture->lists, "wiki.intranet.example.com"));
  generation = moat_lists_get_generation (fixture->lists);
  g_assert_true (moat_lists_add_protected_resource (fixture->lists, "Intranet.Example.COM.",
                                                    &normalized, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (normalized, ==, "intranet.example.com");
  wait_reload (fixture, generation);
  stored = moat_lists_dup_protected_resources (fixture->lists);
  g_assert_cmpuint (g_strv_length (stored), ==, 1);
  g_assert_cmpstr (stored[0], ==, "intranet.example.com");
  g_assert_true (moat_lists_is_protected_resource (fixture->lists, "wiki.intranet.example.com"));
  g_assert_false (moat_lists_is_protected_resource (fixture->lists, "example.com"));

  g_assert_true (moat_lists_check (fixture->lists, "https://wiki.intranet.example.com/", &check, &error));
  g_assert_no_error (error);
  g_assert_true (check.protected_resource);
  g_assert_cmpint (check.verdict, ==, MOAT_FILTER_VERDICT_NONE);
  moat_list_check_clear (&check);

  g_assert_false (moat_lists_add_protected_resource (fixture->lists, "not a host", NULL, &error));
  g_assert_error (error, MOAT_ERROR, MOAT_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);

  generation = moat_lists_get_generation (fixture->lists);
  g_assert_true (moat_lists_remove_protected_resource (fixture->lists, "intranet.example.com", &error));
  g_assert_no_error (error);
  wait_reload (fixture, generation);
  g_assert_false (moat_lists_is_protected_resource (fixture->lists, "wiki.intranet.example.com"));
  g_assert_false (moat_lists_remove_protected_resource (fixture->lists, "intranet.example.com", &error));
  g_assert_error (error, MOAT_ERROR, MOAT_ERROR_NOT_FOUND);
}

static void
test_check_errors (Fixture *fixture, gconstpointer data)
{
  MoatListCheck check;
  g_autoptr(GError) error = NULL;

  load (fixture);
  g_assert_false (moat_lists_check (fixture->lists, "", &check, &error));
  g_assert_error (error, MOAT_ERROR, MOAT_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_assert_false (moat_lists_check (fixture->lists, "http://", &check, &error));
  g_assert_error (error, MOAT_ERROR, MOAT_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_assert_false (moat_lists_check (fixture->lists, "bad host name", &check, &error));
  g_assert_error (error, MOAT_ERROR, MOAT_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  /* Userinfo does not hide the host. */
  assert_check (fixture, "http://allowed.example@ads.example/", MOAT_FILTER_VERDICT_BLOCK,
                "easylist", "||ads.example^", 2);
}

int
main (int argc, char *argv[])
{
  g_test_init (&argc, &argv, NULL);

#define ADD(path, func) \
  g_test_add (path, Fixture, NULL, fixture_set_up, func, fixture_tear_down)
  ADD ("/moat/lists/defaults", test_defaults);
  ADD ("/moat/lists/user-hosts", test_user_hosts);
  ADD ("/moat/lists/switches", test_switches);
  ADD ("/moat/lists/files", test_files);
  ADD ("/moat/lists/command-line", test_command_line);
  ADD ("/moat/lists/check-errors", test_check_errors);
  ADD ("/moat/lists/subscription", test_subscription);
  ADD ("/moat/lists/protected-resources", test_protected_resources);
#undef ADD

  return g_test_run ();
}
