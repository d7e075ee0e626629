/* SPDX-License-Identifier: GPL-3.0-or-later
 * Copyright 2026 The Moat developers
 *
 * The strict HTTP/1.x parser: every rule of moat-http-parser.h, table-driven,
 * each request also fed in every split (every prefix must be INCOMPLETE or the
 * same error), the head writers byte for byte, and the chunked re-encoder with
 * every split point and tiny output buffers.
 */
#define G_LOG_DOMAIN "moat-http-parser-test"

#include "config.h"

#include "moat-http-parser.h"

#include <string.h>

typedef struct
{
  MoatHttpRequest req;
  MoatHttpResponse resp;
  GString *out;
} Fixture;

static void
fixture_set_up (Fixture *f, gconstpointer data)
{
  memset (&f->req, 0xa5, sizeof f->req);  /* the parser must initialise everything it reports */
  memset (&f->resp, 0xa5, sizeof f->resp);
  f->out = g_string_new (NULL);
}

static void
fixture_tear_down (Fixture *f, gconstpointer data)
{
  g_string_free (f->out, TRUE);
}

/* ---- request table ---- */

typedef struct
{
  const char *name;
  const char *input;
  gsize len;
  guint status;                /* 0 = must parse OK */
  MoatHttpBodyKind body;       /* when OK */
  guint64 content_length;
  gboolean keep_alive;
} RequestCase;

#define OK_NONE(n, in, ka) { n, in, sizeof (in) - 1, 0, MOAT_HTTP_BODY_NONE, 0, ka }
#define OK_BODY(n, in, b, cl) { n, in, sizeof (in) - 1, 0, MOAT_HTTP_BODY_##b, cl, TRUE }
#define BAD(n, in, st) { n, in, sizeof (in) - 1, st, MOAT_HTTP_BODY_NONE, 0, FALSE }

