/* SPDX-License-Identifier: GPL-3.0-or-later
 * Copyright 2026 The Moat developers
 *
 * The block page, the "allowed" page and the allow tokens. Every string a
 * page shows is translated once by moat_block_page_init() and kept, so the
 * proxy thread renders without gettext touching the disk. Translations use
 * "{host}"-style placeholders instead of printf formats: they are cached, and
 * a translation with a stray "%s" must not be able to crash the proxy.
 */
#define G_LOG_DOMAIN "moat-proxy"

#include "config.h"

#include "moat-block-page.h"

#include "moat-error.h"
#include "moat-host.h"

#include <glib/gi18n-lib.h>
#include <string.h>

#define MAX_RULE_SHOWN 1024
#define SHORT_URL_LENGTH 64
#define SHORT_URL_HEAD 40
#define SHORT_URL_TAIL 20
#define TOKEN_MAC_LENGTH 64 /* hex SHA-256 */
#define TOKEN_MAX_LENGTH (19 + 1 + TOKEN_MAC_LENGTH)

typedef enum {
  S_LANG,
  S_DIR,
  S_BLOCKED_TITLE,
  S_BLOCKED_HEADING,
  S_BLOCKED_LEAD,
  S_WHY_HEADING,
  S_LABEL_SITE,
  S_LABEL_ADDRESS,
  S_LABEL_CATEGORY,
  S_LABEL_LIST,
  S_LABEL_RULE,
  S_LABEL_LINE,
  S_REASON_LOCAL,
  S_REASON_PORT,
  S_REASON_LOOP,
  S_REASON_PROTECTED,
  S_REASON_POLICY,
  S_CATEGORY_OTHER,
  S_DANGER,
  S_ALLOW_HEADING,
  S_ALLOW_ONCE,
  S_ALLOW_ALWAYS,
  S_ALLOW_ONCE_HELP,
  S_ALLOW_ALWAYS_HELP,
  S_FULL_ADDRESS,
  S_FOOTER,
  S_ALLOWED_TITLE,
  S_ALLOWED_HEADING,
  S_ALLOWED_TEXT,
  S_ALLOWED_BACK,
  S_ALLOWED_NO_BACK,
  N_STRINGS
} StringId;

/* Translated once, never freed (they live as long as the process). */
static const char *strings[N_STRINGS];
static const char *category_names[MOAT_FILTER_CATEGORY_LAST];
static const char *category_reasons[MOAT_FILTER_CATEGORY_LAST];

static const char page_style[] =
  ":root{color-scheme:light dark;--bg:#f6f5f4;--card:#ffffff;--fg:#1e1e1e;--muted:#4a4a4a;"
  "--accent:#1a5fb4;--line:#1a5fb4;--border:#c0bfbc;--warn:#a51d2d;--warn-bg:#fbe9ea}"
  "@media (prefers-color-scheme:dark){:root{--bg:#1e1e1e;--card:#2b2b2b;--fg:#f6f5f4;"
  "--muted:#c8c6c3;--accent:#1a5fb4;--line:#78aeed;--border:#6e6c74;--warn:#ff9b93;--warn-bg:#3e1f23}}"
  "*{box-sizing:border-box}"
  "html{-webkit-text-size-adjust:100%;text-size-adjust:100%}"
  "body{margin:0;background:var(--bg);color:var(--fg);"
  "font:1rem/1.5 system-ui,-apple-system,Cantarell,\"Segoe UI\",Roboto,sans-serif}"
  "header,main,footer{max-width:44rem;margin:0 auto;padding:0 1rem}"
  "header{padding-top:1.5rem}"
  ".brand{display:flex;align-items:center;gap:.5rem;margin:0;font-weight:700;color:var(--muted)}"
  ".brand svg{width:1.5rem;height:1.5rem;fill:currentColor}"
  "h1{font-size:1.75rem;line-height:1.25;margin:1rem 0 .75rem;overflow-wrap:anywhere}"
  "h2{font-size:1.2rem;line-height:1.3;margin:0 0 .75rem}"
  "p{margin:0 0 .75rem}"
  ".lead{font-size:1.1rem}"
  ".card{background:var(--card);border:1px solid var(--border);border-radius:12px;"
  "padding:1rem 1.25rem;margin:1.25rem 0}"
  "dl{display:grid;grid-template-columns:max-content minmax(0,1fr);gap:.35rem 1rem;margin:0}"
  "dt{font-weight:600}"
  "dd{margin:0;min-width:0;overflow-wrap:anywhere}"
  "code{font-family:ui-monospace,\"Source Code Pro\",\"DejaVu Sans Mono\",monospace;"
  "font-size:.95em;overflow-wrap:anywhere;word-break:break-all}"
  ".warning{border-left:.3rem solid var(--warn);background:var(--warn-bg);"
  "padding:.75rem 1rem;border-radius:.4rem;margin:1.25rem 0}"
  ".warning strong{color:var(--warn)}"
  ".danger h1{color:var(--warn)}"
  ".actions{display:flex;flex-wrap:wrap;gap:.75rem;margin:1rem 0 .25rem}"
  "form{margin:0}"
  "button{font:inherit;font-weight:600;min-height:2.75rem;padding:.5rem 1.25rem;"
  "border-radius:.5rem;border:2px solid var(--line);cursor:pointer}"
  ".primary{background:var(--accent);border-color:var(--accent);color:#ffffff}"
  ".secondary{background:transparent;color:var(--fg)}"
  "button:hover{filter:brightness(1.1)}"
  "button:focus-visible,a:focus-visible,summary:focus-visible{outline:3px solid var(--fg);"
  "outline-offset:2px}"
  ".help{color:var(--muted);font-size:.95rem}"
  "details{margin:1rem 0 0}"
  ".card>:last-child{margin-bottom:0}"
  "summary{cursor:pointer;font-weight:600}"
  "a{color:inherit;text-decoration-thickness:.1em}"
  "footer{color:var(--muted);font-size:.9rem;padding-bottom:2rem}"
  "@media (max-width:32rem){h1{font-size:1.5rem}dl{grid-template-columns:minmax(0,1fr)}"
  "dt{margin-top:.35rem}.actions form,.actions button{width:100%}}";

