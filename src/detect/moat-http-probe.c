/* SPDX-License-Identifier: GPL-3.0-or-later
 * Copyright 2026 The Moat developers
 *
 * The SSL-stripping and content-manipulation probe: fetches known plain-HTTP
 * addresses with libsoup on a worker thread (its own main context and
 * session, sync API) and compares the answers with what they must be.
 */
#define G_LOG_DOMAIN "moat-detect"

#include "config.h"

#include "moat-http-probe.h"

#include "moat-error.h"
#include "moat-host.h"

#include <glib/gi18n.h>
#include <json-glib/json-glib.h>
#include <libsoup/soup.h>
#include <string.h>

#define DEFAULT_TIMEOUT_MS 5000
#define BODY_HEAD_BYTES    256
#define READ_CHUNK         16384

typedef struct {
  char  *url;
  GUri  *uri;                /* owned */
  char  *expect_redirect;
  GUri  *expect_redirect_uri;
  char  *expect_sha256;      /* lower-case hex */
  guint  expect_status;      /* 0: none */
} Target;

struct _MoatHttpProbeOptions {
  GPtrArray *targets;        /* Target, owned */
  guint      timeout_ms;
  gsize      max_body;
};

static void
target_free (Target *target)
{
  g_free (target->url);
  g_clear_pointer (&target->uri, g_uri_unref);
  g_free (target->expect_redirect);
  g_clear_pointer (&target->expect_redirect_uri, g_uri_unref);
  g_free (target->expect_sha256);
  g_free (target);
}

static Target *
target_copy (const Target *target)
{
  Target *copy = g_new0 (Target, 1);

  copy->url = g_strdup (target->url);
  copy->uri = g_uri_ref (target->uri);
  copy->expect_redirect = g_strdup (target->expect_redirect);
  if (target->expect_redirect_uri != NULL)
    copy->expect_redirect_uri = g_uri_ref (target->expect_redirect_uri);
  copy->expect_sha256 = g_strdup (target->expect_sha256);
  copy->expect_status = target->expect_status;
  return copy;
}

MoatHttpProbeOptions *
moat_http_probe_options_new (void)
{
  MoatHttpProbeOptions *options = g_new0 (MoatHttpProbeOptions, 1);

  options->targets = g_ptr_array_new_with_free_func ((GDestroyNotify) target_free);
  options->timeout_ms = DEFAULT_TIMEOUT_MS;
  options->max_body = MOAT_HTTP_PROBE_DEFAULT_MAX_BODY;
  return options;
}

MoatHttpProbeOptions *
moat_http_probe_options_copy (const MoatHttpProbeOptions *options)
{
  MoatHttpProbeOptions *copy;

  g_return_val_if_fail (options != NULL, NULL);

  copy = moat_http_probe_options_new ();
  for (guint i = 0; i < options->targets->len; i++)
    g_ptr_array_add (copy->targets, target_copy (g_ptr_array_index (options->targets, i)));
  copy->timeout_ms = options->timeout_ms;
  copy->max_body = options->max_body;
  return copy;
}

void
moat_http_probe_options_free (MoatHttpProbeOptions *options)
{
  if (options == NULL)
    return;
  g_clear_pointer (&options->targets, g_ptr_array_unref);
  g_free (options);
}

static GUri *
parse_url (const char *text, const char *scheme, GError **error)
{
  g_autoptr(GUri) uri = g_uri_parse (text, G_URI_FLAGS_NONE, NULL);

  if (uri == NULL || g_uri_get_host (uri) == NULL || *g_uri_get_host (uri) == '\0' ||
      g_ascii_strcasecmp (g_uri_get_scheme (uri), scheme) != 0 ||
      g_uri_get_userinfo (uri) != NULL)
    {
      g_set_error (error, MOAT_ERROR, MOAT_ERROR_INVALID_ARGUMENT,
                   "“%s” is not an %s:// URL", text, scheme);
      return NULL;
    }
  return g_steal_pointer (&uri);
}

