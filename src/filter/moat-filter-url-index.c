/* SPDX-License-Identifier: GPL-3.0-or-later
 * Copyright 2026 The Moat developers
 *
 * The URL-rule index: every Adblock Plus / uBlock Origin network rule that a
 * host lookup cannot answer (paths, `*`, `^`, `|` anchors, /regex/, types,
 * $domain=, $denyallow=, $to=, $match-case) is compiled once into a filter
 * record and filed under one token, as uBlock Origin and @ghostery/adblocker
 * do: a token is a run of [a-z0-9%] the rule's pattern guarantees to appear
 * as a whole run in every URL it matches; of all such tokens the rule's
 * rarest (over all rules, with a penalty for tokens every URL has) is
 * chosen. A lookup splits the URL into runs, hashes each and checks only the
 * filters filed under those hashes, plus the few that have no token:
 * rules keyed on their $domain= instead (filed under a pseudo-token of the
 * last two labels of each domain, looked up with the page's registrable
 * domain) and the rest, checked for every URL.
 *
 * Conditions a proxy may not know answer yes, no or maybe (the type when
 * Sec-Fetch-Dest is missing, the party and $domain= without a Referer, a
 * $domain= naming a subdomain of the page's registrable domain). A block
 * rule needs yes; an exception takes maybe, so uncertainty never blocks
 * more than it should.
 *
 * Regex rules use GRegex (PCRE2) with a match limit of 100,000 steps set in
 * the pattern ((*LIMIT_MATCH=…)), so a hostile pattern costs at most about
 * a millisecond per URL; they are only tried when their literal token is
 * present, or for every URL when they have none.
 *
 * Immutable once built; lookups from any thread need no lock.
 */
#define G_LOG_DOMAIN "moat-filter"

#include "config.h"

#include "moat-filter-url-index-private.h"

#include "moat-filter-list-private.h"

#include <string.h>

#define FNV_OFFSET 2166136261u
#define FNV_PRIME 16777619u
#define DOMAIN_SALT 0x9e3779b9u
#define PREFIX_SALT 0x85ebca6bu
#define PREFIX_LEN 8
#define REGEX_MATCH_LIMIT 100000
#define REGEX_DEPTH_LIMIT 1000

enum
{
  ANCHOR_LEFT = 1 << 0,  /* |pattern */
  ANCHOR_HOST = 1 << 1,  /* ||pattern */
  ANCHOR_RIGHT = 1 << 2, /* pattern| */
  KIND_REGEX = 1 << 3,
  CASE_SENSITIVE = 1 << 4,
  TOKEN_AT = 1 << 5, /* no '*' before the token: its place in the URL fixes the start */
};

#define TYPE_BIT(t) (1u << (t))
#define TYPES_ALL (((1u << MOAT_FILTER_RESOURCE_TYPE_LAST) - 1) & ~1u)

typedef enum
{
  ANSWER_NO,
  ANSWER_MAYBE,
  ANSWER_YES,
} Answer;

typedef struct
{
  guint32 off; /* into the arena */
  guint16 len;
  guint8 negated;
  guint8 target; /* 0: $domain= (the page), 1: $denyallow= / $to= (the request host) */
} DomainRef;

typedef struct
{
  guint32 pattern_off; /* into the arena; lower case unless CASE_SENSITIVE */
  guint32 rule_idx;
  guint32 domains_off; /* into domains */
  guint16 pattern_len;
  guint16 n_domains;
  guint16 list_idx;
  guint16 rule_flags; /* MoatFilterRuleFlags of the list */
  guint16 types;      /* TYPE_BIT mask */
  guint8 mode;        /* ANCHOR_*, KIND_REGEX, CASE_SENSITIVE */
  guint8 party;       /* 0 any, MOAT_URL_PARTY_FIRST, MOAT_URL_PARTY_THIRD */
  guint32 regex_idx;  /* into regexes, when KIND_REGEX */
  guint16 token_off;  /* where the indexed token starts in the pattern (TOKEN_AT) */
  guint16 literal_len; /* regex: a literal every match contains, tried first */
  guint32 literal_off; /* into the arena */
} UrlFilter;

typedef struct
{
  guint32 hash;
  guint32 start; /* into bucket_ids */
  guint32 len;   /* 0 = empty slot */
} TokenSlot;

struct _MoatUrlIndex
{
  const guint8 *user; /* borrowed from the matcher */
  char *arena;
  gsize arena_len;
  UrlFilter *filters;
  guint n_filters;
  DomainRef *domains;
  guint n_domains;
  GRegex **regexes;
  guint n_regexes;
  TokenSlot *slots;
  guint32 mask;
  guint32 *bucket_ids;
  guint n_bucket_ids;
  guint32 *untokened; /* filters checked for every URL */
  guint n_untokened;
};

/* Compile-time state. */
typedef struct
{
  GString *arena;
  GArray *filters;  /* UrlFilter */
  GArray *domains;  /* DomainRef */
  GPtrArray *regexes;
  GArray *keys;     /* FilterKey, parallel to filters */
  GHashTable *counts; /* token hash -> number of rules having it */
} Builder;

typedef struct
{
  guint32 hash;
  guint32 filter;
} FilterKey;

static inline gboolean
is_token_char (guchar c)
{
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '%' || (c >= 'A' && c <= 'Z');
}

static inline gboolean
is_separator (guchar c)
{
  return !(g_ascii_isalnum (c) || c == '_' || c == '-' || c == '.' || c == '%' || c >= 0x80);
}

static inline guchar
lower (guchar c)
{
  return (c >= 'A' && c <= 'Z') ? c + ('a' - 'A') : c;
}

static inline guint32
salted (guint32 h, guint32 salt)
{
  h ^= salt;
  return h ? h : 1;
}

static inline guint32
hash_token (const char *s, gsize len)
{
  guint32 h = FNV_OFFSET;

  for (gsize i = 0; i < len; i++)
    {
      h ^= lower (s[i]);
      h *= FNV_PRIME;
    }
  return h;
}

/* The last two labels of a domain (or all of it). */
static guint32
hash_domain_key (const char *s, gsize len)
{
  gsize dots = 0, start = 0;

  for (gsize i = len; i > 0; i--)
    if (s[i - 1] == '.' && ++dots == 2)
      {
        start = i;
        break;
      }
  return salted (hash_token (s + start, len - start), DOMAIN_SALT);
}

