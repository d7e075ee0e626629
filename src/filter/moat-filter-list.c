/* SPDX-License-Identifier: GPL-3.0-or-later
 * Copyright 2026 The Moat developers
 *
 * Filter-list parsers. Every line is classified as empty, comment, cosmetic,
 * ignored, host rule, URL rule or bad; nothing in a list can make loading fail
 * except a list too large for 32-bit offsets. Rules keep offsets into the
 * caller's bytes, which the list holds a reference on.
 */
#define G_LOG_DOMAIN "moat-filter"

#include "config.h"

#include "moat-filter-list-private.h"

#include "moat-error.h"

#include <string.h>

struct _MoatFilterList
{
  gatomicrefcount ref_count;

  /* owned */
  char *name;
  GBytes *bytes;
  GArray *host_rules; /* MoatFilterRule: host rules with their own flags */
  GArray *simple_hosts; /* guint32 offsets of hosts whose flags are simple_flags */
  guint32 *line_marks;  /* newlines before each 64 KiB block, for lazy line numbers */
  guint n_line_marks;
  guint simple_flags;
  GArray *url_rules;  /* MoatFilterRule */
  GArray *bad_lines;  /* guint32, at most MOAT_FILTER_LIST_MAX_BAD_LINES */

  MoatFilterCategory category;
  MoatFilterFormat format;
  MoatFilterListFlags flags;

  guint n_lines;
  guint n_exceptions;
  guint n_cosmetic;
  guint n_comments;
  guint n_ignored;
  guint n_bad;
  gsize data_size;
};

G_DEFINE_BOXED_TYPE (MoatFilterList, moat_filter_list, moat_filter_list_ref, moat_filter_list_unref)

typedef enum
{
  LINE_EMPTY,
  LINE_COMMENT,
  LINE_COSMETIC,
  LINE_IGNORED,
  LINE_RULE,
  LINE_BAD,
} LineKind;

typedef struct
{
  MoatFilterList *list;
  const char *data;  /* start of the list */
  const char *line;  /* start of the trimmed line */
  gsize len;         /* trimmed length */
  guint32 line_no;
  gboolean partly_bad; /* a multi-host line had an invalid entry */
} LineCtx;

static const char *const category_names[] = {
  "ads", "trackers", "malware", "phishing", "scam", "c2", "adult", "gambling", "custom",
};
G_STATIC_ASSERT (G_N_ELEMENTS (category_names) == MOAT_FILTER_CATEGORY_LAST);

static const char *const format_names[] = {
  "auto", "hosts", "domains", "adblock", "dnsmasq",
};

static inline gboolean
is_space (char c)
{
  return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v';
}

static inline gboolean
is_host_char (char c)
{
  return g_ascii_isalnum (c) || c == '-' || c == '.' || c == '_';
}

/* A DNS name as lists write it: 1..253 characters of [A-Za-z0-9._-], no empty
 * label, labels of at most 63. IPv4 literals pass too. */
static gboolean
host_is_valid (const char *s, gsize len)
{
  gsize label = 0;

  if (len == 0 || len > 253 || s[0] == '.' || s[len - 1] == '.')
    return FALSE;
  for (gsize i = 0; i < len; i++)
    {
      if (!is_host_char (s[i]))
        return FALSE;
      if (s[i] == '.')
        {
          if (label == 0)
            return FALSE;
          label = 0;
        }
      else if (++label > 63)
        return FALSE;
    }
  return TRUE;
}

static gboolean
host_is_local_name (const char *s, gsize len)
{
  static const char *const names[] = {
    "localhost", "localhost.localdomain", "local", "broadcasthost", "ip6-localhost",
    "ip6-loopback", "ip6-localnet", "ip6-mcastprefix", "ip6-allnodes", "ip6-allrouters",
    "ip6-allhosts", "0.0.0.0",
  };

  for (gsize i = 0; i < G_N_ELEMENTS (names); i++)
    if (strlen (names[i]) == len && g_ascii_strncasecmp (names[i], s, len) == 0)
      return TRUE;
  return FALSE;
}

static void
add_rule (LineCtx *ctx, GArray *to, const char *rule, gsize rule_len,
          const char *host, gsize host_len, guint flags)
{
  MoatFilterRule r = { 0, };

  r.offset = (guint32) (rule - ctx->data);
  r.line = ctx->line_no;
  r.length = (guint16) rule_len;
  r.host_start = host ? (guint16) (host - rule) : 0;
  r.host_len = (guint8) host_len;
  r.flags = (guint16) flags;
  g_array_append_val (to, r);
  if (flags & MOAT_FILTER_RULE_EXCEPTION)
    ctx->list->n_exceptions++;
}

/* The most common host rule (a hosts-file entry, a plain `||host^`) keeps
 * nothing but the host's offset: 4 bytes instead of 16; its line and rule
 * text are found again from the bytes when a match is reported. */
static void
add_host (LineCtx *ctx, const char *host, gsize host_len, guint flags)
{
  MoatFilterList *list = ctx->list;
  const char *after = host + host_len;

  if (flags == list->simple_flags
      && (after == ctx->data + list->data_size || !is_host_char (*after)))
    {
      guint32 off = (guint32) (host - ctx->data);
      g_array_append_val (list->simple_hosts, off);
      if (flags & MOAT_FILTER_RULE_EXCEPTION)
        list->n_exceptions++;
      return;
    }
  add_rule (ctx, list->host_rules, ctx->line, ctx->len, host, host_len, flags);
}

