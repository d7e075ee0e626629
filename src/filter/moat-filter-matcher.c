/* SPDX-License-Identifier: GPL-3.0-or-later
 * Copyright 2026 The Moat developers
 *
 * The compiled host matcher: one open-addressing hash table keyed by the
 * lower-cased host of every host rule, interned in one arena, hashed
 * right-to-left (FNV-1a) so a single pass over a queried host yields the hash
 * of each of its label-boundary suffixes ("com", "example.com",
 * "ads.example.com"). The 8-byte slots hold a hash and an entry index; an
 * entry holds the interned key and a chain of rule references (list index,
 * rule index, flags). Immutable once built: lookups from any number of
 * threads need no lock.
 *
 * Precedence, highest first:
 *  1. rules of lists flagged MOAT_FILTER_LIST_USER: the most specific host
 *     wins, and on the same host an exception (allow) beats a block;
 *  2. subscriptions, as Adblock Plus: important exception > important block >
 *     exception > block, then the most specific host, then the earlier list.
 */
#define G_LOG_DOMAIN "moat-filter"

#include "config.h"

#include "moat-filter-matcher.h"

#include "moat-filter-list-private.h"
#include "moat-filter-url-index-private.h"

#include <string.h>

#define FNV_OFFSET 2166136261u
#define FNV_PRIME 16777619u

/* 8 bytes, so the table probed for every label of every host stays small;
 * the key is only fetched when the hash agrees. */
typedef struct
{
  guint32 hash;
  guint32 entry; /* 1-based index into entries; 0 = empty slot */
} Slot;

typedef struct
{
  guint32 key_off; /* into arena */
  guint32 head;    /* 1-based index of the first Ref */
  guint32 key_len;
} Entry;

/* The rules of one host form a chain, newest first. */
typedef struct
{
  guint32 rule_idx;
  guint32 next; /* 1-based, 0 = end of chain */
  guint16 list_idx;
  guint16 flags;
} Ref;

struct _MoatFilterMatcher
{
  gatomicrefcount ref_count;

  /* owned */
  MoatFilterList **lists;
  guint n_lists;
  char *arena;
  gsize arena_len;
  Slot *slots;
  guint32 mask;
  Entry *entries;
  Ref *refs;
  guint32 n_refs;
  guint n_hosts;
  guint8 *user; /* per list: 1 when MOAT_FILTER_LIST_USER */
  MoatUrlIndex *url_index;
};

G_DEFINE_BOXED_TYPE (MoatFilterMatcher, moat_filter_matcher, moat_filter_matcher_ref,
                     moat_filter_matcher_unref)

static inline guchar
lower (guchar c)
{
  return (c >= 'A' && c <= 'Z') ? c + ('a' - 'A') : c;
}

static inline guint32
hash_host (const char *s, gsize len)
{
  guint32 h = FNV_OFFSET;

  for (gsize i = len; i > 0; i--)
    {
      h ^= lower (s[i - 1]);
      h *= FNV_PRIME;
    }
  return h;
}

/* Finds the slot of a lower-case host, or the empty slot where it goes. */
static inline Slot *
find_slot (MoatFilterMatcher *self, const char *host, gsize len, guint32 hash)
{
  guint32 i = hash & self->mask;

  for (;;)
    {
      Slot *slot = &self->slots[i];

      if (slot->entry == 0)
        return slot;
      if (slot->hash == hash)
        {
          const Entry *e = &self->entries[slot->entry - 1];

          if (e->key_len == len && memcmp (self->arena + e->key_off, host, len) == 0)
            return slot;
        }
      i = (i + 1) & self->mask;
    }
}

#define BADFILTER_IGNORED_FLAGS (MOAT_FILTER_RULE_BADFILTER | MOAT_FILTER_RULE_MATCH_CASE)

/**
 * moat_filter_matcher_new:
 * @lists: (array length=n_lists): the lists; earlier lists win ties
 *
 * Compiles the host rules of @lists. `$badfilter` rules cancel the identical
 * rule (same host and options) in any list.
 */
