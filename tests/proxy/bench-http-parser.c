/* SPDX-License-Identifier: GPL-3.0-or-later
 * Copyright 2026 The Moat developers
 *
 * Micro-benchmark (meson test --benchmark http-parser): nanoseconds to parse a
 * typical browser request head (about 600 bytes, 12 fields) and to write it
 * upstream. Not a test: it prints figures and always succeeds.
 */
#define G_LOG_DOMAIN "moat-http-parser-bench"

#include "config.h"

#include "moat-http-parser.h"

#include <string.h>

static const char request[] =
  "GET http://www.example.test/assets/js/app.min.js?v=20260127 HTTP/1.1\r\n"
  "Host: www.example.test\r\n"
  "User-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0\r\n"
  "Accept: */*\r\n"
  "Accept-Language: en-GB,en;q=0.7,de;q=0.3\r\n"
  "Accept-Encoding: gzip, deflate\r\n"
  "Referer: http://www.example.test/news/2026/01/27/some-article-title.html\r\n"
  "Connection: keep-alive\r\n"
  "Proxy-Connection: keep-alive\r\n"
  "Cookie: session=8f14e45fceea167a5a36dedd4bea2543; theme=dark; consent=1\r\n"
  "Sec-Fetch-Dest: script\r\n"
  "Sec-Fetch-Mode: no-cors\r\n"
  "Sec-Fetch-Site: same-origin\r\n"
  "\r\n";

int
main (void)
{
  MoatHttpRequest req;
  GString *out = g_string_sized_new (1024);
  guint iterations = 2000000;
  gint64 start, parse_ns, write_ns;
  gsize len = sizeof request - 1;

  /* warm up and check */
  if (moat_http_parse_request (request, len, &req) != MOAT_HTTP_PARSE_OK || req.n_headers != 12)
    {
      g_printerr ("benchmark request did not parse\n");
      return 1;
    }

  start = g_get_monotonic_time ();
  for (guint i = 0; i < iterations; i++)
    {
      if (moat_http_parse_request (request, len, &req) != MOAT_HTTP_PARSE_OK)
        return 1;
    }
  parse_ns = (g_get_monotonic_time () - start) * 1000 / iterations;

  start = g_get_monotonic_time ();
  for (guint i = 0; i < iterations; i++)
    {
      g_string_truncate (out, 0);
      moat_http_request_write_upstream (&req, FALSE, "1.1 moat", out);
    }
  write_ns = (g_get_monotonic_time () - start) * 1000 / iterations;

  g_print ("request head: %" G_GSIZE_FORMAT " bytes, %u fields\n", len, req.n_headers);
  g_print ("parse: %" G_GINT64_FORMAT " ns per head (%.0f MB/s)\n", parse_ns,
           parse_ns > 0 ? (double) len * 1000.0 / (double) parse_ns : 0.0);
  g_print ("write upstream: %" G_GINT64_FORMAT " ns per head\n", write_ns);
  g_string_free (out, TRUE);
  return 0;
}
