/* SPDX-License-Identifier: GPL-3.0-or-later
 * Copyright 2026 The Moat developers
 *
 * A strict, zero-copy HTTP/1.x head parser, the upstream/downstream head
 * writers and a streaming chunked-coding re-encoder. See moat-http-parser.h.
 *
 * The request parser re-parses the buffer from its start on every call (the
 * caller keeps the bytes); it stops at the first incomplete line, so errors in
 * complete lines are reported at once and the 414/431 limits are reported as
 * soon as the buffer passes them, without waiting for the end of the head.
 * Nothing here allocates: headers point into the caller's buffer.
 */
#define G_LOG_DOMAIN "moat-proxy"

#include "config.h"

#include "moat-http-parser.h"

#include <string.h>

/* Character classes, indexed by byte. */
enum {
  C_TCHAR  = 0x01,  /* RFC 9110 token */
  C_FVALUE = 0x02,  /* field-value byte: HTAB, SP, VCHAR, obs-text */
  C_TARGET = 0x04,  /* request-target byte: VCHAR except '#' */
  C_HOST   = 0x08,  /* reg-name / IPv4 byte we accept: ALPHA DIGIT - . _ ~ % */
  C_HEX    = 0x10,
  C_IPV6   = 0x20,  /* inside [...]: HEXDIG ':' '.' */
};

static const guint8 char_class[256] = {
  0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
  0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
  0x02, 0x07, 0x06, 0x03, 0x07, 0x0f, 0x07, 0x07, 0x06, 0x06, 0x07, 0x07, 0x06, 0x0f, 0x2f, 0x06,
  0x3f, 0x3f, 0x3f, 0x3f, 0x3f, 0x3f, 0x3f, 0x3f, 0x3f, 0x3f, 0x26, 0x06, 0x06, 0x06, 0x06, 0x06,
  0x06, 0x3f, 0x3f, 0x3f, 0x3f, 0x3f, 0x3f, 0x0f, 0x0f, 0x0f, 0x0f, 0x0f, 0x0f, 0x0f, 0x0f, 0x0f,
  0x0f, 0x0f, 0x0f, 0x0f, 0x0f, 0x0f, 0x0f, 0x0f, 0x0f, 0x0f, 0x0f, 0x06, 0x06, 0x06, 0x07, 0x0f,
  0x07, 0x3f, 0x3f, 0x3f, 0x3f, 0x3f, 0x3f, 0x0f, 0x0f, 0x0f, 0x0f, 0x0f, 0x0f, 0x0f, 0x0f, 0x0f,
  0x0f, 0x0f, 0x0f, 0x0f, 0x0f, 0x0f, 0x0f, 0x0f, 0x0f, 0x0f, 0x0f, 0x06, 0x07, 0x06, 0x0f, 0x00,
  0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02,
  0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02,
  0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02,
  0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02,
  0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02,
  0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02,
  0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02,
  0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02,
};

#define IS(c, cls) ((char_class[(guchar) (c)] & (cls)) != 0)

/* Longest chunk-size line (size plus extensions) accepted. */
#define MAX_CHUNK_LINE 4096

/* Case-insensitive compare of a token against a lower-case literal made only
 * of letters, digits and '-'. For such literals (c | 0x20) is exact: only
 * 'A'-'Z' and 'a'-'z' map onto 'a'-'z', and '-' and the digits already have
 * the bit set, while the input bytes are tokens (no CR, no controls). */
static inline gboolean
token_eq (const char *s,
          gsize       len,
          const char *lower,
          gsize       lower_len)
{
  if (len != lower_len)
    return FALSE;
  for (gsize i = 0; i < len; i++)
    if (((guchar) s[i] | 0x20) != (guchar) lower[i])
      return FALSE;
  return TRUE;
}

#define TOKEN_EQ(s, len, lit) token_eq ((s), (len), lit, sizeof lit - 1)

static MoatHttpField
classify_field (const char *name,
                gsize       len)
{
  switch (len)
    {
    case 2:
      if (TOKEN_EQ (name, len, "te"))
        return MOAT_HTTP_FIELD_TE;
      break;
    case 3:
      if (TOKEN_EQ (name, len, "via"))
        return MOAT_HTTP_FIELD_VIA;
      break;
    case 4:
      if (TOKEN_EQ (name, len, "host"))
        return MOAT_HTTP_FIELD_HOST;
      break;
    case 6:
      if (TOKEN_EQ (name, len, "expect"))
        return MOAT_HTTP_FIELD_EXPECT;
      if (TOKEN_EQ (name, len, "origin"))
        return MOAT_HTTP_FIELD_ORIGIN;
      break;
    case 7:
      if (TOKEN_EQ (name, len, "trailer"))
        return MOAT_HTTP_FIELD_TRAILER;
      if (TOKEN_EQ (name, len, "upgrade"))
        return MOAT_HTTP_FIELD_UPGRADE;
      if (TOKEN_EQ (name, len, "referer"))
        return MOAT_HTTP_FIELD_REFERER;
      break;
    case 10:
      if (TOKEN_EQ (name, len, "connection"))
        return MOAT_HTTP_FIELD_CONNECTION;
      if (TOKEN_EQ (name, len, "keep-alive"))
        return MOAT_HTTP_FIELD_KEEP_ALIVE;
      break;
    case 14:
      if (TOKEN_EQ (name, len, "content-length"))
        return MOAT_HTTP_FIELD_CONTENT_LENGTH;
      break;
    case 16:
      if (TOKEN_EQ (name, len, "proxy-connection"))
        return MOAT_HTTP_FIELD_PROXY_CONNECTION;
      break;
    case 17:
      if (TOKEN_EQ (name, len, "transfer-encoding"))
        return MOAT_HTTP_FIELD_TRANSFER_ENCODING;
      break;
    case 18:
      if (TOKEN_EQ (name, len, "proxy-authenticate"))
        return MOAT_HTTP_FIELD_PROXY_AUTHENTICATE;
      break;
    case 19:
      if (TOKEN_EQ (name, len, "proxy-authorization"))
        return MOAT_HTTP_FIELD_PROXY_AUTHORIZATION;
      break;
    default:
      break;
    }
  return MOAT_HTTP_FIELD_OTHER;
}

static gboolean
field_is_hop_by_hop (MoatHttpField field)
{
  switch (field)
    {
    case MOAT_HTTP_FIELD_CONNECTION:
    case MOAT_HTTP_FIELD_PROXY_CONNECTION:
    case MOAT_HTTP_FIELD_KEEP_ALIVE:
    case MOAT_HTTP_FIELD_TE:
    case MOAT_HTTP_FIELD_TRAILER:
    case MOAT_HTTP_FIELD_TRANSFER_ENCODING:
    case MOAT_HTTP_FIELD_UPGRADE:
    case MOAT_HTTP_FIELD_PROXY_AUTHORIZATION:
    case MOAT_HTTP_FIELD_PROXY_AUTHENTICATE:
      return TRUE;
    case MOAT_HTTP_FIELD_OTHER:
    case MOAT_HTTP_FIELD_HOST:
    case MOAT_HTTP_FIELD_CONTENT_LENGTH:
    case MOAT_HTTP_FIELD_EXPECT:
    case MOAT_HTTP_FIELD_VIA:
    case MOAT_HTTP_FIELD_REFERER:
    case MOAT_HTTP_FIELD_ORIGIN:
    default:
      return FALSE;
    }
}

