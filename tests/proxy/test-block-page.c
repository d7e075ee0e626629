/* SPDX-License-Identifier: GPL-3.0-or-later
 * Copyright 2026 The Moat developers
 */
#define G_LOG_DOMAIN "test-block-page"

#include "config.h"

#include "moat-block-page.h"
#include "moat-error.h"
#include "moat-pac.h"

#include <glib/gi18n.h>
#include <locale.h>
#include <string.h>

#define ORIGIN "http://127.0.0.1:8080"
#define NOW 1790000000

static const guint8 secret[32] = {
  0x4d, 0x6f, 0x61, 0x74, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c,
  0x0d, 0x0e, 0x0f, 0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18, 0x19, 0x1a, 0x1b, 0x1c,
};

typedef struct {
  MoatProxyBlock block;
  char *token;
} Fixture;

static void
fixture_set_up (Fixture       *fixture,
                gconstpointer  data)
{
  memset (&fixture->block, 0, sizeof fixture->block);
  fixture->block.time = g_get_real_time ();
  fixture->block.reason = MOAT_PROXY_BLOCK_FILTER;
  fixture->block.host = g_strdup ("ads.example.test");
  fixture->block.port = 80;
  fixture->block.url = g_strdup ("http://ads.example.test/banner/1.js?size=large");
  fixture->block.category = MOAT_FILTER_CATEGORY_ADS;
  fixture->block.list_name = g_strdup ("EasyList");
  fixture->block.rule = g_strdup ("||ads.example.test^");
  fixture->block.line = 1234;
  fixture->token = moat_block_page_make_token (secret, sizeof secret, fixture->block.host,
                                               NOW + 600);
}

static void
fixture_tear_down (Fixture       *fixture,
                   gconstpointer  data)
{
  g_free (fixture->block.host);
  g_free (fixture->block.url);
  g_free (fixture->block.list_name);
  g_free (fixture->block.rule);
  g_free (fixture->token);
}

static char *
render (Fixture    *fixture,
        const char *origin,
        const char *token)
{
  g_autoptr(GBytes) bytes = moat_block_page_render (&fixture->block, origin, token);
  gsize len = 0;
  const char *data = g_bytes_get_data (bytes, &len);

  g_assert_true (g_utf8_validate_len (data, len, NULL));
  g_assert_null (memchr (data, '\0', len));
  return g_strndup (data, len);
}

static guint
count (const char *haystack,
       const char *needle)
{
  guint n = 0;

  for (const char *p = strstr (haystack, needle); p != NULL; p = strstr (p + 1, needle))
    n++;
  return n;
}

/* The page loads nothing and runs nothing. */
static void
assert_self_contained (const char *html)
{
  g_assert_true (g_str_has_prefix (html, "<!DOCTYPE html>\n<html lang=\""));
  g_assert_nonnull (strstr (html, "<meta http-equiv=\"Content-Security-Policy\" "
                                  "content=\"default-src 'none'; style-src 'unsafe-inline'; "));
  g_assert_null (strstr (html, "<script"));
  g_assert_null (strstr (html, "<link"));
  g_assert_null (strstr (html, "<img"));
  g_assert_null (strstr (html, "<iframe"));
  g_assert_null (strstr (html, " src="));
  g_assert_null (strstr (html, "url("));
  g_assert_null (strstr (html, "@import"));
  g_assert_null (strchr (html, '\r'));
  g_assert_cmpuint (count (html, "<main>"), ==, 1);
  g_assert_cmpuint (count (html, "<h1>"), ==, 1);
  /* Landmarks, a viewport for narrow screens, both colour schemes. */
  g_assert_cmpuint (count (html, "<header>"), ==, 1);
  g_assert_nonnull (strstr (html, "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"));
  g_assert_nonnull (strstr (html, "<meta name=\"color-scheme\" content=\"light dark\">"));
  g_assert_nonnull (strstr (html, "@media (prefers-color-scheme:dark)"));
  g_assert_nonnull (strstr (html, "<svg viewBox=\"0 0 16 16\" aria-hidden=\"true\""));
}