/* Tokens every URL has, or nearly: never a good choice. */
static gboolean
is_common_token (const char *s, gsize len)
{
  static const char *const common[] = {
    "http", "https", "www", "com", "net", "org", "js", "html", "php", "jpg", "png", "gif",
    "css", "json", "cdn", "static", "api", "img", "ads", "ad", "id", "v", "s", "min", "assets",
    "js?", "de", "uk", "co", "io", "index", "ws", "wss",
  };

  for (gsize i = 0; i < G_N_ELEMENTS (common); i++)
    if (strlen (common[i]) == len && memcmp (common[i], s, len) == 0)
      return TRUE;
  return FALSE;
}

typedef struct
{
  const char *start;
  gsize len;
} Span;

typedef struct
{
  guint rule_flags;
  guint type_pos;
  guint type_neg; /* types left after the negated ones */
  gboolean skip;  /* a modifier or unsupported option: the rule never blocks */
  gboolean match_case;
  guint8 party;
  Span domain;    /* $domain= / $from= value */
  Span denyallow; /* $denyallow= value */
  Span to;        /* $to= value */
} Options;

typedef struct
{
  const char *name;
  guint types;  /* TYPE_BIT mask, or 0 */
  int special;
} OptionSpec;

enum
{
  OPT_NONE,
  OPT_IMPORTANT,
  OPT_THIRD,
  OPT_FIRST,
  OPT_ALL,
  OPT_BADFILTER,
  OPT_MATCH_CASE,
  OPT_BLOCK,    /* $redirect=, $empty, $mp4: still a block */
  OPT_DOMAIN,
  OPT_DENYALLOW,
  OPT_TO,
  OPT_SKIP,     /* modifiers and options a proxy cannot honour */
  OPT_IGNORE,   /* $reason= */
  OPT_NEVER,    /* a type no proxy request has ($webrtc, inline-*) */
};

#define T(x) TYPE_BIT (MOAT_FILTER_RESOURCE_TYPE_##x)
static const OptionSpec option_specs[] = {
  { "important", 0, OPT_IMPORTANT },
  { "third-party", 0, OPT_THIRD },
  { "3p", 0, OPT_THIRD },
  { "first-party", 0, OPT_FIRST },
  { "1p", 0, OPT_FIRST },
  { "all", 0, OPT_ALL },
  { "badfilter", 0, OPT_BADFILTER },
  { "match-case", 0, OPT_MATCH_CASE },
  { "redirect", 0, OPT_BLOCK },
  { "empty", 0, OPT_BLOCK },
  { "mp4", T (MEDIA), OPT_BLOCK },
  { "domain", 0, OPT_DOMAIN },
  { "from", 0, OPT_DOMAIN },
  { "denyallow", 0, OPT_DENYALLOW },
  { "to", 0, OPT_TO },
  { "reason", 0, OPT_IGNORE },
  { "doc", T (DOCUMENT), OPT_NONE },
  { "document", T (DOCUMENT), OPT_NONE },
  { "script", T (SCRIPT), OPT_NONE },
  { "image", T (IMAGE), OPT_NONE },
  { "stylesheet", T (STYLESHEET), OPT_NONE },
  { "css", T (STYLESHEET), OPT_NONE },
  { "object", T (OBJECT), OPT_NONE },
  { "object-subrequest", T (OBJECT), OPT_NONE },
  { "xmlhttprequest", T (XMLHTTPREQUEST), OPT_NONE },
  { "xhr", T (XMLHTTPREQUEST), OPT_NONE },
  { "subdocument", T (SUBDOCUMENT), OPT_NONE },
  { "frame", T (SUBDOCUMENT), OPT_NONE },
  { "ping", T (PING), OPT_NONE },
  { "beacon", T (PING), OPT_NONE },
  { "media", T (MEDIA), OPT_NONE },
  { "font", T (FONT), OPT_NONE },
  { "websocket", T (WEBSOCKET), OPT_NONE },
  { "other", T (OTHER), OPT_NONE },
  { "webrtc", 0, OPT_NEVER },
  { "inline-script", 0, OPT_NEVER },
  { "inline-font", 0, OPT_NEVER },
};
#undef T

/* Parses "opt1,~opt2,name=value"; FALSE when an option is not one of ours
 * (the list parser accepted the line, so it is a modifier we skip). */
static gboolean
parse_options (const char *s, gsize len, Options *o)
{
  const char *end = s + len;

  while (s < end)
    {
      const char *opt = s, *eq, *name_end;
      gboolean negated = FALSE, known = FALSE;
      gsize name_len;

      while (s < end && *s != ',')
        {
          if (*s == '\\' && s + 1 < end)
            s++;
          s++;
        }
      eq = memchr (opt, '=', s - opt);
      name_end = eq ? eq : s;
      if (opt < name_end && *opt == '~')
        {
          negated = TRUE;
          opt++;
        }
      name_len = name_end - opt;
      for (gsize i = 0; i < G_N_ELEMENTS (option_specs) && !known; i++)
        {
          const OptionSpec *spec = &option_specs[i];
          Span value = { eq ? eq + 1 : NULL, eq ? (gsize) (s - eq - 1) : 0 };

          if (strlen (spec->name) != name_len || g_ascii_strncasecmp (spec->name, opt, name_len) != 0)
            continue;
          known = TRUE;
          if (spec->types != 0 && spec->special == OPT_NONE)
            {
              if (negated)
                o->type_neg &= ~spec->types;
              else
                o->type_pos |= spec->types;
              continue;
            }
          switch (spec->special)
            {
            case OPT_IMPORTANT:
              o->rule_flags |= MOAT_FILTER_RULE_IMPORTANT;
              break;
            case OPT_THIRD:
              o->party = negated ? MOAT_URL_PARTY_FIRST : MOAT_URL_PARTY_THIRD;
              break;
            case OPT_FIRST:
              o->party = negated ? MOAT_URL_PARTY_THIRD : MOAT_URL_PARTY_FIRST;
              break;
            case OPT_ALL:
              o->type_pos |= TYPES_ALL;
              break;
            case OPT_BADFILTER:
              o->rule_flags |= MOAT_FILTER_RULE_BADFILTER;
              break;
            case OPT_MATCH_CASE:
              o->match_case = TRUE;
              break;
            case OPT_BLOCK:
              o->type_pos |= spec->types;
              break;
            case OPT_DOMAIN:
              o->domain = value;
              break;
            case OPT_DENYALLOW:
              o->denyallow = value;
              break;
            case OPT_TO:
              o->to = value;
              break;
            case OPT_NEVER:
              if (!negated)
                o->skip = TRUE;
              break;
            case OPT_IGNORE:
              break;
            case OPT_SKIP:
            default:
              o->skip = TRUE;
              break;
            }
        }
      if (s < end)
        s++;
      if (!known)
        return FALSE;
    }
  return TRUE;
}