MoatFilterMatcher *
moat_filter_matcher_new (MoatFilterList *const *lists, guint n_lists)
{
  g_autoptr(MoatFilterMatcher) self = g_new0 (MoatFilterMatcher, 1);
  g_autoptr(GHashTable) badfilters = NULL; /* lower-case host -> flags + 1 */
  gsize total = 0, capacity = 16, arena_cap = 0;

  g_return_val_if_fail (n_lists == 0 || lists != NULL, NULL);
  g_return_val_if_fail (n_lists <= G_MAXUINT16, NULL);

  g_atomic_ref_count_init (&self->ref_count);
  self->n_lists = n_lists;
  self->lists = g_new0 (MoatFilterList *, MAX (n_lists, 1));
  self->user = g_new0 (guint8, MAX (n_lists, 1));
  for (guint l = 0; l < n_lists; l++)
    {
      guint n;
      const MoatFilterRule *rules;
      const char *data = moat_filter_list_get_data (lists[l]);

      self->lists[l] = moat_filter_list_ref (lists[l]);
      self->user[l] = (moat_filter_list_get_flags (lists[l]) & MOAT_FILTER_LIST_USER) != 0;
      rules = moat_filter_list_get_host_rules (lists[l], &n);
      total += n;
      for (guint i = 0; i < n; i++)
        {
          arena_cap += rules[i].host_len;
          if (rules[i].flags & MOAT_FILTER_RULE_BADFILTER)
            {
              guint flags = rules[i].flags & ~BADFILTER_IGNORED_FLAGS;

              if (badfilters == NULL)
                badfilters = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
              g_hash_table_insert (badfilters,
                                   g_ascii_strdown (data + rules[i].offset + rules[i].host_start,
                                                    rules[i].host_len),
                                   GUINT_TO_POINTER (flags + 1));
            }
        }
    }
  while (capacity < total * 2)
    capacity *= 2;
  self->mask = (guint32) capacity - 1;
  self->slots = g_new0 (Slot, capacity);
  self->arena = g_malloc (MAX (arena_cap, 1));
  self->refs = g_new (Ref, MAX (total, 1));
  self->entries = g_new (Entry, MAX (total, 1));

  for (guint l = 0; l < n_lists; l++)
    {
      guint n;
      const MoatFilterRule *rules = moat_filter_list_get_host_rules (lists[l], &n);
      const char *data = moat_filter_list_get_data (lists[l]);

      for (guint i = 0; i < n; i++)
        {
          const MoatFilterRule *r = &rules[i];
          const char *host = data + r->offset + r->host_start;
          char lowered[256];
          guint32 hash;
          Slot *slot;
          Entry *entry;
          Ref *ref;

          if (r->flags & MOAT_FILTER_RULE_BADFILTER)
            continue;
          for (gsize k = 0; k < r->host_len; k++)
            lowered[k] = lower (host[k]);
          lowered[r->host_len] = '\0';
          if (badfilters != NULL)
            {
              guint bad = GPOINTER_TO_UINT (g_hash_table_lookup (badfilters, lowered));

              if (bad != 0 && bad - 1 == (r->flags & ~BADFILTER_IGNORED_FLAGS))
                continue;
            }
          hash = hash_host (lowered, r->host_len);
          slot = find_slot (self, lowered, r->host_len, hash);
          if (slot->entry == 0)
            {
              entry = &self->entries[self->n_hosts++];
              entry->key_off = (guint32) self->arena_len;
              entry->key_len = r->host_len;
              entry->head = 0;
              memcpy (self->arena + self->arena_len, lowered, r->host_len);
              self->arena_len += r->host_len;
              slot->hash = hash;
              slot->entry = self->n_hosts;
            }
          else
            entry = &self->entries[slot->entry - 1];
          ref = &self->refs[self->n_refs++];
          ref->rule_idx = i;
          ref->list_idx = (guint16) l;
          ref->flags = r->flags;
          ref->next = entry->head;
          entry->head = self->n_refs;
        }
    }
  self->entries = g_renew (Entry, self->entries, MAX (self->n_hosts, 1));
  self->url_index = moat_url_index_new (self->lists, self->n_lists, self->user);
  return g_steal_pointer (&self);
}

