/* SPDX-License-Identifier: GPL-3.0-or-later
 * Copyright 2026 The Moat developers
 *
 * Subscription downloads with libsoup 3. The network part runs on the
 * caller's main context (async); everything that touches the disk (reading
 * the validators, writing the list and the validators, stat) runs in a
 * worker thread. The body is collected in memory up to the size cap and
 * checked as it arrives, so a refused download never touches the cache file.
 */
#define G_LOG_DOMAIN "moat-engine"

#include "config.h"

#include "moat-list-fetcher.h"

#include "moat-error.h"

#include <errno.h>
#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <libsoup/soup.h>
#include <string.h>

#define READ_CHUNK (64 * 1024)
#define MAX_VALIDATOR_LENGTH 1024
#define VALIDATORS_GROUP "validators"

typedef struct {
  /* owned */
  char         *url;
  char         *cache_path;
  char         *validators_path;
  GUri         *uri;
  char         *etag;             /* sent as If-None-Match */
  char         *last_modified;    /* sent as If-Modified-Since */
  SoupMessage  *msg;
  GInputStream *stream;
  GByteArray   *body;
  GBytes       *contents;         /* the body, for the writer thread */
  char         *new_etag;
  char         *new_last_modified;

  gsize                max_size;
  MoatListFetchResult  result;
  gint64               mtime;
} Fetch;

struct _MoatListFetcher
{
  GObject      parent_instance;

  /* owned */
  SoupSession *session;

  gsize        max_size;
};

G_DEFINE_FINAL_TYPE (MoatListFetcher, moat_list_fetcher, G_TYPE_OBJECT)

static void
fetch_free (Fetch *fetch)
{
  g_free (fetch->url);
  g_free (fetch->cache_path);
  g_free (fetch->validators_path);
  g_clear_pointer (&fetch->uri, g_uri_unref);
  g_free (fetch->etag);
  g_free (fetch->last_modified);
  g_clear_object (&fetch->msg);
  g_clear_object (&fetch->stream);
  g_clear_pointer (&fetch->body, g_byte_array_unref);
  g_clear_pointer (&fetch->contents, g_bytes_unref);
  g_free (fetch->new_etag);
  g_free (fetch->new_last_modified);
  g_free (fetch);
}

/* A validator worth keeping: short printable ASCII. */
static char *
dup_validator (const char *value)
{
  if (value == NULL || *value == '\0' || strlen (value) > MAX_VALIDATOR_LENGTH)
    return NULL;
  for (const char *p = value; *p != '\0'; p++)
    if ((guchar) *p < 0x20 || (guchar) *p > 0x7e)
      return NULL;
  return g_strdup (value);
}

static gboolean
stat_mtime (const char  *path,
            gint64      *mtime,
            GError     **error)
{
  GStatBuf st;

  if (g_stat (path, &st) != 0)
    {
      int saved_errno = errno;

      g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (saved_errno),
                   "Could not read %s: %s", path, g_strerror (saved_errno));
      return FALSE;
    }
  *mtime = (gint64) st.st_mtime;
  return TRUE;
}

static void
load_validators_in_thread (GTask        *task,
                           gpointer      source_object,
                           gpointer      task_data,
                           GCancellable *cancellable)
{
  Fetch *fetch = task_data;
  g_autoptr(GKeyFile) keyfile = g_key_file_new ();
  g_autofree char *url = NULL;

  /* Without the list itself the validators are worthless: a 304 would
   * leave nothing to read. */
  if (g_file_test (fetch->cache_path, G_FILE_TEST_IS_REGULAR) &&
      g_key_file_load_from_file (keyfile, fetch->validators_path, G_KEY_FILE_NONE, NULL))
    {
      url = g_key_file_get_string (keyfile, VALIDATORS_GROUP, "url", NULL);
      if (g_strcmp0 (url, fetch->url) == 0)
        {
          g_autofree char *etag = g_key_file_get_string (keyfile, VALIDATORS_GROUP, "etag", NULL);
          g_autofree char *last_modified = g_key_file_get_string (keyfile, VALIDATORS_GROUP,
                                                                  "last-modified", NULL);

          fetch->etag = dup_validator (etag);
          fetch->last_modified = dup_validator (last_modified);
        }
    }
  g_task_return_boolean (task, TRUE);
}

static void
stat_in_thread (GTask        *task,
                gpointer      source_object,
                gpointer      task_data,
                GCancellable *cancellable)
{
  Fetch *fetch = task_data;
  GError *error = NULL;

  if (!stat_mtime (fetch->cache_path, &fetch->mtime, &error))
    g_task_return_error (task, error);
  else
    g_task_return_boolean (task, TRUE);
}