/* A shield, drawn inline so the page loads nothing. */
static const char shield_svg[] =
  "<svg viewBox=\"0 0 16 16\" aria-hidden=\"true\" focusable=\"false\">"
  "<path d=\"M8 0.5 1.5 3v4.5c0 3.9 2.8 6.9 6.5 8 3.7-1.1 6.5-4.1 6.5-8V3Z"
  "M8 2.1l5 1.9v3.5c0 3-2.1 5.5-5 6.4Z\"/></svg>";

static void
translate_all (void)
{
  guint minutes = MOAT_PROXY_ALLOW_ONCE_S / 60;

  /* Translators: the language tag of your translation, for the web page
   * Moat shows when it blocks a site (<html lang="...">), e.g. "de" or "pt-BR". */
  strings[S_LANG] = g_strdup (C_("html lang", "en"));
  /* Translators: "rtl" if your language is written right to left, else "ltr". */
  strings[S_DIR] = g_strdup (C_("html dir", "ltr"));
  /* Translators: the title of the page shown instead of a blocked site;
   * {host} is the site's name. Keep {host} as it is. */
  strings[S_BLOCKED_TITLE] = g_strdup (_("Blocked: {host}"));
  strings[S_BLOCKED_HEADING] = g_strdup (_("Moat blocked this site"));
  /* Translators: {host} is the blocked site's name. Keep {host} as it is. */
  strings[S_BLOCKED_LEAD] = g_strdup (_("Your browser tried to open {host}, and Moat stopped it."));
  strings[S_WHY_HEADING] = g_strdup (_("Why it was blocked"));
  strings[S_LABEL_SITE] = g_strdup (_("Site"));
  strings[S_LABEL_ADDRESS] = g_strdup (_("Address"));
  strings[S_LABEL_CATEGORY] = g_strdup (_("Category"));
  strings[S_LABEL_LIST] = g_strdup (_("List"));
  strings[S_LABEL_RULE] = g_strdup (_("Rule"));
  strings[S_LABEL_LINE] = g_strdup (_("Line"));
  strings[S_REASON_LOCAL] = g_strdup (_("The site points to this computer or to its local network "
                                        "links, which web pages may not reach through Moat."));
  strings[S_REASON_PORT] = g_strdup (_("The site uses a port that Moat does not let connections "
                                       "through."));
  strings[S_REASON_LOOP] = g_strdup (_("The request was addressed to Moat itself."));
  strings[S_REASON_PROTECTED] = g_strdup (_("It is one of your organization’s protected resources, "
                                            "and this network is not safe right now. It opens "
                                            "again once the network is safe or the company VPN "
                                            "is up."));
  strings[S_REASON_POLICY] = g_strdup (_("Your organization’s threat policy cut this site off "
                                         "because of a threat Moat detected."));
  strings[S_CATEGORY_OTHER] = g_strdup (_("Moat’s safety rules"));
  strings[S_DANGER] = g_strdup (_("Sites like this one try to harm you. Only go on if you are sure "
                                  "the list is wrong about this site."));
  strings[S_ALLOW_HEADING] = g_strdup (_("Visit it anyway?"));
  strings[S_ALLOW_ONCE] = g_strdup (_("Allow once"));
  strings[S_ALLOW_ALWAYS] = g_strdup (_("Always allow"));
  /* Translators: {minutes} is a number. Keep {minutes} as it is. */
  strings[S_ALLOW_ONCE_HELP] =
    g_strdup (g_dngettext (GETTEXT_PACKAGE,
                           "“Allow once” lets this site through for {minutes} minute.",
                           "“Allow once” lets this site through for {minutes} minutes.",
                           minutes));
  strings[S_ALLOW_ALWAYS_HELP] = g_strdup (_("“Always allow” adds it to your allow-list, which you can "
                                             "change in Moat under Lists."));
  strings[S_FULL_ADDRESS] = g_strdup (_("Full address"));
  strings[S_FOOTER] = g_strdup (_("Moat protects this computer from dangerous and unwanted sites. "
                                  "You can choose which lists it uses in the Moat app."));
  /* Translators: the title of the page shown after the user allowed a site;
   * {host} is the site's name. Keep {host} as it is. */
  strings[S_ALLOWED_TITLE] = g_strdup (_("Allowed: {host}"));
  /* Translators: {host} is a site's name. Keep {host} as it is. */
  strings[S_ALLOWED_HEADING] = g_strdup (_("{host} is allowed"));
  strings[S_ALLOWED_TEXT] = g_strdup (_("Moat lets this site through now."));
  strings[S_ALLOWED_BACK] = g_strdup (_("Go back to the page"));
  strings[S_ALLOWED_NO_BACK] = g_strdup (_("Open the page again to see it."));

  /* Translators: a category of blocked sites, shown on the block page. */
  category_names[MOAT_FILTER_CATEGORY_ADS] = g_strdup (C_("category", "Advertising"));
  category_names[MOAT_FILTER_CATEGORY_TRACKERS] = g_strdup (C_("category", "Tracking"));
  category_names[MOAT_FILTER_CATEGORY_MALWARE] = g_strdup (C_("category", "Malware"));
  category_names[MOAT_FILTER_CATEGORY_PHISHING] = g_strdup (C_("category", "Phishing"));
  category_names[MOAT_FILTER_CATEGORY_SCAM] = g_strdup (C_("category", "Scam"));
  category_names[MOAT_FILTER_CATEGORY_C2] = g_strdup (C_("category", "Command and control"));
  category_names[MOAT_FILTER_CATEGORY_ADULT] = g_strdup (C_("category", "Adult"));
  category_names[MOAT_FILTER_CATEGORY_GAMBLING] = g_strdup (C_("category", "Gambling"));
  category_names[MOAT_FILTER_CATEGORY_CUSTOM] = g_strdup (C_("category", "Your block-list"));

  category_reasons[MOAT_FILTER_CATEGORY_ADS] = g_strdup (_("It is listed as a source of advertising."));
  category_reasons[MOAT_FILTER_CATEGORY_TRACKERS] = g_strdup (_("It is listed as following what you do "
                                                                "online."));
  category_reasons[MOAT_FILTER_CATEGORY_MALWARE] = g_strdup (_("It is listed as spreading malware, "
                                                               "which could harm this computer."));
  category_reasons[MOAT_FILTER_CATEGORY_PHISHING] = g_strdup (_("It is listed as a phishing site that "
                                                                "imitates another site to steal "
                                                                "passwords or payment details."));
  category_reasons[MOAT_FILTER_CATEGORY_SCAM] = g_strdup (_("It is listed as a scam."));
  category_reasons[MOAT_FILTER_CATEGORY_C2] = g_strdup (_("It is listed as a server that malware "
                                                          "takes orders from."));
  category_reasons[MOAT_FILTER_CATEGORY_ADULT] = g_strdup (_("It is listed as an adult site."));
  category_reasons[MOAT_FILTER_CATEGORY_GAMBLING] = g_strdup (_("It is listed as a gambling site."));
  category_reasons[MOAT_FILTER_CATEGORY_CUSTOM] = g_strdup (_("It is on a block-list you chose."));
}

