/* SPDX-License-Identifier: GPL-3.0-or-later
 * Copyright 2026 The Moat developers
 */
#define G_LOG_DOMAIN "moat-report"

#include "config.h"

#include "moat-report-model.h"

#include "moat-report.h"

#include <glib/gi18n.h>

/* "2026-11-27T10:00:00.000000Z", as moatctl prints times. */
static char *
format_utc (gint64 usec)
{
  g_autoptr(GDateTime) epoch = g_date_time_new_from_unix_utc (0);
  g_autoptr(GDateTime) dt = epoch != NULL ? g_date_time_add (epoch, usec) : NULL;

  if (dt == NULL)
    return g_strdup ("");
  return g_date_time_format (dt, "%Y-%m-%dT%H:%M:%S.%fZ");
}

/* At most this many events per list in a report (newest first). */
#define MAX_EVENTS 500

typedef enum {
  STEP_POLICY,
  STEP_HEALTH,
  STEP_HEALTH_LEVEL,
  STEP_THREATS,
  STEP_DEVICES,
  STEP_POSTURE,
  STEP_THREAT_EVENTS,
  STEP_ACTIONS_ENGINE,
  STEP_ACTIONS_DEVICE,
  STEP_ACTIONS_HEALTH,
  STEP_DONE,
} Step;

typedef struct {
  /* owned */
  MoatClient *client;
  GStrv       sections;
  JsonObject *root;
  JsonArray  *health_items;   /* every item of GetHealth, or NULL when not available */
  char       *health_message; /* why not */
  JsonNode   *health_level;   /* integer or null */
  char       *health_summary;
  GVariant   *devices;        /* GetDevices' a(ssssssssbx) */
  JsonArray  *phones;
  GPtrArray  *actions;        /* MoatEvent, from every action source */
  gboolean    actions_truncated;

  Step        step;
  guint       device_index;
  gint64      since;
  gint64      until;
} Build;

static void
build_free (gpointer data)
{
  Build *b = data;

  g_clear_object (&b->client);
  g_strfreev (b->sections);
  g_clear_pointer (&b->root, json_object_unref);
  g_clear_pointer (&b->health_items, json_array_unref);
  g_free (b->health_message);
  g_clear_pointer (&b->health_level, json_node_unref);
  g_free (b->health_summary);
  g_clear_pointer (&b->devices, g_variant_unref);
  g_clear_pointer (&b->phones, json_array_unref);
  g_clear_pointer (&b->actions, g_ptr_array_unref);
  g_free (b);
}

static gboolean
wants (Build *b, const char *section)
{
  return g_strv_contains ((const char * const *) b->sections, section);
}

static void run_step (GTask *task);

static void
next_step (GTask *task)
{
  Build *b = g_task_get_task_data (task);

  b->step++;
  run_step (task);
}

/* Errors that end the report: moatd gone, or the caller gave up. */
static gboolean
fatal (GTask *task, GError **error)
{
  if (g_error_matches (*error, G_IO_ERROR, G_IO_ERROR_CANCELLED) ||
      g_error_matches (*error, MOAT_ERROR, MOAT_ERROR_ENGINE_UNREACHABLE))
    {
      g_task_return_error (task, g_steal_pointer (error));
      return TRUE;
    }
  return FALSE;
}

static void
set_time (JsonObject *object, const char *member, gint64 usec)
{
  if (usec > 0)
    {
      g_autofree char *text = format_utc (usec);

      json_object_set_string_member (object, member, text);
    }
  else
    {
      json_object_set_null_member (object, member);
    }
}

static void
set_string_or_null (JsonObject *object, const char *member, const char *value)
{
  if (value != NULL && value[0] != '\0')
    json_object_set_string_member (object, member, value);
  else
    json_object_set_null_member (object, member);
}