/* Walks a comma-separated list (RFC 9110 5.6.1), empty elements allowed.
 * Returns FALSE at the end; on a syntax error sets *bad. Each element is a
 * token, optionally followed by ";..." parameters (reported in *has_params,
 * skipped up to the next comma). */
typedef struct {
  const char *p;
  const char *end;
} ListIter;

static gboolean
list_next (ListIter    *it,
           const char **tok,
           gsize       *tok_len,
           gboolean    *has_params,
           gboolean    *bad)
{
  const char *p = it->p;
  const char *start;

  *has_params = FALSE;
  while (p < it->end && (*p == ' ' || *p == '\t' || *p == ','))
    p++;
  if (p == it->end)
    {
      it->p = p;
      return FALSE;
    }
  start = p;
  while (p < it->end && IS (*p, C_TCHAR))
    p++;
  *tok = start;
  *tok_len = (gsize) (p - start);
  if (*tok_len == 0)
    {
      *bad = TRUE;
      return FALSE;
    }
  while (p < it->end && (*p == ' ' || *p == '\t'))
    p++;
  if (p < it->end && *p == ';')
    {
      *has_params = TRUE;
      while (p < it->end && *p != ',')
        p++;
    }
  if (p < it->end && *p != ',')
    {
      *bad = TRUE;
      return FALSE;
    }
  it->p = p;
  return TRUE;
}

/* What the fields of a head say, gathered while parsing them. */
typedef struct {
  const MoatHttpHeader *host;
  guint     n_host;
  guint     n_content_length;
  gboolean  content_length_bad;
  guint64   content_length;
  guint     n_transfer_encoding;
  guint     te_chunked;            /* how many times "chunked" was named */
  gboolean  te_last_chunked;       /* the last coding named was "chunked" */
  gboolean  te_other;              /* a coding other than chunked */
  gboolean  te_bad;                /* syntax error or chunked with parameters */
  gboolean  have_connection;
  gboolean  conn_close;
  gboolean  conn_keep_alive;
  gboolean  conn_names_fields;     /* Connection names other fields */
  gboolean  conn_bad;
  gboolean  have_proxy_connection;
  gboolean  pconn_close;
  gboolean  pconn_keep_alive;
  gboolean  has_upgrade;
  gboolean  expect_continue;
} HeadInfo;

/* 1*DIGIT, no sign, no leading zero, at most 18 digits (< 2^60). */
static gboolean
parse_content_length (const char *s,
                      gsize       len,
                      guint64    *out)
{
  guint64 v = 0;

  if (len == 0 || len > 18)
    return FALSE;
  if (s[0] == '0' && len > 1)
    return FALSE;
  for (gsize i = 0; i < len; i++)
    {
      if (s[i] < '0' || s[i] > '9')
        return FALSE;
      v = v * 10 + (guint64) (s[i] - '0');
    }
  *out = v;
  return TRUE;
}

static void
scan_transfer_encoding (HeadInfo   *info,
                        const char *value,
                        gsize       len)
{
  ListIter it = { value, value + len };
  const char *tok;
  gsize tok_len;
  gboolean params, bad = FALSE;
  guint n = 0;

  while (list_next (&it, &tok, &tok_len, &params, &bad))
    {
      n++;
      if (TOKEN_EQ (tok, tok_len, "chunked"))
        {
          if (params)
            info->te_bad = TRUE;
          info->te_chunked++;
          info->te_last_chunked = TRUE;
        }
      else
        {
          info->te_other = TRUE;
          info->te_last_chunked = FALSE;
        }
    }
  if (bad || n == 0)
    info->te_bad = TRUE;
}

static void
scan_connection (const char *value,
                 gsize       len,
                 gboolean   *close,
                 gboolean   *keep_alive,
                 gboolean   *names_fields,
                 gboolean   *bad)
{
  ListIter it = { value, value + len };
  const char *tok;
  gsize tok_len;
  gboolean params, syntax_bad = FALSE;

  while (list_next (&it, &tok, &tok_len, &params, &syntax_bad))
    {
      if (params)
        syntax_bad = TRUE;
      else if (TOKEN_EQ (tok, tok_len, "close"))
        *close = TRUE;
      else if (TOKEN_EQ (tok, tok_len, "keep-alive"))
        *keep_alive = TRUE;
      else if (TOKEN_EQ (tok, tok_len, "host")
               || TOKEN_EQ (tok, tok_len, "content-length")
               || TOKEN_EQ (tok, tok_len, "transfer-encoding"))
        *bad = TRUE;
      else
        *names_fields = TRUE;
    }
  if (syntax_bad)
    *bad = TRUE;
}

static void
note_field (HeadInfo       *info,
            MoatHttpHeader *h)
{
  gboolean unused = FALSE;

  switch ((MoatHttpField) h->field)
    {
    case MOAT_HTTP_FIELD_HOST:
      if (info->n_host++ == 0)
        info->host = h;
      break;
    case MOAT_HTTP_FIELD_CONTENT_LENGTH:
      info->n_content_length++;
      if (!parse_content_length (h->value, h->value_len, &info->content_length))
        info->content_length_bad = TRUE;
      break;
    case MOAT_HTTP_FIELD_TRANSFER_ENCODING:
      info->n_transfer_encoding++;
      scan_transfer_encoding (info, h->value, h->value_len);
      break;
    case MOAT_HTTP_FIELD_CONNECTION:
      info->have_connection = TRUE;
      scan_connection (h->value, h->value_len, &info->conn_close, &info->conn_keep_alive,
                       &info->conn_names_fields, &info->conn_bad);
      break;
    case MOAT_HTTP_FIELD_PROXY_CONNECTION:
      info->have_proxy_connection = TRUE;
      scan_connection (h->value, h->value_len, &info->pconn_close, &info->pconn_keep_alive,
                       &unused, &unused);
      break;
    case MOAT_HTTP_FIELD_UPGRADE:
      info->has_upgrade = TRUE;
      break;
    case MOAT_HTTP_FIELD_EXPECT:
      if (TOKEN_EQ (h->value, h->value_len, "100-continue"))
        info->expect_continue = TRUE;
      break;
    case MOAT_HTTP_FIELD_OTHER:
    case MOAT_HTTP_FIELD_KEEP_ALIVE:
    case MOAT_HTTP_FIELD_TE:
    case MOAT_HTTP_FIELD_TRAILER:
    case MOAT_HTTP_FIELD_PROXY_AUTHORIZATION:
    case MOAT_HTTP_FIELD_PROXY_AUTHENTICATE:
    case MOAT_HTTP_FIELD_VIA:
    case MOAT_HTTP_FIELD_REFERER:
    case MOAT_HTTP_FIELD_ORIGIN:
    default:
      break;
    }
}

