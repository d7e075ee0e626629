/* SPDX-License-Identifier: GPL-3.0-or-later
 * Copyright 2026 The Moat developers
 *
 * The HTTP probe against a SoupServer on 127.0.0.1 that answers honestly,
 * strips the HTTPS redirect, injects a script, acts as a captive portal or
 * never answers.
 */
#include "config.h"

#include <json-glib/json-glib.h>
#include <libsoup/soup.h>
#include <string.h>

#include "moat-error.h"
#include "moat-http-probe.h"

#define PAGE     "<html><head><title>Moat</title></head><body>hello</body></html>\n"
#define INJECTED "<html><head><title>Moat</title></head><body>hello" \
                 "<script src=\"http://evil.test/x.js\"></script></body></html>\n"
#define PORTAL   "<html><body><form action=\"/login\"><input type=\"password\"></form></body></html>"

typedef enum {
  MODE_CLEAN,
  MODE_STRIP,
  MODE_DOWNGRADE,
  MODE_INJECT,
  MODE_PORTAL_REDIRECT,
  MODE_PORTAL_PAGE,
} Mode;

typedef struct {
  SoupServer           *server;
  guint                 port;
  Mode                  mode;
  guint                 requests;
  GPtrArray            *paused;      /* SoupServerMessage, never answered */
  MoatHttpProbeOptions *options;
  GPtrArray            *findings;
  GError               *error;
  gboolean              done;
  char                 *base;        /* "http://127.0.0.1:PORT" */
} Fixture;

static void
handle_cb (SoupServer        *server,
           SoupServerMessage *msg,
           const char        *path,
           GHashTable        *query,
           gpointer           user_data)
{
  Fixture *fixture = user_data;
  SoupMessageHeaders *headers = soup_server_message_get_response_headers (msg);

  fixture->requests++;
  g_assert_null (soup_message_headers_get_one (soup_server_message_get_request_headers (msg),
                                               "Accept-Encoding"));

  if (fixture->mode == MODE_PORTAL_REDIRECT)
    {
      soup_server_message_set_redirect (msg, 302, "http://portal.hotel.test/login?from=moat");
      return;
    }
  if (strcmp (path, "/check") == 0)
    {
      if (fixture->mode == MODE_PORTAL_PAGE)
        soup_server_message_set_response (msg, "text/html", SOUP_MEMORY_STATIC,
                                          PORTAL, strlen (PORTAL));
      soup_server_message_set_status (msg, fixture->mode == MODE_PORTAL_PAGE ? 200 : 204, NULL);
    }
  else if (strcmp (path, "/login") == 0)
    {
      if (fixture->mode == MODE_STRIP)
        {
          soup_server_message_set_response (msg, "text/html", SOUP_MEMORY_STATIC,
                                            PAGE, strlen (PAGE));
          soup_server_message_set_status (msg, 200, NULL);
        }
      else if (fixture->mode == MODE_DOWNGRADE)
        {
          g_autofree char *to = g_strdup_printf ("%s/login/secure", fixture->base);

          soup_server_message_set_redirect (msg, 301, to);
        }
      else
        soup_server_message_set_redirect (msg, 301, "https://www.moat.test/login");
    }
  else if (strcmp (path, "/page") == 0)
    {
      const char *body = fixture->mode == MODE_INJECT ? INJECTED : PAGE;

      soup_server_message_set_response (msg, "text/html", SOUP_MEMORY_STATIC,
                                        body, strlen (body));
      soup_server_message_set_status (msg, 200, NULL);
    }
  else if (strcmp (path, "/relative") == 0)
    {
      soup_message_headers_replace (headers, "Location", "/elsewhere");
      soup_server_message_set_status (msg, 302, NULL);
    }
  else if (strcmp (path, "/big") == 0)
    {
      char *body = g_malloc (4096);

      memset (body, 'x', 4096);
      soup_server_message_set_response (msg, "text/plain", SOUP_MEMORY_TAKE, body, 4096);
      soup_server_message_set_status (msg, 200, NULL);
    }
  else if (strcmp (path, "/slow") == 0)
    {
      soup_server_message_pause (msg);
      g_ptr_array_add (fixture->paused, g_object_ref (msg));
    }
  else
    soup_server_message_set_status (msg, 404, NULL);
}

static char *
sha256_of (const char *text)
{
  return g_compute_checksum_for_string (G_CHECKSUM_SHA256, text, -1);
}

static void
add_target (Fixture *fixture, const char *format, ...) G_GNUC_PRINTF (2, 3);

