/* SPDX-License-Identifier: GPL-3.0-or-later
 * Copyright 2026 The Moat developers
 */
#define G_LOG_DOMAIN "moatctl"

#include "config.h"

#include "moat-cli-lists.h"

#include <glib/gi18n.h>

static const char *
lookup_string (GVariant *dict, const char *key)
{
  const char *value = NULL;

  if (!g_variant_lookup (dict, key, "&s", &value))
    return NULL;
  return value;
}

static guint32
lookup_uint (GVariant *dict, const char *key)
{
  guint32 value = 0;

  g_variant_lookup (dict, key, "u", &value);
  return value;
}

static gboolean
lookup_bool (GVariant *dict, const char *key)
{
  gboolean value = FALSE;

  g_variant_lookup (dict, key, "b", &value);
  return value;
}

static void
add_string_or_null (JsonBuilder *builder, const char *name, const char *value)
{
  json_builder_set_member_name (builder, name);
  if (value != NULL && value[0] != '\0')
    json_builder_add_string_value (builder, value);
  else
    json_builder_add_null_value (builder);
}

JsonNode *
moat_cli_check_to_json (GVariant *result)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  const char *verdict = lookup_string (result, "verdict");
  gboolean decided = verdict != NULL && !g_str_equal (verdict, "none");

  json_builder_begin_object (builder);
  add_string_or_null (builder, "host", lookup_string (result, "host"));
  add_string_or_null (builder, "verdict", verdict != NULL ? verdict : "none");
  add_string_or_null (builder, "category", decided ? lookup_string (result, "category") : NULL);
  add_string_or_null (builder, "list_id", decided ? lookup_string (result, "list-id") : NULL);
  add_string_or_null (builder, "list_name", decided ? lookup_string (result, "list-name") : NULL);
  add_string_or_null (builder, "rule", decided ? lookup_string (result, "rule") : NULL);
  json_builder_set_member_name (builder, "line");
  if (decided)
    json_builder_add_int_value (builder, lookup_uint (result, "line"));
  else
    json_builder_add_null_value (builder);
  json_builder_set_member_name (builder, "protected_resource");
  json_builder_add_boolean_value (builder, lookup_bool (result, "protected-resource"));
  json_builder_end_object (builder);
  return json_builder_get_root (builder);
}

void
moat_cli_append_check (GString *out, GVariant *result)
{
  const char *host = lookup_string (result, "host");
  const char *verdict = lookup_string (result, "verdict");

  if (g_strcmp0 (verdict, "block") == 0)
    /* Translators: %s is a host name */
    g_string_append_printf (out, _("%s is blocked."), host);
  else if (g_strcmp0 (verdict, "allow") == 0)
    /* Translators: %s is a host name */
    g_string_append_printf (out, _("%s is allowed by an exception."), host);
  else
    /* Translators: %s is a host name */
    g_string_append_printf (out, _("%s is not on any list in use."), host);
  g_string_append_c (out, '\n');
  if (lookup_bool (result, "protected-resource"))
    g_string_append_printf (out, "  %s\n",
                            _("It is a protected resource: the policy walls it off when the "
                              "network is not safe."));
  if (verdict == NULL || g_str_equal (verdict, "none"))
    return;

  g_string_append_printf (out, "  %-10s %s\n", _("Category:"), lookup_string (result, "category"));
  g_string_append_printf (out, "  %-10s %s (%s)\n", _("List:"),
                          lookup_string (result, "list-name"), lookup_string (result, "list-id"));
  if (lookup_string (result, "rule") != NULL)
    {
      /* Translators: a filter rule and its line number in the list */
      g_autofree char *line = g_strdup_printf (_("%s (line %u)"), lookup_string (result, "rule"),
                                               lookup_uint (result, "line"));

      g_string_append_printf (out, "  %-10s %s\n", _("Rule:"), line);
    }
}

static char *
format_updated (gint64 updated)
{
  g_autoptr(GDateTime) time = NULL;

  if (updated <= 0)
    return NULL;
  time = g_date_time_new_from_unix_utc (updated / G_USEC_PER_SEC);
  return time != NULL ? g_date_time_format_iso8601 (time) : NULL;
}

