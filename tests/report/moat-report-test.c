/* SPDX-License-Identifier: GPL-3.0-or-later
 * Copyright 2026 The Moat developers
 */
#define G_LOG_DOMAIN "moat-report-test"

#include "config.h"

#include "moat-error.h"
#include "moat-report.h"

#include <glib/gstdio.h>
#include <string.h>

/*
 * The report renderer on the models in tests/fixtures/report/: the structural
 * checks of moat_report_validate_model(), and each format written to a file
 * and checked by tests/report/check-report.py (HTML parsed, PDF rendered with
 * pdftoppm, JSON against the schema).
 */

/* With -Db_sanitize=address: what fontconfig parsed from its configuration
 * stays for the life of the process (tests/report/lsan.supp says the same for
 * moatctl in the integration test). */
const char *__lsan_default_suppressions (void);

const char *
__lsan_default_suppressions (void)
{
  return "leak:libfontconfig.so\n";
}

typedef struct {
  char     *tmpdir;
  JsonNode *model;
} Fixture;

static char *
fixture_path (const char *name)
{
  const char *root = g_getenv ("MOAT_SOURCE_ROOT");

  return g_build_filename (root != NULL ? root : ".", "tests", "fixtures", "report", name, NULL);
}

static JsonNode *
load_model (const char *name)
{
  g_autofree char *path = fixture_path (name);
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) error = NULL;

  json_parser_load_from_file (parser, path, &error);
  g_assert_no_error (error);
  return json_node_copy (json_parser_get_root (parser));
}

static void
fixture_set_up (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;

  f->tmpdir = g_dir_make_tmp ("moat-report-test-XXXXXX", &error);
  g_assert_no_error (error);
  f->model = data != NULL ? load_model (data) : NULL;
}

static void
remove_tree (const char *path)
{
  g_autoptr(GDir) dir = g_dir_open (path, 0, NULL);
  const char *name;

  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *child = g_build_filename (path, name, NULL);

      if (g_file_test (child, G_FILE_TEST_IS_DIR))
        remove_tree (child);
      else
        g_unlink (child);
    }
  g_rmdir (path);
}

static void
fixture_tear_down (Fixture *f, gconstpointer data)
{
  if (g_getenv ("MOAT_KEEP_TMP") == NULL)
    remove_tree (f->tmpdir);
  else
    g_test_message ("kept %s", f->tmpdir);
  g_free (f->tmpdir);
  g_clear_pointer (&f->model, json_node_unref);
}

/* Writes @model in @format to a file in the fixture's folder. */
static char *
render (Fixture *f, JsonNode *model, MoatReportFormat format, const char *stem)
{
  g_autofree char *name = g_strdup_printf ("%s.%s", stem, moat_report_format_to_string (format));
  char *path = g_build_filename (f->tmpdir, name, NULL);
  g_autoptr(GFile) file = g_file_new_for_path (path);
  g_autoptr(GError) error = NULL;
  g_autoptr(GFileOutputStream) out = g_file_replace (file, NULL, FALSE, G_FILE_CREATE_NONE,
                                                     NULL, &error);

  g_assert_no_error (error);
  g_assert_true (moat_report_write (model, format, G_OUTPUT_STREAM (out), &error));
  g_assert_no_error (error);
  g_assert_true (g_output_stream_close (G_OUTPUT_STREAM (out), NULL, &error));
  g_assert_no_error (error);
  return path;
}

/* Runs check-report.py; FALSE when a tool it needs is missing (the test skips). */
static gboolean
check (const char *path, const char *format, const char * const *extra)
{
  const char *root = g_getenv ("MOAT_SOURCE_ROOT");
  g_autofree char *script = g_build_filename (root != NULL ? root : ".", "tests", "report",
                                              "check-report.py", NULL);
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_autoptr(GError) error = NULL;
  int status = 0;

  if (!g_file_test ("/usr/bin/python3", G_FILE_TEST_IS_EXECUTABLE))
    {
      g_test_skip ("needs /usr/bin/python3");
      return FALSE;
    }
  g_ptr_array_add (argv, (gpointer) "/usr/bin/python3");
  g_ptr_array_add (argv, script);
  g_ptr_array_add (argv, (gpointer) "--format");
  g_ptr_array_add (argv, (gpointer) format);
  g_ptr_array_add (argv, (gpointer) path);
  for (guint i = 0; extra != NULL && extra[i] != NULL; i++)
    g_ptr_array_add (argv, (gpointer) extra[i]);
  g_ptr_array_add (argv, NULL);

  g_spawn_sync (NULL, (char **) argv->pdata, NULL, G_SPAWN_DEFAULT, NULL, NULL, &out, &err,
                &status, &error);
  g_assert_no_error (error);
  if (out != NULL && out[0] != '\0')
    g_test_message ("%s", g_strchomp (out));
  if (WIFEXITED (status) && WEXITSTATUS (status) == 77)
    {
      g_test_skip (out);
      return FALSE;
    }
  if (!g_spawn_check_wait_status (status, &error))
    g_test_message ("check-report.py: %s %s", out, err);
  g_assert_no_error (error);
  return TRUE;
}

