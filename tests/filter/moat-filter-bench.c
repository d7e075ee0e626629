/* SPDX-License-Identifier: GPL-3.0-or-later
 * Copyright 2026 The Moat developers
 *
 * Matcher benchmark (meson benchmark 'filter-matcher', not a test): compiles
 * the default Debian lists and times compile, memory and host lookups over the
 * request set of shared/bench/matcher (requests.tsv).
 *
 *   moat-filter-bench [--assets DIR] [--requests FILE] [--passes N] [--hosts-file NAME] [LIST...]
 *
 * --hosts-file NAME loads only NAME (resolved in MOAT_MATCHER_HOSTS_DIR, default
 * /work/shared/bench/matcher/data, as make-hosts.py writes hosts-100k.txt and
 * hosts-1m.txt) to measure load time and RSS growth of a big hosts file; the
 * request set is optional then.
 *
 * Defaults: MOAT_UBO_ASSETS or /usr/share/chromium/extensions/ublock-origin/assets,
 * MOAT_MATCHER_REQUESTS or /work/shared/bench/matcher/requests.tsv. Extra LIST
 * arguments replace the default lists (format auto-detected). Prints one JSON line.
 */
#define G_LOG_DOMAIN "moat-filter-bench"

#include "config.h"

#include "moat-filter-matcher.h"
#include "moat-filter-test-lists.h"
#include "moat-host.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

typedef struct
{
  const char *s;
  gsize len;
} PackedHost;