/* Evidence is a JSON object in moatd's answers; anything else is kept as text. */
static void
set_evidence (JsonObject *object, const char *member, const char *text)
{
  g_autoptr(JsonParser) parser = json_parser_new ();
  JsonObject *evidence;

  if (text != NULL && json_parser_load_from_data (parser, text, -1, NULL) &&
      JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)))
    {
      json_object_set_member (object, member, json_node_copy (json_parser_get_root (parser)));
      return;
    }
  evidence = json_object_new ();
  if (text != NULL && text[0] != '\0')
    json_object_set_string_member (evidence, "text", text);
  json_object_set_object_member (object, member, evidence);
}

static JsonArray *
strings_array (const char * const *strv)
{
  JsonArray *array = json_array_new ();

  for (guint i = 0; strv != NULL && strv[i] != NULL; i++)
    json_array_add_string_element (array, strv[i]);
  return array;
}

static JsonObject *
event_object (const MoatEvent *event)
{
  JsonObject *object = json_object_new ();

  json_object_set_int_member (object, "id", event->id);
  set_time (object, "time", event->time);
  json_object_set_string_member (object, "source", moat_event_source_to_string (event->source));
  json_object_set_string_member (object, "threat", event->threat != NULL ? event->threat : "");
  json_object_set_string_member (object, "severity", moat_severity_to_string (event->severity));
  json_object_set_string_member (object, "subject", event->subject != NULL ? event->subject : "");
  json_object_set_string_member (object, "action", event->action != NULL ? event->action : "");
  set_evidence (object, "detail", event->detail);
  return object;
}

/* ---- steps ---- */

static void
policy_cb (GObject *object, GAsyncResult *result, gpointer user_data)
{
  g_autoptr(GTask) task = user_data;
  Build *b = g_task_get_task_data (task);
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) reply = moat_client_call_finish (b->client, result, &error);
  const char *name = NULL;

  if (reply == NULL && fatal (task, &error))
    return;
  if (reply != NULL)
    g_variant_get (reply, "(&s&s)", &name, NULL);
  json_object_set_string_member (b->root, "policy", name != NULL ? name : "");
  next_step (g_steal_pointer (&task));
}

static const char *
fix_status (const char *status, gboolean auto_fix)
{
  if (g_str_equal (status, "ok"))
    return "ok";
  if (g_str_equal (status, "problem"))
    return auto_fix ? "automatic" : "open";
  return "unknown";
}

static void
health_cb (GObject *object, GAsyncResult *result, gpointer user_data)
{
  g_autoptr(GTask) task = user_data;
  Build *b = g_task_get_task_data (task);
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) reply = moat_client_call_finish (b->client, result, &error);
  g_autoptr(GVariantIter) iter = NULL;
  const char *id, *area, *subject, *status, *severity, *title, *summary, *why, *impact, *screen,
             *evidence;
  g_autofree const char **steps = NULL;
  gboolean auto_fix;
  gint64 checked;

  if (reply == NULL)
    {
      if (fatal (task, &error))
        return;
      /* A moatd without health checks (UnknownMethod) still makes a report. */
      b->health_message = g_strdup (error->message);
      b->step = STEP_HEALTH_LEVEL;
      next_step (g_steal_pointer (&task));
      return;
    }
  b->health_items = json_array_new ();
  g_variant_get (reply, "(a(ssssssssssasbsx))", &iter);
  while (g_variant_iter_next (iter, "(&s&s&s&s&s&s&s&s&s&s^a&sb&sx)", &id, &area, &subject,
                              &status, &severity, &title, &summary, &why, &impact, &screen,
                              &steps, &auto_fix, &evidence, &checked))
    {
      JsonObject *item = json_object_new ();

      json_object_set_string_member (item, "id", id);
      json_object_set_string_member (item, "area", area);
      json_object_set_string_member (item, "subject", subject);
      json_object_set_string_member (item, "status", status);
      set_string_or_null (item, "severity", g_str_equal (status, "ok") ? NULL : severity);
      json_object_set_string_member (item, "title", title);
      json_object_set_string_member (item, "summary", summary);
      json_object_set_string_member (item, "why", why);
      json_object_set_string_member (item, "impact", impact);
      json_object_set_string_member (item, "screen", screen);
      json_object_set_array_member (item, "steps", strings_array (steps));
      json_object_set_boolean_member (item, "auto_fix", auto_fix);
      json_object_set_string_member (item, "fix_status", fix_status (status, auto_fix));
      set_evidence (item, "evidence", evidence);
      set_time (item, "checked", checked);
      json_array_add_object_element (b->health_items, item);
      g_clear_pointer (&steps, g_free);
    }
  next_step (g_steal_pointer (&task));
}

