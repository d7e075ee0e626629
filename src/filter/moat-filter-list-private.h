/* SPDX-License-Identifier: GPL-3.0-or-later
 * Copyright 2026 The Moat developers
 */
#pragma once

#include "moat-filter-list.h"

G_BEGIN_DECLS

/* One parsed rule: the line is kept as an offset into the list's bytes, never
 * copied. A line naming several hosts (hosts files, dnsmasq) gives one rule per
 * host, all pointing at the same line. 16 bytes. */
typedef struct
{
  guint32 offset;     /* start of the rule text in the list's bytes */
  guint32 line;       /* 1-based line number */
  guint16 length;     /* rule text length (lines are at most MOAT_FILTER_LIST_MAX_LINE) */
  guint16 host_start; /* host offset within the rule text (host rules only) */
  guint16 flags;      /* MoatFilterRuleFlags */
  guint8 host_len;    /* 0 for URL rules */
  guint8 reserved;
} MoatFilterRule;

G_STATIC_ASSERT (sizeof (MoatFilterRule) == 16);
G_STATIC_ASSERT (MOAT_FILTER_LIST_MAX_LINE <= G_MAXUINT16);

const MoatFilterRule *moat_filter_list_get_host_rules (MoatFilterList *self, guint *n_rules);
const char *moat_filter_list_get_data (MoatFilterList *self);
gsize moat_filter_list_get_size (MoatFilterList *self);

/* Host rules with no flags of their own (hosts-file entries, `||host^`) are
 * kept as the offset of the host in the list's bytes, in line order; their
 * flags are @flags (the list's). In moat_filter_list_get_host_rule() they
 * follow the rules of moat_filter_list_get_host_rules(). */
const guint32 *moat_filter_list_get_simple_hosts (MoatFilterList *self,
                                                  guint *n_hosts,
                                                  guint *flags);
const char *moat_filter_list_describe_simple (MoatFilterList *self,
                                              guint32 off,
                                              gsize *rule_len,
                                              gsize *host_len,
                                              guint *line);

G_END_DECLS
