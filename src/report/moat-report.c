/* SPDX-License-Identifier: GPL-3.0-or-later
 * Copyright 2026 The Moat developers
 */
#define G_LOG_DOMAIN "moat-report"

#include "config.h"

#include "moat-report.h"
#include "moat-report-private.h"

#include "moat-error.h"

#include <string.h>

/* ---- the model's structure, as far as the renderers rely on it ---- */

typedef enum {
  KIND_STRING,
  KIND_STRING_OR_NULL,
  KIND_INT,
  KIND_INT_OR_NULL,
  KIND_BOOL,
  KIND_OBJECT,
  KIND_STRINGS,
  KIND_OBJECTS,
} Kind;

typedef struct Field Field;
struct Field {
  const char  *name;
  Kind         kind;
  const Field *shape;  /* KIND_OBJECT, KIND_OBJECTS: the members; NULL: any object */
  gboolean     optional;
};

static const Field window_shape[] = {
  { "since", KIND_STRING_OR_NULL },
  { "until", KIND_STRING },
  { NULL }
};

static const Field summary_shape[] = {
  { "protection_state", KIND_STRING },
  { "protection_summary", KIND_STRING },
  { "risk_level", KIND_STRING },
  { "health_level", KIND_INT_OR_NULL },
  { "health_summary", KIND_STRING_OR_NULL },
  { NULL }
};

static const Field health_item_shape[] = {
  { "id", KIND_STRING },
  { "area", KIND_STRING },
  { "subject", KIND_STRING },
  { "status", KIND_STRING },
  { "severity", KIND_STRING_OR_NULL },
  { "title", KIND_STRING },
  { "summary", KIND_STRING },
  { "why", KIND_STRING },
  { "impact", KIND_STRING },
  { "screen", KIND_STRING },
  { "steps", KIND_STRINGS },
  { "auto_fix", KIND_BOOL },
  { "fix_status", KIND_STRING },
  { "evidence", KIND_OBJECT },
  { "checked", KIND_STRING_OR_NULL },
  { NULL }
};

static const Field health_shape[] = {
  { "available", KIND_BOOL },
  { "message", KIND_STRING_OR_NULL },
  { "level", KIND_INT_OR_NULL, NULL, TRUE },
  { "summary", KIND_STRING_OR_NULL, NULL, TRUE },
  { "items", KIND_OBJECTS, health_item_shape },
  { NULL }
};

static const Field computer_shape[] = {
  { "protection_state", KIND_STRING },
  { "protection_summary", KIND_STRING },
  { "risk_level", KIND_STRING },
  { "available", KIND_BOOL },
  { "message", KIND_STRING_OR_NULL },
  { "items", KIND_OBJECTS, health_item_shape },
  { NULL }
};

static const Field finding_shape[] = {
  { "check", KIND_STRING },
  { "result", KIND_STRING },
  { "threat", KIND_STRING_OR_NULL },
  { "severity", KIND_STRING_OR_NULL },
  { "summary", KIND_STRING },
  { "why", KIND_STRING },
  { "fix", KIND_STRINGS },
  { "screen", KIND_STRING },
  { "packages", KIND_STRINGS },
  { "evidence", KIND_OBJECT },
  { "command", KIND_STRING },
  { "fix_status", KIND_STRING },
  { NULL }
};

static const Field phone_shape[] = {
  { "serial", KIND_STRING },
  { "platform", KIND_STRING },
  { "model", KIND_STRING },
  { "os", KIND_STRING },
  { "connection", KIND_STRING },
  { "state", KIND_STRING },
  { "risk", KIND_STRING },
  { "message", KIND_STRING },
  { "routing", KIND_BOOL },
  { "checked", KIND_STRING_OR_NULL },
  { "findings", KIND_OBJECTS, finding_shape },
  { NULL }
};