MoatFilterMatcher *
moat_filter_matcher_ref (MoatFilterMatcher *self)
{
  g_return_val_if_fail (self != NULL, NULL);
  g_atomic_ref_count_inc (&self->ref_count);
  return self;
}

void
moat_filter_matcher_unref (MoatFilterMatcher *self)
{
  g_return_if_fail (self != NULL);
  if (!g_atomic_ref_count_dec (&self->ref_count))
    return;
  for (guint l = 0; l < self->n_lists; l++)
    moat_filter_list_unref (self->lists[l]);
  g_free (self->lists);
  g_free (self->user);
  g_free (self->arena);
  g_free (self->slots);
  g_free (self->entries);
  g_free (self->refs);
  moat_url_index_free (self->url_index);
  g_free (self);
}

static inline guint32
score_ref (MoatFilterMatcher *self, const Ref *ref, gsize suffix_len)
{
  return moat_filter_score (self->user[ref->list_idx], ref->flags, (guint) suffix_len);
}

/* The best host rule for @host (lower-cased here), or NULL. A `$doc` rule
 * (without `$all`) only answers documents and requests of unknown type. */
static const Ref *
lookup_host (MoatFilterMatcher *self, const char *host, gsize len, MoatFilterQueryFlags flags,
             MoatFilterResourceType type, guint32 *out_score)
{
  const Ref *best = NULL;
  guint32 best_score = 0;
  guint32 h = FNV_OFFSET;
  char buf[256];

  if (len == 0 || len > 253 || self->n_hosts == 0)
    return NULL;
  for (gsize i = len; i > 0; i--)
    {
      const char *suffix;
      gsize suffix_len;
      Slot *slot;
      guchar c = lower (host[i - 1]);

      buf[i - 1] = c;
      h ^= c;
      h *= FNV_PRIME;
      if (i > 1 && host[i - 2] != '.')
        continue;
      suffix = buf + i - 1;
      suffix_len = len - i + 1;
      slot = find_slot (self, suffix, suffix_len, h);
      if (slot->entry == 0)
        continue;
      for (guint32 r = self->entries[slot->entry - 1].head; r != 0; r = self->refs[r - 1].next)
        {
          const Ref *ref = &self->refs[r - 1];
          guint32 score;

          if ((ref->flags & MOAT_FILTER_RULE_EXACT) && suffix_len != len)
            continue;
          if ((ref->flags & MOAT_FILTER_RULE_THIRD_PARTY)
              && !(flags & MOAT_FILTER_QUERY_THIRD_PARTY))
            continue;
          if ((ref->flags & MOAT_FILTER_RULE_FIRST_PARTY)
              && !(flags & MOAT_FILTER_QUERY_FIRST_PARTY))
            continue;
          if ((ref->flags & (MOAT_FILTER_RULE_DOCUMENT | MOAT_FILTER_RULE_ALL)) == MOAT_FILTER_RULE_DOCUMENT
              && type != MOAT_FILTER_RESOURCE_TYPE_DOCUMENT && type != MOAT_FILTER_RESOURCE_TYPE_UNKNOWN)
            continue;
          score = score_ref (self, ref, suffix_len);
          /* Chains run newest first: on a tie the earlier list and line win. */
          if (best == NULL || score > best_score
              || (score == best_score
                  && (ref->list_idx < best->list_idx
                      || (ref->list_idx == best->list_idx && ref->rule_idx < best->rule_idx))))
            {
              best = ref;
              best_score = score;
            }
        }
    }
  *out_score = best_score;
  return best;
}

static MoatFilterVerdict
fill_match (MoatFilterMatcher *self, guint list_idx, const char *rule, gsize rule_len,
            MoatFilterRuleFlags flags, guint line, MoatFilterMatch *match)
{
  MoatFilterList *list = self->lists[list_idx];
  MoatFilterVerdict verdict = (flags & MOAT_FILTER_RULE_EXCEPTION) ? MOAT_FILTER_VERDICT_ALLOW
                                                                   : MOAT_FILTER_VERDICT_BLOCK;

  if (match)
    {
      match->list = list;
      match->list_name = moat_filter_list_get_name (list);
      match->category = moat_filter_list_get_category (list);
      match->rule = rule;
      match->rule_len = rule_len;
      match->line = line;
      match->rule_flags = flags;
      match->verdict = verdict;
    }
  return verdict;
}

