/* SPDX-License-Identifier: GPL-3.0-or-later
 * Copyright 2026 The Moat developers
 *
 * A phone's getprop output (a lying or broken phone's): it parses into
 * printable UTF-8 names and values within the limits, or is refused, and
 * the property checks give one finding per check whatever it says.
 */
#include "config.h"

#include <gio/gio.h>
#include <stdint.h>
#include <string.h>

#include "moat-android-posture.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GHashTable) props = moat_android_parse_getprop ((const char *) data, size, NULL,
                                                            &error);
  g_autoptr(GDateTime) now = g_date_time_new_utc (2026, 11, 27, 10, 0, 0);
  g_autoptr(GPtrArray) findings = NULL;
  GHashTableIter iter;
  gpointer key, value;

  if (props == NULL)
    {
      g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA);
      return 0;
    }
  g_hash_table_iter_init (&iter, props);
  while (g_hash_table_iter_next (&iter, &key, &value))
    {
      g_assert_true (g_utf8_validate (key, -1, NULL));
      g_assert_true (g_utf8_validate (value, -1, NULL));
      g_assert_cmpuint (strlen (key), <=, MOAT_GETPROP_MAX_NAME);
      g_assert_cmpuint (strlen (value), <=, MOAT_GETPROP_MAX_VALUE);
    }
  findings = moat_android_check_properties (props, now);
  g_assert_cmpuint (findings->len, ==, 7);
  return 0;
}
