/* SPDX-License-Identifier: GPL-3.0-or-later
 * Copyright 2026 The Moat developers
 *
 * Standalone driver for the fuzz targets: replays every file in the corpus
 * directories given on the command line (or single files), so each crash a
 * fuzzer ever found stays a regression input in the normal test run. Built
 * with -Dfuzzing=true and clang, the same targets link against libFuzzer
 * instead (see tests/fuzz/README.md).
 */
#include "config.h"

#include <glib.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

static guint
replay_path (const char *path)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *contents = NULL;
  gsize len = 0;
  guint n = 0;

  if (g_file_test (path, G_FILE_TEST_IS_DIR))
    {
      g_autoptr(GDir) dir = g_dir_open (path, 0, &error);
      const char *name;

      if (dir == NULL)
        {
          g_printerr ("%s\n", error->message);
          return 0;
        }
      while ((name = g_dir_read_name (dir)) != NULL)
        {
          g_autofree char *child = g_build_filename (path, name, NULL);
          n += replay_path (child);
        }
      return n;
    }
  if (!g_file_get_contents (path, &contents, &len, &error))
    {
      g_printerr ("%s\n", error->message);
      return 0;
    }
  LLVMFuzzerTestOneInput ((const uint8_t *) contents, len);
  return 1;
}

int
main (int argc, char **argv)
{
  guint n = 0;

  for (int i = 1; i < argc; i++)
    n += replay_path (argv[i]);
  /* A few thousand pseudo-random inputs on top of the corpus, same seed every run. */
  {
    GRand *rand = g_rand_new_with_seed (0x4d6f6174);
    guint8 buf[512];

    for (guint i = 0; i < 5000; i++)
      {
        gsize len = g_rand_int_range (rand, 0, sizeof buf);

        for (gsize j = 0; j < len; j++)
          buf[j] = (guint8) g_rand_int_range (rand, 0, 256);
        LLVMFuzzerTestOneInput (buf, len);
        n++;
      }
    g_rand_free (rand);
  }
  g_print ("replayed %u inputs\n", n);
  return n > 0 ? 0 : 1;
}
