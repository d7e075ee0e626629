/* SPDX-License-Identifier: GPL-3.0-or-later
 * Copyright 2026 The Moat developers
 */
#define G_LOG_DOMAIN "moatctl"

#include "config.h"

#include "moat-cli-health.h"

#include <glib/gi18n.h>

#include "moat-cli-output.h"
#include "moat-cli-time.h"

#define ITEM_FORMAT "(&s&s&s&s&s&s&s&s&s&s^a&sb&sx)"

JsonNode *
moat_cli_health_to_json (guint       level,
                         const char *summary,
                         GVariant   *items)
{
  g_autoptr(JsonBuilder) b = json_builder_new ();
  GVariantIter iter;
  const char *id, *area, *subject, *status, *severity, *title, *text, *why, *impact, *screen,
             *evidence;
  g_autofree const char **steps = NULL;
  gboolean auto_fix;
  gint64 checked;

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "level");
  json_builder_add_int_value (b, level);
  json_builder_set_member_name (b, "summary");
  json_builder_add_string_value (b, summary);
  json_builder_set_member_name (b, "items");
  json_builder_begin_array (b);
  g_variant_iter_init (&iter, items);
  while (g_variant_iter_next (&iter, ITEM_FORMAT, &id, &area, &subject, &status, &severity,
                              &title, &text, &why, &impact, &screen, &steps, &auto_fix,
                              &evidence, &checked))
    {
      g_autofree char *utc = checked > 0 ? moat_cli_format_utc (checked) : NULL;

      json_builder_begin_object (b);
      json_builder_set_member_name (b, "id");
      json_builder_add_string_value (b, id);
      json_builder_set_member_name (b, "area");
      json_builder_add_string_value (b, area);
      json_builder_set_member_name (b, "subject");
      json_builder_add_string_value (b, subject);
      json_builder_set_member_name (b, "status");
      json_builder_add_string_value (b, status);
      json_builder_set_member_name (b, "severity");
      if (severity[0] != '\0')
        json_builder_add_string_value (b, severity);
      else
        json_builder_add_null_value (b);
      json_builder_set_member_name (b, "title");
      json_builder_add_string_value (b, title);
      json_builder_set_member_name (b, "summary");
      json_builder_add_string_value (b, text);
      json_builder_set_member_name (b, "why");
      json_builder_add_string_value (b, why);
      json_builder_set_member_name (b, "impact");
      json_builder_add_string_value (b, impact);
      json_builder_set_member_name (b, "screen");
      json_builder_add_string_value (b, screen);
      json_builder_set_member_name (b, "steps");
      json_builder_begin_array (b);
      for (guint i = 0; steps[i] != NULL; i++)
        json_builder_add_string_value (b, steps[i]);
      json_builder_end_array (b);
      json_builder_set_member_name (b, "auto_fix");
      json_builder_add_boolean_value (b, auto_fix);
      json_builder_set_member_name (b, "evidence");
      moat_cli_add_json_object (b, evidence);
      json_builder_set_member_name (b, "checked");
      if (utc != NULL)
        json_builder_add_string_value (b, utc);
      else
        json_builder_add_null_value (b);
      json_builder_end_object (b);
      g_clear_pointer (&steps, g_free);
    }
  json_builder_end_array (b);
  json_builder_end_object (b);
  return json_builder_get_root (b);
}

/* Problems with their steps, then what could not be checked, then a count
 * of what is healthy (each with @all). */
void
moat_cli_append_health (GString    *out,
                        guint       level,
                        const char *summary,
                        GVariant   *items,
                        gboolean    all)
{
  GVariantIter iter;
  const char *id, *area, *subject, *status, *severity, *title, *text, *why, *impact, *screen,
             *evidence;
  g_autofree const char **steps = NULL;
  gboolean auto_fix;
  gint64 checked;
  guint healthy = 0;

  g_string_append_printf (out, _("Health level %u of 4: %s\n"), level, summary);
  g_variant_iter_init (&iter, items);
  while (g_variant_iter_next (&iter, ITEM_FORMAT, &id, &area, &subject, &status, &severity,
                              &title, &text, &why, &impact, &screen, &steps, &auto_fix,
                              &evidence, &checked))
    {
      if (g_str_equal (status, "ok"))
        {
          healthy++;
          if (all)
            g_string_append_printf (out, "%-8s  %s%s%s: %s\n", _("ok"), title,
                                    subject[0] != '\0' ? " · " : "", subject, text);
          g_clear_pointer (&steps, g_free);
          continue;
        }
      g_string_append_printf (out, "\n%-8s  %s%s%s: %s\n",
                              g_str_equal (status, "unknown") ? _("unknown") : severity,
                              title, subject[0] != '\0' ? " · " : "", subject, text);
      g_string_append_printf (out, "          %s\n", id);
      if (why[0] != '\0' && !g_str_equal (status, "unknown"))
        g_string_append_printf (out, "          %s\n", why);
      for (guint s = 0; steps[s] != NULL; s++)
        g_string_append_printf (out, "          %u. %s\n", s + 1, steps[s]);
      if (auto_fix)
        g_string_append_printf (out, "          %s moatctl health fix %s%s%s\n",
                                _("Moat can fix it:"), id, subject[0] != '\0' ? " " : "",
                                subject);
      g_clear_pointer (&steps, g_free);
    }
  g_string_append_printf (out, "\n");
  g_string_append_printf (out, g_dngettext (GETTEXT_PACKAGE, "%u check is healthy.\n",
                                            "%u checks are healthy.\n", healthy), healthy);
}
