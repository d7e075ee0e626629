/* SPDX-License-Identifier: GPL-3.0-or-later
 * Copyright 2026 The Moat developers
 *
 * The a{sv} filter of ListEvents/CountEvents comes from any client on the bus.
 */
#include "config.h"

#include <stdint.h>

#include "moat-event.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  g_autoptr(GBytes) bytes = g_bytes_new (data, size);
  g_autoptr(GVariant) raw = g_variant_new_from_bytes (G_VARIANT_TYPE_VARDICT, bytes, FALSE);
  g_autoptr(GVariant) v = g_variant_get_normal_form (raw);
  g_autoptr(GError) error = NULL;
  g_autoptr(MoatEventFilter) filter = moat_event_filter_new_from_variant (v, &error);

  if (filter != NULL)
    {
      g_autoptr(GVariant) back = g_variant_ref_sink (moat_event_filter_to_variant (filter));
      g_autoptr(MoatEventFilter) again = moat_event_filter_new_from_variant (back, &error);
      g_autoptr(MoatEvent) event = moat_event_new (MOAT_EVENT_SOURCE_PROXY, "content.ads",
                                                   MOAT_SEVERITY_LOW, "ads.example", "blocked",
                                                   NULL);

      /* What the filter says about itself must parse again to the same filter. */
      g_assert_nonnull (again);
      g_assert_cmpint (again->since, ==, filter->since);
      g_assert_cmpstr (again->threat, ==, filter->threat);
      g_assert_cmpstr (again->search, ==, filter->search);
      g_assert_cmpint (moat_event_filter_matches (again, event), ==,
                       moat_event_filter_matches (filter, event));
    }
  else
    {
      g_assert_nonnull (error);
    }
  return 0;
}