JsonNode *
moat_cli_lists_to_json (GVariant *lists)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  GVariantIter iter;
  GVariant *dict;

  json_builder_begin_array (builder);
  g_variant_iter_init (&iter, lists);
  while ((dict = g_variant_iter_next_value (&iter)) != NULL)
    {
      g_autoptr(GVariant) owned = dict;
      g_autoptr(GVariant) numbers = g_variant_lookup_value (dict, "bad-line-numbers",
                                                            G_VARIANT_TYPE ("au"));
      gint64 updated = 0;
      g_autofree char *updated_text = NULL;

      g_variant_lookup (dict, "updated", "x", &updated);
      updated_text = format_updated (updated);
      json_builder_begin_object (builder);
      add_string_or_null (builder, "id", lookup_string (dict, "id"));
      add_string_or_null (builder, "name", lookup_string (dict, "name"));
      add_string_or_null (builder, "kind", lookup_string (dict, "kind"));
      add_string_or_null (builder, "category", lookup_string (dict, "category"));
      add_string_or_null (builder, "source", lookup_string (dict, "source"));
      json_builder_set_member_name (builder, "enabled");
      json_builder_add_boolean_value (builder, lookup_bool (dict, "enabled"));
      json_builder_set_member_name (builder, "loaded");
      json_builder_add_boolean_value (builder, lookup_bool (dict, "loaded"));
      json_builder_set_member_name (builder, "rules");
      json_builder_add_int_value (builder, lookup_uint (dict, "rules"));
      json_builder_set_member_name (builder, "bad_lines");
      json_builder_add_int_value (builder, lookup_uint (dict, "bad-lines"));
      json_builder_set_member_name (builder, "bad_line_numbers");
      json_builder_begin_array (builder);
      if (numbers != NULL)
        {
          gsize n = 0;
          const guint32 *values = g_variant_get_fixed_array (numbers, &n, sizeof (guint32));

          for (gsize i = 0; i < n; i++)
            json_builder_add_int_value (builder, values[i]);
        }
      json_builder_end_array (builder);
      add_string_or_null (builder, "updated", updated_text);
      add_string_or_null (builder, "error", lookup_string (dict, "error"));
      json_builder_end_object (builder);
    }
  json_builder_end_array (builder);
  return json_builder_get_root (builder);
}

void
moat_cli_append_lists (GString *out, GVariant *lists)
{
  g_autoptr(GString) problems = g_string_new (NULL);
  GVariantIter iter;
  GVariant *dict;
  guint id_width = 2;

  g_variant_iter_init (&iter, lists);
  while ((dict = g_variant_iter_next_value (&iter)) != NULL)
    {
      const char *id = lookup_string (dict, "id");

      id_width = MAX (id_width, id != NULL ? (guint) g_utf8_strlen (id, -1) : 0);
      g_variant_unref (dict);
    }

  /* Translators: column headings of "moatctl lists"; keep them short */
  g_string_append_printf (out, "%-*s  %-5s  %-9s  %8s  %s\n", id_width, _("ID"), _("USED"),
                          _("CATEGORY"), _("RULES"), _("NAME"));
  g_variant_iter_init (&iter, lists);
  while ((dict = g_variant_iter_next_value (&iter)) != NULL)
    {
      g_autoptr(GVariant) owned = dict;
      g_autoptr(GVariant) numbers = g_variant_lookup_value (dict, "bad-line-numbers",
                                                            G_VARIANT_TYPE ("au"));
      const char *id = lookup_string (dict, "id");
      const char *error = lookup_string (dict, "error");
      gboolean enabled = lookup_bool (dict, "enabled");
      gboolean loaded = lookup_bool (dict, "loaded");
      guint32 bad = lookup_uint (dict, "bad-lines");
      const char *used = !enabled ? _("off") : loaded ? _("yes") : _("error");

      g_string_append_printf (out, "%-*s  %-5s  %-9s  %8u  %s\n", id_width, id, used,
                              lookup_string (dict, "category"), lookup_uint (dict, "rules"),
                              lookup_string (dict, "name"));
      if (enabled && error != NULL && error[0] != '\0')
        g_string_append_printf (problems, "%s: %s\n", id, error);
      if (enabled && bad > 0 && numbers != NULL)
        {
          gsize n = 0;
          const guint32 *values = g_variant_get_fixed_array (numbers, &n, sizeof (guint32));
          g_autoptr(GString) lines = g_string_new (NULL);

          for (gsize i = 0; i < n && i < 10; i++)
            g_string_append_printf (lines, "%s%u", i > 0 ? ", " : "", values[i]);
          if (n > 10 || bad > n)
            g_string_append (lines, ", …");
          g_string_append_printf (problems,
                                  g_dngettext (GETTEXT_PACKAGE,
                                               "%s: %u line was not understood (line %s)\n",
                                               "%s: %u lines were not understood (lines %s)\n",
                                               bad),
                                  id, bad, lines->str);
        }
    }
  if (problems->len > 0)
    {
      g_string_append_c (out, '\n');
      g_string_append (out, problems->str);
    }
}