/* Adds the domains of "a.example|~b.example" to the builder. */
static guint
add_domains (Builder *b, Span value, guint8 target, gboolean invert)
{
  const char *p = value.start, *end = value.start + value.len;
  guint n = 0;

  while (p != NULL && p < end)
    {
      const char *d = p;
      DomainRef ref = { 0, };
      gsize len;

      while (p < end && *p != '|')
        p++;
      len = p - d;
      if (p < end)
        p++;
      if (len > 0 && *d == '~')
        {
          ref.negated = TRUE;
          d++;
          len--;
        }
      if (invert)
        ref.negated = !ref.negated;
      if (len == 0 || len > 253)
        continue;
      ref.off = (guint32) b->arena->len;
      ref.len = (guint16) len;
      ref.target = target;
      for (gsize i = 0; i < len; i++)
        g_string_append_c (b->arena, (char) lower (d[i]));
      g_array_append_val (b->domains, ref);
      n++;
    }
  return n;
}

/* Literal-token candidates of a plain pattern; calls @fn for each. */
typedef void (*TokenFunc) (Builder *b, const char *tok, gsize len, gssize off, gboolean prefix,
                           gpointer data);

static void
foreach_pattern_token (Builder *b, const char *p, gsize len, guint mode, TokenFunc fn, gpointer data)
{
  for (gsize i = 0; i < len;)
    {
      gsize j = i;
      gboolean left_ok, right_ok;

      if (!is_token_char (p[i]))
        {
          i++;
          continue;
        }
      while (j < len && is_token_char (p[j]))
        j++;
      left_ok = (i == 0) ? (mode & (ANCHOR_LEFT | ANCHOR_HOST)) != 0 : p[i - 1] != '*';
      right_ok = (j == len) ? (mode & ANCHOR_RIGHT) != 0 : p[j] != '*';
      if (left_ok && right_ok && j - i <= 64)
        fn (b, p + i, j - i, (gssize) i, FALSE, data);
      else if (left_ok && j - i >= PREFIX_LEN)
        fn (b, p + i, PREFIX_LEN, (gssize) i, TRUE, data); /* the start of a longer URL run */
      i = j;
    }
}

/* Literal-token candidates of a /regex/: runs of token characters between
 * escaped or plain literal separators, outside any group, class or
 * quantified atom; none at all when the regex has an alternation. */
static void
foreach_regex_token (Builder *b, const char *p, gsize len, TokenFunc fn, gpointer data)
{
  char run[65];
  gsize run_len = 0;
  gboolean left_ok = FALSE;
  int depth = 0;

  for (gsize i = 0, d = 0; i < len; i++)
    {
      /* An alternation outside any group: no token is certain. */
      if (p[i] == '\\')
        i++;
      else if (p[i] == '(')
        d++;
      else if (p[i] == ')' && d > 0)
        d--;
      else if (p[i] == '|' && d == 0)
        return;
    }
  for (gsize i = 0; i < len; i++)
    {
      guchar c = p[i];
      gboolean literal_sep = FALSE, literal_tok = FALSE;
      gsize next = i + 1;

      if (c == '\\' && i + 1 < len)
        {
          guchar e = p[i + 1];
          next = i + 2;
          if (!g_ascii_isalnum (e))
            literal_sep = !is_token_char (e);
          i++;
        }
      else if (c == '(')
        {
          gsize k = i + 1, d = 1;
          gboolean alternation = FALSE;

          /* A group with an alternation is one opaque atom, with no
           * boundary on either side. */
          for (; k < len && d > 0; k++)
            {
              if (p[k] == '\\')
                k++;
              else if (p[k] == '(')
                d++;
              else if (p[k] == ')')
                d--;
              else if (p[k] == '|' && d == 1)
                alternation = TRUE;
            }
          /* So are lookarounds and other (?…) groups but (?:…): they
           * consume nothing, or something we cannot follow. */
          if (i + 1 < len && p[i + 1] == '?' && !(i + 2 < len && p[i + 2] == ':'))
            alternation = TRUE;
          if (alternation)
            {
              run_len = 0;
              left_ok = FALSE;
              i = k - 1;
              continue;
            }
          depth++;
          continue; /* the group's first atom decides the boundary */
        }
      else if (c == ')')
        {
          depth--;
          if (next < len && (p[next] == '?' || p[next] == '*' || p[next] == '+' || p[next] == '{'))
            left_ok = FALSE;
          if (run_len > 0)
            run_len = 0;
          continue; /* the group's last atom decides the boundary */
        }
      else if (c == '{')
        {
          while (i < len && p[i] != '}')
            i++;
          next = i + 1;
        }
      else if (c == '[')
        {
          while (i < len && p[i] != ']')
            i += (p[i] == '\\') ? 2 : 1;
          next = i + 1;
        }
      else if (depth == 0 && is_token_char (c) && c != '%')
        literal_tok = TRUE;
      else if (c == '/' || c == '-' || c == '_' || c == '=' || c == '&' || c == ',' || c == ':')
        literal_sep = TRUE;
      /* An atom followed by a quantifier may be absent or repeated. */
      if (next < len && (p[next] == '?' || p[next] == '*' || p[next] == '+' || p[next] == '{'))
        {
          literal_tok = FALSE;
          literal_sep = FALSE;
        }
      if (literal_tok && run_len < 64)
        {
          run[run_len++] = (char) lower (c);
          continue;
        }
      if (run_len > 0 && left_ok && literal_sep)
        fn (b, run, run_len, -1, FALSE, data);
      run_len = 0;
      left_ok = literal_sep;
    }
}

