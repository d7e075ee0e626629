/* SPDX-License-Identifier: GPL-3.0-or-later
 * Copyright 2026 The Moat developers
 *
 * List parsers and the host matcher: every format with exact verdict,
 * category, list, rule and line; precedence; hostile lists; the real Debian
 * lists when webext-ublock-origin-chromium is installed.
 */
#define G_LOG_DOMAIN "moat-filter-test"

#include "config.h"

#include "moat-filter-matcher.h"

#include "moat-error.h"

#include <string.h>

#define UBO_ASSETS "/usr/share/chromium/extensions/ublock-origin/assets"

typedef struct
{
  GPtrArray *lists; /* MoatFilterList */
  MoatFilterMatcher *matcher;
} Fixture;

static void
fixture_set_up (Fixture *f, gconstpointer data)
{
  f->lists = g_ptr_array_new_with_free_func ((GDestroyNotify) moat_filter_list_unref);
}

static void
fixture_tear_down (Fixture *f, gconstpointer data)
{
  g_clear_pointer (&f->matcher, moat_filter_matcher_unref);
  g_ptr_array_unref (f->lists);
}

static MoatFilterList *
add_list_full (Fixture *f, const char *name, MoatFilterCategory category,
               MoatFilterFormat format, MoatFilterListFlags flags, const char *text, gsize len)
{
  g_autoptr(GBytes) bytes = g_bytes_new (text, len);
  g_autoptr(GError) error = NULL;
  MoatFilterList *list = moat_filter_list_new_from_bytes (name, category, format, flags, bytes,
                                                          &error);

  g_assert_no_error (error);
  g_assert_nonnull (list);
  g_ptr_array_add (f->lists, list);
  return list;
}

static MoatFilterList *
add_list (Fixture *f, const char *name, MoatFilterCategory category, MoatFilterFormat format,
          MoatFilterListFlags flags, const char *text)
{
  return add_list_full (f, name, category, format, flags, text, strlen (text));
}

static void
compile (Fixture *f)
{
  g_clear_pointer (&f->matcher, moat_filter_matcher_unref);
  f->matcher = moat_filter_matcher_new ((MoatFilterList *const *) f->lists->pdata, f->lists->len);
  g_assert_nonnull (f->matcher);
}

/* Asserts the full answer for @host. @rule NULL means "no rule matched". */
static void
check (Fixture *f, const char *host, MoatFilterQueryFlags qflags, MoatFilterVerdict verdict,
       const char *list, MoatFilterCategory category, const char *rule, guint line)
{
  MoatFilterMatch m;
  g_autofree char *text = NULL;
  MoatFilterVerdict v = moat_filter_matcher_match_host (f->matcher, host, -1, qflags, &m);

  g_test_message ("%s -> %d", host, v);
  g_assert_cmpint (v, ==, verdict);
  g_assert_cmpint (m.verdict, ==, verdict);
  text = moat_filter_match_dup_rule (&m);
  if (rule == NULL)
    {
      g_assert_null (text);
      g_assert_null (m.list_name);
      g_assert_cmpuint (m.line, ==, 0);
      return;
    }
  g_assert_cmpstr (text, ==, rule);
  g_assert_cmpstr (m.list_name, ==, list);
  g_assert_cmpint (m.category, ==, category);
  g_assert_cmpuint (m.line, ==, line);
  /* The NULL-match form answers the same. */
  g_assert_cmpint (moat_filter_matcher_match_host (f->matcher, host, -1, qflags, NULL), ==,
                   verdict);
}

static void
assert_bad_lines (MoatFilterList *list, const guint32 *expected, guint n_expected)
{
  guint n;
  const guint32 *lines = moat_filter_list_get_bad_lines (list, &n);

  g_assert_cmpuint (moat_filter_list_get_n_bad_lines (list), ==, n_expected);
  g_assert_cmpuint (n, ==, n_expected);
  for (guint i = 0; i < n; i++)
    g_assert_cmpuint (lines[i], ==, expected[i]);
}

static void
test_detect (Fixture *f, gconstpointer data)
{
  static const struct
  {
    const char *text;
    MoatFilterFormat format;
  } cases[] = {
    { "[Adblock Plus 2.0]\nexample.com\n", MOAT_FILTER_FORMAT_ADBLOCK },
    { "! Title: x\nexample.com\nexample.org\n", MOAT_FILTER_FORMAT_ADBLOCK },
    { "||ads.example^\n", MOAT_FILTER_FORMAT_ADBLOCK },
    { "# hosts\n0.0.0.0 a.example\n127.0.0.1 b.example c.example\n", MOAT_FILTER_FORMAT_HOSTS },
    { ":: a.example\n", MOAT_FILTER_FORMAT_HOSTS },
    { "# list\na.example\nb.example\n", MOAT_FILTER_FORMAT_DOMAINS },
    { "address=/a.example/0.0.0.0\nserver=/b.example/\n", MOAT_FILTER_FORMAT_DNSMASQ },
    { "", MOAT_FILTER_FORMAT_ADBLOCK },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_test_message ("case %u", i);
      g_assert_cmpint (moat_filter_format_detect (cases[i].text, strlen (cases[i].text)), ==,
                       cases[i].format);
    }
  /* AUTO resolves to the detected format, an explicit one is kept. */
  g_assert_cmpint (moat_filter_list_get_format (add_list (f, "a", MOAT_FILTER_CATEGORY_ADS,
                                                          MOAT_FILTER_FORMAT_AUTO, 0,
                                                          "0.0.0.0 a.example\n")),
                   ==, MOAT_FILTER_FORMAT_HOSTS);
  g_assert_cmpint (moat_filter_list_get_format (add_list (f, "b", MOAT_FILTER_CATEGORY_ADS,
                                                          MOAT_FILTER_FORMAT_DOMAINS, 0,
                                                          "||a.example^\n")),
                   ==, MOAT_FILTER_FORMAT_DOMAINS);
}