static void
add_url (LineCtx *ctx, guint flags)
{
  add_rule (ctx, ctx->list->url_rules, ctx->line, ctx->len, NULL, 0, flags);
}

/* Strips "*." or "." in front of a plain-domain or dnsmasq entry. */
static void
strip_wildcard_prefix (const char **s, gsize *len)
{
  if (*len > 2 && (*s)[0] == '*' && (*s)[1] == '.')
    {
      *s += 2;
      *len -= 2;
    }
  else if (*len > 1 && (*s)[0] == '.')
    {
      *s += 1;
      *len -= 1;
    }
}

static guint
hosts_entry_flags (LineCtx *ctx)
{
  guint flags = 0;

  if (ctx->list->flags & MOAT_FILTER_LIST_HOSTS_EXACT)
    flags |= MOAT_FILTER_RULE_EXACT;
  if (ctx->list->flags & MOAT_FILTER_LIST_ALLOW)
    flags |= MOAT_FILTER_RULE_EXCEPTION;
  return flags;
}

/* 0.0.0.0, 0, ::, ::1, 127.x.y.z, 0:0:0:0:0:0:0:0 … : addresses that mean "go nowhere". */
static int
classify_address (const char *s, gsize len)
{
  char buf[64];

  if (len == 0 || len >= sizeof buf)
    return -1;
  if ((len == 7 && memcmp (s, "0.0.0.0", 7) == 0) || (len == 9 && memcmp (s, "127.0.0.1", 9) == 0)
      || (len == 1 && s[0] == '0') || (len == 2 && memcmp (s, "::", 2) == 0)
      || (len == 3 && memcmp (s, "::1", 3) == 0))
    return 1;
  memcpy (buf, s, len);
  buf[len] = '\0';
  if (!g_hostname_is_ip_address (buf))
    return -1;
  if (g_str_has_prefix (buf, "127.") || strspn (buf, "0:.") == len || strcmp (buf, "::1") == 0
      || g_ascii_strcasecmp (buf, "0:0:0:0:0:0:0:1") == 0)
    return 1;
  return 0; /* a real address: the file maps a name, it does not block it */
}

/* Hosts file: IP host [host...] [# comment]. A line holding just a host name is
 * read as a plain-domain entry, as many "hosts" lists mix both. */
static LineKind
parse_hosts_line (LineCtx *ctx)
{
  const char *p = ctx->line;
  const char *end = ctx->line + ctx->len;
  const char *hash = memchr (p, '#', ctx->len);
  const char *tok;
  int addr;
  guint n_hosts = 0, n_bad = 0, n_local = 0;

  if (hash)
    end = hash;
  while (end > p && is_space (end[-1]))
    end--;
  if (end == p)
    return LINE_COMMENT;
  tok = p;
  while (p < end && !is_space (*p))
    p++;
  addr = classify_address (tok, p - tok);
  if (addr < 0)
    {
      if (p == end)
        {
          gsize len = p - tok;
          strip_wildcard_prefix (&tok, &len);
          if (host_is_valid (tok, len))
            {
              add_host (ctx, tok, len, hosts_entry_flags (ctx));
              return LINE_RULE;
            }
        }
      return LINE_BAD;
    }
  while (p < end)
    {
      while (p < end && is_space (*p))
        p++;
      tok = p;
      while (p < end && !is_space (*p))
        p++;
      if (p == tok)
        break;
      if (host_is_local_name (tok, p - tok))
        n_local++;
      else if (!host_is_valid (tok, p - tok))
        n_bad++;
      else if (addr == 1)
        {
          add_host (ctx, tok, p - tok, hosts_entry_flags (ctx));
          n_hosts++;
        }
      else
        n_local++;
    }
  if (n_bad > 0 && n_hosts == 0)
    return LINE_BAD;
  ctx->partly_bad = n_bad > 0;
  if (n_hosts == 0)
    return n_local > 0 ? LINE_IGNORED : LINE_BAD;
  return LINE_RULE;
}

static LineKind
parse_domains_line (LineCtx *ctx)
{
  const char *s = ctx->line;
  gsize len = ctx->len;
  const char *hash;

  if (s[0] == '#' || s[0] == '!' || s[0] == ';')
    return LINE_COMMENT;
  hash = memchr (s, '#', len);
  if (hash)
    len = hash - s;
  while (len > 0 && is_space (s[len - 1]))
    len--;
  if (len == 0)
    return LINE_COMMENT;
  if (memchr (s, ' ', len) || memchr (s, '\t', len))
    return parse_hosts_line (ctx);
  strip_wildcard_prefix (&s, &len);
  if (!host_is_valid (s, len))
    return LINE_BAD;
  add_host (ctx, s, len, hosts_entry_flags (ctx));
  return LINE_RULE;
}