/* The longest literal a /regex/ requires, outside groups and quantifiers;
 * 0 when there is a top-level alternation. Lower case unless @match_case. */
static gsize
regex_literal (const char *p, gsize len, gboolean match_case, char *out, gsize out_size)
{
  char cur[64];
  gsize cur_len = 0, best_len = 0;
  int depth = 0;

  for (gsize i = 0, d = 0; i < len; i++)
    {
      if (p[i] == '\\')
        i++;
      else if (p[i] == '(')
        d++;
      else if (p[i] == ')' && d > 0)
        d--;
      else if (p[i] == '|' && d == 0)
        return 0;
    }
  for (gsize i = 0; i <= len; i++)
    {
      gboolean literal = FALSE;
      guchar c = 0;
      gsize next = i + 1;

      if (i < len)
        {
          c = p[i];
          if (c == '\\' && i + 1 < len)
            {
              c = p[i + 1];
              next = i + 2;
              literal = depth == 0 && !g_ascii_isalnum (c);
              i++;
              /* \x41, \p{L}, \1: what follows an escape letter may be its argument. */
              if (!literal)
                while (next < len && (g_ascii_isxdigit (p[next]) || p[next] == '{' || p[next] == '}'))
                  i = next++;
            }
          else if (c == '(')
            depth++;
          else if (c == ')')
            depth--;
          else if (c == '[')
            {
              while (i < len && p[i] != ']')
                i += (p[i] == '\\') ? 2 : 1;
              next = i + 1;
            }
          else if (c == '{')
            {
              while (i < len && p[i] != '}')
                i++;
              next = i + 1;
            }
          else
            literal = depth == 0 && (g_ascii_isalnum (c) || strchr ("/-_=&,:%;@!~'\"<>", c) != NULL);
          if (next < len && (p[next] == '?' || p[next] == '*' || p[next] == '+' || p[next] == '{'))
            literal = FALSE;
        }
      if (literal && cur_len < sizeof cur)
        {
          cur[cur_len++] = match_case ? (char) c : (char) lower (c);
          continue;
        }
      if (cur_len > best_len && cur_len <= out_size)
        {
          memcpy (out, cur, cur_len);
          best_len = cur_len;
        }
      cur_len = 0;
    }
  return best_len >= 3 ? best_len : 0;
}

static void
count_token_cb (Builder *b, const char *tok, gsize len, gssize off, gboolean prefix, gpointer data)
{
  guint32 h = salted (hash_token (tok, len), prefix ? PREFIX_SALT : 0);
  GHashTable *seen = data;

  if (g_hash_table_contains (seen, GUINT_TO_POINTER (h)))
    return;
  g_hash_table_add (seen, GUINT_TO_POINTER (h));
  g_hash_table_insert (b->counts, GUINT_TO_POINTER (h),
                       GUINT_TO_POINTER (GPOINTER_TO_UINT (g_hash_table_lookup (b->counts,
                                                                                  GUINT_TO_POINTER (h)))
                                         + 1));
}

typedef struct
{
  guint32 best_hash;
  guint best_cost;
  gsize best_len;
  gssize best_off;
} Pick;

static void
pick_token_cb (Builder *b, const char *tok, gsize len, gssize off, gboolean prefix, gpointer data)
{
  Pick *pick = data;
  guint32 h = salted (hash_token (tok, len), prefix ? PREFIX_SALT : 0);
  guint cost = GPOINTER_TO_UINT (g_hash_table_lookup (b->counts, GUINT_TO_POINTER (h)));

  if (!prefix && is_common_token (tok, len))
    cost += 100000;
  if (len < 3)
    cost += 1000;
  if (prefix)
    cost += 1;
  if (pick->best_hash == 0 || cost < pick->best_cost || (cost == pick->best_cost && len > pick->best_len))
    {
      pick->best_hash = h;
      pick->best_cost = cost;
      pick->best_len = len;
      pick->best_off = off;
    }
}

/* Records where the chosen token sits, when nothing before it can stretch. */
static void
set_token_at (UrlFilter *f, const char *pattern, gssize off)
{
  if (off < 0 || (f->mode & KIND_REGEX) || memchr (pattern, '*', off) != NULL)
    return;
  f->mode |= TOKEN_AT;
  f->token_off = (guint16) off;
}

/* The rule text without its badfilter option, for $badfilter matching. */
static char *
badfilter_key (const char *text, gsize len)
{
  GString *s = g_string_new_len (text, len);
  const char *dollar = memrchr (s->str, '$', s->len);
  gsize opts;
  g_auto(GStrv) parts = NULL;
  GString *out;

  if (dollar == NULL)
    return g_string_free (s, FALSE);
  opts = dollar - s->str;
  parts = g_strsplit (s->str + opts + 1, ",", -1);
  out = g_string_new_len (s->str, opts);
  for (guint i = 0, n = 0; parts[i]; i++)
    {
      if (g_ascii_strcasecmp (parts[i], "badfilter") == 0)
        continue;
      g_string_append_c (out, n++ == 0 ? '$' : ',');
      g_string_append (out, parts[i]);
    }
  g_string_free (s, TRUE);
  return g_string_free (out, FALSE);
}

