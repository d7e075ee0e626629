/* SPDX-License-Identifier: GPL-3.0-or-later
 * Copyright 2026 The Moat developers
 *
 * The remediation state is a file moatd reads back at start; anything can
 * end up in it. Any input either loads or is refused with
 * MOAT_ERROR_INVALID_ARGUMENT and leaves the state as it was; what loads
 * saves to text that loads again to the same text, and an update and
 * next_due() on it never crash.
 */
#include "config.h"

#include <stdint.h>
#include <string.h>

#include "moat-error.h"
#include "moat-remediation.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  g_autoptr(MoatRemediation) remediation = moat_remediation_new ();
  g_autoptr(MoatRemediation) again = moat_remediation_new ();
  g_autoptr(GPtrArray) items = g_ptr_array_new_with_free_func ((GDestroyNotify) moat_health_item_free);
  g_autoptr(GPtrArray) due = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *before = NULL;
  g_autofree char *text = NULL;
  g_autofree char *text2 = NULL;

  before = moat_remediation_save (remediation);
  if (!moat_remediation_load (remediation, (const char *) data, size, &error))
    {
      g_autofree char *after = moat_remediation_save (remediation);

      g_assert_error (error, MOAT_ERROR, MOAT_ERROR_INVALID_ARGUMENT);
      g_assert_true (g_str_has_prefix (error->message, "remediation state: "));
      g_assert_cmpstr (after, ==, before);
      return 0;
    }
  g_assert_no_error (error);
  g_assert_cmpuint (moat_remediation_get_n_problems (remediation), <=,
                    MOAT_REMEDIATION_MAX_PROBLEMS);

  text = moat_remediation_save (remediation);
  g_assert_true (moat_remediation_load (again, text, -1, &error));
  g_assert_no_error (error);
  text2 = moat_remediation_save (again);
  g_assert_cmpstr (text, ==, text2);

  g_ptr_array_add (items, moat_health_item_new ("computer.firewall", "computer", "",
                                                MOAT_HEALTH_PROBLEM, MOAT_SEVERITY_HIGH));
  g_ptr_array_add (items, moat_health_item_new ("moat.store", "moat", "",
                                                MOAT_HEALTH_OK, MOAT_SEVERITY_INFO));
  due = moat_remediation_update (remediation, items, G_GINT64_CONSTANT (1800000000000000));
  g_assert_nonnull (due);
  (void) moat_remediation_next_due (remediation);
  return 0;
}
