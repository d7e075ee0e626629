/* SPDX-License-Identifier: GPL-3.0-or-later
 * Copyright 2026 The Moat developers
 *
 * Request heads arrive from every client of the proxy, response heads from
 * every server. Invariants checked: an error always has a status and a reason
 * without CR/LF; a parsed head is never longer than the input and parsing any
 * longer prefix gives the same head; a shorter prefix is never OK and never a
 * different error. Differential self-check: what the writers produce from a
 * parsed head parses again with identical framing, method, authority, port
 * and path, so the proxy never forwards something the next hop would read
 * differently.
 */
#include "config.h"

#include <stdint.h>
#include <string.h>

#include "moat-http-parser.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

static MoatHttpRequest req, again, prefix;
static MoatHttpResponse resp, resp_again;

static void
check_error (guint status, const char *reason)
{
  g_assert_cmpuint (status, >=, 400);
  g_assert_cmpuint (status, <=, 599);
  g_assert_nonnull (reason);
  g_assert_null (strpbrk (reason, "\r\n"));
}

static gboolean
path_equal (const MoatHttpRequest *a, const MoatHttpRequest *b)
{
  /* "http://h?q" is written as "/?q" */
  const char *pa = a->path, *pb = b->path;
  gsize la = a->path_len, lb = b->path_len;

  if (la > 0 && pa[0] != '/' && lb > 0 && pb[0] == '/')
    {
      pb++;
      lb--;
    }
  return la == lb && memcmp (pa, pb, la) == 0;
}

static void
check_rewrite (const char *data, gboolean absolute_form)
{
  g_autoptr(GString) out = g_string_new (NULL);
  MoatHttpParseResult res;
  const char *lf;

  moat_http_request_write_upstream (&req, absolute_form, "1.1 moat", out);
  g_assert_true (g_str_has_suffix (out->str, "\r\n\r\n"));
  g_assert_cmpuint (strlen (out->str), ==, out->len);  /* no NUL smuggled in */
  res = moat_http_parse_request (out->str, out->len, &again);
  if (res == MOAT_HTTP_PARSE_ERROR)
    {
      /* Only the limits may differ: the written head can be longer (Host
       * added, absolute form, Via) than the one that was read. */
      lf = memchr (out->str, '\n', out->len);
      if (again.error_status == 414 && (gsize) (lf - out->str) > MOAT_HTTP_MAX_REQUEST_LINE)
        return;
      if (again.error_status == 431 && (out->len > MOAT_HTTP_MAX_HEAD || req.n_headers >= 98))
        return;
      g_printerr ("rewritten request does not parse (%u %s):\n%s\n", again.error_status,
                  again.error_reason, out->str);
      abort ();
    }
  g_assert_cmpint (res, ==, MOAT_HTTP_PARSE_OK);
  g_assert_cmpuint (again.head_len, ==, out->len);
  g_assert_cmpint (again.method, ==, req.method);
  g_assert_cmpmem (again.method_str, again.method_len, req.method_str, req.method_len);
  g_assert_cmpint (again.body, ==, req.body);
  g_assert_cmpuint (again.content_length, ==, req.content_length);
  g_assert_cmpuint (again.version_minor, ==, 1);
  g_assert_cmpmem (again.authority, again.authority_len, req.authority, req.authority_len);
  g_assert_cmpuint (again.port, ==, req.port);
  g_assert_false (again.has_upgrade);
  switch (req.target_form)
    {
    case MOAT_HTTP_TARGET_ORIGIN:
    case MOAT_HTTP_TARGET_ABSOLUTE:
      g_assert_cmpint (again.target_form, ==,
                       absolute_form ? MOAT_HTTP_TARGET_ABSOLUTE : MOAT_HTTP_TARGET_ORIGIN);
      g_assert_true (path_equal (&req, &again));
      break;
    case MOAT_HTTP_TARGET_AUTHORITY:
    case MOAT_HTTP_TARGET_ASTERISK:
    default:
      g_assert_cmpint (again.target_form, ==, req.target_form);
      g_assert_cmpmem (again.target, again.target_len, req.target, req.target_len);
      break;
    }
  /* only the framing field the writer adds itself is hop-by-hop */
  for (guint i = 0; i < again.n_headers; i++)
    if (again.headers[i].field != MOAT_HTTP_FIELD_TRANSFER_ENCODING)
      g_assert_false (again.headers[i].hop_by_hop);
  (void) data;
}

