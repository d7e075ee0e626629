/* SPDX-License-Identifier: GPL-3.0-or-later
 * Copyright 2026 The Moat developers
 *
 * The compiled host matcher: one open-addressing hash table keyed by the
 * lower-cased host of every host rule, hashed right-to-left (FNV-1a) so a
 * single pass over a queried host yields the hash of each of its
 * label-boundary suffixes ("com", "example.com", "ads.example.com").
 *
 * Slots are 8 bytes, a hash and a value, at a load of at most 0.5, or 0.7
 * for more than 256 k hosts (the table size need not be a power of two: the
 * hash is mapped with a multiply). Most
 * hosts come from a single rule with no flags of its own (a hosts-file
 * entry, a plain `||host^`): their value is the host's offset in the list's
 * own bytes, tagged, and nothing else is stored for them; the key is
 * compared in place and the rule text and line are recovered only when a
 * match is reported. A host with several rules, or rules with flags, gets an
 * entry: the key interned in an arena and a chain of rule references (list
 * index, rule index, flags). A 1 M-host file thus costs 4 bytes per host in
 * the list and about 11.5 in the table, beside the mapped file.
 *
 * Immutable once built: lookups from any number of threads need no lock.
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
#define SIMPLE_TAG 0x80000000u
/* match_url: the party is unknown and party-bound exceptions apply anyway. */
#define QUERY_PARTY_MAYBE (1u << 30)

/* value: 0 empty; SIMPLE_TAG | (global offset + 1) for a simple host;
 * otherwise the 1-based index of an Entry. */