static gboolean
category_is_dangerous (MoatFilterCategory category)
{
  switch (category)
    {
    case MOAT_FILTER_CATEGORY_MALWARE:
    case MOAT_FILTER_CATEGORY_PHISHING:
    case MOAT_FILTER_CATEGORY_SCAM:
    case MOAT_FILTER_CATEGORY_C2:
      return TRUE;
    case MOAT_FILTER_CATEGORY_ADS:
    case MOAT_FILTER_CATEGORY_TRACKERS:
    case MOAT_FILTER_CATEGORY_ADULT:
    case MOAT_FILTER_CATEGORY_GAMBLING:
    case MOAT_FILTER_CATEGORY_CUSTOM:
    case MOAT_FILTER_CATEGORY_LAST:
    default:
      return FALSE;
    }
}

/* Appends @len bytes of @text (any bytes) HTML-escaped. Invalid UTF-8 and
 * control characters (C0, DEL, C1) become U+FFFD, and so do the bidi controls
 * that could make a rule or a list name display as something else. */
static void
append_escaped_len (GString    *out,
                    const char *text,
                    gssize      len)
{
  g_autofree char *valid = NULL;
  const char *p;

  if (text == NULL)
    return;
  valid = g_utf8_make_valid (text, len);
  for (p = valid; *p != '\0'; p = g_utf8_next_char (p))
    {
      gunichar c = g_utf8_get_char (p);

      switch (c)
        {
        case '&':
          g_string_append (out, "&amp;");
          break;
        case '<':
          g_string_append (out, "&lt;");
          break;
        case '>':
          g_string_append (out, "&gt;");
          break;
        case '"':
          g_string_append (out, "&quot;");
          break;
        case '\'':
          g_string_append (out, "&#39;");
          break;
        default:
          if (c < 0x20 || (c >= 0x7f && c <= 0x9f) ||
              (c >= 0x202a && c <= 0x202e) || (c >= 0x2066 && c <= 0x2069))
            g_string_append_unichar (out, 0xfffd);
          else
            g_string_append_len (out, p, g_utf8_next_char (p) - p);
          break;
        }
    }
}

static void
append_escaped (GString    *out,
                const char *text)
{
  append_escaped_len (out, text, -1);
}

/* A host name in running text may wrap after its dots rather than anywhere
 * (a narrow screen and a long name). */
static void
append_host_breakable (GString    *out,
                       const char *host)
{
  g_autoptr(GString) escaped = g_string_new (NULL);

  append_escaped (escaped, host);
  g_string_replace (escaped, ".", ".<wbr>", 0);
  g_string_append_len (out, escaped->str, escaped->len);
}

/* Appends the translated @tmpl escaped, with each "{key}" of @keys replaced by
 * the matching ready-made HTML in @values (NULL-terminated pairs). */