/* Compiles one rule into b->filters; FALSE when it can never block or allow. */
static gboolean
compile_rule (Builder *b, guint list_idx, guint rule_idx, const char *text, gsize len,
              guint list_flags)
{
  UrlFilter f = { 0, };
  Options o = { 0, };
  const char *pat = text;
  gsize pat_len = len;
  guint types, n_domains;

  o.type_neg = TYPES_ALL;
  if (list_flags & (MOAT_FILTER_RULE_UNSUPPORTED | MOAT_FILTER_RULE_BADFILTER))
    return FALSE;
  if (pat_len >= 2 && pat[0] == '@' && pat[1] == '@')
    {
      f.rule_flags |= MOAT_FILTER_RULE_EXCEPTION;
      pat += 2;
      pat_len -= 2;
    }
  for (gsize i = pat_len; i > 0; i--)
    {
      Options t = { 0, };

      if (pat[i - 1] != '$')
        continue;
      t.type_neg = TYPES_ALL;
      if (parse_options (pat + i, pat_len - i, &t))
        {
          o = t;
          pat_len = i - 1;
          break;
        }
      if (!(pat_len >= 2 && pat[0] == '/' && pat[pat_len - 1] == '/'))
        return FALSE; /* a modifier this index does not know: never matched */
    }
  if (o.skip || (o.rule_flags & MOAT_FILTER_RULE_BADFILTER))
    return FALSE;
  f.rule_flags |= o.rule_flags & MOAT_FILTER_RULE_IMPORTANT;
  if (o.type_pos == 0)
    types = o.type_neg;
  else if (o.type_neg == TYPES_ALL)
    types = o.type_pos;
  else
    types = o.type_pos & o.type_neg;
  if (types == 0)
    return FALSE;
  f.types = (guint16) types;
  f.party = o.party;
  f.list_idx = (guint16) list_idx;
  f.rule_idx = rule_idx;
  f.domains_off = b->domains->len;
  /* $to=x names request hosts to match, $to=~x and $denyallow=x hosts to spare. */
  n_domains = add_domains (b, o.domain, 0, FALSE) + add_domains (b, o.denyallow, 1, TRUE)
              + add_domains (b, o.to, 1, FALSE);
  if (n_domains > G_MAXUINT16)
    {
      g_array_set_size (b->domains, f.domains_off);
      return FALSE;
    }
  f.n_domains = (guint16) n_domains;
  if (o.match_case)
    f.mode |= CASE_SENSITIVE;

  if (pat_len >= 2 && pat[0] == '/' && pat[pat_len - 1] == '/')
    {
      g_autoptr(GError) error = NULL;
      /* PCRE2's own limits (10 M steps) are far too generous for a proxy:
       * a hostile /(a+)+$/ would take that long on every URL. Lowered in the
       * pattern; past them the regex does not match. */
      g_autofree char *source = g_strdup_printf ("(*LIMIT_MATCH=%u)(*LIMIT_DEPTH=%u)%.*s",
                                                 REGEX_MATCH_LIMIT, REGEX_DEPTH_LIMIT,
                                                 (int) (pat_len - 2), pat + 1);
      GRegex *regex;

      if (pat_len > 1024)
        return FALSE;
      regex = g_regex_new (source, (o.match_case ? 0 : G_REGEX_CASELESS) | G_REGEX_RAW
                                     | G_REGEX_NO_AUTO_CAPTURE,
                           0, &error);
      if (regex == NULL)
        {
          g_debug ("skipping regex rule %.*s: %s", (int) len, text, error->message);
          return FALSE;
        }
      {
        char literal[64];
        gsize n = regex_literal (pat + 1, pat_len - 2, o.match_case, literal, sizeof literal);

        f.literal_off = (guint32) b->arena->len;
        f.literal_len = (guint16) n;
        g_string_append_len (b->arena, literal, n);
      }
      f.mode |= KIND_REGEX;
      f.regex_idx = b->regexes->len;
      g_ptr_array_add (b->regexes, regex);
      f.pattern_off = (guint32) b->arena->len;
      f.pattern_len = (guint16) (pat_len - 2);
      g_string_append_len (b->arena, pat + 1, pat_len - 2);
    }
  else
    {
      if (pat_len >= 1 && pat[pat_len - 1] == '|')
        {
          f.mode |= ANCHOR_RIGHT;
          pat_len--;
        }
      if (pat_len >= 2 && pat[0] == '|' && pat[1] == '|')
        {
          f.mode |= ANCHOR_HOST;
          pat += 2;
          pat_len -= 2;
        }
      else if (pat_len >= 1 && pat[0] == '|')
        {
          f.mode |= ANCHOR_LEFT;
          pat++;
          pat_len--;
        }
      /* Stars at an unanchored end say nothing. */
      while (!(f.mode & ANCHOR_RIGHT) && pat_len > 0 && pat[pat_len - 1] == '*')
        pat_len--;
      while (!(f.mode & (ANCHOR_LEFT | ANCHOR_HOST)) && pat_len > 0 && pat[0] == '*')
        {
          pat++;
          pat_len--;
        }
      f.pattern_off = (guint32) b->arena->len;
      f.pattern_len = (guint16) pat_len;
      for (gsize i = 0; i < pat_len; i++)
        g_string_append_c (b->arena, o.match_case ? pat[i] : (char) lower (pat[i]));
    }
  g_array_append_val (b->filters, f);
  return TRUE;
}

static void
insert_key (Builder *b, guint32 hash, guint32 filter)
{
  FilterKey k = { hash, filter };
  g_array_append_val (b->keys, k);
}

static int
cmp_keys (gconstpointer a, gconstpointer b)
{
  const FilterKey *x = a, *y = b;

  if (x->hash != y->hash)
    return x->hash < y->hash ? -1 : 1;
  return (x->filter > y->filter) - (x->filter < y->filter);
}