static MoatFilterVerdict
fill_host_match (MoatFilterMatcher *self, const Ref *best, MoatFilterMatch *match)
{
  MoatFilterList *list = self->lists[best->list_idx];
  guint n;
  const MoatFilterRule *rule = &moat_filter_list_get_host_rules (list, &n)[best->rule_idx];

  return fill_match (self, best->list_idx, moat_filter_list_get_data (list) + rule->offset,
                     rule->length, rule->flags, rule->line, match);
}

/**
 * moat_filter_matcher_match_host:
 * @host: a normalised host: lower case, no trailing dot, IDN as A-labels,
 *   IP literals canonical (moat-host.h does this; call it first). ASCII upper
 *   case is folded here too, nothing else is.
 * @host_len: its length, or -1 when NUL-terminated
 * @match: (out caller-allocates) (optional): the deciding rule
 *
 * Looks @host and each of its parent domains up. Pure and lock-free.
 */
MoatFilterVerdict
moat_filter_matcher_match_host (MoatFilterMatcher *self,
                                const char *host,
                                gssize host_len,
                                MoatFilterQueryFlags flags,
                                MoatFilterMatch *match)
{
  const Ref *best;
  guint32 score;

  g_return_val_if_fail (self != NULL, MOAT_FILTER_VERDICT_NONE);
  g_return_val_if_fail (host != NULL, MOAT_FILTER_VERDICT_NONE);

  if (match)
    memset (match, 0, sizeof *match);
  best = lookup_host (self, host, host_len < 0 ? strlen (host) : (gsize) host_len, flags,
                      MOAT_FILTER_RESOURCE_TYPE_UNKNOWN, &score);
  if (best == NULL)
    return MOAT_FILTER_VERDICT_NONE;
  return fill_host_match (self, best, match);
}

/* Where the host sits in an absolute URL: after "scheme://" and any
 * userinfo, up to a port, path, query or fragment. */
static void
find_url_host (const char *url, gsize len, gsize *authority, gsize *start, gsize *end)
{
  const char *p = memchr (url, ':', MIN (len, 64));
  gsize s = 0, e, at = G_MAXSIZE;

  if (p != NULL && (gsize) (p - url) + 2 < len && p[1] == '/' && p[2] == '/')
    s = p - url + 3;
  *authority = s;
  e = s;
  while (e < len && url[e] != '/' && url[e] != '?' && url[e] != '#')
    {
      if (url[e] == '@')
        at = e;
      e++;
    }
  if (at != G_MAXSIZE)
    s = at + 1;
  if (s < e && url[s] == '[')
    {
      const char *rb = memchr (url + s, ']', e - s);
      e = rb ? (gsize) (rb - url) + 1 : e;
    }
  else
    {
      const char *colon = memchr (url + s, ':', e - s);
      if (colon)
        e = colon - url;
    }
  *start = s;
  *end = e;
}

/**
 * moat_filter_matcher_match_url:
 * @url: the absolute URL of a plain-HTTP request, as received
 * @url_len: its length
 * @host: its normalised host (see moat_filter_matcher_match_host())
 * @host_len: the host's length
 * @source_host: (nullable): the registrable domain (lower case) of the page
 *   that made the request (from `Referer` or `Origin`), or %NULL when unknown
 * @type: what the request loads (from `Sec-Fetch-Dest`), or
 *   %MOAT_FILTER_RESOURCE_TYPE_UNKNOWN
 * @match: (out caller-allocates) (optional): the deciding rule
 *
 * The final verdict for a URL: host rules and URL rules (patterns, anchors,
 * `*`, `^`, /regex/, `$third-party`, `$domain=`, types, `$important`,
 * `@@`, `$match-case`) together. Precedence: the user's lists, then
 * important rules, then exceptions, then blocks. The request is third-party
 * when @host is not @source_host or under it; a document is first-party; with
 * no @source_host the party is unknown. A condition the proxy cannot know
 * (unknown party or type, a `$domain=` naming a subdomain of @source_host)
 * keeps a block rule from applying but lets an exception apply.
 * Pure and lock-free.
 */