static void
test_strings (Fixture *f, gconstpointer data)
{
  MoatFilterCategory c;
  MoatFilterFormat fmt;

  for (guint i = 0; i < MOAT_FILTER_CATEGORY_LAST; i++)
    {
      g_assert_true (moat_filter_category_from_string (moat_filter_category_to_string (i), &c));
      g_assert_cmpint (c, ==, i);
    }
  g_assert_cmpstr (moat_filter_category_to_string (MOAT_FILTER_CATEGORY_C2), ==, "c2");
  g_assert_null (moat_filter_category_to_string (MOAT_FILTER_CATEGORY_LAST));
  g_assert_false (moat_filter_category_from_string ("Ads", &c));
  g_assert_false (moat_filter_category_from_string (NULL, &c));
  g_assert_true (moat_filter_format_from_string ("dnsmasq", &fmt));
  g_assert_cmpint (fmt, ==, MOAT_FILTER_FORMAT_DNSMASQ);
  g_assert_false (moat_filter_format_from_string ("abp", &fmt));
}

static void
test_bad_name (Fixture *f, gconstpointer data)
{
  g_autoptr(GBytes) bytes = g_bytes_new_static ("a.example\n", 10);
  g_autoptr(GError) error = NULL;
  g_autoptr(MoatFilterList) list = NULL;

  list = moat_filter_list_new_from_bytes ("", MOAT_FILTER_CATEGORY_ADS, MOAT_FILTER_FORMAT_AUTO,
                                          0, bytes, &error);
  g_assert_null (list);
  g_assert_error (error, MOAT_ERROR, MOAT_ERROR_INVALID_ARGUMENT);
}

static void
test_hosts (Fixture *f, gconstpointer data)
{
  static const guint32 bad[] = { 9, 10, 11 };
  MoatFilterList *list = add_list (f, "Hosts", MOAT_FILTER_CATEGORY_MALWARE,
                                   MOAT_FILTER_FORMAT_AUTO, 0,
                                   "# a hosts file\r\n"                        /* 1 */
                                   "127.0.0.1 localhost\r\n"                   /* 2 */
                                   "::1 localhost ip6-localhost\n"             /* 3 */
                                   "0.0.0.0 Ads.Example.COM   tracker.example # two\n" /* 4 */
                                   "\n"                                        /* 5 */
                                   "  127.0.0.1\tmal.example\n"                /* 6 */
                                   ":: six.example\n"                          /* 7 */
                                   "192.0.2.7 mapped.example\n"                /* 8 */
                                   "0.0.0.0 bad..example\n"                    /* 9 */
                                   "0.0.0.0 good.example bad_ex!ample\n"       /* 10 */
                                   "999.1.1.1 x.example\n"                     /* 11 */
                                   "bare.example\n");                          /* 12 */

  g_assert_cmpuint (moat_filter_list_get_n_lines (list), ==, 12);
  g_assert_cmpuint (moat_filter_list_get_n_host_rules (list), ==, 6);
  g_assert_cmpuint (moat_filter_list_get_n_url_rules (list), ==, 0);
  g_assert_cmpuint (moat_filter_list_get_n_comments (list), ==, 1);
  g_assert_cmpuint (moat_filter_list_get_n_ignored (list), ==, 3);
  assert_bad_lines (list, bad, G_N_ELEMENTS (bad));
  compile (f);
  g_assert_cmpuint (moat_filter_matcher_get_n_hosts (f->matcher), ==, 6);

  check (f, "ads.example.com", 0, MOAT_FILTER_VERDICT_BLOCK, "Hosts", MOAT_FILTER_CATEGORY_MALWARE,
         "0.0.0.0 Ads.Example.COM   tracker.example # two", 4);
  check (f, "tracker.example", 0, MOAT_FILTER_VERDICT_BLOCK, "Hosts", MOAT_FILTER_CATEGORY_MALWARE,
         "0.0.0.0 Ads.Example.COM   tracker.example # two", 4);
  /* Hosts entries cover subdomains, as uBlock Origin reads them (||host^). */
  check (f, "cdn.mal.example", 0, MOAT_FILTER_VERDICT_BLOCK, "Hosts",
         MOAT_FILTER_CATEGORY_MALWARE, "127.0.0.1\tmal.example", 6);
  check (f, "six.example", 0, MOAT_FILTER_VERDICT_BLOCK, "Hosts", MOAT_FILTER_CATEGORY_MALWARE,
         ":: six.example", 7);
  check (f, "good.example", 0, MOAT_FILTER_VERDICT_BLOCK, "Hosts", MOAT_FILTER_CATEGORY_MALWARE,
         "0.0.0.0 good.example bad_ex!ample", 10);
  check (f, "bare.example", 0, MOAT_FILTER_VERDICT_BLOCK, "Hosts", MOAT_FILTER_CATEGORY_MALWARE,
         "bare.example", 12);
  check (f, "mapped.example", 0, MOAT_FILTER_VERDICT_NONE, NULL, 0, NULL, 0);
  check (f, "localhost", 0, MOAT_FILTER_VERDICT_NONE, NULL, 0, NULL, 0);
  check (f, "example.com", 0, MOAT_FILTER_VERDICT_NONE, NULL, 0, NULL, 0);
  check (f, "xmal.example", 0, MOAT_FILTER_VERDICT_NONE, NULL, 0, NULL, 0);
  check (f, "example", 0, MOAT_FILTER_VERDICT_NONE, NULL, 0, NULL, 0);
}

