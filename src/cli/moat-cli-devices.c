/* SPDX-License-Identifier: GPL-3.0-or-later
 * Copyright 2026 The Moat developers
 */
#define G_LOG_DOMAIN "moatctl"

#include "config.h"

#include "moat-cli-devices.h"

#include <glib/gi18n.h>

#include "moat-cli-output.h"
#include "moat-cli-time.h"
#include "moat-enums.h"

static void
add_string_or_null (JsonBuilder *b, const char *name, const char *value)
{
  json_builder_set_member_name (b, name);
  if (value != NULL && value[0] != '\0')
    json_builder_add_string_value (b, value);
  else
    json_builder_add_null_value (b);
}

JsonNode *
moat_cli_devices_to_json (GVariant *devices)
{
  g_autoptr(JsonBuilder) b = json_builder_new ();
  GVariantIter iter;
  const char *serial, *platform, *model, *os, *connection, *state, *risk, *message;
  gboolean routing;
  gint64 checked;

  json_builder_begin_array (b);
  g_variant_iter_init (&iter, devices);
  while (g_variant_iter_next (&iter, "(&s&s&s&s&s&s&s&sbx)", &serial, &platform, &model, &os,
                              &connection, &state, &risk, &message, &routing, &checked))
    {
      g_autofree char *utc = checked > 0 ? moat_cli_format_utc (checked) : NULL;

      json_builder_begin_object (b);
      json_builder_set_member_name (b, "serial");
      json_builder_add_string_value (b, serial);
      json_builder_set_member_name (b, "platform");
      json_builder_add_string_value (b, platform);
      json_builder_set_member_name (b, "model");
      json_builder_add_string_value (b, model);
      json_builder_set_member_name (b, "os");
      json_builder_add_string_value (b, os);
      json_builder_set_member_name (b, "connection");
      json_builder_add_string_value (b, connection);
      json_builder_set_member_name (b, "state");
      json_builder_add_string_value (b, state);
      json_builder_set_member_name (b, "risk");
      json_builder_add_string_value (b, risk);
      json_builder_set_member_name (b, "message");
      json_builder_add_string_value (b, message);
      json_builder_set_member_name (b, "routing");
      json_builder_add_boolean_value (b, routing);
      add_string_or_null (b, "checked", utc);
      json_builder_end_object (b);
    }
  json_builder_end_array (b);
  return json_builder_get_root (b);
}

static const char *
connection_text (const char *connection)
{
  if (g_str_equal (connection, "wifi"))
    return _("Wi-Fi");
  if (g_str_equal (connection, "usb"))
    return _("USB");
  return connection;
}

static const char *
state_text (const char *state)
{
  if (g_str_equal (state, "ready"))
    return _("checked");
  if (g_str_equal (state, "checking"))
    return _("checking");
  if (g_str_equal (state, "unauthorized"))
    return _("not allowed");
  if (g_str_equal (state, "offline"))
    return _("offline");
  if (g_str_equal (state, "no-permissions"))
    return _("no access");
  if (g_str_equal (state, "error"))
    return _("failed");
  if (g_str_equal (state, "disconnected"))
    return _("gone");
  return state;
}

void
moat_cli_append_devices (GString  *out,
                         GVariant *devices)
{
  GVariantIter iter;
  const char *serial, *platform, *model, *os, *connection, *state, *risk, *message;
  gboolean routing;
  gint64 checked;

  if (g_variant_n_children (devices) == 0)
    {
      g_string_append (out, _("No phones. Plug one in with USB debugging on, or connect one "
                              "over Wi-Fi with “moatctl connect ADDRESS”.\n"));
      return;
    }
  g_variant_iter_init (&iter, devices);
  while (g_variant_iter_next (&iter, "(&s&s&s&s&s&s&s&sbx)", &serial, &platform, &model, &os,
                              &connection, &state, &risk, &message, &routing, &checked))
    {
      /* TRANSLATORS: serial, model, connection (USB/Wi-Fi), state, risk */
      g_string_append_printf (out, _("%s  %s  (%s, %s)  risk: %s\n"), serial,
                              model[0] != '\0' ? model : _("unknown phone"),
                              connection_text (connection), state_text (state), risk);
      if (os[0] != '\0')
        g_string_append_printf (out, "    %s\n", os);
      if (routing)
        g_string_append_printf (out, "    %s\n",
                                _("Its web traffic goes through Moat’s filter."));
      if (message[0] != '\0')
        g_string_append_printf (out, "    %s\n", message);
    }
}

