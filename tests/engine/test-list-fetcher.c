/* SPDX-License-Identifier: GPL-3.0-or-later
 * Copyright 2026 The Moat developers
 *
 * Subscription downloads against a SoupServer on 127.0.0.1: conditional
 * requests both ways, and every failure keeps the last good copy.
 */
#define G_LOG_DOMAIN "test-list-fetcher"

#include "config.h"

#include "moat-error.h"
#include "moat-list-fetcher.h"
#include "moat-test-utils.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <libsoup/soup.h>
#include <signal.h>
#include <string.h>
#include <sys/resource.h>

#define MAX_SIZE 4096
#define OLD_LIST "||old.example^\n"
#define LAST_MODIFIED "Wed, 21 Oct 2026 07:28:00 GMT"

typedef struct {
  char         *tmp;
  char         *cache_path;
  char         *validators_path;
  SoupServer   *server;
  char         *base;        /* "http://127.0.0.1:PORT" */
  MoatListFetcher *fetcher;

  /* what the server serves */
  char         *body;
  char         *etag;

  /* what it saw last */
  guint         n_requests;
  char         *if_none_match;
  char         *if_modified_since;
} Fixture;

static void
serve (SoupServerMessage *msg,
       guint              status,
       const char        *body,
       gsize              len)
{
  soup_server_message_set_status (msg, status, NULL);
  if (body != NULL)
    soup_server_message_set_response (msg, "text/plain", SOUP_MEMORY_COPY, body, len);
}

static GBytes *
gzip (const char *data,
      gsize       len)
{
  g_autoptr(GZlibCompressor) compressor = g_zlib_compressor_new (G_ZLIB_COMPRESSOR_FORMAT_GZIP, 9);
  g_autoptr(GError) error = NULL;
  gsize size = len + 1024;
  g_autofree guint8 *out = g_malloc (size);
  gsize bytes_read = 0;
  gsize bytes_written = 0;
  GConverterResult result;

  result = g_converter_convert (G_CONVERTER (compressor), data, len, out, size,
                                G_CONVERTER_INPUT_AT_END, &bytes_read, &bytes_written, &error);
  g_assert_no_error (error);
  g_assert_cmpint (result, ==, G_CONVERTER_FINISHED);
  g_assert_cmpuint (bytes_read, ==, len);
  return g_bytes_new (out, bytes_written);
}

static void
server_cb (SoupServer        *server,
           SoupServerMessage *msg,
           const char        *path,
           GHashTable        *query,
           gpointer           user_data)
{
  Fixture *fixture = user_data;
  SoupMessageHeaders *request = soup_server_message_get_request_headers (msg);
  SoupMessageHeaders *response = soup_server_message_get_response_headers (msg);

  fixture->n_requests++;
  g_free (fixture->if_none_match);
  fixture->if_none_match = g_strdup (soup_message_headers_get_one (request, "If-None-Match"));
  g_free (fixture->if_modified_since);
  fixture->if_modified_since = g_strdup (soup_message_headers_get_one (request,
                                                                       "If-Modified-Since"));

  if (g_str_equal (path, "/etag"))
    {
      soup_message_headers_replace (response, "ETag", fixture->etag);
      if (g_strcmp0 (fixture->if_none_match, fixture->etag) == 0)
        serve (msg, SOUP_STATUS_NOT_MODIFIED, NULL, 0);
      else
        serve (msg, SOUP_STATUS_OK, fixture->body, strlen (fixture->body));
    }
  else if (g_str_equal (path, "/last-modified"))
    {
      soup_message_headers_replace (response, "Last-Modified", LAST_MODIFIED);
      if (g_strcmp0 (fixture->if_modified_since, LAST_MODIFIED) == 0)
        serve (msg, SOUP_STATUS_NOT_MODIFIED, NULL, 0);
      else
        serve (msg, SOUP_STATUS_OK, fixture->body, strlen (fixture->body));
    }
  else if (g_str_equal (path, "/plain"))
    serve (msg, SOUP_STATUS_OK, fixture->body, strlen (fixture->body));
  else if (g_str_equal (path, "/unexpected-304"))
    serve (msg, SOUP_STATUS_NOT_MODIFIED, NULL, 0);
  else if (g_str_equal (path, "/error"))
    serve (msg, SOUP_STATUS_INTERNAL_SERVER_ERROR, "oops\n", 5);
  else if (g_str_equal (path, "/huge") || g_str_equal (path, "/huge-chunked"))
    {
      g_autofree char *huge = g_malloc (MAX_SIZE + 1);

      memset (huge, 'a', MAX_SIZE + 1);
      if (g_str_equal (path, "/huge-chunked"))
        {
          SoupMessageBody *body = soup_server_message_get_response_body (msg);

          soup_message_headers_set_encoding (response, SOUP_ENCODING_CHUNKED);
          soup_server_message_set_status (msg, SOUP_STATUS_OK, NULL);
          for (guint i = 0; i < 4; i++)
            soup_message_body_append (body, SOUP_MEMORY_COPY, huge, MAX_SIZE / 2);
          soup_message_body_complete (body);
        }
      else
        serve (msg, SOUP_STATUS_OK, huge, MAX_SIZE + 1);
    }
  else if (g_str_equal (path, "/exact"))
    {
      g_autofree char *exact = g_malloc (MAX_SIZE);

      memset (exact, 'b', MAX_SIZE);
      serve (msg, SOUP_STATUS_OK, exact, MAX_SIZE);
    }
  else if (g_str_equal (path, "/gzip") || g_str_equal (path, "/gzip-bomb"))
    {
      /* A small compressed body: the cap counts what it inflates to. */
      gsize len = g_str_equal (path, "/gzip") ? strlen (fixture->body) : 64 * MAX_SIZE;
      g_autofree char *plain = g_str_equal (path, "/gzip") ? g_strdup (fixture->body)
                                                             : g_strnfill (len, 'z');
      g_autoptr(GBytes) gz = gzip (plain, len);

      g_assert_cmpuint (g_bytes_get_size (gz), <, MAX_SIZE);
      soup_message_headers_replace (response, "Content-Encoding", "gzip");
      serve (msg, SOUP_STATUS_OK, g_bytes_get_data (gz, NULL), g_bytes_get_size (gz));
    }
  else if (g_str_equal (path, "/nul"))
    serve (msg, SOUP_STATUS_OK, "||a.example^\n\0||b.example^\n", 27);
  else if (g_str_equal (path, "/empty"))
    serve (msg, SOUP_STATUS_OK, "", 0);
  else
    serve (msg, SOUP_STATUS_NOT_FOUND, "not found\n", 10);
}

