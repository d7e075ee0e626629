/* SPDX-License-Identifier: GPL-3.0-or-later
 * Copyright 2026 The Moat developers
 */
#pragma once

#include <glib-object.h>

G_BEGIN_DECLS

/*
 * Semantics (see also moat-filter-matcher.c for precedence):
 * - `||host^` blocks host and every subdomain. Hosts-file entries, plain
 *   domain-list entries, dnsmasq entries and bare host lines in ABP lists
 *   (urlhaus, badware) mean the same, as uBlock Origin and the reference
 *   domain view (shared/bench/matcher) read them; @ghostery/adblocker reads a
 *   bare line as a substring of the URL instead (a deliberate difference).
 *   MOAT_FILTER_LIST_HOSTS_EXACT makes hosts/domain entries exact.
 * - Host rules: `||host^` or `||host^|` with only $important, $third-party /
 *   $1p / $3p (applied when the caller knows the party), $all, $doc,
 *   $badfilter, $match-case, $redirect= (still a block).
 * - Everything else that parses (paths, `*`, `|` anchors, `||host` without
 *   `^`, /regex/, type, $domain=, modifier and unsupported options like
 *   $popup) is a URL rule, kept with its line for the URL matcher
 *   (moat_filter_matcher_match_url()); as in Adblock Plus, `/…/` is a regex.
 *   A bare line that starts or ends with `-` or `_` is a substring, not a host.
 * - Host rules list the ones with flags of their own first, then the plain
 *   ones (hosts-file entries, `||host^`), which only keep an offset into the
 *   bytes: their rule text and line are found again on demand.
 * - An unknown or misspelled option makes the line bad (uBlock Origin drops
 *   such filters too). Cosmetic lines (##, #@#, #?#, #$#, #%#, ##+js, $$) are
 *   counted, `!`, `[Adblock …]` and `# ` lines are comments.
 * - Lines over MOAT_FILTER_LIST_MAX_LINE bytes, with control characters or
 *   NULs, or not UTF-8 are bad.
 */

/**
 * MoatFilterFormat:
 * @MOAT_FILTER_FORMAT_AUTO: guess from the content (moat_filter_format_detect())
 * @MOAT_FILTER_FORMAT_HOSTS: hosts file, `0.0.0.0 host [host...]`, `#` comments
 * @MOAT_FILTER_FORMAT_DOMAINS: one host per line (`*.host` allowed), `#`/`!` comments
 * @MOAT_FILTER_FORMAT_ADBLOCK: Adblock Plus / uBlock Origin / AdGuard filter syntax
 * @MOAT_FILTER_FORMAT_DNSMASQ: `address=/host/0.0.0.0`, `server=/host/`, `local=/host/`
 */
typedef enum
{
  MOAT_FILTER_FORMAT_AUTO,
  MOAT_FILTER_FORMAT_HOSTS,
  MOAT_FILTER_FORMAT_DOMAINS,
  MOAT_FILTER_FORMAT_ADBLOCK,
  MOAT_FILTER_FORMAT_DNSMASQ,
} MoatFilterFormat;

typedef enum
{
  MOAT_FILTER_CATEGORY_ADS,
  MOAT_FILTER_CATEGORY_TRACKERS,
  MOAT_FILTER_CATEGORY_MALWARE,
  MOAT_FILTER_CATEGORY_PHISHING,
  MOAT_FILTER_CATEGORY_SCAM,
  MOAT_FILTER_CATEGORY_C2,
  MOAT_FILTER_CATEGORY_ADULT,
  MOAT_FILTER_CATEGORY_GAMBLING,
  MOAT_FILTER_CATEGORY_CUSTOM,
  MOAT_FILTER_CATEGORY_LAST /*< skip >*/
} MoatFilterCategory;

/**
 * MoatFilterListFlags:
 * @MOAT_FILTER_LIST_USER: the user's own allow- or block-list; it wins over
 *   every subscription
 * @MOAT_FILTER_LIST_HOSTS_EXACT: hosts-file and plain-domain entries block
 *   exactly that host instead of the host and its subdomains
 * @MOAT_FILTER_LIST_ALLOW: an allow-list: every host entry is an exception
 *   (`@@||host^`); ABP rules keep what their text says
 */
typedef enum
{
  MOAT_FILTER_LIST_NONE = 0,
  MOAT_FILTER_LIST_USER = 1 << 0,
  MOAT_FILTER_LIST_HOSTS_EXACT = 1 << 1,
  MOAT_FILTER_LIST_ALLOW = 1 << 2,
} MoatFilterListFlags;

/**
 * MoatFilterRuleFlags:
 *
 * What a rule's prefix and `$options` say, parsed once so later matchers need
 * not parse the text again.
 */
