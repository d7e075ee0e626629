/* SPDX-License-Identifier: GPL-3.0-or-later
 * Copyright 2026 The Moat developers
 *
 * Reads a request file (requests.tsv of shared/bench/matcher:
 * url<TAB>source_url<TAB>type[<TAB>category], `#` lines skipped) and prints
 * Moat's verdict for each, in the oracle's form:
 *
 *   idx<TAB>verdict<TAB>rule<TAB>list
 *
 * verdict: block, exception (an exception decided), allow (no rule).
 *
 *   match-requests [--assets DIR] [--requests FILE] [LIST...]
 *
 * Used by differential.py against @ghostery/adblocker.
 */
#define G_LOG_DOMAIN "moat-match-requests"

#include "config.h"

#include "moat-filter-matcher.h"
#include "moat-filter-test-lists.h"
#include "moat-host.h"

#include <stdio.h>
#include <string.h>

/* The authority's host of an absolute URL, normalised; NULL when there is none. */
static char *
url_host (const char *url)
{
  const char *p = strstr (url, "://");
  const char *h, *e, *at = NULL;
  g_autofree char *raw = NULL;

  if (p == NULL)
    return NULL;
  h = p + 3;
  e = h;
  while (*e && *e != '/' && *e != '?' && *e != '#')
    {
      if (*e == '@')
        at = e;
      e++;
    }
  if (at)
    h = at + 1;
  if (*h == '[')
    {
      const char *rb = memchr (h, ']', e - h);
      if (rb == NULL)
        return NULL;
      raw = g_strndup (h, rb + 1 - h);
    }
  else
    {
      const char *colon = memchr (h, ':', e - h);
      raw = g_strndup (h, (colon ? colon : e) - h);
    }
  return moat_host_normalize (raw, -1, NULL, NULL);
}

int
main (int argc, char **argv)
{
  g_autofree char *assets = NULL;
  g_autofree char *requests = NULL;
  g_auto(GStrv) extra = NULL;
  GOptionEntry entries[] = {
    { "assets", 0, 0, G_OPTION_ARG_FILENAME, &assets, "uBlock Origin assets folder", "DIR" },
    { "requests", 0, 0, G_OPTION_ARG_FILENAME, &requests, "requests.tsv", "FILE" },
    { G_OPTION_REMAINING, 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &extra, NULL, NULL },
    { NULL },
  };
  g_autoptr(GOptionContext) ctx = g_option_context_new ("[LIST...]");
  g_autoptr(GPtrArray) lists = g_ptr_array_new_with_free_func ((GDestroyNotify) moat_filter_list_unref);
  g_autoptr(MoatFilterMatcher) matcher = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *contents = NULL;
  gsize len;
  guint idx = 0;
  char *line, *next;

  g_option_context_add_main_entries (ctx, entries, NULL);
  if (!g_option_context_parse (ctx, &argc, &argv, &error))
    {
      g_printerr ("%s\n", error->message);
      return 2;
    }
  if (assets == NULL)
    assets = g_strdup ("/usr/share/chromium/extensions/ublock-origin/assets");
  if (requests == NULL)
    {
      g_printerr ("--requests FILE is required\n");
      return 2;
    }
  {
    int status = moat_filter_test_load_lists (assets, (const char * const *) extra, lists);

    if (status != 0)
      return status;
  }
  matcher = moat_filter_matcher_new ((MoatFilterList *const *) lists->pdata, lists->len);

  if (!g_file_get_contents (requests, &contents, &len, &error))
    {
      g_printerr ("%s\n", error->message);
      return 77;
    }
  for (line = contents; line < contents + len; line = next)
    {
      char *nl = memchr (line, '\n', contents + len - line);
      char *fields[4] = { NULL, };
      g_autofree char *host = NULL;
      g_autofree char *source_host = NULL;
      g_autofree char *source_site = NULL;
      g_autofree char *rule = NULL;
      MoatFilterMatch m;
      MoatFilterVerdict v = MOAT_FILTER_VERDICT_NONE;
      guint n = 0;

      if (nl)
        *nl = '\0';
      next = nl ? nl + 1 : contents + len;
      if (*line == '#' || *line == '\0')
        continue;
      idx++;
      fields[n++] = line;
      for (char *p = line; *p && n < 4; p++)
        if (*p == '\t')
          {
            *p = '\0';
            fields[n++] = p + 1;
          }
      host = url_host (fields[0]);
      if (n >= 2)
        source_host = url_host (fields[1]);
      if (source_host)
        source_site = moat_host_registrable_domain (source_host);
      if (source_site == NULL && source_host)
        source_site = g_strdup (source_host);
      if (host)
        v = moat_filter_matcher_match_url (matcher, fields[0], strlen (fields[0]), host,
                                           strlen (host), source_site,
                                           moat_filter_resource_type_from_string (n >= 3 ? fields[2] : NULL, -1),
                                           &m);
      rule = v != MOAT_FILTER_VERDICT_NONE ? moat_filter_match_dup_rule (&m) : NULL;
      printf ("%u\t%s\t%s\t%s\n", idx,
              v == MOAT_FILTER_VERDICT_BLOCK ? "block" : v == MOAT_FILTER_VERDICT_ALLOW ? "exception" : "allow",
              rule ? rule : "", v != MOAT_FILTER_VERDICT_NONE ? m.list_name : "");
    }
  return 0;
}