static void
test_hosts_exact (Fixture *f, gconstpointer data)
{
  add_list (f, "Exact", MOAT_FILTER_CATEGORY_ADULT, MOAT_FILTER_FORMAT_HOSTS,
            MOAT_FILTER_LIST_HOSTS_EXACT, "0.0.0.0 a.example\n");
  compile (f);
  check (f, "a.example", 0, MOAT_FILTER_VERDICT_BLOCK, "Exact", MOAT_FILTER_CATEGORY_ADULT,
         "0.0.0.0 a.example", 1);
  check (f, "www.a.example", 0, MOAT_FILTER_VERDICT_NONE, NULL, 0, NULL, 0);
}

static void
test_domains (Fixture *f, gconstpointer data)
{
  static const guint32 bad[] = { 5, 6 };
  MoatFilterList *list = add_list (f, "Domains", MOAT_FILTER_CATEGORY_GAMBLING,
                                   MOAT_FILTER_FORMAT_DOMAINS, 0,
                                   "# comment\n"             /* 1 */
                                   "casino.example\n"        /* 2 */
                                   "*.bets.example\n"        /* 3 */
                                   "poker.example # why\n"   /* 4 */
                                   "not a host\n"            /* 5 */
                                   "||ads.example^\n"        /* 6 */
                                   "! also a comment\n");    /* 7 */

  g_assert_cmpuint (moat_filter_list_get_n_host_rules (list), ==, 3);
  g_assert_cmpuint (moat_filter_list_get_n_comments (list), ==, 2);
  assert_bad_lines (list, bad, G_N_ELEMENTS (bad));
  compile (f);
  check (f, "www.casino.example", 0, MOAT_FILTER_VERDICT_BLOCK, "Domains",
         MOAT_FILTER_CATEGORY_GAMBLING, "casino.example", 2);
  check (f, "bets.example", 0, MOAT_FILTER_VERDICT_BLOCK, "Domains",
         MOAT_FILTER_CATEGORY_GAMBLING, "*.bets.example", 3);
  check (f, "poker.example", 0, MOAT_FILTER_VERDICT_BLOCK, "Domains",
         MOAT_FILTER_CATEGORY_GAMBLING, "poker.example # why", 4);
  check (f, "ads.example", 0, MOAT_FILTER_VERDICT_NONE, NULL, 0, NULL, 0);
}

static void
test_dnsmasq (Fixture *f, gconstpointer data)
{
  static const guint32 bad[] = { 7, 8 };
  MoatFilterList *list = add_list (f, "Dnsmasq", MOAT_FILTER_CATEGORY_C2,
                                   MOAT_FILTER_FORMAT_AUTO, 0,
                                   "# dnsmasq\n"                            /* 1 */
                                   "address=/c2.example/0.0.0.0\n"          /* 2 */
                                   "address=/a.example/b.example/::\n"      /* 3 */
                                   "server=/nx.example/\n"                  /* 4 */
                                   "server=/fwd.example/192.0.2.1\n"        /* 5 */
                                   "address=/real.example/192.0.2.1\n"      /* 6 */
                                   "address=/x.example/nonsense\n"          /* 7 */
                                   "address=noslash\n"                      /* 8 */
                                   "local=/.loc.example/\n"                 /* 9 */
                                   "cache-size=1000\n");                    /* 10 */

  g_assert_cmpint (moat_filter_list_get_format (list), ==, MOAT_FILTER_FORMAT_DNSMASQ);
  g_assert_cmpuint (moat_filter_list_get_n_host_rules (list), ==, 5);
  g_assert_cmpuint (moat_filter_list_get_n_ignored (list), ==, 3);
  assert_bad_lines (list, bad, G_N_ELEMENTS (bad));
  compile (f);
  check (f, "beacon.c2.example", 0, MOAT_FILTER_VERDICT_BLOCK, "Dnsmasq", MOAT_FILTER_CATEGORY_C2,
         "address=/c2.example/0.0.0.0", 2);
  check (f, "b.example", 0, MOAT_FILTER_VERDICT_BLOCK, "Dnsmasq", MOAT_FILTER_CATEGORY_C2,
         "address=/a.example/b.example/::", 3);
  check (f, "nx.example", 0, MOAT_FILTER_VERDICT_BLOCK, "Dnsmasq", MOAT_FILTER_CATEGORY_C2,
         "server=/nx.example/", 4);
  check (f, "w.loc.example", 0, MOAT_FILTER_VERDICT_BLOCK, "Dnsmasq", MOAT_FILTER_CATEGORY_C2,
         "local=/.loc.example/", 9);
  check (f, "fwd.example", 0, MOAT_FILTER_VERDICT_NONE, NULL, 0, NULL, 0);
  check (f, "real.example", 0, MOAT_FILTER_VERDICT_NONE, NULL, 0, NULL, 0);
}