/**
 * moat_http_probe_options_add_target:
 * @spec: `http://URL` followed by one or more of `expect-redirect https://URL`,
 *   `expect-sha256 HEX`, `expect-status CODE`, separated by white space
 *
 * Returns: %TRUE, or %FALSE with @error (%MOAT_ERROR_INVALID_ARGUMENT) set
 */
gboolean
moat_http_probe_options_add_target (MoatHttpProbeOptions *options,
                                    const char           *spec,
                                    GError              **error)
{
  g_autoptr(GPtrArray) words = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GError) local_error = NULL;
  g_auto(GStrv) split = NULL;
  Target *target;

  g_return_val_if_fail (options != NULL, FALSE);

  split = g_strsplit_set (spec != NULL ? spec : "", " \t\n", -1);
  for (guint i = 0; split[i] != NULL; i++)
    if (*split[i] != '\0')
      g_ptr_array_add (words, g_strdup (split[i]));
  if (words->len < 3 || words->len % 2 != 1)
    {
      g_set_error (error, MOAT_ERROR, MOAT_ERROR_INVALID_ARGUMENT,
                   "“%s” is not “URL expect-… VALUE …”", spec != NULL ? spec : "(null)");
      return FALSE;
    }

  target = g_new0 (Target, 1);
  target->url = g_strdup (g_ptr_array_index (words, 0));
  target->uri = parse_url (target->url, "http", &local_error);
  for (guint i = 1; local_error == NULL && i + 1 < words->len; i += 2)
    {
      const char *key = g_ptr_array_index (words, i);
      const char *value = g_ptr_array_index (words, i + 1);

      if (strcmp (key, "expect-redirect") == 0 && target->expect_redirect == NULL)
        {
          target->expect_redirect_uri = parse_url (value, "https", &local_error);
          target->expect_redirect = g_strdup (value);
        }
      else if (strcmp (key, "expect-sha256") == 0 && target->expect_sha256 == NULL)
        {
          gboolean hex = strlen (value) == 64;

          for (const char *p = value; hex && *p != '\0'; p++)
            hex = g_ascii_isxdigit (*p);
          if (!hex)
            g_set_error (&local_error, MOAT_ERROR, MOAT_ERROR_INVALID_ARGUMENT,
                         "“%s” is not a SHA-256 in hex", value);
          else
            target->expect_sha256 = g_ascii_strdown (value, -1);
        }
      else if (strcmp (key, "expect-status") == 0 && target->expect_status == 0)
        {
          guint64 status;

          if (!g_ascii_string_to_unsigned (value, 10, 100, 599, &status, NULL))
            g_set_error (&local_error, MOAT_ERROR, MOAT_ERROR_INVALID_ARGUMENT,
                         "“%s” is not an HTTP status", value);
          else
            target->expect_status = (guint) status;
        }
      else
        g_set_error (&local_error, MOAT_ERROR, MOAT_ERROR_INVALID_ARGUMENT,
                     "“%s” is not an expectation, or is given twice", key);
    }
  if (local_error != NULL)
    {
      target_free (target);
      g_propagate_error (error, g_steal_pointer (&local_error));
      return FALSE;
    }
  g_ptr_array_add (options->targets, target);
  return TRUE;
}

/**
 * moat_http_probe_options_set_timeout:
 * @timeout_ms: how long one fetch may take (default 5000)
 */
void
moat_http_probe_options_set_timeout (MoatHttpProbeOptions *options,
                                     guint                 timeout_ms)
{
  g_return_if_fail (options != NULL);

  options->timeout_ms = CLAMP (timeout_ms, 100, 60000);
}

/**
 * moat_http_probe_options_set_max_body:
 * @max_body: the most body bytes read per target (default 1 MiB)
 */
void
moat_http_probe_options_set_max_body (MoatHttpProbeOptions *options,
                                      gsize                 max_body)
{
  g_return_if_fail (options != NULL);

  options->max_body = CLAMP (max_body, 1, 64 * 1024 * 1024);
}