/* Marks every field named in a Connection field as hop-by-hop. */
static void
mark_connection_named (MoatHttpHeader *headers,
                       guint           n_headers)
{
  for (guint i = 0; i < n_headers; i++)
    {
      ListIter it;
      const char *tok;
      gsize tok_len;
      gboolean params, bad = FALSE;

      if (headers[i].field != MOAT_HTTP_FIELD_CONNECTION)
        continue;
      it.p = headers[i].value;
      it.end = headers[i].value + headers[i].value_len;
      while (list_next (&it, &tok, &tok_len, &params, &bad))
        for (guint j = 0; j < n_headers; j++)
          if (headers[j].name_len == tok_len
              && g_ascii_strncasecmp (headers[j].name, tok, tok_len) == 0)
            headers[j].hop_by_hop = TRUE;
    }
}

typedef struct {
  guint       status;
  const char *reason;
} ParseError;

static MoatHttpParseResult
set_error (ParseError *err,
           guint       status,
           const char *reason)
{
  err->status = status;
  err->reason = reason;
  return MOAT_HTTP_PARSE_ERROR;
}

/* Parses the field lines starting at @pos up to and including the empty line.
 * Sets *head_len on success. Request statuses (400/431); the response parser
 * maps every error to 502. */
static MoatHttpParseResult
parse_fields (const char     *buf,
              gsize           len,
              gsize           pos,
              MoatHttpHeader *headers,
              guint          *n_headers,
              HeadInfo       *info,
              gsize          *head_len,
              ParseError     *err)
{
  const char *p = buf + pos;
  const char *end = buf + len;
  guint n = 0;

  for (;;)
    {
      const char *name, *q, *value, *value_end;
      MoatHttpHeader *h;

      if ((gsize) (p - buf) > MOAT_HTTP_MAX_HEAD)
        return set_error (err, 431, "request header fields too large");
      if (p == end)
        goto incomplete;
      if (*p == '\r')
        {
          if (p + 1 == end)
            goto incomplete;
          if (p[1] != '\n')
            return set_error (err, 400, "CR without LF");
          p += 2;
          if ((gsize) (p - buf) > MOAT_HTTP_MAX_HEAD)
            return set_error (err, 431, "request header fields too large");
          *head_len = (gsize) (p - buf);
          *n_headers = n;
          return MOAT_HTTP_PARSE_OK;
        }
      if (*p == '\n')
        return set_error (err, 400, "bare LF line ending");
      if (*p == ' ' || *p == '\t')
        return set_error (err, 400, "obsolete line folding");

      name = p;
      q = p;
      while (q < end && IS (*q, C_TCHAR))
        q++;
      if (q == end)
        goto incomplete;
      if (*q != ':')
        {
          if (q == name)
            return set_error (err, 400, "invalid field name");
          if (*q == ' ' || *q == '\t')
            return set_error (err, 400, "whitespace before colon");
          if (*q == '\r' || *q == '\n')
            return set_error (err, 400, "field without colon");
          return set_error (err, 400, "invalid field name");
        }
      if (q == name)
        return set_error (err, 400, "empty field name");
      if (n == MOAT_HTTP_MAX_FIELDS)
        return set_error (err, 431, "too many header fields");
      h = &headers[n];
      h->name = name;
      h->name_len = (guint16) (q - name);
      q++;
      while (q < end && (*q == ' ' || *q == '\t'))
        q++;
      value = q;
      while (q < end && IS (*q, C_FVALUE))
        q++;
      if (q == end)
        goto incomplete;
      if (*q == '\n')
        return set_error (err, 400, "bare LF line ending");
      if (*q != '\r')
        return set_error (err, 400, "control character in field value");
      if (q + 1 == end)
        goto incomplete;
      if (q[1] != '\n')
        return set_error (err, 400, "CR without LF");
      value_end = q;
      while (value_end > value && (value_end[-1] == ' ' || value_end[-1] == '\t'))
        value_end--;
      h->value = value;
      h->value_len = (guint32) (value_end - value);
      h->field = (guint16) classify_field (h->name, h->name_len);
      h->hop_by_hop = field_is_hop_by_hop (h->field);
      note_field (info, h);
      n++;
      p = q + 2;
    }

incomplete:
  if (len >= MOAT_HTTP_MAX_HEAD)
    return set_error (err, 431, "request header fields too large");
  return MOAT_HTTP_PARSE_INCOMPLETE;
}

/* host [":" port] as in an authority or a Host field. Port 1..65535; *port is
 * left alone when none is given. Returns NULL or a reason. */
static const char *
parse_authority (const char *s,
                 gsize       len,
                 gboolean    port_required,
                 gsize      *host_len,
                 guint16    *port,
                 gboolean   *has_port)
{
  gsize i = 0;
  guint32 v = 0;
  gsize digits;

  *has_port = FALSE;
  if (len == 0)
    return "empty host";
  if (s[0] == '[')
    {
      i = 1;
      while (i < len && IS (s[i], C_IPV6))
        i++;
      if (i == len || s[i] != ']' || i < 3)
        return "invalid IPv6 literal";
      i++;
    }
  else
    {
      while (i < len && IS (s[i], C_HOST))
        {
          if (s[i] == '%')
            {
              if (i + 2 >= len || !IS (s[i + 1], C_HEX) || !IS (s[i + 2], C_HEX))
                return "invalid percent-encoding in host";
              i += 2;
            }
          i++;
        }
      if (i == 0)
        return "empty host";
    }
  *host_len = i;
  if (i == len)
    return port_required ? "port required" : NULL;
  if (s[i] == '@')
    return "userinfo in authority";
  if (s[i] != ':')
    return "invalid character in host";
  i++;
  digits = len - i;
  if (digits == 0)
    return "empty port";
  if (digits > 5)
    return "invalid port";
  for (; i < len; i++)
    {
      if (s[i] < '0' || s[i] > '9')
        return "invalid port";
      v = v * 10 + (guint32) (s[i] - '0');
    }
  if (v == 0 || v > 65535)
    return "port out of range";
  *port = (guint16) v;
  *has_port = TRUE;
  return NULL;
}

static inline int
hex_value (char c)
{
  if (c >= '0' && c <= '9')
    return c - '0';
  return (c | 0x20) - 'a' + 10;
}