static void
add_target (Fixture *fixture, const char *format, ...)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *spec = NULL;
  va_list args;

  va_start (args, format);
  spec = g_strdup_vprintf (format, args);
  va_end (args);
  g_assert_true (moat_http_probe_options_add_target (fixture->options, spec, &error));
  g_assert_no_error (error);
}

static void
fixture_set_up (Fixture *fixture, gconstpointer user_data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GSList) uris = NULL;
  g_autofree char *page_sha = sha256_of (PAGE);

  fixture->paused = g_ptr_array_new_with_free_func (g_object_unref);
  fixture->server = soup_server_new (NULL, NULL);
  soup_server_add_handler (fixture->server, NULL, handle_cb, fixture, NULL);
  soup_server_listen_local (fixture->server, 0, SOUP_SERVER_LISTEN_IPV4_ONLY, &error);
  g_assert_no_error (error);
  uris = soup_server_get_uris (fixture->server);
  g_assert_nonnull (uris);
  fixture->port = g_uri_get_port (uris->data);
  g_slist_free_full (g_steal_pointer (&uris), (GDestroyNotify) g_uri_unref);
  fixture->base = g_strdup_printf ("http://127.0.0.1:%u", fixture->port);

  fixture->options = moat_http_probe_options_new ();
  moat_http_probe_options_set_timeout (fixture->options, 1000);
  /* Deliberately listed in an order the probe must change: portal check first. */
  add_target (fixture, "%s/login expect-redirect https://www.moat.test/login", fixture->base);
  add_target (fixture, "%s/page expect-sha256 %s", fixture->base, page_sha);
  add_target (fixture, "%s/check expect-status 204", fixture->base);
}

static void
fixture_tear_down (Fixture *fixture, gconstpointer user_data)
{
  for (guint i = 0; i < fixture->paused->len; i++)
    soup_server_message_unpause (g_ptr_array_index (fixture->paused, i));
  g_clear_pointer (&fixture->paused, g_ptr_array_unref);
  soup_server_disconnect (fixture->server);
  g_clear_object (&fixture->server);
  g_clear_pointer (&fixture->options, moat_http_probe_options_free);
  g_clear_pointer (&fixture->findings, g_ptr_array_unref);
  g_clear_error (&fixture->error);
  g_free (fixture->base);
}

static void
run_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Fixture *fixture = user_data;

  fixture->findings = moat_http_probe_run_finish (result, &fixture->error);
  fixture->done = TRUE;
}

static void
run_probe (Fixture *fixture, GCancellable *cancellable)
{
  fixture->done = FALSE;
  g_clear_pointer (&fixture->findings, g_ptr_array_unref);
  g_clear_error (&fixture->error);
  moat_http_probe_run_async (fixture->options, cancellable, run_cb, fixture);
  while (!fixture->done)
    g_main_context_iteration (NULL, TRUE);
}

static MoatFinding *
finding_for (Fixture *fixture, const char *path)
{
  g_autofree char *url = g_strconcat (fixture->base, path, NULL);

  for (guint i = 0; i < fixture->findings->len; i++)
    {
      MoatFinding *finding = g_ptr_array_index (fixture->findings, i);

      if (g_strcmp0 (finding->subject, url) == 0)
        return finding;
    }
  g_assert_not_reached ();
  return NULL;
}

static JsonObject *
evidence_of (MoatFinding *finding, JsonParser *parser)
{
  g_autoptr(GError) error = NULL;
  JsonObject *object;

  g_assert_nonnull (finding->evidence);
  json_parser_load_from_data (parser, finding->evidence, -1, &error);
  g_assert_no_error (error);
  object = json_node_get_object (json_parser_get_root (parser));
  g_assert_cmpstr (json_object_get_string_member (object, "url"), ==, finding->subject);
  return object;
}

static void
assert_result (MoatFinding *finding, MoatFindingResult result, const char *threat)
{
  g_assert_cmpstr (finding->detector, ==, "http");
  g_assert_cmpstr (moat_finding_result_to_string (finding->result), ==,
                   moat_finding_result_to_string (result));
  g_assert_cmpstr (finding->threat, ==, threat);
  if (threat != NULL)
    g_assert_cmpint (finding->severity, ==, MOAT_SEVERITY_HIGH);
}