JsonNode *
moat_cli_posture_to_json (GVariant *findings)
{
  g_autoptr(JsonBuilder) b = json_builder_new ();
  GVariantIter iter;
  const char *check, *result, *threat, *severity, *summary, *why, *fix, *screen, *evidence,
             *command;
  g_autofree const char **packages = NULL;

  json_builder_begin_array (b);
  g_variant_iter_init (&iter, findings);
  while (g_variant_iter_next (&iter, "(&s&s&s&s&s&s&s&s^a&s&s&s)", &check, &result, &threat,
                              &severity, &summary, &why, &fix, &screen, &packages, &evidence,
                              &command))
    {
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "check");
      json_builder_add_string_value (b, check);
      json_builder_set_member_name (b, "result");
      json_builder_add_string_value (b, result);
      add_string_or_null (b, "threat", threat);
      add_string_or_null (b, "severity", severity);
      json_builder_set_member_name (b, "summary");
      json_builder_add_string_value (b, summary);
      json_builder_set_member_name (b, "why");
      json_builder_add_string_value (b, why);
      json_builder_set_member_name (b, "fix");
      json_builder_add_string_value (b, fix);
      json_builder_set_member_name (b, "screen");
      json_builder_add_string_value (b, screen);
      json_builder_set_member_name (b, "packages");
      json_builder_begin_array (b);
      for (guint i = 0; packages[i] != NULL; i++)
        json_builder_add_string_value (b, packages[i]);
      json_builder_end_array (b);
      json_builder_set_member_name (b, "evidence");
      moat_cli_add_json_object (b, evidence);
      json_builder_set_member_name (b, "command");
      json_builder_add_string_value (b, command);
      json_builder_end_object (b);
      g_clear_pointer (&packages, g_free);
    }
  json_builder_end_array (b);
  return json_builder_get_root (b);
}

/* Threats first, the worst first; then what could not be checked; then
 * what passed. */
void
moat_cli_append_posture (GString  *out,
                         GVariant *findings)
{
  static const char *const order[] = { "critical", "high", "medium", "low", "info" };
  gsize n = g_variant_n_children (findings);
  guint passed = 0;

  if (n == 0)
    {
      g_string_append (out, _("The phone has not been checked yet.\n"));
      return;
    }
  for (guint pass = 0; pass < G_N_ELEMENTS (order) + 2; pass++)
    for (gsize i = 0; i < n; i++)
      {
        g_autoptr(GVariant) child = g_variant_get_child_value (findings, i);
        const char *check, *result, *threat, *severity, *summary, *why, *fix, *screen,
                   *evidence, *command;
        g_autofree const char **packages = NULL;

        g_variant_get (child, "(&s&s&s&s&s&s&s&s^a&s&s&s)", &check, &result, &threat, &severity,
                       &summary, &why, &fix, &screen, &packages, &evidence, &command);
        if (pass < G_N_ELEMENTS (order))
          {
            if (!g_str_equal (result, "threat") || !g_str_equal (severity, order[pass]))
              continue;
            g_string_append_printf (out, "%-8s  %s: %s\n", severity,
                                    moat_threat_get_display_name (threat), summary);
            if (why[0] != '\0')
              g_string_append_printf (out, "          %s\n", why);
            if (fix[0] != '\0')
              {
                g_auto(GStrv) steps = g_strsplit (fix, "\n", -1);

                for (guint s = 0; steps[s] != NULL; s++)
                  g_string_append_printf (out, "          %s %s\n", s == 0 ? "→" : " ",
                                          steps[s]);
              }
            if (packages[0] != NULL)
              {
                g_autofree char *joined = g_strjoinv (", ", (char **) packages);

                g_string_append_printf (out, "          %s %s\n", _("Apps:"), joined);
              }
          }
        else if (pass == G_N_ELEMENTS (order))
          {
            if (g_str_equal (result, "unknown"))
              g_string_append_printf (out, "%-8s  %s: %s\n", _("unknown"), check, summary);
          }
        else if (g_str_equal (result, "ok"))
          passed++;
      }
  g_string_append_printf (out, g_dngettext (GETTEXT_PACKAGE, "%u check passed.\n",
                                            "%u checks passed.\n", passed), passed);
}
