/* SPDX-License-Identifier: GPL-3.0-or-later
 * Copyright 2026 The Moat developers
 *
 * Policy files come from an admin, a download or an attacker's email. Any
 * input either parses or is refused with "NAME:LINE: reason"; what parses
 * prints in a canonical form that parses again to the same text, and every
 * rule's line lies in the input.
 */
#include "config.h"

#include <stdint.h>
#include <string.h>

#include "moat-error.h"
#include "moat-policy.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(MoatPolicy) policy = moat_policy_parse ("fuzz", (const char *) data, size, &error);
  g_autoptr(MoatPolicy) again = NULL;
  g_autofree char *text = NULL;
  g_autofree char *text2 = NULL;
  guint n_lines = 1;

  if (policy == NULL)
    {
      g_assert_error (error, MOAT_ERROR, MOAT_ERROR_INVALID_ARGUMENT);
      g_assert_true (g_str_has_prefix (error->message, "fuzz:"));
      return 0;
    }
  g_assert_no_error (error);
  for (size_t i = 0; i < size; i++)
    n_lines += data[i] == '\n';
  for (guint i = 0; i < moat_policy_get_n_rules (policy); i++)
    {
      const MoatPolicyRule *rule = moat_policy_get_rule (policy, i);

      g_assert_cmpuint (rule->line, >=, 1);
      g_assert_cmpuint (rule->line, <=, n_lines);
      g_assert_cmpuint (rule->n_chains, >=, 1);
      /* "*" matches every threat at its severity and above. */
      if (strcmp (rule->pattern, "*") == 0)
        g_assert_nonnull (moat_policy_match (policy, "os.x", MOAT_SEVERITY_CRITICAL));
    }

  text = moat_policy_to_string (policy);
  again = moat_policy_parse ("fuzz", text, -1, &error);
  g_assert_no_error (error);
  text2 = moat_policy_to_string (again);
  g_assert_cmpstr (text, ==, text2);
  g_assert_cmpuint (moat_policy_get_n_rules (again), ==, moat_policy_get_n_rules (policy));
  return 0;
}