/* ---- validation ---- */

static void
test_validate_fixtures (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;

  g_assert_true (moat_report_validate_model (f->model, &error));
  g_assert_no_error (error);
}

static JsonObject *
member_object (JsonNode *model, const char *path)
{
  g_auto(GStrv) parts = g_strsplit (path, "/", -1);
  JsonNode *node = model;

  for (guint i = 0; parts[i] != NULL; i++)
    {
      if (JSON_NODE_HOLDS_ARRAY (node))
        node = json_array_get_element (json_node_get_array (node),
                                       (guint) g_ascii_strtoull (parts[i], NULL, 10));
      else
        node = json_object_get_member (json_node_get_object (node), parts[i]);
      g_assert_nonnull (node);
    }
  return json_node_get_object (node);
}

typedef struct {
  const char *object;   /* "/"-separated path to the object to change, "" for the root */
  const char *member;
  const char *json;     /* its new value, or NULL to remove it */
  const char *message;  /* what the error says */
} Mutation;

static void
test_validate_errors (Fixture *f, gconstpointer data)
{
  static const Mutation mutations[] = {
    { "", "host", NULL, "host is missing" },
    { "", "host", "42", "host is not a UTF-8 string" },
    { "", "report", "\"other-report\"", "report is not \"moat-helpdesk-report\"" },
    { "", "schema_version", "2", "schema_version is not 1" },
    { "", "included", "[\"computer\",\"phones\",\"threats\",\"actions\",\"health\",\"wifi\"]",
      "included[5] is not a section" },
    { "", "included", "[\"computer\",\"computer\"]", "included[1] is there twice" },
    { "", "included", "[\"computer\",\"phones\",\"threats\",\"health\"]",
      "actions is present but not listed in included" },
    { "", "actions", NULL, "actions is listed in included but missing" },
    { "window", "since", "true", "window.since is not a UTF-8 string" },
    { "summary", "health_level", "\"2\"", "summary.health_level is not an integer" },
    { "phones/devices/0", "routing", "\"yes\"", "phones.devices[0].routing is not true or false" },
    { "phones/devices/0/findings/1", "evidence", "\"{}\"",
      "phones.devices[0].findings[1].evidence is not an object" },
    { "phones/devices/0/findings/1", "fix", "[\"a\", 1]",
      "phones.devices[0].findings[1].fix[1] is not a UTF-8 string" },
    { "computer/items/2", "steps", NULL, "computer.items[2].steps is missing" },
    { "threats", "events", "[1]", "threats.events[0] is not an object" },
    { "actions/events/1", "id", "\"41\"", "actions.events[1].id is not an integer" },
    { "health", "items", "{}", "health.items is not an array" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (mutations); i++)
    {
      const Mutation *m = &mutations[i];
      g_autoptr(JsonNode) model = load_model ("full.json");
      JsonObject *object = m->object[0] != '\0' ? member_object (model, m->object)
                                                : json_node_get_object (model);
      g_autoptr(GError) error = NULL;
      g_autofree char *expected = g_strdup_printf ("Report model: %s", m->message);
      g_autoptr(GOutputStream) out = g_memory_output_stream_new_resizable ();

      if (m->json == NULL)
        json_object_remove_member (object, m->member);
      else
        json_object_set_member (object, m->member, json_from_string (m->json, NULL));
      g_test_message ("%s.%s", m->object, m->member);
      g_assert_false (moat_report_validate_model (model, &error));
      g_assert_error (error, MOAT_ERROR, MOAT_ERROR_INVALID_ARGUMENT);
      g_assert_cmpstr (error->message, ==, expected);
      g_clear_error (&error);
      /* Writing refuses it the same way, and writes nothing. */
      g_assert_false (moat_report_write (model, MOAT_REPORT_FORMAT_HTML, out, &error));
      g_assert_error (error, MOAT_ERROR, MOAT_ERROR_INVALID_ARGUMENT);
      g_assert_cmpuint (g_memory_output_stream_get_data_size (G_MEMORY_OUTPUT_STREAM (out)), ==, 0);
    }
}

static void
test_validate_not_object (Fixture *f, gconstpointer data)
{
  g_autoptr(JsonNode) array = json_from_string ("[]", NULL);
  g_autoptr(GError) error = NULL;

  g_assert_false (moat_report_validate_model (array, &error));
  g_assert_error (error, MOAT_ERROR, MOAT_ERROR_INVALID_ARGUMENT);
  g_assert_cmpstr (error->message, ==, "Report model: the root is not an object");
  g_clear_error (&error);
  g_assert_false (moat_report_validate_model (NULL, &error));
  g_assert_error (error, MOAT_ERROR, MOAT_ERROR_INVALID_ARGUMENT);
}

static void
test_validate_bad_utf8 (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;

  /* A model built in C can hold bytes a parser would refuse. */
  json_object_set_string_member (json_node_get_object (f->model), "policy", "bad \xff\xfe");
  g_assert_false (moat_report_validate_model (f->model, &error));
  g_assert_error (error, MOAT_ERROR, MOAT_ERROR_INVALID_ARGUMENT);
  g_assert_cmpstr (error->message, ==, "Report model: policy is not a UTF-8 string");
}

static void
test_format_names (void)
{
  MoatReportFormat format = MOAT_REPORT_FORMAT_JSON;

  g_assert_true (moat_report_format_from_string ("pdf", &format));
  g_assert_cmpint (format, ==, MOAT_REPORT_FORMAT_PDF);
  g_assert_true (moat_report_format_from_string ("html", &format));
  g_assert_cmpint (format, ==, MOAT_REPORT_FORMAT_HTML);
  g_assert_true (moat_report_format_from_string ("json", &format));
  g_assert_cmpint (format, ==, MOAT_REPORT_FORMAT_JSON);
  g_assert_false (moat_report_format_from_string ("PDF", &format));
  g_assert_false (moat_report_format_from_string ("", &format));
  g_assert_false (moat_report_format_from_string (NULL, &format));
  g_assert_cmpstr (moat_report_format_to_string (MOAT_REPORT_FORMAT_HTML), ==, "html");
}

/* ---- rendering ---- */

static char *
render_to_string (JsonNode *model, MoatReportFormat format)
{
  g_autoptr(GOutputStream) out = g_memory_output_stream_new_resizable ();
  g_autoptr(GError) error = NULL;

  g_assert_true (moat_report_write (model, format, out, &error));
  g_assert_no_error (error);
  g_assert_true (g_output_stream_write_all (out, "", 1, NULL, NULL, &error));
  g_assert_true (g_output_stream_close (out, NULL, &error));
  return g_memory_output_stream_steal_data (G_MEMORY_OUTPUT_STREAM (out));
}

static void
test_html_escaped (Fixture *f, gconstpointer data)
{
  g_autofree char *html = render_to_string (f->model, MOAT_REPORT_FORMAT_HTML);

  g_assert_null (strstr (html, "<script"));
  g_assert_null (strstr (html, "<img"));
  g_assert_nonnull (strstr (html, "&lt;script&gt;alert(&quot;pwned&quot;)&lt;/script&gt;"));
  g_assert_nonnull (strstr (html, "&lt;/style&gt;&lt;img src=x onerror=alert(1)&gt;"));
  g_assert_nonnull (strstr (html, "He said &quot;hi&quot; &amp; it&#39;s &lt;b&gt;bold&lt;/b&gt;"));
  g_assert_nonnull (strstr (html, "<dt>Problems to fix</dt><dd><bdi>3 on this computer, "
                                  "2 on phones</bdi></dd>"));
  /* Right-to-left text is isolated from what is around it, and in evidence
   * a bidi override shows as its escape. */
  g_assert_nonnull (strstr (html, "<bdi>\u202e"));
  g_assert_nonnull (strstr (html, "&quot;label&quot; : &quot;\\u202eevil.apk\\u202c "));
  /* Problems first, worst first: critical SSH before high encryption before
   * the unknown firewall before the healthy screen lock. */
  {
    const char *ssh = strstr (html, "SSH server");
    const char *disk = strstr (html, "Disk encryption");
    const char *firewall = strstr (html, "<bdi>Firewall");
    const char *lock = strstr (html, "<bdi>Screen lock");

    g_assert_nonnull (ssh);
    g_assert_true (ssh < disk && disk < firewall && firewall < lock);
  }
}

static void
test_json_is_model (Fixture *f, gconstpointer data)
{
  g_autofree char *text = render_to_string (f->model, MOAT_REPORT_FORMAT_JSON);
  g_autoptr(JsonNode) again = json_from_string (text, NULL);

  g_assert_nonnull (again);
  g_assert_true (json_node_equal (again, f->model));
}

static void
test_render_full (Fixture *f, gconstpointer data)
{
  const char *sections[] = { "--hostile", "--sections", MOAT_REPORT_SECTIONS, NULL };
  const char *pdf_args[] = { "--hostile", "--min-pages", "3", NULL };
  g_autofree char *json = render (f, f->model, MOAT_REPORT_FORMAT_JSON, "full");
  g_autofree char *html = render (f, f->model, MOAT_REPORT_FORMAT_HTML, "full");
  g_autofree char *pdf = render (f, f->model, MOAT_REPORT_FORMAT_PDF, "full");
  const char *png_dir = g_getenv ("MOAT_REPORT_PNG_DIR");
  const char *png_args[] = { "--png-dir", png_dir, NULL };

  if (!check (json, "json", sections) || !check (html, "html", sections) ||
      !check (pdf, "pdf", pdf_args))
    return;
  if (png_dir != NULL)
    check (pdf, "pdf", png_args);
}

static void
test_render_empty (Fixture *f, gconstpointer data)
{
  const char *json_args[] = { "--sections", "", NULL };
  const char *pdf_args[] = { "--pages", "1", NULL };
  g_autofree char *json = render (f, f->model, MOAT_REPORT_FORMAT_JSON, "empty");
  g_autofree char *html = render (f, f->model, MOAT_REPORT_FORMAT_HTML, "empty");
  g_autofree char *pdf = render (f, f->model, MOAT_REPORT_FORMAT_PDF, "empty");

  if (!check (json, "json", json_args) || !check (html, "html", json_args))
    return;
  check (pdf, "pdf", pdf_args);
}

static void
test_render_no_health (Fixture *f, gconstpointer data)
{
  const char *args[] = { "--sections", "computer,phones,health", NULL };
  g_autofree char *json = render (f, f->model, MOAT_REPORT_FORMAT_JSON, "no-health");
  g_autofree char *html = render (f, f->model, MOAT_REPORT_FORMAT_HTML, "no-health");
  g_autofree char *pdf = render (f, f->model, MOAT_REPORT_FORMAT_PDF, "no-health");
  g_autofree char *text = render_to_string (f->model, MOAT_REPORT_FORMAT_HTML);

  g_assert_nonnull (strstr (text, "Health checks were not available: moatd does not check "
                                  "health yet"));
  if (!check (json, "json", args) || !check (html, "html", args))
    return;
  check (pdf, "pdf", NULL);
}

/* Many long findings flow over many pages; every page is numbered "of M". */
static void
test_render_many_pages (Fixture *f, gconstpointer data)
{
  JsonObject *phone = member_object (f->model, "phones/devices/0");
  JsonArray *findings = json_object_get_array_member (phone, "findings");
  g_autofree char *pdf = NULL;
  const char *args[] = { "--min-pages", "12", "--keep-with", "Finding number=Why it matters",
                         NULL };

  /* Titles of one line and of three, so that some land at a page's foot. */
  for (guint i = 0; i < 60; i++)
    {
      JsonNode *copy = json_node_copy (json_array_get_element (findings, 1));
      g_autofree char *title = g_strdup_printf ("Finding number %u%s", i,
                                                i % 3 == 0 ? "" : ": an app reads the screen "
                                                "and everything typed on it, every password, "
                                                "message and code, and sends it away");

      json_object_set_string_member (json_node_get_object (copy), "summary", title);
      json_array_add_element (findings, copy);
    }
  pdf = render (f, f->model, MOAT_REPORT_FORMAT_PDF, "many");
  check (pdf, "pdf", args);
}

static void
test_write_error (Fixture *f, gconstpointer data)
{
  g_autoptr(GOutputStream) out = g_memory_output_stream_new_resizable ();
  g_autoptr(GError) error = NULL;

  g_assert_true (g_output_stream_close (out, NULL, NULL));
  for (MoatReportFormat format = MOAT_REPORT_FORMAT_JSON; format <= MOAT_REPORT_FORMAT_PDF;
       format++)
    {
      g_assert_false (moat_report_write (f->model, format, out, &error));
      g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CLOSED);
      g_clear_error (&error);
    }
}

