/* SPDX-License-Identifier: GPL-3.0-or-later
 * Copyright 2026 The Moat developers
 */
/*
 * MoatProxy in-process on 127.0.0.1:0, a small HTTP/1.1 origin on its own
 * threads, `openssl s_server` as the TLS origin, and the real curl binary as
 * the client.
 */
#define G_LOG_DOMAIN "test-proxy"

#include "config.h"

#include "moat-proxy.h"
#include "moat-proxy-private.h"
#include "moat-test-utils.h"

#include <arpa/inet.h>
#include <errno.h>
#include <glib-unix.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#define LIST_TEXT "! test list\n||blocked.example.test^\n||swapped.example.test^\n"
#define LIST_NAME "test-list"

/* ------------------------------------------------------------------ origin */

typedef struct
{
  int        listen_fd;
  guint16    port;
  GThread   *thread;
  GMutex     lock;
  GPtrArray *threads;      /* GThread */
  GArray    *fds;          /* int: open connections */
  guint      n_connections;
  GString   *last_body;
  gboolean   saw_expect;
  gboolean   saw_via;
} Origin;

typedef struct
{
  Origin *origin;
  int     fd;
  char    buf[65536];
  gsize   len;
  gsize   pos;
} Reader;

static gboolean
reader_fill (Reader *r)
{
  ssize_t n;

  if (r->pos > 0)
    {
      memmove (r->buf, r->buf + r->pos, r->len - r->pos);
      r->len -= r->pos;
      r->pos = 0;
    }
  if (r->len == sizeof r->buf)
    return FALSE;
  n = recv (r->fd, r->buf + r->len, sizeof r->buf - r->len, 0);
  if (n <= 0)
    return FALSE;
  r->len += n;
  return TRUE;
}

/* A line without its CRLF, or NULL at EOF. */
static char *
reader_line (Reader *r)
{
  for (;;)
    {
      char *end = g_strstr_len (r->buf + r->pos, r->len - r->pos, "\r\n");

      if (end != NULL)
        {
          char *line = g_strndup (r->buf + r->pos, end - (r->buf + r->pos));

          r->pos = end + 2 - r->buf;
          return line;
        }
      if (!reader_fill (r))
        return NULL;
    }
}

static gboolean
reader_bytes (Reader *r, gsize n, GString *out)
{
  while (n > 0)
    {
      gsize take;

      if (r->pos == r->len && !reader_fill (r))
        return FALSE;
      take = MIN (n, r->len - r->pos);
      g_string_append_len (out, r->buf + r->pos, take);
      r->pos += take;
      n -= take;
    }
  return TRUE;
}

static void
send_all (int fd, const char *data, gsize len)
{
  while (len > 0)
    {
      ssize_t n = send (fd, data, len, MSG_NOSIGNAL);

      if (n <= 0)
        return;
      data += n;
      len -= n;
    }
}

static gpointer
origin_conn_thread (gpointer data)
{
  Reader *r = data;
  Origin *o = r->origin;

  for (;;)
    {
      g_autofree char *request_line = reader_line (r);
      g_auto(GStrv) parts = NULL;
      g_autoptr(GString) body = g_string_new (NULL);
      g_autoptr(GString) resp = g_string_new (NULL);
      gint64 length = -1;
      gboolean chunked = FALSE, expect = FALSE, close = FALSE, http10;
      gboolean keep_alive_10 = FALSE, via = FALSE;

      if (request_line == NULL)
        break;
      parts = g_strsplit (request_line, " ", 3);
      if (g_strv_length (parts) != 3)
        break;
      http10 = g_str_equal (parts[2], "HTTP/1.0");
      for (;;)
        {
          g_autofree char *line = reader_line (r);

          if (line == NULL)
            goto out;
          if (*line == '\0')
            break;
          if (g_ascii_strncasecmp (line, "Content-Length:", 15) == 0)
            length = g_ascii_strtoll (line + 15, NULL, 10);
          else if (g_ascii_strncasecmp (line, "Transfer-Encoding:", 18) == 0)
            chunked = strstr (line, "chunked") != NULL;
          else if (g_ascii_strncasecmp (line, "Expect:", 7) == 0)
            expect = TRUE;
          else if (g_ascii_strncasecmp (line, "Via:", 4) == 0)
            via = strstr (line, "moat") != NULL;
          else if (g_ascii_strncasecmp (line, "Connection:", 11) == 0)
            {
              close = strstr (line, "close") != NULL;
              keep_alive_10 = g_ascii_strcasecmp (line + 11, " keep-alive") == 0;
            }
        }
      if (http10 && !keep_alive_10)
        close = TRUE;
      if (expect)
        send_all (r->fd, "HTTP/1.1 100 Continue\r\n\r\n", 25);
      if (chunked)
        {
          for (;;)
            {
              g_autofree char *size_line = reader_line (r);
              guint64 size;
              g_autofree char *crlf = NULL;

              if (size_line == NULL)
                goto out;
              size = g_ascii_strtoull (size_line, NULL, 16);
              if (size == 0)
                {
                  g_autofree char *end = reader_line (r);

                  break;
                }
              if (!reader_bytes (r, size, body))
                goto out;
              crlf = reader_line (r);
            }
        }
      else if (length > 0 && !reader_bytes (r, length, body))
        goto out;

      g_mutex_lock (&o->lock);
      g_string_assign (o->last_body, body->str);
      g_string_truncate (o->last_body, 0);
      g_string_append_len (o->last_body, body->str, body->len);
      o->saw_expect = o->saw_expect || expect;
      o->saw_via = via;
      g_mutex_unlock (&o->lock);

      if (g_str_equal (parts[1], "/1k") || g_str_equal (parts[1], "/1k-then-hang-up"))
        {
          g_string_append_printf (resp, "HTTP/1.1 200 OK\r\nContent-Length: 1024\r\n%s\r\n",
                                  close ? "Connection: close\r\n" : "");
          for (guint i = 0; i < 1024; i++)
            g_string_append_c (resp, 'a' + i % 26);
        }
      else if (g_str_equal (parts[1], "/chunked"))
        g_string_append_printf (resp, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n%s\r\n"
                                "6;ext=1\r\nhello \r\n8\r\nchunked \r\n5\r\nworld\r\n0\r\n\r\n",
                                close ? "Connection: close\r\n" : "");
      else
        {
          g_autofree char *text = g_strdup_printf ("got %" G_GSIZE_FORMAT " bytes", body->len);

          g_string_append_printf (resp, "HTTP/1.1 200 OK\r\nContent-Length: %" G_GSIZE_FORMAT "\r\n%s\r\n%s",
                                  strlen (text), close ? "Connection: close\r\n" : "", text);
        }
      send_all (r->fd, resp->str, resp->len);
      /* Like a server whose keep-alive timeout ran out: no warning. */
      if (close || g_str_equal (parts[1], "/1k-then-hang-up"))
        break;
    }
out:
  shutdown (r->fd, SHUT_RDWR);
  return NULL;
}

