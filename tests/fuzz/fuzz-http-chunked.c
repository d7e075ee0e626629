/* SPDX-License-Identifier: GPL-3.0-or-later
 * Copyright 2026 The Moat developers
 *
 * Chunked bodies arrive from clients (requests) and servers (responses). The
 * first input byte seeds the split points and output buffer sizes; the rest
 * is the body. Invariants: any split gives the same result, the same bytes
 * used and the same output as one call; the output is canonical, so decoding
 * it again gives it back unchanged; output never exceeds the input used.
 */
#include "config.h"

#include <stdint.h>
#include <string.h>

#include "moat-http-parser.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

typedef struct {
  MoatHttpChunkResult result;
  gsize used;
} Decoded;

/* Smallest output buffer that always allows progress: the longest framing. */
#define MIN_OUT 18

static Decoded
decode (const char *in, gsize len, GRand *rand, GString *out)
{
  MoatHttpChunkDecoder dec;
  Decoded d = { MOAT_HTTP_CHUNK_MORE, 0 };
  char buf[256];

  moat_http_chunk_decoder_init (&dec);
  while (d.used < len)
    {
      gsize piece = len - d.used;
      gsize out_size = sizeof buf;
      gsize in_used = 0, out_used = 0;

      if (rand != NULL)
        {
          gsize limit = (gsize) g_rand_int_range (rand, 1, 40);

          piece = MIN (piece, limit);
          out_size = (gsize) g_rand_int_range (rand, MIN_OUT, sizeof buf);
        }
      d.result = moat_http_chunk_decoder_feed (&dec, in + d.used, piece, &in_used,
                                               buf, out_size, &out_used);
      g_assert_cmpuint (in_used, <=, piece);
      g_assert_cmpuint (out_used, <=, out_size);
      g_string_append_len (out, buf, out_used);
      d.used += in_used;
      g_assert_cmpuint (out->len, <=, d.used);
      if (d.result == MOAT_HTTP_CHUNK_ERROR)
        {
          g_assert_nonnull (dec.error_reason);
          break;
        }
      if (d.result == MOAT_HTTP_CHUNK_DONE)
        break;
      g_assert_true (in_used > 0 || out_used > 0);
    }
  return d;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  g_autoptr(GString) whole = g_string_new (NULL);
  g_autoptr(GString) split = g_string_new (NULL);
  g_autoptr(GString) twice = g_string_new (NULL);
  const char *in;
  gsize len;
  GRand *rand;
  Decoded a, b, c;

  if (size == 0 || size > 1 << 20)
    return 0;
  rand = g_rand_new_with_seed (data[0]);
  in = (const char *) data + 1;
  len = size - 1;

  a = decode (in, len, NULL, whole);
  b = decode (in, len, rand, split);
  g_rand_free (rand);
  /* errors too are found at the same byte, after the same output */
  g_assert_cmpint (a.result, ==, b.result);
  g_assert_cmpuint (a.used, ==, b.used);
  g_assert_cmpmem (whole->str, whole->len, split->str, split->len);
  if (a.result != MOAT_HTTP_CHUNK_ERROR)
    {
      /* canonical output decodes to itself */
      c = decode (whole->str, whole->len, NULL, twice);
      g_assert_cmpint (c.result, ==, a.result);
      g_assert_cmpuint (c.used, ==, whole->len);
      g_assert_cmpmem (twice->str, twice->len, whole->str, whole->len);
    }
  return 0;
}