static void
append_template (GString           *out,
                 const char        *tmpl,
                 const char * const *keys,
                 const char * const *values)
{
  const char *p = tmpl;

  while (*p != '\0')
    {
      const char *brace = strchr (p, '{');
      gboolean replaced = FALSE;

      if (brace == NULL)
        {
          append_escaped (out, p);
          return;
        }
      append_escaped_len (out, p, brace - p);
      for (guint i = 0; keys != NULL && keys[i] != NULL; i++)
        {
          gsize key_len = strlen (keys[i]);

          if (strncmp (brace + 1, keys[i], key_len) == 0 && brace[1 + key_len] == '}')
            {
              g_string_append (out, values[i]);
              p = brace + key_len + 2;
              replaced = TRUE;
              break;
            }
        }
      if (!replaced)
        {
          g_string_append_c (out, '{');
          p = brace + 1;
        }
    }
}

static void
append_template1 (GString    *out,
                  const char *tmpl,
                  const char *key,
                  const char *value_html)
{
  const char *keys[] = { key, NULL };
  const char *values[] = { value_html, NULL };

  append_template (out, tmpl, keys, values);
}

/* A URL as it may go into a link or a form: bytes a browser would
 * percent-encode (controls, space, non-ASCII, quotes and angle brackets) are
 * percent-encoded, so the result is printable ASCII. */
static char *
sanitize_url (const char *url)
{
  GString *out = g_string_sized_new (strlen (url) + 16);

  for (const guchar *p = (const guchar *) url; *p != '\0'; p++)
    {
      if (*p <= 0x20 || *p >= 0x7f || *p == '"' || *p == '<' || *p == '>' ||
          *p == '\\' || *p == '`' || *p == '\'')
        g_string_append_printf (out, "%%%02X", *p);
      else
        g_string_append_c (out, (char) *p);
    }
  return g_string_free (out, FALSE);
}

static gboolean
has_http_scheme (const char *url)
{
  return g_ascii_strncasecmp (url, "http://", 7) == 0;
}

/* Whether @url is an http:// URL of printable ASCII, without userinfo, whose
 * host normalises to @host (when @host is not NULL). */
static gboolean
check_return_url (const char  *url,
                  const char  *host,
                  GError     **error)
{
  g_autofree char *authority = NULL;
  g_autofree char *raw_host = NULL;
  g_autofree char *canonical = NULL;
  gsize len = strlen (url);
  gsize authority_len;

  if (len > MOAT_BLOCK_PAGE_MAX_URL_LENGTH)
    {
      g_set_error (error, MOAT_ERROR, MOAT_ERROR_INVALID_ARGUMENT, "Return URL is too long");
      return FALSE;
    }
  if (!has_http_scheme (url))
    {
      g_set_error (error, MOAT_ERROR, MOAT_ERROR_INVALID_ARGUMENT,
                   "Return URL is not an http:// URL");
      return FALSE;
    }
  for (gsize i = 0; i < len; i++)
    if ((guchar) url[i] <= 0x20 || (guchar) url[i] >= 0x7f)
      {
        g_set_error (error, MOAT_ERROR, MOAT_ERROR_INVALID_ARGUMENT,
                     "Return URL contains a space, a control character or non-ASCII");
        return FALSE;
      }
  authority_len = strcspn (url + 7, "/?#");
  authority = g_strndup (url + 7, authority_len);
  if (strchr (authority, '@') != NULL)
    {
      g_set_error (error, MOAT_ERROR, MOAT_ERROR_INVALID_ARGUMENT,
                   "Return URL contains userinfo");
      return FALSE;
    }
  if (!moat_host_split_authority (authority, &raw_host, NULL, error))
    {
      g_prefix_error (error, "Return URL: ");
      return FALSE;
    }
  canonical = moat_host_normalize (raw_host, -1, NULL, error);
  if (canonical == NULL)
    {
      g_prefix_error (error, "Return URL: ");
      return FALSE;
    }
  if (host != NULL && strcmp (canonical, host) != 0)
    {
      g_set_error (error, MOAT_ERROR, MOAT_ERROR_INVALID_ARGUMENT,
                   "Return URL is for another host than the one allowed");
      return FALSE;
    }
  return TRUE;
}

/* "http://HOST[:PORT]/", with brackets around an IPv6 address. */
static char *
root_url (const char *host,
          guint16     port)
{
  gboolean ipv6 = strchr (host, ':') != NULL;
  g_autofree char *port_part = NULL;

  if (port != 0 && port != 80)
    port_part = g_strdup_printf (":%u", port);
  return g_strconcat ("http://", ipv6 ? "[" : "", host, ipv6 ? "]" : "",
                      port_part != NULL ? port_part : "", "/", NULL);
}

/* For reading, not for following: "http://" dropped, a long query or
 * fragment cut to "?…", a long path cut in the middle. @url is ASCII. */
static char *
shorten_url (const char *url)
{
  const char *rest = has_http_scheme (url) ? url + 7 : url;
  gsize len = strlen (rest);
  gsize base_len = strcspn (rest, "?#");
  const char *cut = base_len < len ? (rest[base_len] == '?' ? "?…" : "#…") : "";

  if (len <= SHORT_URL_LENGTH)
    return g_strdup (rest);
  if (base_len <= SHORT_URL_LENGTH)
    return g_strdup_printf ("%.*s%s", (int) base_len, rest, cut);
  return g_strdup_printf ("%.*s…%.*s%s", SHORT_URL_HEAD, rest, SHORT_URL_TAIL,
                          rest + base_len - SHORT_URL_TAIL, cut);
}

/* The proxy's origin goes into the CSP and the forms' action: it must be
 * "http://" plus host characters and a port, nothing that could end a
 * directive or an attribute. */
static gboolean
origin_is_valid (const char *origin)
{
  if (origin == NULL || strncmp (origin, "http://", 7) != 0 || origin[7] == '\0')
    return FALSE;
  for (const char *p = origin + 7; *p != '\0'; p++)
    if (!g_ascii_isalnum (*p) && strchr (".-:[]", *p) == NULL)
      return FALSE;
  return TRUE;
}

