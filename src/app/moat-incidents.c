/* SPDX-License-Identifier: GPL-3.0-or-later
 * Copyright 2026 The Moat developers
 */
#define G_LOG_DOMAIN "moat-app"

#include "config.h"

#include "moat-incidents.h"

#include <glib/gi18n.h>
#include <json-glib/json-glib.h>

static void
incident_action_free (MoatIncidentAction *action)
{
  g_free (action->action);
  g_free (action->reason);
  g_free (action);
}

void
moat_incident_free (MoatIncident *incident)
{
  if (incident == NULL)
    return;
  g_free (incident->threat);
  g_free (incident->subject);
  g_ptr_array_unref (incident->actions);
  g_free (incident);
}

static MoatIncident *
incident_new (const MoatEvent *event)
{
  MoatIncident *incident = g_new0 (MoatIncident, 1);

  incident->threat = g_strdup (event->threat);
  incident->subject = g_strdup (event->subject);
  incident->severity = event->severity;
  incident->actions = g_ptr_array_new_with_free_func ((GDestroyNotify) incident_action_free);
  return incident;
}

static void
incident_note_action (MoatIncident    *incident,
                      const MoatEvent *event)
{
  g_autoptr(JsonParser) parser = json_parser_new ();
  const char *name = NULL;
  const char *reason = NULL;
  MoatIncidentAction *action = NULL;

  if (event->detail != NULL &&
      json_parser_load_from_data (parser, event->detail, -1, NULL) &&
      JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)))
    {
      JsonObject *detail = json_node_get_object (json_parser_get_root (parser));

      name = json_object_get_string_member_with_default (detail, "action", NULL);
      reason = json_object_get_string_member_with_default (detail, "reason", NULL);
    }
  if (name == NULL || name[0] == '\0')
    return;

  for (guint i = 0; i < incident->actions->len && action == NULL; i++)
    {
      MoatIncidentAction *a = g_ptr_array_index (incident->actions, i);

      if (g_strcmp0 (a->action, name) == 0)
        action = a;
    }
  if (action == NULL)
    {
      action = g_new0 (MoatIncidentAction, 1);
      action->action = g_strdup (name);
      g_ptr_array_add (incident->actions, action);
    }

  if (g_strcmp0 (event->action, "action-taken") == 0)
    {
      action->taken = TRUE;
    }
  else if (g_strcmp0 (event->action, "action-failed") == 0)
    {
      action->failed = TRUE;
      g_free (action->reason);
      action->reason = g_strdup (reason);
    }
  else if (g_strcmp0 (event->action, "action-reverted") == 0)
    {
      action->reverted = TRUE;
    }
}

static int
compare_event_ids (gconstpointer a,
                   gconstpointer b)
{
  const MoatEvent *ea = *(const MoatEvent **) a;
  const MoatEvent *eb = *(const MoatEvent **) b;

  return (ea->id > eb->id) - (ea->id < eb->id);
}

static char *
make_key (const char *threat,
          const char *subject)
{
  return g_strconcat (threat, "\n", subject, NULL);
}

/**
 * moat_incidents_from_events:
 * @events: (element-type MoatEvent): detector and engine events, in any
 *   order (they are taken in the order of their ids); others are ignored
 *
 * A "detected" event opens an incident for its threat and subject unless
 * one is open (then it may raise the severity), "cleared" closes it (or
 * stands for an incident detected before the first event), and each engine
 * action event belongs to the open incident of its threat and subject, or
 * to the last one that closed (an action is undone right after the clear).
 *
 * Returns: (transfer container) (element-type MoatIncident): the incidents
 *   in the order they began, the still active ones too (cleared 0)
 */
GPtrArray *
moat_incidents_from_events (GPtrArray *events)
{
  g_autoptr(GPtrArray) incidents =
    g_ptr_array_new_with_free_func ((GDestroyNotify) moat_incident_free);
  g_autoptr(GHashTable) open = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autoptr(GHashTable) last = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  /* Borrowed: not g_ptr_array_copy, which would unref them with @events' free func. */
  g_autoptr(GPtrArray) sorted = g_ptr_array_sized_new (events->len);

  for (guint i = 0; i < events->len; i++)
    g_ptr_array_add (sorted, g_ptr_array_index (events, i));
  g_ptr_array_sort (sorted, compare_event_ids);
  for (guint i = 0; i < sorted->len; i++)
    {
      MoatEvent *event = g_ptr_array_index (sorted, i);
      g_autofree char *key = NULL;
      MoatIncident *incident;

      if (event->threat == NULL || event->subject == NULL || event->action == NULL)
        continue;
      key = make_key (event->threat, event->subject);
      incident = g_hash_table_lookup (open, key);

      if (event->source == MOAT_EVENT_SOURCE_DETECTOR &&
          g_strcmp0 (event->action, "detected") == 0)
        {
          if (incident == NULL)
            {
              incident = incident_new (event);
              incident->detected = event->time;
              g_ptr_array_add (incidents, incident);
              g_hash_table_replace (open, g_strdup (key), incident);
              g_hash_table_replace (last, g_strdup (key), incident);
            }
          incident->severity = MAX (incident->severity, event->severity);
        }
      else if (event->source == MOAT_EVENT_SOURCE_DETECTOR &&
               g_strcmp0 (event->action, "cleared") == 0)
        {
          if (incident == NULL)
            {
              incident = incident_new (event);
              g_ptr_array_add (incidents, incident);
              g_hash_table_replace (last, g_strdup (key), incident);
            }
          incident->cleared = event->time;
          g_hash_table_remove (open, key);
        }
      else if (event->source == MOAT_EVENT_SOURCE_ENGINE &&
               g_str_has_prefix (event->action, "action-"))
        {
          if (incident == NULL)
            incident = g_hash_table_lookup (last, key);
          if (incident != NULL)
            incident_note_action (incident, event);
        }
    }

  return g_steal_pointer (&incidents);
}

/**
 * moat_incident_format_actions:
 *
 * Returns: (transfer full): what Moat did, for people: "Moat: Notify,
 *   Connect the company VPN (failed)", or "Moat took no action"
 */
char *
moat_incident_format_actions (const MoatIncident *incident)
{
  g_autoptr(GString) text = g_string_new (NULL);

  for (guint i = 0; i < incident->actions->len; i++)
    {
      MoatIncidentAction *a = g_ptr_array_index (incident->actions, i);
      const char *name = moat_policy_action_get_display_name (a->action);

      if (text->len > 0)
        /* Translators: between the actions Moat took, "Notify, Connect the company VPN" */
        g_string_append (text, _(", "));
      if (a->taken && a->reverted)
        /* Translators: an action that held until the threat cleared, %s is its name */
        g_string_append_printf (text, _("%s (undone when it cleared)"), name);
      else if (a->taken)
        g_string_append (text, name);
      else if (a->failed)
        /* Translators: an action that did not work, %s is its name */
        g_string_append_printf (text, _("%s (failed)"), name);
      else
        g_string_append (text, name);
    }
  if (text->len == 0)
    return g_strdup (_("Moat took no action"));
  /* Translators: %s lists what Moat did about a threat */
  return g_strdup_printf (_("Moat: %s"), text->str);
}