static void
health_level_cb (GObject *object, GAsyncResult *result, gpointer user_data)
{
  g_autoptr(GTask) task = user_data;
  Build *b = g_task_get_task_data (task);
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) reply = moat_client_call_finish (b->client, result, &error);
  g_autoptr(GVariant) props = NULL;
  guint32 level;
  const char *summary;

  if (reply == NULL && fatal (task, &error))
    return;
  if (reply != NULL)
    {
      props = g_variant_get_child_value (reply, 0);
      if (g_variant_lookup (props, "HealthLevel", "u", &level))
        {
          b->health_level = json_node_new (JSON_NODE_VALUE);
          json_node_set_int (b->health_level, MIN (level, 4));
        }
      if (g_variant_lookup (props, "HealthSummary", "&s", &summary))
        b->health_summary = g_strdup (summary);
    }
  next_step (g_steal_pointer (&task));
}

static void
threats_cb (GObject *object, GAsyncResult *result, gpointer user_data)
{
  g_autoptr(GTask) task = user_data;
  Build *b = g_task_get_task_data (task);
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) reply = moat_client_call_finish (b->client, result, &error);
  g_autoptr(GVariantIter) iter = NULL;
  JsonObject *threats = json_object_new ();
  JsonArray *active = json_array_new ();
  const char *threat, *severity, *subject, *evidence;
  gint64 since;

  json_object_set_array_member (threats, "active", active);
  json_object_set_object_member (b->root, "threats", threats);
  if (reply == NULL)
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  g_variant_get (reply, "(a(ssssx))", &iter);
  while (g_variant_iter_next (iter, "(&s&s&s&sx)", &threat, &severity, &subject, &evidence,
                              &since))
    {
      JsonObject *item = json_object_new ();

      json_object_set_string_member (item, "threat", threat);
      json_object_set_string_member (item, "severity", severity);
      json_object_set_string_member (item, "subject", subject);
      set_evidence (item, "evidence", evidence);
      set_time (item, "since", since > 0 ? since : 1);
      json_array_add_object_element (active, item);
    }
  next_step (g_steal_pointer (&task));
}

static void
devices_cb (GObject *object, GAsyncResult *result, gpointer user_data)
{
  g_autoptr(GTask) task = user_data;
  Build *b = g_task_get_task_data (task);
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) reply = moat_client_call_finish (b->client, result, &error);
  JsonObject *phones = json_object_new ();

  json_object_set_object_member (b->root, "phones", phones);
  if (reply == NULL)
    {
      if (fatal (task, &error))
        return;
      json_object_set_boolean_member (phones, "available", FALSE);
      json_object_set_string_member (phones, "message", error->message);
      json_object_set_array_member (phones, "devices", json_array_new ());
      b->step = STEP_POSTURE;
      next_step (g_steal_pointer (&task));
      return;
    }
  json_object_set_boolean_member (phones, "available", TRUE);
  json_object_set_null_member (phones, "message");
  b->phones = json_array_new ();
  json_object_set_array_member (phones, "devices", json_array_ref (b->phones));
  b->devices = g_variant_get_child_value (reply, 0);
  b->device_index = 0;
  next_step (g_steal_pointer (&task));
}