static void
test_render_filter (Fixture       *fixture,
                    gconstpointer  data)
{
  g_autofree char *html = render (fixture, ORIGIN, fixture->token);
  g_autofree char *token_field = g_strdup_printf ("name=\"token\" value=\"%s\"", fixture->token);

  assert_self_contained (html);
  g_assert_nonnull (strstr (html, "<html lang=\"en\" dir=\"ltr\">"));
  g_assert_nonnull (strstr (html, "form-action " ORIGIN "\">"));
  g_assert_nonnull (strstr (html, "<title>Blocked: ads.example.test – Moat</title>"));
  g_assert_nonnull (strstr (html, "<strong translate=\"no\">ads.<wbr>example.<wbr>test</strong>"));
  g_assert_nonnull (strstr (html, "It is listed as a source of advertising."));
  g_assert_nonnull (strstr (html, "<dt>Category</dt><dd>Advertising</dd>"));
  g_assert_nonnull (strstr (html, "<dt>List</dt><dd>EasyList</dd>"));
  g_assert_nonnull (strstr (html, "<dt>Rule</dt><dd><code translate=\"no\">||ads.example.test^</code></dd>"));
  g_assert_nonnull (strstr (html, "<dt>Line</dt><dd>1234</dd>"));
  g_assert_nonnull (strstr (html, "<dd><code translate=\"no\">ads.example.test/banner/1.js?size=large</code></dd>"));
  g_assert_null (strstr (html, "class=\"danger\""));
  g_assert_null (strstr (html, "<details>"));

  g_assert_cmpuint (count (html, "<form method=\"post\" action=\"" ORIGIN "/moat/allow\">"), ==, 2);
  g_assert_cmpuint (count (html, "name=\"host\" value=\"ads.example.test\""), ==, 2);
  g_assert_cmpuint (count (html, token_field), ==, 2);
  g_assert_cmpuint (count (html, "name=\"mode\" value=\"once\""), ==, 1);
  g_assert_cmpuint (count (html, "name=\"mode\" value=\"always\""), ==, 1);
  g_assert_cmpuint (count (html, "name=\"return\" value=\"http://ads.example.test/banner/1.js?size=large\""),
                    ==, 2);
  g_assert_nonnull (strstr (html, "aria-describedby=\"allow-once-help\">Allow once</button>"));
  g_assert_nonnull (strstr (html, "aria-describedby=\"allow-always-help\">Always allow</button>"));
  g_assert_nonnull (strstr (html, "for 10 minutes."));
  /* Every section is labelled by its heading; the page has a footer. */
  g_assert_nonnull (strstr (html, "<section class=\"card\" aria-labelledby=\"why\">\n<h2 id=\"why\">Why it was blocked</h2>"));
  g_assert_nonnull (strstr (html, "<section class=\"card\" aria-labelledby=\"allow\">\n<h2 id=\"allow\">Visit it anyway?</h2>"));
  g_assert_nonnull (strstr (html, "<p class=\"help\" id=\"allow-once-help\">"));
  g_assert_nonnull (strstr (html, "<p class=\"help\" id=\"allow-always-help\">"));
  g_assert_cmpuint (count (html, "<footer>"), ==, 1);
}

static void
test_render_categories (Fixture       *fixture,
                        gconstpointer  data)
{
  static const struct {
    MoatFilterCategory category;
    const char *name;
    gboolean danger;
  } cases[] = {
    { MOAT_FILTER_CATEGORY_ADS, "Advertising", FALSE },
    { MOAT_FILTER_CATEGORY_TRACKERS, "Tracking", FALSE },
    { MOAT_FILTER_CATEGORY_MALWARE, "Malware", TRUE },
    { MOAT_FILTER_CATEGORY_PHISHING, "Phishing", TRUE },
    { MOAT_FILTER_CATEGORY_SCAM, "Scam", TRUE },
    { MOAT_FILTER_CATEGORY_C2, "Command and control", TRUE },
    { MOAT_FILTER_CATEGORY_ADULT, "Adult", FALSE },
    { MOAT_FILTER_CATEGORY_GAMBLING, "Gambling", FALSE },
    { MOAT_FILTER_CATEGORY_CUSTOM, "Your block-list", FALSE },
  };

  G_STATIC_ASSERT (G_N_ELEMENTS (cases) == MOAT_FILTER_CATEGORY_LAST);
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *html = NULL;
      g_autofree char *row = g_strdup_printf ("<dt>Category</dt><dd>%s</dd>", cases[i].name);

      fixture->block.category = cases[i].category;
      html = render (fixture, ORIGIN, fixture->token);
      assert_self_contained (html);
      g_assert_nonnull (strstr (html, row));
      g_assert_cmpint (strstr (html, "<body class=\"danger\">") != NULL, ==, cases[i].danger);
      g_assert_cmpint (strstr (html, "<p class=\"warning\" role=\"note\">") != NULL, ==,
                       cases[i].danger);
      /* Dangerous sites get no primary "Allow once" button. */
      g_assert_cmpint (strstr (html, "class=\"primary\"") != NULL, ==, !cases[i].danger);
      g_assert_cmpuint (count (html, "<form "), ==, 2);
    }
}