MoatFilterVerdict
moat_filter_matcher_match_url (MoatFilterMatcher *self,
                               const char *url,
                               gsize url_len,
                               const char *host,
                               gsize host_len,
                               const char *source_host,
                               MoatFilterResourceType type,
                               MoatFilterMatch *match)
{
  MoatUrlRequest req = { 0, };
  MoatFilterQueryFlags qflags = MOAT_FILTER_QUERY_NONE;
  const Ref *best_host;
  guint32 score = 0;
  guint list_idx, rule_idx;
  char stack_buf[2048], stack_canon[2048];
  g_autofree char *heap_buf = NULL;
  g_autofree char *heap_canon = NULL;
  char *lower_url;
  gsize authority, h_start, h_end;

  g_return_val_if_fail (self != NULL, MOAT_FILTER_VERDICT_NONE);
  g_return_val_if_fail (url != NULL, MOAT_FILTER_VERDICT_NONE);
  g_return_val_if_fail (host != NULL, MOAT_FILTER_VERDICT_NONE);

  if (match)
    memset (match, 0, sizeof *match);
  if ((guint) type >= MOAT_FILTER_RESOURCE_TYPE_LAST)
    type = MOAT_FILTER_RESOURCE_TYPE_UNKNOWN;
  req.type = type;
  req.host = host;
  req.host_len = host_len;
  if (type == MOAT_FILTER_RESOURCE_TYPE_DOCUMENT)
    req.party = MOAT_URL_PARTY_FIRST;
  else if (source_host != NULL && *source_host != '\0')
    {
      gsize n = strlen (source_host);

      if (host_len == n ? g_ascii_strncasecmp (host, source_host, n) == 0
                        : host_len > n && host[host_len - n - 1] == '.'
                            && g_ascii_strncasecmp (host + host_len - n, source_host, n) == 0)
        req.party = MOAT_URL_PARTY_FIRST;
      else
        req.party = MOAT_URL_PARTY_THIRD;
    }
  if (source_host != NULL && *source_host != '\0')
    {
      req.source = source_host;
      req.source_len = strlen (source_host);
    }
  if (req.party == MOAT_URL_PARTY_FIRST)
    qflags = MOAT_FILTER_QUERY_FIRST_PARTY;
  else if (req.party == MOAT_URL_PARTY_THIRD)
    qflags = MOAT_FILTER_QUERY_THIRD_PARTY;

  best_host = lookup_host (self, host, host_len, qflags, type, &score);
  if (best_host == NULL)
    score = 0;

  /* Rules see the URL with its host as @host says (no userinfo, no
   * trailing dot, A-labels), the rest as received. */
  find_url_host (url, url_len, &authority, &h_start, &h_end);
  if (h_start != authority || h_end - h_start != host_len
      || g_ascii_strncasecmp (url + h_start, host, host_len) != 0)
    {
      gboolean v6 = memchr (host, ':', host_len) != NULL;
      gsize n = authority + host_len + (v6 ? 2 : 0) + (url_len - h_end);
      char *c = n < sizeof stack_canon ? stack_canon : (heap_canon = g_malloc (n + 1));
      gsize k = authority;

      memcpy (c, url, authority);
      if (v6)
        c[k++] = '[';
      memcpy (c + k, host, host_len);
      k += host_len;
      if (v6)
        c[k++] = ']';
      memcpy (c + k, url + h_end, url_len - h_end);
      c[n] = '\0';
      url = c;
      url_len = n;
      h_start = authority + (v6 ? 1 : 0);
      h_end = h_start + host_len;
    }
  lower_url = url_len < sizeof stack_buf ? stack_buf : (heap_buf = g_malloc (url_len + 1));
  for (gsize i = 0; i < url_len; i++)
    lower_url[i] = (char) lower (url[i]);
  lower_url[url_len] = '\0';
  req.url = url;
  req.lower = lower_url;
  req.url_len = url_len;
  req.host_start = h_start;
  req.host_end = h_end;

  if (moat_url_index_match (self->url_index, &req, &score, &list_idx, &rule_idx))
    {
      gsize rule_len;
      MoatFilterRuleFlags flags;
      guint line;
      const char *rule = moat_filter_list_get_url_rule (self->lists[list_idx], rule_idx,
                                                        &rule_len, &flags, &line);

      /* The list's flags come from its own option table; the verdict from @@. */
      flags &= ~MOAT_FILTER_RULE_EXCEPTION;
      if (rule_len >= 2 && rule[0] == '@' && rule[1] == '@')
        flags |= MOAT_FILTER_RULE_EXCEPTION;
      return fill_match (self, list_idx, rule, rule_len, flags, line, match);
    }
  if (best_host == NULL)
    return MOAT_FILTER_VERDICT_NONE;
  return fill_host_match (self, best_host, match);
}

