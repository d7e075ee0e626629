/* SPDX-License-Identifier: GPL-3.0-or-later
 * Copyright 2026 The Moat developers
 */
#pragma once

#include <glib-object.h>

#include "moat-filter-list.h"

G_BEGIN_DECLS

typedef enum
{
  MOAT_FILTER_VERDICT_NONE,  /* no rule matched */
  MOAT_FILTER_VERDICT_ALLOW, /* an exception (or the user's allow-list) decided */
  MOAT_FILTER_VERDICT_BLOCK,
} MoatFilterVerdict;

/**
 * MoatFilterQueryFlags:
 * @MOAT_FILTER_QUERY_THIRD_PARTY: the request is known to be third-party
 *   (`$third-party` rules apply)
 * @MOAT_FILTER_QUERY_FIRST_PARTY: the request is known to be first-party
 *   (`$~third-party` rules apply)
 *
 * With neither flag the party is unknown (a CONNECT tunnel) and rules that
 * name a party do not apply.
 */
typedef enum
{
  MOAT_FILTER_QUERY_NONE = 0,
  MOAT_FILTER_QUERY_THIRD_PARTY = 1 << 0,
  MOAT_FILTER_QUERY_FIRST_PARTY = 1 << 1,
} MoatFilterQueryFlags;

/**
 * MoatFilterMatch:
 * @verdict: the answer
 * @category: the deciding list's category
 * @list: (transfer none): the deciding list, valid while the matcher is
 * @list_name: (transfer none): its name
 * @rule: (transfer none): the deciding rule's text, NOT NUL-terminated,
 *   @rule_len bytes, borrowed from the list's bytes
 * @line: the rule's 1-based line number in its list
 * @rule_flags: the rule's MoatFilterRuleFlags
 */
typedef struct
{
  MoatFilterVerdict verdict;
  MoatFilterCategory category;
  MoatFilterList *list;
  const char *list_name;
  const char *rule;
  gsize rule_len;
  guint line;
  MoatFilterRuleFlags rule_flags;
} MoatFilterMatch;

/**
 * MoatFilterResourceType:
 * @MOAT_FILTER_RESOURCE_TYPE_UNKNOWN: the proxy cannot tell (no
 *   `Sec-Fetch-Dest`, or `empty`): block rules restricted to types do not
 *   apply, exceptions restricted to types do
 * @MOAT_FILTER_RESOURCE_TYPE_DOCUMENT: a top-level navigation (main frame);
 *   always first-party
 *
 * What a request loads, as `$script`, `$image`, … name it.
 */
typedef enum
{
  MOAT_FILTER_RESOURCE_TYPE_UNKNOWN,
  MOAT_FILTER_RESOURCE_TYPE_DOCUMENT,
  MOAT_FILTER_RESOURCE_TYPE_SUBDOCUMENT,
  MOAT_FILTER_RESOURCE_TYPE_STYLESHEET,
  MOAT_FILTER_RESOURCE_TYPE_SCRIPT,
  MOAT_FILTER_RESOURCE_TYPE_IMAGE,
  MOAT_FILTER_RESOURCE_TYPE_FONT,
  MOAT_FILTER_RESOURCE_TYPE_OBJECT,
  MOAT_FILTER_RESOURCE_TYPE_XMLHTTPREQUEST,
  MOAT_FILTER_RESOURCE_TYPE_PING,
  MOAT_FILTER_RESOURCE_TYPE_MEDIA,
  MOAT_FILTER_RESOURCE_TYPE_WEBSOCKET,
  MOAT_FILTER_RESOURCE_TYPE_OTHER,
  MOAT_FILTER_RESOURCE_TYPE_LAST /*< skip >*/
} MoatFilterResourceType;

const char *moat_filter_resource_type_to_string (MoatFilterResourceType type);
MoatFilterResourceType moat_filter_resource_type_from_string (const char *str, gssize len);
MoatFilterResourceType moat_filter_resource_type_from_fetch_dest (const char *dest, gssize len);

typedef struct _MoatFilterMatcher MoatFilterMatcher;

GType moat_filter_matcher_get_type (void) G_GNUC_CONST;
#define MOAT_TYPE_FILTER_MATCHER (moat_filter_matcher_get_type ())

MoatFilterMatcher *moat_filter_matcher_new (MoatFilterList *const *lists, guint n_lists);
MoatFilterMatcher *moat_filter_matcher_ref (MoatFilterMatcher *self);
void moat_filter_matcher_unref (MoatFilterMatcher *self);

MoatFilterVerdict moat_filter_matcher_match_host (MoatFilterMatcher *self,
                                                  const char *host,
                                                  gssize host_len,
                                                  MoatFilterQueryFlags flags,
                                                  MoatFilterMatch *match);

MoatFilterVerdict moat_filter_matcher_match_url (MoatFilterMatcher *self,
                                                 const char *url,
                                                 gsize url_len,
                                                 const char *host,
                                                 gsize host_len,
                                                 const char *source_host,
                                                 MoatFilterResourceType type,
                                                 MoatFilterMatch *match);

guint moat_filter_matcher_get_n_url_filters (MoatFilterMatcher *self);
guint moat_filter_matcher_get_n_hosts (MoatFilterMatcher *self);
guint moat_filter_matcher_get_n_lists (MoatFilterMatcher *self);
MoatFilterList *moat_filter_matcher_get_list (MoatFilterMatcher *self, guint index);
gsize moat_filter_matcher_get_memory_size (MoatFilterMatcher *self);

char *moat_filter_match_dup_rule (const MoatFilterMatch *match);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (MoatFilterMatcher, moat_filter_matcher_unref)

G_END_DECLS