static const RequestCase request_cases[] = {
  OK_NONE ("absolute-get", "GET http://a.test/x?y HTTP/1.1\r\nHost: a.test\r\n\r\n", TRUE),
  OK_NONE ("origin-get", "GET /x HTTP/1.1\r\nHost: a.test\r\n\r\n", TRUE),
  OK_NONE ("connect", "CONNECT a.test:443 HTTP/1.1\r\nHost: a.test:443\r\n\r\n", TRUE),
  OK_NONE ("connect-host-without-port", "CONNECT a.test:443 HTTP/1.1\r\nHost: a.test\r\n\r\n", TRUE),
  OK_NONE ("connect-ipv6", "CONNECT [::1]:443 HTTP/1.1\r\nHost: [::1]:443\r\n\r\n", TRUE),
  OK_NONE ("options-asterisk", "OPTIONS * HTTP/1.1\r\nHost: a.test\r\n\r\n", TRUE),
  OK_NONE ("http10-no-host", "GET http://a.test/ HTTP/1.0\r\n\r\n", FALSE),
  OK_NONE ("http10-keep-alive", "GET http://a.test/ HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", TRUE),
  OK_NONE ("http10-proxy-connection", "GET http://a.test/ HTTP/1.0\r\nProxy-Connection: Keep-Alive\r\n\r\n", TRUE),
  OK_NONE ("http11-close", "GET http://a.test/ HTTP/1.1\r\nHost: a.test\r\nConnection: close\r\n\r\n", FALSE),
  OK_NONE ("http11-close-list", "GET http://a.test/ HTTP/1.1\r\nHost: a.test\r\nConnection: , foo ,CLOSE\r\n\r\n", FALSE),
  OK_NONE ("leading-empty-line", "\r\nGET http://a.test/ HTTP/1.1\r\nHost: a.test\r\n\r\n", TRUE),
  OK_NONE ("host-normalised", "GET http://A.Test.:80/ HTTP/1.1\r\nHost: a.test\r\n\r\n", TRUE),
  OK_NONE ("host-percent", "GET http://%61.test/ HTTP/1.1\r\nHost: a.TEST:80\r\n\r\n", TRUE),
  OK_NONE ("host-ipv4", "GET http://127.0.0.1:8080/ HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n\r\n", TRUE),
  OK_NONE ("scheme-case", "GET HTTP://a.test/ HTTP/1.1\r\nHost: a.test\r\n\r\n", TRUE),
  OK_NONE ("no-path", "GET http://a.test HTTP/1.1\r\nHost: a.test\r\n\r\n", TRUE),
  OK_NONE ("query-no-path", "GET http://a.test?q=1 HTTP/1.1\r\nHost: a.test\r\n\r\n", TRUE),
  OK_NONE ("unknown-method", "PROPFIND http://a.test/ HTTP/1.1\r\nHost: a.test\r\n\r\n", TRUE),
  OK_NONE ("upgrade", "GET http://a.test/ HTTP/1.1\r\nHost: a.test\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n", TRUE),
  OK_NONE ("obs-text-value", "GET http://a.test/ HTTP/1.1\r\nHost: a.test\r\nX-A: caf\xc3\xa9\r\n\r\n", TRUE),
  OK_NONE ("empty-value", "GET http://a.test/ HTTP/1.1\r\nHost: a.test\r\nX-A:\r\nX-B:  \t \r\n\r\n", TRUE),
  OK_NONE ("htab-in-value", "GET http://a.test/ HTTP/1.1\r\nHost: a.test\r\nX-A: a\tb\r\n\r\n", TRUE),
  OK_BODY ("content-length", "POST http://a.test/ HTTP/1.1\r\nHost: a.test\r\nContent-Length: 12\r\n\r\n", LENGTH, 12),
  OK_BODY ("content-length-zero", "POST http://a.test/ HTTP/1.1\r\nHost: a.test\r\nContent-Length: 0\r\n\r\n", LENGTH, 0),
  OK_BODY ("content-length-ows", "POST http://a.test/ HTTP/1.1\r\nHost: a.test\r\nContent-Length:   7 \t\r\n\r\n", LENGTH, 7),
  OK_BODY ("content-length-max", "POST http://a.test/ HTTP/1.1\r\nHost: a.test\r\nContent-Length: 999999999999999999\r\n\r\n", LENGTH, G_GUINT64_CONSTANT (999999999999999999)),
  OK_BODY ("chunked", "POST http://a.test/ HTTP/1.1\r\nHost: a.test\r\nTransfer-Encoding: chunked\r\n\r\n", CHUNKED, 0),
  OK_BODY ("chunked-case", "POST http://a.test/ HTTP/1.1\r\nHost: a.test\r\nTransfer-Encoding:  Chunked \r\n\r\n", CHUNKED, 0),

  /* line endings and syntax */
  BAD ("bare-lf-request-line", "GET http://a.test/ HTTP/1.1\nHost: a.test\r\n\r\n", 400),
  BAD ("bare-lf-field", "GET http://a.test/ HTTP/1.1\r\nHost: a.test\nX: y\r\n\r\n", 400),
  BAD ("bare-lf-end", "GET http://a.test/ HTTP/1.1\r\nHost: a.test\r\n\n", 400),
  BAD ("bare-lf-only", "GET http://a.test/ HTTP/1.1\nHost: a.test\n\n", 400),
  BAD ("bare-lf-leading", "\nGET http://a.test/ HTTP/1.1\r\nHost: a.test\r\n\r\n", 400),
  BAD ("bare-cr-field", "GET http://a.test/ HTTP/1.1\r\nHost: a.test\rX: y\r\n\r\n", 400),
  BAD ("bare-cr-end", "GET http://a.test/ HTTP/1.1\r\nHost: a.test\r\n\rX\r\n", 400),
  BAD ("obs-fold", "GET http://a.test/ HTTP/1.1\r\nHost: a.test\r\nX-A: a\r\n b\r\n\r\n", 400),
  BAD ("obs-fold-tab", "GET http://a.test/ HTTP/1.1\r\nHost: a.test\r\nX-A: a\r\n\tb\r\n\r\n", 400),
  BAD ("space-before-colon", "GET http://a.test/ HTTP/1.1\r\nHost : a.test\r\n\r\n", 400),
  BAD ("tab-before-colon", "GET http://a.test/ HTTP/1.1\r\nHost\t: a.test\r\n\r\n", 400),
  BAD ("no-colon", "GET http://a.test/ HTTP/1.1\r\nHost a.test\r\n\r\n", 400),
  BAD ("no-colon-bare", "GET http://a.test/ HTTP/1.1\r\nHost: a.test\r\nfoo\r\n\r\n", 400),
  BAD ("empty-name", "GET http://a.test/ HTTP/1.1\r\nHost: a.test\r\n: x\r\n\r\n", 400),
  BAD ("bad-name-char", "GET http://a.test/ HTTP/1.1\r\nHost: a.test\r\nX(a): x\r\n\r\n", 400),
  BAD ("nul-in-value", "GET http://a.test/ HTTP/1.1\r\nHost: a.test\r\nX-A: a\0b\r\n\r\n", 400),
  BAD ("del-in-value", "GET http://a.test/ HTTP/1.1\r\nHost: a.test\r\nX-A: a\x7f\r\n\r\n", 400),
  BAD ("ctl-in-value", "GET http://a.test/ HTTP/1.1\r\nHost: a.test\r\nX-A: a\x01\r\n\r\n", 400),
  BAD ("cr-in-value", "GET http://a.test/ HTTP/1.1\r\nHost: a.test\r\nX-A: a\rb\r\n\r\n", 400),
  BAD ("method-bad-char", "G(T http://a.test/ HTTP/1.1\r\nHost: a.test\r\n\r\n", 400),
  BAD ("method-empty", " http://a.test/ HTTP/1.1\r\nHost: a.test\r\n\r\n", 400),
  BAD ("double-space", "GET  http://a.test/ HTTP/1.1\r\nHost: a.test\r\n\r\n", 400),
  BAD ("trailing-space", "GET http://a.test/ HTTP/1.1 \r\nHost: a.test\r\n\r\n", 400),
  BAD ("tab-separator", "GET\thttp://a.test/ HTTP/1.1\r\nHost: a.test\r\n\r\n", 400),
  BAD ("nul-in-target", "GET http://a.test/\0 HTTP/1.1\r\nHost: a.test\r\n\r\n", 400),
  BAD ("utf8-in-target", "GET http://a.test/\xc3\xa9 HTTP/1.1\r\nHost: a.test\r\n\r\n", 400),
  BAD ("fragment", "GET http://a.test/#x HTTP/1.1\r\nHost: a.test\r\n\r\n", 400),
  BAD ("fragment-origin", "GET /a#x HTTP/1.1\r\nHost: a.test\r\n\r\n", 400),

  /* versions */
  BAD ("http20", "GET http://a.test/ HTTP/2.0\r\nHost: a.test\r\n\r\n", 505),
  BAD ("http12", "GET http://a.test/ HTTP/1.2\r\nHost: a.test\r\n\r\n", 505),
  BAD ("http09", "GET http://a.test/ HTTP/0.9\r\nHost: a.test\r\n\r\n", 505),
  BAD ("http09-no-version", "GET /\r\n\r\n", 505),
  BAD ("version-lowercase", "GET http://a.test/ http/1.1\r\nHost: a.test\r\n\r\n", 400),
  BAD ("version-long", "GET http://a.test/ HTTP/1.10\r\nHost: a.test\r\n\r\n", 400),
  BAD ("version-garbage", "GET http://a.test/ FOO\r\nHost: a.test\r\n\r\n", 400),

  /* targets */
  BAD ("scheme-https", "GET https://a.test/ HTTP/1.1\r\nHost: a.test\r\n\r\n", 400),
  BAD ("scheme-ftp", "GET ftp://a.test/ HTTP/1.1\r\nHost: a.test\r\n\r\n", 400),
  BAD ("scheme-no-slashes", "GET http:a.test/ HTTP/1.1\r\nHost: a.test\r\n\r\n", 400),
  BAD ("relative-target", "GET foo HTTP/1.1\r\nHost: a.test\r\n\r\n", 400),
  BAD ("userinfo", "GET http://allowed.test@blocked.test/ HTTP/1.1\r\nHost: blocked.test\r\n\r\n", 400),
  BAD ("userinfo-password", "GET http://u:p@a.test/ HTTP/1.1\r\nHost: a.test\r\n\r\n", 400),
  BAD ("empty-authority", "GET http:/// HTTP/1.1\r\nHost: a.test\r\n\r\n", 400),
  BAD ("authority-bad-char", "GET http://a!b.test/ HTTP/1.1\r\nHost: a!b.test\r\n\r\n", 400),
  BAD ("authority-bad-percent", "GET http://a%zz.test/ HTTP/1.1\r\nHost: a.test\r\n\r\n", 400),
  BAD ("authority-port-0", "GET http://a.test:0/ HTTP/1.1\r\nHost: a.test:0\r\n\r\n", 400),
  BAD ("authority-port-huge", "GET http://a.test:65536/ HTTP/1.1\r\nHost: a.test:65536\r\n\r\n", 400),
  BAD ("authority-port-empty", "GET http://a.test:/ HTTP/1.1\r\nHost: a.test\r\n\r\n", 400),
  BAD ("host-mismatch", "GET http://allowed.test/ HTTP/1.1\r\nHost: blocked.test\r\n\r\n", 400),
  BAD ("host-port-mismatch", "GET http://a.test/ HTTP/1.1\r\nHost: a.test:8080\r\n\r\n", 400),
  BAD ("host-port-mismatch-2", "GET http://a.test:8080/ HTTP/1.1\r\nHost: a.test\r\n\r\n", 400),
  BAD ("host-missing", "GET http://a.test/ HTTP/1.1\r\n\r\n", 400),
  BAD ("host-missing-origin", "GET / HTTP/1.1\r\n\r\n", 400),
  BAD ("host-twice", "GET http://a.test/ HTTP/1.1\r\nHost: a.test\r\nHost: a.test\r\n\r\n", 400),
  BAD ("host-invalid", "GET / HTTP/1.1\r\nHost: a test\r\n\r\n", 400),
  BAD ("host-userinfo", "GET / HTTP/1.1\r\nHost: u@a.test\r\n\r\n", 400),
  BAD ("host-empty", "GET / HTTP/1.1\r\nHost:\r\n\r\n", 400),
  BAD ("asterisk-get", "GET * HTTP/1.1\r\nHost: a.test\r\n\r\n", 400),
  BAD ("connect-origin", "CONNECT /x HTTP/1.1\r\nHost: a.test\r\n\r\n", 400),
  BAD ("connect-absolute", "CONNECT http://a.test:443/ HTTP/1.1\r\nHost: a.test\r\n\r\n", 400),
  BAD ("connect-no-port", "CONNECT a.test HTTP/1.1\r\nHost: a.test\r\n\r\n", 400),
  BAD ("connect-port-0", "CONNECT a.test:0 HTTP/1.1\r\nHost: a.test\r\n\r\n", 400),
  BAD ("connect-port-70000", "CONNECT a.test:70000 HTTP/1.1\r\nHost: a.test\r\n\r\n", 400),
  BAD ("connect-port-sign", "CONNECT a.test:+443 HTTP/1.1\r\nHost: a.test\r\n\r\n", 400),
  BAD ("connect-userinfo", "CONNECT u@a.test:443 HTTP/1.1\r\nHost: a.test\r\n\r\n", 400),
  BAD ("connect-host-mismatch", "CONNECT a.test:443 HTTP/1.1\r\nHost: b.test:443\r\n\r\n", 400),
  BAD ("connect-body", "CONNECT a.test:443 HTTP/1.1\r\nHost: a.test\r\nContent-Length: 5\r\n\r\n", 400),
  BAD ("connect-chunked", "CONNECT a.test:443 HTTP/1.1\r\nHost: a.test\r\nTransfer-Encoding: chunked\r\n\r\n", 400),
  BAD ("connect-bad-ipv6", "CONNECT [::1:443 HTTP/1.1\r\nHost: a.test\r\n\r\n", 400),

  /* framing: request smuggling */
  BAD ("cl-te", "POST http://a.test/ HTTP/1.1\r\nHost: a.test\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n", 400),
  BAD ("te-cl", "POST http://a.test/ HTTP/1.1\r\nHost: a.test\r\nTransfer-Encoding: chunked\r\nContent-Length: 4\r\n\r\n", 400),
  BAD ("cl-duplicate-same", "POST http://a.test/ HTTP/1.1\r\nHost: a.test\r\nContent-Length: 4\r\nContent-Length: 4\r\n\r\n", 400),
  BAD ("cl-duplicate-different", "POST http://a.test/ HTTP/1.1\r\nHost: a.test\r\nContent-Length: 4\r\nContent-Length: 5\r\n\r\n", 400),
  BAD ("cl-list", "POST http://a.test/ HTTP/1.1\r\nHost: a.test\r\nContent-Length: 4, 4\r\n\r\n", 400),
  BAD ("cl-plus", "POST http://a.test/ HTTP/1.1\r\nHost: a.test\r\nContent-Length: +4\r\n\r\n", 400),
  BAD ("cl-minus", "POST http://a.test/ HTTP/1.1\r\nHost: a.test\r\nContent-Length: -1\r\n\r\n", 400),
  BAD ("cl-inner-space", "POST http://a.test/ HTTP/1.1\r\nHost: a.test\r\nContent-Length: 4 4\r\n\r\n", 400),
  BAD ("cl-hex", "POST http://a.test/ HTTP/1.1\r\nHost: a.test\r\nContent-Length: 0x10\r\n\r\n", 400),
  BAD ("cl-leading-zero", "POST http://a.test/ HTTP/1.1\r\nHost: a.test\r\nContent-Length: 010\r\n\r\n", 400),
  BAD ("cl-huge", "POST http://a.test/ HTTP/1.1\r\nHost: a.test\r\nContent-Length: 99999999999999999999999\r\n\r\n", 400),
  BAD ("cl-19-digits", "POST http://a.test/ HTTP/1.1\r\nHost: a.test\r\nContent-Length: 1000000000000000000\r\n\r\n", 400),
  BAD ("cl-empty", "POST http://a.test/ HTTP/1.1\r\nHost: a.test\r\nContent-Length:\r\n\r\n", 400),
  BAD ("te-gzip", "POST http://a.test/ HTTP/1.1\r\nHost: a.test\r\nTransfer-Encoding: gzip\r\n\r\n", 501),
  BAD ("te-identity", "POST http://a.test/ HTTP/1.1\r\nHost: a.test\r\nTransfer-Encoding: identity\r\n\r\n", 501),
  BAD ("te-gzip-chunked", "POST http://a.test/ HTTP/1.1\r\nHost: a.test\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", 501),
  BAD ("te-chunked-gzip", "POST http://a.test/ HTTP/1.1\r\nHost: a.test\r\nTransfer-Encoding: chunked, gzip\r\n\r\n", 400),
  BAD ("te-chunked-twice", "POST http://a.test/ HTTP/1.1\r\nHost: a.test\r\nTransfer-Encoding: chunked, chunked\r\n\r\n", 400),
  BAD ("te-two-fields", "POST http://a.test/ HTTP/1.1\r\nHost: a.test\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n", 400),
  BAD ("te-empty", "POST http://a.test/ HTTP/1.1\r\nHost: a.test\r\nTransfer-Encoding:\r\n\r\n", 400),
  BAD ("te-params", "POST http://a.test/ HTTP/1.1\r\nHost: a.test\r\nTransfer-Encoding: chunked;x=1\r\n\r\n", 400),
  BAD ("te-garbage", "POST http://a.test/ HTTP/1.1\r\nHost: a.test\r\nTransfer-Encoding: chun ked\r\n\r\n", 400),
  BAD ("te-quoted", "POST http://a.test/ HTTP/1.1\r\nHost: a.test\r\nTransfer-Encoding: \"chunked\"\r\n\r\n", 400),
  BAD ("te-http10", "POST http://a.test/ HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", 400),
  BAD ("connection-host", "GET http://a.test/ HTTP/1.1\r\nHost: a.test\r\nConnection: host\r\n\r\n", 400),
  BAD ("connection-content-length", "POST http://a.test/ HTTP/1.1\r\nHost: a.test\r\nContent-Length: 1\r\nConnection: Content-Length\r\n\r\n", 400),
  BAD ("connection-transfer-encoding", "GET http://a.test/ HTTP/1.1\r\nHost: a.test\r\nConnection: close, transfer-encoding\r\n\r\n", 400),
  BAD ("connection-garbage", "GET http://a.test/ HTTP/1.1\r\nHost: a.test\r\nConnection: clo(se\r\n\r\n", 400),
};