/* The probe */

typedef struct {
  guint       status;
  char       *location;      /* resolved against the target, or NULL */
  GUri       *location_uri;
  GByteArray *body;
  gboolean    body_too_large;
  char       *sha256;
} Answer;

static void
answer_clear (Answer *answer)
{
  g_free (answer->location);
  g_clear_pointer (&answer->location_uri, g_uri_unref);
  g_clear_pointer (&answer->body, g_byte_array_unref);
  g_free (answer->sha256);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Answer, answer_clear)

/* Whether two hosts belong to the same party: equal, or names with the same
 * registrable domain. */
static gboolean
same_party (const char *a, const char *b)
{
  g_autofree char *da = NULL;
  g_autofree char *db = NULL;

  if (a == NULL || b == NULL)
    return FALSE;
  if (g_ascii_strcasecmp (a, b) == 0)
    return TRUE;
  da = moat_host_registrable_domain (a);
  db = moat_host_registrable_domain (b);
  return da != NULL && db != NULL && g_ascii_strcasecmp (da, db) == 0;
}

static gboolean
is_redirect (guint status)
{
  return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
}

/* Fetches @target into @answer. Returns FALSE with *problem set when no
 * answer came; only cancellation is a GError. */
static gboolean
fetch (SoupSession                *session,
       const MoatHttpProbeOptions *options,
       const Target               *target,
       Answer                     *answer,
       char                      **problem,
       GCancellable               *cancellable,
       GError                    **error)
{
  g_autoptr(SoupMessage) msg = soup_message_new_from_uri ("GET", target->uri);
  g_autoptr(GInputStream) stream = NULL;
  g_autoptr(GError) local_error = NULL;
  g_autoptr(GChecksum) checksum = g_checksum_new (G_CHECKSUM_SHA256);
  SoupMessageHeaders *headers;
  const char *location;
  gint64 deadline = g_get_monotonic_time () + (gint64) options->timeout_ms * 1000;
  guint8 *chunk;

  soup_message_add_flags (msg, SOUP_MESSAGE_NO_REDIRECT);
  headers = soup_message_get_request_headers (msg);
  soup_message_headers_replace (headers, "Cache-Control", "no-cache");
  soup_message_headers_replace (headers, "Pragma", "no-cache");

  stream = soup_session_send (session, msg, cancellable, &local_error);
  if (stream == NULL)
    goto failed;

  answer->status = soup_message_get_status (msg);
  location = soup_message_headers_get_one (soup_message_get_response_headers (msg), "Location");
  if (location != NULL)
    {
      answer->location_uri = g_uri_parse_relative (target->uri, location, G_URI_FLAGS_NONE,
                                                   NULL);
      answer->location = answer->location_uri != NULL
        ? g_uri_to_string (answer->location_uri)
        : g_strdup (location);
    }

  answer->body = g_byte_array_new ();
  chunk = g_malloc (READ_CHUNK);
  for (;;)
    {
      gsize want = MIN ((gsize) READ_CHUNK, options->max_body + 1 - answer->body->len);
      gssize n;

      if (g_get_monotonic_time () > deadline)
        {
          g_free (chunk);
          *problem = g_strdup_printf ("body not read within %u ms", options->timeout_ms);
          return FALSE;
        }
      n = g_input_stream_read (stream, chunk, want, cancellable, &local_error);
      if (n < 0)
        {
          g_free (chunk);
          goto failed;
        }
      if (n == 0)
        break;
      g_byte_array_append (answer->body, chunk, n);
      if (answer->body->len > options->max_body)
        {
          answer->body_too_large = TRUE;
          g_byte_array_set_size (answer->body, options->max_body);
          break;
        }
    }
  g_free (chunk);
  g_input_stream_close (stream, NULL, NULL);
  g_checksum_update (checksum, answer->body->data, answer->body->len);
  answer->sha256 = g_strdup (g_checksum_get_string (checksum));
  return TRUE;

failed:
  if (g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    {
      g_propagate_error (error, g_steal_pointer (&local_error));
      return FALSE;
    }
  *problem = g_strdup (local_error->message);
  return FALSE;
}

static JsonBuilder *
evidence_begin (const Target *target)
{
  JsonBuilder *builder = json_builder_new ();

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "url");
  json_builder_add_string_value (builder, target->url);
  return builder;
}