static void
append_head (GString    *out,
             const char *title_tmpl,
             const char *host,
             const char *form_action)
{
  g_autoptr(GString) host_html = g_string_new (NULL);

  append_escaped (host_html, host);
  g_string_append (out, "<!DOCTYPE html>\n<html lang=\"");
  append_escaped (out, strings[S_LANG]);
  g_string_append (out, "\" dir=\"");
  g_string_append (out, g_strcmp0 (strings[S_DIR], "rtl") == 0 ? "rtl" : "ltr");
  g_string_append (out,
                   "\">\n<head>\n<meta charset=\"utf-8\">\n"
                   "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
                   "style-src 'unsafe-inline'; base-uri 'none'; form-action ");
  g_string_append (out, form_action != NULL ? form_action : "'none'");
  g_string_append (out,
                   "\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
                   "<meta name=\"color-scheme\" content=\"light dark\">\n"
                   "<meta name=\"referrer\" content=\"no-referrer\">\n"
                   "<meta name=\"robots\" content=\"noindex, nofollow\">\n<title>");
  append_template1 (out, title_tmpl, "host", host_html->str);
  g_string_append (out, " – Moat</title>\n<style>");
  g_string_append (out, page_style);
  g_string_append (out, "</style>\n</head>\n");
}

static void
append_banner (GString *out)
{
  g_string_append (out, "<header>\n<p class=\"brand\">");
  g_string_append (out, shield_svg);
  g_string_append (out, "<span>Moat</span></p>\n</header>\n");
}

static void
append_row (GString    *out,
            const char *label,
            const char *value,
            gboolean    code)
{
  g_string_append (out, "<dt>");
  append_escaped (out, label);
  g_string_append (out, "</dt><dd>");
  if (code)
    g_string_append (out, "<code translate=\"no\">");
  append_escaped (out, value);
  if (code)
    g_string_append (out, "</code>");
  g_string_append (out, "</dd>\n");
}

static void
append_allow_form (GString    *out,
                   const char *action,
                   const char *host,
                   const char *token,
                   const char *mode,
                   const char *return_url,
                   const char *label,
                   const char *css_class,
                   const char *help_id)
{
  g_string_append (out, "<form method=\"post\" action=\"");
  append_escaped (out, action);
  g_string_append (out, "\">\n<input type=\"hidden\" name=\"host\" value=\"");
  append_escaped (out, host);
  g_string_append (out, "\">\n<input type=\"hidden\" name=\"token\" value=\"");
  append_escaped (out, token);
  g_string_append (out, "\">\n<input type=\"hidden\" name=\"mode\" value=\"");
  g_string_append (out, mode);
  g_string_append (out, "\">\n<input type=\"hidden\" name=\"return\" value=\"");
  append_escaped (out, return_url);
  g_string_append_printf (out, "\">\n<button type=\"submit\" class=\"%s\" aria-describedby=\"%s\">",
                          css_class, help_id);
  append_escaped (out, label);
  g_string_append (out, "</button>\n</form>\n");
}

static void
init_once (void)
{
  static gsize done = 0;

  if (g_once_init_enter (&done))
    {
      translate_all ();
      g_once_init_leave (&done, 1);
    }
}

void
moat_block_page_init (void)
{
  init_once ();
}

const char *
moat_block_page_get_language (void)
{
  init_once ();
  return strings[S_LANG];
}

/**
 * moat_block_page_render:
 * @block: what was blocked
 * @proxy_origin: "http://127.0.0.1:PORT", where the forms post to
 * @allow_token: (nullable): a token for @block->host, or NULL for no forms
 *
 * Returns: (transfer full): the page, UTF-8 HTML
 */