typedef struct
{
  guint32 hash;
  guint32 value;
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

/* Where a list's bytes sit in the global offset space of simple hosts. */
typedef struct
{
  const char *data;
  gsize size;
  guint32 base;
  guint simple_flags;
  guint n_full; /* host rules with flags of their own; simple ones come after */
} ListInfo;

/* The best rule found so far. */
typedef struct
{
  guint list_idx;
  guint rule_idx;  /* G_MAXUINT for a simple host: use off */
  guint32 off;
  guint flags;
  guint32 score;
  gboolean found;
} Best;

struct _MoatFilterMatcher
{
  gatomicrefcount ref_count;

  /* owned */
  MoatFilterList **lists;
  guint n_lists;
  ListInfo *info;
  char *arena;
  gsize arena_len;
  gsize arena_cap;
  Slot *slots;
  guint32 n_slots;
  Entry *entries;
  guint32 n_entries;
  guint32 entries_cap;
  Ref *refs;
  guint32 n_refs;
  guint32 refs_cap;
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

static inline gboolean
is_host_char (char c)
{
  return g_ascii_isalnum (c) || c == '-' || c == '.' || c == '_';
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

static inline guint
list_of_offset (MoatFilterMatcher *self, guint32 global)
{
  guint lo = 0, hi = self->n_lists;

  /* The last list whose base is <= global. */
  while (hi - lo > 1)
    {
      guint mid = (lo + hi) / 2;
      if (self->info[mid].base <= global)
        lo = mid;
      else
        hi = mid;
    }
  return lo;
}

/* Does the lower-case @host equal the simple host stored at @value? */
static inline gboolean
simple_key_equal (MoatFilterMatcher *self, guint32 value, const char *host, gsize len)
{
  guint32 global = (value & ~SIMPLE_TAG) - 1;
  const ListInfo *li = &self->info[list_of_offset (self, global)];
  gsize off = global - li->base;

  if (off + len > li->size || (off + len < li->size && is_host_char (li->data[off + len])))
    return FALSE;
  for (gsize i = 0; i < len; i++)
    if (lower (li->data[off + i]) != (guchar) host[i])
      return FALSE;
  return TRUE;
}

/* Finds the slot of a lower-case host, or the empty slot where it goes. */
static inline Slot *
find_slot (MoatFilterMatcher *self, const char *host, gsize len, guint32 hash)
{
  guint32 i = (guint32) (((guint64) hash * self->n_slots) >> 32);

  for (;;)
    {
      Slot *slot = &self->slots[i];

      if (slot->value == 0)
        return slot;
      if (slot->hash == hash)
        {
          if (slot->value & SIMPLE_TAG)
            {
              if (simple_key_equal (self, slot->value, host, len))
                return slot;
            }
          else
            {
              const Entry *e = &self->entries[slot->value - 1];

              if (e->key_len == len && memcmp (self->arena + e->key_off, host, len) == 0)
                return slot;
            }
        }
      if (++i == self->n_slots)
        i = 0;
    }
}

#define BADFILTER_IGNORED_FLAGS (MOAT_FILTER_RULE_BADFILTER | MOAT_FILTER_RULE_MATCH_CASE)

static void
add_ref (MoatFilterMatcher *self, Entry *entry, guint list_idx, guint rule_idx, guint flags)
{
  Ref *ref;

  if (self->n_refs == self->refs_cap)
    {
      self->refs_cap = MAX (64, self->refs_cap * 2);
      self->refs = g_renew (Ref, self->refs, self->refs_cap);
    }
  ref = &self->refs[self->n_refs++];
  ref->rule_idx = rule_idx;
  ref->list_idx = (guint16) list_idx;
  ref->flags = (guint16) flags;
  ref->next = entry->head;
  entry->head = self->n_refs;
}

/* Turns @slot into an entry keyed @host (lower case); returns the entry. */
static Entry *
make_entry (MoatFilterMatcher *self, Slot *slot, const char *host, gsize len)
{
  Entry *entry;

  if (self->n_entries == self->entries_cap)
    {
      self->entries_cap = MAX (64, self->entries_cap * 2);
      self->entries = g_renew (Entry, self->entries, self->entries_cap);
    }
  if (self->arena_len + len > self->arena_cap)
    {
      self->arena_cap = MAX (self->arena_cap * 2, self->arena_len + len + 1024);
      self->arena = g_realloc (self->arena, self->arena_cap);
    }
  entry = &self->entries[self->n_entries++];
  entry->key_off = (guint32) self->arena_len;
  entry->key_len = (guint32) len;
  entry->head = 0;
  memcpy (self->arena + self->arena_len, host, len);
  self->arena_len += len;
  slot->value = self->n_entries;
  return entry;
}

/* Adds one host rule. @off is G_MAXUINT32 for a rule with flags of its own
 * (then @rule_idx says which), else the simple host's offset. */
static void
insert_host (MoatFilterMatcher *self, GHashTable *badfilters, guint l, const char *host,
             gsize len, guint flags, guint rule_idx, guint32 off)
{
  char lowered[256];
  guint32 hash;
  Slot *slot;
  Entry *entry;

  if (len == 0 || len > 253)
    return;
  for (gsize k = 0; k < len; k++)
    lowered[k] = (char) lower (host[k]);
  lowered[len] = '\0';
  if (badfilters != NULL)
    {
      guint bad = GPOINTER_TO_UINT (g_hash_table_lookup (badfilters, lowered));

      if (bad != 0 && bad - 1 == (flags & ~BADFILTER_IGNORED_FLAGS))
        return;
    }
  hash = hash_host (lowered, len);
  slot = find_slot (self, lowered, len, hash);
  if (slot->value == 0)
    {
      self->n_hosts++;
      slot->hash = hash;
      if (off != G_MAXUINT32)
        {
          slot->value = SIMPLE_TAG | (self->info[l].base + off + 1);
          return;
        }
      entry = make_entry (self, slot, lowered, len);
    }
  else if (slot->value & SIMPLE_TAG)
    {
      /* A second rule for a simple host: it becomes an entry. */
      guint32 global = (slot->value & ~SIMPLE_TAG) - 1;
      guint ol = list_of_offset (self, global);
      guint32 ooff = global - self->info[ol].base;
      guint n;
      const guint32 *offs = moat_filter_list_get_simple_hosts (self->lists[ol], &n, &(guint){ 0 });
      guint lo = 0, hi = n;

      while (lo < hi)
        {
          guint mid = (lo + hi) / 2;
          if (offs[mid] < ooff)
            lo = mid + 1;
          else
            hi = mid;
        }
      entry = make_entry (self, slot, lowered, len);
      add_ref (self, entry, ol, self->info[ol].n_full + lo, self->info[ol].simple_flags);
    }
  else
    entry = &self->entries[slot->value - 1];
  add_ref (self, entry, l, rule_idx, flags);
}

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
  gsize total = 0, global = 0;
  gboolean simple_ok;

  g_return_val_if_fail (n_lists == 0 || lists != NULL, NULL);
  g_return_val_if_fail (n_lists <= G_MAXUINT16, NULL);

  g_atomic_ref_count_init (&self->ref_count);
  self->n_lists = n_lists;
  self->lists = g_new0 (MoatFilterList *, MAX (n_lists, 1));
  self->user = g_new0 (guint8, MAX (n_lists, 1));
  self->info = g_new0 (ListInfo, MAX (n_lists, 1));
  for (guint l = 0; l < n_lists; l++)
    {
      guint n;
      const MoatFilterRule *rules;
      const char *data = moat_filter_list_get_data (lists[l]);

      self->lists[l] = moat_filter_list_ref (lists[l]);
      self->user[l] = (moat_filter_list_get_flags (lists[l]) & MOAT_FILTER_LIST_USER) != 0;
      self->info[l].data = data;
      self->info[l].size = moat_filter_list_get_size (lists[l]);
      self->info[l].base = (guint32) MIN (global, G_MAXUINT32);
      moat_filter_list_get_simple_hosts (lists[l], &n, &self->info[l].simple_flags);
      total += n;
      global += self->info[l].size + 1;
      rules = moat_filter_list_get_host_rules (lists[l], &n);
      self->info[l].n_full = n;
      total += n;
      for (guint i = 0; i < n; i++)
        {
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
  /* Simple hosts need the offsets of all lists below the tag bit. */
  simple_ok = global < SIMPLE_TAG - 1;
  /* A load of 0.5 keeps misses (most probes) short; past 256 k hosts, 0.7
   * keeps a 1 M-host file within its memory budget. */
  if (total <= 256 * 1024)
    self->n_slots = (guint32) MAX (16, total * 2);
  else
    self->n_slots = (guint32) (total + total * 3 / 7 + 1);
  self->slots = g_new0 (Slot, self->n_slots);

  for (guint l = 0; l < n_lists; l++)
    {
      guint n, n_simple, simple_flags;
      const MoatFilterRule *rules = moat_filter_list_get_host_rules (lists[l], &n);
      const guint32 *simple = moat_filter_list_get_simple_hosts (lists[l], &n_simple, &simple_flags);
      const char *data = self->info[l].data;

      for (guint i = 0; i < n; i++)
        {
          const MoatFilterRule *r = &rules[i];

          if (r->flags & MOAT_FILTER_RULE_BADFILTER)
            continue;
          insert_host (self, badfilters, l, data + r->offset + r->host_start, r->host_len,
                       r->flags, i, G_MAXUINT32);
        }
      for (guint i = 0; i < n_simple; i++)
        {
          const char *host = data + simple[i];
          gsize len = 0;

          while (simple[i] + len < self->info[l].size && len < 254 && is_host_char (host[len]))
            len++;
          insert_host (self, badfilters, l, host, len, simple_flags, n + i,
                       simple_ok ? simple[i] : G_MAXUINT32);
        }
    }
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
  g_free (self->info);
  g_free (self->arena);
  g_free (self->slots);
  g_free (self->entries);
  g_free (self->refs);
  moat_url_index_free (self->url_index);
  g_free (self);
}

static inline void
consider (Best *best, guint list_idx, guint rule_idx, guint32 off, guint flags, guint32 score)
{
  /* Chains run newest first: on a tie the earlier list and line win. */
  if (!best->found || score > best->score
      || (score == best->score
          && (list_idx < best->list_idx
              || (list_idx == best->list_idx && rule_idx < best->rule_idx))))
    {
      best->found = TRUE;
      best->list_idx = list_idx;
      best->rule_idx = rule_idx;
      best->off = off;
      best->flags = flags;
      best->score = score;
    }
}

static inline gboolean
flags_apply (guint flags, gsize suffix_len, gsize len, MoatFilterQueryFlags qflags,
             MoatFilterResourceType type)
{
  if ((flags & MOAT_FILTER_RULE_EXACT) && suffix_len != len)
    return FALSE;
  if ((qflags & QUERY_PARTY_MAYBE) && (flags & MOAT_FILTER_RULE_EXCEPTION))
    qflags |= MOAT_FILTER_QUERY_THIRD_PARTY | MOAT_FILTER_QUERY_FIRST_PARTY;
  if ((flags & MOAT_FILTER_RULE_THIRD_PARTY) && !(qflags & MOAT_FILTER_QUERY_THIRD_PARTY))
    return FALSE;
  if ((flags & MOAT_FILTER_RULE_FIRST_PARTY) && !(qflags & MOAT_FILTER_QUERY_FIRST_PARTY))
    return FALSE;
  if ((flags & (MOAT_FILTER_RULE_DOCUMENT | MOAT_FILTER_RULE_ALL)) == MOAT_FILTER_RULE_DOCUMENT
      && type != MOAT_FILTER_RESOURCE_TYPE_DOCUMENT && type != MOAT_FILTER_RESOURCE_TYPE_UNKNOWN)
    return FALSE;
  return TRUE;
}

/* The best host rule for @host (lower-cased here). A `$doc` rule (without
 * `$all`) only answers documents and requests of unknown type. */
static void
lookup_host (MoatFilterMatcher *self, const char *host, gsize len, MoatFilterQueryFlags flags,
             MoatFilterResourceType type, Best *best)
{
  guint32 h = FNV_OFFSET;
  char buf[256];

  memset (best, 0, sizeof *best);
  if (len == 0 || len > 253 || self->n_hosts == 0)
    return;
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
      if (slot->value == 0)
        continue;
      if (slot->value & SIMPLE_TAG)
        {
          guint32 global = (slot->value & ~SIMPLE_TAG) - 1;
          guint l = list_of_offset (self, global);
          guint sflags = self->info[l].simple_flags;

          if (flags_apply (sflags, suffix_len, len, flags, type))
            consider (best, l, G_MAXUINT, global - self->info[l].base, sflags,
                      moat_filter_score (self->user[l], sflags, (guint) suffix_len));
          continue;
        }
      for (guint32 r = self->entries[slot->value - 1].head; r != 0; r = self->refs[r - 1].next)
        {
          const Ref *ref = &self->refs[r - 1];

          if (flags_apply (ref->flags, suffix_len, len, flags, type))
            consider (best, ref->list_idx, ref->rule_idx, G_MAXUINT32, ref->flags,
                      moat_filter_score (self->user[ref->list_idx], ref->flags, (guint) suffix_len));
        }
    }
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
fill_host_match (MoatFilterMatcher *self, const Best *best, MoatFilterMatch *match)
{
  MoatFilterList *list = self->lists[best->list_idx];
  const char *rule;
  gsize rule_len = 0;
  guint line = 0;

  if (match == NULL)
    return (best->flags & MOAT_FILTER_RULE_EXCEPTION) ? MOAT_FILTER_VERDICT_ALLOW
                                                      : MOAT_FILTER_VERDICT_BLOCK;
  if (best->rule_idx == G_MAXUINT)
    rule = moat_filter_list_describe_simple (list, best->off, &rule_len, NULL, &line);
  else
    rule = moat_filter_list_get_host_rule (list, best->rule_idx, &rule_len, NULL, NULL, NULL,
                                           &line);
  return fill_match (self, best->list_idx, rule, rule_len, best->flags, line, match);
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
  Best best;

  g_return_val_if_fail (self != NULL, MOAT_FILTER_VERDICT_NONE);
  g_return_val_if_fail (host != NULL, MOAT_FILTER_VERDICT_NONE);

  if (match)
    memset (match, 0, sizeof *match);
  lookup_host (self, host, host_len < 0 ? strlen (host) : (gsize) host_len, flags,
               MOAT_FILTER_RESOURCE_TYPE_UNKNOWN, &best);
  if (!best.found)
    return MOAT_FILTER_VERDICT_NONE;
  return fill_host_match (self, &best, match);
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
  Best best_host;
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
  if (source_host != NULL && *source_host != '\0')
    {
      req.source = source_host;
      req.source_len = strlen (source_host);
    }
  if (type == MOAT_FILTER_RESOURCE_TYPE_DOCUMENT)
    req.party = MOAT_URL_PARTY_FIRST;
  else if (req.source != NULL)
    {
      gsize n = req.source_len;

      if (host_len == n ? g_ascii_strncasecmp (host, source_host, n) == 0
                        : host_len > n && host[host_len - n - 1] == '.'
                            && g_ascii_strncasecmp (host + host_len - n, source_host, n) == 0)
        req.party = MOAT_URL_PARTY_FIRST;
      else
        req.party = MOAT_URL_PARTY_THIRD;
    }
  if (req.party == MOAT_URL_PARTY_FIRST)
    qflags = MOAT_FILTER_QUERY_FIRST_PARTY;
  else if (req.party == MOAT_URL_PARTY_THIRD)
    qflags = MOAT_FILTER_QUERY_THIRD_PARTY;
  else
    qflags = QUERY_PARTY_MAYBE;

  lookup_host (self, host, host_len, qflags, type, &best_host);
  score = best_host.found ? best_host.score : 0;

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
  if (!best_host.found)
    return MOAT_FILTER_VERDICT_NONE;
  return fill_host_match (self, &best_host, match);
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
  return sizeof *self + (gsize) self->n_slots * sizeof (Slot) + self->refs_cap * sizeof (Ref)
         + self->entries_cap * sizeof (Entry) + self->arena_cap
         + self->n_lists * (sizeof (gpointer) + sizeof (ListInfo) + 1)
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