static const Field phones_shape[] = {
  { "available", KIND_BOOL },
  { "message", KIND_STRING_OR_NULL },
  { "devices", KIND_OBJECTS, phone_shape },
  { NULL }
};

static const Field threat_shape[] = {
  { "threat", KIND_STRING },
  { "severity", KIND_STRING },
  { "subject", KIND_STRING },
  { "evidence", KIND_OBJECT },
  { "since", KIND_STRING },
  { NULL }
};

static const Field event_shape[] = {
  { "id", KIND_INT },
  { "time", KIND_STRING },
  { "source", KIND_STRING },
  { "threat", KIND_STRING },
  { "severity", KIND_STRING },
  { "subject", KIND_STRING },
  { "action", KIND_STRING },
  { "detail", KIND_OBJECT },
  { NULL }
};

static const Field threats_shape[] = {
  { "active", KIND_OBJECTS, threat_shape },
  { "events", KIND_OBJECTS, event_shape },
  { "truncated", KIND_BOOL },
  { NULL }
};

static const Field actions_shape[] = {
  { "events", KIND_OBJECTS, event_shape },
  { "truncated", KIND_BOOL },
  { NULL }
};

static const Field root_shape[] = {
  { "report", KIND_STRING },
  { "schema_version", KIND_INT },
  { "generated", KIND_STRING },
  { "moat_version", KIND_STRING },
  { "host", KIND_STRING },
  { "policy", KIND_STRING },
  { "window", KIND_OBJECT, window_shape },
  { "included", KIND_STRINGS },
  { "summary", KIND_OBJECT, summary_shape },
  { "computer", KIND_OBJECT, computer_shape, TRUE },
  { "health", KIND_OBJECT, health_shape, TRUE },
  { "phones", KIND_OBJECT, phones_shape, TRUE },
  { "threats", KIND_OBJECT, threats_shape, TRUE },
  { "actions", KIND_OBJECT, actions_shape, TRUE },
  { NULL }
};

static gboolean check_object (JsonNode *node, const char *path, const Field *shape,
                              GError **error);

static gboolean
invalid (GError **error, const char *path, const char *what)
{
  g_set_error (error, MOAT_ERROR, MOAT_ERROR_INVALID_ARGUMENT,
               "Report model: %s %s", path[0] != '\0' ? path : "the root", what);
  return FALSE;
}

static gboolean
is_string (JsonNode *node)
{
  return JSON_NODE_HOLDS_VALUE (node) && json_node_get_value_type (node) == G_TYPE_STRING &&
         g_utf8_validate (json_node_get_string (node), -1, NULL);
}

static gboolean
check_value (JsonNode *node, const char *path, const Field *field, GError **error)
{
  switch (field->kind)
    {
    case KIND_STRING_OR_NULL:
      if (JSON_NODE_HOLDS_NULL (node))
        return TRUE;
      G_GNUC_FALLTHROUGH;
    case KIND_STRING:
      if (!is_string (node))
        return invalid (error, path, "is not a UTF-8 string");
      return TRUE;
    case KIND_INT_OR_NULL:
      if (JSON_NODE_HOLDS_NULL (node))
        return TRUE;
      G_GNUC_FALLTHROUGH;
    case KIND_INT:
      if (!JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_INT64)
        return invalid (error, path, "is not an integer");
      return TRUE;
    case KIND_BOOL:
      if (!JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_BOOLEAN)
        return invalid (error, path, "is not true or false");
      return TRUE;
    case KIND_OBJECT:
      if (!JSON_NODE_HOLDS_OBJECT (node))
        return invalid (error, path, "is not an object");
      return field->shape == NULL || check_object (node, path, field->shape, error);
    case KIND_STRINGS:
    case KIND_OBJECTS:
      {
        JsonArray *array;

        if (!JSON_NODE_HOLDS_ARRAY (node))
          return invalid (error, path, "is not an array");
        array = json_node_get_array (node);
        for (guint i = 0; i < json_array_get_length (array); i++)
          {
            g_autofree char *item_path = g_strdup_printf ("%s[%u]", path, i);
            JsonNode *item = json_array_get_element (array, i);

            if (field->kind == KIND_STRINGS && !is_string (item))
              return invalid (error, item_path, "is not a UTF-8 string");
            if (field->kind == KIND_OBJECTS)
              {
                if (!JSON_NODE_HOLDS_OBJECT (item))
                  return invalid (error, item_path, "is not an object");
                if (!check_object (item, item_path, field->shape, error))
                  return FALSE;
              }
          }
        return TRUE;
      }
    default:
      g_assert_not_reached ();
    }
}

