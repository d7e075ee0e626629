/* SPDX-License-Identifier: GPL-3.0-or-later
 * Copyright 2026 The Moat developers
 */
#define G_LOG_DOMAIN "moat-app"

#include "config.h"

#include "moat-device-posture.h"

#include <json-glib/json-glib.h>

void
moat_device_info_free (MoatDeviceInfo *info)
{
  if (info == NULL)
    return;
  g_free (info->serial);
  g_free (info->platform);
  g_free (info->model);
  g_free (info->os);
  g_free (info->connection);
  g_free (info->state);
  g_free (info->message);
  g_free (info);
}

void
moat_device_finding_free (MoatDeviceFinding *finding)
{
  if (finding == NULL)
    return;
  g_free (finding->check);
  g_free (finding->threat);
  g_free (finding->summary);
  g_free (finding->why);
  g_free (finding->fix);
  g_free (finding->screen);
  g_strfreev (finding->packages);
  g_free (finding->evidence);
  g_free (finding->command);
  g_free (finding);
}

GPtrArray *
moat_device_infos_from_variant (GVariant *devices)
{
  GPtrArray *infos = g_ptr_array_new_with_free_func ((GDestroyNotify) moat_device_info_free);
  GVariantIter iter;
  const char *serial, *platform, *model, *os, *connection, *state, *risk, *message;
  gboolean routing;
  gint64 checked;

  g_return_val_if_fail (devices != NULL, infos);
  g_return_val_if_fail (g_variant_is_of_type (devices, G_VARIANT_TYPE ("a(ssssssssbx)")), infos);

  g_variant_iter_init (&iter, devices);
  while (g_variant_iter_next (&iter, "(&s&s&s&s&s&s&s&sbx)", &serial, &platform, &model, &os,
                              &connection, &state, &risk, &message, &routing, &checked))
    {
      MoatDeviceInfo *info = g_new0 (MoatDeviceInfo, 1);

      info->serial = g_strdup (serial);
      info->platform = g_strdup (platform);
      info->model = g_strdup (model);
      info->os = g_strdup (os);
      info->connection = g_strdup (connection);
      info->state = g_strdup (state);
      info->risk_known = moat_risk_level_from_string (risk, &info->risk);
      if (!info->risk_known)
        info->risk = MOAT_RISK_LEVEL_NONE;
      info->message = g_strdup (message);
      info->routing = routing;
      info->checked = checked;
      g_ptr_array_add (infos, info);
    }
  return infos;
}

static int
finding_rank (const MoatDeviceFinding *finding)
{
  switch (finding->result)
    {
    case MOAT_DEVICE_RESULT_THREAT:
      return MOAT_SEVERITY_CRITICAL - (int) finding->severity;
    case MOAT_DEVICE_RESULT_UNKNOWN:
      return MOAT_SEVERITY_LAST;
    case MOAT_DEVICE_RESULT_OK:
    default:
      return MOAT_SEVERITY_LAST + 1;
    }
}

static char *
dup_child_string (GVariant *tuple,
                  gsize     index)
{
  g_autoptr(GVariant) child = NULL;

  if (index >= g_variant_n_children (tuple))
    return g_strdup ("");
  child = g_variant_get_child_value (tuple, index);
  if (!g_variant_is_of_type (child, G_VARIANT_TYPE_STRING))
    return g_strdup ("");
  return g_variant_dup_string (child, NULL);
}

/* Whether @findings is an array of (check, result, threat, severity,
 * summary, why, fix, screen, packages, evidence[, command]): the command
 * may be missing (then it reads ""). */
gboolean
moat_device_findings_type_is_valid (GVariant *findings)
{
  return g_variant_is_of_type (findings, G_VARIANT_TYPE ("a(ssssssssasss)")) ||
         g_variant_is_of_type (findings, G_VARIANT_TYPE ("a(ssssssssass)"));
}

