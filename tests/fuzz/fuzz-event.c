/* SPDX-License-Identifier: GPL-3.0-or-later
 * Copyright 2026 The Moat developers
 *
 * Events arrive over D-Bus (AddEvents in test builds, EventsAdded in clients).
 */
#include "config.h"

#include <stdint.h>

#include "moat-event.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  g_autoptr(GBytes) bytes = g_bytes_new (data, size);
  g_autoptr(GVariant) raw = g_variant_new_from_bytes (MOAT_EVENTS_VARIANT_TYPE, bytes, FALSE);
  g_autoptr(GVariant) v = g_variant_get_normal_form (raw);
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) events = moat_events_new_from_variant (v, &error);

  if (events == NULL)
    {
      g_assert_nonnull (error);
      return 0;
    }
  for (guint i = 0; i < events->len; i++)
    {
      MoatEvent *event = g_ptr_array_index (events, i);
      g_autoptr(GError) verror = NULL;

      if (!moat_event_validate (event, &verror))
        g_assert_nonnull (verror);
    }
  {
    /* moat_event_new() normalises an empty detail to "{}", so one round trip
     * may change the value; a second must not. */
    g_autoptr(GVariant) back = g_variant_ref_sink (moat_events_to_variant (events));
    g_autoptr(GPtrArray) again = moat_events_new_from_variant (back, &error);
    g_autoptr(GVariant) back2 = NULL;

    g_assert_no_error (error);
    back2 = g_variant_ref_sink (moat_events_to_variant (again));
    g_assert_true (g_variant_equal (back, back2));
  }
  return 0;
}