static void
check_request_case (Fixture *f, const RequestCase *c, gsize len)
{
  MoatHttpParseResult res = moat_http_parse_request (c->input, len, &f->req);

  if (c->status == 0)
    {
      g_assert_cmpint (res, ==, MOAT_HTTP_PARSE_OK);
      g_assert_cmpuint (f->req.head_len, ==, len);
      g_assert_cmpint (f->req.body, ==, c->body);
      g_assert_cmpuint (f->req.content_length, ==, c->content_length);
      g_assert_cmpint (f->req.keep_alive, ==, c->keep_alive);
      g_assert_cmpuint (f->req.error_status, ==, 0);
      g_assert_null (f->req.error_reason);
    }
  else
    {
      g_assert_cmpint (res, ==, MOAT_HTTP_PARSE_ERROR);
      g_assert_cmpuint (f->req.error_status, ==, c->status);
      g_assert_nonnull (f->req.error_reason);
      g_assert_null (strpbrk (f->req.error_reason, "\r\n"));
    }
}

static gsize
case_len (const RequestCase *c)
{
  return c->len;
}

static void
test_request_case (Fixture *f, gconstpointer data)
{
  const RequestCase *c = data;
  gsize len = case_len (c);

  check_request_case (f, c, len);

  /* Every prefix: INCOMPLETE, or already the same error (never OK, never another status). */
  for (gsize i = 0; i < len; i++)
    {
      MoatHttpParseResult res = moat_http_parse_request (c->input, i, &f->req);

      if (res == MOAT_HTTP_PARSE_ERROR)
        {
          g_assert_cmpuint (c->status, !=, 0);
          g_assert_cmpuint (f->req.error_status, ==, c->status);
        }
      else
        g_assert_cmpint (res, ==, MOAT_HTTP_PARSE_INCOMPLETE);
    }
}