static void
test_clean (Fixture *fixture, gconstpointer user_data)
{
  g_autoptr(JsonParser) parser = json_parser_new ();
  JsonObject *evidence;

  fixture->mode = MODE_CLEAN;
  run_probe (fixture, NULL);
  g_assert_no_error (fixture->error);
  g_assert_cmpuint (fixture->findings->len, ==, 3);
  /* The captive-portal check runs first. */
  g_assert_cmpstr (((MoatFinding *) g_ptr_array_index (fixture->findings, 0))->subject, ==,
                   finding_for (fixture, "/check")->subject);
  assert_result (finding_for (fixture, "/check"), MOAT_FINDING_CLEAN, NULL);
  assert_result (finding_for (fixture, "/login"), MOAT_FINDING_CLEAN, NULL);
  assert_result (finding_for (fixture, "/page"), MOAT_FINDING_CLEAN, NULL);
  evidence = evidence_of (finding_for (fixture, "/login"), parser);
  g_assert_cmpint (json_object_get_int_member (evidence, "status"), ==, 301);
  g_assert_cmpstr (json_object_get_string_member (evidence, "location"), ==,
                   "https://www.moat.test/login");
  g_assert_cmpuint (fixture->requests, ==, 3);
}

static void
test_strip (Fixture *fixture, gconstpointer user_data)
{
  g_autoptr(JsonParser) parser = json_parser_new ();
  MoatFinding *finding;
  JsonObject *evidence;

  fixture->mode = MODE_STRIP;
  run_probe (fixture, NULL);
  g_assert_no_error (fixture->error);
  finding = finding_for (fixture, "/login");
  assert_result (finding, MOAT_FINDING_THREAT, "network.ssl_strip");
  evidence = evidence_of (finding, parser);
  g_assert_cmpint (json_object_get_int_member (evidence, "status"), ==, 200);
  g_assert_false (json_object_has_member (evidence, "location"));
  g_assert_cmpstr (json_object_get_string_member (evidence, "expected_location"), ==,
                   "https://www.moat.test/login");
  g_assert_cmpstr (json_object_get_string_member (evidence, "body_head"), ==, PAGE);
  assert_result (finding_for (fixture, "/page"), MOAT_FINDING_CLEAN, NULL);
}

static void
test_downgrade (Fixture *fixture, gconstpointer user_data)
{
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autofree char *to = g_strdup_printf ("%s/login/secure", fixture->base);
  MoatFinding *finding;
  JsonObject *evidence;

  fixture->mode = MODE_DOWNGRADE;
  run_probe (fixture, NULL);
  g_assert_no_error (fixture->error);
  finding = finding_for (fixture, "/login");
  assert_result (finding, MOAT_FINDING_THREAT, "network.ssl_strip");
  evidence = evidence_of (finding, parser);
  g_assert_cmpint (json_object_get_int_member (evidence, "status"), ==, 301);
  g_assert_cmpstr (json_object_get_string_member (evidence, "location"), ==, to);
  g_assert_cmpstr (json_object_get_string_member (evidence, "problem"), ==,
                   "redirect to plain http");
}

static void
test_inject (Fixture *fixture, gconstpointer user_data)
{
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autofree char *expected = sha256_of (PAGE);
  g_autofree char *seen = sha256_of (INJECTED);
  MoatFinding *finding;
  JsonObject *evidence;

  fixture->mode = MODE_INJECT;
  run_probe (fixture, NULL);
  g_assert_no_error (fixture->error);
  assert_result (finding_for (fixture, "/login"), MOAT_FINDING_CLEAN, NULL);
  finding = finding_for (fixture, "/page");
  assert_result (finding, MOAT_FINDING_THREAT, "network.content_manipulation");
  evidence = evidence_of (finding, parser);
  g_assert_cmpstr (json_object_get_string_member (evidence, "expected_sha256"), ==, expected);
  g_assert_cmpstr (json_object_get_string_member (evidence, "sha256"), ==, seen);
  g_assert_cmpint (json_object_get_int_member (evidence, "body_length"), ==, strlen (INJECTED));
  g_assert_nonnull (strstr (json_object_get_string_member (evidence, "body_head"), "evil.test"));
}

static void
assert_captive (MoatFinding *finding, JsonParser *parser)
{
  JsonObject *evidence;

  assert_result (finding, MOAT_FINDING_INCONCLUSIVE, NULL);
  evidence = evidence_of (finding, parser);
  g_assert_true (json_object_get_boolean_member (evidence, "captive_portal"));
}