static void
fixture_set_up (Fixture       *fixture,
                gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  GSList *uris;

  fixture->tmp = g_dir_make_tmp ("moat-list-fetcher-XXXXXX", &error);
  g_assert_no_error (error);
  fixture->cache_path = g_build_filename (fixture->tmp, "list.txt", NULL);
  fixture->validators_path = g_strconcat (fixture->cache_path, MOAT_LIST_FETCHER_VALIDATORS_SUFFIX,
                                          NULL);
  fixture->body = g_strdup ("! Title: test\n||ads.example^\n");
  fixture->etag = g_strdup ("\"v1\"");

  fixture->server = soup_server_new (NULL, NULL);
  soup_server_add_handler (fixture->server, NULL, server_cb, fixture, NULL);
  soup_server_listen_local (fixture->server, 0, SOUP_SERVER_LISTEN_IPV4_ONLY, &error);
  g_assert_no_error (error);
  uris = soup_server_get_uris (fixture->server);
  g_assert_nonnull (uris);
  fixture->base = g_strdup_printf ("http://127.0.0.1:%d", g_uri_get_port (uris->data));
  g_slist_free_full (uris, (GDestroyNotify) g_uri_unref);

  fixture->fetcher = moat_list_fetcher_new ();
  moat_list_fetcher_set_max_size (fixture->fetcher, MAX_SIZE);
}

static void
fixture_tear_down (Fixture       *fixture,
                   gconstpointer  data)
{
  g_clear_object (&fixture->fetcher);
  soup_server_disconnect (fixture->server);
  g_clear_object (&fixture->server);
  moat_test_remove_tree (fixture->tmp);
  g_free (fixture->tmp);
  g_free (fixture->cache_path);
  g_free (fixture->validators_path);
  g_free (fixture->base);
  g_free (fixture->body);
  g_free (fixture->etag);
  g_free (fixture->if_none_match);
  g_free (fixture->if_modified_since);
}

static gboolean
fetch (Fixture             *fixture,
       const char          *path,
       const char          *cache_path,
       GCancellable        *cancellable,
       MoatListFetchResult *result,
       gint64              *mtime,
       GError             **error)
{
  g_autoptr(GAsyncResult) async_result = NULL;
  g_autofree char *url = g_strconcat (fixture->base, path, NULL);

  moat_list_fetcher_fetch_async (fixture->fetcher, url,
                                 cache_path != NULL ? cache_path : fixture->cache_path,
                                 cancellable, moat_test_result_cb, &async_result);
  return moat_list_fetcher_fetch_finish (fixture->fetcher, moat_test_wait_result (&async_result),
                                         result, mtime, error);
}