static void
test_request_fields (Fixture *f, gconstpointer data)
{
  const char *in = "GET http://Example.test:8080/p/a?q=1 HTTP/1.1\r\n"
                   "Host: example.test:8080\r\n"
                   "User-Agent:   curl/8 \t\r\n"
                   "Connection: keep-alive, X-Secret\r\n"
                   "X-Secret: 1\r\n"
                   "Keep-Alive: timeout=5\r\n"
                   "Proxy-Authorization: Basic eA==\r\n"
                   "TE: trailers\r\n"
                   "Expect: 100-Continue\r\n"
                   "Via: 1.0 other\r\n"
                   "\r\nBODY";
  gsize len = strlen (in);

  g_assert_cmpint (moat_http_parse_request (in, len, &f->req), ==, MOAT_HTTP_PARSE_OK);
  g_assert_cmpuint (f->req.head_len, ==, len - 4);
  g_assert_cmpint (f->req.method, ==, MOAT_HTTP_METHOD_GET);
  g_assert_cmpmem (f->req.method_str, f->req.method_len, "GET", 3);
  g_assert_cmpint (f->req.target_form, ==, MOAT_HTTP_TARGET_ABSOLUTE);
  g_assert_cmpmem (f->req.target, f->req.target_len, "http://Example.test:8080/p/a?q=1", 32);
  g_assert_cmpmem (f->req.scheme, f->req.scheme_len, "http", 4);
  g_assert_cmpmem (f->req.authority, f->req.authority_len, "Example.test:8080", 17);
  g_assert_cmpmem (f->req.path, f->req.path_len, "/p/a?q=1", 8);
  g_assert_cmpuint (f->req.port, ==, 8080);
  g_assert_cmpuint (f->req.version_minor, ==, 1);
  g_assert_cmpuint (f->req.n_headers, ==, 9);
  g_assert_true (f->req.host == &f->req.headers[0]);
  g_assert_cmpmem (f->req.headers[1].name, f->req.headers[1].name_len, "User-Agent", 10);
  g_assert_cmpmem (f->req.headers[1].value, f->req.headers[1].value_len, "curl/8", 6);
  g_assert_cmpint (f->req.headers[0].field, ==, MOAT_HTTP_FIELD_HOST);
  g_assert_cmpint (f->req.headers[2].field, ==, MOAT_HTTP_FIELD_CONNECTION);
  g_assert_cmpint (f->req.headers[5].field, ==, MOAT_HTTP_FIELD_PROXY_AUTHORIZATION);
  g_assert_cmpint (f->req.headers[8].field, ==, MOAT_HTTP_FIELD_VIA);
  /* hop-by-hop: Connection, the field it names, Keep-Alive, Proxy-Authorization, TE */
  g_assert_false (f->req.headers[0].hop_by_hop);
  g_assert_false (f->req.headers[1].hop_by_hop);
  g_assert_true (f->req.headers[2].hop_by_hop);
  g_assert_true (f->req.headers[3].hop_by_hop);
  g_assert_true (f->req.headers[4].hop_by_hop);
  g_assert_true (f->req.headers[5].hop_by_hop);
  g_assert_true (f->req.headers[6].hop_by_hop);
  g_assert_false (f->req.headers[7].hop_by_hop);
  g_assert_false (f->req.headers[8].hop_by_hop);
  g_assert_true (f->req.expect_continue);
  g_assert_false (f->req.has_upgrade);
  g_assert_true (f->req.keep_alive);
  g_assert_cmpint (f->req.body, ==, MOAT_HTTP_BODY_NONE);
}

static void
test_request_forms (Fixture *f, gconstpointer data)
{
  const char *origin = "POST /proxy.pac HTTP/1.1\r\nHost: 127.0.0.1:3128\r\nContent-Length: 3\r\n\r\n";
  const char *connect = "CONNECT [::1]:8443 HTTP/1.1\r\nHost: [::1]:8443\r\n\r\n";
  const char *star = "OPTIONS * HTTP/1.0\r\n\r\n";
  const char *nopath = "GET http://a.test?x=1 HTTP/1.0\r\n\r\n";
  const char *upgrade = "GET / HTTP/1.1\r\nHost: a\r\nUpgrade: h2c\r\nExpect: 100-continue\r\n\r\n";
  const char *expect10 = "PUT http://a.test/ HTTP/1.0\r\nExpect: 100-continue\r\nContent-Length: 1\r\n\r\n";

  g_assert_cmpint (moat_http_parse_request (origin, strlen (origin), &f->req), ==, MOAT_HTTP_PARSE_OK);
  g_assert_cmpint (f->req.method, ==, MOAT_HTTP_METHOD_POST);
  g_assert_cmpint (f->req.target_form, ==, MOAT_HTTP_TARGET_ORIGIN);
  g_assert_null (f->req.scheme);
  g_assert_cmpmem (f->req.path, f->req.path_len, "/proxy.pac", 10);
  g_assert_cmpmem (f->req.authority, f->req.authority_len, "127.0.0.1:3128", 14);
  g_assert_cmpuint (f->req.port, ==, 3128);
  g_assert_cmpint (f->req.body, ==, MOAT_HTTP_BODY_LENGTH);
  g_assert_cmpuint (f->req.content_length, ==, 3);

  g_assert_cmpint (moat_http_parse_request (connect, strlen (connect), &f->req), ==, MOAT_HTTP_PARSE_OK);
  g_assert_cmpint (f->req.method, ==, MOAT_HTTP_METHOD_CONNECT);
  g_assert_cmpint (f->req.target_form, ==, MOAT_HTTP_TARGET_AUTHORITY);
  g_assert_cmpmem (f->req.authority, f->req.authority_len, "[::1]:8443", 10);
  g_assert_cmpuint (f->req.port, ==, 8443);
  g_assert_null (f->req.path);
  g_assert_null (f->req.scheme);

  g_assert_cmpint (moat_http_parse_request (star, strlen (star), &f->req), ==, MOAT_HTTP_PARSE_OK);
  g_assert_cmpint (f->req.method, ==, MOAT_HTTP_METHOD_OPTIONS);
  g_assert_cmpint (f->req.target_form, ==, MOAT_HTTP_TARGET_ASTERISK);
  g_assert_null (f->req.path);
  g_assert_null (f->req.host);
  g_assert_cmpuint (f->req.version_minor, ==, 0);
  g_assert_false (f->req.keep_alive);

  g_assert_cmpint (moat_http_parse_request (nopath, strlen (nopath), &f->req), ==, MOAT_HTTP_PARSE_OK);
  g_assert_cmpmem (f->req.authority, f->req.authority_len, "a.test", 6);
  g_assert_cmpmem (f->req.path, f->req.path_len, "?x=1", 4);
  g_assert_cmpuint (f->req.port, ==, 80);

  g_assert_cmpint (moat_http_parse_request (upgrade, strlen (upgrade), &f->req), ==, MOAT_HTTP_PARSE_OK);
  g_assert_true (f->req.has_upgrade);
  g_assert_true (f->req.expect_continue);
  g_assert_true (f->req.headers[1].hop_by_hop);

  /* RFC 9110 10.1.1: a server ignores 100-continue from an HTTP/1.0 client */
  g_assert_cmpint (moat_http_parse_request (expect10, strlen (expect10), &f->req), ==, MOAT_HTTP_PARSE_OK);
  g_assert_false (f->req.expect_continue);
}

static void
test_request_methods (Fixture *f, gconstpointer data)
{
  static const struct { const char *m; MoatHttpMethod method; } methods[] = {
    { "GET", MOAT_HTTP_METHOD_GET }, { "HEAD", MOAT_HTTP_METHOD_HEAD },
    { "POST", MOAT_HTTP_METHOD_POST }, { "PUT", MOAT_HTTP_METHOD_PUT },
    { "DELETE", MOAT_HTTP_METHOD_DELETE }, { "OPTIONS", MOAT_HTTP_METHOD_OPTIONS },
    { "PATCH", MOAT_HTTP_METHOD_PATCH }, { "TRACE", MOAT_HTTP_METHOD_TRACE },
    { "get", MOAT_HTTP_METHOD_OTHER }, { "M-SEARCH", MOAT_HTTP_METHOD_OTHER },
    { "X!#$%&'*+-.^_`|~9", MOAT_HTTP_METHOD_OTHER },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (methods); i++)
    {
      g_autofree char *in = g_strdup_printf ("%s http://a.test/ HTTP/1.1\r\nHost: a.test\r\n\r\n",
                                             methods[i].m);

      g_assert_cmpint (moat_http_parse_request (in, strlen (in), &f->req), ==, MOAT_HTTP_PARSE_OK);
      g_assert_cmpint (f->req.method, ==, methods[i].method);
      g_assert_cmpmem (f->req.method_str, f->req.method_len, methods[i].m, strlen (methods[i].m));
    }
}

static GString *
build_head (const char *request_line, guint n_fields, gsize field_value_len, gboolean end)
{
  GString *s = g_string_new (request_line);

  g_string_append (s, "Host: a.test\r\n");
  for (guint i = 0; i < n_fields; i++)
    {
      g_string_append_printf (s, "X-F%u: ", i);
      for (gsize j = 0; j < field_value_len; j++)
        g_string_append_c (s, 'v');
      g_string_append (s, "\r\n");
    }
  if (end)
    g_string_append (s, "\r\n");
  return s;
}