static void
test_portal_redirect (Fixture *fixture, gconstpointer user_data)
{
  g_autoptr(JsonParser) parser = json_parser_new ();
  JsonObject *evidence;

  fixture->mode = MODE_PORTAL_REDIRECT;
  run_probe (fixture, NULL);
  g_assert_no_error (fixture->error);
  g_assert_cmpuint (fixture->findings->len, ==, 3);
  assert_captive (finding_for (fixture, "/check"), parser);
  evidence = evidence_of (finding_for (fixture, "/check"), parser);
  g_assert_cmpstr (json_object_get_string_member (evidence, "location"), ==,
                   "http://portal.hotel.test/login?from=moat");
  assert_captive (finding_for (fixture, "/login"), parser);
  assert_captive (finding_for (fixture, "/page"), parser);
  /* Nothing is fetched behind the portal. */
  g_assert_cmpuint (fixture->requests, ==, 1);
}

static void
test_portal_page (Fixture *fixture, gconstpointer user_data)
{
  g_autoptr(JsonParser) parser = json_parser_new ();
  JsonObject *evidence;

  fixture->mode = MODE_PORTAL_PAGE;
  run_probe (fixture, NULL);
  g_assert_no_error (fixture->error);
  assert_captive (finding_for (fixture, "/check"), parser);
  evidence = evidence_of (finding_for (fixture, "/check"), parser);
  g_assert_cmpint (json_object_get_int_member (evidence, "status"), ==, 200);
  g_assert_cmpint (json_object_get_int_member (evidence, "expected_status"), ==, 204);
  assert_captive (finding_for (fixture, "/login"), parser);
  assert_captive (finding_for (fixture, "/page"), parser);
}

static void
test_timeout (Fixture *fixture, gconstpointer user_data)
{
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(MoatHttpProbeOptions) options = moat_http_probe_options_new ();
  g_autoptr(GError) error = NULL;
  g_autofree char *spec = g_strdup_printf ("%s/slow expect-status 204", fixture->base);
  MoatFinding *finding;
  JsonObject *evidence;

  moat_http_probe_options_add_target (options, spec, &error);
  g_assert_no_error (error);
  moat_http_probe_options_set_timeout (options, 500);
  g_clear_pointer (&fixture->options, moat_http_probe_options_free);
  fixture->options = g_steal_pointer (&options);

  run_probe (fixture, NULL);
  g_assert_no_error (fixture->error);
  g_assert_cmpuint (fixture->findings->len, ==, 1);
  finding = g_ptr_array_index (fixture->findings, 0);
  assert_result (finding, MOAT_FINDING_INCONCLUSIVE, NULL);
  evidence = evidence_of (finding, parser);
  g_assert_false (json_object_has_member (evidence, "captive_portal"));
  g_assert_false (json_object_has_member (evidence, "status"));
  g_assert_nonnull (json_object_get_string_member (evidence, "problem"));
}

static void
test_refused (Fixture *fixture, gconstpointer user_data)
{
  soup_server_disconnect (fixture->server);
  run_probe (fixture, NULL);
  g_assert_no_error (fixture->error);
  g_assert_cmpuint (fixture->findings->len, ==, 3);
  for (guint i = 0; i < fixture->findings->len; i++)
    assert_result (g_ptr_array_index (fixture->findings, i), MOAT_FINDING_INCONCLUSIVE, NULL);
}

static void
test_too_large (Fixture *fixture, gconstpointer user_data)
{
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(MoatHttpProbeOptions) options = moat_http_probe_options_new ();
  g_autoptr(GError) error = NULL;
  g_autofree char *spec = g_strdup_printf ("%s/big expect-sha256 %064d", fixture->base, 0);
  MoatFinding *finding;
  JsonObject *evidence;

  moat_http_probe_options_add_target (options, spec, &error);
  g_assert_no_error (error);
  moat_http_probe_options_set_max_body (options, 1000);
  g_clear_pointer (&fixture->options, moat_http_probe_options_free);
  fixture->options = g_steal_pointer (&options);

  run_probe (fixture, NULL);
  g_assert_no_error (fixture->error);
  finding = g_ptr_array_index (fixture->findings, 0);
  assert_result (finding, MOAT_FINDING_INCONCLUSIVE, NULL);
  evidence = evidence_of (finding, parser);
  g_assert_true (json_object_get_boolean_member (evidence, "body_too_large"));
  g_assert_cmpint (json_object_get_int_member (evidence, "body_length"), ==, 1000);
}