/* Next byte of a host, %-decoded and lower-cased; -1 at the end. */
static int
host_next (const char **p,
           const char  *end)
{
  int c;

  if (*p >= end)
    return -1;
  if (**p == '%' && *p + 2 < end)
    {
      c = hex_value ((*p)[1]) * 16 + hex_value ((*p)[2]);
      *p += 3;
    }
  else
    {
      c = (guchar) **p;
      *p += 1;
    }
  return g_ascii_tolower (c);
}

/* Compares two validated hosts the way the proxy will see them: case,
 * percent-encoding and one trailing dot do not matter. */
static gboolean
hosts_equal (const char *a,
             gsize       a_len,
             const char *b,
             gsize       b_len)
{
  const char *a_end = a + a_len;
  const char *b_end = b + b_len;

  if (a_len > 0 && a[a_len - 1] == '.')
    a_end--;
  if (b_len > 0 && b[b_len - 1] == '.')
    b_end--;
  for (;;)
    {
      int ca = host_next (&a, a_end);
      int cb = host_next (&b, b_end);

      if (ca != cb)
        return FALSE;
      if (ca < 0)
        return TRUE;
    }
}

static MoatHttpMethod
classify_method (const char *m,
                 gsize       len)
{
  /* Methods are case-sensitive (RFC 9110 9.1). */
  switch (len)
    {
    case 3:
      if (memcmp (m, "GET", 3) == 0)
        return MOAT_HTTP_METHOD_GET;
      if (memcmp (m, "PUT", 3) == 0)
        return MOAT_HTTP_METHOD_PUT;
      break;
    case 4:
      if (memcmp (m, "HEAD", 4) == 0)
        return MOAT_HTTP_METHOD_HEAD;
      if (memcmp (m, "POST", 4) == 0)
        return MOAT_HTTP_METHOD_POST;
      break;
    case 5:
      if (memcmp (m, "PATCH", 5) == 0)
        return MOAT_HTTP_METHOD_PATCH;
      if (memcmp (m, "TRACE", 5) == 0)
        return MOAT_HTTP_METHOD_TRACE;
      break;
    case 6:
      if (memcmp (m, "DELETE", 6) == 0)
        return MOAT_HTTP_METHOD_DELETE;
      break;
    case 7:
      if (memcmp (m, "OPTIONS", 7) == 0)
        return MOAT_HTTP_METHOD_OPTIONS;
      if (memcmp (m, "CONNECT", 7) == 0)
        return MOAT_HTTP_METHOD_CONNECT;
      break;
    default:
      break;
    }
  return MOAT_HTTP_METHOD_OTHER;
}

static MoatHttpParseResult
request_error (MoatHttpRequest *req,
               guint            status,
               const char      *reason)
{
  req->error_status = status;
  req->error_reason = reason;
  return MOAT_HTTP_PARSE_ERROR;
}

/* "HTTP/" DIGIT "." DIGIT exactly; 1.0 and 1.1 are supported (505 for any
 * other well-formed version, 400 for anything else). */
static guint
parse_version (const char *v,
               gsize       len,
               guint8     *minor)
{
  if (len != 8 || memcmp (v, "HTTP/", 5) != 0 || v[6] != '.'
      || v[5] < '0' || v[5] > '9' || v[7] < '0' || v[7] > '9')
    return 400;
  if (v[5] != '1' || (v[7] != '0' && v[7] != '1'))
    return 505;
  *minor = (guint8) (v[7] - '0');
  return 0;
}

/* Parses the request target of @req (set by the caller) into its form. */
static MoatHttpParseResult
parse_target (MoatHttpRequest *req)
{
  const char *t = req->target;
  gsize len = req->target_len;
  const char *reason;
  gsize host_len;
  gboolean has_port;

  if (req->method == MOAT_HTTP_METHOD_CONNECT)
    {
      guint16 port = 0;

      if (memchr (t, '@', len) != NULL)
        return request_error (req, 400, "userinfo in authority");
      reason = parse_authority (t, len, TRUE, &host_len, &port, &has_port);
      if (reason != NULL)
        return request_error (req, 400, reason);
      req->target_form = MOAT_HTTP_TARGET_AUTHORITY;
      req->authority = t;
      req->authority_len = (guint16) len;
      req->port = port;
      return MOAT_HTTP_PARSE_OK;
    }
  if (len == 1 && t[0] == '*')
    {
      if (req->method != MOAT_HTTP_METHOD_OPTIONS)
        return request_error (req, 400, "asterisk target outside OPTIONS");
      req->target_form = MOAT_HTTP_TARGET_ASTERISK;
      return MOAT_HTTP_PARSE_OK;
    }
  if (t[0] == '/')
    {
      req->target_form = MOAT_HTTP_TARGET_ORIGIN;
      req->path = t;
      req->path_len = (guint32) len;
      return MOAT_HTTP_PARSE_OK;
    }

  /* absolute-form: scheme "://" authority [path-abempty] ["?" query] */
  {
    gsize i = 0, a_start, a_end;
    guint16 port = 80;

    if (!g_ascii_isalpha (t[0]))
      return request_error (req, 400, "invalid request target");
    while (i < len && (g_ascii_isalnum (t[i]) || t[i] == '+' || t[i] == '-' || t[i] == '.'))
      i++;
    if (i == len || t[i] != ':')
      return request_error (req, 400, "invalid request target");
    if (!TOKEN_EQ (t, i, "http"))
      return request_error (req, 400, "unsupported URI scheme");
    req->scheme = t;
    req->scheme_len = (guint16) i;
    i++;
    if (len - i < 2 || t[i] != '/' || t[i + 1] != '/')
      return request_error (req, 400, "invalid request target");
    a_start = i + 2;
    a_end = a_start;
    while (a_end < len && t[a_end] != '/' && t[a_end] != '?')
      a_end++;
    if (memchr (t + a_start, '@', a_end - a_start) != NULL)
      return request_error (req, 400, "userinfo in authority");
    if (a_end - a_start > G_MAXUINT16)
      return request_error (req, 400, "authority too long");
    reason = parse_authority (t + a_start, a_end - a_start, FALSE, &host_len, &port, &has_port);
    if (reason != NULL)
      return request_error (req, 400, reason);
    req->target_form = MOAT_HTTP_TARGET_ABSOLUTE;
    req->authority = t + a_start;
    req->authority_len = (guint16) (a_end - a_start);
    req->port = port;
    if (a_end == len)
      {
        req->path = "/";
        req->path_len = 1;
      }
    else
      {
        req->path = t + a_end;
        req->path_len = (guint32) (len - a_end);
      }
    return MOAT_HTTP_PARSE_OK;
  }
}