static const char *const resource_type_names[] = {
  "unknown", "document", "subdocument", "stylesheet", "script", "image", "font", "object",
  "xmlhttprequest", "ping", "media", "websocket", "other",
};
G_STATIC_ASSERT (G_N_ELEMENTS (resource_type_names) == MOAT_FILTER_RESOURCE_TYPE_LAST);

const char *
moat_filter_resource_type_to_string (MoatFilterResourceType type)
{
  if ((guint) type >= MOAT_FILTER_RESOURCE_TYPE_LAST)
    return NULL;
  return resource_type_names[type];
}

static gboolean
token_is (const char *s, gsize len, const char *name)
{
  return strlen (name) == len && g_ascii_strncasecmp (s, name, len) == 0;
}

/**
 * moat_filter_resource_type_from_string:
 * @len: length of @str, or -1 when NUL-terminated
 *
 * Reads Moat's names (moat_filter_resource_type_to_string()) and the
 * WebExtension webRequest names (main_frame, sub_frame, …). Anything else
 * is %MOAT_FILTER_RESOURCE_TYPE_UNKNOWN.
 */
MoatFilterResourceType
moat_filter_resource_type_from_string (const char *str, gssize len)
{
  static const struct
  {
    const char *name;
    MoatFilterResourceType type;
  } aliases[] = {
    { "main_frame", MOAT_FILTER_RESOURCE_TYPE_DOCUMENT },
    { "sub_frame", MOAT_FILTER_RESOURCE_TYPE_SUBDOCUMENT },
    { "xhr", MOAT_FILTER_RESOURCE_TYPE_XMLHTTPREQUEST },
    { "fetch", MOAT_FILTER_RESOURCE_TYPE_XMLHTTPREQUEST },
    { "beacon", MOAT_FILTER_RESOURCE_TYPE_PING },
    { "csp_report", MOAT_FILTER_RESOURCE_TYPE_OTHER },
    { "imageset", MOAT_FILTER_RESOURCE_TYPE_IMAGE },
  };
  gsize n;

  if (str == NULL)
    return MOAT_FILTER_RESOURCE_TYPE_UNKNOWN;
  n = len < 0 ? strlen (str) : (gsize) len;
  for (guint i = 0; i < G_N_ELEMENTS (resource_type_names); i++)
    if (token_is (str, n, resource_type_names[i]))
      return (MoatFilterResourceType) i;
  for (guint i = 0; i < G_N_ELEMENTS (aliases); i++)
    if (token_is (str, n, aliases[i].name))
      return aliases[i].type;
  return MOAT_FILTER_RESOURCE_TYPE_UNKNOWN;
}

/**
 * moat_filter_resource_type_from_fetch_dest:
 * @dest: (nullable): the value of a `Sec-Fetch-Dest` header
 * @len: its length, or -1 when NUL-terminated
 *
 * `document` → DOCUMENT, `iframe`/`frame`/`fencedframe` → SUBDOCUMENT,
 * `script` and the worker kinds → SCRIPT, `style`/`xslt` → STYLESHEET,
 * `image` → IMAGE, `font` → FONT, `audio`/`video`/`track` → MEDIA,
 * `object`/`embed` → OBJECT, `manifest`/`report` → OTHER. `empty` (fetch,
 * XHR, beacon and WebSocket all send it), a missing header and anything
 * else → UNKNOWN.
 */