static void
posture_cb (GObject *object, GAsyncResult *result, gpointer user_data)
{
  g_autoptr(GTask) task = user_data;
  Build *b = g_task_get_task_data (task);
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) reply = moat_client_call_finish (b->client, result, &error);
  g_autoptr(GVariantIter) iter = NULL;
  JsonObject *phone = json_array_get_object_element (b->phones, b->device_index);
  JsonArray *findings = json_array_new ();
  const char *check, *res, *threat, *severity, *summary, *why, *fix, *screen, *evidence,
             *command;
  g_autofree const char **packages = NULL;

  json_object_set_array_member (phone, "findings", findings);
  if (reply == NULL && fatal (task, &error))
    return;
  /* A phone that went away (NotFound) has no findings to show. */
  if (reply != NULL)
    {
      g_variant_get (reply, "(a(ssssssssasss))", &iter);
      while (g_variant_iter_next (iter, "(&s&s&s&s&s&s&s&s^a&s&s&s)", &check, &res, &threat,
                                  &severity, &summary, &why, &fix, &screen, &packages,
                                  &evidence, &command))
        {
          JsonObject *item = json_object_new ();
          g_auto(GStrv) steps = g_strsplit (fix, "\n", -1);
          JsonArray *step_array = json_array_new ();

          json_object_set_string_member (item, "check", check);
          json_object_set_string_member (item, "result", res);
          set_string_or_null (item, "threat", g_str_equal (res, "threat") ? threat : NULL);
          set_string_or_null (item, "severity", g_str_equal (res, "threat") ? severity : NULL);
          json_object_set_string_member (item, "summary", summary);
          json_object_set_string_member (item, "why", why);
          for (guint i = 0; steps[i] != NULL; i++)
            if (g_strstrip (steps[i])[0] != '\0')
              json_array_add_string_element (step_array, steps[i]);
          json_object_set_array_member (item, "fix", step_array);
          json_object_set_string_member (item, "screen", screen);
          json_object_set_array_member (item, "packages", strings_array (packages));
          set_evidence (item, "evidence", evidence);
          json_object_set_string_member (item, "command", command);
          json_object_set_string_member (item, "fix_status",
                                         g_str_equal (res, "ok") ? "ok"
                                         : g_str_equal (res, "threat") ? "open" : "unknown");
          json_array_add_object_element (findings, item);
          g_clear_pointer (&packages, g_free);
        }
    }
  b->device_index++;
  run_step (g_steal_pointer (&task));
}

static void
add_phone (Build *b, GVariant *device)
{
  const char *serial, *platform, *model, *os, *connection, *state, *risk, *message;
  gboolean routing;
  gint64 checked;
  JsonObject *phone = json_object_new ();

  g_variant_get (device, "(&s&s&s&s&s&s&s&sbx)", &serial, &platform, &model, &os, &connection,
                 &state, &risk, &message, &routing, &checked);
  json_object_set_string_member (phone, "serial", serial);
  json_object_set_string_member (phone, "platform", platform);
  json_object_set_string_member (phone, "model", model);
  json_object_set_string_member (phone, "os", os);
  json_object_set_string_member (phone, "connection", connection);
  json_object_set_string_member (phone, "state", state);
  json_object_set_string_member (phone, "risk", risk);
  json_object_set_string_member (phone, "message", message);
  json_object_set_boolean_member (phone, "routing", routing);
  set_time (phone, "checked", checked);
  json_object_set_array_member (phone, "findings", json_array_new ());
  json_array_add_object_element (b->phones, phone);
}

/* Lists up to MAX_EVENTS events of @source in the window, newest first. */
static void
list_events (GTask *task, MoatEventSource source, GAsyncReadyCallback callback)
{
  Build *b = g_task_get_task_data (task);
  g_autoptr(MoatEventFilter) filter = moat_event_filter_new ();

  filter->since = b->since;
  filter->until = b->until;
  filter->has_source = TRUE;
  filter->source = source;
  moat_client_list_events_async (b->client, filter, 0, MAX_EVENTS + 1,
                                 g_task_get_cancellable (task), callback, task);
}