static const char adblock_text[] =
  "[Adblock Plus 2.0]\n"                              /* 1 */
  "! Title: test\n"                                   /* 2 */
  "||ads.example^\n"                                  /* 3 */
  "||tp.example^$third-party\n"                       /* 4 */
  "||fp.example^$~third-party\n"                      /* 5 */
  "||ads.example/banner.js\n"                         /* 6 */
  "/ad-frame/*$script,domain=news.example\n"          /* 7 */
  "example.org##.ad\n"                                /* 8 */
  "##.banner\n"                                       /* 9 */
  "example.org#@#.ad\n"                               /* 10 */
  "example.org#?#div:has(.ad)\n"                      /* 11 */
  "example.org##+js(nobab)\n"                         /* 12 */
  "example.org#$#body { color: red }\n"               /* 13 */
  "||spelled.example^$thrid-party\n"                  /* 14 */
  "@@||good.ads.example^\n"                           /* 15 */
  "malware.example\n"                                 /* 16 */
  "/^https?:\\/\\/[a-z]+\\.example\\/x$/$doc\n"       /* 17 */
  "||prefix.example\n"                                /* 18 */
  "||doc.example^$doc\n"                              /* 19 */
  "||all.example^$all,important\n"                    /* 20 */
  "||popup.example^$popup\n"                          /* 21 */
  "@@\n"                                              /* 22 */
  "||redir.example^$redirect=noopjs\n"                /* 23 */
  "0.0.0.0 hostsline.example\n"                       /* 24 */
  "# plain comment\n";                                /* 25 */

static void
test_adblock (Fixture *f, gconstpointer data)
{
  static const guint32 bad[] = { 14, 22 };
  static const struct
  {
    guint line;
    MoatFilterRuleFlags flags;
  } url_rules[] = {
    { 6, MOAT_FILTER_RULE_PATTERN },
    { 7, MOAT_FILTER_RULE_PATTERN | MOAT_FILTER_RULE_TYPES | MOAT_FILTER_RULE_DOMAIN },
    { 17, MOAT_FILTER_RULE_REGEX | MOAT_FILTER_RULE_DOCUMENT },
    { 18, MOAT_FILTER_RULE_PATTERN },
    { 21, MOAT_FILTER_RULE_PATTERN | MOAT_FILTER_RULE_UNSUPPORTED },
  };
  MoatFilterList *list = add_list (f, "EasyTest", MOAT_FILTER_CATEGORY_ADS,
                                   MOAT_FILTER_FORMAT_AUTO, 0, adblock_text);
  const char *host;
  gsize host_len, rule_len;
  MoatFilterRuleFlags flags;
  guint line;

  g_assert_cmpint (moat_filter_list_get_format (list), ==, MOAT_FILTER_FORMAT_ADBLOCK);
  g_assert_cmpuint (moat_filter_list_get_n_lines (list), ==, 25);
  g_assert_cmpuint (moat_filter_list_get_n_cosmetic (list), ==, 6);
  g_assert_cmpuint (moat_filter_list_get_n_comments (list), ==, 3);
  g_assert_cmpuint (moat_filter_list_get_n_host_rules (list), ==, 9);
  g_assert_cmpuint (moat_filter_list_get_n_exceptions (list), ==, 1);
  assert_bad_lines (list, bad, G_N_ELEMENTS (bad));

  g_assert_cmpuint (moat_filter_list_get_n_url_rules (list), ==, G_N_ELEMENTS (url_rules));
  for (guint i = 0; i < G_N_ELEMENTS (url_rules); i++)
    {
      g_assert_nonnull (moat_filter_list_get_url_rule (list, i, &rule_len, &flags, &line));
      g_assert_cmpuint (line, ==, url_rules[i].line);
      g_assert_cmphex (flags, ==, url_rules[i].flags);
    }
  g_assert_null (moat_filter_list_get_url_rule (list, G_N_ELEMENTS (url_rules), NULL, NULL, NULL));

  /* The host of a rule is a slice of the retained text. Rules with flags of
   * their own come first (in line order), then plain hosts. */
  g_assert_nonnull (moat_filter_list_get_host_rule (list, 0, &rule_len, &host, &host_len, &flags,
                                                    &line));
  g_assert_cmpuint (host_len, ==, strlen ("tp.example"));
  g_assert_cmpint (strncmp (host, "tp.example", host_len), ==, 0);
  g_assert_cmphex (flags, ==, MOAT_FILTER_RULE_THIRD_PARTY);
  g_assert_cmpuint (line, ==, 4);
  g_assert_null (moat_filter_list_get_host_rule (list, 9, NULL, NULL, NULL, NULL, NULL));

  compile (f);
  check (f, "ads.example", 0, MOAT_FILTER_VERDICT_BLOCK, "EasyTest", MOAT_FILTER_CATEGORY_ADS,
         "||ads.example^", 3);
  check (f, "x.y.ads.example", 0, MOAT_FILTER_VERDICT_BLOCK, "EasyTest",
         MOAT_FILTER_CATEGORY_ADS, "||ads.example^", 3);
  check (f, "good.ads.example", 0, MOAT_FILTER_VERDICT_ALLOW, "EasyTest",
         MOAT_FILTER_CATEGORY_ADS, "@@||good.ads.example^", 15);
  check (f, "cdn.good.ads.example", 0, MOAT_FILTER_VERDICT_ALLOW, "EasyTest",
         MOAT_FILTER_CATEGORY_ADS, "@@||good.ads.example^", 15);
  check (f, "notads.example", 0, MOAT_FILTER_VERDICT_NONE, NULL, 0, NULL, 0);
  /* Party: rules naming one apply only when the caller knows the party. */
  check (f, "tp.example", 0, MOAT_FILTER_VERDICT_NONE, NULL, 0, NULL, 0);
  check (f, "tp.example", MOAT_FILTER_QUERY_FIRST_PARTY, MOAT_FILTER_VERDICT_NONE, NULL, 0, NULL, 0);
  check (f, "tp.example", MOAT_FILTER_QUERY_THIRD_PARTY, MOAT_FILTER_VERDICT_BLOCK, "EasyTest",
         MOAT_FILTER_CATEGORY_ADS, "||tp.example^$third-party", 4);
  check (f, "fp.example", MOAT_FILTER_QUERY_FIRST_PARTY, MOAT_FILTER_VERDICT_BLOCK, "EasyTest",
         MOAT_FILTER_CATEGORY_ADS, "||fp.example^$~third-party", 5);
  check (f, "fp.example", MOAT_FILTER_QUERY_THIRD_PARTY, MOAT_FILTER_VERDICT_NONE, NULL, 0, NULL, 0);
  check (f, "malware.example", 0, MOAT_FILTER_VERDICT_BLOCK, "EasyTest", MOAT_FILTER_CATEGORY_ADS,
         "malware.example", 16);
  check (f, "doc.example", 0, MOAT_FILTER_VERDICT_BLOCK, "EasyTest", MOAT_FILTER_CATEGORY_ADS,
         "||doc.example^$doc", 19);
  check (f, "all.example", 0, MOAT_FILTER_VERDICT_BLOCK, "EasyTest", MOAT_FILTER_CATEGORY_ADS,
         "||all.example^$all,important", 20);
  check (f, "redir.example", 0, MOAT_FILTER_VERDICT_BLOCK, "EasyTest", MOAT_FILTER_CATEGORY_ADS,
         "||redir.example^$redirect=noopjs", 23);
  check (f, "hostsline.example", 0, MOAT_FILTER_VERDICT_BLOCK, "EasyTest",
         MOAT_FILTER_CATEGORY_ADS, "0.0.0.0 hostsline.example", 24);
  check (f, "prefix.example", 0, MOAT_FILTER_VERDICT_NONE, NULL, 0, NULL, 0);
  check (f, "popup.example", 0, MOAT_FILTER_VERDICT_NONE, NULL, 0, NULL, 0);
  check (f, "spelled.example", 0, MOAT_FILTER_VERDICT_NONE, NULL, 0, NULL, 0);
  /* Upper case is folded; an over-long or empty host matches nothing. */
  check (f, "ADS.Example", 0, MOAT_FILTER_VERDICT_BLOCK, "EasyTest", MOAT_FILTER_CATEGORY_ADS,
         "||ads.example^", 3);
  check (f, "", 0, MOAT_FILTER_VERDICT_NONE, NULL, 0, NULL, 0);
}