static void
test_render_escapes (Fixture       *fixture,
                     gconstpointer  data)
{
  g_autofree char *html = NULL;

  g_free (fixture->block.url);
  fixture->block.url = g_strdup ("http://ads.example.test/\"><script>alert(1)</script>\r\n"
                                 "Set-Cookie: a=b\r\n\r\n<p onclick='x'>");
  g_free (fixture->block.list_name);
  fixture->block.list_name = g_strdup ("<b>bold</b> & \"quoted\" \xe2\x80\xae" "evil\x01");
  g_free (fixture->block.rule);
  fixture->block.rule = g_strdup ("||ads.example.test^$\"><script>x</script>\xff\xfe");

  html = render (fixture, ORIGIN, fixture->token);
  assert_self_contained (html);
  g_assert_null (strstr (html, "<b>"));
  g_assert_null (strstr (html, "<p onclick"));
  g_assert_null (strstr (html, "'x'"));
  g_assert_null (strstr (html, "\nSet-Cookie"));
  g_assert_null (strstr (html, "\xe2\x80\xae"));
  g_assert_null (strchr (html, '\x01'));
  g_assert_nonnull (strstr (html, "<dt>List</dt><dd>&lt;b&gt;bold&lt;/b&gt; &amp; &quot;quoted&quot; "
                                  "\xef\xbf\xbd" "evil" "\xef\xbf\xbd" "</dd>"));
  g_assert_nonnull (strstr (html, "||ads.example.test^$&quot;&gt;&lt;script&gt;x&lt;/script&gt;"
                                  "\xef\xbf\xbd\xef\xbf\xbd</code>"));
  /* In the links and forms, the URL is percent-encoded like a browser would. */
  g_assert_cmpuint (count (html, "name=\"return\" value=\"http://ads.example.test/%22%3E%3Cscript%3E"
                                 "alert(1)%3C/script%3E%0D%0ASet-Cookie:%20a=b%0D%0A%0D%0A"
                                 "%3Cp%20onclick=%27x%27%3E\""), ==, 2);
  /* Long: shortened in the summary, in full in the details. */
  g_assert_nonnull (strstr (html, "<details>"));
}

static void
test_render_long_url (Fixture       *fixture,
                      gconstpointer  data)
{
  g_autofree char *html = NULL;
  g_autoptr(GString) url = g_string_new ("http://ads.example.test/");

  while (url->len < MOAT_BLOCK_PAGE_MAX_URL_LENGTH + 10)
    g_string_append (url, "abcdefghij");
  g_string_append (url, "TAIL");
  g_free (fixture->block.url);
  fixture->block.url = g_strdup (url->str);
  html = render (fixture, ORIGIN, fixture->token);

  assert_self_contained (html);
  /* Too long to go back to: the forms return to the site's root. */
  g_assert_cmpuint (count (html, "name=\"return\" value=\"http://ads.example.test/\""), ==, 2);
  g_assert_nonnull (strstr (html, "<dd><code translate=\"no\">ads.example.test/abcdefghijabcdefghijabc…"));
  g_assert_nonnull (strstr (html, "ghijTAIL</code></dd>"));
  g_assert_nonnull (strstr (html, "<details>\n<summary>Full address</summary>"));
  g_clear_pointer (&html, g_free);

  /* A long query is cut off whole. */
  g_free (fixture->block.url);
  fixture->block.url = g_strdup ("http://ads.example.test/pixel.gif?uid=0123456789abcdef0123456789abcdef"
                                 "&ref=http%3A%2F%2Fnews.example.org%2F");
  html = render (fixture, ORIGIN, fixture->token);
  g_assert_nonnull (strstr (html, "<dd><code translate=\"no\">ads.example.test/pixel.gif?…</code></dd>"));
  g_assert_cmpuint (count (html, "name=\"return\" value=\"http://ads.example.test/pixel.gif?uid="), ==, 2);
  g_assert_nonnull (strstr (html, "<details>"));
}

static void
test_render_userinfo_and_ipv6 (Fixture       *fixture,
                               gconstpointer  data)
{
  g_autofree char *html = NULL;
  g_autofree char *token = NULL;

  /* http://allowed@blocked/ is the blocked host; the return URL must not
   * carry the userinfo trick along. */
  g_free (fixture->block.url);
  fixture->block.url = g_strdup ("http://allowed.example.test@ads.example.test:8081/x");
  fixture->block.port = 8081;
  html = render (fixture, ORIGIN, fixture->token);
  g_assert_cmpuint (count (html, "name=\"return\" value=\"http://ads.example.test:8081/\""), ==, 2);
  g_clear_pointer (&html, g_free);

  g_free (fixture->block.host);
  fixture->block.host = g_strdup ("2001:db8::1");
  g_clear_pointer (&fixture->block.url, g_free);
  fixture->block.port = 80;
  token = moat_block_page_make_token (secret, sizeof secret, fixture->block.host, NOW);
  html = render (fixture, ORIGIN, token);
  g_assert_cmpuint (count (html, "name=\"return\" value=\"http://[2001:db8::1]/\""), ==, 2);
  g_assert_null (strstr (html, "<dt>Address</dt>"));
}