/* address=/a.example/b.example/0.0.0.0, server=/a.example/, local=/a.example/ */
static LineKind
parse_dnsmasq_line (LineCtx *ctx)
{
  const char *s = ctx->line;
  const char *end = s + ctx->len;
  const char *p, *last_slash, *target;
  gboolean is_server = FALSE;
  guint n_hosts = 0, n_bad = 0;
  int addr;

  if (s[0] == '#')
    return LINE_COMMENT;
  if (ctx->len > 9 && memcmp (s, "address=/", 9) == 0)
    p = s + 9;
  else if (ctx->len > 8 && memcmp (s, "server=/", 8) == 0)
    {
      p = s + 8;
      is_server = TRUE;
    }
  else if (ctx->len > 7 && memcmp (s, "local=/", 7) == 0)
    p = s + 7;
  else if ((ctx->len >= 8 && memcmp (s, "address=", 8) == 0)
           || (ctx->len >= 7 && memcmp (s, "server=", 7) == 0)
           || (ctx->len >= 6 && memcmp (s, "local=", 6) == 0))
    return LINE_BAD;
  else if (memchr (s, '=', ctx->len))
    return LINE_IGNORED; /* another dnsmasq directive */
  else
    return parse_hosts_line (ctx);

  last_slash = NULL;
  for (const char *q = end; q > p; q--)
    if (q[-1] == '/')
      {
        last_slash = q - 1;
        break;
      }
  if (last_slash == NULL)
    return LINE_BAD;
  target = last_slash + 1;
  if (target == end)
    addr = 1; /* no upstream / no address: answered locally with NXDOMAIN */
  else if (end - target == 1 && *target == '#')
    addr = is_server ? 0 : 1; /* server=/x/# means "use the normal servers" */
  else
    addr = is_server ? 0 : classify_address (target, end - target);
  if (addr < 0)
    return LINE_BAD;
  while (p < last_slash)
    {
      const char *h = p;
      gsize len;

      while (p < last_slash && *p != '/')
        p++;
      len = p - h;
      if (p < last_slash)
        p++;
      strip_wildcard_prefix (&h, &len);
      if (!host_is_valid (h, len))
        n_bad++;
      else if (addr == 1)
        {
          add_host (ctx, h, len, hosts_entry_flags (ctx) & ~MOAT_FILTER_RULE_EXACT);
          n_hosts++;
        }
    }
  ctx->partly_bad = n_bad > 0 && n_hosts > 0;
  if (n_hosts > 0)
    return LINE_RULE;
  return n_bad > 0 ? LINE_BAD : LINE_IGNORED;
}

static gboolean
is_cosmetic (const char *s, gsize len)
{
  static const char *const markers[] = {
    "##", "#@#", "#?#", "#@?#", "#$#", "#@$#", "#%#", "#@%#", "#$?#", "#@$?#", "$$", "$@$",
  };

  for (gsize i = 0; i + 1 < len; i++)
    {
      if (s[i] != '#' && s[i] != '$')
        continue;
      for (gsize m = 0; m < G_N_ELEMENTS (markers); m++)
        {
          gsize mlen = strlen (markers[m]);
          if (len - i >= mlen && memcmp (s + i, markers[m], mlen) == 0)
            return TRUE;
        }
    }
  return FALSE;
}

typedef struct
{
  const char *name;
  guint flag;
  gboolean negatable;
} OptionSpec;

