/* SPDX-License-Identifier: GPL-3.0-or-later
 * Copyright 2026 The Moat developers
 */
#define G_LOG_DOMAIN "moatctl"

#include "config.h"

#include "moat-cli-output.h"

#include "moat-cli-time.h"

#include <glib/gi18n.h>
#include <string.h>

/* Longer subjects are not cut, they only stop widening the column. */
#define SUBJECT_WIDTH_MAX 48

/* Adds @text as a JSON object value, or null when it is not one. */
void
moat_cli_add_json_object (JsonBuilder *builder, const char *text)
{
  g_autoptr(JsonParser) parser = json_parser_new ();
  JsonNode *root = NULL;

  if (text != NULL && json_parser_load_from_data (parser, text, -1, NULL))
    root = json_parser_get_root (parser);
  if (root != NULL && JSON_NODE_HOLDS_OBJECT (root))
    json_builder_add_value (builder, json_node_copy (root));
  else
    json_builder_add_null_value (builder);
}

JsonNode *
moat_cli_event_to_json (const MoatEvent *event)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autofree char *time = moat_cli_format_utc (event->time);

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "id");
  json_builder_add_int_value (builder, event->id);
  json_builder_set_member_name (builder, "time");
  json_builder_add_string_value (builder, time);
  json_builder_set_member_name (builder, "time_us");
  json_builder_add_int_value (builder, event->time);
  json_builder_set_member_name (builder, "source");
  json_builder_add_string_value (builder, moat_event_source_to_string (event->source));
  json_builder_set_member_name (builder, "threat");
  json_builder_add_string_value (builder, event->threat);
  json_builder_set_member_name (builder, "severity");
  json_builder_add_string_value (builder, moat_severity_to_string (event->severity));
  json_builder_set_member_name (builder, "subject");
  json_builder_add_string_value (builder, event->subject);
  json_builder_set_member_name (builder, "action");
  json_builder_add_string_value (builder, event->action);
  json_builder_set_member_name (builder, "detail");
  moat_cli_add_json_object (builder, event->detail);
  json_builder_end_object (builder);
  return json_builder_get_root (builder);
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
moat_cli_status_to_json (MoatClient *client)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  gint64 start = moat_client_get_start_time (client);

  json_builder_begin_object (builder);
  add_string_or_null (builder, "version", moat_client_get_version (client));
  add_string_or_null (builder, "protection_state",
                      moat_protection_state_to_string (moat_client_get_protection_state (client)));
  add_string_or_null (builder, "protection_summary", moat_client_get_protection_summary (client));
  add_string_or_null (builder, "risk_level",
                      moat_risk_level_to_string (moat_client_get_risk_level (client)));
  add_string_or_null (builder, "proxy_address", moat_client_get_proxy_address (client));
  add_string_or_null (builder, "store_state",
                      moat_store_state_to_string (moat_client_get_store_state (client)));
  add_string_or_null (builder, "store_message", moat_client_get_store_message (client));
  json_builder_set_member_name (builder, "start_time");
  if (start > 0)
    {
      g_autofree char *text = moat_cli_format_utc (start);

      json_builder_add_string_value (builder, text);
    }
  else
    json_builder_add_null_value (builder);
  json_builder_end_object (builder);
  return json_builder_get_root (builder);
}

char *
moat_cli_json_to_string (JsonNode *node, gboolean pretty)
{
  g_autoptr(JsonGenerator) generator = json_generator_new ();

  json_generator_set_root (generator, node);
  json_generator_set_pretty (generator, pretty);
  json_generator_set_indent (generator, 2);
  return json_generator_to_data (generator, NULL);
}

static guint
width_of (const char *text)
{
  /* Display width: East Asian wide characters take two cells. */
  guint width = 0;

  for (const char *p = text; *p != '\0'; p = g_utf8_next_char (p))
    {
      gunichar c = g_utf8_get_char (p);

      if (g_unichar_iszerowidth (c))
        continue;
      width += g_unichar_iswide (c) ? 2 : 1;
    }
  return width;
}

static void
append_padded (GString *out, const char *text, guint width)
{
  guint w = width_of (text);

  g_string_append (out, text);
  for (; w < width; w++)
    g_string_append_c (out, ' ');
  g_string_append (out, "  ");
}