static gint64
now_ns (void)
{
  struct timespec ts;

  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (gint64) ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static long
rss_kb (void)
{
  g_autofree char *status = NULL;
  const char *p;

  if (!g_file_get_contents ("/proc/self/status", &status, NULL, NULL))
    return 0;
  p = strstr (status, "VmRSS:");
  return p ? strtol (p + 6, NULL, 10) : 0;
}

static int
cmp_gint64 (const void *a, const void *b)
{
  gint64 x = *(const gint64 *) a, y = *(const gint64 *) b;

  return (x > y) - (x < y);
}

/* The host of a URL as a normaliser would give it: no userinfo, no port, lower
 * case, no trailing dot. IPv6 literals keep their brackets stripped. */
static char *
url_host (const char *url, gsize len)
{
  const char *p = g_strstr_len (url, len, "://");
  const char *end = url + len, *h, *e, *at;
  char *host;
  gsize n;

  if (p == NULL)
    return NULL;
  h = p + 3;
  e = h;
  while (e < end && *e != '/' && *e != '?' && *e != '#')
    e++;
  at = NULL;
  for (const char *q = h; q < e; q++)
    if (*q == '@')
      at = q;
  if (at)
    h = at + 1;
  if (h < e && *h == '[')
    {
      const char *rb = memchr (h, ']', e - h);
      if (rb == NULL)
        return NULL;
      return g_ascii_strdown (h + 1, rb - h - 1);
    }
  for (const char *q = h; q < e; q++)
    if (*q == ':')
      {
        e = q;
        break;
      }
  n = e - h;
  while (n > 0 && h[n - 1] == '.')
    n--;
  host = g_ascii_strdown (h, n);
  return host;
}

typedef struct
{
  char *url;
  char *host;
  char *site; /* registrable domain of the source URL */
  gsize url_len;
  gsize host_len;
  MoatFilterResourceType type;
} UrlRequest;

static void
url_request_free (gpointer data)
{
  UrlRequest *r = data;

  g_free (r->url);
  g_free (r->host);
  g_free (r->site);
  g_free (r);
}

int
main (int argc, char **argv)
{
  g_autofree char *assets = g_strdup (g_getenv ("MOAT_UBO_ASSETS"));
  g_autofree char *requests = g_strdup (g_getenv ("MOAT_MATCHER_REQUESTS"));
  g_auto(GStrv) extra = NULL;
  int passes = 25;
  g_autofree char *hosts_file = NULL;
  GOptionEntry entries[] = {
    { "assets", 0, 0, G_OPTION_ARG_FILENAME, &assets, "uBlock Origin assets folder", "DIR" },
    { "requests", 0, 0, G_OPTION_ARG_FILENAME, &requests, "requests.tsv", "FILE" },
    { "passes", 0, 0, G_OPTION_ARG_INT, &passes, "lookup passes", "N" },
    { "hosts-file", 0, 0, G_OPTION_ARG_FILENAME, &hosts_file, "a hosts file in MOAT_MATCHER_HOSTS_DIR", "NAME" },
    { G_OPTION_REMAINING, 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &extra, NULL, NULL },
    { NULL },
  };
  g_autoptr(GOptionContext) ctx = g_option_context_new ("[LIST...]");
  g_autoptr(GPtrArray) lists = g_ptr_array_new_with_free_func ((GDestroyNotify) moat_filter_list_unref);
  g_autoptr(MoatFilterMatcher) matcher = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) hosts = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GPtrArray) urls = g_ptr_array_new_with_free_func (url_request_free);
  g_autofree gint64 *url_samples = NULL;
  gint64 t4;
  guint url_blocked = 0;
  g_autofree gint64 *samples = NULL;
  g_autofree PackedHost *packed = NULL;
  GStringChunk *chunk = NULL;
  g_autofree char *contents = NULL;
  gsize contents_len;
  long rss0, rss1;
  gint64 t0, t1, t2, t3;
  guint n_rules = 0, n_url = 0, n_bad = 0, n_cosmetic = 0, blocked = 0, allowed = 0;
  guint64 sink = 0;

  g_option_context_add_main_entries (ctx, entries, NULL);
  if (!g_option_context_parse (ctx, &argc, &argv, &error))
    {
      g_printerr ("%s\n", error->message);
      return 2;
    }
  if (assets == NULL)
    assets = g_strdup ("/usr/share/chromium/extensions/ublock-origin/assets");
  if (requests == NULL)
    requests = g_strdup ("/work/shared/bench/matcher/requests.tsv");

  if (hosts_file != NULL)
    {
      const char *dir = g_getenv ("MOAT_MATCHER_HOSTS_DIR");
      g_autofree char *path = g_build_filename (dir ? dir : "/work/shared/bench/matcher/data",
                                                hosts_file, NULL);

      if (!g_file_test (path, G_FILE_TEST_EXISTS))
        {
          g_printerr ("no %s; generate it with shared/bench/matcher/make-hosts.py and set "
                      "MOAT_MATCHER_HOSTS_DIR\n", path);
          return 77;
        }
      extra = g_new0 (char *, 2);
      extra[0] = g_steal_pointer (&path);
      passes = MAX (passes / 5, 1);
    }

  /* Requests first, so their memory is not counted as the matcher's. */
  if (!g_file_get_contents (requests, &contents, &contents_len, &error) && hosts_file != NULL)
    {
      g_clear_error (&error);
      contents = g_strdup ("");
      contents_len = 0;
    }
  else if (contents == NULL)
    {
      g_printerr ("no request set (%s); generate it with shared/bench/matcher/make-requests.py "
                  "and pass --requests\n", error->message);
      return 77;
    }
  for (char *line = contents, *nl; line < contents + contents_len; line = nl + 1)
    {
      char *tab;

      nl = memchr (line, '\n', contents + contents_len - line);
      if (nl == NULL)
        nl = contents + contents_len;
      if (*line == '#' || nl == line)
        continue;
      tab = memchr (line, '\t', nl - line);
      if (tab)
        {
          char *host = url_host (line, tab - line);
          if (host)
            {
              g_autofree char *text = g_strndup (line, nl - line);
              g_auto(GStrv) fields = g_strsplit (text, "\t", 4);
              UrlRequest *r = g_new0 (UrlRequest, 1);
              g_autofree char *src = NULL;
              g_autofree char *norm = moat_host_normalize (host, -1, NULL, NULL);

              g_ptr_array_add (hosts, host);
              r->url = g_strdup (fields[0]);
              r->host = g_strdup (norm ? norm : host);
              r->url_len = strlen (r->url);
              r->host_len = strlen (r->host);
              if (fields[1] != NULL)
                src = url_host (fields[1], strlen (fields[1]));
              if (src != NULL)
                {
                  g_autofree char *src_norm = moat_host_normalize (src, -1, NULL, NULL);
                  r->site = src_norm ? moat_host_registrable_domain (src_norm) : NULL;
                  if (r->site == NULL)
                    r->site = g_strdup (src_norm ? src_norm : src);
                }
              r->type = moat_filter_resource_type_from_string (fields[1] ? fields[2] : NULL, -1);
              g_ptr_array_add (urls, r);
            }
        }
    }

  /* The proxy asks about a host it has just parsed, so the name is in cache
   * and its length known: pack the names together instead of leaving them
   * scattered among the request set's other allocations, whose cache misses
   * would otherwise be timed as the matcher's. */
  chunk = g_string_chunk_new (1 << 20);
  packed = g_new (PackedHost, MAX (hosts->len, 1));
  for (guint i = 0; i < hosts->len; i++)
    {
      packed[i].len = strlen (hosts->pdata[i]);
      packed[i].s = g_string_chunk_insert_len (chunk, hosts->pdata[i], packed[i].len);
    }

  rss0 = rss_kb ();
  t0 = now_ns ();
  {
    int status = moat_filter_test_load_lists (assets, (const char * const *) extra, lists);

    if (status != 0)
      return status;
  }
  t1 = now_ns ();
  matcher = moat_filter_matcher_new ((MoatFilterList *const *) lists->pdata, lists->len);
  t2 = now_ns ();
  rss1 = rss_kb ();
  for (guint i = 0; i < lists->len; i++)
    {
      MoatFilterList *l = lists->pdata[i];
      n_rules += moat_filter_list_get_n_host_rules (l);
      n_url += moat_filter_list_get_n_url_rules (l);
      n_bad += moat_filter_list_get_n_bad_lines (l);
      n_cosmetic += moat_filter_list_get_n_cosmetic (l);
    }

  for (guint i = 0; i < hosts->len; i++)
    {
      MoatFilterVerdict v = moat_filter_matcher_match_host (matcher, packed[i].s, packed[i].len,
                                                            MOAT_FILTER_QUERY_NONE, NULL);
      blocked += v == MOAT_FILTER_VERDICT_BLOCK;
      allowed += v == MOAT_FILTER_VERDICT_ALLOW;
    }

  t3 = now_ns ();
  for (int p = 0; p < passes; p++)
    for (guint i = 0; i < hosts->len; i++)
      sink += moat_filter_matcher_match_host (matcher, packed[i].s, packed[i].len,
                                              MOAT_FILTER_QUERY_NONE, NULL);
  t3 = now_ns () - t3;

  /* Per-lookup latency with the explanation filled in, as the proxy will ask. */
  samples = g_new0 (gint64, MAX (hosts->len, 1));
  for (guint i = 0; i < hosts->len; i++)
    {
      MoatFilterMatch m;
      gint64 a = now_ns ();

      sink += moat_filter_matcher_match_host (matcher, packed[i].s, packed[i].len,
                                              MOAT_FILTER_QUERY_NONE, &m);
      samples[i] = now_ns () - a;
    }
  qsort (samples, hosts->len, sizeof (gint64), cmp_gint64);

  /* Full URL verdicts (host and URL rules), as the proxy asks for plain HTTP. */
  for (guint i = 0; i < urls->len; i++)
    {
      UrlRequest *r = urls->pdata[i];
      url_blocked += moat_filter_matcher_match_url (matcher, r->url, r->url_len, r->host,
                                                    r->host_len, r->site, r->type, NULL)
                     == MOAT_FILTER_VERDICT_BLOCK;
    }
  t4 = now_ns ();
  for (int p = 0; p < MAX (passes / 5, 1); p++)
    for (guint i = 0; i < urls->len; i++)
      {
        UrlRequest *r = urls->pdata[i];
        sink += moat_filter_matcher_match_url (matcher, r->url, r->url_len, r->host,
                                               r->host_len, r->site, r->type, NULL);
      }
  t4 = now_ns () - t4;
  url_samples = g_new (gint64, MAX (urls->len, 1));
  for (guint i = 0; i < urls->len; i++)
    {
      UrlRequest *r = urls->pdata[i];
      MoatFilterMatch m;
      gint64 a = now_ns ();

      sink += moat_filter_matcher_match_url (matcher, r->url, r->url_len, r->host,
                                             r->host_len, r->site, r->type, &m);
      url_samples[i] = now_ns () - a;
    }
  qsort (url_samples, urls->len, sizeof (gint64), cmp_gint64);

  printf ("{\"lists\": %u, \"host_rules\": %u, \"url_rules\": %u, \"cosmetic\": %u, "
          "\"bad_lines\": %u, \"index_hosts\": %u, \"parse_ms\": %.2f, \"build_ms\": %.2f, "
          "\"compile_ms\": %.2f, \"index_bytes\": %zu, \"rss_growth_kb\": %ld, "
          "\"requests\": %u, \"blocked\": %u, \"allowed_by_exception\": %u, "
          "\"lookups_per_s\": %.0f, \"ns_per_lookup\": %.1f, \"median_ns\": %" G_GINT64_FORMAT
          ", \"p99_ns\": %" G_GINT64_FORMAT ", \"url_filters\": %u, \"url_blocked\": %u, "
          "\"url_lookups_per_s\": %.0f, \"url_median_ns\": %" G_GINT64_FORMAT
          ", \"url_p99_ns\": %" G_GINT64_FORMAT ", \"sink\": %" G_GUINT64_FORMAT "}\n",
          lists->len, n_rules, n_url, n_cosmetic, n_bad, moat_filter_matcher_get_n_hosts (matcher),
          (t1 - t0) / 1e6, (t2 - t1) / 1e6, (t2 - t0) / 1e6,
          moat_filter_matcher_get_memory_size (matcher), rss1 - rss0, hosts->len, blocked, allowed,
          (double) hosts->len * passes / (t3 / 1e9),
          (double) t3 / MAX ((double) hosts->len * passes, 1), samples[hosts->len / 2],
          samples[hosts->len * 99 / 100],
          moat_filter_matcher_get_n_url_filters (matcher), url_blocked,
          (double) urls->len * MAX (passes / 5, 1) / (t4 / 1e9),
          urls->len ? url_samples[urls->len / 2] : 0, urls->len ? url_samples[urls->len * 99 / 100] : 0,
          sink);
  g_string_chunk_free (chunk);
  return 0;
}