static const OptionSpec options[] = {
  { "important", MOAT_FILTER_RULE_IMPORTANT, FALSE },
  { "third-party", MOAT_FILTER_RULE_THIRD_PARTY, TRUE },
  { "3p", MOAT_FILTER_RULE_THIRD_PARTY, TRUE },
  { "first-party", MOAT_FILTER_RULE_FIRST_PARTY, TRUE },
  { "1p", MOAT_FILTER_RULE_FIRST_PARTY, TRUE },
  { "all", MOAT_FILTER_RULE_ALL, FALSE },
  { "doc", MOAT_FILTER_RULE_DOCUMENT, TRUE },
  { "document", MOAT_FILTER_RULE_DOCUMENT, TRUE },
  { "badfilter", MOAT_FILTER_RULE_BADFILTER, FALSE },
  { "match-case", MOAT_FILTER_RULE_MATCH_CASE, FALSE },
  { "redirect", MOAT_FILTER_RULE_REDIRECT, FALSE },
  { "rewrite", MOAT_FILTER_RULE_UNSUPPORTED, FALSE },
  { "reason", 0, FALSE },
  /* resource types */
  { "script", MOAT_FILTER_RULE_TYPES, TRUE },
  { "image", MOAT_FILTER_RULE_TYPES, TRUE },
  { "stylesheet", MOAT_FILTER_RULE_TYPES, TRUE },
  { "css", MOAT_FILTER_RULE_TYPES, TRUE },
  { "object", MOAT_FILTER_RULE_TYPES, TRUE },
  { "object-subrequest", MOAT_FILTER_RULE_TYPES, TRUE },
  { "xmlhttprequest", MOAT_FILTER_RULE_TYPES, TRUE },
  { "xhr", MOAT_FILTER_RULE_TYPES, TRUE },
  { "subdocument", MOAT_FILTER_RULE_TYPES, TRUE },
  { "frame", MOAT_FILTER_RULE_TYPES, TRUE },
  { "ping", MOAT_FILTER_RULE_TYPES, TRUE },
  { "beacon", MOAT_FILTER_RULE_TYPES, TRUE },
  { "media", MOAT_FILTER_RULE_TYPES, TRUE },
  { "font", MOAT_FILTER_RULE_TYPES, TRUE },
  { "websocket", MOAT_FILTER_RULE_TYPES, TRUE },
  { "webrtc", MOAT_FILTER_RULE_TYPES, TRUE },
  { "other", MOAT_FILTER_RULE_TYPES, TRUE },
  { "inline-script", MOAT_FILTER_RULE_TYPES, TRUE },
  { "inline-font", MOAT_FILTER_RULE_TYPES, TRUE },
  { "mp4", MOAT_FILTER_RULE_TYPES, FALSE },
  { "empty", MOAT_FILTER_RULE_MODIFIER, FALSE },
  { "domain", MOAT_FILTER_RULE_DOMAIN, FALSE },
  { "from", MOAT_FILTER_RULE_DOMAIN, FALSE },
  { "to", MOAT_FILTER_RULE_DOMAIN, FALSE },
  { "denyallow", MOAT_FILTER_RULE_DOMAIN, FALSE },
  { "csp", MOAT_FILTER_RULE_MODIFIER, FALSE },
  { "removeparam", MOAT_FILTER_RULE_MODIFIER, FALSE },
  { "queryprune", MOAT_FILTER_RULE_MODIFIER, FALSE },
  { "redirect-rule", MOAT_FILTER_RULE_MODIFIER, FALSE },
  { "header", MOAT_FILTER_RULE_MODIFIER, FALSE },
  { "permissions", MOAT_FILTER_RULE_MODIFIER, FALSE },
  { "replace", MOAT_FILTER_RULE_MODIFIER, FALSE },
  { "urltransform", MOAT_FILTER_RULE_MODIFIER, FALSE },
  { "uritransform", MOAT_FILTER_RULE_MODIFIER, FALSE },
  { "cname", MOAT_FILTER_RULE_MODIFIER, TRUE },
  { "genericblock", MOAT_FILTER_RULE_MODIFIER, FALSE },
  { "generichide", MOAT_FILTER_RULE_MODIFIER, FALSE },
  { "ghide", MOAT_FILTER_RULE_MODIFIER, FALSE },
  { "elemhide", MOAT_FILTER_RULE_MODIFIER, FALSE },
  { "ehide", MOAT_FILTER_RULE_MODIFIER, FALSE },
  { "specifichide", MOAT_FILTER_RULE_MODIFIER, FALSE },
  { "shide", MOAT_FILTER_RULE_MODIFIER, FALSE },
  { "content", MOAT_FILTER_RULE_MODIFIER, FALSE },
  { "jsinject", MOAT_FILTER_RULE_MODIFIER, FALSE },
  { "urlblock", MOAT_FILTER_RULE_MODIFIER, FALSE },
  { "stealth", MOAT_FILTER_RULE_MODIFIER, FALSE },
  { "popup", MOAT_FILTER_RULE_UNSUPPORTED, FALSE },
  { "popunder", MOAT_FILTER_RULE_UNSUPPORTED, FALSE },
  { "ipaddress", MOAT_FILTER_RULE_UNSUPPORTED, FALSE },
  { "method", MOAT_FILTER_RULE_UNSUPPORTED, FALSE },
  { "strict1p", MOAT_FILTER_RULE_UNSUPPORTED, FALSE },
  { "strict3p", MOAT_FILTER_RULE_UNSUPPORTED, FALSE },
  { "strict-first-party", MOAT_FILTER_RULE_UNSUPPORTED, FALSE },
  { "strict-third-party", MOAT_FILTER_RULE_UNSUPPORTED, FALSE },
  { "dnstype", MOAT_FILTER_RULE_UNSUPPORTED, TRUE },
  { "dnsrewrite", MOAT_FILTER_RULE_UNSUPPORTED, FALSE },
  { "client", MOAT_FILTER_RULE_UNSUPPORTED, FALSE },
  { "ctag", MOAT_FILTER_RULE_UNSUPPORTED, FALSE },
  { "app", MOAT_FILTER_RULE_UNSUPPORTED, FALSE },
  { "network", MOAT_FILTER_RULE_UNSUPPORTED, FALSE },
  { "extension", MOAT_FILTER_RULE_UNSUPPORTED, FALSE },
};

/* Parses "opt1,~opt2,name=value"; FALSE when an option is unknown. */
static gboolean
parse_options (const char *s, gsize len, guint *flags)
{
  const char *end = s + len;

  while (s < end)
    {
      const char *opt = s, *name_end;
      gboolean negated = FALSE, known = FALSE, has_value;
      gsize name_len;

      while (s < end && *s != ',')
        {
          if (*s == '\\' && s + 1 < end)
            s++;
          s++;
        }
      name_end = memchr (opt, '=', s - opt);
      has_value = name_end != NULL;
      if (!has_value)
        name_end = s;
      if (opt < name_end && *opt == '~')
        {
          negated = TRUE;
          opt++;
        }
      name_len = name_end - opt;
      if (s < end)
        s++;
      if (name_len == 0)
        return FALSE;
      for (gsize i = 0; i < G_N_ELEMENTS (options); i++)
        {
          if (strlen (options[i].name) != name_len
              || g_ascii_strncasecmp (options[i].name, opt, name_len) != 0)
            continue;
          if (negated && !options[i].negatable)
            return FALSE;
          known = TRUE;
          if (negated && options[i].flag == MOAT_FILTER_RULE_THIRD_PARTY)
            *flags |= MOAT_FILTER_RULE_FIRST_PARTY;
          else if (negated && options[i].flag == MOAT_FILTER_RULE_FIRST_PARTY)
            *flags |= MOAT_FILTER_RULE_THIRD_PARTY;
          else if (negated && options[i].flag == MOAT_FILTER_RULE_DOCUMENT)
            *flags |= MOAT_FILTER_RULE_TYPES;
          else
            *flags |= options[i].flag;
          break;
        }
      if (!known)
        return FALSE;
    }
  return TRUE;
}

/* Flags a host-only matcher can honour exactly. */
#define HOST_RULE_FLAGS \
  (MOAT_FILTER_RULE_EXCEPTION | MOAT_FILTER_RULE_IMPORTANT | MOAT_FILTER_RULE_THIRD_PARTY \
   | MOAT_FILTER_RULE_FIRST_PARTY | MOAT_FILTER_RULE_ALL | MOAT_FILTER_RULE_DOCUMENT \
   | MOAT_FILTER_RULE_BADFILTER | MOAT_FILTER_RULE_REDIRECT | MOAT_FILTER_RULE_MATCH_CASE)