static gboolean
check_object (JsonNode *node, const char *path, const Field *shape, GError **error)
{
  JsonObject *object = json_node_get_object (node);

  for (const Field *field = shape; field->name != NULL; field++)
    {
      g_autofree char *member_path = path[0] != '\0'
                                     ? g_strconcat (path, ".", field->name, NULL)
                                     : g_strdup (field->name);
      JsonNode *member = json_object_get_member (object, field->name);

      if (member == NULL)
        {
          if (field->optional)
            continue;
          return invalid (error, member_path, "is missing");
        }
      if (!check_value (member, member_path, field, error))
        return FALSE;
    }
  return TRUE;
}

/**
 * moat_report_validate_model:
 * @model: a report model
 *
 * Checks what the renderers rely on: every member the schema requires is
 * there with its type, strings are UTF-8, `included` names known sections and
 * exactly the sections present. Values (severities, states) are not checked:
 * renderers show what they do not know as it is.
 *
 * Returns: %TRUE if @model can be rendered; otherwise MOAT_ERROR_INVALID_ARGUMENT
 *   naming the member
 */
gboolean
moat_report_validate_model (JsonNode  *model,
                            GError   **error)
{
  g_auto(GStrv) sections = g_strsplit (MOAT_REPORT_SECTIONS, ",", -1);
  JsonObject *root;
  JsonArray *included;

  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (model == NULL || !JSON_NODE_HOLDS_OBJECT (model))
    return invalid (error, "", "is not an object");
  if (!check_object (model, "", root_shape, error))
    return FALSE;
  root = json_node_get_object (model);
  if (g_strcmp0 (json_object_get_string_member (root, "report"), "moat-helpdesk-report") != 0)
    return invalid (error, "report", "is not \"moat-helpdesk-report\"");
  if (json_object_get_int_member (root, "schema_version") != 1)
    return invalid (error, "schema_version", "is not 1");

  included = json_object_get_array_member (root, "included");
  for (guint i = 0; i < json_array_get_length (included); i++)
    {
      const char *name = json_array_get_string_element (included, i);
      g_autofree char *path = g_strdup_printf ("included[%u]", i);

      if (!g_strv_contains ((const char * const *) sections, name))
        return invalid (error, path, "is not a section");
      for (guint j = 0; j < i; j++)
        if (g_str_equal (name, json_array_get_string_element (included, j)))
          return invalid (error, path, "is there twice");
    }
  for (guint i = 0; sections[i] != NULL; i++)
    {
      gboolean listed = FALSE;

      for (guint j = 0; j < json_array_get_length (included); j++)
        listed |= g_str_equal (sections[i], json_array_get_string_element (included, j));
      if (listed != json_object_has_member (root, sections[i]))
        return invalid (error, sections[i],
                        listed ? "is listed in included but missing"
                               : "is present but not listed in included");
    }
  return TRUE;
}

gboolean
moat_report_format_from_string (const char       *str,
                                MoatReportFormat *out)
{
  static const char *names[] = { "json", "html", "pdf" };

  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    if (g_strcmp0 (str, names[i]) == 0)
      {
        *out = (MoatReportFormat) i;
        return TRUE;
      }
  return FALSE;
}