static void
test_request_limits (Fixture *f, gconstpointer data)
{
  g_autoptr(GString) line = g_string_new ("GET http://a.test/");
  g_autoptr(GString) s = NULL;

  /* request line: exactly 8192 bytes is fine, one more is 414, with or without the end */
  while (line->len < MOAT_HTTP_MAX_REQUEST_LINE - strlen (" HTTP/1.1"))
    g_string_append_c (line, 'a');
  g_string_append (line, " HTTP/1.1");
  g_assert_cmpuint (line->len, ==, MOAT_HTTP_MAX_REQUEST_LINE);
  s = g_string_new (line->str);
  g_string_append (s, "\r\nHost: a.test\r\n\r\n");
  g_assert_cmpint (moat_http_parse_request (s->str, s->len, &f->req), ==, MOAT_HTTP_PARSE_OK);
  g_string_free (s, TRUE);

  g_string_insert_c (line, 20, 'a');
  s = g_string_new (line->str);
  g_string_append (s, "\r\nHost: a.test\r\n\r\n");
  g_assert_cmpint (moat_http_parse_request (s->str, s->len, &f->req), ==, MOAT_HTTP_PARSE_ERROR);
  g_assert_cmpuint (f->req.error_status, ==, 414);
  /* without the end of the line: 414 once the limit is passed, not before */
  g_assert_cmpint (moat_http_parse_request (s->str, MOAT_HTTP_MAX_REQUEST_LINE, &f->req), ==,
                   MOAT_HTTP_PARSE_INCOMPLETE);
  g_assert_cmpint (moat_http_parse_request (s->str, MOAT_HTTP_MAX_REQUEST_LINE + 2, &f->req), ==,
                   MOAT_HTTP_PARSE_ERROR);
  g_assert_cmpuint (f->req.error_status, ==, 414);
  g_string_free (s, TRUE);

  /* 100 fields (Host + 99) are fine, 101 are 431 */
  s = build_head ("GET http://a.test/ HTTP/1.1\r\n", 99, 4, TRUE);
  g_assert_cmpint (moat_http_parse_request (s->str, s->len, &f->req), ==, MOAT_HTTP_PARSE_OK);
  g_assert_cmpuint (f->req.n_headers, ==, 100);
  g_string_free (s, TRUE);
  s = build_head ("GET http://a.test/ HTTP/1.1\r\n", 100, 4, TRUE);
  g_assert_cmpint (moat_http_parse_request (s->str, s->len, &f->req), ==, MOAT_HTTP_PARSE_ERROR);
  g_assert_cmpuint (f->req.error_status, ==, 431);
  g_string_free (s, TRUE);
  /* ... even before the head ends */
  s = build_head ("GET http://a.test/ HTTP/1.1\r\n", 100, 4, FALSE);
  g_assert_cmpint (moat_http_parse_request (s->str, s->len, &f->req), ==, MOAT_HTTP_PARSE_ERROR);
  g_assert_cmpuint (f->req.error_status, ==, 431);
  g_string_free (s, TRUE);

  /* a 64 KiB head is fine; one byte more is 431 */
  s = build_head ("GET http://a.test/ HTTP/1.1\r\n", 60, 1000, FALSE);
  g_string_append (s, "X-Pad: ");
  while (s->len < MOAT_HTTP_MAX_HEAD - 4)
    g_string_append_c (s, 'p');
  g_string_append (s, "\r\n\r\n");
  g_assert_cmpuint (s->len, ==, MOAT_HTTP_MAX_HEAD);
  g_assert_cmpint (moat_http_parse_request (s->str, s->len, &f->req), ==, MOAT_HTTP_PARSE_OK);
  g_assert_cmpuint (f->req.head_len, ==, MOAT_HTTP_MAX_HEAD);
  g_string_insert_c (s, s->len - 5, 'p');
  g_assert_cmpint (moat_http_parse_request (s->str, s->len, &f->req), ==, MOAT_HTTP_PARSE_ERROR);
  g_assert_cmpuint (f->req.error_status, ==, 431);
  /* without the end: INCOMPLETE below the limit, 431 at it */
  g_assert_cmpint (moat_http_parse_request (s->str, MOAT_HTTP_MAX_HEAD - 1, &f->req), ==,
                   MOAT_HTTP_PARSE_INCOMPLETE);
  g_assert_cmpint (moat_http_parse_request (s->str, MOAT_HTTP_MAX_HEAD, &f->req), ==,
                   MOAT_HTTP_PARSE_ERROR);
  g_assert_cmpuint (f->req.error_status, ==, 431);
}

static void
test_request_early_errors (Fixture *f, gconstpointer data)
{
  /* Errors in complete lines are reported without waiting for the end of the head. */
  static const struct { const char *in; guint status; } cases[] = {
    { "GET http://a.test/ HTTP/2.0\r\n", 505 },
    { "GET http://a.test/ HTTP/1.1\nHost", 400 },
    { "G@T ", 400 },
    { "GET http://a.test/ HTTP/1.1\r\nHost: a\r\n folded", 400 },
    { "GET http://a.test/ HTTP/1.1\r\nX\0", 400 },
    { "GET /\x01", 400 },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      gsize len = strlen (cases[i].in);

      if (i == 4)
        len += 1;
      g_assert_cmpint (moat_http_parse_request (cases[i].in, len, &f->req), ==, MOAT_HTTP_PARSE_ERROR);
      g_assert_cmpuint (f->req.error_status, ==, cases[i].status);
    }
}

/* ---- writers ---- */

static void
test_write_upstream (Fixture *f, gconstpointer data)
{
  const char *in = "POST http://A.test/p?q HTTP/1.1\r\n"
                   "Host: a.TEST\r\n"
                   "Via: 1.0 first\r\n"
                   "Connection: keep-alive, X-Hop\r\n"
                   "Proxy-Connection: keep-alive\r\n"
                   "X-Hop: secret\r\n"
                   "Accept: */*\r\n"
                   "Transfer-Encoding: chunked\r\n"
                   "Via: 1.1 second\r\n"
                   "TE: trailers\r\n"
                   "Proxy-Authorization: Basic x\r\n"
                   "\r\n";

  g_assert_cmpint (moat_http_parse_request (in, strlen (in), &f->req), ==, MOAT_HTTP_PARSE_OK);
  moat_http_request_write_upstream (&f->req, FALSE, "1.1 moat", f->out);
  g_assert_cmpstr (f->out->str, ==,
                   "POST /p?q HTTP/1.1\r\n"
                   "Host: A.test\r\n"
                   "Accept: */*\r\n"
                   "Transfer-Encoding: chunked\r\n"
                   "Via: 1.0 first, 1.1 second, 1.1 moat\r\n"
                   "\r\n");

  g_string_truncate (f->out, 0);
  moat_http_request_write_upstream (&f->req, TRUE, NULL, f->out);
  g_assert_cmpstr (f->out->str, ==,
                   "POST http://A.test/p?q HTTP/1.1\r\n"
                   "Host: A.test\r\n"
                   "Via: 1.0 first\r\n"
                   "Accept: */*\r\n"
                   "Via: 1.1 second\r\n"
                   "Transfer-Encoding: chunked\r\n"
                   "\r\n");
}

static void
test_write_upstream_http10 (Fixture *f, gconstpointer data)
{
  const char *in = "GET http://a.test:8080?x HTTP/1.0\r\nContent-Length: 0\r\nUser-Agent: old\r\n\r\n";
  const char *connect = "CONNECT a.test:443 HTTP/1.1\r\nHost: a.test:443\r\nUser-Agent: x\r\n\r\n";

  g_assert_cmpint (moat_http_parse_request (in, strlen (in), &f->req), ==, MOAT_HTTP_PARSE_OK);
  moat_http_request_write_upstream (&f->req, FALSE, "1.1 moat", f->out);
  g_assert_cmpstr (f->out->str, ==,
                   "GET /?x HTTP/1.1\r\n"
                   "Host: a.test:8080\r\n"
                   "Content-Length: 0\r\n"
                   "User-Agent: old\r\n"
                   "Via: 1.1 moat\r\n"
                   "\r\n");

  g_string_truncate (f->out, 0);
  g_assert_cmpint (moat_http_parse_request (connect, strlen (connect), &f->req), ==, MOAT_HTTP_PARSE_OK);
  moat_http_request_write_upstream (&f->req, TRUE, "1.1 moat", f->out);
  g_assert_cmpstr (f->out->str, ==,
                   "CONNECT a.test:443 HTTP/1.1\r\n"
                   "Host: a.test:443\r\n"
                   "User-Agent: x\r\n"
                   "Via: 1.1 moat\r\n"
                   "\r\n");
}