static void
fetch_ok (Fixture             *fixture,
          const char          *path,
          MoatListFetchResult  expected)
{
  g_autoptr(GError) error = NULL;
  MoatListFetchResult result = 99;
  gint64 mtime = -1;
  GStatBuf st;

  g_assert_true (fetch (fixture, path, NULL, NULL, &result, &mtime, &error));
  g_assert_no_error (error);
  g_assert_cmpint (result, ==, expected);
  g_assert_cmpint (g_stat (fixture->cache_path, &st), ==, 0);
  g_assert_cmpint (mtime, ==, (gint64) st.st_mtime);
}

static void
assert_file (const char *path,
             const char *expected)
{
  g_autofree char *contents = NULL;
  g_autoptr(GError) error = NULL;

  g_file_get_contents (path, &contents, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (contents, ==, expected);
}

static char *
read_file (const char *path)
{
  g_autofree char *contents = NULL;
  g_autoptr(GError) error = NULL;

  g_file_get_contents (path, &contents, NULL, &error);
  g_assert_no_error (error);
  return g_steal_pointer (&contents);
}

/* Puts the last good copy in place, with validators, through the fetcher. */
static void
good_copy (Fixture *fixture)
{
  g_free (fixture->body);
  fixture->body = g_strdup (OLD_LIST);
  fetch_ok (fixture, "/etag", MOAT_LIST_FETCH_UPDATED);
  assert_file (fixture->cache_path, OLD_LIST);
  g_assert_true (g_file_test (fixture->validators_path, G_FILE_TEST_IS_REGULAR));
}

static void
test_etag (Fixture       *fixture,
           gconstpointer  data)
{
  g_autoptr(GKeyFile) keyfile = g_key_file_new ();
  g_autoptr(GError) error = NULL;
  g_autofree char *etag = NULL;

  fetch_ok (fixture, "/etag", MOAT_LIST_FETCH_UPDATED);
  g_assert_cmpuint (fixture->n_requests, ==, 1);
  g_assert_null (fixture->if_none_match);
  assert_file (fixture->cache_path, "! Title: test\n||ads.example^\n");
  g_key_file_load_from_file (keyfile, fixture->validators_path, G_KEY_FILE_NONE, &error);
  g_assert_no_error (error);
  etag = g_key_file_get_string (keyfile, "validators", "etag", &error);
  g_assert_no_error (error);
  g_assert_cmpstr (etag, ==, "\"v1\"");

  /* Unchanged: one conditional request, the file untouched. */
  fetch_ok (fixture, "/etag", MOAT_LIST_FETCH_NOT_MODIFIED);
  g_assert_cmpuint (fixture->n_requests, ==, 2);
  g_assert_cmpstr (fixture->if_none_match, ==, "\"v1\"");
  assert_file (fixture->cache_path, "! Title: test\n||ads.example^\n");

  /* Changed. */
  g_free (fixture->body);
  fixture->body = g_strdup ("||ads.example^\n||more.example^\n");
  g_free (fixture->etag);
  fixture->etag = g_strdup ("W/\"v2\"");
  fetch_ok (fixture, "/etag", MOAT_LIST_FETCH_UPDATED);
  g_assert_cmpstr (fixture->if_none_match, ==, "\"v1\"");
  assert_file (fixture->cache_path, "||ads.example^\n||more.example^\n");
  fetch_ok (fixture, "/etag", MOAT_LIST_FETCH_NOT_MODIFIED);
  g_assert_cmpstr (fixture->if_none_match, ==, "W/\"v2\"");
}

static void
test_last_modified (Fixture       *fixture,
                    gconstpointer  data)
{
  fetch_ok (fixture, "/last-modified", MOAT_LIST_FETCH_UPDATED);
  g_assert_null (fixture->if_modified_since);
  g_assert_null (fixture->if_none_match);
  fetch_ok (fixture, "/last-modified", MOAT_LIST_FETCH_NOT_MODIFIED);
  g_assert_cmpstr (fixture->if_modified_since, ==, LAST_MODIFIED);
  g_assert_null (fixture->if_none_match);
  assert_file (fixture->cache_path, "! Title: test\n||ads.example^\n");
}

/* Validators only count with the copy they describe, for the URL they came
 * from. */
static void
test_validators_scope (Fixture       *fixture,
                       gconstpointer  data)
{
  fetch_ok (fixture, "/etag", MOAT_LIST_FETCH_UPDATED);

  g_assert_cmpint (g_unlink (fixture->cache_path), ==, 0);
  fetch_ok (fixture, "/etag", MOAT_LIST_FETCH_UPDATED);
  g_assert_null (fixture->if_none_match);

  /* Another URL into the same cache file. */
  fetch_ok (fixture, "/etag?other", MOAT_LIST_FETCH_UPDATED);
  g_assert_null (fixture->if_none_match);

  /* A server without validators leaves none behind. */
  fetch_ok (fixture, "/plain", MOAT_LIST_FETCH_UPDATED);
  g_assert_false (g_file_test (fixture->validators_path, G_FILE_TEST_EXISTS));
  fetch_ok (fixture, "/plain", MOAT_LIST_FETCH_UPDATED);
  g_assert_null (fixture->if_none_match);
  g_assert_null (fixture->if_modified_since);
}

static void
assert_fails_keeps_old (Fixture    *fixture,
                        const char *path,
                        GQuark      domain,
                        int         code)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *validators = read_file (fixture->validators_path);
  MoatListFetchResult result = 99;
  gint64 mtime = -1;

  g_test_message ("fetching %s", path);
  g_assert_false (fetch (fixture, path, NULL, NULL, &result, &mtime, &error));
  g_assert_error (error, domain, code);
  g_assert_true (g_str_has_prefix (error->message, "Downloading http://127.0.0.1:"));
  g_assert_cmpint (result, ==, 99);
  g_assert_cmpint (mtime, ==, -1);
  assert_file (fixture->cache_path, OLD_LIST);
  assert_file (fixture->validators_path, validators);
}