GBytes *
moat_block_page_render (const MoatProxyBlock *block,
                        const char           *proxy_origin,
                        const char           *allow_token)
{
  g_autoptr(GString) out = g_string_sized_new (8192);
  g_autoptr(GString) host_html = g_string_new (NULL);
  g_autofree char *action = NULL;
  g_autofree char *safe_url = NULL;
  g_autofree char *return_url = NULL;
  g_autofree char *short_url = NULL;
  const char *host;
  gboolean filter;
  gboolean danger;
  gboolean offer;

  g_return_val_if_fail (block != NULL, NULL);

  init_once ();
  host = block->host != NULL ? block->host : "";
  filter = block->reason == MOAT_PROXY_BLOCK_FILTER &&
           (guint) block->category < MOAT_FILTER_CATEGORY_LAST;
  danger = filter && category_is_dangerous (block->category);
  offer = filter && allow_token != NULL && *host != '\0' && origin_is_valid (proxy_origin);
  if (offer)
    action = g_strconcat (proxy_origin, MOAT_BLOCK_PAGE_ALLOW_PATH, NULL);

  if (block->url != NULL)
    {
      safe_url = sanitize_url (block->url);
      short_url = shorten_url (safe_url);
    }
  if (safe_url != NULL && check_return_url (safe_url, host, NULL))
    return_url = g_strdup (safe_url);
  else
    return_url = root_url (host, block->port);

  append_host_breakable (host_html, host);
  g_string_prepend (host_html, "<strong translate=\"no\">");
  g_string_append (host_html, "</strong>");

  append_head (out, strings[S_BLOCKED_TITLE], host, offer ? proxy_origin : NULL);
  g_string_append (out, danger ? "<body class=\"danger\">\n" : "<body>\n");
  append_banner (out);
  g_string_append (out, "<main>\n<h1>");
  append_escaped (out, strings[S_BLOCKED_HEADING]);
  g_string_append (out, "</h1>\n<p class=\"lead\">");
  append_template1 (out, strings[S_BLOCKED_LEAD], "host", host_html->str);
  g_string_append (out, " ");
  switch (block->reason)
    {
    case MOAT_PROXY_BLOCK_FILTER:
      append_escaped (out, filter ? category_reasons[block->category] : strings[S_CATEGORY_OTHER]);
      break;
    case MOAT_PROXY_BLOCK_LOCAL:
      append_escaped (out, strings[S_REASON_LOCAL]);
      break;
    case MOAT_PROXY_BLOCK_PORT:
      append_escaped (out, strings[S_REASON_PORT]);
      break;
    case MOAT_PROXY_BLOCK_LOOP:
      append_escaped (out, strings[S_REASON_LOOP]);
      break;
    case MOAT_PROXY_BLOCK_PROTECTED:
      append_escaped (out, strings[S_REASON_PROTECTED]);
      break;
    case MOAT_PROXY_BLOCK_POLICY:
      append_escaped (out, strings[S_REASON_POLICY]);
      break;
    default:
      append_escaped (out, strings[S_CATEGORY_OTHER]);
      break;
    }
  g_string_append (out, "</p>\n");

  if (danger)
    {
      g_string_append (out, "<p class=\"warning\" role=\"note\"><strong>");
      append_escaped (out, strings[S_DANGER]);
      g_string_append (out, "</strong></p>\n");
    }

  g_string_append (out, "<section class=\"card\" aria-labelledby=\"why\">\n<h2 id=\"why\">");
  append_escaped (out, strings[S_WHY_HEADING]);
  g_string_append (out, "</h2>\n<dl>\n");
  append_row (out, strings[S_LABEL_SITE], host, TRUE);
  if (short_url != NULL)
    append_row (out, strings[S_LABEL_ADDRESS], short_url, TRUE);
  append_row (out, strings[S_LABEL_CATEGORY],
              filter ? category_names[block->category] : strings[S_CATEGORY_OTHER], FALSE);
  if (filter && block->list_name != NULL)
    append_row (out, strings[S_LABEL_LIST], block->list_name, FALSE);
  if (filter && block->rule != NULL)
    {
      g_autoptr(GString) rule = g_string_new (NULL);
      gsize rule_len = strlen (block->rule);

      /* Cut on a character boundary; append_escaped_len repairs the rest. */
      g_string_append_len (rule, block->rule, MIN (rule_len, MAX_RULE_SHOWN));
      if (rule_len > MAX_RULE_SHOWN)
        g_string_append (rule, "…");
      append_row (out, strings[S_LABEL_RULE], rule->str, TRUE);
    }
  if (filter && block->line > 0)
    {
      char line[16];

      g_snprintf (line, sizeof line, "%u", block->line);
      append_row (out, strings[S_LABEL_LINE], line, FALSE);
    }
  g_string_append (out, "</dl>\n");
  if (safe_url != NULL && strcmp (short_url, safe_url + 7) != 0)
    {
      g_string_append (out, "<details>\n<summary>");
      append_escaped (out, strings[S_FULL_ADDRESS]);
      g_string_append (out, "</summary>\n<p><code translate=\"no\">");
      append_escaped (out, safe_url);
      g_string_append (out, "</code></p>\n</details>\n");
    }
  g_string_append (out, "</section>\n");

  if (offer)
    {
      char minutes[16];

      g_snprintf (minutes, sizeof minutes, "%u", MOAT_PROXY_ALLOW_ONCE_S / 60);
      g_string_append (out, "<section class=\"card\" aria-labelledby=\"allow\">\n<h2 id=\"allow\">");
      append_escaped (out, strings[S_ALLOW_HEADING]);
      g_string_append (out, "</h2>\n<p class=\"help\" id=\"allow-once-help\">");
      append_template1 (out, strings[S_ALLOW_ONCE_HELP], "minutes", minutes);
      g_string_append (out, "</p>\n<p class=\"help\" id=\"allow-always-help\">");
      append_escaped (out, strings[S_ALLOW_ALWAYS_HELP]);
      g_string_append (out, "</p>\n<div class=\"actions\">\n");
      append_allow_form (out, action, host, allow_token, "once", return_url,
                         strings[S_ALLOW_ONCE], danger ? "secondary" : "primary",
                         "allow-once-help");
      append_allow_form (out, action, host, allow_token, "always", return_url,
                         strings[S_ALLOW_ALWAYS], "secondary", "allow-always-help");
      g_string_append (out, "</div>\n</section>\n");
    }
  g_string_append (out, "</main>\n<footer>\n<p>");
  append_escaped (out, strings[S_FOOTER]);
  g_string_append (out, "</p>\n</footer>\n</body>\n</html>\n");

  return g_string_free_to_bytes (g_steal_pointer (&out));
}

/**
 * moat_block_page_render_allowed:
 * @host: the host that is now allowed
 * @return_url: (nullable): where the user came from
 *
 * Returns: (transfer full): the page, UTF-8 HTML
 */