static void
test_write_downstream (Fixture *f, gconstpointer data)
{
  const char *in = "HTTP/1.1 200 Fine\r\n"
                   "Content-Type: text/plain\r\n"
                   "Transfer-Encoding: chunked\r\n"
                   "Connection: keep-alive, X-Hop\r\n"
                   "Keep-Alive: timeout=5\r\n"
                   "X-Hop: 1\r\n"
                   "Proxy-Authenticate: Basic\r\n"
                   "Via: 1.1 upstream\r\n"
                   "Trailer: X-T\r\n"
                   "\r\n";
  const char *cl = "HTTP/1.0 404 \r\nContent-Length: 3\r\n\r\n";

  g_assert_cmpint (moat_http_parse_response (in, strlen (in), MOAT_HTTP_METHOD_GET, &f->resp), ==,
                   MOAT_HTTP_PARSE_OK);
  moat_http_response_write_downstream (&f->resp, 1, FALSE, "1.1 moat", f->out);
  g_assert_cmpstr (f->out->str, ==,
                   "HTTP/1.1 200 Fine\r\n"
                   "Content-Type: text/plain\r\n"
                   "Transfer-Encoding: chunked\r\n"
                   "Via: 1.1 upstream, 1.1 moat\r\n"
                   "\r\n");

  /* an HTTP/1.0 client cannot take chunked: no framing field, and close */
  g_string_truncate (f->out, 0);
  moat_http_response_write_downstream (&f->resp, 0, FALSE, "1.1 moat", f->out);
  g_assert_cmpstr (f->out->str, ==,
                   "HTTP/1.1 200 Fine\r\n"
                   "Content-Type: text/plain\r\n"
                   "Via: 1.1 upstream, 1.1 moat\r\n"
                   "Connection: close\r\n"
                   "\r\n");

  g_string_truncate (f->out, 0);
  g_assert_cmpint (moat_http_parse_response (cl, strlen (cl), MOAT_HTTP_METHOD_GET, &f->resp), ==,
                   MOAT_HTTP_PARSE_OK);
  g_assert_false (f->resp.keep_alive);
  moat_http_response_write_downstream (&f->resp, 0, FALSE, "1.1 moat", f->out);
  g_assert_cmpstr (f->out->str, ==,
                   "HTTP/1.1 404 Not Found\r\n"
                   "Content-Length: 3\r\n"
                   "Via: 1.1 moat\r\n"
                   "Connection: keep-alive\r\n"
                   "\r\n");

  g_string_truncate (f->out, 0);
  moat_http_response_write_downstream (&f->resp, 1, TRUE, NULL, f->out);
  g_assert_cmpstr (f->out->str, ==,
                   "HTTP/1.1 404 Not Found\r\n"
                   "Content-Length: 3\r\n"
                   "Connection: close\r\n"
                   "\r\n");
}

/* ---- responses ---- */

typedef struct
{
  const char *name;
  const char *input;
  MoatHttpMethod method;
  gboolean ok;
  guint status;
  MoatHttpBodyKind body;
  guint64 content_length;
  gboolean keep_alive;
} ResponseCase;

#define RESP_OK(n, in, m, st, b, cl, ka) { n, in, MOAT_HTTP_METHOD_##m, TRUE, st, MOAT_HTTP_BODY_##b, cl, ka }
#define RESP_BAD(n, in) { n, in, MOAT_HTTP_METHOD_GET, FALSE, 0, MOAT_HTTP_BODY_NONE, 0, FALSE }