void
moat_cli_columns_init (MoatCliColumns *columns)
{
  columns->time = width_of (_("TIME"));
  columns->time = MAX (columns->time, 19);   /* 2026-11-27 10:00:00 */
  columns->severity = MAX (width_of (_("SEVERITY")), 8);
  columns->threat = MAX (width_of (_("THREAT")), 24);
  columns->subject = MAX (width_of (_("SUBJECT")), 24);
}

void
moat_cli_columns_fit (MoatCliColumns *columns, GPtrArray *events)
{
  columns->threat = width_of (_("THREAT"));
  columns->subject = width_of (_("SUBJECT"));
  for (guint i = 0; i < events->len; i++)
    {
      MoatEvent *event = g_ptr_array_index (events, i);

      columns->threat = MAX (columns->threat, width_of (event->threat));
      columns->subject = MAX (columns->subject, MIN (width_of (event->subject),
                                                     SUBJECT_WIDTH_MAX));
    }
}

void
moat_cli_append_header (GString *out, const MoatCliColumns *columns)
{
  append_padded (out, _("TIME"), columns->time);
  append_padded (out, _("SEVERITY"), columns->severity);
  append_padded (out, _("THREAT"), columns->threat);
  append_padded (out, _("SUBJECT"), columns->subject);
  g_string_append (out, _("ACTION"));
  g_string_append_c (out, '\n');
}

/* Control characters from outside input must not reach the terminal. */
static char *
sanitize (const char *text)
{
  GString *s = g_string_sized_new (strlen (text));

  for (const char *p = text; *p != '\0'; p = g_utf8_next_char (p))
    {
      gunichar c = g_utf8_get_char (p);

      if (g_unichar_iscntrl (c))
        g_string_append_c (s, '?');
      else
        g_string_append_unichar (s, c);
    }
  return g_string_free (s, FALSE);
}

void
moat_cli_append_event (GString *out, const MoatCliColumns *columns, const MoatEvent *event)
{
  g_autofree char *time = moat_cli_format_local (event->time);
  g_autofree char *threat = sanitize (event->threat);
  g_autofree char *subject = sanitize (event->subject);
  g_autofree char *action = sanitize (event->action);

  append_padded (out, time, columns->time);
  append_padded (out, moat_severity_to_string (event->severity), columns->severity);
  append_padded (out, threat, columns->threat);
  append_padded (out, subject, columns->subject);
  g_string_append (out, action[0] != '\0' ? action : "-");
  /* No trailing blanks when the last columns are short. */
  while (out->len > 0 && out->str[out->len - 1] == ' ')
    g_string_truncate (out, out->len - 1);
  g_string_append_c (out, '\n');
}

static void
append_line (GString *out, const char *label, guint width, const char *value)
{
  g_autofree char *clean = sanitize (value != NULL && value[0] != '\0' ? value : "-");

  g_string_append (out, label);
  for (guint w = width_of (label); w < width + 2; w++)
    g_string_append_c (out, ' ');
  g_string_append (out, clean);
  g_string_append_c (out, '\n');
}

void
moat_cli_append_status (GString *out, MoatClient *client)
{
  const char *labels[] = {
    _("Protection:"), _("Summary:"), _("Risk level:"), _("Proxy:"),
    _("Event store:"), _("Store message:"), _("Engine version:"), _("Running since:"),
  };
  g_autofree char *since = NULL;
  guint width = 0;
  gint64 start = moat_client_get_start_time (client);

  for (guint i = 0; i < G_N_ELEMENTS (labels); i++)
    width = MAX (width, width_of (labels[i]));
  if (start > 0)
    since = moat_cli_format_local (start);

  append_line (out, labels[0], width,
               moat_protection_state_to_string (moat_client_get_protection_state (client)));
  append_line (out, labels[1], width, moat_client_get_protection_summary (client));
  append_line (out, labels[2], width,
               moat_risk_level_to_string (moat_client_get_risk_level (client)));
  append_line (out, labels[3], width, moat_client_get_proxy_address (client));
  append_line (out, labels[4], width,
               moat_store_state_to_string (moat_client_get_store_state (client)));
  if (moat_client_get_store_message (client) != NULL)
    append_line (out, labels[5], width, moat_client_get_store_message (client));
  append_line (out, labels[6], width, moat_client_get_version (client));
  append_line (out, labels[7], width, since);
}