MoatHttpParseResult
moat_http_parse_request (const char      *buf,
                         gsize            len,
                         MoatHttpRequest *req)
{
  const char *p = buf, *end = buf + len;
  const char *line, *lf, *sp, *q;
  gsize line_len, limit;
  HeadInfo info;
  ParseError err = { 0, NULL };
  MoatHttpParseResult res;
  guint vstatus;
  gsize head_len = 0;

  g_return_val_if_fail (buf != NULL || len == 0, MOAT_HTTP_PARSE_ERROR);
  g_return_val_if_fail (req != NULL, MOAT_HTTP_PARSE_ERROR);

  /* Everything but the headers array, which is written as it fills. */
  memset (req, 0, G_STRUCT_OFFSET (MoatHttpRequest, headers));
  memset (&req->n_headers, 0, sizeof *req - G_STRUCT_OFFSET (MoatHttpRequest, n_headers));
  memset (&info, 0, sizeof info);

  /* RFC 9112 2.2: ignore empty lines before the request line. */
  while (end - p >= 2 && p[0] == '\r' && p[1] == '\n' && (gsize) (p - buf) < MOAT_HTTP_MAX_HEAD)
    p += 2;
  if (p < end && p[0] == '\n')
    return request_error (req, 400, "bare LF line ending");

  line = p;
  limit = MIN ((gsize) (end - line), (gsize) MOAT_HTTP_MAX_REQUEST_LINE + 2);
  lf = memchr (line, '\n', limit);
  if (lf == NULL)
    {
      /* Report a bad byte as soon as it arrives (no need to wait for 8 KiB). */
      for (q = line; q < line + limit && IS (*q, C_TCHAR); q++)
        ;
      if (q < line + limit && (*q != ' ' || q == line)
          && !(*q == '\r' && q + 1 == line + limit))
        return request_error (req, 400, "invalid method");
      for (; q < line + limit; q++)
        if (!IS (*q, C_TARGET) && *q != ' ' && *q != '#' && !(*q == '\r' && q + 1 == line + limit))
          {
            if (*q == '\r')
              return request_error (req, 400, "CR without LF");
            return request_error (req, 400, "invalid character in request line");
          }
      if ((gsize) (end - line) >= (gsize) MOAT_HTTP_MAX_REQUEST_LINE + 2)
        return request_error (req, 414, "request line too long");
      if (len >= MOAT_HTTP_MAX_HEAD)
        return request_error (req, 431, "request header fields too large");
      return MOAT_HTTP_PARSE_INCOMPLETE;
    }
  if (lf == line || lf[-1] != '\r')
    return request_error (req, 400, "bare LF line ending");
  line_len = (gsize) (lf - 1 - line);
  if (line_len > MOAT_HTTP_MAX_REQUEST_LINE)
    return request_error (req, 414, "request line too long");

  /* method */
  q = line;
  while (IS (*q, C_TCHAR))
    q++;
  if (q == line || *q != ' ')
    return request_error (req, 400, "invalid method");
  req->method_str = line;
  req->method_len = (guint16) (q - line);
  req->method = classify_method (line, req->method_len);

  /* target */
  sp = ++q;
  while (IS (*q, C_TARGET))
    q++;
  if (*q == '#')
    return request_error (req, 400, "fragment in request target");
  if (q == sp)
    return request_error (req, 400, "empty request target");
  if (*q == '\r' && q == lf - 1)
    return request_error (req, 505, "HTTP/0.9 is not supported");
  if (*q != ' ')
    return request_error (req, 400, "invalid character in request target");
  req->target = sp;
  req->target_len = (guint32) (q - sp);

  /* version */
  q++;
  vstatus = parse_version (q, (gsize) (lf - 1 - q), &req->version_minor);
  if (vstatus == 505)
    return request_error (req, 505, "HTTP version not supported");
  if (vstatus != 0)
    return request_error (req, 400, "invalid HTTP version");

  res = parse_target (req);
  if (res != MOAT_HTTP_PARSE_OK)
    return res;

  res = parse_fields (buf, len, (gsize) (lf + 1 - buf), req->headers, &req->n_headers,
                      &info, &head_len, &err);
  if (res == MOAT_HTTP_PARSE_INCOMPLETE)
    return res;
  if (res == MOAT_HTTP_PARSE_ERROR)
    return request_error (req, err.status, err.reason);

  /* Host */
  if (info.n_host > 1)
    return request_error (req, 400, "more than one Host field");
  req->host = info.host;
  if (req->host == NULL && req->version_minor == 1)
    return request_error (req, 400, "missing Host field");
  if (req->host != NULL)
    {
      gsize host_len = 0;
      guint16 host_port = 80;
      gboolean has_port;
      const char *reason;

      if (req->host->value_len > G_MAXUINT16)
        return request_error (req, 400, "invalid Host field");
      reason = parse_authority (req->host->value, req->host->value_len, FALSE,
                                &host_len, &host_port, &has_port);
      if (reason != NULL)
        return request_error (req, 400, "invalid Host field");
      if (req->target_form == MOAT_HTTP_TARGET_ORIGIN
          || req->target_form == MOAT_HTTP_TARGET_ASTERISK)
        {
          req->authority = req->host->value;
          req->authority_len = (guint16) req->host->value_len;
          req->port = host_port;
        }
      else
        {
          gsize t_host_len = 0;
          guint16 t_port = 80;
          gboolean t_has_port;

          (void) parse_authority (req->authority, req->authority_len, FALSE,
                                  &t_host_len, &t_port, &t_has_port);
          if (!hosts_equal (req->authority, t_host_len, req->host->value, host_len))
            return request_error (req, 400, "Host field disagrees with the request target");
          /* CONNECT targets carry a port; a Host without one names the same host. */
          if (req->target_form == MOAT_HTTP_TARGET_ABSOLUTE || has_port)
            if (t_port != host_port)
              return request_error (req, 400, "Host field disagrees with the request target");
        }
    }
  else if (req->target_form == MOAT_HTTP_TARGET_ORIGIN
           || req->target_form == MOAT_HTTP_TARGET_ASTERISK)
    req->port = 80;

  /* framing */
  if (info.n_content_length > 0 && info.n_transfer_encoding > 0)
    return request_error (req, 400, "both Content-Length and Transfer-Encoding");
  if (info.n_content_length > 1)
    return request_error (req, 400, "more than one Content-Length");
  if (info.content_length_bad)
    return request_error (req, 400, "invalid Content-Length");
  if (info.conn_bad)
    return request_error (req, 400, "invalid Connection field");
  if (info.n_transfer_encoding > 0)
    {
      if (req->version_minor == 0)
        return request_error (req, 400, "Transfer-Encoding in an HTTP/1.0 request");
      if (info.te_bad || info.te_chunked > 1 || (info.te_chunked == 1 && !info.te_last_chunked))
        return request_error (req, 400, "invalid Transfer-Encoding");
      if (info.te_other)
        return request_error (req, 501, "unsupported transfer coding");
      req->body = MOAT_HTTP_BODY_CHUNKED;
    }
  else if (info.n_content_length == 1)
    {
      req->body = MOAT_HTTP_BODY_LENGTH;
      req->content_length = info.content_length;
    }
  if (req->method == MOAT_HTTP_METHOD_CONNECT
      && (req->body == MOAT_HTTP_BODY_CHUNKED
          || (req->body == MOAT_HTTP_BODY_LENGTH && req->content_length > 0)))
    return request_error (req, 400, "CONNECT with a body");

  if (info.conn_names_fields)
    mark_connection_named (req->headers, req->n_headers);

  if (info.have_connection)
    req->keep_alive = req->version_minor == 1 ? !info.conn_close
                                              : (info.conn_keep_alive && !info.conn_close);
  else if (info.have_proxy_connection)
    req->keep_alive = req->version_minor == 1 ? !info.pconn_close
                                              : (info.pconn_keep_alive && !info.pconn_close);
  else
    req->keep_alive = req->version_minor == 1;
  req->expect_continue = info.expect_continue && req->version_minor == 1;
  req->has_upgrade = info.has_upgrade;
  req->head_len = head_len;
  return MOAT_HTTP_PARSE_OK;
}