static void
test_precedence (Fixture *f, gconstpointer data)
{
  add_list (f, "Ads", MOAT_FILTER_CATEGORY_ADS, MOAT_FILTER_FORMAT_ADBLOCK, 0,
            "||a.example^\n"                      /* 1 */
            "@@||a.example^\n"                    /* 2 */
            "||b.example^$important\n"            /* 3 */
            "@@||x.b.example^\n"                  /* 4 */
            "||c.example^$important\n"            /* 5 */
            "@@||c.example^$important\n"          /* 6 */
            "@@||d.example^\n"                    /* 7 */
            "||deep.d.example^\n");               /* 8 */
  add_list (f, "Malware", MOAT_FILTER_CATEGORY_MALWARE, MOAT_FILTER_FORMAT_DOMAINS, 0,
            "sub.e.example\ne.example\n");
  add_list (f, "Phish", MOAT_FILTER_CATEGORY_PHISHING, MOAT_FILTER_FORMAT_DOMAINS, 0,
            "e.example\n");
  compile (f);
  /* An exception beats a block... */
  check (f, "a.example", 0, MOAT_FILTER_VERDICT_ALLOW, "Ads", MOAT_FILTER_CATEGORY_ADS,
         "@@||a.example^", 2);
  /* ...unless the block is $important... */
  check (f, "x.b.example", 0, MOAT_FILTER_VERDICT_BLOCK, "Ads", MOAT_FILTER_CATEGORY_ADS,
         "||b.example^$important", 3);
  /* ...and an important exception beats that. */
  check (f, "c.example", 0, MOAT_FILTER_VERDICT_ALLOW, "Ads", MOAT_FILTER_CATEGORY_ADS,
         "@@||c.example^$important", 6);
  /* An exception on a parent domain un-blocks a more specific block. */
  check (f, "deep.d.example", 0, MOAT_FILTER_VERDICT_ALLOW, "Ads", MOAT_FILTER_CATEGORY_ADS,
         "@@||d.example^", 7);
  /* Blocks only: the most specific host explains, then the earlier list. */
  check (f, "w.sub.e.example", 0, MOAT_FILTER_VERDICT_BLOCK, "Malware",
         MOAT_FILTER_CATEGORY_MALWARE, "sub.e.example", 1);
  check (f, "e.example", 0, MOAT_FILTER_VERDICT_BLOCK, "Malware", MOAT_FILTER_CATEGORY_MALWARE,
         "e.example", 2);
}