static void
test_failures_keep_old (Fixture       *fixture,
                        gconstpointer  data)
{
  good_copy (fixture);
  assert_fails_keeps_old (fixture, "/error", MOAT_ERROR, MOAT_ERROR_FAILED);
  assert_fails_keeps_old (fixture, "/missing", MOAT_ERROR, MOAT_ERROR_FAILED);
  assert_fails_keeps_old (fixture, "/huge", MOAT_ERROR, MOAT_ERROR_LIMIT_EXCEEDED);
  assert_fails_keeps_old (fixture, "/huge-chunked", MOAT_ERROR, MOAT_ERROR_LIMIT_EXCEEDED);
  assert_fails_keeps_old (fixture, "/nul", MOAT_ERROR, MOAT_ERROR_INVALID_ARGUMENT);
  assert_fails_keeps_old (fixture, "/empty", MOAT_ERROR, MOAT_ERROR_INVALID_ARGUMENT);
  g_assert_cmpuint (fixture->n_requests, ==, 7);

  /* Compressed to a few hundred bytes, 256 KiB inflated: the cap counts
   * what is inflated (a compression bomb cannot fill the disk or memory). */
  assert_fails_keeps_old (fixture, "/gzip-bomb", MOAT_ERROR, MOAT_ERROR_LIMIT_EXCEEDED);

  /* Exactly the cap is fine. */
  fetch_ok (fixture, "/exact", MOAT_LIST_FETCH_UPDATED);
}

static void
test_gzip (Fixture       *fixture,
           gconstpointer  data)
{
  fetch_ok (fixture, "/gzip", MOAT_LIST_FETCH_UPDATED);
  assert_file (fixture->cache_path, "! Title: test\n||ads.example^\n");
}

static void
test_unexpected_304 (Fixture       *fixture,
                     gconstpointer  data)
{
  g_autoptr(GError) error = NULL;

  g_file_set_contents (fixture->cache_path, OLD_LIST, -1, &error);
  g_assert_no_error (error);
  g_assert_false (fetch (fixture, "/unexpected-304", NULL, NULL, NULL, NULL, &error));
  g_assert_error (error, MOAT_ERROR, MOAT_ERROR_FAILED);
  assert_file (fixture->cache_path, OLD_LIST);
}

static void
test_network_error (Fixture       *fixture,
                    gconstpointer  data)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GSocket) socket = NULL;
  g_autoptr(GInetSocketAddress) address = NULL;
  g_autoptr(GSocketAddress) bound = NULL;
  g_autofree char *url = NULL;

  good_copy (fixture);
  /* A port nobody listens on: bind one, then close it. */
  socket = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, &error);
  g_assert_no_error (error);
  address = G_INET_SOCKET_ADDRESS (g_inet_socket_address_new_from_string ("127.0.0.1", 0));
  g_socket_bind (socket, G_SOCKET_ADDRESS (address), FALSE, &error);
  g_assert_no_error (error);
  bound = g_socket_get_local_address (socket, &error);
  g_assert_no_error (error);
  url = g_strdup_printf ("http://127.0.0.1:%u/etag",
                         g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound)));
  g_socket_close (socket, NULL);

  moat_list_fetcher_fetch_async (fixture->fetcher, url, fixture->cache_path, NULL,
                                 moat_test_result_cb, &result);
  g_assert_false (moat_list_fetcher_fetch_finish (fixture->fetcher, moat_test_wait_result (&result),
                                                  NULL, NULL, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CONNECTION_REFUSED);
  assert_file (fixture->cache_path, OLD_LIST);
}