static MoatHttpParseResult
response_error (MoatHttpResponse *resp,
                const char       *reason)
{
  resp->error_status = 502;
  resp->error_reason = reason;
  return MOAT_HTTP_PARSE_ERROR;
}

MoatHttpParseResult
moat_http_parse_response (const char       *buf,
                          gsize             len,
                          MoatHttpMethod    request_method,
                          MoatHttpResponse *resp)
{
  const char *lf, *q, *reason_end;
  gsize limit, head_len = 0;
  HeadInfo info;
  ParseError err = { 0, NULL };
  MoatHttpParseResult res;

  g_return_val_if_fail (buf != NULL || len == 0, MOAT_HTTP_PARSE_ERROR);
  g_return_val_if_fail (resp != NULL, MOAT_HTTP_PARSE_ERROR);

  memset (resp, 0, G_STRUCT_OFFSET (MoatHttpResponse, headers));
  memset (&resp->n_headers, 0, sizeof *resp - G_STRUCT_OFFSET (MoatHttpResponse, n_headers));
  memset (&info, 0, sizeof info);

  limit = MIN (len, (gsize) MOAT_HTTP_MAX_REQUEST_LINE + 2);
  lf = memchr (buf, '\n', limit);
  if (lf == NULL)
    {
      if (len >= 5 && memcmp (buf, "HTTP/", 5) != 0)
        return response_error (resp, "not an HTTP/1.x response");
      if (len >= (gsize) MOAT_HTTP_MAX_REQUEST_LINE + 2)
        return response_error (resp, "status line too long");
      return MOAT_HTTP_PARSE_INCOMPLETE;
    }
  if (lf == buf || lf[-1] != '\r')
    return response_error (resp, "bare LF line ending");
  if (lf - buf < 13 || buf[8] != ' ')
    return response_error (resp, "invalid status line");
  if (parse_version (buf, 8, &resp->version_minor) != 0)
    return response_error (resp, "invalid HTTP version");
  for (int i = 9; i < 12; i++)
    if (buf[i] < '0' || buf[i] > '9')
      return response_error (resp, "invalid status code");
  resp->status = (guint) ((buf[9] - '0') * 100 + (buf[10] - '0') * 10 + (buf[11] - '0'));
  if (resp->status < 100)
    return response_error (resp, "invalid status code");
  reason_end = lf - 1;
  q = buf + 12;
  if (q < reason_end)
    {
      if (*q != ' ')
        return response_error (resp, "invalid status line");
      q++;
      for (const char *r = q; r < reason_end; r++)
        if (!IS (*r, C_FVALUE))
          return response_error (resp, "control character in reason phrase");
    }
  resp->reason = q;
  resp->reason_len = (guint16) (reason_end - q);

  res = parse_fields (buf, len, (gsize) (lf + 1 - buf), resp->headers, &resp->n_headers,
                      &info, &head_len, &err);
  if (res == MOAT_HTTP_PARSE_INCOMPLETE)
    return res;
  if (res == MOAT_HTTP_PARSE_ERROR)
    return response_error (resp, err.reason);

  if (info.n_content_length > 0 && info.n_transfer_encoding > 0)
    return response_error (resp, "both Content-Length and Transfer-Encoding");
  if (info.n_content_length > 1)
    return response_error (resp, "more than one Content-Length");
  if (info.content_length_bad)
    return response_error (resp, "invalid Content-Length");
  if (info.conn_bad)
    return response_error (resp, "invalid Connection field");
  if (info.n_transfer_encoding > 0)
    {
      if (resp->version_minor == 0)
        return response_error (resp, "Transfer-Encoding in an HTTP/1.0 response");
      if (info.te_bad || info.te_chunked != 1 || !info.te_last_chunked || info.te_other)
        return response_error (resp, "unsupported Transfer-Encoding");
    }

  if (request_method == MOAT_HTTP_METHOD_HEAD
      || resp->status < 200 || resp->status == 204 || resp->status == 304
      || (request_method == MOAT_HTTP_METHOD_CONNECT && resp->status < 300))
    resp->body = MOAT_HTTP_BODY_NONE;
  else if (info.n_transfer_encoding > 0)
    resp->body = MOAT_HTTP_BODY_CHUNKED;
  else if (info.n_content_length == 1)
    {
      resp->body = MOAT_HTTP_BODY_LENGTH;
      resp->content_length = info.content_length;
    }
  else
    resp->body = MOAT_HTTP_BODY_UNTIL_CLOSE;

  if (info.conn_names_fields)
    mark_connection_named (resp->headers, resp->n_headers);

  if (resp->body == MOAT_HTTP_BODY_UNTIL_CLOSE)
    resp->keep_alive = FALSE;
  else if (resp->version_minor == 1)
    resp->keep_alive = !info.conn_close;
  else
    resp->keep_alive = info.conn_keep_alive && !info.conn_close;
  resp->head_len = head_len;
  return MOAT_HTTP_PARSE_OK;
}

/* Writers. Every byte written comes from a validated head, so no CR or LF
 * from the input can reach the output outside the framing written here. */

static void
append_via (GString              *out,
            const MoatHttpHeader *headers,
            guint                 n_headers,
            const char           *via_token)
{
  gboolean first = TRUE;

  for (guint i = 0; i < n_headers; i++)
    {
      if (headers[i].field != MOAT_HTTP_FIELD_VIA || headers[i].hop_by_hop
          || headers[i].value_len == 0)
        continue;
      g_string_append (out, first ? "Via: " : ", ");
      g_string_append_len (out, headers[i].value, headers[i].value_len);
      first = FALSE;
    }
  if (via_token != NULL)
    {
      g_string_append (out, first ? "Via: " : ", ");
      g_string_append (out, via_token);
      first = FALSE;
    }
  if (!first)
    g_string_append (out, "\r\n");
}