static void
test_render_without_forms (Fixture       *fixture,
                           gconstpointer  data)
{
  static const MoatProxyBlockReason reasons[] = {
    MOAT_PROXY_BLOCK_LOCAL, MOAT_PROXY_BLOCK_PORT, MOAT_PROXY_BLOCK_LOOP,
  };
  g_autofree char *html = NULL;

  /* No token: nothing to post. */
  html = render (fixture, ORIGIN, NULL);
  assert_self_contained (html);
  g_assert_null (strstr (html, "<form"));
  g_assert_nonnull (strstr (html, "form-action 'none'\">"));
  g_clear_pointer (&html, g_free);

  /* An origin that could break out of the CSP or the attribute. */
  html = render (fixture, "http://127.0.0.1:8080\"; script-src *", fixture->token);
  assert_self_contained (html);
  g_assert_null (strstr (html, "<form"));
  g_assert_null (strstr (html, "script-src"));
  g_clear_pointer (&html, g_free);

  /* Blocks no list decided: allowing could not change them. */
  for (guint i = 0; i < G_N_ELEMENTS (reasons); i++)
    {
      fixture->block.reason = reasons[i];
      html = render (fixture, ORIGIN, fixture->token);
      assert_self_contained (html);
      g_assert_null (strstr (html, "<form"));
      g_assert_null (strstr (html, "EasyList"));
      g_assert_null (strstr (html, "<dt>Rule</dt>"));
      g_assert_nonnull (strstr (html, "<dt>Category</dt><dd>Moat’s safety rules</dd>"));
      g_clear_pointer (&html, g_free);
    }
  fixture->block.reason = MOAT_PROXY_BLOCK_LOCAL;
  html = render (fixture, ORIGIN, fixture->token);
  g_assert_nonnull (strstr (html, "points to this computer"));
}

static void
test_render_allowed (void)
{
  static const struct {
    const char *url;
    const char *expected; /* NULL: no link */
  } cases[] = {
    { "http://ads.example.test/a?b=c&d=e", "<a href=\"http://ads.example.test/a?b=c&amp;d=e\">" },
    { "http://ads.example.test/\"><script>x</script>\r\nA: b",
      "<a href=\"http://ads.example.test/%22%3E%3Cscript%3Ex%3C/script%3E%0D%0AA:%20b\">" },
    { "HTTP://ads.example.test/", "<a href=\"HTTP://ads.example.test/\">" },
    { "javascript:alert(1)", NULL },
    { "https://ads.example.test/", NULL },
    { "data:text/html,<script>x</script>", NULL },
    { " http://ads.example.test/", NULL },
    { NULL, NULL },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GBytes) bytes = moat_block_page_render_allowed ("ads.example.test<b>", cases[i].url);
      g_autofree char *html = g_strndup (g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes));

      assert_self_contained (html);
      g_assert_nonnull (strstr (html, "form-action 'none'\">"));
      g_assert_nonnull (strstr (html, "<h1><span translate=\"no\">ads.<wbr>example.<wbr>test&lt;b&gt;</span> "
                                      "is allowed</h1>"));
      g_assert_null (strstr (html, "<b>"));
      if (cases[i].expected != NULL)
        {
          g_assert_nonnull (strstr (html, cases[i].expected));
          g_assert_cmpuint (count (html, "<a "), ==, 1);
        }
      else
        {
          g_assert_null (strstr (html, "<a "));
          g_assert_nonnull (strstr (html, "Open the page again to see it."));
        }
    }
}

static void
test_token (void)
{
  g_autofree char *token = moat_block_page_make_token (secret, sizeof secret, "ads.example.test",
                                                       NOW);
  guint8 other_secret[sizeof secret];
  g_autofree char *tampered = NULL;
  g_autofree char *later = NULL;
  static const char * const malformed[] = {
    "", ".", "abc", "1790000000", "1790000000.", ".0123",
    "-1790000000.0000000000000000000000000000000000000000000000000000000000000000",
    "01790000000.0000000000000000000000000000000000000000000000000000000000000000",
    "99999999999999999999.0000000000000000000000000000000000000000000000000000000000000000",
    "1790000000.00000000000000000000000000000000000000000000000000000000000000000",
  };

  g_assert_cmpuint (strlen (token), ==, 10 + 1 + 64);
  g_assert_true (g_str_has_prefix (token, "1790000000."));
  g_assert_true (moat_block_page_check_token (secret, sizeof secret, "ads.example.test", token, NOW));
  g_assert_true (moat_block_page_check_token (secret, sizeof secret, "ads.example.test", token,
                                              NOW - 1000));
  /* Expired. */
  g_assert_false (moat_block_page_check_token (secret, sizeof secret, "ads.example.test", token,
                                               NOW + 1));
  /* Another host, another secret. */
  g_assert_false (moat_block_page_check_token (secret, sizeof secret, "ads.example.tes", token, NOW));
  g_assert_false (moat_block_page_check_token (secret, sizeof secret, "example.test", token, NOW));
  memcpy (other_secret, secret, sizeof secret);
  other_secret[31] ^= 1;
  g_assert_false (moat_block_page_check_token (other_secret, sizeof other_secret,
                                               "ads.example.test", token, NOW));
  /* The expiry is covered by the MAC. */
  later = g_strdup (token);
  later[9] = '9';
  g_assert_false (moat_block_page_check_token (secret, sizeof secret, "ads.example.test", later, NOW));
  /* Every MAC character matters, both ways. */
  for (gsize i = 11; i < strlen (token); i++)
    {
      g_free (tampered);
      tampered = g_strdup (token);
      tampered[i] = tampered[i] == 'a' ? 'b' : 'a';
      g_assert_false (moat_block_page_check_token (secret, sizeof secret, "ads.example.test",
                                                   tampered, NOW));
    }
  for (guint i = 0; i < G_N_ELEMENTS (malformed); i++)
    g_assert_false (moat_block_page_check_token (secret, sizeof secret, "ads.example.test",
                                                 malformed[i], 0));
  g_assert_false (moat_block_page_check_token (secret, sizeof secret, "ads.example.test", NULL, NOW));
}