GBytes *
moat_block_page_render_allowed (const char *host,
                                const char *return_url)
{
  g_autoptr(GString) out = g_string_sized_new (4096);
  g_autoptr(GString) host_html = g_string_new (NULL);
  g_autofree char *safe_url = NULL;

  g_return_val_if_fail (host != NULL, NULL);

  init_once ();
  if (return_url != NULL && has_http_scheme (return_url))
    safe_url = sanitize_url (return_url);

  append_host_breakable (host_html, host);
  g_string_prepend (host_html, "<span translate=\"no\">");
  g_string_append (host_html, "</span>");

  append_head (out, strings[S_ALLOWED_TITLE], host, NULL);
  g_string_append (out, "<body>\n");
  append_banner (out);
  g_string_append (out, "<main>\n<h1>");
  append_template1 (out, strings[S_ALLOWED_HEADING], "host", host_html->str);
  g_string_append (out, "</h1>\n<p class=\"lead\">");
  append_escaped (out, strings[S_ALLOWED_TEXT]);
  g_string_append (out, "</p>\n<p class=\"lead\">");
  if (safe_url != NULL)
    {
      g_string_append (out, "<a href=\"");
      append_escaped (out, safe_url);
      g_string_append (out, "\">");
      append_escaped (out, strings[S_ALLOWED_BACK]);
      g_string_append (out, "</a>");
    }
  else
    append_escaped (out, strings[S_ALLOWED_NO_BACK]);
  g_string_append (out, "</p>\n</main>\n</body>\n</html>\n");

  return g_string_free_to_bytes (g_steal_pointer (&out));
}

static char *
compute_mac (const guint8 *secret,
             gsize         secret_len,
             const char   *host,
             const char   *expiry,
             gsize         expiry_len)
{
  g_autoptr(GHmac) hmac = g_hmac_new (G_CHECKSUM_SHA256, secret, secret_len);

  g_hmac_update (hmac, (const guchar *) host, (gssize) strlen (host));
  g_hmac_update (hmac, (const guchar *) "|", 1);
  g_hmac_update (hmac, (const guchar *) expiry, (gssize) expiry_len);
  return g_strdup (g_hmac_get_string (hmac));
}

/**
 * moat_block_page_make_token:
 *
 * Returns: (transfer full): "EXPIRY.HEXMAC"
 */
char *
moat_block_page_make_token (const guint8 *secret,
                            gsize         secret_len,
                            const char   *host,
                            gint64        expiry_unix)
{
  char expiry[24];
  g_autofree char *mac = NULL;

  g_return_val_if_fail (secret != NULL && secret_len >= MOAT_BLOCK_PAGE_MIN_SECRET_SIZE, NULL);
  g_return_val_if_fail (host != NULL, NULL);
  g_return_val_if_fail (expiry_unix >= 0, NULL);

  g_snprintf (expiry, sizeof expiry, "%" G_GINT64_FORMAT, expiry_unix);
  mac = compute_mac (secret, secret_len, host, expiry, strlen (expiry));
  return g_strconcat (expiry, ".", mac, NULL);
}

gboolean
moat_block_page_check_token (const guint8 *secret,
                             gsize         secret_len,
                             const char   *host,
                             const char   *token,
                             gint64        now_unix)
{
  g_autofree char *expected = NULL;
  const char *dot;
  const char *mac;
  gsize expiry_len;
  guint64 expiry = 0;
  guint diff = 0;

  g_return_val_if_fail (secret != NULL && secret_len >= MOAT_BLOCK_PAGE_MIN_SECRET_SIZE, FALSE);

  if (host == NULL || token == NULL || strnlen (token, TOKEN_MAX_LENGTH + 1) > TOKEN_MAX_LENGTH)
    return FALSE;
  dot = strchr (token, '.');
  if (dot == NULL || dot == token)
    return FALSE;
  expiry_len = (gsize) (dot - token);
  if (expiry_len > 19 || (expiry_len > 1 && token[0] == '0'))
    return FALSE;
  for (gsize i = 0; i < expiry_len; i++)
    {
      if (!g_ascii_isdigit (token[i]))
        return FALSE;
      expiry = expiry * 10 + (guint64) (token[i] - '0');
    }
  if (expiry > G_MAXINT64 || now_unix < 0 || (guint64) now_unix > expiry)
    return FALSE;
  mac = dot + 1;
  if (strlen (mac) != TOKEN_MAC_LENGTH)
    return FALSE;

  expected = compute_mac (secret, secret_len, host, token, expiry_len);
  for (gsize i = 0; i < TOKEN_MAC_LENGTH; i++)
    diff |= (guchar) expected[i] ^ (guchar) mac[i];
  return diff == 0;
}