static LineKind
parse_adblock_line (LineCtx *ctx)
{
  const char *s = ctx->line;
  gsize len = ctx->len;
  const char *pat, *dollar = NULL;
  gsize pat_len;
  guint flags = 0;

  if (s[0] == '!' || (s[0] == '[' && s[len - 1] == ']'))
    return LINE_COMMENT;
  if (is_cosmetic (s, len))
    return LINE_COSMETIC;
  if (s[0] == '#')
    return LINE_COMMENT;
  if (g_ascii_isdigit (s[0]) || s[0] == ':')
    {
      for (gsize i = 0; i < len; i++)
        if (is_space (s[i]))
          return parse_hosts_line (ctx);
    }
  pat = s;
  pat_len = len;
  if (pat_len >= 2 && pat[0] == '@' && pat[1] == '@')
    {
      flags |= MOAT_FILTER_RULE_EXCEPTION;
      pat += 2;
      pat_len -= 2;
    }
  /* Options follow a '$': the rightmost one whose tail parses as options, so a
   * '$' inside a /regex/ or an option value (ipaddress=/…$/) is skipped. */
  for (gsize i = pat_len; i > 0; i--)
    {
      guint opt_flags = 0;

      if (pat[i - 1] != '$')
        continue;
      if (dollar == NULL)
        dollar = pat + i - 1; /* remembered for the error case */
      if (parse_options (pat + i, pat_len - i, &opt_flags))
        {
          dollar = pat + i - 1;
          flags |= opt_flags;
          pat_len = i - 1;
          goto have_options;
        }
    }
  if (dollar != NULL && !(pat_len >= 2 && pat[0] == '/' && pat[pat_len - 1] == '/'))
    return LINE_BAD; /* unknown or misspelled option */
  dollar = NULL;
have_options:
  if (pat_len >= 2 && pat[0] == '/' && pat[pat_len - 1] == '/')
    {
      add_url (ctx, flags | MOAT_FILTER_RULE_REGEX);
      return LINE_RULE;
    }
  if (pat_len == 0 && dollar == NULL)
    return LINE_BAD;
  if (memchr (pat, ' ', pat_len) || memchr (pat, '\t', pat_len))
    return LINE_BAD;

  if ((flags & ~HOST_RULE_FLAGS) == 0)
    {
      const char *host = NULL;
      gsize host_len = 0;

      if (pat_len > 2 && pat[0] == '|' && pat[1] == '|')
        {
          const char *h = pat + 2, *e = h;
          gsize rest;

          while (e < pat + pat_len && is_host_char (*e))
            e++;
          rest = pat + pat_len - e;
          if ((rest == 1 && e[0] == '^') || (rest == 2 && e[0] == '^' && e[1] == '|'))
            {
              host = h;
              host_len = e - h;
            }
        }
      else if (dollar == NULL && pat_len > 0 && g_ascii_isalnum (pat[0])
               && g_ascii_isalnum (pat[pat_len - 1]) && memchr (pat, '.', pat_len))
        {
          /* A bare host line (urlhaus, badware): uBlock Origin reads it as
           * ||host^. One that starts or ends with '-' or '_' ("-geoIP.js")
           * is a plain substring. */
          host = pat;
          host_len = pat_len;
        }
      if (host && host_is_valid (host, host_len))
        {
          add_host (ctx, host, host_len, flags);
          return LINE_RULE;
        }
    }
  add_url (ctx, flags | MOAT_FILTER_RULE_PATTERN);
  return LINE_RULE;
}

static gboolean
line_has_control_chars (const char *s, gsize len)
{
  for (gsize i = 0; i < len; i++)
    if (((guchar) s[i] < 0x20 && s[i] != '\t') || s[i] == 0x7f)
      return TRUE;
  return FALSE;
}

#define LINE_MARK_SHIFT 10

/* Eight bytes at a time: a byte of x is zero exactly where the high bit of
 * ~(((x & 0x7f…) + 0x7f…) | x) is set. */
static guint
count_newlines (const char *p, gsize n)
{
  const guint64 lo7 = G_GUINT64_CONSTANT (0x7f7f7f7f7f7f7f7f);
  const guint64 nl = G_GUINT64_CONSTANT (0x0a0a0a0a0a0a0a0a);
  guint count = 0;
  gsize i = 0;

  for (; i + 8 <= n; i += 8)
    {
      guint64 x;

      memcpy (&x, p + i, 8);
      x ^= nl;
      count += (guint) __builtin_popcountll (~(((x & lo7) + lo7) | x | lo7));
    }
  for (; i < n; i++)
    count += p[i] == '\n';
  return count;
}

/* Counts the lines and notes how many newlines precede each 1 KiB block
 * (4 bytes per KiB of list). */
static guint
mark_lines (MoatFilterList *list, const char *data, gsize size)
{
  guint n = 0;

  list->n_line_marks = (guint) (size >> LINE_MARK_SHIFT) + 1;
  list->line_marks = g_new (guint32, list->n_line_marks);
  for (guint k = 0; k < list->n_line_marks; k++)
    {
      gsize start = (gsize) k << LINE_MARK_SHIFT;

      list->line_marks[k] = n;
      n += count_newlines (data + start, MIN (size, start + (1u << LINE_MARK_SHIFT)) - start);
    }
  return n;
}

