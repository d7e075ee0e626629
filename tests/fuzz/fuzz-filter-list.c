/* SPDX-License-Identifier: GPL-3.0-or-later
 * Copyright 2026 The Moat developers
 *
 * Filter lists come from the network and from files users pick. Each input is
 * parsed in every format, compiled into a matcher, and every rule is checked
 * to lie inside the input; hosts taken from the input are then looked up.
 */
#include "config.h"

#include <stdint.h>
#include <string.h>

#include "moat-filter-matcher.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

static void
check_rules (MoatFilterList *list, const char *base, size_t size)
{
  guint n = moat_filter_list_get_n_host_rules (list);
  guint n_kept;
  const guint32 *bad = moat_filter_list_get_bad_lines (list, &n_kept);

  g_assert_cmpuint (n_kept, <=, MOAT_FILTER_LIST_MAX_BAD_LINES);
  g_assert_cmpuint (n_kept, <=, moat_filter_list_get_n_bad_lines (list));
  for (guint i = 0; i < n_kept; i++)
    g_assert_cmpuint (bad[i], <=, moat_filter_list_get_n_lines (list));
  for (guint i = 0; i < n; i++)
    {
      gsize rule_len, host_len;
      const char *host;
      MoatFilterRuleFlags flags;
      guint line;
      const char *rule = moat_filter_list_get_host_rule (list, i, &rule_len, &host, &host_len,
                                                         &flags, &line);

      g_assert_true (rule >= base && rule + rule_len <= base + size);
      g_assert_true (host >= rule && host + host_len <= rule + rule_len);
      g_assert_cmpuint (host_len, >, 0);
      g_assert_cmpuint (line, >=, 1);
      g_assert_true (g_utf8_validate_len (rule, rule_len, NULL));
    }
  n = moat_filter_list_get_n_url_rules (list);
  for (guint i = 0; i < n; i++)
    {
      gsize rule_len;
      const char *rule = moat_filter_list_get_url_rule (list, i, &rule_len, NULL, NULL);

      g_assert_true (rule >= base && rule + rule_len <= base + size);
    }
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  g_autoptr(GBytes) bytes = g_bytes_new (data, size);
  g_autoptr(GPtrArray) lists = g_ptr_array_new_with_free_func ((GDestroyNotify) moat_filter_list_unref);
  g_autoptr(MoatFilterMatcher) matcher = NULL;
  const char *base = g_bytes_get_data (bytes, NULL);

  for (MoatFilterFormat fmt = MOAT_FILTER_FORMAT_AUTO; fmt <= MOAT_FILTER_FORMAT_DNSMASQ; fmt++)
    {
      g_autoptr(GError) error = NULL;
      MoatFilterList *list = moat_filter_list_new_from_bytes ("fuzz", MOAT_FILTER_CATEGORY_ADS, fmt,
                                                              fmt == MOAT_FILTER_FORMAT_HOSTS
                                                                ? MOAT_FILTER_LIST_USER
                                                                : MOAT_FILTER_LIST_NONE,
                                                              bytes, &error);

      g_assert_no_error (error);
      check_rules (list, base, size);
      g_ptr_array_add (lists, list);
    }
  matcher = moat_filter_matcher_new ((MoatFilterList *const *) lists->pdata, lists->len);

  /* Every host rule must match its own host. */
  for (guint l = 0; l < lists->len; l++)
    {
      MoatFilterList *list = lists->pdata[l];
      guint n = MIN (moat_filter_list_get_n_host_rules (list), 50);

      for (guint i = 0; i < n; i++)
        {
          const char *host;
          gsize host_len;
          MoatFilterRuleFlags flags;
          MoatFilterMatch m;

          moat_filter_list_get_host_rule (list, i, NULL, &host, &host_len, &flags, NULL);
          if (flags & (MOAT_FILTER_RULE_BADFILTER | MOAT_FILTER_RULE_THIRD_PARTY
                       | MOAT_FILTER_RULE_FIRST_PARTY))
            continue;
          moat_filter_matcher_match_host (matcher, host, host_len, MOAT_FILTER_QUERY_NONE, &m);
          if (m.verdict != MOAT_FILTER_VERDICT_NONE)
            g_assert_nonnull (m.rule);
        }
    }
  /* And arbitrary slices of the input must not crash the lookup. */
  for (size_t off = 0; off < size && off < 512; off += 17)
    moat_filter_matcher_match_host (matcher, base + off, MIN (size - off, 300),
                                    MOAT_FILTER_QUERY_THIRD_PARTY, NULL);
  return 0;
}
