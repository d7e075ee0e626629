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

#include <stdlib.h>
#include <string.h>
#include <time.h>

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

/* The machine is shared: count this thread's CPU time (not wall time, so
 * time spent preempted does not count), over many short batches, and report
 * the fastest batch (the least disturbed) and the median. */
#define BATCHES 40
#define PER_BATCH 50000

static gint64
thread_ns (void)
{
  struct timespec ts;

  clock_gettime (CLOCK_THREAD_CPUTIME_ID, &ts);
  return (gint64) ts.tv_sec * G_GINT64_CONSTANT (1000000000) + ts.tv_nsec;
}

static int
compare_ns (gconstpointer a, gconstpointer b)
{
  gint64 x = *(const gint64 *) a, y = *(const gint64 *) b;

  return x < y ? -1 : x > y;
}

int
main (void)
{
  MoatHttpRequest req;
  GString *out = g_string_sized_new (1024);
  gint64 parse_ns[BATCHES], write_ns[BATCHES];
  gsize len = sizeof request - 1;

  /* warm up and check */
  if (moat_http_parse_request (request, len, &req) != MOAT_HTTP_PARSE_OK || req.n_headers != 12)
    {
      g_printerr ("benchmark request did not parse\n");
      return 1;
    }

  for (guint b = 0; b < BATCHES; b++)
    {
      gint64 start = thread_ns ();

      for (guint i = 0; i < PER_BATCH; i++)
        {
          if (moat_http_parse_request (request, len, &req) != MOAT_HTTP_PARSE_OK)
            return 1;
        }
      parse_ns[b] = (thread_ns () - start) / PER_BATCH;

      start = thread_ns ();
      for (guint i = 0; i < PER_BATCH; i++)
        {
          g_string_truncate (out, 0);
          moat_http_request_write_upstream (&req, FALSE, "1.1 moat", out);
        }
      write_ns[b] = (thread_ns () - start) / PER_BATCH;
    }
  qsort (parse_ns, BATCHES, sizeof parse_ns[0], compare_ns);
  qsort (write_ns, BATCHES, sizeof write_ns[0], compare_ns);

  g_print ("request head: %" G_GSIZE_FORMAT " bytes, %u fields\n", len, req.n_headers);
  g_print ("parse: %" G_GINT64_FORMAT " ns per head (fastest batch), %" G_GINT64_FORMAT
           " ns median\n", parse_ns[0], parse_ns[BATCHES / 2]);
  g_print ("write upstream: %" G_GINT64_FORMAT " ns per head (fastest batch), %" G_GINT64_FORMAT
           " ns median\n", write_ns[0], write_ns[BATCHES / 2]);
  g_string_free (out, TRUE);
  return 0;
}