MoatUrlIndex *
moat_url_index_new (MoatFilterList *const *lists, guint n_lists, const guint8 *user)
{
  MoatUrlIndex *self = g_new0 (MoatUrlIndex, 1);
  Builder b = { 0, };
  g_autoptr(GHashTable) badfilters = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autoptr(GArray) untokened = g_array_new (FALSE, FALSE, sizeof (guint32));
  gsize capacity = 16;
  guint n_keys_distinct = 0;

  self->user = user;
  b.arena = g_string_new (NULL);
  b.filters = g_array_new (FALSE, FALSE, sizeof (UrlFilter));
  b.domains = g_array_new (FALSE, FALSE, sizeof (DomainRef));
  b.regexes = g_ptr_array_new ();
  b.keys = g_array_new (FALSE, FALSE, sizeof (FilterKey));
  b.counts = g_hash_table_new (NULL, NULL);

  /* $badfilter cancels the identical rule in any list. */
  for (guint l = 0; l < n_lists; l++)
    {
      guint n = moat_filter_list_get_n_url_rules (lists[l]);

      for (guint i = 0; i < n; i++)
        {
          gsize len;
          MoatFilterRuleFlags flags;
          const char *text = moat_filter_list_get_url_rule (lists[l], i, &len, &flags, NULL);

          if (flags & MOAT_FILTER_RULE_BADFILTER)
            g_hash_table_add (badfilters, badfilter_key (text, len));
        }
    }

  for (guint l = 0; l < n_lists; l++)
    {
      guint n = moat_filter_list_get_n_url_rules (lists[l]);

      for (guint i = 0; i < n; i++)
        {
          gsize len;
          MoatFilterRuleFlags flags;
          const char *text = moat_filter_list_get_url_rule (lists[l], i, &len, &flags, NULL);

          if (g_hash_table_size (badfilters) > 0 && !(flags & MOAT_FILTER_RULE_BADFILTER))
            {
              g_autofree char *key = g_strndup (text, len);
              if (g_hash_table_contains (badfilters, key))
                continue;
            }
          compile_rule (&b, l, i, text, len, flags & MOAT_FILTER_RULE_UNSUPPORTED);
        }
    }

  /* Token frequencies over all filters, then each filter's rarest token. */
  for (guint pass = 0; pass < 2; pass++)
    for (guint i = 0; i < b.filters->len; i++)
      {
        UrlFilter *f = &g_array_index (b.filters, UrlFilter, i);
        const char *p = b.arena->str + f->pattern_off;
        g_autoptr(GHashTable) seen = NULL;
        Pick pick = { 0, };

        if (pass == 0)
          {
            seen = g_hash_table_new (NULL, NULL);
            if (f->mode & KIND_REGEX)
              foreach_regex_token (&b, p, f->pattern_len, count_token_cb, seen);
            else
              foreach_pattern_token (&b, p, f->pattern_len, f->mode, count_token_cb, seen);
            continue;
          }
        if (f->mode & KIND_REGEX)
          foreach_regex_token (&b, p, f->pattern_len, pick_token_cb, &pick);
        else
          foreach_pattern_token (&b, p, f->pattern_len, f->mode, pick_token_cb, &pick);
        if (pick.best_hash != 0 && pick.best_cost < 100000)
          {
            insert_key (&b, pick.best_hash, i);
            set_token_at (f, p, pick.best_off);
            continue;
          }
        /* No usable token: file it under the page domains it names. */
        {
          gboolean keyed = FALSE;

          for (guint d = 0; d < f->n_domains; d++)
            {
              const DomainRef *ref = &g_array_index (b.domains, DomainRef, f->domains_off + d);
              const char *text = b.arena->str + ref->off;

              if (ref->target != 0 || ref->negated)
                continue;
              if (memchr (text, '.', ref->len) == NULL || text[ref->len - 1] == '*')
                {
                  keyed = FALSE;
                  break;
                }
              keyed = TRUE;
            }
          if (keyed)
            {
              for (guint d = 0; d < f->n_domains; d++)
                {
                  const DomainRef *ref = &g_array_index (b.domains, DomainRef, f->domains_off + d);
                  if (ref->target == 0 && !ref->negated)
                    insert_key (&b, hash_domain_key (b.arena->str + ref->off, ref->len), i);
                }
            }
          else if (pick.best_hash != 0)
            {
              insert_key (&b, pick.best_hash, i);
              set_token_at (f, p, pick.best_off);
            }
          else
            {
              guint32 idx = i;
              g_array_append_val (untokened, idx);
            }
        }
      }

  g_array_sort (b.keys, cmp_keys);
  for (guint i = 0; i < b.keys->len; i++)
    if (i == 0 || g_array_index (b.keys, FilterKey, i).hash != g_array_index (b.keys, FilterKey, i - 1).hash)
      n_keys_distinct++;
  while (capacity < (gsize) n_keys_distinct * 2)
    capacity *= 2;
  self->mask = (guint32) capacity - 1;
  self->slots = g_new0 (TokenSlot, capacity);
  self->n_bucket_ids = b.keys->len;
  self->bucket_ids = g_new (guint32, MAX (b.keys->len, 1));
  for (guint i = 0; i < b.keys->len;)
    {
      guint32 h = g_array_index (b.keys, FilterKey, i).hash;
      guint j = i;
      guint32 s = h & self->mask;

      while (j < b.keys->len && g_array_index (b.keys, FilterKey, j).hash == h)
        {
          self->bucket_ids[j] = g_array_index (b.keys, FilterKey, j).filter;
          j++;
        }
      while (self->slots[s].len != 0)
        s = (s + 1) & self->mask;
      self->slots[s].hash = h;
      self->slots[s].start = i;
      self->slots[s].len = j - i;
      i = j;
    }

  /* Lay the filters out in bucket order, so a bucket's filters sit side by
   * side in memory (a lookup touches a few buckets, not scattered records). */
  {
    guint32 *new_of_old = g_new (guint32, MAX (b.filters->len, 1));
    UrlFilter *ordered = g_new (UrlFilter, MAX (b.filters->len, 1));
    guint32 next = 0;

    memset (new_of_old, 0xff, sizeof (guint32) * MAX (b.filters->len, 1));
    for (guint i = 0; i < b.keys->len; i++)
      {
        guint32 old = g_array_index (b.keys, FilterKey, i).filter;
        if (new_of_old[old] == G_MAXUINT32)
          new_of_old[old] = next++;
      }
    for (guint i = 0; i < b.filters->len; i++)
      if (new_of_old[i] == G_MAXUINT32)
        new_of_old[i] = next++;
    for (guint i = 0; i < b.filters->len; i++)
      ordered[new_of_old[i]] = g_array_index (b.filters, UrlFilter, i);
    for (guint i = 0; i < self->n_bucket_ids; i++)
      self->bucket_ids[i] = new_of_old[self->bucket_ids[i]];
    for (guint i = 0; i < untokened->len; i++)
      g_array_index (untokened, guint32, i) = new_of_old[g_array_index (untokened, guint32, i)];
    g_free (new_of_old);
    self->n_filters = b.filters->len;
    self->filters = ordered;
    g_array_unref (b.filters);
  }
  self->n_domains = b.domains->len;
  self->domains = (DomainRef *) (gpointer) g_array_free (b.domains, FALSE);
  self->n_regexes = b.regexes->len;
  self->regexes = (GRegex **) g_ptr_array_free (b.regexes, FALSE);
  self->arena_len = b.arena->len;
  self->arena = g_string_free (b.arena, FALSE);
  self->n_untokened = untokened->len;
  self->untokened = g_memdup2 (untokened->data, sizeof (guint32) * MAX (untokened->len, 1));
  g_array_unref (b.keys);
  g_hash_table_unref (b.counts);
  if (g_getenv ("MOAT_URL_INDEX_DUMP"))
    {
      for (guint k = 0; k < self->n_untokened; k++)
        g_printerr ("untokened: %.*s\n", self->filters[self->untokened[k]].pattern_len, self->arena + self->filters[self->untokened[k]].pattern_off);
      for (guint k = 0; k <= self->mask; k++)
        if (self->slots[k].len > 40)
          g_printerr ("bucket %u: %.*s ...\n", self->slots[k].len, self->filters[self->bucket_ids[self->slots[k].start]].pattern_len, self->arena + self->filters[self->bucket_ids[self->slots[k].start]].pattern_off);
    }
  g_debug ("URL index: %u filters, %u tokens, %u without a token, %u regexes",
           self->n_filters, n_keys_distinct, self->n_untokened, self->n_regexes);
  return self;
}