static void
test_relative_location (Fixture *fixture, gconstpointer user_data)
{
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(MoatHttpProbeOptions) options = moat_http_probe_options_new ();
  g_autoptr(GError) error = NULL;
  g_autofree char *spec = g_strdup_printf ("%s/relative expect-redirect https://127.0.0.1/",
                                           fixture->base);
  g_autofree char *resolved = g_strdup_printf ("%s/elsewhere", fixture->base);
  MoatFinding *finding;
  JsonObject *evidence;

  moat_http_probe_options_add_target (options, spec, &error);
  g_assert_no_error (error);
  g_clear_pointer (&fixture->options, moat_http_probe_options_free);
  fixture->options = g_steal_pointer (&options);

  /* A relative Location stays on plain HTTP: stripped. */
  run_probe (fixture, NULL);
  g_assert_no_error (fixture->error);
  finding = g_ptr_array_index (fixture->findings, 0);
  assert_result (finding, MOAT_FINDING_THREAT, "network.ssl_strip");
  evidence = evidence_of (finding, parser);
  g_assert_cmpstr (json_object_get_string_member (evidence, "location"), ==, resolved);
}

static gboolean
cancel_cb (gpointer user_data)
{
  g_cancellable_cancel (user_data);
  return G_SOURCE_REMOVE;
}

static void
test_cancel (Fixture *fixture, gconstpointer user_data)
{
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(GError) error = NULL;
  g_autofree char *spec = g_strdup_printf ("%s/slow expect-status 204", fixture->base);

  g_cancellable_cancel (cancellable);
  run_probe (fixture, cancellable);
  g_assert_error (fixture->error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_null (fixture->findings);

  g_cancellable_reset (cancellable);
  moat_http_probe_options_add_target (fixture->options, spec, &error);
  g_assert_no_error (error);
  moat_http_probe_options_set_timeout (fixture->options, 30000);
  g_timeout_add (100, cancel_cb, cancellable);
  run_probe (fixture, cancellable);
  g_assert_error (fixture->error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_null (fixture->findings);
}

static void
test_options (void)
{
  g_autoptr(MoatHttpProbeOptions) options = moat_http_probe_options_new ();
  g_autoptr(MoatHttpProbeOptions) copy = NULL;
  g_autoptr(GError) error = NULL;
  const char *bad[] = {
    "",
    "http://example.com/",
    "http://example.com/ expect-redirect",
    "https://example.com/ expect-status 204",
    "http:///nohost expect-status 204",
    "http://user@example.com/ expect-status 204",
    "http://example.com/ expect-redirect http://example.com/",
    "http://example.com/ expect-sha256 abc",
    "http://example.com/ expect-sha256 zz86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
    "http://example.com/ expect-status 99",
    "http://example.com/ expect-status 204 expect-status 200",
    "http://example.com/ expect-teapot 418",
  };

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr(GError) local_error = NULL;

      g_assert_false (moat_http_probe_options_add_target (options, bad[i], &local_error));
      g_assert_error (local_error, MOAT_ERROR, MOAT_ERROR_INVALID_ARGUMENT);
    }
  g_assert_true (moat_http_probe_options_add_target (
    options, "  http://example.com/  expect-redirect https://www.example.com/\texpect-sha256 "
    "9F86D081884C7D659A2FEAA0C55AD015A3BF4F1B2B0B822CD15D6C15B0F00A08 ", &error));
  g_assert_no_error (error);
  copy = moat_http_probe_options_copy (options);
  g_assert_nonnull (copy);
}

static void
nothing_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  GError **error = user_data;
  g_autoptr(GPtrArray) findings = moat_http_probe_run_finish (result, error);

  g_assert_null (findings);
}

static void
test_nothing_to_fetch (void)
{
  g_autoptr(MoatHttpProbeOptions) options = moat_http_probe_options_new ();
  g_autoptr(GError) error = NULL;

  moat_http_probe_run_async (options, NULL, nothing_cb, &error);
  while (error == NULL)
    g_main_context_iteration (NULL, TRUE);
  g_assert_error (error, MOAT_ERROR, MOAT_ERROR_INVALID_ARGUMENT);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/moat/http-probe/options", test_options);
  g_test_add_func ("/moat/http-probe/nothing-to-fetch", test_nothing_to_fetch);
#define ADD(path, func) \
  g_test_add ("/moat/http-probe/" path, Fixture, NULL, fixture_set_up, func, fixture_tear_down)
  ADD ("clean", test_clean);
  ADD ("strip", test_strip);
  ADD ("downgrade", test_downgrade);
  ADD ("inject", test_inject);
  ADD ("portal-redirect", test_portal_redirect);
  ADD ("portal-page", test_portal_page);
  ADD ("timeout", test_timeout);
  ADD ("refused", test_refused);
  ADD ("too-large", test_too_large);
  ADD ("relative-location", test_relative_location);
  ADD ("cancel", test_cancel);
#undef ADD
  return g_test_run ();
}