#define GOOD_TOKEN "1790000000.0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static void
test_form_good (void)
{
  static const struct {
    const char *body;
    const char *host;
    const char *mode;
    const char *return_url;
  } cases[] = {
    { "host=ads.example.test&token=" GOOD_TOKEN "&mode=once&return=http%3A%2F%2Fads.example.test%2Fa%3Fb%3Dc",
      "ads.example.test", "once", "http://ads.example.test/a?b=c" },
    { "return=http://ads.example.test:8080/&mode=always&token=" GOOD_TOKEN "&host=ads.example.test",
      "ads.example.test", "always", "http://ads.example.test:8080/" },
    { "host=2001%3Adb8%3A%3A1&token=" GOOD_TOKEN "&mode=once&return=http%3A%2F%2F%5B2001%3Adb8%3A%3A1%5D%2F",
      "2001:db8::1", "once", "http://[2001:db8::1]/" },
    { "host=xn--bcher-kva.example&token=" GOOD_TOKEN "&mode=once&return=http://xn--bcher-kva.example/%25C3%25BC",
      "xn--bcher-kva.example", "once", "http://xn--bcher-kva.example/%C3%BC" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autofree char *host = NULL;
      g_autofree char *mode = NULL;
      g_autofree char *return_url = NULL;
      g_autofree char *token = NULL;

      g_test_message ("case %u: %s", i, cases[i].body);
      g_assert_true (moat_block_page_parse_allow_form (cases[i].body, strlen (cases[i].body), &host,
                                                       &mode, &return_url, &token, &error));
      g_assert_no_error (error);
      g_assert_cmpstr (host, ==, cases[i].host);
      g_assert_cmpstr (mode, ==, cases[i].mode);
      g_assert_cmpstr (return_url, ==, cases[i].return_url);
      g_assert_cmpstr (token, ==, GOOD_TOKEN);
    }
}

#define H "host=ads.example.test"
#define T "token=" GOOD_TOKEN
#define M "mode=once"
#define R "return=http%3A%2F%2Fads.example.test%2F"

static void
test_form_bad (void)
{
  static const struct {
    const char *body;
    gssize len; /* -1: strlen */
  } cases[] = {
    { "", -1 },
    { H "&" T "&" M, -1 },                               /* missing return */
    { H "&" T "&" M "&" R "&" M, -1 },                   /* duplicate */
    { H "&" T "&" M "&" R "&extra=1", -1 },              /* unknown field */
    { H "&" T "&" M "&" R "&", -1 },                     /* trailing & */
    { "&" H "&" T "&" M "&" R, -1 },                     /* leading & */
    { H "&&" T "&" M "&" R, -1 },                        /* empty pair */
    { H "&" T "&mode&" R, -1 },                          /* no '=' */
    { H "&" T "&mode=&" R, -1 },                         /* empty value */
    { H "&" T "&mode=sometimes&" R, -1 },
    { H "&" T "&mode=once%00&" R, -1 },                  /* NUL */
    { H "&" T "&mode=on%zze&" R, -1 },                   /* bad escape */
    { H "&" T "&" M "&return=http%3A%2F%2Fads.example.test%2", -1 },  /* truncated escape */
    { H "&" T "&" M "&return=http%3A%2F%2Fads.example.test%", -1 },
    { H "&" T "&" M "&return=http%3A%2F%2Fads.example.test%2F%0D%0ASet-Cookie:x", -1 },
    { H "&" T "&" M "&return=http%3A%2F%2Fads.example.test%2F+x", -1 },      /* space */
    { H "&" T "&" M "&return=http%3A%2F%2Fads.example.test%2F%C3%BC", -1 },  /* raw non-ASCII */
    { H "&" T "&" M "&return=https%3A%2F%2Fads.example.test%2F", -1 },
    { H "&" T "&" M "&return=javascript%3Aalert(1)", -1 },
    { H "&" T "&" M "&return=http%3A%2F%2Fother.example.test%2F", -1 },      /* other host */
    { H "&" T "&" M "&return=http%3A%2F%2Fads.example.test%40evil.test%2F", -1 },
    { H "&" T "&" M "&return=http%3A%2F%2Fevil.test%40ads.example.test%2F", -1 }, /* userinfo */
    { H "&" T "&" M "&return=http%3A%2F%2Fads.example.test%3A99999%2F", -1 },
    { H "&" T "&" M "&return=http%3A%2F%2F%2F", -1 },
    { "host=ADS.example.test&" T "&" M "&" R, -1 },      /* not canonical */
    { "host=ads.example.test.&" T "&" M "&" R, -1 },
    { "host=ads..example.test&" T "&" M "&" R, -1 },
    { "host=%C3%BF%FF&" T "&" M "&" R, -1 },             /* not UTF-8 */
    { H "&token=123&" M "&" R, -1 },
    { H "&token=" GOOD_TOKEN "0&" M "&" R, -1 },
    { H "&token=1790000000.0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef&" M "&" R, -1 },
    { H "&" T "&" M "&" R "\0", sizeof (H "&" T "&" M "&" R) },  /* NUL in the body */
    { H "&" T "&" M "&" R "\n", -1 },
    { H " &" T "&" M "&" R, -1 },
    { "host=ads.example.test&" T "&" M "&return=http%3A%2F%2Fads.example.test%2F\xc3\xbc", -1 },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GError) error = NULL;
      char *host = NULL;
      char *mode = NULL;
      char *return_url = NULL;
      char *token = NULL;
      gsize len = cases[i].len >= 0 ? (gsize) cases[i].len : strlen (cases[i].body);

      g_test_message ("case %u: %s", i, cases[i].body);
      g_assert_false (moat_block_page_parse_allow_form (cases[i].body, len, &host, &mode,
                                                        &return_url, &token, &error));
      g_assert_error (error, MOAT_ERROR, MOAT_ERROR_INVALID_ARGUMENT);
      g_assert_null (host);
      g_assert_null (mode);
      g_assert_null (return_url);
      g_assert_null (token);
    }
}

