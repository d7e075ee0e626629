/* SPDX-License-Identifier: GPL-3.0-or-later
 * Copyright 2026 The Moat developers
 *
 * Host normalisation: the one place that turns whatever a client, a list or a
 * user typed as a host into the canonical form every match, every event and
 * every connection uses. Two spellings of one host must never match
 * differently, so the rules follow what browsers do (the WHATWG URL Standard's
 * host parser), stricter where a proxy can afford it:
 *
 * - userinfo is stripped up to the LAST '@' ("allowed@blocked" is "blocked");
 * - reg-names are percent-decoded once (RFC 3986); %00, broken escapes and
 *   decoded bytes outside letters, digits, '-' and '_' are refused, so
 *   "%2e", "%2f", "%40" and "%25" cannot smuggle separators in;
 * - names are lower-cased, one trailing dot is dropped, empty labels refused;
 * - labels with non-ASCII characters (and "xn--" labels, to validate them) go
 *   through libidn2's UTS #46 processing, non-transitional first (so "faß.de"
 *   is "xn--fa-hia.de" as in current browsers); when that refuses a label we
 *   retry transitionally, as browsers do for compatibility (emoji domains).
 *   Pure ASCII labels never go through libidn2, so "r3---sn-x" and "_dmarc"
 *   stay valid (WHATWG's CheckHyphens=false). The ideographic and fullwidth
 *   full stops separate labels like '.';
 * - a name whose last label is a number is an IPv4 address in any form
 *   inet_aton() takes (2130706433, 0177.0.0.1, 0x7f.1, 127.1), parsed with
 *   the WHATWG IPv4 parser and written as a dotted quad, or refused
 *   (256.1.1.1, 1.2.3.4.5, example.123);
 * - IPv6 literals, in brackets or (for idempotence) bare, are parsed with
 *   inet_pton() and written back with inet_ntop() (RFC 5952, lower case),
 *   without brackets. Zone ids are refused;
 * - names are at most 253 bytes with labels of at most 63.
 *
 * All functions here are pure and thread-safe: the proxy thread and the
 * matcher call them concurrently. Error messages are English (they land in
 * logs and in the proxy's reason header), like the rest of src/common.
 */
#define G_LOG_DOMAIN "moat-common"

#include "config.h"

#include "moat-host.h"

#include "moat-error.h"

#include <arpa/inet.h>
#include <idn2.h>
#include <libpsl.h>
#include <string.h>

/* Large enough for the A-label form of the longest input we accept. */
#define BUILD_BUFFER_SIZE (MOAT_HOST_MAX_INPUT_LENGTH * 4)
#define MAX_LABEL_LENGTH 63

static gboolean
fail (GError   **error,
      const char *format,
      ...) G_GNUC_PRINTF (2, 3);

static gboolean
fail (GError   **error,
      const char *format,
      ...)
{
  va_list args;

  if (error == NULL)
    return FALSE;
  va_start (args, format);
  *error = g_error_new_valist (MOAT_ERROR, MOAT_ERROR_INVALID_ARGUMENT, format, args);
  va_end (args);
  return FALSE;
}

static const char *
describe_byte (guchar c,
               char   buf[16])
{
  if (c > 0x20 && c < 0x7f)
    g_snprintf (buf, 16, "'%c'", c);
  else
    g_snprintf (buf, 16, "byte 0x%02x", c);
  return buf;
}

static int
hex_value (guchar c)
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
is_name_char (guchar c)
{
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
}

/* The WHATWG "IPv4 number parser": decimal, 0x-hex (also "0x" alone, = 0) or
 * 0-octal. Values above 2^32 - 1 saturate at 2^32: they still count as
 * numbers ("0x100000000" is a bad address, not a name), and the caller
 * refuses them. */