/* The 1-based line holding byte @off. */
static guint
line_at (MoatFilterList *self, const char *data, guint32 off)
{
  guint k = MIN (off >> LINE_MARK_SHIFT, self->n_line_marks - 1);
  gsize start = (gsize) k << LINE_MARK_SHIFT;

  return self->line_marks[k] + count_newlines (data + start, off - start) + 1;
}

static void
count_bad (MoatFilterList *list, guint32 line_no)
{
  list->n_bad++;
  if (list->bad_lines->len < MOAT_FILTER_LIST_MAX_BAD_LINES)
    g_array_append_val (list->bad_lines, line_no);
}

static void
parse_all (MoatFilterList *list, const char *data, gsize size)
{
  LineCtx ctx = { list, data, NULL, 0, 0, FALSE };
  const char *p = data, *end = data + size;

  if (size >= 3 && memcmp (p, "\xef\xbb\xbf", 3) == 0)
    p += 3;
  while (p < end)
    {
      const char *nl = memchr (p, '\n', end - p);
      const char *line_end = nl ? nl : end;
      const char *s = p, *e = line_end;
      LineKind kind;

      ctx.line_no++;
      p = nl ? nl + 1 : end;
      while (s < e && is_space (*s))
        s++;
      while (e > s && is_space (e[-1]))
        e--;
      if (s == e)
        continue;
      if (e - s > MOAT_FILTER_LIST_MAX_LINE || line_has_control_chars (s, e - s)
          || !g_utf8_validate_len (s, e - s, NULL))
        {
          count_bad (list, ctx.line_no);
          continue;
        }
      ctx.line = s;
      ctx.len = e - s;
      ctx.partly_bad = FALSE;
      switch (list->format)
        {
        case MOAT_FILTER_FORMAT_HOSTS:
          kind = (s[0] == '#') ? LINE_COMMENT : parse_hosts_line (&ctx);
          break;
        case MOAT_FILTER_FORMAT_DOMAINS:
          kind = parse_domains_line (&ctx);
          break;
        case MOAT_FILTER_FORMAT_DNSMASQ:
          kind = parse_dnsmasq_line (&ctx);
          break;
        case MOAT_FILTER_FORMAT_ADBLOCK:
        case MOAT_FILTER_FORMAT_AUTO:
        default:
          kind = parse_adblock_line (&ctx);
          break;
        }
      switch (kind)
        {
        case LINE_COMMENT:
          list->n_comments++;
          break;
        case LINE_COSMETIC:
          list->n_cosmetic++;
          break;
        case LINE_IGNORED:
          list->n_ignored++;
          break;
        case LINE_BAD:
          count_bad (list, ctx.line_no);
          break;
        case LINE_RULE:
          if (ctx.partly_bad)
            count_bad (list, ctx.line_no);
          break;
        case LINE_EMPTY:
        default:
          break;
        }
    }
  list->n_lines = ctx.line_no;
}

const char *
moat_filter_category_to_string (MoatFilterCategory category)
{
  if ((guint) category >= MOAT_FILTER_CATEGORY_LAST)
    return NULL;
  return category_names[category];
}

gboolean
moat_filter_category_from_string (const char *str, MoatFilterCategory *out)
{
  for (guint i = 0; str != NULL && i < G_N_ELEMENTS (category_names); i++)
    if (g_strcmp0 (str, category_names[i]) == 0)
      {
        *out = (MoatFilterCategory) i;
        return TRUE;
      }
  return FALSE;
}

const char *
moat_filter_format_to_string (MoatFilterFormat format)
{
  if ((guint) format >= G_N_ELEMENTS (format_names))
    return NULL;
  return format_names[format];
}

gboolean
moat_filter_format_from_string (const char *str, MoatFilterFormat *out)
{
  for (guint i = 0; str != NULL && i < G_N_ELEMENTS (format_names); i++)
    if (g_strcmp0 (str, format_names[i]) == 0)
      {
        *out = (MoatFilterFormat) i;
        return TRUE;
      }
  return FALSE;
}

/**
 * moat_filter_format_detect:
 *
 * Looks at the first 500 non-empty lines (at most 256 KiB): an `[Adblock`
 * header, `!` comments or ABP syntax (`||`, `@@`, `##`, `$`) mean ADBLOCK;
 * `address=/` / `server=/` lines mean DNSMASQ; `IP host` lines mean HOSTS;
 * bare names with no sign of ABP syntax mean DOMAINS (the ABP parser reads
 * bare names as `||name^` too). The majority wins, ties go to ADBLOCK.
 */
