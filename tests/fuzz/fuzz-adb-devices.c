/* SPDX-License-Identifier: GPL-3.0-or-later
 * Copyright 2026 The Moat developers
 *
 * A device list from whatever answers on the adb port: it parses into
 * devices with a serial and a state of printable UTF-8, or is refused.
 */
#include "config.h"

#include <gio/gio.h>
#include <stdint.h>
#include <string.h>

#include "moat-adb-protocol.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) devices = moat_adb_parse_devices ((const char *) data, size, &error);

  if (devices == NULL)
    {
      g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA);
      return 0;
    }
  for (guint i = 0; i < devices->len; i++)
    {
      const MoatAdbDevice *d = g_ptr_array_index (devices, i);

      g_assert_true (g_utf8_validate (d->serial, -1, NULL));
      g_assert_cmpuint (strlen (d->serial), >, 0);
      g_assert_cmpuint (strlen (d->state), >, 0);
    }
  return 0;
}