static void
evidence_add_string (JsonBuilder *builder, const char *member, const char *value)
{
  if (value == NULL)
    return;
  json_builder_set_member_name (builder, member);
  json_builder_add_string_value (builder, value);
}

static void
evidence_add_answer (JsonBuilder *builder, const Target *target, const Answer *answer)
{
  evidence_add_string (builder, "expected_location", target->expect_redirect);
  evidence_add_string (builder, "expected_sha256", target->expect_sha256);
  if (target->expect_status != 0)
    {
      json_builder_set_member_name (builder, "expected_status");
      json_builder_add_int_value (builder, target->expect_status);
    }
  if (answer->status == 0)
    return;
  json_builder_set_member_name (builder, "status");
  json_builder_add_int_value (builder, answer->status);
  evidence_add_string (builder, "location", answer->location);
  if (answer->body != NULL)
    {
      g_autofree char *head = NULL;

      json_builder_set_member_name (builder, "body_length");
      json_builder_add_int_value (builder, answer->body->len);
      if (answer->body_too_large)
        {
          json_builder_set_member_name (builder, "body_too_large");
          json_builder_add_boolean_value (builder, TRUE);
        }
      evidence_add_string (builder, "sha256", answer->sha256);
      head = answer->body->len > 0
        ? g_utf8_make_valid ((const char *) answer->body->data,
                             MIN (answer->body->len, BODY_HEAD_BYTES))
        : g_strdup ("");
      evidence_add_string (builder, "body_head", head);
    }
}

static char *
evidence_end (JsonBuilder *builder)
{
  g_autoptr(JsonGenerator) generator = json_generator_new ();
  g_autoptr(JsonNode) root = NULL;

  json_builder_end_object (builder);
  root = json_builder_get_root (builder);
  json_generator_set_root (generator, root);
  return json_generator_to_data (generator, NULL);
}

static MoatFinding *
finding_inconclusive (const Target *target,
                      const Answer *answer,
                      gboolean      captive_portal,
                      const char   *problem)
{
  g_autoptr(JsonBuilder) builder = evidence_begin (target);
  g_autofree char *summary = NULL;
  MoatFinding *finding;

  evidence_add_answer (builder, target, answer);
  if (captive_portal)
    {
      json_builder_set_member_name (builder, "captive_portal");
      json_builder_add_boolean_value (builder, TRUE);
      summary = g_strdup (_("A captive portal (a sign-in page of this network) is in the way; "
                            "the network is checked again once it is passed."));
    }
  else
    {
      /* Translators: %s is a web address. */
      summary = g_strdup_printf (_("%s could not be checked."), target->url);
    }
  evidence_add_string (builder, "problem", problem);
  finding = moat_finding_new_inconclusive ("http", target->url, summary);
  finding->evidence = evidence_end (builder);
  return finding;
}

static MoatFinding *
finding_threat (const Target *target,
                const Answer *answer,
                const char   *threat,
                const char   *summary,
                const char   *problem)
{
  g_autoptr(JsonBuilder) builder = evidence_begin (target);
  g_autofree char *evidence = NULL;

  evidence_add_answer (builder, target, answer);
  evidence_add_string (builder, "problem", problem);
  evidence = evidence_end (builder);
  return moat_finding_new_threat ("http", target->url, threat, MOAT_SEVERITY_HIGH, summary,
                                  evidence);
}