static int
hex_value (char c)
{
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

static gboolean
form_fail (GError    **error,
           const char *message)
{
  g_set_error (error, MOAT_ERROR, MOAT_ERROR_INVALID_ARGUMENT, "Allow form: %s", message);
  return FALSE;
}

/* Percent-decodes one value ('+' is a space). Refuses bad escapes, decoded
 * control characters and invalid UTF-8. */
static char *
decode_value (const char  *value,
              gsize        len,
              GError     **error)
{
  g_autoptr(GString) out = g_string_sized_new (len);

  for (gsize i = 0; i < len; i++)
    {
      guchar c = (guchar) value[i];

      if (c == '+')
        c = ' ';
      else if (c == '%')
        {
          int hi, lo;

          if (i + 2 >= len)
            {
              form_fail (error, "truncated percent escape");
              return NULL;
            }
          hi = hex_value (value[i + 1]);
          lo = hex_value (value[i + 2]);
          if (hi < 0 || lo < 0)
            {
              form_fail (error, "bad percent escape");
              return NULL;
            }
          c = (guchar) (hi << 4 | lo);
          i += 2;
        }
      if (c < 0x20 || c == 0x7f)
        {
          form_fail (error, "control character in a value");
          return NULL;
        }
      g_string_append_c (out, (char) c);
    }
  if (!g_utf8_validate_len (out->str, out->len, NULL))
    {
      form_fail (error, "value is not UTF-8");
      return NULL;
    }
  return g_string_free (g_steal_pointer (&out), FALSE);
}

static gboolean
token_has_shape (const char *token)
{
  gsize len = strlen (token);
  const char *dot = strchr (token, '.');
  gsize expiry_len;

  if (len > TOKEN_MAX_LENGTH || dot == NULL || dot == token)
    return FALSE;
  expiry_len = (gsize) (dot - token);
  if (expiry_len > 19 || len - expiry_len - 1 != TOKEN_MAC_LENGTH)
    return FALSE;
  for (gsize i = 0; i < expiry_len; i++)
    if (!g_ascii_isdigit (token[i]))
      return FALSE;
  for (const char *p = dot + 1; *p != '\0'; p++)
    if (!g_ascii_isdigit (*p) && !(*p >= 'a' && *p <= 'f'))
      return FALSE;
  return TRUE;
}

typedef enum {
  FIELD_HOST,
  FIELD_MODE,
  FIELD_RETURN,
  FIELD_TOKEN,
  N_FIELDS
} FieldId;

typedef struct {
  char *values[N_FIELDS];
} FormFields;

static gboolean
parse_fields (const char  *body,
              gsize        len,
              FormFields  *fields,
              GError     **error)
{
  static const char * const names[N_FIELDS] = { "host", "mode", "return", "token" };
  gsize pos = 0;

  if (body == NULL || len == 0)
    return form_fail (error, "empty body");
  if (len > MOAT_BLOCK_PAGE_MAX_FORM_SIZE)
    return form_fail (error, "body too large");
  for (gsize i = 0; i < len; i++)
    if ((guchar) body[i] <= 0x20 || (guchar) body[i] >= 0x7f)
      return form_fail (error, "body is not URL-encoded text");

  while (pos <= len)
    {
      const char *pair = body + pos;
      const char *end = memchr (pair, '&', len - pos);
      gsize pair_len = end != NULL ? (gsize) (end - pair) : len - pos;
      const char *eq = memchr (pair, '=', pair_len);
      gsize name_len;
      guint i;

      if (pair_len == 0)
        return form_fail (error, "empty field");
      if (eq == NULL)
        return form_fail (error, "field without a value");
      name_len = (gsize) (eq - pair);
      for (i = 0; i < N_FIELDS; i++)
        if (strlen (names[i]) == name_len && memcmp (names[i], pair, name_len) == 0)
          break;
      if (i == N_FIELDS)
        return form_fail (error, "unknown field");
      if (fields->values[i] != NULL)
        return form_fail (error, "duplicate field");
      fields->values[i] = decode_value (eq + 1, pair_len - name_len - 1, error);
      if (fields->values[i] == NULL)
        return FALSE;
      pos += pair_len + 1;
    }

  for (guint i = 0; i < N_FIELDS; i++)
    if (fields->values[i] == NULL || fields->values[i][0] == '\0')
      return form_fail (error, "a field is missing or empty");
  return TRUE;
}

/**
 * moat_block_page_parse_allow_form:
 * @body: the request body, not NUL-terminated
 * @len: its length
 * @host: (out): the canonical host
 * @mode: (out): "once" or "always"
 * @return_url: (out): the http:// URL to go back to
 * @token: (out): the token, shape checked only
 * @error: a #MOAT_ERROR_INVALID_ARGUMENT on refusal
 *
 * Returns: %TRUE and every out value set, or %FALSE and none set
 */
gboolean
moat_block_page_parse_allow_form (const char  *body,
                                  gsize        len,
                                  char       **host,
                                  char       **mode,
                                  char       **return_url,
                                  char       **token,
                                  GError     **error)
{
  FormFields fields = { { NULL, } };
  g_autoptr(GError) local_error = NULL;
  g_autofree char *canonical = NULL;
  gboolean ok = FALSE;

  g_return_val_if_fail (host != NULL && mode != NULL && return_url != NULL && token != NULL,
                        FALSE);

  if (!parse_fields (body, len, &fields, error))
    goto out;

  canonical = moat_host_normalize (fields.values[FIELD_HOST], -1, NULL, &local_error);
  if (canonical == NULL || strcmp (canonical, fields.values[FIELD_HOST]) != 0)
    {
      form_fail (error, "host is not a canonical host name");
      goto out;
    }
  if (strcmp (fields.values[FIELD_MODE], "once") != 0 &&
      strcmp (fields.values[FIELD_MODE], "always") != 0)
    {
      form_fail (error, "mode is neither “once” nor “always”");
      goto out;
    }
  if (!check_return_url (fields.values[FIELD_RETURN], fields.values[FIELD_HOST], &local_error))
    {
      form_fail (error, local_error->message);
      goto out;
    }
  if (!token_has_shape (fields.values[FIELD_TOKEN]))
    {
      form_fail (error, "malformed token");
      goto out;
    }

  *host = g_steal_pointer (&fields.values[FIELD_HOST]);
  *mode = g_steal_pointer (&fields.values[FIELD_MODE]);
  *return_url = g_steal_pointer (&fields.values[FIELD_RETURN]);
  *token = g_steal_pointer (&fields.values[FIELD_TOKEN]);
  ok = TRUE;

out:
  for (guint i = 0; i < N_FIELDS; i++)
    g_free (fields.values[i]);
  return ok;
}