GPtrArray *
moat_device_findings_from_variant (GVariant *findings)
{
  GPtrArray *out = g_ptr_array_new_with_free_func ((GDestroyNotify) moat_device_finding_free);
  GPtrArray *buckets[MOAT_SEVERITY_LAST + 2] = { NULL, };
  gsize n;

  g_return_val_if_fail (findings != NULL, out);
  g_return_val_if_fail (moat_device_findings_type_is_valid (findings), out);

  for (guint i = 0; i < G_N_ELEMENTS (buckets); i++)
    buckets[i] = g_ptr_array_new ();

  n = g_variant_n_children (findings);
  for (gsize i = 0; i < n; i++)
    {
      g_autoptr(GVariant) tuple = g_variant_get_child_value (findings, i);
      g_autoptr(GVariant) packages = g_variant_get_child_value (tuple, 8);
      g_autofree char *result = dup_child_string (tuple, 1);
      g_autofree char *severity = dup_child_string (tuple, 3);
      MoatDeviceFinding *finding = g_new0 (MoatDeviceFinding, 1);

      finding->check = dup_child_string (tuple, 0);
      if (g_strcmp0 (result, "threat") == 0)
        finding->result = MOAT_DEVICE_RESULT_THREAT;
      else if (g_strcmp0 (result, "ok") == 0)
        finding->result = MOAT_DEVICE_RESULT_OK;
      else
        finding->result = MOAT_DEVICE_RESULT_UNKNOWN;
      finding->severity = MOAT_SEVERITY_INFO;
      if (finding->result == MOAT_DEVICE_RESULT_THREAT &&
          !moat_severity_from_string (severity, &finding->severity))
        finding->severity = MOAT_SEVERITY_MEDIUM;
      finding->threat = dup_child_string (tuple, 2);
      finding->summary = dup_child_string (tuple, 4);
      finding->why = dup_child_string (tuple, 5);
      finding->fix = dup_child_string (tuple, 6);
      finding->screen = dup_child_string (tuple, 7);
      finding->packages = g_variant_dup_strv (packages, NULL);
      finding->evidence = dup_child_string (tuple, 9);
      finding->command = dup_child_string (tuple, 10);
      g_ptr_array_add (buckets[finding_rank (finding)], finding);
    }

  for (guint i = 0; i < G_N_ELEMENTS (buckets); i++)
    {
      for (guint j = 0; j < buckets[i]->len; j++)
        g_ptr_array_add (out, g_ptr_array_index (buckets[i], j));
      g_ptr_array_unref (buckets[i]);
    }
  return out;
}

gboolean
moat_device_info_needs_attention (const MoatDeviceInfo *info)
{
  g_return_val_if_fail (info != NULL, FALSE);

  return g_strcmp0 (info->state, "unauthorized") == 0 ||
         g_strcmp0 (info->state, "offline") == 0 ||
         g_strcmp0 (info->state, "no-permissions") == 0 ||
         g_strcmp0 (info->state, "error") == 0;
}

gboolean
moat_device_info_is_usable (const MoatDeviceInfo *info)
{
  g_return_val_if_fail (info != NULL, FALSE);

  return g_strcmp0 (info->state, "ready") == 0 || g_strcmp0 (info->state, "checking") == 0;
}

GStrv
moat_device_finding_dup_fix_steps (const MoatDeviceFinding *finding)
{
  g_autoptr(GStrvBuilder) builder = g_strv_builder_new ();
  g_auto(GStrv) lines = NULL;

  g_return_val_if_fail (finding != NULL, NULL);

  lines = g_strsplit (finding->fix != NULL ? finding->fix : "", "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    {
      char *line = g_strstrip (lines[i]);

      if (line[0] != '\0')
        g_strv_builder_add (builder, line);
    }
  return g_strv_builder_end (builder);
}

char *
moat_device_format_evidence (const char *evidence)
{
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GString) text = g_string_new (NULL);
  g_autoptr(GList) members = NULL;
  JsonObject *object;

  if (evidence == NULL)
    return g_strdup ("");
  if (!json_parser_load_from_data (parser, evidence, -1, NULL) ||
      json_parser_get_root (parser) == NULL ||
      !JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)))
    return g_strdup (evidence);

  object = json_node_get_object (json_parser_get_root (parser));
  members = json_object_get_members (object);
  for (GList *l = members; l != NULL; l = l->next)
    {
      const char *key = l->data;
      JsonNode *node = json_object_get_member (object, key);

      if (text->len > 0)
        g_string_append_c (text, '\n');
      g_string_append_printf (text, "%s: ", key);
      if (JSON_NODE_HOLDS_VALUE (node) && json_node_get_value_type (node) == G_TYPE_STRING)
        {
          g_string_append (text, json_node_get_string (node));
        }
      else
        {
          g_autofree char *value = json_to_string (node, FALSE);

          g_string_append (text, value);
        }
    }
  return g_string_free (g_steal_pointer (&text), FALSE);
}