MoatFilterFormat
moat_filter_format_detect (const char *data, gsize len)
{
  const char *p = data, *end = data + MIN (len, 256 * 1024);
  guint n_abp = 0, n_hosts = 0, n_dnsmasq = 0, n_domains = 0, n_seen = 0;

  while (p < end && n_seen < 500)
    {
      const char *nl = memchr (p, '\n', end - p);
      const char *e = nl ? nl : end;
      const char *s = p;
      gsize l;

      p = nl ? nl + 1 : end;
      while (s < e && is_space (*s))
        s++;
      while (e > s && is_space (e[-1]))
        e--;
      l = e - s;
      if (l == 0)
        continue;
      n_seen++;
      if (l >= 9 && g_ascii_strncasecmp (s, "[adblock", 8) == 0)
        return MOAT_FILTER_FORMAT_ADBLOCK;
      if (s[0] == '#' && !is_cosmetic (s, l))
        continue;
      if (s[0] == '!')
        {
          n_abp++;
          continue;
        }
      if ((l > 9 && memcmp (s, "address=/", 9) == 0) || (l > 8 && memcmp (s, "server=/", 8) == 0)
          || (l > 7 && memcmp (s, "local=/", 7) == 0))
        n_dnsmasq += 2;
      else if ((l > 2 && (memcmp (s, "||", 2) == 0 || memcmp (s, "@@", 2) == 0))
               || is_cosmetic (s, l) || memchr (s, '$', l) || memchr (s, '^', l)
               || memchr (s, '/', l))
        n_abp += 2;
      else
        {
          const char *t = s;
          while (t < e && !is_space (*t))
            t++;
          if (t < e && classify_address (s, t - s) >= 0)
            n_hosts += 2;
          else if (t == e)
            n_domains += 1;
        }
    }
  /* Adblock syntax reads bare host lines too, so any sign of it wins over DOMAINS. */
  if (n_dnsmasq > n_abp && n_dnsmasq >= n_hosts && n_dnsmasq >= n_domains)
    return MOAT_FILTER_FORMAT_DNSMASQ;
  if (n_hosts > n_abp && n_hosts >= n_domains)
    return MOAT_FILTER_FORMAT_HOSTS;
  if (n_domains > 0 && n_abp == 0)
    return MOAT_FILTER_FORMAT_DOMAINS;
  return MOAT_FILTER_FORMAT_ADBLOCK;
}

/**
 * moat_filter_list_new_from_bytes:
 * @name: the list's name, shown to users ("EasyList")
 * @bytes: the list's content (often a mapped file); the list keeps a reference
 *
 * Parses a list. Bad lines are counted and skipped, so this only fails when
 * the list is larger than 4 GiB (rules keep 32-bit offsets) or @name is empty.
 */
MoatFilterList *
moat_filter_list_new_from_bytes (const char *name,
                                 MoatFilterCategory category,
                                 MoatFilterFormat format,
                                 MoatFilterListFlags flags,
                                 GBytes *bytes,
                                 GError **error)
{
  g_autoptr(MoatFilterList) self = NULL;
  const char *data;
  gsize size;

  g_return_val_if_fail (bytes != NULL, NULL);
  g_return_val_if_fail ((guint) category < MOAT_FILTER_CATEGORY_LAST, NULL);
  g_return_val_if_fail (format <= MOAT_FILTER_FORMAT_DNSMASQ, NULL);

  if (name == NULL || *name == '\0' || !g_utf8_validate (name, -1, NULL))
    {
      g_set_error (error, MOAT_ERROR, MOAT_ERROR_INVALID_ARGUMENT,
                   "A filter list needs a name in UTF-8");
      return NULL;
    }
  data = g_bytes_get_data (bytes, &size);
  if (size > G_MAXUINT32)
    {
      g_set_error (error, MOAT_ERROR, MOAT_ERROR_LIMIT_EXCEEDED,
                   "Filter list “%s” is larger than 4 GiB", name);
      return NULL;
    }

  self = g_new0 (MoatFilterList, 1);
  g_atomic_ref_count_init (&self->ref_count);
  self->name = g_strdup (name);
  self->bytes = g_bytes_ref (bytes);
  self->category = category;
  self->flags = flags;
  self->format = (format == MOAT_FILTER_FORMAT_AUTO) ? moat_filter_format_detect (data, size) : format;
  self->data_size = size;
  if (self->format != MOAT_FILTER_FORMAT_ADBLOCK)
    {
      if (flags & MOAT_FILTER_LIST_HOSTS_EXACT)
        self->simple_flags |= MOAT_FILTER_RULE_EXACT;
      if (flags & MOAT_FILTER_LIST_ALLOW)
        self->simple_flags |= MOAT_FILTER_RULE_EXCEPTION;
    }
  /* Hosts files give about one host per line: reserve that, so a 1 M-line
   * file does not leave a doubled array behind. */
  self->simple_hosts = g_array_sized_new (FALSE, FALSE, sizeof (guint32),
                                          mark_lines (self, data, size) + 1);
  self->host_rules = g_array_new (FALSE, FALSE, sizeof (MoatFilterRule));
  self->url_rules = g_array_new (FALSE, FALSE, sizeof (MoatFilterRule));
  self->bad_lines = g_array_new (FALSE, FALSE, sizeof (guint32));
  if (size > 0)
    parse_all (self, data, size);
  g_debug ("list “%s” (%s): %u lines, %u host rules, %u URL rules, %u cosmetic, %u bad",
           name, moat_filter_format_to_string (self->format), self->n_lines,
           self->host_rules->len, self->url_rules->len, self->n_cosmetic, self->n_bad);
  return g_steal_pointer (&self);
}

MoatFilterList *
moat_filter_list_ref (MoatFilterList *self)
{
  g_return_val_if_fail (self != NULL, NULL);
  g_atomic_ref_count_inc (&self->ref_count);
  return self;
}

void
moat_filter_list_unref (MoatFilterList *self)
{
  g_return_if_fail (self != NULL);
  if (!g_atomic_ref_count_dec (&self->ref_count))
    return;
  g_free (self->name);
  g_bytes_unref (self->bytes);
  g_array_unref (self->host_rules);
  g_array_unref (self->simple_hosts);
  g_free (self->line_marks);
  g_array_unref (self->url_rules);
  g_array_unref (self->bad_lines);
  g_free (self);
}

const char *
moat_filter_list_get_name (MoatFilterList *self)
{
  return self->name;
}

MoatFilterCategory
moat_filter_list_get_category (MoatFilterList *self)
{
  return self->category;
}

MoatFilterFormat
moat_filter_list_get_format (MoatFilterList *self)
{
  return self->format;
}

