/* SPDX-License-Identifier: GPL-3.0-or-later
 * Copyright 2026 The Moat developers
 *
 * URL matching: every pattern feature, option and precedence rule of
 * moat_filter_matcher_match_url(), the deliberate differences from
 * @ghostery/adblocker (tests/filter/DIFFERENCES.md) and misspelled options.
 */
#define G_LOG_DOMAIN "moat-filter-url-test"

#include "config.h"

#include "moat-filter-matcher.h"

#include <string.h>

#define T(x) MOAT_FILTER_RESOURCE_TYPE_##x
#define BLOCK MOAT_FILTER_VERDICT_BLOCK
#define ALLOW MOAT_FILTER_VERDICT_ALLOW
#define NONE MOAT_FILTER_VERDICT_NONE

typedef struct
{
  GPtrArray *lists;
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
add_list (Fixture *f, const char *name, MoatFilterListFlags flags, const char *text)
{
  g_autoptr(GBytes) bytes = g_bytes_new (text, strlen (text));
  g_autoptr(GError) error = NULL;
  MoatFilterList *list = moat_filter_list_new_from_bytes (name, MOAT_FILTER_CATEGORY_ADS,
                                                          MOAT_FILTER_FORMAT_ADBLOCK, flags,
                                                          bytes, &error);

  g_assert_no_error (error);
  g_assert_nonnull (list);
  g_ptr_array_add (f->lists, list);
  return list;
}

static void
compile (Fixture *f)
{
  g_clear_pointer (&f->matcher, moat_filter_matcher_unref);
  f->matcher = moat_filter_matcher_new ((MoatFilterList *const *) f->lists->pdata, f->lists->len);
  g_assert_nonnull (f->matcher);
}

/* The host of a simple test URL, lower case, without userinfo, port or trailing dot. */
static char *
host_of (const char *url)
{
  const char *h = strstr (url, "://") + 3;
  const char *e = h + strcspn (h, "/?#");
  const char *at = memchr (h, '@', e - h);
  const char *colon;
  gsize n;

  if (at)
    h = at + 1;
  colon = memchr (h, ':', e - h);
  if (colon)
    e = colon;
  n = e - h;
  while (n > 0 && h[n - 1] == '.')
    n--;
  return g_ascii_strdown (h, n);
}

/* Asserts the verdict for @url and, when @rule is not NULL, the deciding rule
 * and its 1-based @line. */
static void
check (Fixture *f, const char *url, const char *site, MoatFilterResourceType type,
       MoatFilterVerdict verdict, const char *rule, guint line)
{
  g_autofree char *host = host_of (url);
  g_autofree char *text = NULL;
  MoatFilterMatch m;
  MoatFilterVerdict v;

  v = moat_filter_matcher_match_url (f->matcher, url, strlen (url), host, strlen (host), site,
                                     type, &m);
  g_test_message ("%s (site %s, type %s) -> %d", url, site ? site : "-",
                  moat_filter_resource_type_to_string (type), v);
  g_assert_cmpint (v, ==, verdict);
  g_assert_cmpint (m.verdict, ==, verdict);
  text = moat_filter_match_dup_rule (&m);
  if (verdict == NONE)
    {
      g_assert_null (text);
      g_assert_cmpuint (m.line, ==, 0);
    }
  else if (rule != NULL)
    {
      g_assert_cmpstr (text, ==, rule);
      g_assert_cmpuint (m.line, ==, line);
    }
  g_assert_cmpint (moat_filter_matcher_match_url (f->matcher, url, strlen (url), host,
                                                  strlen (host), site, type, NULL),
                   ==, verdict);
}

static void
test_patterns (Fixture *f, gconstpointer data)
{
  add_list (f, "EasyList", 0,
            "! patterns\n"                    /* 1 */
            "/banner/*/img^\n"                /* 2 */
            "|http://left.example/ad\n"       /* 3 */
            "||ads.example^\n"                /* 4: a host rule */
            "||cdn.example/track/\n"          /* 5 */
            ".swf|\n"                         /* 6 */
            "&adslot=\n"                      /* 7 */
            "||tiles.example^*/pixel.gif\n"   /* 8 */
            "|https://exact.example/|\n"      /* 9 */
            "/mid/*/end^$image\n");           /* 10 */
  compile (f);

  check (f, "http://x.example/banner/123/img/a.png", NULL, T (IMAGE), BLOCK, "/banner/*/img^", 2);
  check (f, "http://x.example/banner/123/img", NULL, T (IMAGE), BLOCK, "/banner/*/img^", 2);
  check (f, "http://x.example/banner/123/img?x", NULL, T (IMAGE), BLOCK, "/banner/*/img^", 2);
  check (f, "http://x.example/banner/123/imgx", NULL, T (IMAGE), NONE, NULL, 0);
  check (f, "http://x.example/banner/123/img.png", NULL, T (IMAGE), NONE, NULL, 0);
  check (f, "http://left.example/ad/1", NULL, T (SCRIPT), BLOCK, "|http://left.example/ad", 3);
  check (f, "http://x.example/?u=http://left.example/ad", NULL, T (SCRIPT), NONE, NULL, 0);
  check (f, "http://www.ads.example/x", NULL, T (SCRIPT), BLOCK, "||ads.example^", 4);
  check (f, "http://ads.example.net/x", NULL, T (SCRIPT), NONE, NULL, 0);
  check (f, "http://a.cdn.example/track/x", NULL, T (SCRIPT), BLOCK, "||cdn.example/track/", 5);
  check (f, "http://xcdn.example/track/x", NULL, T (SCRIPT), NONE, NULL, 0);
  check (f, "http://other.example/?r=cdn.example/track/", NULL, T (SCRIPT), NONE, NULL, 0);
  check (f, "http://x.example/movie.swf", NULL, T (OBJECT), BLOCK, ".swf|", 6);
  check (f, "http://x.example/movie.swf?x=1", NULL, T (OBJECT), NONE, NULL, 0);
  check (f, "http://x.example/p?a=1&adslot=2", NULL, T (SCRIPT), BLOCK, "&adslot=", 7);
  check (f, "http://tiles.example/a/b/pixel.gif", NULL, T (IMAGE), BLOCK,
         "||tiles.example^*/pixel.gif", 8);
  check (f, "https://exact.example/", NULL, T (DOCUMENT), BLOCK, "|https://exact.example/|", 9);
  check (f, "https://exact.example/x", NULL, T (DOCUMENT), NONE, NULL, 0);
  check (f, "http://x.example/mid/a/b/end", NULL, T (IMAGE), BLOCK, "/mid/*/end^$image", 10);
  check (f, "http://x.example/mid/a/b/end", NULL, T (SCRIPT), NONE, NULL, 0);
  /* Patterns are case-insensitive; the URL's host is matched as normalised. */
  check (f, "HTTP://X.EXAMPLE/BANNER/1/IMG/", NULL, T (IMAGE), BLOCK, "/banner/*/img^", 2);
  check (f, "http://user:pw@www.ADS.example.:8080/x", NULL, T (SCRIPT), BLOCK, "||ads.example^", 4);
  check (f, "http://a.cdn.example./track/x", NULL, T (SCRIPT), BLOCK, "||cdn.example/track/", 5);
  /* The port is part of the URL: "cdn.example:81/track/" is not "cdn.example/track/". */
  check (f, "http://a.cdn.example:81/track/x", NULL, T (SCRIPT), NONE, NULL, 0);
}

static void
test_regex (Fixture *f, gconstpointer data)
{
  add_list (f, "Regex", 0,
            "/\\/ban+er[0-9]+\\//\n"                 /* 1 */
            "/^https?:\\/\\/[a-z]{4}\\.example\\//$script\n" /* 2 */
            "/(unclosed/\n"                          /* 3: not a valid regex: never matches */
            "/Mixed[0-9]/$match-case\n"             /* 4 */
            "/ads/\n");                              /* 5: /…/ is a regex, as in ABP */
  compile (f);

  check (f, "http://x.example/loads", NULL, T (IMAGE), BLOCK, "/ads/", 5);

  check (f, "http://x.example/bannner42/a", NULL, T (IMAGE), BLOCK, "/\\/ban+er[0-9]+\\//", 1);
  check (f, "http://x.example/banner/a", NULL, T (IMAGE), NONE, NULL, 0);
  check (f, "https://abcd.example/x.js", NULL, T (SCRIPT), BLOCK,
         "/^https?:\\/\\/[a-z]{4}\\.example\\//$script", 2);
  check (f, "https://abcde.example/x.js", NULL, T (SCRIPT), NONE, NULL, 0);
  check (f, "http://x.example/(unclosed/", NULL, T (IMAGE), NONE, NULL, 0);
  check (f, "http://x.example/Mixed1", NULL, T (IMAGE), BLOCK, "/Mixed[0-9]/$match-case", 4);
  check (f, "http://x.example/mixed1", NULL, T (IMAGE), NONE, NULL, 0);
  /* A lookahead consumes nothing: "abc" is not a token of its own here. */
  add_list (f, "Lookahead", 0, "/xy(?=.*\\/)abc\\//\n");
  compile (f);
  check (f, "http://x.example/xyabc/", NULL, T (IMAGE), BLOCK, "/xy(?=.*\\/)abc\\//", 1);
  /* Escapes with arguments are no literal: \x41 is "A", not "41". */
  add_list (f, "Escapes", 0, "/\\/\\x41bc\\d9z\\//\n");
  compile (f);
  check (f, "http://x.example/Abc79z/", NULL, T (IMAGE), BLOCK, "/\\/\\x41bc\\d9z\\//", 1);
  /* A catastrophic regex gives up at its step limit: no match, no hang. */
  {
    g_autoptr(GString) url = g_string_new ("http://x.example/");

    add_list (f, "Hostile regex", 0, "/(a+)+$/\n/^https?:\\/\\/x\\.example\\/(a|aa)+b/\n");
    compile (f);
    for (guint i = 0; i < 4000; i++)
      g_string_append_c (url, 'a');
    g_string_append_c (url, '!');
    check (f, url->str, NULL, T (IMAGE), NONE, NULL, 0);
  }
}

static void
test_match_case (Fixture *f, gconstpointer data)
{
  add_list (f, "Case", 0,
            "/AdFrame.$match-case\n"  /* 1 */
            "/lowerframe.\n");        /* 2 */
  compile (f);

  check (f, "http://x.example/AdFrame.html", NULL, T (SUBDOCUMENT), BLOCK, "/AdFrame.$match-case", 1);
  check (f, "http://x.example/adframe.html", NULL, T (SUBDOCUMENT), NONE, NULL, 0);
  check (f, "http://x.example/LowerFrame.html", NULL, T (SUBDOCUMENT), BLOCK, "/lowerframe.", 2);
}

static void
test_party (Fixture *f, gconstpointer data)
{
  add_list (f, "Party", 0,
            "/3p-only/$third-party\n"    /* 1 */
            "/1p-only/$~third-party\n"   /* 2 */
            "||tracker.example^$3p\n"    /* 3: a host rule with a party */
            "@@/3p-only/ok$third-party\n" /* 4 */
            "||tracker2.example^\n"        /* 5 */
            "@@||ok.tracker2.example^$third-party\n"); /* 6: a host exception */
  compile (f);

  check (f, "http://cdn.other.example/3p-only/x", "site.example", T (SCRIPT), BLOCK,
         "/3p-only/$third-party", 1);
  check (f, "http://cdn.site.example/3p-only/x", "site.example", T (SCRIPT), NONE, NULL, 0);
  check (f, "http://site.example/3p-only/x", "site.example", T (SCRIPT), NONE, NULL, 0);
  /* The caller gives the page's registrable domain from the full Public
   * Suffix List: under the private suffix codespot.com, www.codespot.com is
   * a site of its own, so a sibling is third-party (ghostery: first-party). */
  check (f, "http://tag.x.codespot.com/3p-only/x", "www.codespot.com", T (SCRIPT), BLOCK,
         "/3p-only/$third-party", 1);
  /* Unknown party: a party-bound block does not apply, a party-bound exception does. */
  check (f, "http://cdn.other.example/3p-only/x", NULL, T (SCRIPT), NONE, NULL, 0);
  check (f, "http://cdn.other.example/3p-only/ok", NULL, T (SCRIPT), ALLOW, "@@/3p-only/ok$third-party", 4);
  check (f, "http://cdn.site.example/1p-only/x", "site.example", T (SCRIPT), BLOCK,
         "/1p-only/$~third-party", 2);
  check (f, "http://cdn.other.example/1p-only/x", "site.example", T (SCRIPT), NONE, NULL, 0);
  /* A document is first-party whatever the referrer. */
  check (f, "http://cdn.other.example/1p-only/x", "site.example", T (DOCUMENT), BLOCK,
         "/1p-only/$~third-party", 2);
  check (f, "http://a.tracker.example/x", "site.example", T (IMAGE), BLOCK, "||tracker.example^$3p", 3);
  check (f, "http://a.tracker.example/x", "tracker.example", T (IMAGE), NONE, NULL, 0);
  check (f, "http://a.tracker.example/x", NULL, T (IMAGE), NONE, NULL, 0);
  /* Host exceptions bound to a party apply too when the party is unknown. */
  check (f, "http://ok.tracker2.example/x", NULL, T (IMAGE), ALLOW,
         "@@||ok.tracker2.example^$third-party", 6);
  check (f, "http://ok.tracker2.example/x", "tracker2.example", T (IMAGE), BLOCK,
         "||tracker2.example^", 5);
  check (f, "http://ok.tracker2.example/x", "site.example", T (IMAGE), ALLOW,
         "@@||ok.tracker2.example^$third-party", 6);
  /* match_host (CONNECT) keeps its rule: no party, no party-bound rule. */
  g_assert_cmpint (moat_filter_matcher_match_host (f->matcher, "ok.tracker2.example", -1,
                                                   MOAT_FILTER_QUERY_NONE, NULL),
                   ==, BLOCK);
}

static void
test_types (Fixture *f, gconstpointer data)
{
  add_list (f, "Types", 0,
            "/js-only/$script\n"             /* 1 */
            "/not-img/$~image\n"             /* 2 */
            "/img-xhr/$image,xhr\n"          /* 3 */
            "@@/js-only/ok$script\n"         /* 4 */
            "||doc.example^$doc\n"           /* 5 */
            "/webrtc-only/$webrtc\n"         /* 6: no proxy request has that type */
            "/frames/$subdocument,~script\n"); /* 7 */
  compile (f);

  check (f, "http://x.example/js-only/a", NULL, T (SCRIPT), BLOCK, "/js-only/$script", 1);
  check (f, "http://x.example/js-only/a", NULL, T (IMAGE), NONE, NULL, 0);
  /* Unknown type: a type-bound block does not apply, a type-bound exception does. */
  check (f, "http://x.example/js-only/a", NULL, T (UNKNOWN), NONE, NULL, 0);
  check (f, "http://x.example/js-only/ok", NULL, T (UNKNOWN), ALLOW, "@@/js-only/ok$script", 4);
  check (f, "http://x.example/js-only/ok", NULL, T (SCRIPT), ALLOW, "@@/js-only/ok$script", 4);
  check (f, "http://x.example/not-img/a", NULL, T (SCRIPT), BLOCK, "/not-img/$~image", 2);
  check (f, "http://x.example/not-img/a", NULL, T (IMAGE), NONE, NULL, 0);
  check (f, "http://x.example/not-img/a", NULL, T (UNKNOWN), NONE, NULL, 0);
  check (f, "http://x.example/img-xhr/a", NULL, T (XMLHTTPREQUEST), BLOCK, "/img-xhr/$image,xhr", 3);
  check (f, "http://x.example/img-xhr/a", NULL, T (IMAGE), BLOCK, "/img-xhr/$image,xhr", 3);
  check (f, "http://x.example/img-xhr/a", NULL, T (FONT), NONE, NULL, 0);
  /* $doc host rules: documents, and requests of unknown type (as for CONNECT). */
  check (f, "http://doc.example/", NULL, T (DOCUMENT), BLOCK, "||doc.example^$doc", 5);
  check (f, "http://doc.example/", NULL, T (UNKNOWN), BLOCK, "||doc.example^$doc", 5);
  check (f, "http://doc.example/a.js", "site.example", T (SCRIPT), NONE, NULL, 0);
  check (f, "http://x.example/webrtc-only/a", NULL, T (OTHER), NONE, NULL, 0);
  check (f, "http://x.example/frames/a", NULL, T (SUBDOCUMENT), BLOCK, "/frames/$subdocument,~script", 7);
  check (f, "http://x.example/frames/a", NULL, T (SCRIPT), NONE, NULL, 0);
  /* No type option: every type, documents too. */
  add_list (f, "Plain", 0, "/plain-path/\n");
  compile (f);
  check (f, "http://x.example/plain-path/", NULL, T (DOCUMENT), BLOCK, "/plain-path/", 1);
  check (f, "http://x.example/plain-path/", NULL, T (UNKNOWN), BLOCK, "/plain-path/", 1);
}

static void
test_domain (Fixture *f, gconstpointer data)
{
  add_list (f, "Domain", 0,
            "/only-on/$domain=news.example|shop.example\n"   /* 1 */
            "/not-on/$domain=~news.example\n"                /* 2 */
            "/sub-only/$domain=sub.page.example\n"           /* 3 */
            "@@/sub-ok/$domain=sub.page.example\n"           /* 4 */
            "/sub-ok/\n"                                     /* 5 */
            "/entity/$domain=brand.*\n"                      /* 6 */
            "/spared/$denyallow=cdn.example,domain=site.example\n" /* 7 */
            "/to-only/$to=target.example\n"                  /* 8 */
            "/to-not/$to=~target.example\n");                /* 9 */
  compile (f);

  check (f, "http://x.example/only-on/", "news.example", T (SCRIPT), BLOCK,
         "/only-on/$domain=news.example|shop.example", 1);
  check (f, "http://x.example/only-on/", "shop.example", T (SCRIPT), BLOCK,
         "/only-on/$domain=news.example|shop.example", 1);
  check (f, "http://x.example/only-on/", "other.example", T (SCRIPT), NONE, NULL, 0);
  check (f, "http://x.example/only-on/", NULL, T (SCRIPT), NONE, NULL, 0);
  check (f, "http://x.example/not-on/", "other.example", T (SCRIPT), BLOCK, "/not-on/$domain=~news.example", 2);
  check (f, "http://x.example/not-on/", "news.example", T (SCRIPT), NONE, NULL, 0);
  check (f, "http://x.example/not-on/", NULL, T (SCRIPT), NONE, NULL, 0);
  /* Only the registrable domain of the page is known: a rule for one of its
   * subdomains may or may not apply. Blocks do not, exceptions do. */
  check (f, "http://x.example/sub-only/", "page.example", T (SCRIPT), NONE, NULL, 0);
  check (f, "http://x.example/sub-only/", "other.example", T (SCRIPT), NONE, NULL, 0);
  check (f, "http://x.example/sub-ok/", "page.example", T (SCRIPT), ALLOW,
         "@@/sub-ok/$domain=sub.page.example", 4);
  check (f, "http://x.example/sub-ok/", "other.example", T (SCRIPT), BLOCK, "/sub-ok/", 5);
  check (f, "http://x.example/entity/", "brand.co.uk", T (SCRIPT), BLOCK, "/entity/$domain=brand.*", 6);
  check (f, "http://x.example/entity/", "brandx.com", T (SCRIPT), NONE, NULL, 0);
  check (f, "http://x.example/spared/", "site.example", T (SCRIPT), BLOCK,
         "/spared/$denyallow=cdn.example,domain=site.example", 7);
  check (f, "http://a.cdn.example/spared/", "site.example", T (SCRIPT), NONE, NULL, 0);
  check (f, "http://a.target.example/to-only/", NULL, T (SCRIPT), BLOCK, "/to-only/$to=target.example", 8);
  check (f, "http://x.example/to-only/", NULL, T (SCRIPT), NONE, NULL, 0);
  /* uBlock Origin's $to=~x: everywhere but x (ghostery drops such rules). */
  check (f, "http://x.example/to-not/", NULL, T (SCRIPT), BLOCK, "/to-not/$to=~target.example", 9);
  check (f, "http://target.example/to-not/", NULL, T (SCRIPT), NONE, NULL, 0);
}

static void
test_precedence (Fixture *f, gconstpointer data)
{
  add_list (f, "User allow", MOAT_FILTER_LIST_USER, "@@||user-allowed.example^\n");
  add_list (f, "User block", MOAT_FILTER_LIST_USER, "||user-blocked.example/path\n");
  add_list (f, "Subscription", 0,
            "||ads.example^\n"                                /* 1 */
            "@@||ads.example/ok/\n"                           /* 2 */
            "||ads.example/forced/$important\n"               /* 3 */
            "@@||ads.example/forced/really$important\n"       /* 4 */
            "/path/\n"                                        /* 5 */
            "@@||user-blocked.example^\n"                     /* 6 */
            "||user-allowed.example/x$important\n");          /* 7 */
  compile (f);

  check (f, "http://ads.example/x", NULL, T (IMAGE), BLOCK, "||ads.example^", 1);
  /* An exception beats a block, host or URL. */
  check (f, "http://ads.example/ok/x", NULL, T (IMAGE), ALLOW, "@@||ads.example/ok/", 2);
  /* $important beats an exception... */
  check (f, "http://ads.example/forced/x", NULL, T (IMAGE), BLOCK, "||ads.example/forced/$important", 3);
  /* ...but not an important exception. */
  check (f, "http://ads.example/forced/really", NULL, T (IMAGE), ALLOW,
         "@@||ads.example/forced/really$important", 4);
  /* The user's lists beat everything, important rules included. */
  check (f, "http://user-allowed.example/x", NULL, T (IMAGE), ALLOW, "@@||user-allowed.example^", 1);
  check (f, "http://user-blocked.example/path", NULL, T (IMAGE), BLOCK,
         "||user-blocked.example/path", 1);
  check (f, "http://user-blocked.example/other", NULL, T (IMAGE), ALLOW, "@@||user-blocked.example^", 6);
  /* A lone exception answers ALLOW, as match_host does. */
  check (f, "http://x.example/path/", NULL, T (IMAGE), BLOCK, "/path/", 5);
}

static void
test_badfilter (Fixture *f, gconstpointer data)
{
  add_list (f, "One", 0, "/bad-path/$script\n/kept-path/\n");
  add_list (f, "Two", 0, "/bad-path/$script,badfilter\n");
  compile (f);

  check (f, "http://x.example/bad-path/", NULL, T (SCRIPT), NONE, NULL, 0);
  check (f, "http://x.example/kept-path/", NULL, T (SCRIPT), BLOCK, "/kept-path/", 2);
}

/* The deliberate differences from @ghostery/adblocker (DIFFERENCES.md). */
static void
test_differences (Fixture *f, gconstpointer data)
{
  MoatFilterMatch m;

  add_list (f, "URLhaus", 0,
            "bad-host.example\n"     /* 1: a bare host line is ||bad-host.example^ */
            "192.0.2.7\n"            /* 2 */
            "-geoIP.js\n");          /* 3: not a host: a substring */
  compile (f);

  check (f, "http://bad-host.example/x", NULL, T (SCRIPT), BLOCK, "bad-host.example", 1);
  check (f, "http://www.bad-host.example/x", NULL, T (SCRIPT), BLOCK, "bad-host.example", 1);
  /* ghostery blocks these (substring of the URL); Moat does not. */
  check (f, "http://xbad-host.example/x", NULL, T (SCRIPT), NONE, NULL, 0);
  check (f, "http://x.example/?u=bad-host.example", NULL, T (SCRIPT), NONE, NULL, 0);
  check (f, "http://192.0.2.71/x", NULL, T (SCRIPT), NONE, NULL, 0);
  check (f, "http://x.example/a/192.0.2.7/b", NULL, T (SCRIPT), NONE, NULL, 0);
  check (f, "http://192.0.2.7/x", NULL, T (SCRIPT), BLOCK, "192.0.2.7", 2);
  check (f, "http://x.example/eagle-geoIP.js", NULL, T (SCRIPT), BLOCK, "-geoIP.js", 3);
  g_assert_cmpint (moat_filter_matcher_match_host (f->matcher, "bad-host.example", -1, 0, &m),
                   ==, BLOCK);
}

static void
test_resource_types (Fixture *f, gconstpointer data)
{
  static const struct
  {
    const char *dest;
    MoatFilterResourceType type;
  } dests[] = {
    { "document", T (DOCUMENT) }, { "iframe", T (SUBDOCUMENT) }, { "frame", T (SUBDOCUMENT) },
    { "script", T (SCRIPT) },     { "worker", T (SCRIPT) },      { "style", T (STYLESHEET) },
    { "image", T (IMAGE) },       { "font", T (FONT) },          { "video", T (MEDIA) },
    { "audio", T (MEDIA) },       { "embed", T (OBJECT) },       { "empty", T (UNKNOWN) },
    { "report", T (OTHER) },      { "Document", T (DOCUMENT) },  { "bogus", T (UNKNOWN) },
  };
  static const struct
  {
    const char *name;
    MoatFilterResourceType type;
  } names[] = {
    { "main_frame", T (DOCUMENT) }, { "sub_frame", T (SUBDOCUMENT) }, { "xhr", T (XMLHTTPREQUEST) },
    { "xmlhttprequest", T (XMLHTTPREQUEST) }, { "beacon", T (PING) }, { "websocket", T (WEBSOCKET) },
    { "other", T (OTHER) }, { "nonsense", T (UNKNOWN) },
  };

  for (guint i = 0; i < G_N_ELEMENTS (dests); i++)
    g_assert_cmpint (moat_filter_resource_type_from_fetch_dest (dests[i].dest, -1), ==, dests[i].type);
  g_assert_cmpint (moat_filter_resource_type_from_fetch_dest (NULL, -1), ==, T (UNKNOWN));
  g_assert_cmpint (moat_filter_resource_type_from_fetch_dest ("scripts", 6), ==, T (SCRIPT));
  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    g_assert_cmpint (moat_filter_resource_type_from_string (names[i].name, -1), ==, names[i].type);
  for (MoatFilterResourceType t = 0; t < MOAT_FILTER_RESOURCE_TYPE_LAST; t++)
    g_assert_cmpint (moat_filter_resource_type_from_string (moat_filter_resource_type_to_string (t), -1),
                     ==, t);
  g_assert_null (moat_filter_resource_type_to_string (MOAT_FILTER_RESOURCE_TYPE_LAST));
}

/* Every option misspelled makes its line bad; the valid lines around load. */
static void
test_misspelled_options (Fixture *f, gconstpointer data)
{
  static const char *const misspelled[] = {
    "importnt", "third-pary", "3rd", "first-prty", "scrpt", "imag", "stylesheets", "xmlhttp",
    "subdoc", "pings", "medias", "fonts", "websockets", "other2", "domian=a.example",
    "denyalow=a.example", "match-cse", "badfiltr", "redirct=noop.js", "csp2=x", "popups",
    "~importnt", "docs", "~al",
  };
  g_autoptr(GString) s = g_string_new (NULL);
  g_autoptr(GArray) expected = g_array_new (FALSE, FALSE, sizeof (guint32));
  MoatFilterList *list;
  const guint32 *bad;
  guint n_kept;
  guint32 line = 0;

  for (guint i = 0; i < G_N_ELEMENTS (misspelled); i++)
    {
      g_string_append_printf (s, "/good%u/^$script\n", i);
      line++;
      g_string_append_printf (s, "/bad%u/^$%s\n", i, misspelled[i]);
      line++;
      g_array_append_val (expected, line);
    }
  list = add_list (f, "Misspelled", 0, s->str);
  bad = moat_filter_list_get_bad_lines (list, &n_kept);
  g_assert_cmpuint (moat_filter_list_get_n_bad_lines (list), ==, G_N_ELEMENTS (misspelled));
  g_assert_cmpuint (n_kept, ==, G_N_ELEMENTS (misspelled));
  for (guint i = 0; i < n_kept; i++)
    g_assert_cmpuint (bad[i], ==, g_array_index (expected, guint32, i));
  g_assert_cmpuint (moat_filter_list_get_n_url_rules (list), ==, G_N_ELEMENTS (misspelled));
  compile (f);
  for (guint i = 0; i < G_N_ELEMENTS (misspelled); i++)
    {
      g_autofree char *good = g_strdup_printf ("http://x.example/good%u/", i);
      g_autofree char *badu = g_strdup_printf ("http://x.example/bad%u/", i);
      g_autofree char *rule = g_strdup_printf ("/good%u/^$script", i);

      check (f, good, NULL, T (SCRIPT), BLOCK, rule, 2 * i + 1);
      check (f, badu, NULL, T (SCRIPT), NONE, NULL, 0);
    }
}

/* 1 M lines of junk URL rules: they load, and lookups stay correct. */
static void
test_many_url_rules (Fixture *f, gconstpointer data)
{
  g_autoptr(GString) s = g_string_new (NULL);
  MoatFilterList *list;

  for (guint i = 0; i < 1000000; i++)
    {
      switch (i % 4)
        {
        case 0:
          g_string_append_printf (s, "/junk%u/*^x\n", i);
          break;
        case 1:
          g_string_append_printf (s, "||j%u.example^$script,domain=s%u.example\n", i, i);
          break;
        case 2:
          g_string_append_printf (s, "\xff\xfejunk%u$$$\n", i);
          break;
        default:
          g_string_append (s, "@@\n");
          break;
        }
    }
  g_string_append (s, "/the-last-one/\n");
  g_string_append (s, "  ||simple-last.example^  \r\n");
  list = add_list (f, "Junk", 0, s->str);
  g_assert_cmpuint (moat_filter_list_get_n_bad_lines (list), ==, 500000);
  compile (f);
  check (f, "http://x.example/the-last-one/", NULL, T (IMAGE), BLOCK, "/the-last-one/", 1000001);
  check (f, "http://x.example/junk4/a^x", NULL, T (IMAGE), BLOCK, "/junk4/*^x", 5);
  /* A plain host's line and text are found again from the bytes. */
  check (f, "http://a.simple-last.example/", NULL, T (IMAGE), BLOCK, "||simple-last.example^", 1000002);
  check (f, "http://j5.example/a.js", "s5.example", T (SCRIPT), BLOCK,
         "||j5.example^$script,domain=s5.example", 6);
  check (f, "http://j5.example/a.js", "s6.example", T (SCRIPT), NONE, NULL, 0);
}

typedef struct
{
  MoatFilterMatcher *matcher;
  guint n_blocked;
} ThreadData;

static gpointer
thread_func (gpointer data)
{
  ThreadData *td = data;

  for (guint i = 0; i < 20000; i++)
    {
      const char *url = (i % 2) ? "http://x.example/banner/1/img/" : "http://x.example/clean";
      MoatFilterMatch m;

      if (moat_filter_matcher_match_url (td->matcher, url, strlen (url), "x.example", 9, "x.example",
                                         T (IMAGE), &m) == BLOCK)
        td->n_blocked++;
    }
  return NULL;
}

static void
test_threads (Fixture *f, gconstpointer data)
{
  ThreadData td[4] = { { NULL, 0 } };
  GThread *threads[4];

  add_list (f, "EasyList", 0, "/banner/*/img^\n");
  compile (f);
  for (guint i = 0; i < 4; i++)
    {
      td[i].matcher = f->matcher;
      threads[i] = g_thread_new ("match", thread_func, &td[i]);
    }
  for (guint i = 0; i < 4; i++)
    {
      g_thread_join (threads[i]);
      g_assert_cmpuint (td[i].n_blocked, ==, 10000);
    }
}

static void
test_long_url (Fixture *f, gconstpointer data)
{
  g_autoptr(GString) url = g_string_new ("http://x.example/");

  add_list (f, "Long", 0, "/needle^\n/a*a*a*a*a*b/\n");
  compile (f);
  for (guint i = 0; i < 100000; i++)
    g_string_append_c (url, 'a');
  check (f, url->str, NULL, T (SCRIPT), NONE, NULL, 0);
  g_string_append (url, "/needle");
  check (f, url->str, NULL, T (SCRIPT), BLOCK, "/needle^", 1);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
#define ADD(path, func) \
  g_test_add (path, Fixture, NULL, fixture_set_up, func, fixture_tear_down)
  ADD ("/moat/filter/url/patterns", test_patterns);
  ADD ("/moat/filter/url/regex", test_regex);
  ADD ("/moat/filter/url/match-case", test_match_case);
  ADD ("/moat/filter/url/party", test_party);
  ADD ("/moat/filter/url/types", test_types);
  ADD ("/moat/filter/url/domain", test_domain);
  ADD ("/moat/filter/url/precedence", test_precedence);
  ADD ("/moat/filter/url/badfilter", test_badfilter);
  ADD ("/moat/filter/url/differences", test_differences);
  ADD ("/moat/filter/url/resource-types", test_resource_types);
  ADD ("/moat/filter/url/misspelled-options", test_misspelled_options);
  ADD ("/moat/filter/url/many-rules", test_many_url_rules);
  ADD ("/moat/filter/url/threads", test_threads);
  ADD ("/moat/filter/url/long-url", test_long_url);
#undef ADD
  return g_test_run ();
}