static void
test_bad_url (Fixture       *fixture,
              gconstpointer  data)
{
  static const char * const bad[] = {
    NULL, "", "not a url", "ftp://example.com/list.txt", "file:///etc/hosts", "http://",
    "javascript:alert(1)",
  };

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr(GAsyncResult) result = NULL;
      g_autoptr(GError) error = NULL;

      moat_list_fetcher_fetch_async (fixture->fetcher, bad[i], fixture->cache_path, NULL,
                                     moat_test_result_cb, &result);
      g_assert_false (moat_list_fetcher_fetch_finish (fixture->fetcher,
                                                      moat_test_wait_result (&result),
                                                      NULL, NULL, &error));
      g_assert_error (error, MOAT_ERROR, MOAT_ERROR_INVALID_ARGUMENT);
    }
  g_assert_cmpuint (fixture->n_requests, ==, 0);
}

static void
test_disk_error (Fixture       *fixture,
                 gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *missing = g_build_filename (fixture->tmp, "no-such-dir", "list.txt", NULL);
  g_autofree char *contents = NULL;
  struct rlimit saved;
  struct rlimit small;
  void (*saved_handler) (int);

  /* The cache directory does not exist. */
  g_assert_false (fetch (fixture, "/etag", missing, NULL, NULL, NULL, &error));
  g_assert_error (error, G_FILE_ERROR, G_FILE_ERROR_NOENT);
  g_assert_true (g_str_has_prefix (error->message, "Saving http://127.0.0.1:"));
  g_clear_error (&error);

  /* The disk fills up while the new copy is written (as root, a file-size
   * limit is the one refusal permissions cannot override). */
  good_copy (fixture);
  g_free (fixture->body);
  fixture->body = g_strnfill (3000, 'c');
  g_free (fixture->etag);
  fixture->etag = g_strdup ("\"v2\"");
  g_assert_cmpint (getrlimit (RLIMIT_FSIZE, &saved), ==, 0);
  small = saved;
  small.rlim_cur = 1024;
  saved_handler = signal (SIGXFSZ, SIG_IGN);
  if (setrlimit (RLIMIT_FSIZE, &small) != 0)
    {
      signal (SIGXFSZ, saved_handler);
      g_test_skip ("cannot lower RLIMIT_FSIZE");
      return;
    }
  g_assert_false (fetch (fixture, "/etag", NULL, NULL, NULL, NULL, &error));
  g_assert_cmpint (setrlimit (RLIMIT_FSIZE, &saved), ==, 0);
  signal (SIGXFSZ, saved_handler);
  g_assert_error (error, G_FILE_ERROR, (int) g_file_error_from_errno (EFBIG));
  assert_file (fixture->cache_path, OLD_LIST);
  /* The validators went with the failed write: the next fetch is in full. */
  g_assert_false (g_file_test (fixture->validators_path, G_FILE_TEST_EXISTS));
  fetch_ok (fixture, "/etag", MOAT_LIST_FETCH_UPDATED);
  g_assert_null (fixture->if_none_match);
  contents = read_file (fixture->cache_path);
  g_assert_cmpuint (strlen (contents), ==, 3000);
}

static void
test_cancelled (Fixture       *fixture,
                gconstpointer  data)
{
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(GError) error = NULL;

  good_copy (fixture);
  g_free (fixture->body);
  fixture->body = g_strdup ("||new.example^\n");
  g_cancellable_cancel (cancellable);
  g_assert_false (fetch (fixture, "/plain", NULL, cancellable, NULL, NULL, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  assert_file (fixture->cache_path, OLD_LIST);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

#define ADD(path, func) g_test_add ("/moat/list-fetcher/" path, Fixture, NULL, \
                                    fixture_set_up, func, fixture_tear_down)
  ADD ("etag", test_etag);
  ADD ("last-modified", test_last_modified);
  ADD ("validators-scope", test_validators_scope);
  ADD ("failures-keep-old", test_failures_keep_old);
  ADD ("gzip", test_gzip);
  ADD ("unexpected-304", test_unexpected_304);
  ADD ("network-error", test_network_error);
  ADD ("bad-url", test_bad_url);
  ADD ("disk-error", test_disk_error);
  ADD ("cancelled", test_cancelled);
#undef ADD
  return g_test_run ();
}