static void
test_form_limits (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GString) body = g_string_new (H "&" T "&" M "&return=http://ads.example.test/");
  g_autofree char *host = NULL;
  g_autofree char *mode = NULL;
  g_autofree char *return_url = NULL;
  g_autofree char *token = NULL;
  gsize base = body->len;

  /* The longest return URL is accepted... */
  while (body->len - base + strlen ("http://ads.example.test/") < MOAT_BLOCK_PAGE_MAX_URL_LENGTH)
    g_string_append_c (body, 'x');
  g_assert_true (moat_block_page_parse_allow_form (body->str, body->len, &host, &mode, &return_url,
                                                   &token, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (strlen (return_url), ==, MOAT_BLOCK_PAGE_MAX_URL_LENGTH);
  g_clear_pointer (&host, g_free);
  g_clear_pointer (&mode, g_free);
  g_clear_pointer (&return_url, g_free);
  g_clear_pointer (&token, g_free);

  /* ...one more byte is not. */
  g_string_append_c (body, 'x');
  g_assert_false (moat_block_page_parse_allow_form (body->str, body->len, &host, &mode, &return_url,
                                                    &token, &error));
  g_assert_error (error, MOAT_ERROR, MOAT_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);

  /* A body over the cap is refused before it is looked at. */
  while (body->len <= MOAT_BLOCK_PAGE_MAX_FORM_SIZE)
    g_string_append (body, "%78");
  g_assert_false (moat_block_page_parse_allow_form (body->str, body->len, &host, &mode, &return_url,
                                                    &token, &error));
  g_assert_error (error, MOAT_ERROR, MOAT_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull (strstr (error->message, "too large"));
}

/* Reads the hidden fields of the first form back the way a browser would and
 * sends them: what the page offers, the form parser must accept. */
static char *
html_unescape (const char *text,
               gsize       len)
{
  static const struct { const char *entity; char c; } entities[] = {
    { "&amp;", '&' }, { "&lt;", '<' }, { "&gt;", '>' }, { "&quot;", '"' }, { "&#39;", '\'' },
  };
  GString *out = g_string_new (NULL);

  for (gsize i = 0; i < len; i++)
    {
      guint e;

      for (e = 0; e < G_N_ELEMENTS (entities); e++)
        if (strncmp (text + i, entities[e].entity, strlen (entities[e].entity)) == 0)
          break;
      if (e < G_N_ELEMENTS (entities))
        {
          g_string_append_c (out, entities[e].c);
          i += strlen (entities[e].entity) - 1;
        }
      else
        g_string_append_c (out, text[i]);
    }
  return g_string_free (out, FALSE);
}

static void
append_field (GString    *body,
              const char *html,
              const char *name)
{
  g_autofree char *needle = g_strdup_printf ("name=\"%s\" value=\"", name);
  const char *start = strstr (html, needle);
  const char *end;
  g_autofree char *value = NULL;
  g_autofree char *encoded = NULL;

  g_assert_nonnull (start);
  start += strlen (needle);
  end = strchr (start, '"');
  g_assert_nonnull (end);
  value = html_unescape (start, (gsize) (end - start));
  encoded = g_uri_escape_string (value, NULL, FALSE);
  if (body->len > 0)
    g_string_append_c (body, '&');
  g_string_append_printf (body, "%s=%s", name, encoded);
}

static void
test_form_round_trip (Fixture       *fixture,
                      gconstpointer  data)
{
  static const char * const urls[] = {
    "http://ads.example.test/banner/1.js?size=large&x='y'",
    "http://ads.example.test/\"><script>alert(1)</script>\r\nSet-Cookie: a=b",
    "http://ads.example.test/caf\xc3\xa9?q=\xe2\x82\xac#frag",
    "http://user:pw@ads.example.test/secret",
  };

  for (guint i = 0; i < G_N_ELEMENTS (urls); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(GString) body = g_string_new (NULL);
      g_autofree char *html = NULL;
      g_autofree char *host = NULL;
      g_autofree char *mode = NULL;
      g_autofree char *return_url = NULL;
      g_autofree char *token = NULL;

      g_free (fixture->block.url);
      fixture->block.url = g_strdup (urls[i]);
      html = render (fixture, ORIGIN, fixture->token);
      append_field (body, html, "host");
      append_field (body, html, "token");
      append_field (body, html, "mode");
      append_field (body, html, "return");

      g_test_message ("url %u: %s", i, body->str);
      g_assert_true (moat_block_page_parse_allow_form (body->str, body->len, &host, &mode,
                                                       &return_url, &token, &error));
      g_assert_no_error (error);
      g_assert_cmpstr (host, ==, "ads.example.test");
      g_assert_cmpstr (mode, ==, "once");
      g_assert_true (g_str_has_prefix (return_url, "http://ads.example.test/"));
      g_assert_true (moat_block_page_check_token (secret, sizeof secret, host, token, NOW));
    }
}

static void
test_german (void)
{
  if (g_test_subprocess ())
    {
      Fixture fixture;
      g_autofree char *html = NULL;
      g_autofree char *localedir = g_build_filename (g_getenv ("MOAT_BUILD_ROOT"), "po", NULL);

      g_setenv ("LANGUAGE", "de", TRUE);
      if (setlocale (LC_ALL, "de_DE.UTF-8") == NULL)
        g_assert_nonnull (setlocale (LC_ALL, "C.UTF-8"));
      bindtextdomain (GETTEXT_PACKAGE, localedir);
      bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
      moat_block_page_init ();

      fixture_set_up (&fixture, NULL);
      html = render (&fixture, ORIGIN, fixture.token);
      g_assert_cmpstr (moat_block_page_get_language (), ==, "de");
      g_assert_nonnull (strstr (html, "<html lang=\"de\" dir=\"ltr\">"));
      g_assert_nonnull (strstr (html, "<dd>Werbung</dd>"));
      g_assert_nonnull (strstr (html, ">Einmal erlauben</button>"));
      g_assert_nonnull (strstr (html, ">Immer erlauben</button>"));
      g_assert_nonnull (strstr (html, "10 Minuten"));
      g_assert_null (strstr (html, "Allow once"));
      fixture_tear_down (&fixture, NULL);
      return;
    }
  {
    g_autofree char *mo = g_build_filename (g_getenv ("MOAT_BUILD_ROOT"), "po", "de",
                                            "LC_MESSAGES", GETTEXT_PACKAGE ".mo", NULL);

    if (g_getenv ("MOAT_BUILD_ROOT") == NULL || !g_file_test (mo, G_FILE_TEST_EXISTS))
      {
        g_test_skip ("the German catalogue is not built");
        return;
      }
  }
  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_passed ();
}

static void
test_pac (void)
{
  static const char * const bad[] = {
    NULL, "", "127.0.0.1", "127.0.0.1:", "127.0.0.1:0", "127.0.0.1:70000", "::1:8080",
    "a@127.0.0.1:8080", "\"evil\":80", "127.0.0.1:80\";alert(1);//",
  };
  g_autofree char *pac = moat_pac_render ("127.0.0.1:8080");
  g_autofree char *pac6 = moat_pac_render ("[::1]:3128");

  g_assert_nonnull (pac);
  g_assert_true (g_str_has_prefix (pac, "// Moat proxy auto-configuration."));
  g_assert_nonnull (strstr (pac, "function FindProxyForURL(url, host) {\n"));
  g_assert_nonnull (strstr (pac, "isPlainHostName(host)"));
  g_assert_nonnull (strstr (pac, "host == \"127.0.0.1\")\n"));
  /* Fails closed: no DIRECT fallback after the proxy. */
  g_assert_nonnull (strstr (pac, "  return \"PROXY 127.0.0.1:8080\";\n}\n"));
  g_assert_null (strstr (pac, "; DIRECT"));
  g_assert_cmpuint (count (pac, "DIRECT"), ==, 1);

  g_assert_nonnull (pac6);
  g_assert_nonnull (strstr (pac6, "  return \"PROXY [::1]:3128\";\n"));
  g_assert_nonnull (strstr (pac6, "host == \"::1\")\n"));

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    g_assert_null (moat_pac_render (bad[i]));
}

/* Runs the PAC file in node with the PAC helper functions, when node is
 * there: the decisions, not just the text. */
static void
test_pac_decisions (void)
{
  static const char harness[] =
    "function isPlainHostName(h) { return h.indexOf('.') < 0 && h.indexOf(':') < 0; }\n"
    "function dnsDomainIs(h, d) { return h.length >= d.length && h.substring(h.length - d.length) == d; }\n"
    "var cases = [\n"
    " ['http://printer/', 'printer', 'DIRECT'],\n"
    " ['http://localhost:8000/', 'localhost', 'DIRECT'],\n"
    " ['http://LOCALHOST/', 'LOCALHOST', 'DIRECT'],\n"
    " ['http://app.localhost/', 'app.localhost', 'DIRECT'],\n"
    " ['http://127.0.0.1:8080/moat/allow', '127.0.0.1', 'DIRECT'],\n"
    " ['http://127.1.2.3/', '127.1.2.3', 'DIRECT'],\n"
    " ['http://[::1]/', '::1', 'DIRECT'],\n"
    " ['http://[::1]/', '[::1]', 'DIRECT'],\n"
    " ['http://example.com/', 'example.com', 'PROXY 127.0.0.1:8080'],\n"
    " ['https://ads.example.test/', 'ads.example.test', 'PROXY 127.0.0.1:8080'],\n"
    " ['http://127.0.0.1.evil.test/', '127.0.0.1.evil.test', 'PROXY 127.0.0.1:8080'],\n"
    " ['http://10.0.0.1/', '10.0.0.1', 'PROXY 127.0.0.1:8080'],\n"
    " ['http://localhost.evil.test/', 'localhost.evil.test', 'PROXY 127.0.0.1:8080'],\n"
    "];\n"
    "var bad = 0;\n"
    "cases.forEach(function (c) { var r = FindProxyForURL(c[0], c[1]);\n"
    "  if (r !== c[2]) { console.log('FAIL ' + c[1] + ': ' + r); bad++; } });\n"
    "console.log(bad == 0 ? 'ok' : 'failed');\n"
    "process.exit(bad == 0 ? 0 : 1);\n";
  g_autofree char *node = g_find_program_in_path ("node");
  g_autofree char *pac = moat_pac_render ("127.0.0.1:8080");
  g_autofree char *script = NULL;
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_autoptr(GError) error = NULL;
  int status = 0;
  const char *argv[] = { NULL, "-e", NULL, NULL };

  if (node == NULL)
    {
      g_test_skip ("node is not installed");
      return;
    }
  script = g_strconcat (pac, harness, NULL);
  argv[0] = node;
  argv[2] = script;
  g_assert_true (g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, &out, &err,
                               &status, &error));
  g_assert_no_error (error);
  g_test_message ("%s%s", out, err);
  g_assert_cmpstr (out, ==, "ok\n");
  g_assert_true (g_spawn_check_wait_status (status, NULL));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  /* English, whatever the machine's locale; the German test sets its own. */
  g_setenv ("LANGUAGE", "C", TRUE);
  setlocale (LC_ALL, "C.UTF-8");

#define ADD(path, func) g_test_add ("/moat/block-page/" path, Fixture, NULL, \
                                    fixture_set_up, func, fixture_tear_down)
  ADD ("render/filter", test_render_filter);
  ADD ("render/categories", test_render_categories);
  ADD ("render/escapes", test_render_escapes);
  ADD ("render/long-url", test_render_long_url);
  ADD ("render/userinfo-and-ipv6", test_render_userinfo_and_ipv6);
  ADD ("render/without-forms", test_render_without_forms);
  ADD ("form/round-trip", test_form_round_trip);
#undef ADD
  g_test_add_func ("/moat/block-page/render/allowed", test_render_allowed);
  g_test_add_func ("/moat/block-page/render/german", test_german);
  g_test_add_func ("/moat/block-page/token", test_token);
  g_test_add_func ("/moat/block-page/form/good", test_form_good);
  g_test_add_func ("/moat/block-page/form/bad", test_form_bad);
  g_test_add_func ("/moat/block-page/form/limits", test_form_limits);
  g_test_add_func ("/moat/pac/render", test_pac);
  g_test_add_func ("/moat/pac/decisions", test_pac_decisions);
  return g_test_run ();
}