static void
write_in_thread (GTask        *task,
                 gpointer      source_object,
                 gpointer      task_data,
                 GCancellable *cancellable)
{
  Fetch *fetch = task_data;
  g_autoptr(GKeyFile) keyfile = g_key_file_new ();
  g_autoptr(GError) error = NULL;
  g_autofree char *data = NULL;
  gsize len = 0;

  /* Old validators must not outlive the copy they describe: remove them
   * first, so a failure below leaves a list without validators (fetched in
   * full next time), never new contents with old validators. */
  if (g_unlink (fetch->validators_path) != 0 && errno != ENOENT)
    {
      int saved_errno = errno;

      g_task_return_new_error (task, G_FILE_ERROR, g_file_error_from_errno (saved_errno),
                               "Could not remove %s: %s", fetch->validators_path,
                               g_strerror (saved_errno));
      return;
    }
  if (!g_file_set_contents_full (fetch->cache_path, g_bytes_get_data (fetch->contents, NULL),
                                 (gssize) g_bytes_get_size (fetch->contents),
                                 G_FILE_SET_CONTENTS_CONSISTENT | G_FILE_SET_CONTENTS_DURABLE,
                                 0644, &error))
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }

  g_key_file_set_string (keyfile, VALIDATORS_GROUP, "url", fetch->url);
  if (fetch->new_etag != NULL)
    g_key_file_set_string (keyfile, VALIDATORS_GROUP, "etag", fetch->new_etag);
  if (fetch->new_last_modified != NULL)
    g_key_file_set_string (keyfile, VALIDATORS_GROUP, "last-modified", fetch->new_last_modified);
  data = g_key_file_to_data (keyfile, &len, NULL);
  if ((fetch->new_etag != NULL || fetch->new_last_modified != NULL) &&
      !g_file_set_contents_full (fetch->validators_path, data, (gssize) len,
                                 G_FILE_SET_CONTENTS_CONSISTENT, 0644, &error))
    {
      /* The list is updated; only the next fetch is unconditional. */
      g_warning ("Could not save the validators of %s: %s", fetch->url, error->message);
      g_clear_error (&error);
    }

  if (!stat_mtime (fetch->cache_path, &fetch->mtime, &error))
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  g_task_return_boolean (task, TRUE);
}

/* Runs @func on a worker with @task's Fetch; @done gets @task back. */
static void
run_in_thread (GTask               *task,
               GTaskThreadFunc      func,
               GAsyncReadyCallback  done)
{
  g_autoptr(GTask) worker = g_task_new (g_task_get_source_object (task),
                                        g_task_get_cancellable (task), done, g_object_ref (task));

  g_task_set_source_tag (worker, run_in_thread);
  g_task_set_task_data (worker, g_task_get_task_data (task), NULL);
  g_task_run_in_thread (worker, func);
}

static GError *
too_large_error (gsize max_size)
{
  g_autofree char *size = g_format_size_full (max_size, G_FORMAT_SIZE_IEC_UNITS);

  /* Translators: %s is a size, e.g. "50.0 MiB". */
  return g_error_new (MOAT_ERROR, MOAT_ERROR_LIMIT_EXCEEDED, _("The list is larger than %s"), size);
}

static void
fail (GTask      *task,
      GError     *error,
      const char *url)
{
  /* Translators: the start of an error message; %s is a URL. */
  g_prefix_error (&error, _("Downloading %s: "), url);
  g_task_return_error (task, error);
}

static void
written_cb (GObject      *object,
            GAsyncResult *result,
            gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  Fetch *fetch = g_task_get_task_data (task);
  GError *error = NULL;

  if (!g_task_propagate_boolean (G_TASK (result), &error))
    {
      /* Translators: the start of an error message; %s is a URL. */
      g_prefix_error (&error, _("Saving %s: "), fetch->url);
      g_task_return_error (task, error);
      return;
    }
  fetch->result = MOAT_LIST_FETCH_UPDATED;
  g_task_return_boolean (task, TRUE);
}

static void
stat_done_cb (GObject      *object,
              GAsyncResult *result,
              gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  Fetch *fetch = g_task_get_task_data (task);
  GError *error = NULL;

  if (!g_task_propagate_boolean (G_TASK (result), &error))
    {
      g_task_return_error (task, error);
      return;
    }
  fetch->result = MOAT_LIST_FETCH_NOT_MODIFIED;
  g_task_return_boolean (task, TRUE);
}

static void read_next (GTask *task);

