/* SPDX-License-Identifier: GPL-3.0-or-later
 * Copyright 2026 The Moat developers
 *
 * sshd_config (with Include answering the same text again) and the INI
 * reader of display manager settings: whatever the files say, the results
 * stay within their limits and are UTF-8.
 */
#include "config.h"

#include <gio/gio.h>
#include <stdint.h>
#include <string.h>

#include "moat-computer-health-private.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

typedef struct {
  GBytes *input;
  guint   calls;
} Include;

static GPtrArray *
include_cb (const char *pattern,
            gpointer    user_data)
{
  Include *include = user_data;
  GPtrArray *files;

  g_assert_nonnull (pattern);
  if (include->calls++ >= 16)
    return NULL;
  files = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  g_ptr_array_add (files, g_bytes_ref (include->input));
  return files;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  g_autoptr(GBytes) input = g_bytes_new (data, size);
  g_autoptr(MoatSshdConfig) config = moat_sshd_config_new ();
  g_autoptr(GHashTable) values = NULL;
  Include include = { input, 0 };
  GHashTableIter iter;
  gpointer key, value;

  moat_sshd_config_parse (config, (const char *) data, size, include_cb, &include);
  g_assert_cmpuint (config->ports->len, <=, 64);
  for (guint i = 0; i < config->ports->len; i++)
    g_assert_cmpuint (g_array_index (config->ports, guint16, i), >, 0);
  g_assert_cmpuint (config->listen_addresses->len, <=, 64);
  for (guint i = 0; i < config->listen_addresses->len; i++)
    g_assert_true (g_utf8_validate (g_ptr_array_index (config->listen_addresses, i), -1, NULL));
  if (config->password_authentication != NULL)
    g_assert_true (g_utf8_validate (config->password_authentication, -1, NULL));

  values = moat_ini_parse ((const char *) data, size);
  g_hash_table_iter_init (&iter, values);
  while (g_hash_table_iter_next (&iter, &key, &value))
    {
      g_assert_true (g_utf8_validate (key, -1, NULL));
      g_assert_true (g_utf8_validate (value, -1, NULL));
      g_assert_nonnull (strchr (key, '/'));
    }
  return 0;
}