static const ResponseCase response_cases[] = {
  RESP_OK ("length", "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n", GET, 200, LENGTH, 5, TRUE),
  RESP_OK ("chunked", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", GET, 200, CHUNKED, 0, TRUE),
  RESP_OK ("until-close", "HTTP/1.1 200 OK\r\n\r\n", GET, 200, UNTIL_CLOSE, 0, FALSE),
  RESP_OK ("close", "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nConnection: close\r\n\r\n", GET, 200, LENGTH, 1, FALSE),
  RESP_OK ("http10", "HTTP/1.0 200 OK\r\nContent-Length: 1\r\n\r\n", GET, 200, LENGTH, 1, FALSE),
  RESP_OK ("http10-keep-alive", "HTTP/1.0 200 OK\r\nContent-Length: 1\r\nConnection: Keep-Alive\r\n\r\n", GET, 200, LENGTH, 1, TRUE),
  RESP_OK ("head", "HTTP/1.1 200 OK\r\nContent-Length: 500\r\n\r\n", HEAD, 200, NONE, 0, TRUE),
  RESP_OK ("head-chunked", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", HEAD, 200, NONE, 0, TRUE),
  RESP_OK ("100", "HTTP/1.1 100 Continue\r\n\r\n", POST, 100, NONE, 0, TRUE),
  RESP_OK ("204", "HTTP/1.1 204 No Content\r\n\r\n", GET, 204, NONE, 0, TRUE),
  RESP_OK ("304", "HTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\n\r\n", GET, 304, NONE, 0, TRUE),
  RESP_OK ("connect-200", "HTTP/1.1 200 Connection established\r\n\r\n", CONNECT, 200, NONE, 0, TRUE),
  RESP_OK ("connect-407", "HTTP/1.1 407 Auth\r\nContent-Length: 2\r\n\r\n", CONNECT, 407, LENGTH, 2, TRUE),
  RESP_OK ("no-reason", "HTTP/1.1 200\r\nContent-Length: 0\r\n\r\n", GET, 200, LENGTH, 0, TRUE),
  RESP_OK ("empty-reason", "HTTP/1.1 404 \r\nContent-Length: 0\r\n\r\n", GET, 404, LENGTH, 0, TRUE),
  RESP_OK ("999", "HTTP/1.1 999 Odd\r\nContent-Length: 0\r\n\r\n", GET, 999, LENGTH, 0, TRUE),
  RESP_BAD ("cl-te", "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n"),
  RESP_BAD ("cl-twice", "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\n"),
  RESP_BAD ("cl-sign", "HTTP/1.1 200 OK\r\nContent-Length: +5\r\n\r\n"),
  RESP_BAD ("cl-huge", "HTTP/1.1 200 OK\r\nContent-Length: 184467440737095516160\r\n\r\n"),
  RESP_BAD ("te-gzip", "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n"),
  RESP_BAD ("te-gzip-chunked", "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n"),
  RESP_BAD ("te-http10", "HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"),
  RESP_BAD ("connection-cl", "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nConnection: content-length\r\n\r\n"),
  RESP_BAD ("status-2-digits", "HTTP/1.1 20 OK\r\n\r\n"),
  RESP_BAD ("status-4-digits", "HTTP/1.1 2000 OK\r\n\r\n"),
  RESP_BAD ("status-099", "HTTP/1.1 099 OK\r\n\r\n"),
  RESP_BAD ("status-letters", "HTTP/1.1 2x0 OK\r\n\r\n"),
  RESP_BAD ("version-2", "HTTP/2.0 200 OK\r\n\r\n"),
  RESP_BAD ("version-09", "HTTP/0.9 200 OK\r\n\r\n"),
  RESP_BAD ("not-http", "ICY 200 OK\r\n\r\n"),
  RESP_BAD ("bare-lf", "HTTP/1.1 200 OK\nContent-Length: 0\n\n"),
  RESP_BAD ("obs-fold", "HTTP/1.1 200 OK\r\nX: a\r\n b\r\nContent-Length: 0\r\n\r\n"),
  RESP_BAD ("space-before-colon", "HTTP/1.1 200 OK\r\nContent-Length : 0\r\n\r\n"),
  RESP_BAD ("ctl-in-reason", "HTTP/1.1 200 O\x01K\r\n\r\n"),
  RESP_BAD ("ctl-in-value", "HTTP/1.1 200 OK\r\nX: \x1b[1m\r\n\r\n"),
};

static void
test_response_case (Fixture *f, gconstpointer data)
{
  const ResponseCase *c = data;
  gsize len = strlen (c->input);
  MoatHttpParseResult res = moat_http_parse_response (c->input, len, c->method, &f->resp);

  if (c->ok)
    {
      g_assert_cmpint (res, ==, MOAT_HTTP_PARSE_OK);
      g_assert_cmpuint (f->resp.status, ==, c->status);
      g_assert_cmpint (f->resp.body, ==, c->body);
      g_assert_cmpuint (f->resp.content_length, ==, c->content_length);
      g_assert_cmpint (f->resp.keep_alive, ==, c->keep_alive);
      g_assert_cmpuint (f->resp.head_len, ==, len);
      g_assert_cmpuint (f->resp.error_status, ==, 0);
    }
  else
    {
      g_assert_cmpint (res, ==, MOAT_HTTP_PARSE_ERROR);
      g_assert_cmpuint (f->resp.error_status, ==, 502);
      g_assert_nonnull (f->resp.error_reason);
    }
  for (gsize i = 0; i < len; i++)
    {
      res = moat_http_parse_response (c->input, i, c->method, &f->resp);
      if (res == MOAT_HTTP_PARSE_ERROR)
        g_assert_false (c->ok);
      else
        g_assert_cmpint (res, ==, MOAT_HTTP_PARSE_INCOMPLETE);
    }
}

static void
test_response_fields (Fixture *f, gconstpointer data)
{
  const char *in = "HTTP/1.1 301 Moved Permanently\r\nLocation: http://b.test/\r\n"
                   "Content-Length: 0\r\n\r\nnext";

  g_assert_cmpint (moat_http_parse_response (in, strlen (in), MOAT_HTTP_METHOD_GET, &f->resp), ==,
                   MOAT_HTTP_PARSE_OK);
  g_assert_cmpuint (f->resp.version_minor, ==, 1);
  g_assert_cmpmem (f->resp.reason, f->resp.reason_len, "Moved Permanently", 17);
  g_assert_cmpuint (f->resp.n_headers, ==, 2);
  g_assert_cmpmem (f->resp.headers[0].value, f->resp.headers[0].value_len, "http://b.test/", 14);
  g_assert_cmpuint (f->resp.head_len, ==, strlen (in) - 4);
}

/* ---- chunked ---- */

typedef struct
{
  const char *name;
  const char *input;
  gsize len;
  const char *output;  /* NULL: must fail */
} ChunkCase;

#define CHUNK(n, in, o) { n, in, sizeof (in) - 1, o }

static const ChunkCase chunk_cases[] = {
  CHUNK ("simple", "5\r\nhello\r\n0\r\n\r\n", "5\r\nhello\r\n0\r\n\r\n"),
  CHUNK ("two-chunks", "3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n", "3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n"),
  CHUNK ("upper-hex-zeros", "000A\r\n0123456789\r\n000\r\n\r\n", "a\r\n0123456789\r\n0\r\n\r\n"),
  CHUNK ("extension", "5;name=value\r\nhello\r\n0;last\r\n\r\n", "5\r\nhello\r\n0\r\n\r\n"),
  CHUNK ("extension-ws", "5 ; a=\"b c\"\r\nhello\r\n0\r\n\r\n", "5\r\nhello\r\n0\r\n\r\n"),
  CHUNK ("trailers", "1\r\nx\r\n0\r\nX-Sum: 1\r\nY:\r\n\r\n", "1\r\nx\r\n0\r\n\r\n"),
  CHUNK ("only-last", "0\r\n\r\n", "0\r\n\r\n"),
  CHUNK ("crlf-in-data", "4\r\n\r\n\r\n\r\n0\r\n\r\n", "4\r\n\r\n\r\n\r\n0\r\n\r\n"),
  CHUNK ("big-size", "3fffffffffffffff\r\n", "3fffffffffffffff\r\n"),
  CHUNK ("bare-lf-size", "5\nhello\r\n0\r\n\r\n", NULL),
  CHUNK ("bare-lf-data", "5\r\nhello\n0\r\n\r\n", NULL),
  CHUNK ("bare-lf-last", "0\r\n\n", NULL),
  CHUNK ("bare-lf-ext", "5;a\nhello\r\n0\r\n\r\n", NULL),
  CHUNK ("cr-in-ext", "5;a\rb\r\nhello\r\n0\r\n\r\n", NULL),
  CHUNK ("ctl-in-ext", "5;a\x01\r\nhello\r\n0\r\n\r\n", NULL),
  CHUNK ("nul-in-ext", "5;a\0\r\nhello\r\n0\r\n\r\n", NULL),
  CHUNK ("not-hex", "g\r\n", NULL),
  CHUNK ("empty-size", "\r\n", NULL),
  CHUNK ("sign", "+5\r\nhello\r\n0\r\n\r\n", NULL),
  CHUNK ("hex-prefix", "0x5\r\nhello\r\n0\r\n\r\n", NULL),
  CHUNK ("ws-before-size", " 5\r\nhello\r\n0\r\n\r\n", NULL),
  CHUNK ("ws-only-after-size", "5 \r\nhello\r\n0\r\n\r\n", NULL),
  CHUNK ("overflow-2-62", "4000000000000000\r\n", NULL),
  CHUNK ("overflow-2-64", "10000000000000000\r\n", NULL),
  CHUNK ("overflow-zeros", "ffffffffffffffffffffffffffff\r\n", NULL),
  CHUNK ("data-too-long", "3\r\nabcd\r\n0\r\n\r\n", NULL),
  CHUNK ("data-too-short", "5\r\nabc\r\n0\r\n\r\n", NULL),
  CHUNK ("cr-without-lf", "5\rhello\r\n", NULL),
  CHUNK ("trailer-obs-fold", "0\r\nX: a\r\n b\r\n\r\n", NULL),
  CHUNK ("trailer-no-colon", "0\r\nfoo\r\n\r\n", NULL),
  CHUNK ("trailer-space-colon", "0\r\nX : a\r\n\r\n", NULL),
  CHUNK ("trailer-bare-lf", "0\r\nX: a\n\r\n", NULL),
  CHUNK ("trailer-ctl", "0\r\nX: a\x02\r\n\r\n", NULL),
};

static gsize
chunk_input_len (const ChunkCase *c)
{
  return c->len;
}

/* Decodes @in fed in pieces at @split (0 = whole) with an output buffer of
 * @out_size bytes per call. Returns the result; output appended to @out. */
static MoatHttpChunkResult
decode_chunks (const char *in, gsize len, gsize split, gsize out_size, GString *out,
               const char **reason)
{
  MoatHttpChunkDecoder dec;
  MoatHttpChunkResult res = MOAT_HTTP_CHUNK_MORE;
  char buf[64];
  gsize pos = 0;

  g_assert_cmpuint (out_size, <=, sizeof buf);
  moat_http_chunk_decoder_init (&dec);
  while (pos < len)
    {
      gsize piece = split == 0 ? len - pos : MIN (split, len - pos);
      gsize in_used = 0, out_used = 0;

      res = moat_http_chunk_decoder_feed (&dec, in + pos, piece, &in_used, buf, out_size, &out_used);
      g_assert_cmpuint (in_used, <=, piece);
      g_assert_cmpuint (out_used, <=, out_size);
      g_string_append_len (out, buf, out_used);
      pos += in_used;
      if (res != MOAT_HTTP_CHUNK_MORE)
        break;
      /* no progress is only allowed when the output is full */
      if (in_used == 0)
        g_assert_cmpuint (out_used, >, 0);
    }
  *reason = dec.error_reason;
  return res;
}

static void
test_chunk_case (Fixture *f, gconstpointer data)
{
  const ChunkCase *c = data;
  gsize len = chunk_input_len (c);
  gsize splits[] = { 0, 1, 2, 3, 5, 7 };
  gsize out_sizes[] = { 64, 18, 19, 20, 23 };  /* 18: the longest framing, "3fffffffffffffff\r\n" */

  for (gsize s = 0; s < G_N_ELEMENTS (splits); s++)
    for (gsize o = 0; o < G_N_ELEMENTS (out_sizes); o++)
      {
        g_autoptr(GString) out = g_string_new (NULL);
        const char *reason = NULL;
        MoatHttpChunkResult res = decode_chunks (c->input, len, splits[s], out_sizes[o], out, &reason);

        if (c->output == NULL)
          {
            g_assert_cmpint (res, ==, MOAT_HTTP_CHUNK_ERROR);
            g_assert_nonnull (reason);
          }
        else if (g_str_has_suffix (c->output, "0\r\n\r\n"))
          {
            g_assert_cmpint (res, ==, MOAT_HTTP_CHUNK_DONE);
            g_assert_cmpstr (out->str, ==, c->output);
          }
        else
          {
            g_assert_cmpint (res, ==, MOAT_HTTP_CHUNK_MORE);
            g_assert_cmpstr (out->str, ==, c->output);
          }
      }

  /* every two-piece split */
  for (gsize cut = 0; cut <= len; cut++)
    {
      MoatHttpChunkDecoder dec;
      MoatHttpChunkResult res;
      char out[128];
      gsize in_used = 0, out_used = 0, o = 0;

      moat_http_chunk_decoder_init (&dec);
      res = moat_http_chunk_decoder_feed (&dec, c->input, cut, &in_used, out, sizeof out, &out_used);
      o = out_used;
      if (res == MOAT_HTTP_CHUNK_MORE)
        {
          g_assert_cmpuint (in_used, ==, cut);
          res = moat_http_chunk_decoder_feed (&dec, c->input + cut, len - cut, &in_used,
                                              out + o, sizeof out - o, &out_used);
          o += out_used;
        }
      if (c->output == NULL)
        g_assert_cmpint (res, ==, MOAT_HTTP_CHUNK_ERROR);
      else
        g_assert_cmpmem (out, o, c->output, strlen (c->output));
    }
}

static void
test_chunk_done_stops (Fixture *f, gconstpointer data)
{
  const char *in = "2\r\nab\r\n0\r\n\r\nGET / HTTP/1.1\r\n";
  MoatHttpChunkDecoder dec;
  char out[64];
  gsize in_used, out_used;

  moat_http_chunk_decoder_init (&dec);
  g_assert_cmpint (moat_http_chunk_decoder_feed (&dec, in, strlen (in), &in_used, out, sizeof out,
                                                 &out_used), ==, MOAT_HTTP_CHUNK_DONE);
  g_assert_cmpuint (in_used, ==, 12);
  g_assert_cmpmem (out, out_used, "2\r\nab\r\n0\r\n\r\n", 12);
  /* after the end nothing more is read */
  g_assert_cmpint (moat_http_chunk_decoder_feed (&dec, in + 12, 3, &in_used, out, sizeof out,
                                                 &out_used), ==, MOAT_HTTP_CHUNK_DONE);
  g_assert_cmpuint (in_used, ==, 0);
  g_assert_cmpuint (out_used, ==, 0);
}

static void
test_chunk_limits (Fixture *f, gconstpointer data)
{
  g_autoptr(GString) in = g_string_new ("1;");
  g_autoptr(GString) out = g_string_new (NULL);
  const char *reason = NULL;

  /* an endless extension */
  for (guint i = 0; i < 5000; i++)
    g_string_append_c (in, 'x');
  g_assert_cmpint (decode_chunks (in->str, in->len, 0, 64, out, &reason), ==, MOAT_HTTP_CHUNK_ERROR);
  g_assert_nonnull (reason);

  /* endless trailers */
  g_string_assign (in, "0\r\n");
  for (guint i = 0; i < 7000; i++)
    g_string_append (in, "X-Trailer: 0123\r\n");
  g_string_truncate (out, 0);
  reason = NULL;
  g_assert_cmpint (decode_chunks (in->str, in->len, 0, 64, out, &reason), ==, MOAT_HTTP_CHUNK_ERROR);
  g_assert_nonnull (reason);

  /* an error sticks */
  g_string_assign (in, "zz");
  g_string_truncate (out, 0);
  {
    MoatHttpChunkDecoder dec;
    char buf[16];
    gsize in_used, out_used;

    moat_http_chunk_decoder_init (&dec);
    g_assert_cmpint (moat_http_chunk_decoder_feed (&dec, "z", 1, &in_used, buf, sizeof buf, &out_used),
                     ==, MOAT_HTTP_CHUNK_ERROR);
    g_assert_cmpint (moat_http_chunk_decoder_feed (&dec, "0\r\n\r\n", 5, &in_used, buf, sizeof buf,
                                                   &out_used), ==, MOAT_HTTP_CHUNK_ERROR);
    g_assert_cmpuint (out_used, ==, 0);
  }
}

static void
test_status_reason (Fixture *f, gconstpointer data)
{
  static const struct { guint status; const char *reason; } reasons[] = {
    { 100, "Continue" }, { 200, "OK" }, { 400, "Bad Request" }, { 403, "Forbidden" },
    { 404, "Not Found" }, { 405, "Method Not Allowed" }, { 408, "Request Timeout" },
    { 413, "Content Too Large" }, { 414, "URI Too Long" }, { 421, "Misdirected Request" },
    { 431, "Request Header Fields Too Large" }, { 500, "Internal Server Error" },
    { 501, "Not Implemented" }, { 502, "Bad Gateway" }, { 503, "Service Unavailable" },
    { 504, "Gateway Timeout" }, { 505, "HTTP Version Not Supported" }, { 508, "Loop Detected" },
    { 299, "Unknown" },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (reasons); i++)
    g_assert_cmpstr (moat_http_status_reason (reasons[i].status), ==, reasons[i].reason);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

#define ADD(path, func, data) \
  g_test_add (path, Fixture, data, fixture_set_up, func, fixture_tear_down)

  for (gsize i = 0; i < G_N_ELEMENTS (request_cases); i++)
    {
      g_autofree char *path = g_strdup_printf ("/moat/http-parser/request/%s", request_cases[i].name);
      ADD (path, test_request_case, &request_cases[i]);
    }
  ADD ("/moat/http-parser/request-fields", test_request_fields, NULL);
  ADD ("/moat/http-parser/request-forms", test_request_forms, NULL);
  ADD ("/moat/http-parser/request-methods", test_request_methods, NULL);
  ADD ("/moat/http-parser/request-limits", test_request_limits, NULL);
  ADD ("/moat/http-parser/request-early-errors", test_request_early_errors, NULL);
  ADD ("/moat/http-parser/write-upstream", test_write_upstream, NULL);
  ADD ("/moat/http-parser/write-upstream-http10", test_write_upstream_http10, NULL);
  ADD ("/moat/http-parser/write-downstream", test_write_downstream, NULL);
  for (gsize i = 0; i < G_N_ELEMENTS (response_cases); i++)
    {
      g_autofree char *path = g_strdup_printf ("/moat/http-parser/response/%s", response_cases[i].name);
      ADD (path, test_response_case, &response_cases[i]);
    }
  ADD ("/moat/http-parser/response-fields", test_response_fields, NULL);
  for (gsize i = 0; i < G_N_ELEMENTS (chunk_cases); i++)
    {
      g_autofree char *path = g_strdup_printf ("/moat/http-parser/chunked/%s", chunk_cases[i].name);
      ADD (path, test_chunk_case, &chunk_cases[i]);
    }
  ADD ("/moat/http-parser/chunked-done-stops", test_chunk_done_stops, NULL);
  ADD ("/moat/http-parser/chunked-limits", test_chunk_limits, NULL);
  ADD ("/moat/http-parser/status-reason", test_status_reason, NULL);

  return g_test_run ();
}