static GPtrArray *
list_events_finish (GTask *task, GAsyncResult *result, gboolean *truncated)
{
  Build *b = g_task_get_task_data (task);
  g_autoptr(GError) error = NULL;
  GPtrArray *events = moat_client_list_events_finish (b->client, result, &error);

  if (events == NULL)
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return NULL;
    }
  if (events->len > MAX_EVENTS)
    {
      g_ptr_array_set_size (events, MAX_EVENTS);
      *truncated = TRUE;
    }
  return events;
}

static void
threat_events_cb (GObject *object, GAsyncResult *result, gpointer user_data)
{
  g_autoptr(GTask) task = user_data;
  Build *b = g_task_get_task_data (task);
  gboolean truncated = FALSE;
  g_autoptr(GPtrArray) events = list_events_finish (task, result, &truncated);
  JsonObject *threats = json_object_get_object_member (b->root, "threats");
  JsonArray *array = json_array_new ();

  if (events == NULL)
    return;
  for (guint i = 0; i < events->len; i++)
    json_array_add_object_element (array, event_object (g_ptr_array_index (events, i)));
  json_object_set_array_member (threats, "events", array);
  json_object_set_boolean_member (threats, "truncated", truncated);
  next_step (g_steal_pointer (&task));
}

static void
action_events_cb (GObject *object, GAsyncResult *result, gpointer user_data)
{
  g_autoptr(GTask) task = user_data;
  Build *b = g_task_get_task_data (task);
  g_autoptr(GPtrArray) events = list_events_finish (task, result, &b->actions_truncated);

  if (events == NULL)
    return;
  for (guint i = 0; i < events->len; i++)
    g_ptr_array_add (b->actions, moat_event_ref (g_ptr_array_index (events, i)));
  next_step (g_steal_pointer (&task));
}

static int
compare_newest_first (gconstpointer a, gconstpointer b)
{
  const MoatEvent *x = *(MoatEvent **) a;
  const MoatEvent *y = *(MoatEvent **) b;

  if (x->time != y->time)
    return x->time > y->time ? -1 : 1;
  return x->id > y->id ? -1 : (x->id < y->id ? 1 : 0);
}

static void
finish (GTask *task)
{
  Build *b = g_task_get_task_data (task);
  JsonObject *summary = json_object_get_object_member (b->root, "summary");
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) node = json_node_new (JSON_NODE_OBJECT);

  json_object_set_member (summary, "health_level",
                          b->health_level != NULL ? json_node_copy (b->health_level)
                                                  : json_node_new (JSON_NODE_NULL));
  set_string_or_null (summary, "health_summary", b->health_summary);

  /* Health items by area: this computer's, and Moat's own protections. */
  for (guint s = 0; s < 2; s++)
    {
      const char *section = s == 0 ? "computer" : "health";
      const char *area = s == 0 ? "computer" : "moat";
      JsonObject *object;
      JsonArray *items = json_array_new ();

      if (!wants (b, section))
        {
          json_array_unref (items);
          continue;
        }
      object = json_object_new ();
      if (s == 0)
        {
          json_object_set_string_member (object, "protection_state",
                                         json_object_get_string_member (summary,
                                                                        "protection_state"));
          json_object_set_string_member (object, "protection_summary",
                                         json_object_get_string_member (summary,
                                                                        "protection_summary"));
          json_object_set_string_member (object, "risk_level",
                                         json_object_get_string_member (summary, "risk_level"));
        }
      json_object_set_boolean_member (object, "available", b->health_items != NULL);
      if (b->health_items != NULL)
        json_object_set_null_member (object, "message");
      else
        json_object_set_string_member (object, "message", b->health_message != NULL
                                                          ? b->health_message : "");
      for (guint i = 0; b->health_items != NULL &&
                        i < json_array_get_length (b->health_items); i++)
        {
          JsonObject *item = json_array_get_object_element (b->health_items, i);

          if (g_strcmp0 (json_object_get_string_member (item, "area"), area) == 0)
            json_array_add_object_element (items, json_object_ref (item));
        }
      json_object_set_array_member (object, "items", items);
      if (s == 1)
        {
          json_object_set_member (object, "level", json_node_copy (json_object_get_member (
                                                     summary, "health_level")));
          set_string_or_null (object, "summary", b->health_summary);
        }
      json_object_set_object_member (b->root, section, object);
    }

  if (wants (b, "actions"))
    {
      JsonObject *actions = json_object_new ();
      JsonArray *array = json_array_new ();

      g_ptr_array_sort (b->actions, compare_newest_first);
      if (b->actions->len > MAX_EVENTS)
        {
          g_ptr_array_set_size (b->actions, MAX_EVENTS);
          b->actions_truncated = TRUE;
        }
      for (guint i = 0; i < b->actions->len; i++)
        json_array_add_object_element (array, event_object (g_ptr_array_index (b->actions, i)));
      json_object_set_array_member (actions, "events", array);
      json_object_set_boolean_member (actions, "truncated", b->actions_truncated);
      json_object_set_object_member (b->root, "actions", actions);
    }
  if (!wants (b, "threats"))
    json_object_remove_member (b->root, "threats");

  json_node_set_object (node, b->root);
  if (!moat_report_validate_model (node, &error))
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  g_task_return_pointer (task, g_steal_pointer (&node), (GDestroyNotify) json_node_unref);
}