static void
test_user_lists (Fixture *f, gconstpointer data)
{
  add_list (f, "Ads", MOAT_FILTER_CATEGORY_ADS, MOAT_FILTER_FORMAT_ADBLOCK, 0,
            "||tracker.example^$important\n"
            "@@||cdn.example^\n"
            "||shop.example^\n");
  add_list (f, "My allow-list", MOAT_FILTER_CATEGORY_CUSTOM, MOAT_FILTER_FORMAT_DOMAINS,
            MOAT_FILTER_LIST_USER | MOAT_FILTER_LIST_ALLOW,
            "tracker.example\n"
            "ok.shop.example\n");
  add_list (f, "My block-list", MOAT_FILTER_CATEGORY_CUSTOM, MOAT_FILTER_FORMAT_DOMAINS,
            MOAT_FILTER_LIST_USER,
            "cdn.example\n"
            "shop.example\n"
            "bad.ok.shop.example\n");
  compile (f);
  /* The user's allow beats an important subscription block. */
  check (f, "tracker.example", 0, MOAT_FILTER_VERDICT_ALLOW, "My allow-list",
         MOAT_FILTER_CATEGORY_CUSTOM, "tracker.example", 1);
  /* The user's block beats a subscription exception. */
  check (f, "x.cdn.example", 0, MOAT_FILTER_VERDICT_BLOCK, "My block-list",
         MOAT_FILTER_CATEGORY_CUSTOM, "cdn.example", 1);
  /* Between the user's own entries the most specific host wins. */
  check (f, "shop.example", 0, MOAT_FILTER_VERDICT_BLOCK, "My block-list",
         MOAT_FILTER_CATEGORY_CUSTOM, "shop.example", 2);
  check (f, "ok.shop.example", 0, MOAT_FILTER_VERDICT_ALLOW, "My allow-list",
         MOAT_FILTER_CATEGORY_CUSTOM, "ok.shop.example", 2);
  check (f, "bad.ok.shop.example", 0, MOAT_FILTER_VERDICT_BLOCK, "My block-list",
         MOAT_FILTER_CATEGORY_CUSTOM, "bad.ok.shop.example", 3);
  check (f, "other.example", 0, MOAT_FILTER_VERDICT_NONE, NULL, 0, NULL, 0);
}

static void
test_badfilter (Fixture *f, gconstpointer data)
{
  add_list (f, "Ads", MOAT_FILTER_CATEGORY_ADS, MOAT_FILTER_FORMAT_ADBLOCK, 0,
            "||a.example^\n||b.example^$third-party\n||c.example^\n");
  add_list (f, "Fixes", MOAT_FILTER_CATEGORY_ADS, MOAT_FILTER_FORMAT_ADBLOCK, 0,
            "||A.example^$badfilter\n||b.example^$badfilter\n");
  compile (f);
  check (f, "a.example", 0, MOAT_FILTER_VERDICT_NONE, NULL, 0, NULL, 0);
  /* $badfilter cancels only the rule with the very same options. */
  check (f, "b.example", MOAT_FILTER_QUERY_THIRD_PARTY, MOAT_FILTER_VERDICT_BLOCK, "Ads",
         MOAT_FILTER_CATEGORY_ADS, "||b.example^$third-party", 2);
  check (f, "c.example", 0, MOAT_FILTER_VERDICT_BLOCK, "Ads", MOAT_FILTER_CATEGORY_ADS,
         "||c.example^", 3);
  g_assert_cmpuint (moat_filter_matcher_get_n_hosts (f->matcher), ==, 2);
}

static void
test_empty (Fixture *f, gconstpointer data)
{
  MoatFilterList *list = add_list (f, "Empty", MOAT_FILTER_CATEGORY_ADS, MOAT_FILTER_FORMAT_AUTO,
                                   0, "");
  MoatFilterMatch m;

  g_assert_cmpuint (moat_filter_list_get_n_lines (list), ==, 0);
  compile (f);
  g_assert_cmpint (moat_filter_matcher_match_host (f->matcher, "a.example", -1, 0, &m), ==,
                   MOAT_FILTER_VERDICT_NONE);
  g_clear_pointer (&f->matcher, moat_filter_matcher_unref);
  f->matcher = moat_filter_matcher_new (NULL, 0);
  g_assert_cmpuint (moat_filter_matcher_get_n_lists (f->matcher), ==, 0);
  g_assert_cmpint (moat_filter_matcher_match_host (f->matcher, "a.example", 9, 0, NULL), ==,
                   MOAT_FILTER_VERDICT_NONE);
}

/* The matcher keeps its lists alive and is shared by reference. */
static void
test_refcount (Fixture *f, gconstpointer data)
{
  MoatFilterMatcher *second;

  add_list (f, "Ads", MOAT_FILTER_CATEGORY_ADS, MOAT_FILTER_FORMAT_DOMAINS, 0, "a.example\n");
  compile (f);
  g_ptr_array_set_size (f->lists, 0);
  second = moat_filter_matcher_ref (f->matcher);
  g_clear_pointer (&f->matcher, moat_filter_matcher_unref);
  g_assert_cmpstr (moat_filter_list_get_name (moat_filter_matcher_get_list (second, 0)), ==, "Ads");
  g_assert_null (moat_filter_matcher_get_list (second, 1));
  g_assert_cmpint (moat_filter_matcher_match_host (second, "a.example", -1, 0, NULL), ==,
                   MOAT_FILTER_VERDICT_BLOCK);
  moat_filter_matcher_unref (second);
}

static gpointer
lookup_thread (gpointer data)
{
  MoatFilterMatcher *matcher = data; /* owned: the thread drops its reference */
  guint mismatches = 0;

  for (guint i = 0; i < 20000; i++)
    {
      g_autofree char *listed = g_strdup_printf ("x.h%u.example", i % 500);
      g_autofree char *unlisted = g_strdup_printf ("h%u.example.org", i % 500);
      MoatFilterMatch m;

      if (moat_filter_matcher_match_host (matcher, listed, -1, 0, &m) != MOAT_FILTER_VERDICT_BLOCK
          || m.line != i % 500 + 1)
        mismatches++;
      if (moat_filter_matcher_match_host (matcher, unlisted, -1, 0, NULL)
          != MOAT_FILTER_VERDICT_NONE)
        mismatches++;
    }
  moat_filter_matcher_unref (matcher);
  return GUINT_TO_POINTER (mismatches);
}