static void
append_field (GString              *out,
              const MoatHttpHeader *h)
{
  g_string_append_len (out, h->name, h->name_len);
  g_string_append_len (out, ": ", 2);
  g_string_append_len (out, h->value, h->value_len);
  g_string_append_len (out, "\r\n", 2);
}

void
moat_http_request_write_upstream (const MoatHttpRequest *req,
                                  gboolean               absolute_form,
                                  const char            *via_token,
                                  GString               *out)
{
  gboolean wrote_host = FALSE;

  g_return_if_fail (req != NULL);
  g_return_if_fail (out != NULL);

  g_string_append_len (out, req->method_str, req->method_len);
  g_string_append_c (out, ' ');
  if (req->target_form == MOAT_HTTP_TARGET_AUTHORITY
      || req->target_form == MOAT_HTTP_TARGET_ASTERISK)
    g_string_append_len (out, req->target, req->target_len);
  else
    {
      if (absolute_form && req->authority != NULL)
        {
          g_string_append_len (out, "http://", 7);
          g_string_append_len (out, req->authority, req->authority_len);
        }
      if (req->path_len == 0 || req->path[0] != '/')
        g_string_append_c (out, '/');
      g_string_append_len (out, req->path, req->path_len);
    }
  g_string_append_len (out, " HTTP/1.1\r\n", 11);

  /* Host first when the client sent none (HTTP/1.0): HTTP/1.1 requires it. */
  if (req->host == NULL && req->authority != NULL)
    {
      g_string_append_len (out, "Host: ", 6);
      g_string_append_len (out, req->authority, req->authority_len);
      g_string_append_len (out, "\r\n", 2);
      wrote_host = TRUE;
    }

  for (guint i = 0; i < req->n_headers; i++)
    {
      const MoatHttpHeader *h = &req->headers[i];

      if (h->hop_by_hop || (h->field == MOAT_HTTP_FIELD_VIA && via_token != NULL))
        continue;
      if (h->field == MOAT_HTTP_FIELD_HOST)
        {
          /* RFC 9112 3.2.2: the target's authority replaces Host. */
          if (wrote_host)
            continue;
          g_string_append_len (out, h->name, h->name_len);
          g_string_append_len (out, ": ", 2);
          if (req->authority != NULL)
            g_string_append_len (out, req->authority, req->authority_len);
          else
            g_string_append_len (out, h->value, h->value_len);
          g_string_append_len (out, "\r\n", 2);
          wrote_host = TRUE;
          continue;
        }
      append_field (out, h);
    }
  if (req->body == MOAT_HTTP_BODY_CHUNKED)
    g_string_append (out, "Transfer-Encoding: chunked\r\n");
  if (via_token != NULL)
    append_via (out, req->headers, req->n_headers, via_token);
  g_string_append_len (out, "\r\n", 2);
}

void
moat_http_response_write_downstream (const MoatHttpResponse *resp,
                                     guint8                  client_version_minor,
                                     gboolean                close,
                                     const char             *via_token,
                                     GString                *out)
{
  g_return_if_fail (resp != NULL);
  g_return_if_fail (out != NULL);

  /* A chunked body cannot go to an HTTP/1.0 client as such (the proxy sends
   * the decoded data and closes), nor can an until-close body keep the
   * connection. */
  if (resp->body == MOAT_HTTP_BODY_UNTIL_CLOSE
      || (resp->body == MOAT_HTTP_BODY_CHUNKED && client_version_minor == 0))
    close = TRUE;

  g_string_append_printf (out, "HTTP/1.1 %03u ", resp->status);
  if (resp->reason_len > 0)
    g_string_append_len (out, resp->reason, resp->reason_len);
  else
    g_string_append (out, moat_http_status_reason (resp->status));
  g_string_append_len (out, "\r\n", 2);

  for (guint i = 0; i < resp->n_headers; i++)
    {
      const MoatHttpHeader *h = &resp->headers[i];

      if (h->hop_by_hop || (h->field == MOAT_HTTP_FIELD_VIA && via_token != NULL))
        continue;
      append_field (out, h);
    }
  if (resp->body == MOAT_HTTP_BODY_CHUNKED && client_version_minor >= 1)
    g_string_append (out, "Transfer-Encoding: chunked\r\n");
  if (via_token != NULL)
    append_via (out, resp->headers, resp->n_headers, via_token);
  if (close)
    g_string_append (out, "Connection: close\r\n");
  else if (client_version_minor == 0)
    g_string_append (out, "Connection: keep-alive\r\n");
  g_string_append_len (out, "\r\n", 2);
}

/* Chunked coding (RFC 9112 7.1). */

enum {
  CHUNK_SIZE_START,     /* expecting the first hex digit */
  CHUNK_SIZE,           /* in hex digits */
  CHUNK_EXT_WS,         /* whitespace after the size: only ";" may follow */
  CHUNK_EXT,            /* in extensions, up to CR */
  CHUNK_SIZE_LF,        /* CR seen, expecting LF */
  CHUNK_DATA,
  CHUNK_DATA_CR,
  CHUNK_DATA_LF,
  CHUNK_TRAILER_START,  /* start of a trailer line or the final CRLF */
  CHUNK_TRAILER_NAME,
  CHUNK_TRAILER_VALUE,
  CHUNK_TRAILER_LF,
  CHUNK_END_LF,
  CHUNK_DONE,
  CHUNK_ERROR,
};

#define MAX_CHUNK_SIZE (G_GUINT64_CONSTANT (1) << 62)

void
moat_http_chunk_decoder_init (MoatHttpChunkDecoder *dec)
{
  g_return_if_fail (dec != NULL);

  memset (dec, 0, sizeof *dec);
  dec->state = CHUNK_SIZE_START;
}

static MoatHttpChunkResult
chunk_error (MoatHttpChunkDecoder *dec,
             const char           *reason)
{
  dec->state = CHUNK_ERROR;
  dec->error_reason = reason;
  return MOAT_HTTP_CHUNK_ERROR;
}