static void
run_step (GTask *task)
{
  Build *b = g_task_get_task_data (task);

  switch (b->step)
    {
    case STEP_POLICY:
      moat_client_call_async (b->client, "GetPolicy", NULL, g_task_get_cancellable (task),
                              policy_cb, task);
      return;
    case STEP_HEALTH:
      if (!wants (b, "computer") && !wants (b, "health"))
        break;
      moat_client_call_async (b->client, "GetHealth", NULL, g_task_get_cancellable (task),
                              health_cb, task);
      return;
    case STEP_HEALTH_LEVEL:
      moat_client_call_async (b->client, "org.freedesktop.DBus.Properties.GetAll",
                              g_variant_new ("(s)", "io.github.moatproject.Moat1"),
                              g_task_get_cancellable (task), health_level_cb, task);
      return;
    case STEP_THREATS:
      /* Threats are needed for the summary's count too, but shown only if chosen. */
      if (!wants (b, "threats"))
        break;
      moat_client_call_async (b->client, "GetThreats", NULL, g_task_get_cancellable (task),
                              threats_cb, task);
      return;
    case STEP_DEVICES:
      if (!wants (b, "phones"))
        {
          b->step = STEP_POSTURE;
          break;
        }
      moat_client_call_async (b->client, "GetDevices", NULL, g_task_get_cancellable (task),
                              devices_cb, task);
      return;
    case STEP_POSTURE:
      if (b->devices != NULL && b->device_index < g_variant_n_children (b->devices))
        {
          g_autoptr(GVariant) device = g_variant_get_child_value (b->devices, b->device_index);
          const char *serial;

          add_phone (b, device);
          g_variant_get_child (device, 0, "&s", &serial);
          moat_client_call_async (b->client, "GetDevicePosture", g_variant_new ("(s)", serial),
                                  g_task_get_cancellable (task), posture_cb, task);
          return;
        }
      break;
    case STEP_THREAT_EVENTS:
      if (!wants (b, "threats"))
        break;
      list_events (task, MOAT_EVENT_SOURCE_DETECTOR, threat_events_cb);
      return;
    case STEP_ACTIONS_ENGINE:
    case STEP_ACTIONS_DEVICE:
    case STEP_ACTIONS_HEALTH:
      if (!wants (b, "actions"))
        break;
      list_events (task, b->step == STEP_ACTIONS_ENGINE ? MOAT_EVENT_SOURCE_ENGINE
                         : b->step == STEP_ACTIONS_DEVICE ? MOAT_EVENT_SOURCE_DEVICE
                         : MOAT_EVENT_SOURCE_HEALTH, action_events_cb);
      return;
    case STEP_DONE:
      finish (task);
      g_object_unref (task);
      return;
    default:
      g_assert_not_reached ();
    }
  next_step (task);
}

