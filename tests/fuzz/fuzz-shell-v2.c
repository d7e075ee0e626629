/* SPDX-License-Identifier: GPL-3.0-or-later
 * Copyright 2026 The Moat developers
 *
 * A phone's shell protocol v2 stream, fed in chunks whose sizes the input
 * picks: never more output kept than allowed, and the same result whatever
 * the chunking (first byte: chunk size).
 */
#include "config.h"

#include <gio/gio.h>
#include <stdint.h>
#include <string.h>

#include "moat-adb-protocol.h"

#define MAX_OUTPUT 4096

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  g_autoptr(MoatShellV2Decoder) whole = moat_shell_v2_decoder_new (MAX_OUTPUT);
  g_autoptr(MoatShellV2Decoder) chunked = moat_shell_v2_decoder_new (MAX_OUTPUT);
  g_autoptr(GBytes) out1 = NULL;
  g_autoptr(GBytes) out2 = NULL;
  gboolean ok1, ok2 = TRUE;
  gsize chunk;

  if (size == 0)
    return 0;
  chunk = MAX (1, data[0] % 17);
  data++;
  size--;
  ok1 = moat_shell_v2_decoder_feed (whole, data, size, NULL);
  for (gsize off = 0; ok2 && off < size; off += chunk)
    ok2 = moat_shell_v2_decoder_feed (chunked, data + off, MIN (chunk, size - off), NULL);
  g_assert_cmpint (ok1, ==, ok2);
  if (!ok1)
    return 0;
  g_assert_cmpint (moat_shell_v2_decoder_get_exit_code (whole), ==,
                   moat_shell_v2_decoder_get_exit_code (chunked));
  out1 = moat_shell_v2_decoder_steal_stdout (whole);
  out2 = moat_shell_v2_decoder_steal_stdout (chunked);
  g_assert_true (g_bytes_equal (out1, out2));
  g_assert_cmpuint (g_bytes_get_size (out1), <=, MAX_OUTPUT);
  return 0;
}