static void
read_cb (GObject      *object,
         GAsyncResult *result,
         gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  Fetch *fetch = g_task_get_task_data (task);
  GError *error = NULL;
  g_autoptr(GBytes) chunk = g_input_stream_read_bytes_finish (G_INPUT_STREAM (object), result,
                                                              &error);
  gsize size;
  const char *data;

  if (chunk == NULL)
    {
      fail (task, error, fetch->url);
      return;
    }
  data = g_bytes_get_data (chunk, &size);
  if (size == 0)
    {
      if (fetch->body->len == 0)
        {
          fail (task, g_error_new (MOAT_ERROR, MOAT_ERROR_INVALID_ARGUMENT,
                                   _("The server sent an empty list")), fetch->url);
          return;
        }
      fetch->contents = g_byte_array_free_to_bytes (g_steal_pointer (&fetch->body));
      run_in_thread (task, write_in_thread, written_cb);
      return;
    }
  if (size > fetch->max_size - fetch->body->len)
    {
      fail (task, too_large_error (fetch->max_size), fetch->url);
      return;
    }
  if (memchr (data, '\0', size) != NULL)
    {
      fail (task, g_error_new_literal (MOAT_ERROR, MOAT_ERROR_INVALID_ARGUMENT,
                                       _("The server sent binary data, not a list")),
            fetch->url);
      return;
    }
  g_byte_array_append (fetch->body, (const guint8 *) data, (guint) size);
  read_next (g_steal_pointer (&task));
}

static void
read_next (GTask *task)
{
  Fetch *fetch = g_task_get_task_data (task);

  g_input_stream_read_bytes_async (fetch->stream, READ_CHUNK, G_PRIORITY_DEFAULT,
                                   g_task_get_cancellable (task), read_cb, task);
}

static void
send_cb (GObject      *object,
         GAsyncResult *result,
         gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  Fetch *fetch = g_task_get_task_data (task);
  SoupMessageHeaders *headers;
  GError *error = NULL;
  guint status;

  fetch->stream = soup_session_send_finish (SOUP_SESSION (object), result, &error);
  if (fetch->stream == NULL)
    {
      fail (task, error, fetch->url);
      return;
    }
  status = soup_message_get_status (fetch->msg);
  headers = soup_message_get_response_headers (fetch->msg);

  if (status == SOUP_STATUS_NOT_MODIFIED)
    {
      if (fetch->etag == NULL && fetch->last_modified == NULL)
        {
          fail (task, g_error_new_literal (MOAT_ERROR, MOAT_ERROR_FAILED,
                                           _("The server answered “Not Modified” to a "
                                             "request for the whole list")), fetch->url);
          return;
        }
      run_in_thread (task, stat_in_thread, stat_done_cb);
      return;
    }
  if (status != SOUP_STATUS_OK)
    {
      /* Translators: %u is an HTTP status code, %s its reason phrase
       * ("Not Found"), as the server sent it. */
      fail (task, g_error_new (MOAT_ERROR, MOAT_ERROR_FAILED, _("The server answered %u %s"),
                               status, soup_message_get_reason_phrase (fetch->msg)),
            fetch->url);
      return;
    }
  if (soup_message_headers_get_encoding (headers) == SOUP_ENCODING_CONTENT_LENGTH &&
      soup_message_headers_get_content_length (headers) > (goffset) fetch->max_size &&
      soup_message_headers_get_one (headers, "Content-Encoding") == NULL)
    {
      fail (task, too_large_error (fetch->max_size), fetch->url);
      return;
    }

  fetch->new_etag = dup_validator (soup_message_headers_get_one (headers, "ETag"));
  fetch->new_last_modified = dup_validator (soup_message_headers_get_one (headers,
                                                                           "Last-Modified"));
  fetch->body = g_byte_array_new ();
  read_next (g_steal_pointer (&task));
}

static void
validators_loaded_cb (GObject      *object,
                      GAsyncResult *result,
                      gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  MoatListFetcher *self = g_task_get_source_object (task);
  Fetch *fetch = g_task_get_task_data (task);
  SoupMessageHeaders *headers;
  GCancellable *cancellable;
  GError *error = NULL;

  if (!g_task_propagate_boolean (G_TASK (result), &error))
    {
      g_task_return_error (task, error);
      return;
    }
  fetch->msg = soup_message_new_from_uri (SOUP_METHOD_GET, fetch->uri);
  headers = soup_message_get_request_headers (fetch->msg);
  if (fetch->etag != NULL)
    soup_message_headers_replace (headers, "If-None-Match", fetch->etag);
  if (fetch->last_modified != NULL)
    soup_message_headers_replace (headers, "If-Modified-Since", fetch->last_modified);
  cancellable = g_task_get_cancellable (task);
  soup_session_send_async (self->session, fetch->msg, G_PRIORITY_DEFAULT, cancellable, send_cb,
                           g_steal_pointer (&task));
}

