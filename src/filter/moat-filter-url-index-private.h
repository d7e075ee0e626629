/* SPDX-License-Identifier: GPL-3.0-or-later
 * Copyright 2026 The Moat developers
 */
#pragma once

#include "moat-filter-matcher.h"

G_BEGIN_DECLS

/* The compiled URL rules of a matcher (see moat-filter-url-index.c). */
typedef struct _MoatUrlIndex MoatUrlIndex;

typedef enum
{
  MOAT_URL_PARTY_UNKNOWN,
  MOAT_URL_PARTY_FIRST,
  MOAT_URL_PARTY_THIRD,
} MoatUrlParty;

/* One request as the index sees it. */
typedef struct
{
  const char *url;    /* as received */
  const char *lower;  /* the same, ASCII lower case */
  gsize url_len;
  gsize host_start;   /* the host as written in the URL: [host_start, host_end) */
  gsize host_end;
  const char *host;   /* the normalised host */
  gsize host_len;
  const char *source; /* registrable domain of the page, lower case, or NULL */
  gsize source_len;
  MoatFilterResourceType type;
  MoatUrlParty party;
} MoatUrlRequest;

/* Scores: the larger wins. User lists first, then (for subscriptions)
 * important exception > important block > exception > block, then the most
 * specific rule (host suffix length; URL rules count as 255). */
static inline guint32
moat_filter_score (gboolean user, guint rule_flags, guint specificity)
{
  guint cls = (rule_flags & MOAT_FILTER_RULE_EXCEPTION) ? 1 : 0;

  if (user)
    return (1u << 24) | ((guint32) specificity << 8) | cls;
  if (rule_flags & MOAT_FILTER_RULE_IMPORTANT)
    cls += 2;
  return (cls << 16) | (guint32) specificity;
}

MoatUrlIndex *moat_url_index_new (MoatFilterList *const *lists,
                                  guint n_lists,
                                  const guint8 *user);
void moat_url_index_free (MoatUrlIndex *self);
gsize moat_url_index_get_memory_size (MoatUrlIndex *self);
guint moat_url_index_get_n_filters (MoatUrlIndex *self);

/* Finds the best URL rule that beats @best_score; TRUE when one did. */
gboolean moat_url_index_match (MoatUrlIndex *self,
                               const MoatUrlRequest *req,
                               guint32 *best_score,
                               guint *list_idx,
                               guint *rule_idx);

G_END_DECLS