static gboolean
parse_ipv4_number (const char *s,
                   gsize       n,
                   guint64    *out)
{
  guint radix = 10;
  guint64 value = 0;

  if (n == 0)
    return FALSE;
  if (n >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
    {
      radix = 16;
      s += 2;
      n -= 2;
    }
  else if (n >= 2 && s[0] == '0')
    {
      radix = 8;
      s += 1;
      n -= 1;
    }
  for (gsize i = 0; i < n; i++)
    {
      int d = hex_value ((guchar) s[i]);

      if (d < 0 || (guint) d >= radix)
        return FALSE;
      value = MIN (value * radix + (guint) d, (guint64) G_MAXUINT32 + 1);
    }
  *out = value;
  return TRUE;
}

/* WHATWG "ends in a number": the last label is all digits or a valid IPv4 number. */
static gboolean
ends_in_number (const char *name,
                gsize       n)
{
  gsize start = n;
  gboolean all_digits = TRUE;
  guint64 ignored;

  while (start > 0 && name[start - 1] != '.')
    start--;
  if (start == n)
    return FALSE;
  for (gsize i = start; i < n; i++)
    if (!g_ascii_isdigit (name[i]))
      all_digits = FALSE;
  if (all_digits)
    return TRUE;
  return parse_ipv4_number (name + start, n - start, &ignored);
}

/* WHATWG "IPv4 parser" on a name without a trailing dot. */
static gboolean
parse_ipv4 (const char *name,
            gsize       n,
            guint32    *addr)
{
  guint64 parts[4];
  guint n_parts = 0;
  gsize start = 0;
  guint64 value;

  for (gsize i = 0; i <= n; i++)
    {
      if (i < n && name[i] != '.')
        continue;
      if (n_parts == 4)
        return FALSE;
      if (!parse_ipv4_number (name + start, i - start, &parts[n_parts]))
        return FALSE;
      n_parts++;
      start = i + 1;
    }
  for (guint i = 0; i + 1 < n_parts; i++)
    if (parts[i] > 255)
      return FALSE;
  if (parts[n_parts - 1] >= (G_GUINT64_CONSTANT (1) << (8 * (5 - n_parts))))
    return FALSE;
  value = parts[n_parts - 1];
  for (guint i = 0; i + 1 < n_parts; i++)
    value += parts[i] << (8 * (3 - i));
  *addr = (guint32) value;
  return TRUE;
}

static char *
normalize_ipv6 (const char    *s,
                gsize          n,
                MoatHostKind  *out_kind,
                GError       **error)
{
  char buf[INET6_ADDRSTRLEN];
  struct in6_addr addr;

  if (memchr (s, '%', n) != NULL)
    {
      fail (error, "IPv6 zone identifiers are not allowed in a host");
      return NULL;
    }
  if (n == 0 || n >= sizeof buf)
    {
      fail (error, "Not a valid IPv6 address");
      return NULL;
    }
  memcpy (buf, s, n);
  buf[n] = '\0';
  if (inet_pton (AF_INET6, buf, &addr) != 1)
    {
      fail (error, "Not a valid IPv6 address");
      return NULL;
    }
  if (inet_ntop (AF_INET6, &addr, buf, sizeof buf) == NULL)
    {
      fail (error, "Not a valid IPv6 address");
      return NULL;
    }
  if (out_kind != NULL)
    *out_kind = MOAT_HOST_KIND_IPV6;
  return g_strdup (buf);
}

/* Converts one NUL-terminated label with UTS #46 and appends its A-label. */
static gboolean
append_idn_label (const char *label,
                  char       *out,
                  gsize      *out_len,
                  GError    **error)
{
  char *result = NULL;
  gsize len;
  int rc;

  rc = idn2_lookup_u8 ((const uint8_t *) label, (uint8_t **) &result,
                       IDN2_NONTRANSITIONAL | IDN2_NFC_INPUT);
  if (rc != IDN2_OK)
    {
      int rc2 = idn2_lookup_u8 ((const uint8_t *) label, (uint8_t **) &result,
                                IDN2_TRANSITIONAL | IDN2_NFC_INPUT);
      if (rc2 != IDN2_OK)
        return fail (error, "Not a valid internationalized domain name: %s", idn2_strerror (rc));
    }
  len = strlen (result);
  for (gsize i = 0; i < len; i++)
    {
      guchar c = (guchar) g_ascii_tolower (result[i]);

      if (!is_name_char (c))
        {
          char desc[16];

          idn2_free (result);
          return fail (error, "Internationalized label maps to %s, not allowed in a host",
                       describe_byte (c, desc));
        }
      result[i] = (char) c;
    }
  if (len == 0)
    {
      idn2_free (result);
      return fail (error, "Host has an empty label");
    }
  if (*out_len + len >= BUILD_BUFFER_SIZE)
    {
      idn2_free (result);
      return fail (error, "Host is too long");
    }
  memcpy (out + *out_len, result, len);
  *out_len += len;
  idn2_free (result);
  return TRUE;
}

/* Length of a label separator at @p, 0 if there is none: '.', and the
 * ideographic (U+3002), fullwidth (U+FF0E) and halfwidth ideographic (U+FF61)
 * full stops that UTS #46 maps to '.'. */
static gsize
separator_length (const guchar *p,
                  gsize         remaining)
{
  if (p[0] == '.')
    return 1;
  if (remaining >= 3 &&
      ((p[0] == 0xe3 && p[1] == 0x80 && p[2] == 0x82) ||
       (p[0] == 0xef && p[1] == 0xbc && p[2] == 0x8e) ||
       (p[0] == 0xef && p[1] == 0xbd && p[2] == 0xa1)))
    return 3;
  return 0;
}

static char *
normalize_name (const char    *host,
                gsize          n,
                MoatHostKind  *out_kind,
                GError       **error)
{
  char decoded[MOAT_HOST_MAX_INPUT_LENGTH + 1];
  char out[BUILD_BUFFER_SIZE];
  gsize dn = 0;
  gsize out_len = 0;
  gsize pos = 0;
  guint n_labels = 0;
  gboolean non_ascii = FALSE;
  guint32 addr;

  /* Percent-decode once (RFC 3986 pct-encoded in a reg-name). */
  for (gsize i = 0; i < n; i++)
    {
      guchar c = (guchar) host[i];

      if (c == '%')
        {
          int hi = i + 2 < n ? hex_value ((guchar) host[i + 1]) : -1;
          int lo = i + 2 < n ? hex_value ((guchar) host[i + 2]) : -1;

          if (hi < 0 || lo < 0)
            return fail (error, "Host has an invalid percent-encoding"), NULL;
          c = (guchar) (hi * 16 + lo);
          if (c == 0)
            return fail (error, "Host contains an encoded NUL byte (%%00)"), NULL;
          i += 2;
        }
      if (c >= 0x80)
        non_ascii = TRUE;
      decoded[dn++] = (char) c;
    }
  decoded[dn] = '\0';
  if (non_ascii && !g_utf8_validate_len (decoded, dn, NULL))
    return fail (error, "Host is not valid UTF-8"), NULL;

  /* Label by label: ASCII labels are lower-cased and checked here, the rest
   * (and "xn--" labels) go through libidn2. */
  for (;;)
    {
      gsize end = pos;
      gsize sep = 0;
      gboolean label_ascii = TRUE;
      gboolean at_end;
      gsize label_len;

      while (end < dn && (sep = separator_length ((const guchar *) decoded + end, dn - end)) == 0)
        {
          if ((guchar) decoded[end] >= 0x80)
            label_ascii = FALSE;
          end++;
        }
      at_end = end == dn;
      label_len = end - pos;
      if (label_len == 0)
        {
          /* One trailing dot is the root, fine; any other empty label is not. */
          if (at_end && n_labels > 0)
            break;
          return fail (error, n_labels == 0 && at_end ? "Host is empty" : "Host has an empty label"), NULL;
        }
      if (n_labels > 0)
        out[out_len++] = '.';
      if (label_ascii)
        {
          gsize label_start = out_len;

          if (out_len + label_len >= BUILD_BUFFER_SIZE)
            return fail (error, "Host is too long"), NULL;
          for (gsize i = pos; i < end; i++)
            {
              guchar c = (guchar) g_ascii_tolower (decoded[i]);

              if (!is_name_char (c))
                {
                  char desc[16];

                  return fail (error, "Host contains %s, which is not allowed in a host",
                               describe_byte (c, desc)), NULL;
                }
              out[out_len++] = (char) c;
            }
          if (label_len >= 4 && memcmp (out + label_start, "xn--", 4) == 0)
            {
              char label[MOAT_HOST_MAX_INPUT_LENGTH + 1];

              memcpy (label, out + label_start, label_len);
              label[label_len] = '\0';
              out_len = label_start;
              if (!append_idn_label (label, out, &out_len, error))
                return NULL;
            }
        }
      else
        {
          char label[MOAT_HOST_MAX_INPUT_LENGTH + 1];

          memcpy (label, decoded + pos, label_len);
          label[label_len] = '\0';
          if (!append_idn_label (label, out, &out_len, error))
            return NULL;
        }
      n_labels++;
      if (at_end)
        break;
      pos = end + sep;
    }

  if (ends_in_number (out, out_len))
    {
      if (!parse_ipv4 (out, out_len, &addr))
        return fail (error, "Host looks like an IPv4 address but is not a valid one"), NULL;
      if (out_kind != NULL)
        *out_kind = MOAT_HOST_KIND_IPV4;
      return g_strdup_printf ("%u.%u.%u.%u", addr >> 24, (addr >> 16) & 0xff,
                              (addr >> 8) & 0xff, addr & 0xff);
    }

  if (out_len > MOAT_HOST_MAX_LENGTH)
    return fail (error, "Host is longer than %d bytes", MOAT_HOST_MAX_LENGTH), NULL;
  for (gsize i = 0, start = 0; i <= out_len; i++)
    {
      if (i < out_len && out[i] != '.')
        continue;
      if (i - start > MAX_LABEL_LENGTH)
        return fail (error, "Host has a label longer than %d bytes", MAX_LABEL_LENGTH), NULL;
      start = i + 1;
    }
  if (out_kind != NULL)
    *out_kind = MOAT_HOST_KIND_NAME;
  return g_strndup (out, out_len);
}

/**
 * moat_host_normalize:
 * @input: a host as a client may send it: optional userinfo, then a reg-name,
 *   an IPv4 address in any inet_aton() form, or an IPv6 literal in brackets.
 *   No port: split it off first with moat_host_split_authority().
 * @len: length of @input in bytes, or -1 if it is NUL-terminated
 * @out_kind: (out) (optional): what the host is
 * @error: a #MOAT_ERROR_INVALID_ARGUMENT with a clear message on refusal
 *
 * Returns the canonical host used for matching and connecting: lower-case
 * A-label name without trailing dot, dotted-quad IPv4, or RFC 5952 IPv6
 * without brackets. The result is always lower-case ASCII from
 * `[a-z0-9._-]` (names, IPv4) or `[0-9a-f:.]` (IPv6), and
 * moat_host_normalize() of the result returns the result.
 *
 * Returns: (transfer full) (nullable): the canonical host, or %NULL
 */
char *
moat_host_normalize (const char    *input,
                     gssize         len,
                     MoatHostKind  *out_kind,
                     GError       **error)
{
  const char *host;
  gsize n;

  if (input == NULL)
    return fail (error, "No host given"), NULL;
  n = len < 0 ? strlen (input) : (gsize) len;
  if (memchr (input, '\0', n) != NULL)
    return fail (error, "Host contains a NUL byte"), NULL;

  /* Userinfo ends at the last '@': "allowed@blocked" names "blocked". */
  host = input;
  for (gsize i = n; i > 0; i--)
    if (input[i - 1] == '@')
      {
        host = input + i;
        break;
      }
  n -= (gsize) (host - input);

  if (n == 0)
    return fail (error, "Host is empty"), NULL;
  if (n > MOAT_HOST_MAX_INPUT_LENGTH)
    return fail (error, "Host is longer than %d bytes", MOAT_HOST_MAX_INPUT_LENGTH), NULL;

  if (host[0] == '[')
    {
      if (host[n - 1] != ']')
        return fail (error, "IPv6 literal lacks its closing ']'"), NULL;
      return normalize_ipv6 (host + 1, n - 2, out_kind, error);
    }
  if (memchr (host, ':', n) != NULL)
    {
      g_autoptr(GError) local_error = NULL;
      char *result = normalize_ipv6 (host, n, out_kind, &local_error);

      if (result != NULL)
        return result;
      if (memchr (host, '%', n) != NULL)
        {
          g_propagate_error (error, g_steal_pointer (&local_error));
          return NULL;
        }
      return fail (error, "Host contains ':' (split a port off first; IPv6 addresses need brackets)"), NULL;
    }
  return normalize_name (host, n, out_kind, error);
}

static gboolean
parse_port (const char *s,
            guint16    *port,
            GError    **error)
{
  guint value = 0;

  if (*s == '\0')
    return fail (error, "Port is empty");
  for (const char *p = s; *p != '\0'; p++)
    {
      if (!g_ascii_isdigit (*p))
        return fail (error, "Port is not a number");
      value = value * 10 + (guint) (*p - '0');
      if (value > G_MAXUINT16)
        return fail (error, "Port is larger than 65535");
    }
  if (value == 0)
    return fail (error, "Port 0 is not a valid destination");
  *port = (guint16) value;
  return TRUE;
}

/**
 * moat_host_split_authority:
 * @authority: an authority as in `CONNECT host:port` or a `Host` header:
 *   `[userinfo@]host[:port]`, with IPv6 addresses in brackets
 * @host: (out) (optional): the host part, raw (brackets kept), for
 *   moat_host_normalize()
 * @port: (out) (optional): the port, or 0 when the authority has none
 * @error: a #MOAT_ERROR_INVALID_ARGUMENT on refusal
 *
 * Splits the port off. Userinfo is dropped (up to the last '@'). An empty
 * port ("host:"), a port that is not all digits, port 0 and ports above
 * 65535 are refused, as is an IPv6 address without brackets.
 *
 * Returns: %TRUE on success
 */
gboolean
moat_host_split_authority (const char  *authority,
                           char       **host,
                           guint16     *port,
                           GError     **error)
{
  const char *start;
  const char *host_end;
  const char *colon;
  guint16 value = 0;

  if (authority == NULL || *authority == '\0')
    return fail (error, "Authority is empty");
  start = strrchr (authority, '@');
  start = start != NULL ? start + 1 : authority;

  if (*start == '[')
    {
      const char *close = strchr (start, ']');

      if (close == NULL)
        return fail (error, "IPv6 literal lacks its closing ']'");
      host_end = close + 1;
      if (*host_end == ':')
        colon = host_end;
      else if (*host_end == '\0')
        colon = NULL;
      else
        return fail (error, "Unexpected characters after an IPv6 literal");
    }
  else
    {
      colon = strchr (start, ':');
      if (colon != NULL && strchr (colon + 1, ':') != NULL)
        return fail (error, "An IPv6 address in an authority needs brackets");
      host_end = colon != NULL ? colon : start + strlen (start);
    }
  if (host_end == start)
    return fail (error, "Host is empty");
  if (colon != NULL && !parse_port (colon + 1, &value, error))
    return FALSE;
  if (host != NULL)
    *host = g_strndup (start, (gsize) (host_end - start));
  if (port != NULL)
    *port = value;
  return TRUE;
}

static gboolean
is_local_ipv4 (guint32 addr)
{
  return (addr >> 24) == 127 ||            /* 127.0.0.0/8 loopback */
         (addr >> 24) == 0 ||              /* 0.0.0.0/8 "this host" */
         (addr >> 16) == 0xa9fe;           /* 169.254.0.0/16 link-local */
}

/**
 * moat_host_is_local_address:
 * @canonical_ip: an address as moat_host_normalize() writes it
 *
 * Whether @canonical_ip is one of this host's own or a link-local address
 * that no proxied request may reach by default: 127.0.0.0/8, 0.0.0.0/8,
 * 169.254.0.0/16, ::1, ::, fe80::/10, and the IPv4-mapped (::ffff:a.b.c.d)
 * and IPv4-compatible (::a.b.c.d) forms of the IPv4 ones. The addresses of
 * this computer's interfaces are not known here: the proxy checks those.
 * Names and anything that is not an address give %FALSE.
 *
 * Returns: %TRUE for a local address
 */
gboolean
moat_host_is_local_address (const char *canonical_ip)
{
  struct in_addr v4;
  struct in6_addr v6;
  static const guint8 zeros[12] = { 0 };
  static const guint8 mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

  if (canonical_ip == NULL)
    return FALSE;
  if (inet_pton (AF_INET, canonical_ip, &v4) == 1)
    return is_local_ipv4 (g_ntohl (v4.s_addr));
  if (inet_pton (AF_INET6, canonical_ip, &v6) != 1)
    return FALSE;
  if (memcmp (v6.s6_addr, zeros, 12) == 0 || memcmp (v6.s6_addr, mapped, 12) == 0)
    {
      guint32 addr = ((guint32) v6.s6_addr[12] << 24) | ((guint32) v6.s6_addr[13] << 16) |
                     ((guint32) v6.s6_addr[14] << 8) | v6.s6_addr[15];

      /* Covers :: and ::1 too: they are 0.0.0.0 and 0.0.0.1 in this form. */
      return is_local_ipv4 (addr);
    }
  return v6.s6_addr[0] == 0xfe && (v6.s6_addr[1] & 0xc0) == 0x80;   /* fe80::/10 */
}

/**
 * moat_host_unmap_ipv4:
 * @canonical_ip: an address as moat_host_normalize() writes it
 *
 * For an IPv4-mapped IPv6 address (::ffff:127.0.0.1) returns the IPv4
 * address it stands for ("127.0.0.1"), so the proxy can treat both alike.
 *
 * Returns: (transfer full) (nullable): the dotted quad, or %NULL when
 *   @canonical_ip is not an IPv4-mapped IPv6 address
 */
char *
moat_host_unmap_ipv4 (const char *canonical_ip)
{
  struct in6_addr v6;

  if (canonical_ip == NULL || inet_pton (AF_INET6, canonical_ip, &v6) != 1 ||
      !IN6_IS_ADDR_V4MAPPED (&v6))
    return NULL;
  return g_strdup_printf ("%u.%u.%u.%u", v6.s6_addr[12], v6.s6_addr[13],
                          v6.s6_addr[14], v6.s6_addr[15]);
}

static const psl_ctx_t *
get_psl (void)
{
  static gsize once = 0;
  static const psl_ctx_t *psl = NULL;

  if (g_once_init_enter (&once))
    {
      /* psl_latest(NULL) loads the distribution's list (Debian's publicsuffix
       * package, /usr/share/publicsuffix/public_suffix_list.dafsa) when it is
       * newer than the copy built into libpsl, else the built-in one. */
      psl = psl_latest (NULL);
      if (psl == NULL)
        psl = psl_builtin ();
      if (psl == NULL)
        g_warning ("No Public Suffix List available; registrable domains are unknown");
      g_once_init_leave (&once, 1);
    }
  return psl;
}

/**
 * moat_host_registrable_domain:
 * @canonical_host: a name as moat_host_normalize() writes it
 *
 * The registrable domain ("eTLD+1") of @canonical_host from the Public
 * Suffix List, private section included (so "foo.github.io" is its own):
 * "www.example.co.uk" gives "example.co.uk". Unlisted top-level domains
 * count as public suffixes ("a.b.lan" gives "b.lan").
 *
 * Returns: (transfer full) (nullable): the registrable domain, or %NULL for
 *   IP addresses, public suffixes themselves and single labels
 */
char *
moat_host_registrable_domain (const char *canonical_host)
{
  const psl_ctx_t *psl;
  struct in_addr v4;
  const char *domain;

  if (canonical_host == NULL || *canonical_host == '\0' ||
      strchr (canonical_host, ':') != NULL ||
      inet_pton (AF_INET, canonical_host, &v4) == 1)
    return NULL;
  psl = get_psl ();
  if (psl == NULL)
    return NULL;
  domain = psl_registrable_domain (psl, canonical_host);
  return domain != NULL ? g_strdup (domain) : NULL;
}