static MoatFinding *
judge (const Target *target, const Answer *answer, gboolean *captive_portal)
{
  const char *url_host = g_uri_get_host (target->uri);
  const char *location_host = NULL;
  gboolean third_party = FALSE;
  gboolean redirect = is_redirect (answer->status);

  if (answer->location_uri != NULL)
    {
      location_host = g_uri_get_host (answer->location_uri);
      third_party = !same_party (location_host, url_host) &&
                    (target->expect_redirect_uri == NULL ||
                     !same_party (location_host, g_uri_get_host (target->expect_redirect_uri)));
    }
  /* A redirect elsewhere is a sign-in page, whatever was expected. */
  if (redirect && third_party)
    {
      *captive_portal = TRUE;
      return finding_inconclusive (target, answer, TRUE, "redirect to another host");
    }

  if (target->expect_status != 0 && answer->status != target->expect_status)
    {
      if (redirect || SOUP_STATUS_IS_SUCCESSFUL (answer->status))
        {
          *captive_portal = TRUE;
          return finding_inconclusive (target, answer, TRUE, "unexpected answer");
        }
      return finding_inconclusive (target, answer, FALSE, "unexpected status");
    }

  if (target->expect_redirect != NULL)
    {
      if (redirect && answer->location == NULL)
        return finding_inconclusive (target, answer, FALSE, "redirect without a location");
      if (redirect && answer->location_uri == NULL)
        return finding_inconclusive (target, answer, FALSE, "unreadable location");
      if (redirect && g_ascii_strcasecmp (g_uri_get_scheme (answer->location_uri), "https") != 0)
        {
          g_autofree char *summary = NULL;

          /* Translators: %s is a web address. */
          summary = g_strdup_printf (_("%s now redirects to an unencrypted address instead of "
                                       "HTTPS: someone on this network may be stripping "
                                       "encryption."), target->url);
          return finding_threat (target, answer, "network.ssl_strip", summary,
                                 "redirect to plain http");
        }
      if (SOUP_STATUS_IS_SUCCESSFUL (answer->status))
        {
          g_autofree char *summary = NULL;

          /* Translators: %s is a web address. */
          summary = g_strdup_printf (_("%s answered unencrypted instead of redirecting to "
                                       "HTTPS: someone on this network may be stripping "
                                       "encryption."), target->url);
          return finding_threat (target, answer, "network.ssl_strip", summary,
                                 "no redirect to https");
        }
      if (!redirect)
        return finding_inconclusive (target, answer, FALSE, "unexpected status");
    }

  if (target->expect_sha256 != NULL)
    {
      if (target->expect_redirect == NULL && target->expect_status == 0 &&
          answer->status != SOUP_STATUS_OK)
        return finding_inconclusive (target, answer, FALSE, "unexpected status");
      if (answer->body_too_large)
        return finding_inconclusive (target, answer, FALSE, "body too large");
      if (g_strcmp0 (answer->sha256, target->expect_sha256) != 0)
        {
          g_autofree char *summary = NULL;

          /* Translators: %s is a web address. */
          summary = g_strdup_printf (_("%s arrived changed: someone on this network may be "
                                       "injecting content into web pages."), target->url);
          return finding_threat (target, answer, "network.content_manipulation", summary,
                                 "body differs");
        }
    }

  {
    g_autoptr(JsonBuilder) builder = evidence_begin (target);
    g_autofree char *summary = NULL;
    MoatFinding *finding;

    evidence_add_answer (builder, target, answer);
    /* Translators: %s is a web address. */
    summary = g_strdup_printf (_("%s answered as expected."), target->url);
    finding = moat_finding_new_clean ("http", target->url, summary);
    finding->evidence = evidence_end (builder);
    return finding;
  }
}

static gint
compare_targets (gconstpointer a, gconstpointer b)
{
  const Target *ta = *(const Target **) a;
  const Target *tb = *(const Target **) b;

  return (ta->expect_status == 0) - (tb->expect_status == 0);
}