const char *
moat_report_format_to_string (MoatReportFormat format)
{
  switch (format)
    {
    case MOAT_REPORT_FORMAT_JSON:
      return "json";
    case MOAT_REPORT_FORMAT_HTML:
      return "html";
    case MOAT_REPORT_FORMAT_PDF:
      return "pdf";
    default:
      return NULL;
    }
}

static gboolean
write_json (JsonNode *model, GOutputStream *out, GError **error)
{
  g_autoptr(JsonGenerator) generator = json_generator_new ();
  g_autofree char *text = NULL;
  gsize len;

  json_generator_set_pretty (generator, TRUE);
  json_generator_set_indent (generator, 2);
  json_generator_set_root (generator, model);
  text = json_generator_to_data (generator, &len);
  return g_output_stream_write_all (out, text, len, NULL, NULL, error) &&
         g_output_stream_write_all (out, "\n", 1, NULL, NULL, error);
}

/**
 * moat_report_write:
 * @model: a report model (see moat_report_validate_model())
 * @format: what to write
 * @out: where; left open
 *
 * Renders @model into @out. Blocking: call it from a thread or a command-line
 * tool, never from a main loop that serves others.
 *
 * Returns: %TRUE on success; MOAT_ERROR_INVALID_ARGUMENT for a bad model, the
 *   stream's error when writing fails
 */
gboolean
moat_report_write (JsonNode          *model,
                   MoatReportFormat   format,
                   GOutputStream     *out,
                   GError           **error)
{
  g_autoptr(MoatReportDocument) doc = NULL;

  g_return_val_if_fail (G_IS_OUTPUT_STREAM (out), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (!moat_report_validate_model (model, error))
    return FALSE;
  if (format == MOAT_REPORT_FORMAT_JSON)
    return write_json (model, out, error);

  doc = moat_report_document_new (model);
  switch (format)
    {
    case MOAT_REPORT_FORMAT_HTML:
      return moat_report_write_html (doc, out, error);
    case MOAT_REPORT_FORMAT_PDF:
      return moat_report_write_pdf (doc, out, error);
    case MOAT_REPORT_FORMAT_JSON:
    default:
      g_set_error (error, MOAT_ERROR, MOAT_ERROR_INVALID_ARGUMENT,
                   "Unknown report format %d", (int) format);
      return FALSE;
    }
}

typedef struct {
  JsonNode         *model;
  MoatReportFormat  format;
  GOutputStream    *out;
} WriteData;

static void
write_data_free (gpointer data)
{
  WriteData *w = data;

  json_node_unref (w->model);
  g_object_unref (w->out);
  g_free (w);
}

static void
write_thread (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  WriteData *w = task_data;
  g_autoptr(GError) error = NULL;

  if (g_task_return_error_if_cancelled (task))
    return;
  if (!moat_report_write (w->model, w->format, w->out, &error))
    g_task_return_error (task, g_steal_pointer (&error));
  else
    g_task_return_boolean (task, TRUE);
}

/**
 * moat_report_write_async:
 *
 * As moat_report_write(), in a worker thread; a bad model fails the same way.
 */
void
moat_report_write_async (JsonNode            *model,
                         MoatReportFormat     format,
                         GOutputStream       *out,
                         GCancellable        *cancellable,
                         GAsyncReadyCallback  callback,
                         gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  WriteData *w;

  g_return_if_fail (model != NULL);
  g_return_if_fail (G_IS_OUTPUT_STREAM (out));

  task = g_task_new (NULL, cancellable, callback, user_data);
  g_task_set_source_tag (task, moat_report_write_async);
  w = g_new0 (WriteData, 1);
  w->model = json_node_copy (model);
  w->format = format;
  w->out = g_object_ref (out);
  g_task_set_task_data (task, w, write_data_free);
  g_task_run_in_thread (task, write_thread);
}

gboolean
moat_report_write_finish (GAsyncResult  *result,
                          GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, NULL), FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}