/* Lookups need no lock: several threads share one matcher, each holding a
 * reference it drops when done, while the owner drops its own first. */
static void
test_threads (Fixture *f, gconstpointer data)
{
  g_autoptr(GString) text = g_string_new (NULL);
  GThread *threads[4];

  for (guint i = 0; i < 500; i++)
    g_string_append_printf (text, "h%u.example\n", i);
  add_list (f, "Many", MOAT_FILTER_CATEGORY_SCAM, MOAT_FILTER_FORMAT_DOMAINS, 0, text->str);
  compile (f);
  for (guint t = 0; t < G_N_ELEMENTS (threads); t++)
    threads[t] = g_thread_new ("lookup", lookup_thread, moat_filter_matcher_ref (f->matcher));
  g_clear_pointer (&f->matcher, moat_filter_matcher_unref);
  for (guint t = 0; t < G_N_ELEMENTS (threads); t++)
    g_assert_cmpuint (GPOINTER_TO_UINT (g_thread_join (threads[t])), ==, 0);
}

static void
test_hostile (Fixture *f, gconstpointer data)
{
  g_autoptr(GString) s = g_string_new (NULL);
  guint32 state = 12345;
  MoatFilterList *list;
  guint n_kept;
  const guint32 *bad;

  g_string_append (s, "||first.example^\n");                           /* 1 */
  for (guint i = 0; i < 1024 * 1024; i++)                             /* 2: 1 MB line */
    g_string_append_c (s, 'a');
  g_string_append (s, "\n||second.example^\n");                        /* 3 */
  g_string_append_len (s, "||nul.example^\0junk\n", 20);               /* 4 */
  g_string_append (s, "||bad-utf8.\xff\xfe.example^\n");               /* 5 */
  g_string_append (s, "\x01\x02\x03\n");                               /* 6 */
  /* 7..: binary garbage (no newlines, no NULs kept out: anything goes) */
  for (guint i = 0; i < 64 * 1024; i++)
    {
      state = state * 1103515245 + 12345;
      g_string_append_c (s, (char) ((state >> 16) & 0xff));
    }
  g_string_append (s, "\n||third.example^\n");
  /* 1 M lines of junk with every option misspelled. */
  for (guint i = 0; i < 1000000; i++)
    g_string_append_printf (s, "||j%u.example^$thrd-party\n", i % 100);
  g_string_append (s, "||last.example^");

  list = add_list_full (f, "Hostile", MOAT_FILTER_CATEGORY_ADS, MOAT_FILTER_FORMAT_ADBLOCK, 0,
                        s->str, s->len);
  bad = moat_filter_list_get_bad_lines (list, &n_kept);
  g_assert_cmpuint (n_kept, ==, MOAT_FILTER_LIST_MAX_BAD_LINES);
  g_assert_cmpuint (bad[0], ==, 2);
  g_assert_cmpuint (bad[1], ==, 4);
  g_assert_cmpuint (bad[2], ==, 5);
  g_assert_cmpuint (bad[3], ==, 6);
  g_assert_cmpuint (moat_filter_list_get_n_bad_lines (list), >=, 1000000 + 4);
  compile (f);
  for (guint i = 0; i < 4; i++)
    {
      static const char *const good[] = {
        "first.example", "second.example", "third.example", "last.example",
      };
      g_assert_cmpint (moat_filter_matcher_match_host (f->matcher, good[i], -1, 0, NULL), ==,
                       MOAT_FILTER_VERDICT_BLOCK);
    }
  g_assert_cmpint (moat_filter_matcher_match_host (f->matcher, "nul.example", -1, 0, NULL), ==,
                   MOAT_FILTER_VERDICT_NONE);
  g_assert_cmpint (moat_filter_matcher_match_host (f->matcher, "j1.example", -1, 0, NULL), ==,
                   MOAT_FILTER_VERDICT_NONE);

  /* Every format survives the same bytes. */
  for (MoatFilterFormat fmt = MOAT_FILTER_FORMAT_AUTO; fmt <= MOAT_FILTER_FORMAT_DNSMASQ; fmt++)
    {
      MoatFilterList *l = add_list_full (f, "Again", MOAT_FILTER_CATEGORY_ADS, fmt, 0, s->str,
                                         MIN (s->len, 2 * 1024 * 1024));
      g_assert_cmpuint (moat_filter_list_get_n_bad_lines (l), >, 0);
    }
}