MoatHttpChunkResult
moat_http_chunk_decoder_feed (MoatHttpChunkDecoder *dec,
                              const char           *in,
                              gsize                 in_len,
                              gsize                *in_used,
                              char                 *out,
                              gsize                 out_len,
                              gsize                *out_used)
{
  gsize i = 0, o = 0;
  MoatHttpChunkResult res = MOAT_HTTP_CHUNK_MORE;

  g_return_val_if_fail (dec != NULL, MOAT_HTTP_CHUNK_ERROR);
  g_return_val_if_fail (in != NULL || in_len == 0, MOAT_HTTP_CHUNK_ERROR);
  g_return_val_if_fail (out != NULL || out_len == 0, MOAT_HTTP_CHUNK_ERROR);
  g_return_val_if_fail (in_used != NULL && out_used != NULL, MOAT_HTTP_CHUNK_ERROR);

  while (i < in_len)
    {
      char c = in[i];

      switch (dec->state)
        {
        case CHUNK_SIZE_START:
        case CHUNK_SIZE:
          if (IS (c, C_HEX))
            {
              if (dec->size >= MAX_CHUNK_SIZE >> 4)
                {
                  res = chunk_error (dec, "chunk size overflows");
                  goto out;
                }
              dec->size = dec->size * 16 + (guint64) hex_value (c);
              dec->state = CHUNK_SIZE;
            }
          else if (dec->state == CHUNK_SIZE_START)
            {
              res = chunk_error (dec, "chunk size is not hex");
              goto out;
            }
          else if (c == ';')
            dec->state = CHUNK_EXT;
          else if (c == ' ' || c == '\t')
            dec->state = CHUNK_EXT_WS;
          else if (c == '\r')
            dec->state = CHUNK_SIZE_LF;
          else
            {
              res = chunk_error (dec, c == '\n' ? "bare LF in chunk framing" : "chunk size is not hex");
              goto out;
            }
          break;

        case CHUNK_EXT_WS:
          if (c == ';')
            dec->state = CHUNK_EXT;
          else if (c != ' ' && c != '\t')
            {
              res = chunk_error (dec, "invalid chunk extension");
              goto out;
            }
          break;

        case CHUNK_EXT:
          if (c == '\r')
            dec->state = CHUNK_SIZE_LF;
          else if (!IS (c, C_FVALUE))
            {
              res = chunk_error (dec, c == '\n' ? "bare LF in chunk framing"
                                                : "control character in chunk extension");
              goto out;
            }
          break;

        case CHUNK_SIZE_LF:
          if (c != '\n')
            {
              res = chunk_error (dec, "CR without LF in chunk framing");
              goto out;
            }
          if (dec->size == 0)
            {
              dec->state = CHUNK_TRAILER_START;
              dec->trailer_len = 0;
              break;
            }
          {
            char hex[18];
            gsize n = 0;

            for (int shift = 60; shift >= 0; shift -= 4)
              {
                guint d = (guint) ((dec->size >> shift) & 0xf);

                if (d != 0 || n > 0 || shift == 0)
                  hex[n++] = "0123456789abcdef"[d];
              }
            hex[n++] = '\r';
            hex[n++] = '\n';
            if (out_len - o < n)
              goto out;  /* no room for the framing: do not consume the LF */
            memcpy (out + o, hex, n);
            o += n;
          }
          dec->remaining = dec->size;
          dec->state = CHUNK_DATA;
          break;

        case CHUNK_DATA:
          {
            gsize n = MIN (in_len - i, out_len - o);

            if (n > dec->remaining)
              n = (gsize) dec->remaining;
            if (n == 0)
              goto out;
            memcpy (out + o, in + i, n);
            o += n;
            i += n;
            dec->remaining -= n;
            if (dec->remaining == 0)
              dec->state = CHUNK_DATA_CR;
            dec->line_len = 0;
            continue;
          }

        case CHUNK_DATA_CR:
          if (c != '\r')
            {
              res = chunk_error (dec, "chunk data not followed by CRLF");
              goto out;
            }
          dec->state = CHUNK_DATA_LF;
          break;

        case CHUNK_DATA_LF:
          if (c != '\n')
            {
              res = chunk_error (dec, "chunk data not followed by CRLF");
              goto out;
            }
          if (out_len - o < 2)
            goto out;
          out[o++] = '\r';
          out[o++] = '\n';
          dec->state = CHUNK_SIZE_START;
          dec->size = 0;
          dec->line_len = 0;
          i++;
          continue;

        case CHUNK_TRAILER_START:
          if (c == '\r')
            dec->state = CHUNK_END_LF;
          else if (IS (c, C_TCHAR))
            dec->state = CHUNK_TRAILER_NAME;
          else
            {
              res = chunk_error (dec, c == '\n' ? "bare LF in trailer" : "invalid trailer field");
              goto out;
            }
          break;

        case CHUNK_TRAILER_NAME:
          if (c == ':')
            dec->state = CHUNK_TRAILER_VALUE;
          else if (!IS (c, C_TCHAR))
            {
              res = chunk_error (dec, "invalid trailer field");
              goto out;
            }
          break;

        case CHUNK_TRAILER_VALUE:
          if (c == '\r')
            dec->state = CHUNK_TRAILER_LF;
          else if (!IS (c, C_FVALUE))
            {
              res = chunk_error (dec, c == '\n' ? "bare LF in trailer"
                                                : "control character in trailer");
              goto out;
            }
          break;

        case CHUNK_TRAILER_LF:
          if (c != '\n')
            {
              res = chunk_error (dec, "CR without LF in trailer");
              goto out;
            }
          dec->state = CHUNK_TRAILER_START;
          break;

        case CHUNK_END_LF:
          if (c != '\n')
            {
              res = chunk_error (dec, "CR without LF in trailer");
              goto out;
            }
          if (out_len - o < 5)
            goto out;
          memcpy (out + o, "0\r\n\r\n", 5);
          o += 5;
          i++;
          dec->state = CHUNK_DONE;
          res = MOAT_HTTP_CHUNK_DONE;
          goto out;

        case CHUNK_DONE:
          res = MOAT_HTTP_CHUNK_DONE;
          goto out;

        case CHUNK_ERROR:
        default:
          res = MOAT_HTTP_CHUNK_ERROR;
          goto out;
        }

      /* Every byte handled above is framing: bound the lines. */
      i++;
      if (dec->state >= CHUNK_TRAILER_START && dec->state <= CHUNK_END_LF)
        {
          if (++dec->trailer_len > MOAT_HTTP_MAX_HEAD)
            {
              res = chunk_error (dec, "trailer section too large");
              goto out;
            }
        }
      else if (++dec->line_len > MAX_CHUNK_LINE)
        {
          res = chunk_error (dec, "chunk size line too long");
          goto out;
        }
    }

  if (dec->state == CHUNK_DONE)
    res = MOAT_HTTP_CHUNK_DONE;
  else if (dec->state == CHUNK_ERROR)
    res = MOAT_HTTP_CHUNK_ERROR;

out:
  *in_used = i;
  *out_used = o;
  return res;
}

const char *
moat_http_status_reason (guint status)
{
  switch (status)
    {
    case 100: return "Continue";
    case 101: return "Switching Protocols";
    case 200: return "OK";
    case 201: return "Created";
    case 204: return "No Content";
    case 206: return "Partial Content";
    case 301: return "Moved Permanently";
    case 302: return "Found";
    case 304: return "Not Modified";
    case 307: return "Temporary Redirect";
    case 308: return "Permanent Redirect";
    case 400: return "Bad Request";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 411: return "Length Required";
    case 413: return "Content Too Large";
    case 414: return "URI Too Long";
    case 417: return "Expectation Failed";
    case 421: return "Misdirected Request";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    case 505: return "HTTP Version Not Supported";
    case 508: return "Loop Detected";
    default:
      break;
    }
  return "Unknown";
}