void
moat_url_index_free (MoatUrlIndex *self)
{
  if (self == NULL)
    return;
  for (guint i = 0; i < self->n_regexes; i++)
    g_regex_unref (self->regexes[i]);
  g_free (self->regexes);
  g_free (self->arena);
  g_free (self->filters);
  g_free (self->domains);
  g_free (self->slots);
  g_free (self->bucket_ids);
  g_free (self->untokened);
  g_free (self);
}

gsize
moat_url_index_get_memory_size (MoatUrlIndex *self)
{
  /* Compiled regexes are not counted (PCRE2 owns them); there are few. */
  return sizeof *self + self->arena_len + self->n_filters * sizeof (UrlFilter)
         + self->n_domains * sizeof (DomainRef) + ((gsize) self->mask + 1) * sizeof (TokenSlot)
         + self->n_bucket_ids * sizeof (guint32) + self->n_untokened * sizeof (guint32)
         + self->n_regexes * sizeof (gpointer);
}

guint
moat_url_index_get_n_filters (MoatUrlIndex *self)
{
  return self->n_filters;
}

/* How @host relates to the domain @d: equal or under it (YES), above it
 * (MAYBE: @host is only a registrable domain, the page may be @d), or not. */
static Answer
relate (const char *host, gsize host_len, const char *d, gsize d_len, gboolean host_is_site)
{
  if (d_len >= 2 && d[d_len - 1] == '*' && d[d_len - 2] == '.')
    {
      /* An entity, example.*: the registrable domain starts with "example.". */
      return (host_len > d_len - 1 && memcmp (host, d, d_len - 1) == 0) ? ANSWER_YES : ANSWER_NO;
    }
  if (host_len == d_len)
    return memcmp (host, d, d_len) == 0 ? ANSWER_YES : ANSWER_NO;
  if (host_len > d_len)
    return (host[host_len - d_len - 1] == '.' && memcmp (host + host_len - d_len, d, d_len) == 0)
             ? ANSWER_YES
             : ANSWER_NO;
  if (host_is_site && d[d_len - host_len - 1] == '.'
      && memcmp (d + d_len - host_len, host, host_len) == 0)
    return ANSWER_MAYBE;
  return ANSWER_NO;
}

static Answer
check_domains (MoatUrlIndex *self, const UrlFilter *f, const MoatUrlRequest *req)
{
  Answer page_in = ANSWER_YES, page_out = ANSWER_YES, host_in = ANSWER_YES, host_out = ANSWER_YES;
  gboolean has_page_in = FALSE, has_host_in = FALSE;

  if (f->n_domains == 0)
    return ANSWER_YES;
  page_in = host_in = ANSWER_NO;
  for (guint i = 0; i < f->n_domains; i++)
    {
      const DomainRef *d = &self->domains[f->domains_off + i];
      const char *text = self->arena + d->off;
      Answer a;

      if (d->target == 0)
        {
          a = req->source ? relate (req->source, req->source_len, text, d->len, TRUE) : ANSWER_MAYBE;
          if (d->negated)
            page_out = MIN (page_out, a == ANSWER_YES ? ANSWER_NO : a == ANSWER_MAYBE ? ANSWER_MAYBE : ANSWER_YES);
          else
            {
              has_page_in = TRUE;
              page_in = MAX (page_in, a);
            }
        }
      else
        {
          a = relate (req->host, req->host_len, text, d->len, FALSE);
          /* $denyallow=x and $to=~x spare x; $to=x requires it. Both are stored
           * as target 1: denyallow entries are stored negated-less, so the
           * compiler marks them (see add_domains): negated means "spare". */
          if (d->negated)
            host_out = MIN (host_out, a == ANSWER_YES ? ANSWER_NO : ANSWER_YES);
          else
            {
              has_host_in = TRUE;
              host_in = MAX (host_in, a);
            }
        }
    }
  if (!has_page_in)
    page_in = ANSWER_YES;
  if (!has_host_in)
    host_in = ANSWER_YES;
  return MIN (MIN (page_in, page_out), MIN (host_in, host_out));
}

static inline gboolean
char_eq (guchar p, guchar s)
{
  return p == '^' ? is_separator (s) : p == s;
}

/* Glob match of @p (with `*` and `^`) against @s from its start; the whole
 * of @s must be consumed when @right_anchor. */
static gboolean
glob_match (const char *p, gsize plen, const char *s, gsize slen, gboolean right_anchor,
            gboolean leading_star)
{
  gsize i = 0, j = 0, star_i = leading_star ? 0 : G_MAXSIZE, star_j = 0;

  for (;;)
    {
      if (i == plen)
        {
          if (!right_anchor || j == slen)
            return TRUE;
        }
      else if (p[i] == '*')
        {
          star_i = ++i;
          star_j = j;
          continue;
        }
      else if (j < slen && char_eq (p[i], s[j]))
        {
          i++;
          j++;
          continue;
        }
      else if (j == slen && p[i] == '^')
        {
          i++;
          continue;
        }
      if (star_i == G_MAXSIZE || star_j >= slen)
        return FALSE;
      i = star_i;
      j = ++star_j;
    }
}