MoatFilterResourceType
moat_filter_resource_type_from_fetch_dest (const char *dest, gssize len)
{
  static const struct
  {
    const char *name;
    MoatFilterResourceType type;
  } map[] = {
    { "document", MOAT_FILTER_RESOURCE_TYPE_DOCUMENT },
    { "iframe", MOAT_FILTER_RESOURCE_TYPE_SUBDOCUMENT },
    { "frame", MOAT_FILTER_RESOURCE_TYPE_SUBDOCUMENT },
    { "fencedframe", MOAT_FILTER_RESOURCE_TYPE_SUBDOCUMENT },
    { "script", MOAT_FILTER_RESOURCE_TYPE_SCRIPT },
    { "worker", MOAT_FILTER_RESOURCE_TYPE_SCRIPT },
    { "sharedworker", MOAT_FILTER_RESOURCE_TYPE_SCRIPT },
    { "serviceworker", MOAT_FILTER_RESOURCE_TYPE_SCRIPT },
    { "audioworklet", MOAT_FILTER_RESOURCE_TYPE_SCRIPT },
    { "paintworklet", MOAT_FILTER_RESOURCE_TYPE_SCRIPT },
    { "style", MOAT_FILTER_RESOURCE_TYPE_STYLESHEET },
    { "xslt", MOAT_FILTER_RESOURCE_TYPE_STYLESHEET },
    { "image", MOAT_FILTER_RESOURCE_TYPE_IMAGE },
    { "font", MOAT_FILTER_RESOURCE_TYPE_FONT },
    { "audio", MOAT_FILTER_RESOURCE_TYPE_MEDIA },
    { "video", MOAT_FILTER_RESOURCE_TYPE_MEDIA },
    { "track", MOAT_FILTER_RESOURCE_TYPE_MEDIA },
    { "object", MOAT_FILTER_RESOURCE_TYPE_OBJECT },
    { "embed", MOAT_FILTER_RESOURCE_TYPE_OBJECT },
    { "manifest", MOAT_FILTER_RESOURCE_TYPE_OTHER },
    { "report", MOAT_FILTER_RESOURCE_TYPE_OTHER },
  };
  gsize n;

  if (dest == NULL)
    return MOAT_FILTER_RESOURCE_TYPE_UNKNOWN;
  n = len < 0 ? strlen (dest) : (gsize) len;
  for (guint i = 0; i < G_N_ELEMENTS (map); i++)
    if (token_is (dest, n, map[i].name))
      return map[i].type;
  return MOAT_FILTER_RESOURCE_TYPE_UNKNOWN;
}

guint
moat_filter_matcher_get_n_url_filters (MoatFilterMatcher *self)
{
  return moat_url_index_get_n_filters (self->url_index);
}

guint
moat_filter_matcher_get_n_hosts (MoatFilterMatcher *self)
{
  return self->n_hosts;
}

guint
moat_filter_matcher_get_n_lists (MoatFilterMatcher *self)
{
  return self->n_lists;
}

/**
 * moat_filter_matcher_get_list:
 * Returns: (transfer none) (nullable): the list at @index
 */
MoatFilterList *
moat_filter_matcher_get_list (MoatFilterMatcher *self, guint index)
{
  return index < self->n_lists ? self->lists[index] : NULL;
}

/* The index alone: slots, references and interned hosts (not the lists). */
gsize
moat_filter_matcher_get_memory_size (MoatFilterMatcher *self)
{
  return sizeof *self + ((gsize) self->mask + 1) * sizeof (Slot) + self->n_refs * sizeof (Ref)
         + self->n_hosts * sizeof (Entry)
         + self->arena_len + self->n_lists * sizeof (gpointer)
         + moat_url_index_get_memory_size (self->url_index);
}

/**
 * moat_filter_match_dup_rule:
 * Returns: (transfer full) (nullable): the deciding rule as a string
 */
char *
moat_filter_match_dup_rule (const MoatFilterMatch *match)
{
  if (match == NULL || match->rule == NULL)
    return NULL;
  return g_strndup (match->rule, match->rule_len);
}