static void
check_request (const char *data, gsize size)
{
  MoatHttpParseResult res = moat_http_parse_request (data, size, &req);
  gsize cut = size / 2;

  if (res == MOAT_HTTP_PARSE_ERROR)
    check_error (req.error_status, req.error_reason);
  else if (res == MOAT_HTTP_PARSE_OK)
    {
      g_assert_cmpuint (req.head_len, <=, size);
      g_assert_cmpuint (req.head_len, <=, MOAT_HTTP_MAX_HEAD);
      g_assert_cmpuint (req.n_headers, <=, MOAT_HTTP_MAX_FIELDS);
      g_assert_cmpuint (req.error_status, ==, 0);
      /* a longer prefix than the head gives the same head */
      g_assert_cmpint (moat_http_parse_request (data, req.head_len, &prefix), ==, MOAT_HTTP_PARSE_OK);
      g_assert_cmpuint (prefix.head_len, ==, req.head_len);
      if (req.authority != NULL)
        {
          check_rewrite (data, FALSE);
          check_rewrite (data, TRUE);
        }
      cut = MIN (cut, req.head_len - 1);
    }
  else
    g_assert_cmpint (res, ==, MOAT_HTTP_PARSE_INCOMPLETE);

  /* a shorter prefix: INCOMPLETE, or the same error */
  if (size > 0 && (res != MOAT_HTTP_PARSE_OK || req.head_len > 0))
    {
      MoatHttpParseResult pres = moat_http_parse_request (data, cut, &prefix);

      if (pres == MOAT_HTTP_PARSE_ERROR)
        {
          g_assert_cmpint (res, ==, MOAT_HTTP_PARSE_ERROR);
          g_assert_cmpuint (prefix.error_status, ==, req.error_status);
        }
      else
        g_assert_cmpint (pres, ==, MOAT_HTTP_PARSE_INCOMPLETE);
    }
}

static void
check_response (const char *data, gsize size, MoatHttpMethod method)
{
  g_autoptr(GString) out = g_string_new (NULL);
  MoatHttpParseResult res = moat_http_parse_response (data, size, method, &resp);

  if (res == MOAT_HTTP_PARSE_ERROR)
    {
      g_assert_cmpuint (resp.error_status, ==, 502);
      check_error (resp.error_status, resp.error_reason);
      return;
    }
  if (res == MOAT_HTTP_PARSE_INCOMPLETE)
    return;
  g_assert_cmpuint (resp.head_len, <=, size);
  g_assert_cmpuint (resp.status, >=, 100);
  g_assert_cmpuint (resp.status, <=, 999);
  moat_http_response_write_downstream (&resp, 1, FALSE, "1.1 moat", out);
  g_assert_cmpuint (strlen (out->str), ==, out->len);
  res = moat_http_parse_response (out->str, out->len, method, &resp_again);
  if (res == MOAT_HTTP_PARSE_ERROR && resp_again.error_status == 502
      && (out->len > MOAT_HTTP_MAX_HEAD || resp.n_headers >= 98))
    return;
  if (res != MOAT_HTTP_PARSE_OK)
    {
      g_printerr ("rewritten response does not parse (%s):\n%s\n", resp_again.error_reason, out->str);
      abort ();
    }
  g_assert_cmpuint (resp_again.status, ==, resp.status);
  g_assert_cmpint (resp_again.body, ==, resp.body);
  g_assert_cmpuint (resp_again.content_length, ==, resp.content_length);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  const char *s = (const char *) data;

  if (size > 2 * MOAT_HTTP_MAX_HEAD)
    return 0;
  check_request (s, size);
  check_response (s, size, MOAT_HTTP_METHOD_GET);
  check_response (s, size, size > 0 && (data[0] & 1) ? MOAT_HTTP_METHOD_HEAD
                                                       : MOAT_HTTP_METHOD_CONNECT);
  return 0;
}