static gboolean
check_pattern (MoatUrlIndex *self, const UrlFilter *f, const MoatUrlRequest *req, gssize tok_pos)
{
  const char *p = self->arena + f->pattern_off;
  const char *s = (f->mode & CASE_SENSITIVE) ? req->url : req->lower;
  gsize n = req->url_len;
  gboolean right = (f->mode & ANCHOR_RIGHT) != 0;

  if ((f->mode & TOKEN_AT) && tok_pos >= 0)
    {
      gsize start;

      /* The token found at tok_pos is the pattern's token_off: one start. */
      if ((gsize) tok_pos < f->token_off)
        return FALSE;
      start = tok_pos - f->token_off;
      if ((f->mode & ANCHOR_LEFT) && start != 0)
        return FALSE;
      if ((f->mode & ANCHOR_HOST)
          && (start < req->host_start || start >= req->host_end
              || (start > req->host_start && s[start - 1] != '.')))
        return FALSE;
      return glob_match (p, f->pattern_len, s + start, n - start, right, FALSE);
    }
  if (f->mode & KIND_REGEX)
    {
      if (f->literal_len > 0 && memmem (s, n, self->arena + f->literal_off, f->literal_len) == NULL)
        return FALSE;
      return g_regex_match_full (self->regexes[f->regex_idx], s, (gssize) n, 0, 0, NULL, NULL);
    }
  if (f->mode & ANCHOR_LEFT)
    return glob_match (p, f->pattern_len, s, n, right, FALSE);
  if (f->mode & ANCHOR_HOST)
    {
      /* At the host's start or after any dot inside it. */
      for (gsize k = req->host_start; k < req->host_end; k++)
        if ((k == req->host_start || s[k - 1] == '.')
            && glob_match (p, f->pattern_len, s + k, n - k, right, FALSE))
          return TRUE;
      return FALSE;
    }
  /* Unanchored: an implicit leading star; a first literal character
   * skips ahead to where it can start. */
  if (f->pattern_len == 0)
    return TRUE;
  if (p[0] != '^')
    {
      const char *q = memchr (s, p[0], n);
      if (q == NULL)
        return FALSE;
      return glob_match (p, f->pattern_len, q, s + n - q, right, TRUE);
    }
  return glob_match (p, f->pattern_len, s, n, right, TRUE);
}

static inline void
try_filter (MoatUrlIndex *self, guint32 idx, const MoatUrlRequest *req, gssize tok_pos,
            guint32 *best_score, guint *best, gboolean *found)
{
  const UrlFilter *f = &self->filters[idx];
  gboolean exception = (f->rule_flags & MOAT_FILTER_RULE_EXCEPTION) != 0;
  Answer a = ANSWER_YES;
  guint32 score = moat_filter_score (self->user[f->list_idx], f->rule_flags, 255);

  /* Scores of host rules never equal those of URL rules (specificity 255). */
  if (score < *best_score)
    return;
  if (score == *best_score)
    {
      const UrlFilter *b;

      if (!*found)
        return;
      /* The earlier list, then the earlier line, wins a tie. */
      b = &self->filters[*best];
      if (f->list_idx > b->list_idx || (f->list_idx == b->list_idx && f->rule_idx >= b->rule_idx))
        return;
    }
  /* Type. */
  if (req->type == MOAT_FILTER_RESOURCE_TYPE_UNKNOWN)
    {
      if (f->types != TYPES_ALL)
        a = ANSWER_MAYBE;
    }
  else if (!(f->types & TYPE_BIT (req->type)))
    return;
  /* Party. */
  if (f->party != 0)
    {
      if (req->party == MOAT_URL_PARTY_UNKNOWN)
        a = ANSWER_MAYBE;
      else if (req->party != f->party)
        return;
    }
  if (a == ANSWER_MAYBE && !exception)
    return;
  a = MIN (a, check_domains (self, f, req));
  if (a == ANSWER_NO || (a == ANSWER_MAYBE && !exception))
    return;
  if (!check_pattern (self, f, req, tok_pos))
    return;
  *best_score = score;
  *best = idx;
  *found = TRUE;
}

static inline const TokenSlot *
find_token (MoatUrlIndex *self, guint32 h)
{
  guint32 i = h & self->mask;

  for (;;)
    {
      const TokenSlot *slot = &self->slots[i];

      if (slot->len == 0)
        return NULL;
      if (slot->hash == h)
        return slot;
      i = (i + 1) & self->mask;
    }
}

static inline void
try_bucket (MoatUrlIndex *self, guint32 h, const MoatUrlRequest *req, gssize tok_pos,
            guint32 *best_score, guint *best, gboolean *found)
{
  const TokenSlot *slot = find_token (self, h);

  if (slot == NULL)
    return;
  for (guint32 k = 0; k < slot->len; k++)
    try_filter (self, self->bucket_ids[slot->start + k], req, tok_pos, best_score, best, found);
}

gboolean
moat_url_index_match (MoatUrlIndex *self, const MoatUrlRequest *req, guint32 *best_score,
                      guint *list_idx, guint *rule_idx)
{
  const char *s = req->lower;
  gsize n = req->url_len;
  guint best = 0;
  gboolean found = FALSE;
  guint32 score = *best_score;

  if (self->n_filters == 0)
    return FALSE;
  for (gsize i = 0; i < n;)
    {
      gsize j = i;
      guint32 h = FNV_OFFSET, h_prefix = 0;

      if (!is_token_char (s[i]))
        {
          i++;
          continue;
        }
      while (j < n && is_token_char (s[j]))
        {
          h ^= (guchar) s[j];
          h *= FNV_PRIME;
          j++;
          if (j - i == PREFIX_LEN)
            h_prefix = h;
        }
      if (j - i <= 64)
        try_bucket (self, salted (h, 0), req, (gssize) i, &score, &best, &found);
      if (j - i > PREFIX_LEN)
        try_bucket (self, salted (h_prefix, PREFIX_SALT), req, (gssize) i, &score, &best, &found);
      else if (j - i == PREFIX_LEN)
        try_bucket (self, salted (h, PREFIX_SALT), req, (gssize) i, &score, &best, &found);
      i = j;
    }
  if (req->source != NULL)
    try_bucket (self, hash_domain_key (req->source, req->source_len), req, -1, &score, &best,
                &found);
  for (guint k = 0; k < self->n_untokened; k++)
    try_filter (self, self->untokened[k], req, -1, &score, &best, &found);
  if (!found)
    return FALSE;
  *best_score = score;
  *list_idx = self->filters[best].list_idx;
  *rule_idx = self->filters[best].rule_idx;
  return TRUE;
}
