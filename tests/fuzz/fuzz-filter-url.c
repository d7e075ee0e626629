/* SPDX-License-Identifier: GPL-3.0-or-later
 * Copyright 2026 The Moat developers
 *
 * URL matching against hostile lists: the input's first part (up to the
 * first NUL byte, or all of it) is an Adblock Plus list, the rest is a list
 * of requests, one per line: "url[ source-site[ type]]". Each request is
 * matched with every resource type and party, and the answer must be
 * consistent: a reported rule lies inside the list's bytes.
 */
#include "config.h"

#include <stdint.h>
#include <string.h>

#include "moat-filter-matcher.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

static void
check_match (MoatFilterMatcher *matcher, const char *base, size_t base_len, const char *url,
             gsize url_len, const char *host, gsize host_len, const char *site,
             MoatFilterResourceType type)
{
  MoatFilterMatch m;
  MoatFilterVerdict v = moat_filter_matcher_match_url (matcher, url, url_len, host, host_len, site,
                                                       type, &m);

  g_assert_cmpint (v, ==, m.verdict);
  g_assert_cmpint (moat_filter_matcher_match_url (matcher, url, url_len, host, host_len, site, type,
                                                  NULL),
                   ==, v);
  if (v == MOAT_FILTER_VERDICT_NONE)
    {
      g_assert_null (m.rule);
      return;
    }
  g_assert_nonnull (m.rule);
  g_assert_true (m.rule >= base && m.rule + m.rule_len <= base + base_len);
  g_assert_cmpuint (m.line, >=, 1);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  const char *text = (const char *) data;
  const char *nul = memchr (text, '\0', size);
  size_t list_len = nul ? (size_t) (nul - text) : size;
  g_autoptr(GBytes) bytes = g_bytes_new (data, list_len);
  g_autoptr(GError) error = NULL;
  g_autoptr(MoatFilterList) list = NULL;
  g_autoptr(MoatFilterList) user = NULL;
  g_autoptr(MoatFilterMatcher) matcher = NULL;
  g_autofree char *requests = NULL;
  MoatFilterList *lists[2];
  const char *base = g_bytes_get_data (bytes, NULL);
  gchar **lines;

  list = moat_filter_list_new_from_bytes ("fuzz", MOAT_FILTER_CATEGORY_ADS, MOAT_FILTER_FORMAT_ADBLOCK,
                                          MOAT_FILTER_LIST_NONE, bytes, &error);
  g_assert_no_error (error);
  user = moat_filter_list_new_from_bytes ("user", MOAT_FILTER_CATEGORY_CUSTOM, MOAT_FILTER_FORMAT_ADBLOCK,
                                          MOAT_FILTER_LIST_USER, bytes, &error);
  g_assert_no_error (error);
  lists[0] = user;
  lists[1] = list;
  matcher = moat_filter_matcher_new (lists, 2);

  /* Requests: the rest of the input, or the list's own lines when there is none. */
  if (nul)
    requests = g_strndup (nul + 1, size - list_len - 1);
  else
    requests = g_strndup (text, MIN (size, 4096));
  lines = g_strsplit (requests, "\n", 64);
  for (guint i = 0; lines[i] != NULL; i++)
    {
      g_auto(GStrv) parts = g_strsplit (lines[i], " ", 3);
      const char *url = parts[0];
      const char *site = parts[0] && parts[1] ? parts[1] : NULL;
      const char *h, *e;
      g_autofree char *host = NULL;
      g_autofree char *full = NULL;

      if (url == NULL)
        continue;
      /* A URL without a scheme is matched as http://URL. */
      if (strstr (url, "://") == NULL)
        url = full = g_strconcat ("http://", url, NULL);
      h = strstr (url, "://") + 3;
      e = h + strcspn (h, "/?#:");
      host = g_ascii_strdown (h, e - h);
      for (MoatFilterResourceType t = 0; t < MOAT_FILTER_RESOURCE_TYPE_LAST; t++)
        {
          check_match (matcher, base, list_len, url, strlen (url), host, strlen (host), site, t);
          check_match (matcher, base, list_len, url, strlen (url), host, strlen (host), NULL, t);
        }
      if (parts[1] && parts[2])
        check_match (matcher, base, list_len, url, strlen (url), host, strlen (host), site,
                     moat_filter_resource_type_from_fetch_dest (parts[2], -1));
    }
  g_strfreev (lines);
  return 0;
}