MoatFilterListFlags
moat_filter_list_get_flags (MoatFilterList *self)
{
  return self->flags;
}

GBytes *
moat_filter_list_get_bytes (MoatFilterList *self)
{
  return self->bytes;
}

const char *
moat_filter_list_get_data (MoatFilterList *self)
{
  return g_bytes_get_data (self->bytes, NULL);
}

guint
moat_filter_list_get_n_lines (MoatFilterList *self)
{
  return self->n_lines;
}

guint
moat_filter_list_get_n_host_rules (MoatFilterList *self)
{
  return self->host_rules->len + self->simple_hosts->len;
}

guint
moat_filter_list_get_n_exceptions (MoatFilterList *self)
{
  return self->n_exceptions;
}

guint
moat_filter_list_get_n_url_rules (MoatFilterList *self)
{
  return self->url_rules->len;
}

guint
moat_filter_list_get_n_cosmetic (MoatFilterList *self)
{
  return self->n_cosmetic;
}

guint
moat_filter_list_get_n_comments (MoatFilterList *self)
{
  return self->n_comments;
}

guint
moat_filter_list_get_n_ignored (MoatFilterList *self)
{
  return self->n_ignored;
}

guint
moat_filter_list_get_n_bad_lines (MoatFilterList *self)
{
  return self->n_bad;
}

/**
 * moat_filter_list_get_bad_lines:
 * @n_kept: (out): how many line numbers the array holds (at most
 *   MOAT_FILTER_LIST_MAX_BAD_LINES; moat_filter_list_get_n_bad_lines() has the total)
 */
const guint32 *
moat_filter_list_get_bad_lines (MoatFilterList *self, guint *n_kept)
{
  *n_kept = self->bad_lines->len;
  return (const guint32 *) (gpointer) self->bad_lines->data;
}

const MoatFilterRule *
moat_filter_list_get_host_rules (MoatFilterList *self, guint *n_rules)
{
  *n_rules = self->host_rules->len;
  return (const MoatFilterRule *) (gpointer) self->host_rules->data;
}

const guint32 *
moat_filter_list_get_simple_hosts (MoatFilterList *self, guint *n_hosts, guint *flags)
{
  *n_hosts = self->simple_hosts->len;
  *flags = self->simple_flags;
  return (const guint32 *) (gpointer) self->simple_hosts->data;
}

gsize
moat_filter_list_get_size (MoatFilterList *self)
{
  return self->data_size;
}

/* The rule (trimmed line) and line number of the simple host at @off. */
const char *
moat_filter_list_describe_simple (MoatFilterList *self, guint32 off, gsize *rule_len,
                                  gsize *host_len, guint *line)
{
  const char *data = moat_filter_list_get_data (self);
  const char *host = data + off, *s = host, *e, *h = host;
  const char *end = data + self->data_size;

  while (s > data && s[-1] != '\n')
    s--;
  if (s == data && self->data_size >= 3 && memcmp (data, "\xef\xbb\xbf", 3) == 0)
    s += 3;
  while (s < host && is_space (*s))
    s++;
  e = memchr (host, '\n', end - host);
  if (e == NULL)
    e = end;
  while (e > host && is_space (e[-1]))
    e--;
  while (h < end && is_host_char (*h))
    h++;
  if (rule_len)
    *rule_len = e - s;
  if (host_len)
    *host_len = h - host;
  if (line)
    *line = line_at (self, data, off);
  return s;
}

static const char *
get_rule (MoatFilterList *self, GArray *rules, guint index, gsize *rule_len, const char **host,
          gsize *host_len, MoatFilterRuleFlags *flags, guint *line)
{
  const MoatFilterRule *r;
  const char *text;

  if (index >= rules->len)
    return NULL;
  r = &g_array_index (rules, MoatFilterRule, index);
  text = moat_filter_list_get_data (self) + r->offset;
  if (rule_len)
    *rule_len = r->length;
  if (host)
    *host = text + r->host_start;
  if (host_len)
    *host_len = r->host_len;
  if (flags)
    *flags = r->flags;
  if (line)
    *line = r->line;
  return text;
}

/**
 * moat_filter_list_get_host_rule:
 *
 * Returns: (nullable): the rule's line (not NUL-terminated; @rule_len long),
 *   borrowed from the list's bytes, or %NULL when @index is out of range
 */
const char *
moat_filter_list_get_host_rule (MoatFilterList *self, guint index, gsize *rule_len,
                                const char **host, gsize *host_len, MoatFilterRuleFlags *flags,
                                guint *line)
{
  guint32 off;

  if (index < self->host_rules->len)
    return get_rule (self, self->host_rules, index, rule_len, host, host_len, flags, line);
  index -= self->host_rules->len;
  if (index >= self->simple_hosts->len)
    return NULL;
  off = g_array_index (self->simple_hosts, guint32, index);
  if (host)
    *host = moat_filter_list_get_data (self) + off;
  if (flags)
    *flags = self->simple_flags;
  return moat_filter_list_describe_simple (self, off, rule_len, host_len, line);
}

/**
 * moat_filter_list_get_url_rule:
 *
 * Rules a host matcher cannot answer (paths, wildcards, regexes, type or
 * domain options, modifiers, unsupported options), kept for the URL matcher.
 */
const char *
moat_filter_list_get_url_rule (MoatFilterList *self, guint index, gsize *rule_len,
                               MoatFilterRuleFlags *flags, guint *line)
{
  return get_rule (self, self->url_rules, index, rule_len, NULL, NULL, flags, line);
}