static void
moat_list_fetcher_dispose (GObject *object)
{
  MoatListFetcher *self = MOAT_LIST_FETCHER (object);

  if (self->session != NULL)
    soup_session_abort (self->session);
  g_clear_object (&self->session);

  G_OBJECT_CLASS (moat_list_fetcher_parent_class)->dispose (object);
}

static void
moat_list_fetcher_class_init (MoatListFetcherClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = moat_list_fetcher_dispose;
}

static void
moat_list_fetcher_init (MoatListFetcher *self)
{
  self->max_size = MOAT_LIST_FETCHER_DEFAULT_MAX_SIZE;
  self->session = soup_session_new_with_options ("user-agent", "Moat/" PACKAGE_VERSION,
                                                 "timeout", MOAT_LIST_FETCHER_TIMEOUT_S,
                                                 "idle-timeout", MOAT_LIST_FETCHER_TIMEOUT_S,
                                                 NULL);
  soup_session_set_proxy_resolver (self->session, NULL);
}

MoatListFetcher *
moat_list_fetcher_new (void)
{
  return g_object_new (MOAT_TYPE_LIST_FETCHER, NULL);
}

void
moat_list_fetcher_set_max_size (MoatListFetcher *self,
                                gsize            max_size)
{
  g_return_if_fail (MOAT_IS_LIST_FETCHER (self));
  g_return_if_fail (max_size > 0);
  self->max_size = max_size;
}

gsize
moat_list_fetcher_get_max_size (MoatListFetcher *self)
{
  g_return_val_if_fail (MOAT_IS_LIST_FETCHER (self), 0);
  return self->max_size;
}

void
moat_list_fetcher_set_proxy_resolver (MoatListFetcher *self,
                                      GProxyResolver  *resolver)
{
  g_return_if_fail (MOAT_IS_LIST_FETCHER (self));
  g_return_if_fail (resolver == NULL || G_IS_PROXY_RESOLVER (resolver));
  soup_session_set_proxy_resolver (self->session, resolver);
}

void
moat_list_fetcher_fetch_async (MoatListFetcher     *self,
                               const char          *url,
                               const char          *cache_path,
                               GCancellable        *cancellable,
                               GAsyncReadyCallback  callback,
                               gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  g_autoptr(GUri) uri = NULL;
  const char *scheme;
  Fetch *fetch;

  g_return_if_fail (MOAT_IS_LIST_FETCHER (self));
  g_return_if_fail (cache_path != NULL);

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, moat_list_fetcher_fetch_async);

  if (url != NULL)
    uri = g_uri_parse (url, SOUP_HTTP_URI_FLAGS, NULL);
  scheme = uri != NULL ? g_uri_get_scheme (uri) : NULL;
  if (uri == NULL || (g_strcmp0 (scheme, "http") != 0 && g_strcmp0 (scheme, "https") != 0) ||
      g_uri_get_host (uri) == NULL || *g_uri_get_host (uri) == '\0')
    {
      g_task_return_new_error (task, MOAT_ERROR, MOAT_ERROR_INVALID_ARGUMENT,
                               _("Not an http:// or https:// URL: %s"),
                               url != NULL ? url : "");
      return;
    }

  fetch = g_new0 (Fetch, 1);
  fetch->url = g_strdup (url);
  fetch->uri = g_steal_pointer (&uri);
  fetch->cache_path = g_strdup (cache_path);
  fetch->validators_path = g_strconcat (cache_path, MOAT_LIST_FETCHER_VALIDATORS_SUFFIX, NULL);
  fetch->max_size = self->max_size;
  g_task_set_task_data (task, fetch, (GDestroyNotify) fetch_free);

  run_in_thread (task, load_validators_in_thread, validators_loaded_cb);
}

gboolean
moat_list_fetcher_fetch_finish (MoatListFetcher      *self,
                                GAsyncResult         *result,
                                MoatListFetchResult  *out_result,
                                gint64               *out_mtime,
                                GError              **error)
{
  Fetch *fetch;

  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);

  if (!g_task_propagate_boolean (G_TASK (result), error))
    return FALSE;
  fetch = g_task_get_task_data (G_TASK (result));
  if (out_result != NULL)
    *out_result = fetch->result;
  if (out_mtime != NULL)
    *out_mtime = fetch->mtime;
  return TRUE;
}