static gpointer
origin_accept_thread (gpointer data)
{
  Origin *o = data;

  for (;;)
    {
      int fd = accept (o->listen_fd, NULL, NULL);
      Reader *r;

      if (fd < 0)
        {
          if (errno == EINTR)
            continue;
          break;
        }
      r = g_new0 (Reader, 1);
      r->origin = o;
      r->fd = fd;
      g_mutex_lock (&o->lock);
      o->n_connections++;
      g_array_append_val (o->fds, fd);
      g_ptr_array_add (o->threads, g_thread_new ("origin-conn", origin_conn_thread, r));
      g_ptr_array_add (o->threads, r);   /* freed with the thread */
      g_mutex_unlock (&o->lock);
    }
  return NULL;
}

static void
origin_start (Origin *o)
{
  struct sockaddr_in sin = { .sin_family = AF_INET };
  socklen_t len = sizeof sin;
  int one = 1;

  sin.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
  o->listen_fd = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  g_assert_cmpint (o->listen_fd, >=, 0);
  setsockopt (o->listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  g_assert_cmpint (bind (o->listen_fd, (struct sockaddr *) &sin, sizeof sin), ==, 0);
  g_assert_cmpint (listen (o->listen_fd, 64), ==, 0);
  g_assert_cmpint (getsockname (o->listen_fd, (struct sockaddr *) &sin, &len), ==, 0);
  o->port = ntohs (sin.sin_port);
  g_mutex_init (&o->lock);
  o->threads = g_ptr_array_new ();
  o->fds = g_array_new (FALSE, FALSE, sizeof (int));
  o->last_body = g_string_new (NULL);
  o->thread = g_thread_new ("origin", origin_accept_thread, o);
}

static void
origin_stop (Origin *o)
{
  shutdown (o->listen_fd, SHUT_RDWR);
  g_thread_join (o->thread);
  close (o->listen_fd);
  g_mutex_lock (&o->lock);
  for (guint i = 0; i < o->fds->len; i++)
    shutdown (g_array_index (o->fds, int, i), SHUT_RDWR);
  g_mutex_unlock (&o->lock);
  for (guint i = 0; i < o->threads->len; i += 2)
    {
      Reader *r = o->threads->pdata[i + 1];

      g_thread_join (o->threads->pdata[i]);
      close (r->fd);
      g_free (r);
    }
  g_ptr_array_unref (o->threads);
  g_array_unref (o->fds);
  g_string_free (o->last_body, TRUE);
  g_mutex_clear (&o->lock);
}

/* ----------------------------------------------------------------- fixture */

typedef struct
{
  Origin             origin;
  MoatProxy         *proxy;
  MoatFilterMatcher *matcher;
  GPtrArray         *blocks;    /* MoatProxyBlock, copied from ::blocked */
  char              *tmpdir;
} Fixture;

static MoatFilterMatcher *
matcher_from_text (const char *text)
{
  g_autoptr(GBytes) bytes = g_bytes_new (text, strlen (text));
  g_autoptr(GError) error = NULL;
  g_autoptr(MoatFilterList) list = NULL;

  list = moat_filter_list_new_from_bytes (LIST_NAME, MOAT_FILTER_CATEGORY_ADS, MOAT_FILTER_FORMAT_ADBLOCK,
                                          MOAT_FILTER_LIST_NONE, bytes, &error);
  g_assert_no_error (error);
  return moat_filter_matcher_new (&list, 1);
}

static void
on_blocked (MoatProxy *proxy, GPtrArray *blocks, Fixture *fixture)
{
  for (guint i = 0; i < blocks->len; i++)
    {
      const MoatProxyBlock *b = blocks->pdata[i];
      MoatProxyBlock *copy = g_new0 (MoatProxyBlock, 1);

      *copy = *b;
      copy->host = g_strdup (b->host);
      copy->url = g_strdup (b->url);
      copy->list_name = g_strdup (b->list_name);
      copy->rule = g_strdup (b->rule);
      g_ptr_array_add (fixture->blocks, copy);
    }
}

static void
fixture_set_up (Fixture *fixture, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  const char *allow[] = { "allowed.example.test", "blocked.example.test", NULL };

  origin_start (&fixture->origin);
  fixture->blocks = g_ptr_array_new_with_free_func ((GDestroyNotify) moat_proxy_block_free);
  fixture->tmpdir = g_dir_make_tmp ("moat-proxy-test-XXXXXX", &error);
  g_assert_no_error (error);
  fixture->matcher = matcher_from_text (LIST_TEXT);
  fixture->proxy = moat_proxy_new ();
  g_signal_connect (fixture->proxy, "blocked", G_CALLBACK (on_blocked), fixture);
  moat_proxy_set_resolve (fixture->proxy, "allowed.example.test", "127.0.0.1");
  moat_proxy_set_resolve (fixture->proxy, "blocked.example.test", "127.0.0.1");
  moat_proxy_set_resolve (fixture->proxy, "swapped.example.test", "127.0.0.1");
  moat_proxy_set_resolve (fixture->proxy, "local.example.test", "127.0.0.1");
  moat_proxy_set_allow_local_hosts (fixture->proxy, allow);
  moat_proxy_set_matcher (fixture->proxy, fixture->matcher);
  g_assert_true (moat_proxy_start (fixture->proxy, "127.0.0.1", 0, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (moat_proxy_get_port (fixture->proxy), >, 0);
}

static void
fixture_tear_down (Fixture *fixture, gconstpointer data)
{
  moat_proxy_stop (fixture->proxy);
  g_clear_object (&fixture->proxy);
  origin_stop (&fixture->origin);
  moat_filter_matcher_unref (fixture->matcher);
  g_ptr_array_unref (fixture->blocks);
  moat_test_remove_tree (fixture->tmpdir);
  g_free (fixture->tmpdir);
}

/* ----------------------------------------------------------------- helpers */

static gboolean
have_program (const char *name)
{
  g_autofree char *path = g_find_program_in_path (name);

  return path != NULL;
}

/* Runs curl through the proxy; returns its stdout, *status is the exit code. */
static char *
run_curl (Fixture *fixture, int *status, gsize *out_len, ...)
{
  g_autoptr(GPtrArray) argv = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GError) error = NULL;
  g_autofree char *err = NULL;
  char *out = NULL;
  int wait_status = 0;
  va_list ap;
  const char *arg;

  g_ptr_array_add (argv, g_strdup ("curl"));
  g_ptr_array_add (argv, g_strdup ("-sS"));
  g_ptr_array_add (argv, g_strdup ("--max-time"));
  g_ptr_array_add (argv, g_strdup ("15"));
  g_ptr_array_add (argv, g_strdup ("-x"));
  g_ptr_array_add (argv, g_strdup_printf ("http://%s", moat_proxy_get_address (fixture->proxy)));
  va_start (ap, out_len);
  while ((arg = va_arg (ap, const char *)) != NULL)
    g_ptr_array_add (argv, g_strdup (arg));
  va_end (ap);
  g_ptr_array_add (argv, NULL);
  g_spawn_sync (NULL, (char **) argv->pdata, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL,
                &out, &err, &wait_status, &error);
  g_assert_no_error (error);
  *status = WIFEXITED (wait_status) ? WEXITSTATUS (wait_status) : -1;
  if (out_len != NULL)
    *out_len = out != NULL ? strlen (out) : 0;
  if (*status != 0)
    g_test_message ("curl stderr: %s", err);
  return out;
}

static char *
url (Fixture *fixture, const char *host, const char *path)
{
  return g_strdup_printf ("http://%s:%u%s", host, fixture->origin.port, path);
}

static char *
expected_1k (void)
{
  GString *s = g_string_new (NULL);

  for (guint i = 0; i < 1024; i++)
    g_string_append_c (s, 'a' + i % 26);
  return g_string_free (s, FALSE);
}

/* Sends @request on a fresh connection, half-closes, reads to EOF. */
static char *
raw_exchange (Fixture *fixture, const char *request)
{
  struct sockaddr_in sin = { .sin_family = AF_INET };
  struct timeval tv = { .tv_sec = 15 };
  int fd = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  GString *s = g_string_new (NULL);
  char buf[4096];
  ssize_t n;

  sin.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
  sin.sin_port = htons (moat_proxy_get_port (fixture->proxy));
  setsockopt (fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  g_assert_cmpint (connect (fd, (struct sockaddr *) &sin, sizeof sin), ==, 0);
  send_all (fd, request, strlen (request));
  shutdown (fd, SHUT_WR);
  while ((n = recv (fd, buf, sizeof buf, 0)) > 0)
    g_string_append_len (s, buf, n);
  close (fd);
  return g_string_free (s, FALSE);
}

static int
raw_connect (Fixture *fixture)
{
  struct sockaddr_in sin = { .sin_family = AF_INET };
  struct timeval tv = { .tv_sec = 15 };
  int fd = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

  sin.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
  sin.sin_port = htons (moat_proxy_get_port (fixture->proxy));
  setsockopt (fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  g_assert_cmpint (connect (fd, (struct sockaddr *) &sin, sizeof sin), ==, 0);
  return fd;
}

typedef struct
{
  MoatProxy *proxy;
  guint64    requests;
  guint      upstream_idle;
} StatsWait;

/* The proxy counts after the last byte went out: wait for it. */
static gboolean
stats_reached (gpointer data)
{
  StatsWait *w = data;
  MoatProxyStats stats;

  moat_proxy_get_stats (w->proxy, &stats);
  return stats.requests >= w->requests && stats.upstream_idle >= w->upstream_idle;
}

static gboolean
tick_cb (gpointer data)
{
  return G_SOURCE_CONTINUE;
}

/* Counters change on the proxy thread without waking this context: poll. */
static void
wait_for_stats (MoatProxy *proxy, guint64 requests, guint upstream_idle)
{
  StatsWait w = { proxy, requests, upstream_idle };
  guint id = g_timeout_add (10, tick_cb, NULL);

  moat_test_wait_until (stats_reached, &w);
  g_source_remove (id);
}

static gboolean
has_blocks (gpointer data)
{
  Fixture *fixture = data;

  return fixture->blocks->len > 0;
}

/* How many blocks the records stand for (repeats in one batch are one record). */
static guint
n_blocked (Fixture *fixture)
{
  guint n = 0;

  for (guint i = 0; i < fixture->blocks->len; i++)
    n += ((MoatProxyBlock *) fixture->blocks->pdata[i])->count;
  return n;
}

static gboolean
has_two_blocks (gpointer data)
{
  return n_blocked (data) >= 2;
}

/* ------------------------------------------------------------------- tests */

static void
test_get (Fixture *fixture, gconstpointer data)
{
  g_autofree char *u = url (fixture, "allowed.example.test", "/1k");
  g_autofree char *expected = expected_1k ();
  g_autofree char *out = NULL;
  MoatProxyStats stats;
  int status;

  out = run_curl (fixture, &status, NULL, u, NULL);
  g_assert_cmpint (status, ==, 0);
  g_assert_cmpstr (out, ==, expected);
  g_mutex_lock (&fixture->origin.lock);
  g_assert_true (fixture->origin.saw_via);
  g_mutex_unlock (&fixture->origin.lock);
  wait_for_stats (fixture->proxy, 1, 0);
  moat_proxy_get_stats (fixture->proxy, &stats);
  g_assert_cmpuint (stats.requests, ==, 1);
  g_assert_cmpuint (stats.blocked, ==, 0);
}

static void
test_post_chunked (Fixture *fixture, gconstpointer data)
{
  g_autofree char *u = url (fixture, "allowed.example.test", "/echo");
  g_autofree char *path = g_build_filename (fixture->tmpdir, "body", NULL);
  g_autofree char *at = g_strconcat ("@", path, NULL);
  g_autofree char *out = NULL;
  g_autofree char *want = NULL;
  g_autoptr(GString) body = g_string_new (NULL);
  g_autoptr(GError) error = NULL;
  int status;

  for (guint i = 0; i < 300000; i++)
    g_string_append_c (body, '0' + i % 10);
  g_file_set_contents (path, body->str, body->len, &error);
  g_assert_no_error (error);
  out = run_curl (fixture, &status, NULL, "-H", "Transfer-Encoding: chunked", "--data-binary", at, u, NULL);
  g_assert_cmpint (status, ==, 0);
  want = g_strdup_printf ("got %" G_GSIZE_FORMAT " bytes", body->len);
  g_assert_cmpstr (out, ==, want);
  g_mutex_lock (&fixture->origin.lock);
  g_assert_cmpuint (fixture->origin.last_body->len, ==, body->len);
  g_assert_true (memcmp (fixture->origin.last_body->str, body->str, body->len) == 0);
  g_mutex_unlock (&fixture->origin.lock);
}

static void
test_keep_alive (Fixture *fixture, gconstpointer data)
{
  g_autofree char *u1 = url (fixture, "allowed.example.test", "/1k");
  g_autofree char *u2 = url (fixture, "allowed.example.test", "/chunked");
  g_autofree char *expected = expected_1k ();
  g_autofree char *want = g_strconcat (expected, "hello chunked world", NULL);
  g_autofree char *out = NULL;
  MoatProxyStats stats;
  int status;

  out = run_curl (fixture, &status, NULL, u1, u2, NULL);
  g_assert_cmpint (status, ==, 0);
  g_assert_cmpstr (out, ==, want);
  g_mutex_lock (&fixture->origin.lock);
  g_assert_cmpuint (fixture->origin.n_connections, ==, 1);
  g_mutex_unlock (&fixture->origin.lock);
  wait_for_stats (fixture->proxy, 2, 1);
  moat_proxy_get_stats (fixture->proxy, &stats);
  g_assert_cmpuint (stats.requests, ==, 2);
  g_assert_cmpuint (stats.upstream_idle, ==, 1);
}

/* The origin drops a kept-alive connection: the next request still works
 * (the pool notices the close, or the request is retried once). */
static void
test_pool_hang_up (Fixture *fixture, gconstpointer data)
{
  g_autofree char *u1 = url (fixture, "allowed.example.test", "/1k-then-hang-up");
  g_autofree char *u2 = url (fixture, "allowed.example.test", "/1k");
  g_autofree char *expected = expected_1k ();
  g_autofree char *want = g_strconcat (expected, expected, NULL);
  g_autofree char *out = NULL;
  int status;

  out = run_curl (fixture, &status, NULL, u1, u2, NULL);
  g_assert_cmpint (status, ==, 0);
  g_assert_cmpstr (out, ==, want);
  g_mutex_lock (&fixture->origin.lock);
  g_assert_cmpuint (fixture->origin.n_connections, ==, 2);
  g_mutex_unlock (&fixture->origin.lock);
}

static void
test_http10 (Fixture *fixture, gconstpointer data)
{
  g_autofree char *u1 = url (fixture, "allowed.example.test", "/1k");
  g_autofree char *u2 = url (fixture, "allowed.example.test", "/chunked");
  g_autofree char *expected = expected_1k ();
  g_autofree char *out1 = NULL;
  g_autofree char *out2 = NULL;
  int status;

  out1 = run_curl (fixture, &status, NULL, "--http1.0", u1, NULL);
  g_assert_cmpint (status, ==, 0);
  g_assert_cmpstr (out1, ==, expected);
  /* A chunked response reaches an HTTP/1.0 client as plain bytes up to the close. */
  out2 = run_curl (fixture, &status, NULL, "--http1.0", u2, NULL);
  g_assert_cmpint (status, ==, 0);
  g_assert_cmpstr (out2, ==, "hello chunked world");
}

static void
test_expect_continue (Fixture *fixture, gconstpointer data)
{
  g_autofree char *u = url (fixture, "allowed.example.test", "/echo");
  g_autofree char *path = g_build_filename (fixture->tmpdir, "big", NULL);
  g_autofree char *at = g_strconcat ("@", path, NULL);
  g_autofree char *out = NULL;
  g_autoptr(GError) error = NULL;
  gsize size = 3 * 1024 * 1024;
  g_autofree char *body = g_malloc (size);
  int status;

  for (gsize i = 0; i < size; i++)
    body[i] = 'A' + i % 23;
  g_file_set_contents (path, body, size, &error);
  g_assert_no_error (error);
  out = run_curl (fixture, &status, NULL, "-H", "Expect: 100-continue", "--expect100-timeout", "10",
                  "--data-binary", at, u, NULL);
  g_assert_cmpint (status, ==, 0);
  g_assert_cmpstr (out, ==, "got 3145728 bytes");
  g_mutex_lock (&fixture->origin.lock);
  g_assert_true (fixture->origin.saw_expect);
  g_assert_cmpuint (fixture->origin.last_body->len, ==, size);
  g_assert_true (memcmp (fixture->origin.last_body->str, body, size) == 0);
  g_mutex_unlock (&fixture->origin.lock);
}

static void
test_connect_tls (Fixture *fixture, gconstpointer data)
{
  g_autofree char *cert = g_build_filename (fixture->tmpdir, "cert.pem", NULL);
  g_autofree char *key = g_build_filename (fixture->tmpdir, "key.pem", NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(GSubprocess) server = NULL;
  g_autofree char *accept = NULL;
  g_autofree char *u = NULL;
  g_autofree char *out = NULL;
  struct sockaddr_in sin = { .sin_family = AF_INET };
  socklen_t len = sizeof sin;
  guint16 ports[2];
  int fd, status, wait_status;
  MoatProxyStats stats;

  if (!have_program ("openssl"))
    {
      g_test_skip ("openssl is not installed");
      return;
    }
  {
    const char *const req_argv[] = { "openssl", "req", "-x509", "-newkey", "ec",
                                     "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                                     "-subj", "/CN=allowed.example.test", "-days", "1",
                                     "-keyout", key, "-out", cert, NULL };

    g_assert_true (g_spawn_sync (NULL, (char **) req_argv, NULL,
                                 G_SPAWN_SEARCH_PATH | G_SPAWN_STDOUT_TO_DEV_NULL | G_SPAWN_STDERR_TO_DEV_NULL,
                                 NULL, NULL, NULL, NULL, &wait_status, &error));
  }
  g_assert_no_error (error);
  g_assert_cmpint (wait_status, ==, 0);

  /* A free port for s_server. */
  sin.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
  fd = socket (AF_INET, SOCK_STREAM, 0);
  g_assert_cmpint (bind (fd, (struct sockaddr *) &sin, sizeof sin), ==, 0);
  getsockname (fd, (struct sockaddr *) &sin, &len);
  close (fd);
  accept = g_strdup_printf ("127.0.0.1:%u", ntohs (sin.sin_port));
  server = g_subprocess_new (G_SUBPROCESS_FLAGS_STDOUT_SILENCE | G_SUBPROCESS_FLAGS_STDERR_SILENCE |
                             G_SUBPROCESS_FLAGS_STDIN_PIPE, &error,
                             "openssl", "s_server", "-accept", accept, "-cert", cert, "-key", key,
                             "-www", "-quiet", NULL);
  g_assert_no_error (error);
  /* Wait until it listens (the wait is bounded by moat_test_wait_until's limit). */
  for (guint i = 0; i < 300; i++)
    {
      int probe = socket (AF_INET, SOCK_STREAM, 0);
      int r = connect (probe, (struct sockaddr *) &sin, sizeof sin);

      close (probe);
      if (r == 0)
        break;
      g_usleep (20000);
    }

  ports[0] = 443;
  ports[1] = ntohs (sin.sin_port);
  moat_proxy_set_connect_ports (fixture->proxy, ports, 2);
  u = g_strdup_printf ("https://allowed.example.test:%u/", ports[1]);
  out = run_curl (fixture, &status, NULL, "-k", u, NULL);
  g_assert_cmpint (status, ==, 0);
  g_assert_nonnull (strstr (out, "s_server"));
  moat_proxy_get_stats (fixture->proxy, &stats);
  g_assert_cmpuint (stats.tunnels, ==, 1);

  /* The same through a parent proxy: our CONNECT goes to it, its answer
   * comes back through the tunnel. */
  {
    g_autoptr(MoatProxy) parent = moat_proxy_new ();
    g_autofree char *out2 = NULL;
    const char *allow[] = { "allowed.example.test", NULL };
    MoatProxyStats parent_stats;

    moat_proxy_set_resolve (parent, "allowed.example.test", "127.0.0.1");
    moat_proxy_set_allow_local_hosts (parent, allow);
    moat_proxy_set_connect_ports (parent, ports, 2);
    g_assert_true (moat_proxy_start (parent, "127.0.0.1", 0, &error));
    g_assert_no_error (error);
    moat_proxy_set_parent (fixture->proxy, "127.0.0.1", moat_proxy_get_port (parent));
    out2 = run_curl (fixture, &status, NULL, "-k", u, NULL);
    g_assert_cmpint (status, ==, 0);
    g_assert_nonnull (strstr (out2, "s_server"));
    moat_proxy_get_stats (parent, &parent_stats);
    g_assert_cmpuint (parent_stats.tunnels, ==, 1);
    moat_proxy_stop (parent);
  }
  g_subprocess_force_exit (server);
  g_subprocess_wait (server, NULL, NULL);
}

/* A client that half-closes its side of a tunnel still gets the answer. */
static void
test_tunnel_half_close (Fixture *fixture, gconstpointer data)
{
  guint16 ports[] = { fixture->origin.port };
  g_autofree char *connect_req = g_strdup_printf ("CONNECT allowed.example.test:%u HTTP/1.1\r\n"
                                                  "Host: allowed.example.test:%u\r\n\r\n",
                                                  fixture->origin.port, fixture->origin.port);
  static const char get[] = "GET /1k HTTP/1.1\r\nHost: allowed.example.test\r\nConnection: close\r\n\r\n";
  g_autoptr(GString) s = g_string_new (NULL);
  g_autofree char *expected = expected_1k ();
  char buf[4096];
  gssize n;
  int fd;

  moat_proxy_set_connect_ports (fixture->proxy, ports, 1);
  fd = raw_connect (fixture);
  send_all (fd, connect_req, strlen (connect_req));
  while (strstr (s->str, "\r\n\r\n") == NULL && (n = recv (fd, buf, sizeof buf, 0)) > 0)
    g_string_append_len (s, buf, n);
  g_assert_true (g_str_has_prefix (s->str, "HTTP/1.1 200 "));
  g_string_truncate (s, 0);
  send_all (fd, get, strlen (get));
  shutdown (fd, SHUT_WR);
  while ((n = recv (fd, buf, sizeof buf, 0)) > 0)
    g_string_append_len (s, buf, n);
  close (fd);
  g_assert_true (g_str_has_prefix (s->str, "HTTP/1.1 200 OK\r\n"));
  g_assert_true (g_str_has_suffix (s->str, expected));
}

/* Echoes one connection back until its peer half-closes. */
static gpointer
echo_thread (gpointer data)
{
  int listen_fd = GPOINTER_TO_INT (data);
  int fd = accept (listen_fd, NULL, NULL);
  char buf[16384];
  ssize_t n;

  close (listen_fd);
  if (fd < 0)
    return NULL;
  while ((n = recv (fd, buf, sizeof buf, 0)) > 0)
    send_all (fd, buf, n);
  shutdown (fd, SHUT_WR);
  close (fd);
  return NULL;
}

/* 24 MiB each way through one tunnel, both directions at once, with the
 * client not reading at first: the echo server then stops reading, and
 * the proxy's pipes and socket buffers fill in both directions. Nothing may
 * be lost, duplicated or reordered, and the tunnel must drain once the
 * client reads again. */
static void
test_tunnel_bulk (Fixture *fixture, gconstpointer data)
{
  const gsize total = 24 * 1024 * 1024;
  struct sockaddr_in sin = { .sin_family = AF_INET };
  socklen_t sin_len = sizeof sin;
  int listen_fd = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  g_autofree guint8 *payload = g_malloc (total);
  g_autofree guint8 *echoed = g_malloc (total);
  g_autoptr(GString) head = g_string_new (NULL);
  g_autoptr(GRand) rand = g_rand_new_with_seed (4);
  g_autofree char *connect_req = NULL;
  GThread *echo;
  gsize sent = 0, got = 0, held = 0;
  gint64 start, read_from;
  guint16 ports[1];
  char buf[4096];
  int fd;

  for (gsize i = 0; i < total; i += 4)
    {
      guint32 r = g_rand_int (rand);
      memcpy (payload + i, &r, 4);
    }
  sin.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
  g_assert_cmpint (bind (listen_fd, (struct sockaddr *) &sin, sizeof sin), ==, 0);
  g_assert_cmpint (listen (listen_fd, 1), ==, 0);
  getsockname (listen_fd, (struct sockaddr *) &sin, &sin_len);
  ports[0] = ntohs (sin.sin_port);
  moat_proxy_set_connect_ports (fixture->proxy, ports, 1);
  echo = g_thread_new ("echo", echo_thread, GINT_TO_POINTER (listen_fd));

  connect_req = g_strdup_printf ("CONNECT allowed.example.test:%u HTTP/1.1\r\n"
                                 "Host: allowed.example.test:%u\r\n\r\n", ports[0], ports[0]);
  fd = raw_connect (fixture);
  send_all (fd, connect_req, strlen (connect_req));
  while (strstr (head->str, "\r\n\r\n") == NULL)
    {
      /* One byte at a time: nothing after the head may be swallowed. */
      ssize_t n = recv (fd, buf, 1, 0);

      g_assert_cmpint (n, ==, 1);
      g_string_append_len (head, buf, 1);
    }
  g_assert_true (g_str_has_prefix (head->str, "HTTP/1.1 200 "));

  g_unix_set_fd_nonblocking (fd, TRUE, NULL);
  start = g_get_monotonic_time ();
  read_from = start + 300 * G_TIME_SPAN_MILLISECOND;
  while (got < total)
    {
      struct pollfd pfd = { .fd = fd, .events = 0 };
      gint64 now = g_get_monotonic_time ();
      gboolean reading = now >= read_from;

      g_assert_cmpint (now - start, <, 30 * G_TIME_SPAN_SECOND);
      if (sent < total)
        pfd.events |= POLLOUT;
      if (reading)
        pfd.events |= POLLIN;
      if (poll (&pfd, 1, reading ? 1000 : 50) < 0)
        g_assert_cmpint (errno, ==, EINTR);
      if (pfd.revents & POLLOUT)
        {
          ssize_t n = send (fd, payload + sent, MIN (total - sent, 65536), MSG_NOSIGNAL);

          if (n > 0)
            sent += n;
          else
            g_assert_true (errno == EAGAIN || errno == EWOULDBLOCK);
          if (sent == total)
            shutdown (fd, SHUT_WR);
        }
      if (pfd.revents & (POLLIN | POLLHUP))
        {
          ssize_t n = recv (fd, echoed + got, total - got, 0);

          g_assert_cmpint (n, !=, 0);   /* no early end of the tunnel */
          if (n > 0)
            got += n;
          else
            g_assert_true (errno == EAGAIN || errno == EWOULDBLOCK);
        }
      if (!reading)
        {
          g_assert_cmpuint (got, ==, 0);
          held = sent;
        }
    }
  /* The payload is bigger than every buffer on the way: the client had to
   * stop sending while it did not read. */
  g_test_message ("sent before reading: %" G_GSIZE_FORMAT " of %" G_GSIZE_FORMAT, held, total);
  g_assert_cmpuint (held, <, total);
  g_assert_cmpuint (sent, ==, total);
  g_assert_true (memcmp (payload, echoed, total) == 0);

  /* Then the echo server's end, and the proxy's. */
  g_unix_set_fd_nonblocking (fd, FALSE, NULL);
  g_assert_cmpint (recv (fd, buf, sizeof buf, 0), ==, 0);
  close (fd);
  g_thread_join (echo);
}

static void
test_blocked_http (Fixture *fixture, gconstpointer data)
{
  g_autofree char *u = url (fixture, "blocked.example.test", "/1k");
  g_autofree char *out = NULL;
  g_autofree char *again = NULL;
  const MoatProxyBlock *b;
  int status;

  out = run_curl (fixture, &status, NULL, "-i", u, NULL);
  g_assert_cmpint (status, ==, 0);
  g_assert_true (g_str_has_prefix (out, "HTTP/1.1 403 "));
  g_assert_nonnull (strstr (out, "X-Moat-Block-Reason: ads (" LIST_NAME ")\r\n"));
  g_assert_nonnull (strstr (out, "Cache-Control: no-store\r\n"));
  g_assert_nonnull (strstr (out, "text/html; charset=utf-8"));
  g_assert_nonnull (strstr (out, "blocked.example.test"));
  g_mutex_lock (&fixture->origin.lock);
  g_assert_cmpuint (fixture->origin.n_connections, ==, 0);
  g_mutex_unlock (&fixture->origin.lock);

  /* The same again: the page comes from the proxy's cache (and nothing
   * leaks, which ASan checks). */
  again = run_curl (fixture, &status, NULL, u, NULL);
  g_assert_cmpint (status, ==, 0);
  g_assert_nonnull (strstr (again, "blocked.example.test"));

  moat_test_wait_until (has_two_blocks, fixture);
  g_assert_cmpuint (n_blocked (fixture), ==, 2);
  /* One record with a count, or two when the batches fell apart. */
  g_assert_cmpuint (fixture->blocks->len, >=, 1);
  g_assert_cmpuint (fixture->blocks->len, <=, 2);
  b = fixture->blocks->pdata[0];
  g_assert_cmpint (b->reason, ==, MOAT_PROXY_BLOCK_FILTER);
  g_assert_false (b->tunnel);
  g_assert_cmpstr (b->host, ==, "blocked.example.test");
  g_assert_cmpuint (b->port, ==, fixture->origin.port);
  g_assert_cmpstr (b->url, ==, u);
  g_assert_cmpint (b->category, ==, MOAT_FILTER_CATEGORY_ADS);
  g_assert_cmpstr (b->list_name, ==, LIST_NAME);
  g_assert_cmpstr (b->rule, ==, "||blocked.example.test^");
  g_assert_cmpuint (b->line, ==, 2);
}

static gboolean
has_twenty_blocks (gpointer data)
{
  return n_blocked (data) >= 20;
}

/* A burst of the same block costs the owner one record with a count. */
static void
test_blocked_burst (Fixture *fixture, gconstpointer data)
{
  g_autofree char *u = g_strdup_printf ("http://blocked.example.test:%u/pixel.gif",
                                        fixture->origin.port);
  g_autoptr(GPtrArray) args = g_ptr_array_new ();
  g_autofree char *out = NULL;
  int status;

  for (guint i = 0; i < 20; i++)
    g_ptr_array_add (args, u);
  /* curl fetches them one after another on one connection. */
  out = run_curl (fixture, &status, NULL, args->pdata[0], args->pdata[1], args->pdata[2],
                  args->pdata[3], args->pdata[4], args->pdata[5], args->pdata[6], args->pdata[7],
                  args->pdata[8], args->pdata[9], args->pdata[10], args->pdata[11],
                  args->pdata[12], args->pdata[13], args->pdata[14], args->pdata[15],
                  args->pdata[16], args->pdata[17], args->pdata[18], args->pdata[19], NULL);
  g_assert_cmpint (status, ==, 0);
  moat_test_wait_until (has_twenty_blocks, fixture);
  g_assert_cmpuint (n_blocked (fixture), ==, 20);
  g_assert_cmpuint (fixture->blocks->len, <, 20);
  for (guint i = 0; i < fixture->blocks->len; i++)
    g_assert_cmpstr (((MoatProxyBlock *) fixture->blocks->pdata[i])->host, ==, "blocked.example.test");
}

static void
test_blocked_connect (Fixture *fixture, gconstpointer data)
{
  g_autofree char *out = NULL;
  g_autofree char *code = NULL;
  const MoatProxyBlock *b;
  int status;

  out = raw_exchange (fixture, "CONNECT blocked.example.test:443 HTTP/1.1\r\nHost: blocked.example.test:443\r\n\r\n");
  g_assert_true (g_str_has_prefix (out, "HTTP/1.1 403 "));
  g_assert_nonnull (strstr (out, "\r\nX-Moat-Block-Reason: ads (" LIST_NAME ")\r\n"));

  /* curl sees the refusal too. */
  code = run_curl (fixture, &status, NULL, "-o", "/dev/null", "-w", "%{http_connect}",
                   "https://blocked.example.test/", NULL);
  g_assert_cmpint (status, !=, 0);
  g_assert_cmpstr (code, ==, "403");

  moat_test_wait_until (has_blocks, fixture);
  b = fixture->blocks->pdata[0];
  g_assert_true (b->tunnel);
  g_assert_null (b->url);
  g_assert_cmpuint (b->port, ==, 443);
  g_assert_cmpstr (b->rule, ==, "||blocked.example.test^");
}

static void
test_connect_local (Fixture *fixture, gconstpointer data)
{
  const char *targets[] = { "127.0.0.1:443", "2130706433:443", "0x7f.1:443", "[::1]:443",
                            "[::ffff:127.0.0.1]:443", "0.0.0.0:443", "169.254.1.1:443",
                            "local.example.test:443" };

  for (guint i = 0; i < G_N_ELEMENTS (targets); i++)
    {
      g_autofree char *req = g_strdup_printf ("CONNECT %s HTTP/1.1\r\nHost: %s\r\n\r\n", targets[i], targets[i]);
      g_autofree char *out = raw_exchange (fixture, req);

      g_test_message ("CONNECT %s", targets[i]);
      g_assert_true (g_str_has_prefix (out, "HTTP/1.1 403 "));
      g_assert_nonnull (strstr (out, "X-Moat-Block-Reason: local destination\r\n"));
    }
  moat_test_wait_until (has_blocks, fixture);
  g_assert_cmpint (((MoatProxyBlock *) fixture->blocks->pdata[0])->reason, ==, MOAT_PROXY_BLOCK_LOCAL);
}

static void
test_resolved_local (Fixture *fixture, gconstpointer data)
{
  g_autofree char *u1 = url (fixture, "local.example.test", "/1k");
  g_autofree char *u2 = url (fixture, "127.0.0.1", "/1k");
  g_autofree char *out1 = NULL;
  g_autofree char *out2 = NULL;
  int status;

  out1 = run_curl (fixture, &status, NULL, "-o", "/dev/null", "-w", "%{http_code}", u1, NULL);
  g_assert_cmpstr (out1, ==, "403");
  out2 = run_curl (fixture, &status, NULL, "-o", "/dev/null", "-w", "%{http_code}", u2, NULL);
  g_assert_cmpstr (out2, ==, "403");
  g_mutex_lock (&fixture->origin.lock);
  g_assert_cmpuint (fixture->origin.n_connections, ==, 0);
  g_mutex_unlock (&fixture->origin.lock);
}

static void
test_connect_port (Fixture *fixture, gconstpointer data)
{
  g_autofree char *out = raw_exchange (fixture, "CONNECT allowed.example.test:22 HTTP/1.1\r\nHost: allowed.example.test:22\r\n\r\n");

  g_assert_true (g_str_has_prefix (out, "HTTP/1.1 403 "));
  g_assert_nonnull (strstr (out, "X-Moat-Block-Reason: port not allowed\r\n"));
  moat_test_wait_until (has_blocks, fixture);
  g_assert_cmpint (((MoatProxyBlock *) fixture->blocks->pdata[0])->reason, ==, MOAT_PROXY_BLOCK_PORT);
  g_assert_cmpuint (((MoatProxyBlock *) fixture->blocks->pdata[0])->port, ==, 22);
}

static void
test_matcher_swap (Fixture *fixture, gconstpointer data)
{
  g_autofree char *u = url (fixture, "allowed.example.test", "/1k");
  g_autofree char *out1 = NULL;
  g_autofree char *out2 = NULL;
  g_autofree char *out3 = NULL;
  g_autoptr(MoatFilterMatcher) m = matcher_from_text ("||allowed.example.test^\n");
  int status;

  out1 = run_curl (fixture, &status, NULL, "-o", "/dev/null", "-w", "%{http_code}", u, NULL);
  g_assert_cmpstr (out1, ==, "200");
  moat_proxy_set_matcher (fixture->proxy, m);
  out2 = run_curl (fixture, &status, NULL, "-o", "/dev/null", "-w", "%{http_code}", u, NULL);
  g_assert_cmpstr (out2, ==, "403");
  /* Allowed once despite the list. */
  moat_proxy_allow_once (fixture->proxy, "allowed.example.test");
  out3 = run_curl (fixture, &status, NULL, "-o", "/dev/null", "-w", "%{http_code}", u, NULL);
  g_assert_cmpstr (out3, ==, "200");
}

static void
on_always_allow (MoatProxy *proxy, const char *host, char **out)
{
  g_free (*out);
  *out = g_strdup (host);
}

static gboolean
string_is_set (gpointer data)
{
  return *(char **) data != NULL;
}

/* The block page's "Always allow" form, posted back through the proxy. */
static void
test_allow_form (Fixture *fixture, gconstpointer data)
{
  g_autofree char *u = url (fixture, "blocked.example.test", "/1k");
  g_autofree char *page = NULL;
  g_autofree char *answer = NULL;
  g_autofree char *after = NULL;
  g_autofree char *bad = NULL;
  g_autofree char *token = NULL;
  g_autofree char *form = NULL;
  g_autofree char *bad_form = NULL;
  g_autofree char *escaped = NULL;
  g_autofree char *action = g_strdup_printf ("http://%s/moat/allow", moat_proxy_get_address (fixture->proxy));
  g_autofree char *always_host = NULL;
  g_autoptr(GRegex) re = g_regex_new ("name=\"token\" value=\"([^\"]+)\"", 0, 0, NULL);
  g_autoptr(GMatchInfo) info = NULL;
  g_autofree char *expected = expected_1k ();
  int status;

  g_signal_connect (fixture->proxy, "always-allow-requested", G_CALLBACK (on_always_allow), &always_host);
  page = run_curl (fixture, &status, NULL, u, NULL);
  g_assert_cmpint (status, ==, 0);
  g_assert_true (g_regex_match (re, page, 0, &info));
  token = g_match_info_fetch (info, 1);
  escaped = g_uri_escape_string (u, NULL, FALSE);

  /* A forged token is refused and allows nothing. */
  bad_form = g_strdup_printf ("host=blocked.example.test&token=1.%s&mode=once&return=%s",
                              "00000000000000000000000000000000000000000000000000000000000000", escaped);
  bad = run_curl (fixture, &status, NULL, "-o", "/dev/null", "-w", "%{http_code}", "--data-binary", bad_form, action, NULL);
  g_assert_true (g_str_equal (bad, "403") || g_str_equal (bad, "400"));

  form = g_strdup_printf ("host=blocked.example.test&token=%s&mode=always&return=%s", token, escaped);
  answer = run_curl (fixture, &status, NULL, "-o", "/dev/null", "-w", "%{http_code}", "--data-binary", form, action, NULL);
  g_assert_cmpint (status, ==, 0);
  g_assert_cmpstr (answer, ==, "200");
  after = run_curl (fixture, &status, NULL, u, NULL);
  g_assert_cmpint (status, ==, 0);
  g_assert_cmpstr (after, ==, expected);
  moat_test_wait_until (string_is_set, &always_host);
  g_assert_cmpstr (always_host, ==, "blocked.example.test");
}

/* Through a parent proxy (a second MoatProxy standing in for a company's
 * gateway): requests go to it in absolute form and it reaches the origin. */
static void
test_parent (Fixture *fixture, gconstpointer data)
{
  g_autoptr(MoatProxy) parent = moat_proxy_new ();
  g_autoptr(GError) error = NULL;
  g_autofree char *u = url (fixture, "allowed.example.test", "/1k");
  g_autofree char *blocked = url (fixture, "blocked.example.test", "/1k");
  g_autofree char *expected = expected_1k ();
  g_autofree char *out = NULL;
  g_autofree char *code = NULL;
  const char *allow[] = { "allowed.example.test", NULL };
  MoatProxyStats stats;
  int status;

  moat_proxy_set_resolve (parent, "allowed.example.test", "127.0.0.1");
  moat_proxy_set_allow_local_hosts (parent, allow);
  g_assert_true (moat_proxy_start (parent, "127.0.0.1", 0, &error));
  g_assert_no_error (error);
  moat_proxy_set_parent (fixture->proxy, "127.0.0.1", moat_proxy_get_port (parent));

  out = run_curl (fixture, &status, NULL, u, NULL);
  g_assert_cmpint (status, ==, 0);
  g_assert_cmpstr (out, ==, expected);
  wait_for_stats (parent, 1, 0);
  moat_proxy_get_stats (parent, &stats);
  g_assert_cmpuint (stats.requests, ==, 1);

  /* The lists still apply before the parent is asked. */
  code = run_curl (fixture, &status, NULL, "-o", "/dev/null", "-w", "%{http_code}", blocked, NULL);
  g_assert_cmpstr (code, ==, "403");
  moat_proxy_get_stats (parent, &stats);
  g_assert_cmpuint (stats.requests, ==, 1);
  moat_proxy_stop (parent);
}

/* A name from the system resolver (worker threads, no override): localhost
 * may give ::1 first, which the origin does not listen on, so this also
 * takes the next address. */
static void
test_resolver (Fixture *fixture, gconstpointer data)
{
  g_autofree char *u = url (fixture, "localhost", "/1k");
  g_autofree char *expected = expected_1k ();
  g_autofree char *refused = NULL;
  g_autofree char *out = NULL;
  const char *allow[] = { "localhost", NULL };
  int status;

  /* Not allowed yet: it resolves to this machine. */
  refused = run_curl (fixture, &status, NULL, "-o", "/dev/null", "-w", "%{http_code}", u, NULL);
  g_assert_cmpstr (refused, ==, "403");
  moat_proxy_set_allow_local_hosts (fixture->proxy, allow);
  out = run_curl (fixture, &status, NULL, u, NULL);
  g_assert_cmpint (status, ==, 0);
  g_assert_cmpstr (out, ==, expected);
}

static void
test_start_errors (Fixture *fixture, gconstpointer data)
{
  g_autoptr(MoatProxy) other = moat_proxy_new ();
  g_autoptr(GError) error = NULL;

  g_assert_false (moat_proxy_start (other, "0.0.0.0", 0, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_assert_false (moat_proxy_start (other, "192.0.2.1", 0, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_assert_false (moat_proxy_start (other, "localhost", 0, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_assert_null (moat_proxy_get_address (other));
  /* Already running. */
  g_assert_false (moat_proxy_start (fixture->proxy, "127.0.0.1", 0, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_EXISTS);
}

static void
test_own_endpoints (Fixture *fixture, gconstpointer data)
{
  g_autofree char *pac = NULL;
  g_autofree char *misdirected = NULL;
  g_autofree char *other = NULL;
  g_autofree char *looped = NULL;
  g_autofree char *want = g_strdup_printf ("PROXY %s", moat_proxy_get_address (fixture->proxy));
  g_autofree char *loop_req = g_strdup_printf ("GET http://%s/x HTTP/1.1\r\nHost: %s\r\n\r\n",
                                               moat_proxy_get_address (fixture->proxy),
                                               moat_proxy_get_address (fixture->proxy));

  pac = raw_exchange (fixture, "GET /proxy.pac HTTP/1.1\r\nHost: localhost\r\n\r\n");
  g_assert_true (g_str_has_prefix (pac, "HTTP/1.1 200 "));
  g_assert_nonnull (strstr (pac, "FindProxyForURL"));
  g_assert_nonnull (strstr (pac, want));
  misdirected = raw_exchange (fixture, "GET /proxy.pac HTTP/1.1\r\nHost: example.com\r\n\r\n");
  g_assert_true (g_str_has_prefix (misdirected, "HTTP/1.1 421 "));
  other = raw_exchange (fixture, "GET /etc/passwd HTTP/1.1\r\nHost: localhost\r\n\r\n");
  g_assert_true (g_str_has_prefix (other, "HTTP/1.1 404 "));
  looped = raw_exchange (fixture, loop_req);
  g_assert_true (g_str_has_prefix (looped, "HTTP/1.1 508 "));
}

static void
test_bad_input (Fixture *fixture, gconstpointer data)
{
  g_autofree char *u = url (fixture, "allowed.example.test", "/1k");
  g_autofree char *smuggle = g_strdup_printf ("POST %s HTTP/1.1\r\nHost: allowed.example.test:%u\r\n"
                                              "Content-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
                                              u, fixture->origin.port);
  g_autofree char *out1 = raw_exchange (fixture, "GET / HTTP/1.1\nHost: x\n\n");
  g_autofree char *out2 = raw_exchange (fixture, smuggle);
  g_autofree char *out3 = raw_exchange (fixture, "BREW http://allowed.example.test/ HTTP/3.0\r\n\r\n");
  g_autofree char *out4 = NULL;
  g_autofree char *expected = expected_1k ();
  int status;

  g_assert_true (g_str_has_prefix (out1, "HTTP/1.1 400 "));
  g_assert_nonnull (strstr (out1, "Connection: close\r\n"));
  g_assert_true (g_str_has_prefix (out2, "HTTP/1.1 400 "));
  g_assert_true (g_str_has_prefix (out3, "HTTP/1.1 505 ") || g_str_has_prefix (out3, "HTTP/1.1 400 "));
  out4 = run_curl (fixture, &status, NULL, u, NULL);
  g_assert_cmpint (status, ==, 0);
  g_assert_cmpstr (out4, ==, expected);
}

static void
test_stop_open (Fixture *fixture, gconstpointer data)
{
  int idle = raw_connect (fixture);
  int partial = raw_connect (fixture);
  int waiting = raw_connect (fixture);
  g_autofree char *req = g_strdup_printf ("GET http://allowed.example.test:%u/1k HTTP/1.1\r\n"
                                          "Host: allowed.example.test:%u\r\n\r\n",
                                          fixture->origin.port, fixture->origin.port);
  char buf[4096];
  MoatProxyStats stats;
  gssize n;
  gsize got = 0;

  send_all (partial, "GET http://allowed.example.test/ HTTP/1.1\r\nHo", 45);
  send_all (waiting, req, strlen (req));
  /* The kept-alive connection answers and then stays open. */
  while (got < 1024 && (n = recv (waiting, buf, sizeof buf, 0)) > 0)
    got += n;
  g_assert_cmpuint (got, >, 1024);
  moat_proxy_get_stats (fixture->proxy, &stats);
  g_assert_cmpuint (stats.connections, ==, 3);

  moat_proxy_stop (fixture->proxy);
  g_assert_null (moat_proxy_get_address (fixture->proxy));
  g_assert_cmpint (recv (idle, buf, sizeof buf, 0), ==, 0);
  g_assert_cmpint (recv (partial, buf, sizeof buf, 0), ==, 0);
  g_assert_cmpint (recv (waiting, buf, sizeof buf, 0), ==, 0);
  close (idle);
  close (partial);
  close (waiting);
  moat_proxy_stop (fixture->proxy);
}

static void
test_header_timeout (Fixture *fixture, gconstpointer data)
{
  int fd;
  char buf[4096];
  gssize n;
  g_autoptr(GString) s = g_string_new (NULL);

  moat_proxy_set_timeouts_for_testing (fixture->proxy, 200, 200, 0, 0);
  fd = raw_connect (fixture);
  send_all (fd, "GET http://allowed.example.test/ HTTP/1.1\r\n", 43);
  while ((n = recv (fd, buf, sizeof buf, 0)) > 0)
    g_string_append_len (s, buf, n);
  close (fd);
  g_assert_true (g_str_has_prefix (s->str, "HTTP/1.1 408 "));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  signal (SIGPIPE, SIG_IGN);

#define ADD(path, func) \
  g_test_add ("/moat/proxy/" path, Fixture, NULL, fixture_set_up, func, fixture_tear_down)

  if (!have_program ("curl"))
    {
      g_test_skip ("curl is not installed");
      return g_test_run ();
    }
  ADD ("get", test_get);
  ADD ("post-chunked", test_post_chunked);
  ADD ("keep-alive", test_keep_alive);
  ADD ("pool-hang-up", test_pool_hang_up);
  ADD ("http10", test_http10);
  ADD ("expect-continue", test_expect_continue);
  ADD ("connect-tls", test_connect_tls);
  ADD ("tunnel-half-close", test_tunnel_half_close);
  ADD ("tunnel-bulk", test_tunnel_bulk);
  ADD ("blocked-http", test_blocked_http);
  ADD ("blocked-burst", test_blocked_burst);
  ADD ("blocked-connect", test_blocked_connect);
  ADD ("connect-local", test_connect_local);
  ADD ("resolved-local", test_resolved_local);
  ADD ("connect-port", test_connect_port);
  ADD ("matcher-swap", test_matcher_swap);
  ADD ("allow-form", test_allow_form);
  ADD ("parent", test_parent);
  ADD ("resolver", test_resolver);
  ADD ("start-errors", test_start_errors);
  ADD ("own-endpoints", test_own_endpoints);
  ADD ("bad-input", test_bad_input);
  ADD ("header-timeout", test_header_timeout);
  ADD ("stop-open", test_stop_open);
  return g_test_run ();
}