static void
run_thread (GTask        *task,
            gpointer      source_object,
            gpointer      task_data,
            GCancellable *cancellable)
{
  MoatHttpProbeOptions *options = task_data;
  g_autoptr(GMainContext) context = g_main_context_new ();
  g_autoptr(GPtrArray) findings = g_ptr_array_new_with_free_func ((GDestroyNotify) moat_finding_free);
  g_autoptr(GPtrArray) order = g_ptr_array_copy (options->targets, NULL, NULL);
  g_autoptr(SoupSession) session = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *user_agent = g_strdup_printf ("Moat/%s", PACKAGE_VERSION);
  gboolean captive_portal = FALSE;

  g_ptr_array_set_free_func (order, NULL);
  g_main_context_push_thread_default (context);
  session = soup_session_new_with_options ("timeout", (options->timeout_ms + 999) / 1000,
                                           "idle-timeout", (options->timeout_ms + 999) / 1000,
                                           "user-agent", user_agent,
                                           NULL);
  soup_session_set_proxy_resolver (session, NULL);
  soup_session_remove_feature_by_type (session, SOUP_TYPE_CONTENT_DECODER);

  /* Captive-portal checks first (g_ptr_array_sort is stable). */
  g_ptr_array_sort (order, compare_targets);
  for (guint i = 0; i < order->len; i++)
    {
      const Target *target = g_ptr_array_index (order, i);
      g_auto(Answer) answer = { 0 };
      g_autofree char *problem = NULL;
      gint64 start = g_get_monotonic_time ();
      MoatFinding *finding;

      if (captive_portal)
        finding = finding_inconclusive (target, &answer, TRUE, "not fetched behind the portal");
      else if (!fetch (session, options, target, &answer, &problem, cancellable, &error))
        {
          if (error != NULL)
            break;
          finding = finding_inconclusive (target, &answer, FALSE, problem);
        }
      else
        finding = judge (target, &answer, &captive_portal);
      finding->duration_us = g_get_monotonic_time () - start;
      g_ptr_array_add (findings, finding);
    }

  soup_session_abort (session);
  g_clear_object (&session);
  g_main_context_pop_thread_default (context);

  if (error != NULL)
    g_task_return_error (task, g_steal_pointer (&error));
  else
    g_task_return_pointer (task, g_steal_pointer (&findings), (GDestroyNotify) g_ptr_array_unref);
}

/**
 * moat_http_probe_run_async:
 * @options: the targets (copied)
 *
 * Fetches every target on a worker thread. Network trouble gives
 * INCONCLUSIVE findings; the operation fails only without targets
 * (%MOAT_ERROR_INVALID_ARGUMENT) or when @cancellable is cancelled.
 */
void
moat_http_probe_run_async (const MoatHttpProbeOptions *options,
                           GCancellable               *cancellable,
                           GAsyncReadyCallback         callback,
                           gpointer                    user_data)
{
  g_autoptr(GTask) task = NULL;

  g_return_if_fail (options != NULL);
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  task = g_task_new (NULL, cancellable, callback, user_data);
  g_task_set_source_tag (task, moat_http_probe_run_async);
  g_task_set_name (task, "moat-http-probe");

  if (options->targets->len == 0)
    {
      g_task_return_new_error (task, MOAT_ERROR, MOAT_ERROR_INVALID_ARGUMENT,
                               "The HTTP probe has no target to fetch");
      return;
    }
  if (g_task_return_error_if_cancelled (task))
    return;
  g_task_set_task_data (task, moat_http_probe_options_copy (options),
                        (GDestroyNotify) moat_http_probe_options_free);
  g_task_run_in_thread (task, run_thread);
}

/**
 * moat_http_probe_run_finish:
 *
 * Returns: (transfer container) (element-type MoatFinding): one finding per
 *   target, or %NULL with @error set
 */
GPtrArray *
moat_http_probe_run_finish (GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, NULL), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == moat_http_probe_run_async,
                        NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}