void
moat_report_model_build_async (MoatClient          *client,
                             gint64               since,
                             const char * const  *sections,
                             GCancellable        *cancellable,
                             GAsyncReadyCallback  callback,
                             gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  g_autoptr(GDateTime) now = g_date_time_new_now_utc ();
  g_autofree char *generated = NULL;
  JsonObject *summary, *window;
  JsonArray *included;
  Build *b;
  static const char *order[] = { "computer", "phones", "threats", "actions", "health" };

  g_return_if_fail (MOAT_IS_CLIENT (client));

  task = g_task_new (client, cancellable, callback, user_data);
  g_task_set_source_tag (task, moat_report_model_build_async);
  b = g_new0 (Build, 1);
  g_task_set_task_data (task, b, build_free);
  b->client = g_object_ref (client);
  b->sections = g_strdupv ((char **) sections);
  b->since = since;
  b->until = g_date_time_to_unix (now) * G_USEC_PER_SEC + g_date_time_get_microsecond (now);
  b->actions = g_ptr_array_new_with_free_func ((GDestroyNotify) moat_event_unref);

  b->root = json_object_new ();
  json_object_set_string_member (b->root, "report", "moat-helpdesk-report");
  json_object_set_int_member (b->root, "schema_version", 1);
  set_time (b->root, "generated", b->until);
  json_object_set_string_member (b->root, "moat_version",
                                 moat_client_get_version (client) != NULL
                                 ? moat_client_get_version (client) : "");
  json_object_set_string_member (b->root, "host", g_get_host_name ());
  json_object_set_string_member (b->root, "policy", "");
  window = json_object_new ();
  set_time (window, "since", since);
  set_time (window, "until", b->until);
  json_object_set_object_member (b->root, "window", window);
  included = json_array_new ();
  for (guint i = 0; i < G_N_ELEMENTS (order); i++)
    if (wants (b, order[i]))
      json_array_add_string_element (included, order[i]);
  json_object_set_array_member (b->root, "included", included);
  summary = json_object_new ();
  json_object_set_string_member (summary, "protection_state",
                                 moat_protection_state_to_string (
                                   moat_client_get_protection_state (client)));
  json_object_set_string_member (summary, "protection_summary",
                                 moat_client_get_protection_summary (client) != NULL
                                 ? moat_client_get_protection_summary (client) : "");
  json_object_set_string_member (summary, "risk_level",
                                 moat_risk_level_to_string (moat_client_get_risk_level (client)));
  json_object_set_object_member (b->root, "summary", summary);

  run_step (g_steal_pointer (&task));
}

/* Returns: (transfer full): the model */
JsonNode *
moat_report_model_build_finish (MoatClient    *client,
                              GAsyncResult  *result,
                              GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, client), NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}

GStrv
moat_report_model_parse_sections (const char  *text,
                                GError     **error)
{
  g_auto(GStrv) known = g_strsplit (MOAT_REPORT_SECTIONS, ",", -1);
  g_auto(GStrv) parts = NULL;
  g_autoptr(GStrvBuilder) builder = g_strv_builder_new ();
  g_autoptr(GPtrArray) seen = g_ptr_array_new ();

  if (text == NULL)
    return g_strdupv (known);
  parts = g_strsplit (text, ",", -1);
  for (guint i = 0; parts[i] != NULL; i++)
    {
      const char *name = g_strstrip (parts[i]);

      if (!g_strv_contains ((const char * const *) known, name))
        {
          g_set_error (error, MOAT_ERROR, MOAT_ERROR_INVALID_ARGUMENT,
                       _("“%s” is not a report section: use computer, phones, threats, actions "
                         "or health"), name);
          return NULL;
        }
      if (g_ptr_array_find_with_equal_func (seen, name, g_str_equal, NULL))
        continue;
      g_ptr_array_add (seen, (gpointer) name);
      g_strv_builder_add (builder, name);
    }
  return g_strv_builder_end (builder);
}