static MoatFilterList *
load_asset (Fixture *f, const char *rel, const char *name, MoatFilterCategory category)
{
  g_autofree char *path = g_build_filename (UBO_ASSETS, rel, NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(GMappedFile) file = g_mapped_file_new (path, FALSE, &error);
  g_autoptr(GBytes) bytes = NULL;
  MoatFilterList *list;

  g_assert_no_error (error);
  bytes = g_mapped_file_get_bytes (file);
  list = moat_filter_list_new_from_bytes (name, category, MOAT_FILTER_FORMAT_AUTO, 0, bytes,
                                          &error);
  g_assert_no_error (error);
  g_ptr_array_add (f->lists, list);
  g_test_message ("%s: %u lines, %u host rules, %u exceptions, %u URL rules, %u cosmetic, "
                  "%u comments, %u bad", name, moat_filter_list_get_n_lines (list),
                  moat_filter_list_get_n_host_rules (list),
                  moat_filter_list_get_n_exceptions (list),
                  moat_filter_list_get_n_url_rules (list), moat_filter_list_get_n_cosmetic (list),
                  moat_filter_list_get_n_comments (list), moat_filter_list_get_n_bad_lines (list));
  return list;
}

static void
test_real_lists (Fixture *f, gconstpointer data)
{
  MoatFilterList *easylist, *easyprivacy, *urlhaus, *badware;
  g_autofree char *probe = g_build_filename (UBO_ASSETS, "thirdparties", "easylist",
                                             "easylist.txt", NULL);
  MoatFilterMatch m;
  g_autofree char *rule = NULL;

  if (!g_file_test (probe, G_FILE_TEST_EXISTS))
    {
      g_test_skip ("needs the lists of webext-ublock-origin-chromium in " UBO_ASSETS);
      return;
    }
  easylist = load_asset (f, "thirdparties/easylist/easylist.txt", "EasyList",
                         MOAT_FILTER_CATEGORY_ADS);
  easyprivacy = load_asset (f, "thirdparties/easylist/easyprivacy.txt", "EasyPrivacy",
                            MOAT_FILTER_CATEGORY_TRACKERS);
  urlhaus = load_asset (f, "thirdparties/urlhaus-filter/urlhaus-filter-online.txt", "URLhaus",
                        MOAT_FILTER_CATEGORY_MALWARE);
  badware = load_asset (f, "ublock/badware.min.txt", "uBlock badware",
                        MOAT_FILTER_CATEGORY_MALWARE);

  /* Sane counts (the pinned 1.67.0 package gives 44713 / 45848 / 2908 / 2908
   * host rules): tens of thousands of host rules, cosmetic rules counted, and
   * no bad lines in lists uBlock Origin itself ships. */
  g_assert_cmpuint (moat_filter_list_get_n_host_rules (easylist), >, 20000);
  g_assert_cmpuint (moat_filter_list_get_n_cosmetic (easylist), >, 10000);
  g_assert_cmpuint (moat_filter_list_get_n_url_rules (easylist), >, 3000);
  g_assert_cmpuint (moat_filter_list_get_n_host_rules (easyprivacy), >, 20000);
  g_assert_cmpuint (moat_filter_list_get_n_host_rules (urlhaus), >, 500);
  g_assert_cmpuint (moat_filter_list_get_n_url_rules (urlhaus), >, 500);
  g_assert_cmpuint (moat_filter_list_get_n_host_rules (badware), >, 500);
  for (guint i = 0; i < f->lists->len; i++)
    g_assert_cmpuint (moat_filter_list_get_n_bad_lines (f->lists->pdata[i]), <, 10);
  g_assert_cmpint (moat_filter_list_get_format (urlhaus), ==, MOAT_FILTER_FORMAT_ADBLOCK);

  compile (f);
  g_assert_cmpuint (moat_filter_matcher_get_n_hosts (f->matcher), >, 60000);
  g_assert_cmpint (moat_filter_matcher_match_host (f->matcher, "ib.adnxs.com", -1, 0, &m), ==,
                   MOAT_FILTER_VERDICT_BLOCK);
  rule = moat_filter_match_dup_rule (&m);
  g_assert_cmpstr (rule, ==, "||adnxs.com^");
  g_assert_cmpstr (m.list_name, ==, "EasyList");
  g_assert_cmpint (m.category, ==, MOAT_FILTER_CATEGORY_ADS);
  g_assert_cmpint (moat_filter_matcher_match_host (f->matcher, "flexytalk.net", -1, 0, &m), ==,
                   MOAT_FILTER_VERDICT_BLOCK);
  g_assert_cmpint (m.category, ==, MOAT_FILTER_CATEGORY_MALWARE);
  g_assert_cmpint (moat_filter_matcher_match_host (f->matcher, "111101111.ru", -1, 0, &m), ==,
                   MOAT_FILTER_VERDICT_BLOCK);
  g_assert_cmpstr (m.list_name, ==, "URLhaus");
  g_assert_cmpint (moat_filter_matcher_match_host (f->matcher, "1.1.104.12", -1, 0, NULL), ==,
                   MOAT_FILTER_VERDICT_BLOCK);
  g_assert_cmpint (moat_filter_matcher_match_host (f->matcher, "11.1.104.12", -1, 0, NULL), ==,
                   MOAT_FILTER_VERDICT_NONE);
  g_assert_cmpint (moat_filter_matcher_match_host (f->matcher, "www.debian.org", -1, 0, NULL), ==,
                   MOAT_FILTER_VERDICT_NONE);
  g_assert_cmpint (moat_filter_matcher_match_host (f->matcher, "gnome.org", -1, 0, NULL), ==,
                   MOAT_FILTER_VERDICT_NONE);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

#define ADD(path, func) \
  g_test_add (path, Fixture, NULL, fixture_set_up, func, fixture_tear_down)
  ADD ("/moat/filter/detect", test_detect);
  ADD ("/moat/filter/strings", test_strings);
  ADD ("/moat/filter/bad-name", test_bad_name);
  ADD ("/moat/filter/hosts", test_hosts);
  ADD ("/moat/filter/hosts-exact", test_hosts_exact);
  ADD ("/moat/filter/domains", test_domains);
  ADD ("/moat/filter/dnsmasq", test_dnsmasq);
  ADD ("/moat/filter/adblock", test_adblock);
  ADD ("/moat/filter/precedence", test_precedence);
  ADD ("/moat/filter/user-lists", test_user_lists);
  ADD ("/moat/filter/badfilter", test_badfilter);
  ADD ("/moat/filter/empty", test_empty);
  ADD ("/moat/filter/refcount", test_refcount);
  ADD ("/moat/filter/threads", test_threads);
  ADD ("/moat/filter/hostile", test_hostile);
  ADD ("/moat/filter/real-lists", test_real_lists);
#undef ADD

  return g_test_run ();
}