typedef enum
{
  MOAT_FILTER_RULE_EXCEPTION = 1 << 0,   /* @@ */
  MOAT_FILTER_RULE_IMPORTANT = 1 << 1,   /* $important */
  MOAT_FILTER_RULE_THIRD_PARTY = 1 << 2, /* $third-party, $3p */
  MOAT_FILTER_RULE_FIRST_PARTY = 1 << 3, /* $~third-party, $1p, $first-party */
  MOAT_FILTER_RULE_ALL = 1 << 4,         /* $all */
  MOAT_FILTER_RULE_DOCUMENT = 1 << 5,    /* $doc, $document */
  MOAT_FILTER_RULE_BADFILTER = 1 << 6,   /* $badfilter */
  MOAT_FILTER_RULE_EXACT = 1 << 7,       /* hosts entry under MOAT_FILTER_LIST_HOSTS_EXACT */
  MOAT_FILTER_RULE_REDIRECT = 1 << 8,    /* $redirect= (still a block) */
  MOAT_FILTER_RULE_MATCH_CASE = 1 << 9,  /* $match-case */
  MOAT_FILTER_RULE_TYPES = 1 << 10,      /* resource-type options ($script, $~image, ...) */
  MOAT_FILTER_RULE_DOMAIN = 1 << 11,     /* $domain= / $from= / $to= / $denyallow= */
  MOAT_FILTER_RULE_MODIFIER = 1 << 12,   /* $csp, $removeparam, $redirect-rule, $header, ... */
  MOAT_FILTER_RULE_REGEX = 1 << 13,      /* /regex/ pattern */
  MOAT_FILTER_RULE_PATTERN = 1 << 14,    /* a path, wildcard or anchor a host cannot answer */
  MOAT_FILTER_RULE_UNSUPPORTED = 1 << 15, /* $popup, $dnstype, ...: never matched */
} MoatFilterRuleFlags;

typedef struct _MoatFilterList MoatFilterList;

#define MOAT_FILTER_LIST_MAX_BAD_LINES 100
#define MOAT_FILTER_LIST_MAX_LINE 8192

GType moat_filter_list_get_type (void) G_GNUC_CONST;
#define MOAT_TYPE_FILTER_LIST (moat_filter_list_get_type ())

const char *moat_filter_category_to_string (MoatFilterCategory category);
gboolean moat_filter_category_from_string (const char *str, MoatFilterCategory *out);
const char *moat_filter_format_to_string (MoatFilterFormat format);
gboolean moat_filter_format_from_string (const char *str, MoatFilterFormat *out);
MoatFilterFormat moat_filter_format_detect (const char *data, gsize len);

MoatFilterList *moat_filter_list_new_from_bytes (const char *name,
                                                 MoatFilterCategory category,
                                                 MoatFilterFormat format,
                                                 MoatFilterListFlags flags,
                                                 GBytes *bytes,
                                                 GError **error);
MoatFilterList *moat_filter_list_ref (MoatFilterList *self);
void moat_filter_list_unref (MoatFilterList *self);

const char *moat_filter_list_get_name (MoatFilterList *self);
MoatFilterCategory moat_filter_list_get_category (MoatFilterList *self);
MoatFilterFormat moat_filter_list_get_format (MoatFilterList *self);
MoatFilterListFlags moat_filter_list_get_flags (MoatFilterList *self);
GBytes *moat_filter_list_get_bytes (MoatFilterList *self);

guint moat_filter_list_get_n_lines (MoatFilterList *self);
guint moat_filter_list_get_n_host_rules (MoatFilterList *self);
guint moat_filter_list_get_n_exceptions (MoatFilterList *self);
guint moat_filter_list_get_n_url_rules (MoatFilterList *self);
guint moat_filter_list_get_n_cosmetic (MoatFilterList *self);
guint moat_filter_list_get_n_comments (MoatFilterList *self);
guint moat_filter_list_get_n_ignored (MoatFilterList *self);
guint moat_filter_list_get_n_bad_lines (MoatFilterList *self);
const guint32 *moat_filter_list_get_bad_lines (MoatFilterList *self, guint *n_kept);

const char *moat_filter_list_get_host_rule (MoatFilterList *self,
                                            guint index,
                                            gsize *rule_len,
                                            const char **host,
                                            gsize *host_len,
                                            MoatFilterRuleFlags *flags,
                                            guint *line);
const char *moat_filter_list_get_url_rule (MoatFilterList *self,
                                           guint index,
                                           gsize *rule_len,
                                           MoatFilterRuleFlags *flags,
                                           guint *line);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (MoatFilterList, moat_filter_list_unref)

G_END_DECLS
