/* SPDX-License-Identifier: GPL-3.0-or-later
 * Copyright 2026 The Moat developers
 */
#define G_LOG_DOMAIN "moat-health"

#include "config.h"

#include "moat-health-item.h"

#include "moat-error.h"

static const char *const status_names[] = { "ok", "problem", "unknown" };

const char *
moat_health_status_to_string (MoatHealthStatus status)
{
  g_return_val_if_fail (status <= MOAT_HEALTH_UNKNOWN, "unknown");
  return status_names[status];
}

gboolean
moat_health_status_from_string (const char       *str,
                                MoatHealthStatus *out)
{
  for (guint i = 0; str != NULL && i < G_N_ELEMENTS (status_names); i++)
    if (g_str_equal (str, status_names[i]))
      {
        *out = (MoatHealthStatus) i;
        return TRUE;
      }
  return FALSE;
}

MoatHealthItem *
moat_health_item_new (const char       *id,
                      const char       *area,
                      const char       *subject,
                      MoatHealthStatus  status,
                      MoatSeverity      severity)
{
  MoatHealthItem *item = g_new0 (MoatHealthItem, 1);
  const char *const none[] = { NULL };

  item->id = g_strdup (id);
  item->area = g_strdup (area);
  item->subject = g_strdup (subject != NULL ? subject : "");
  item->status = status;
  item->severity = status == MOAT_HEALTH_OK ? MOAT_SEVERITY_INFO : severity;
  item->title = g_strdup ("");
  item->summary = g_strdup ("");
  item->why = g_strdup ("");
  item->impact = g_strdup ("");
  item->steps = g_strdupv ((char **) none);
  item->evidence = g_strdup ("{}");
  item->checked = g_get_real_time ();
  return item;
}

MoatHealthItem *
moat_health_item_copy (const MoatHealthItem *item)
{
  MoatHealthItem *copy = g_new0 (MoatHealthItem, 1);

  copy->id = g_strdup (item->id);
  copy->area = g_strdup (item->area);
  copy->subject = g_strdup (item->subject);
  copy->status = item->status;
  copy->severity = item->severity;
  copy->title = g_strdup (item->title);
  copy->summary = g_strdup (item->summary);
  copy->why = g_strdup (item->why);
  copy->impact = g_strdup (item->impact);
  copy->steps = g_strdupv (item->steps);
  copy->auto_fix = item->auto_fix;
  copy->screen = g_strdup (item->screen);
  copy->evidence = g_strdup (item->evidence);
  copy->checked = item->checked;
  return copy;
}

void
moat_health_item_free (MoatHealthItem *item)
{
  if (item == NULL)
    return;
  g_free (item->id);
  g_free (item->area);
  g_free (item->subject);
  g_free (item->title);
  g_free (item->summary);
  g_free (item->why);
  g_free (item->impact);
  g_strfreev (item->steps);
  g_free (item->screen);
  g_free (item->evidence);
  g_free (item);
}

void
moat_health_item_set_evidence (MoatHealthItem *item,
                               JsonBuilder    *builder)
{
  g_autoptr(JsonGenerator) generator = json_generator_new ();
  g_autoptr(JsonNode) root = json_builder_get_root (builder);

  json_generator_set_root (generator, root);
  g_free (item->evidence);
  item->evidence = json_generator_to_data (generator, NULL);
}

GVariant *
moat_health_item_to_variant (const MoatHealthItem *item)
{
  const char *const none[] = { NULL };

  return g_variant_new ("(ssssssssss^asbsx)", item->id, item->area, item->subject,
                        moat_health_status_to_string (item->status),
                        item->status == MOAT_HEALTH_OK ? ""
                                                       : moat_severity_to_string (item->severity),
                        item->title, item->summary, item->why, item->impact,
                        item->screen != NULL ? item->screen : "",
                        item->steps != NULL ? (const char * const *) item->steps : none,
                        item->auto_fix, item->evidence != NULL ? item->evidence : "{}",
                        item->checked);
}

MoatHealthItem *
moat_health_item_new_from_variant (GVariant  *variant,
                                   GError   **error)
{
  g_autoptr(MoatHealthItem) item = NULL;
  const char *id, *area, *subject, *status, *severity, *title, *summary, *why, *impact, *screen,
             *evidence;
  g_autofree const char **steps = NULL;
  gboolean auto_fix;
  gint64 checked;
  MoatHealthStatus st;
  MoatSeverity sev = MOAT_SEVERITY_INFO;

  if (!g_variant_is_of_type (variant, G_VARIANT_TYPE (MOAT_HEALTH_ITEM_VARIANT_TYPE)))
    {
      g_set_error (error, MOAT_ERROR, MOAT_ERROR_INVALID_ARGUMENT,
                   "A health item is %s, not %s", MOAT_HEALTH_ITEM_VARIANT_TYPE,
                   g_variant_get_type_string (variant));
      return NULL;
    }
  g_variant_get (variant, "(&s&s&s&s&s&s&s&s&s&s^a&sb&sx)", &id, &area, &subject, &status,
                 &severity, &title, &summary, &why, &impact, &screen, &steps, &auto_fix,
                 &evidence, &checked);
  if (!moat_health_status_from_string (status, &st) ||
      (severity[0] != '\0' && !moat_severity_from_string (severity, &sev)))
    {
      g_set_error (error, MOAT_ERROR, MOAT_ERROR_INVALID_ARGUMENT,
                   "“%s” has an unknown status or severity", id);
      return NULL;
    }
  item = moat_health_item_new (id, area, subject, st, sev);
  g_free (item->title);
  item->title = g_strdup (title);
  g_free (item->summary);
  item->summary = g_strdup (summary);
  g_free (item->why);
  item->why = g_strdup (why);
  g_free (item->impact);
  item->impact = g_strdup (impact);
  item->screen = screen[0] != '\0' ? g_strdup (screen) : NULL;
  g_strfreev (item->steps);
  item->steps = g_strdupv ((char **) steps);
  item->auto_fix = auto_fix;
  g_free (item->evidence);
  item->evidence = g_strdup (evidence);
  item->checked = checked;
  return g_steal_pointer (&item);
}