static void
write_async_cb (GObject *object, GAsyncResult *result, gpointer user_data)
{
  GAsyncResult **out = user_data;

  *out = g_object_ref (result);
}

static gboolean
write_async (JsonNode *model, MoatReportFormat format, GOutputStream *out, GError **error)
{
  g_autoptr(GAsyncResult) result = NULL;

  moat_report_write_async (model, format, out, NULL, write_async_cb, &result);
  while (result == NULL)
    g_main_context_iteration (NULL, TRUE);
  return moat_report_write_finish (result, error);
}

/* The worker thread writes what moat_report_write() writes, and refuses the same. */
static void
test_write_async (Fixture *f, gconstpointer data)
{
  g_autofree char *html = render_to_string (f->model, MOAT_REPORT_FORMAT_HTML);
  g_autoptr(GOutputStream) out = g_memory_output_stream_new_resizable ();
  g_autoptr(GOutputStream) pdf = g_memory_output_stream_new_resizable ();
  g_autoptr(GOutputStream) bad_out = g_memory_output_stream_new_resizable ();
  g_autoptr(JsonNode) bad = json_from_string ("{}", NULL);
  g_autoptr(GError) error = NULL;

  g_assert_true (write_async (f->model, MOAT_REPORT_FORMAT_HTML, out, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (g_memory_output_stream_get_data_size (G_MEMORY_OUTPUT_STREAM (out)), ==,
                    strlen (html));
  g_assert_cmpint (memcmp (g_memory_output_stream_get_data (G_MEMORY_OUTPUT_STREAM (out)), html,
                           strlen (html)), ==, 0);
  g_assert_true (write_async (f->model, MOAT_REPORT_FORMAT_PDF, pdf, &error));
  g_assert_no_error (error);
  g_assert_cmpint (memcmp (g_memory_output_stream_get_data (G_MEMORY_OUTPUT_STREAM (pdf)),
                           "%PDF-", 5), ==, 0);
  g_assert_false (write_async (bad, MOAT_REPORT_FORMAT_JSON, bad_out, &error));
  g_assert_error (error, MOAT_ERROR, MOAT_ERROR_INVALID_ARGUMENT);
}

int
main (int argc, char *argv[])
{
  g_test_init (&argc, &argv, NULL);

#define ADD(path, model, func) \
  g_test_add (path, Fixture, model, fixture_set_up, func, fixture_tear_down)

  ADD ("/moat/report/validate/full", "full.json", test_validate_fixtures);
  ADD ("/moat/report/validate/empty", "empty.json", test_validate_fixtures);
  ADD ("/moat/report/validate/no-health", "no-health.json", test_validate_fixtures);
  ADD ("/moat/report/validate/errors", NULL, test_validate_errors);
  ADD ("/moat/report/validate/not-object", NULL, test_validate_not_object);
  ADD ("/moat/report/validate/bad-utf8", "full.json", test_validate_bad_utf8);
  g_test_add_func ("/moat/report/format-names", test_format_names);
  ADD ("/moat/report/html/escaped", "full.json", test_html_escaped);
  ADD ("/moat/report/json/is-model", "full.json", test_json_is_model);
  ADD ("/moat/report/render/full", "full.json", test_render_full);
  ADD ("/moat/report/render/empty", "empty.json", test_render_empty);
  ADD ("/moat/report/render/no-health", "no-health.json", test_render_no_health);
  ADD ("/moat/report/render/many-pages", "full.json", test_render_many_pages);
  ADD ("/moat/report/write-error", "full.json", test_write_error);
  ADD ("/moat/report/write-async", "full.json", test_write_async);

  return g_test_run ();
}
