/* SPDX-License-Identifier: GPL-3.0-or-later
 * Copyright 2026 The Moat developers
 */
#define G_LOG_DOMAIN "moat-app"

#include "config.h"

#include "moat-threats-page.h"

#include "moat-dbus-generated.h"
#include "moat-incidents.h"
#include "moat-threat-names.h"

#include <adwaita.h>
#include <glib/gi18n.h>
#include <json-glib/json-glib.h>
#include <string.h>

/*
 * MoatThreatsPage: whether this network is safe, the active threats with
 * their evidence and what Moat does about each (GetThreats, GetResponses),
 * the threats of the last days (detector and engine events from the store),
 * the latest result of each network check (GetFindings, Scan), and the
 * protection switches with the policy in force.
 *
 * Everything is fetched again, at most every REFRESH_DELAY_MS, when moatd
 * says ThreatsChanged, FindingsChanged or adds detector or engine events.
 * MoatClient does not relay ThreatsChanged, FindingsChanged or SafeSince, so
 * the page keeps its own generated proxy for those signals and properties; it
 * never calls methods through it (calls go through moat_client_call_async).
 * A moatd without GetFindings/Scan hides the checks and the Check Now button.
 */

#define REFRESH_DELAY_MS 300
#define PAST_DAYS 7
/* At most this many past threats, and this many events of each source read. */
#define PAST_MAX 50
#define PAST_EVENTS_LIMIT 1000

struct _MoatThreatsPage {
  GtkWidget            parent_instance;

  /* owned */
  MoatClient          *client;
  MoatDBusMoat1       *proxy;                /* signals and properties only */
  GSettings           *settings;
  GCancellable        *cancellable;          /* proxy set-up and Scan; cancelled in dispose */
  GCancellable        *refresh_cancellable;  /* the refresh under way */
  guint                refresh_id;
  GVariant            *threats;              /* a(ssssx) of the refresh under way */
  GVariant            *responses;            /* a(sssss) of the refresh under way */
  GPtrArray           *incidents;            /* MoatIncident, from the last refresh */
  GHashTable          *open;                 /* "threat\nsubject" → MoatIncident not cleared */
  GPtrArray           *past_events;          /* MoatEvent, both sources */
  guint                past_pending;
  GPtrArray           *threat_rows;          /* rows in threats_group (borrowed) */
  GPtrArray           *past_rows;            /* rows in past_group (borrowed) */
  GPtrArray           *check_rows;           /* rows in checks_row (borrowed) */
  GHashTable          *collapsed;            /* "threat\nsubject" of rows the user closed */
  char                *policy_name;
  char                *policy_text;
  guint                n_threats;
  gboolean             scanning;
  gboolean             findings_supported;

  /* template children */
  GtkScrolledWindow   *scrolled_window;
  GtkImage            *status_icon;
  GtkLabel            *status_label;
  GtkLabel            *safe_label;
  GtkLabel            *risk_label;
  GtkWidget           *scan_button;
  GtkSpinner          *scan_spinner;
  GtkLabel            *scan_label;
  AdwPreferencesGroup *threats_group;
  AdwPreferencesGroup *past_group;
  GtkWidget           *past_empty_row;
  GtkWidget           *checks_group;
  AdwExpanderRow      *checks_row;
  GtkWidget           *checks_empty_row;
  GtkSwitch           *vpn_switch;
  GtkSwitch           *block_switch;
  AdwActionRow        *policy_row;
};

G_DEFINE_FINAL_TYPE (MoatThreatsPage, moat_threats_page, GTK_TYPE_WIDGET)

static void refresh (MoatThreatsPage *self);
static void queue_refresh (MoatThreatsPage *self);

/* ---- helpers ---- */

static void
show_toast (MoatThreatsPage *self,
            const char      *text)
{
  GtkWidget *overlay = gtk_widget_get_ancestor (GTK_WIDGET (self), ADW_TYPE_TOAST_OVERLAY);
  AdwToast *toast;

  if (overlay == NULL)
    return;
  toast = adw_toast_new (text);
  adw_toast_set_timeout (toast, 8);
  adw_toast_overlay_add_toast (ADW_TOAST_OVERLAY (overlay), toast);
}

/* A time of day for today, a date and time otherwise. */
static char *
format_clock (gint64 time)
{
  g_autoptr(GDateTime) utc = g_date_time_new_from_unix_utc (time / G_USEC_PER_SEC);
  g_autoptr(GDateTime) local = NULL;
  g_autoptr(GDateTime) now = g_date_time_new_now_local ();

  if (utc == NULL)
    return g_strdup ("");
  local = g_date_time_to_local (utc);
  if (g_date_time_get_year (local) == g_date_time_get_year (now) &&
      g_date_time_get_day_of_year (local) == g_date_time_get_day_of_year (now))
    /* Translators: a time of day today, see strftime(3) */
    return g_date_time_format (local, _("%H:%M"));
  /* Translators: a day and a time of day, see strftime(3) */
  return g_date_time_format (local, _("%e %b %H:%M"));
}

static char *
make_key (const char *threat,
          const char *subject)
{
  return g_strconcat (threat, "\n", subject, NULL);
}

static void
clear_group_rows (AdwPreferencesGroup *group,
                  GPtrArray           *rows)
{
  for (guint i = 0; i < rows->len; i++)
    adw_preferences_group_remove (group, g_ptr_array_index (rows, i));
  g_ptr_array_set_size (rows, 0);
}

static GtkWidget *
severity_icon (MoatSeverity severity)
{
  GtkWidget *icon = gtk_image_new_from_icon_name (moat_severity_get_icon_name (severity));

  gtk_widget_add_css_class (icon, moat_severity_get_style_class (severity));
  gtk_widget_set_tooltip_text (icon, moat_severity_get_display_name (severity));
  gtk_accessible_update_property (GTK_ACCESSIBLE (icon),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  moat_severity_get_display_name (severity),
                                  -1);
  return icon;
}

/* "spki_sha256" → "SPKI SHA-256": evidence keys are for machines first. */
static char *
humanize_key (const char *key)
{
  static const struct {
    const char *word;
    const char *text;
  } acronyms[] = {
    { "bssid", "BSSID" }, { "bssids", "BSSIDs" }, { "ca", "CA" }, { "dns", "DNS" },
    { "http", "HTTP" }, { "https", "HTTPS" }, { "ip", "IP" }, { "mac", "MAC" },
    { "nxdomain", "NXDOMAIN" }, { "rcode", "RCODE" }, { "sha256", "SHA-256" },
    { "spki", "SPKI" }, { "ssid", "SSID" }, { "tls", "TLS" }, { "url", "URL" },
    { "vpn", "VPN" },
  };
  g_auto(GStrv) words = g_strsplit_set (key, "_-", -1);
  g_autoptr(GString) text = g_string_new (NULL);

  for (guint i = 0; words[i] != NULL; i++)
    {
      const char *word = words[i];
      gboolean done = FALSE;

      if (word[0] == '\0')
        continue;
      if (text->len > 0)
        g_string_append_c (text, ' ');
      for (guint a = 0; a < G_N_ELEMENTS (acronyms) && !done; a++)
        if (g_ascii_strcasecmp (word, acronyms[a].word) == 0)
          {
            g_string_append (text, acronyms[a].text);
            done = TRUE;
          }
      if (done)
        continue;
      if (text->len == 0 && g_ascii_islower (word[0]))
        {
          g_string_append_c (text, g_ascii_toupper (word[0]));
          g_string_append (text, word + 1);
        }
      else
        {
          g_string_append (text, word);
        }
    }
  return g_string_free (g_steal_pointer (&text), FALSE);
}

static char *
json_value_to_text (JsonNode *node)
{
  if (JSON_NODE_HOLDS_VALUE (node))
    {
      switch (json_node_get_value_type (node))
        {
        case G_TYPE_STRING:
          return g_strdup (json_node_get_string (node));
        case G_TYPE_BOOLEAN:
          return g_strdup (json_node_get_boolean (node) ? _("Yes") : _("No"));
        default:
          break;
        }
    }
  if (JSON_NODE_HOLDS_NULL (node))
    return g_strdup ("");
  return json_to_string (node, FALSE);
}

/* A row in an expander that reads as a small heading. */
static GtkWidget *
heading_row (const char *text)
{
  GtkWidget *row = gtk_list_box_row_new ();
  GtkWidget *label = gtk_label_new (text);

  gtk_label_set_xalign (GTK_LABEL (label), 0);
  gtk_label_set_wrap (GTK_LABEL (label), TRUE);
  gtk_widget_set_margin_start (label, 12);
  gtk_widget_set_margin_end (label, 12);
  gtk_widget_set_margin_top (label, 12);
  gtk_widget_set_margin_bottom (label, 6);
  gtk_widget_add_css_class (label, "heading");
  gtk_widget_add_css_class (row, "threat-heading");
  gtk_list_box_row_set_child (GTK_LIST_BOX_ROW (row), label);
  gtk_list_box_row_set_activatable (GTK_LIST_BOX_ROW (row), FALSE);
  gtk_list_box_row_set_selectable (GTK_LIST_BOX_ROW (row), FALSE);
  return row;
}

static const char *
detector_display_name (const char *detector)
{
  if (g_strcmp0 (detector, "tls") == 0)
    return _("TLS interception");
  if (g_strcmp0 (detector, "trust-store") == 0)
    return _("Trusted certificates");
  if (g_strcmp0 (detector, "dns") == 0)
    return _("DNS answers");
  if (g_strcmp0 (detector, "http") == 0)
    return _("Web pages and redirects");
  if (g_strcmp0 (detector, "gateway") == 0)
    return _("Gateway");
  if (g_strcmp0 (detector, "wifi") == 0)
    return _("Wi-Fi");
  if (g_strcmp0 (detector, "rogue-wifi") == 0)
    return _("Company Wi-Fi networks");
  if (g_strcmp0 (detector, "vpn") == 0)
    return _("VPN");
  return detector;
}

/* Fingerprints and hashes read better in a fixed-width font. */
static gboolean
looks_like_code (const char *value)
{
  gsize n = 0;

  for (const char *p = value; *p != '\0'; p++, n++)
    if (!g_ascii_isxdigit (*p) && *p != ':')
      return FALSE;
  return n >= 16;
}

/* One piece of evidence: its name above its value, which can be selected
 * and copied; a long value is cut after a few lines (the tooltip has it all). */
static GtkWidget *
evidence_row (const char *name,
              const char *value,
              guint       depth)
{
  GtkWidget *row = gtk_list_box_row_new ();
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 2);
  GtkWidget *key_label = gtk_label_new (name);
  GtkWidget *value_label = gtk_label_new (value);
  g_autofree char *accessible = NULL;

  gtk_label_set_xalign (GTK_LABEL (key_label), 0);
  gtk_label_set_wrap (GTK_LABEL (key_label), TRUE);
  gtk_label_set_wrap_mode (GTK_LABEL (key_label), PANGO_WRAP_WORD_CHAR);
  gtk_widget_add_css_class (key_label, "caption");
  gtk_widget_add_css_class (key_label, "dim-label");

  gtk_label_set_xalign (GTK_LABEL (value_label), 0);
  gtk_label_set_wrap (GTK_LABEL (value_label), TRUE);
  gtk_label_set_wrap_mode (GTK_LABEL (value_label), PANGO_WRAP_WORD_CHAR);
  gtk_label_set_lines (GTK_LABEL (value_label), 3);
  gtk_label_set_ellipsize (GTK_LABEL (value_label), PANGO_ELLIPSIZE_END);
  gtk_label_set_selectable (GTK_LABEL (value_label), TRUE);
  if (strlen (value) > 48)
    gtk_widget_set_tooltip_text (value_label, value);
  if (looks_like_code (value))
    gtk_widget_add_css_class (value_label, "monospace");

  gtk_widget_set_margin_start (box, 12 + 18 * (int) MIN (depth, 2));
  gtk_widget_set_margin_end (box, 12);
  gtk_widget_set_margin_top (box, 8);
  gtk_widget_set_margin_bottom (box, 8);

  gtk_box_append (GTK_BOX (box), key_label);
  gtk_box_append (GTK_BOX (box), value_label);
  /* A group of evidence below: its name alone. */
  gtk_widget_set_visible (value_label, value[0] != '\0');
  gtk_widget_add_css_class (row, "evidence-row");
  gtk_list_box_row_set_child (GTK_LIST_BOX_ROW (row), box);
  gtk_list_box_row_set_activatable (GTK_LIST_BOX_ROW (row), FALSE);
  gtk_list_box_row_set_selectable (GTK_LIST_BOX_ROW (row), FALSE);
  /* Translators: the accessible name of a piece of evidence, "Issuer: CN=mitmproxy" */
  accessible = g_strdup_printf (_("%s: %s"), name, value);
  gtk_accessible_update_property (GTK_ACCESSIBLE (row),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL, accessible,
                                  -1);
  return row;
}

/* The members of an evidence object as rows. Nested objects are opened
 * one level further in; the checks a threat was raised on (objects with a
 * "summary", as moatd's detectors write them) read as the check's name and
 * summary with their own evidence below. */
static guint
add_json_rows (AdwExpanderRow *expander,
               JsonObject     *object,
               guint           depth)
{
  g_autoptr(GList) members = json_object_get_members (object);
  guint n = 0;

  for (GList *l = members; l != NULL; l = l->next)
    {
      const char *key = l->data;
      JsonNode *node = json_object_get_member (object, key);

      if (depth < 2 && JSON_NODE_HOLDS_ARRAY (node))
        {
          JsonArray *array = json_node_get_array (node);
          gboolean all_objects = json_array_get_length (array) > 0;

          for (guint i = 0; i < json_array_get_length (array); i++)
            all_objects = all_objects && JSON_NODE_HOLDS_OBJECT (json_array_get_element (array, i));
          if (all_objects)
            {
              if (!json_object_has_member (json_array_get_object_element (array, 0), "summary"))
                {
                  g_autofree char *name = humanize_key (key);

                  adw_expander_row_add_row (expander, evidence_row (name, "", depth));
                  n++;
                }
              for (guint i = 0; i < json_array_get_length (array); i++)
                {
                  JsonObject *item = json_array_get_object_element (array, i);
                  const char *summary = json_object_get_string_member_with_default (item, "summary",
                                                                                    NULL);
                  const char *detector = json_object_get_string_member_with_default (item,
                                                                                     "detector",
                                                                                     NULL);
                  const char *subject = json_object_get_string_member_with_default (item, "subject",
                                                                                    NULL);
                  JsonNode *inner = json_object_get_member (item, "evidence");

                  if (summary == NULL)
                    {
                      n += add_json_rows (expander, item, depth + 1);
                      continue;
                    }
                  if (detector != NULL && subject != NULL && subject[0] != '\0' &&
                      g_strcmp0 (detector, subject) != 0)
                    {
                      /* Translators: a network check and what it looked at: "DNS answers: example.com" */
                      g_autofree char *title = g_strdup_printf (_("%s: %s"),
                                                                detector_display_name (detector),
                                                                subject);

                      adw_expander_row_add_row (expander, evidence_row (title, summary, depth));
                    }
                  else
                    {
                      g_autofree char *name = humanize_key (key);

                      adw_expander_row_add_row (expander,
                                                evidence_row (detector != NULL
                                                              ? detector_display_name (detector)
                                                              : name,
                                                              summary, depth));
                    }
                  n++;
                  if (inner != NULL && JSON_NODE_HOLDS_OBJECT (inner))
                    n += add_json_rows (expander, json_node_get_object (inner), depth + 1);
                }
              continue;
            }
        }
      if (depth < 2 && JSON_NODE_HOLDS_OBJECT (node) &&
          json_object_get_size (json_node_get_object (node)) > 0)
        {
          g_autofree char *name = humanize_key (key);

          adw_expander_row_add_row (expander, evidence_row (name, "", depth));
          n += 1 + add_json_rows (expander, json_node_get_object (node), depth + 1);
          continue;
        }

      {
        g_autofree char *name = humanize_key (key);
        g_autofree char *value = json_value_to_text (node);

        adw_expander_row_add_row (expander, evidence_row (name, value, depth));
        n++;
      }
    }
  return n;
}

static void
add_evidence_rows (AdwExpanderRow *expander,
                   const char     *evidence)
{
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) error = NULL;

  if (!json_parser_load_from_data (parser, evidence, -1, &error) ||
      !JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)))
    {
      g_debug ("Evidence is not a JSON object: %s", error != NULL ? error->message : evidence);
      adw_expander_row_add_row (expander, evidence_row (_("Evidence"), evidence, 0));
      return;
    }

  if (add_json_rows (expander, json_node_get_object (json_parser_get_root (parser)), 0) == 0)
    {
      GtkWidget *row = adw_action_row_new ();

      adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), _("The check recorded no details"));
      gtk_widget_add_css_class (row, "dim-label");
      adw_expander_row_add_row (expander, row);
    }
}

static const char *
response_state_text (const char *state)
{
  if (g_strcmp0 (state, "trying") == 0)
    return _("Trying…");
  if (g_strcmp0 (state, "in-effect") == 0)
    return _("In effect until the network is safe");
  if (g_strcmp0 (state, "done") == 0)
    return _("Done");
  if (g_strcmp0 (state, "failed") == 0)
    return _("Failed");
  return state;
}

/* One chain of actions of the policy: what it does now, and how that went. */
static GtkWidget *
response_row (const char *action,
              const char *state,
              const char *reason)
{
  GtkWidget *row = adw_action_row_new ();
  GtkWidget *prefix;
  const char *state_text = response_state_text (state);

  adw_preferences_row_set_use_markup (ADW_PREFERENCES_ROW (row), FALSE);
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row),
                                 moat_policy_action_get_display_name (action));
  /* A fallback in effect carries the reason the action before it failed;
   * that action's own row says it already. */
  if (reason != NULL && reason[0] != '\0' && g_strcmp0 (state, "failed") == 0)
    {
      /* Translators: what became of an action, then why: "Failed: the VPN did not come up" */
      g_autofree char *subtitle = g_strdup_printf (_("%s: %s"), state_text, reason);

      adw_action_row_set_subtitle (ADW_ACTION_ROW (row), subtitle);
    }
  else
    {
      adw_action_row_set_subtitle (ADW_ACTION_ROW (row), state_text);
    }

  if (g_strcmp0 (state, "trying") == 0)
    {
      prefix = gtk_spinner_new ();
      gtk_spinner_start (GTK_SPINNER (prefix));
    }
  else if (g_strcmp0 (state, "failed") == 0)
    {
      prefix = gtk_image_new_from_icon_name ("dialog-error-symbolic");
      gtk_widget_add_css_class (prefix, "error");
    }
  else if (g_strcmp0 (state, "in-effect") == 0)
    {
      prefix = gtk_image_new_from_icon_name ("security-high-symbolic");
      gtk_widget_add_css_class (prefix, "success");
    }
  else
    {
      prefix = gtk_image_new_from_icon_name ("object-select-symbolic");
      gtk_widget_add_css_class (prefix, "success");
    }
  gtk_accessible_update_property (GTK_ACCESSIBLE (prefix),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL, state_text,
                                  -1);
  adw_action_row_add_prefix (ADW_ACTION_ROW (row), prefix);
  gtk_widget_add_css_class (row, "response-row");
  gtk_widget_add_css_class (row, g_strcmp0 (state, "failed") == 0 ? "response-failed"
                                                                   : "response-ok");
  return row;
}

/* ---- the network's state ---- */

static void
update_status (MoatThreatsPage *self)
{
  gint64 safe_since = self->proxy != NULL ? moat_dbus_moat1_get_safe_since (self->proxy) : 0;
  gboolean running = self->client != NULL && moat_client_get_engine_running (self->client);
  MoatRiskLevel risk = running ? moat_client_get_risk_level (self->client) : MOAT_RISK_LEVEL_NONE;
  const char *risk_class = moat_risk_level_get_style_class (risk);
  AdwViewStackPage *page = NULL;
  GtkWidget *view_stack;

  gtk_widget_set_visible (GTK_WIDGET (self->safe_label), self->n_threats == 0);
  gtk_widget_set_visible (GTK_WIDGET (self->risk_label), self->n_threats > 0);
  gtk_widget_set_visible (GTK_WIDGET (self->threats_group), self->n_threats > 0);
  gtk_widget_remove_css_class (GTK_WIDGET (self->status_icon), "protected");
  gtk_widget_remove_css_class (GTK_WIDGET (self->status_icon), "attention");
  gtk_widget_remove_css_class (GTK_WIDGET (self->status_icon), "unprotected");

  if (self->n_threats == 0)
    {
      g_autofree char *description = NULL;

      if (safe_since > 0)
        {
          g_autofree char *when = format_clock (safe_since);

          /* Translators: %s is a time such as "10:02" or "3 Feb 10:02" */
          description = g_strdup_printf (_("Network safe since %s"), when);
        }
      else if (self->findings_supported)
        {
          description = g_strdup (_("Moat has not finished checking this network yet"));
        }
      else
        {
          description = g_strdup (_("Moat watches this network for attacks"));
        }
      gtk_image_set_from_icon_name (self->status_icon, "security-high-symbolic");
      gtk_widget_add_css_class (GTK_WIDGET (self->status_icon), "protected");
      gtk_label_set_text (self->status_label, _("No Threats on This Network"));
      gtk_label_set_text (self->safe_label, description);
    }
  else
    {
      g_autofree char *title = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE,
                                                             "%u Active Threat",
                                                             "%u Active Threats",
                                                             self->n_threats),
                                                self->n_threats);

      gtk_label_set_text (self->status_label, title);
      gtk_label_set_text (self->risk_label, moat_risk_level_get_display_name (risk));
      for (MoatRiskLevel l = MOAT_RISK_LEVEL_NONE; l <= MOAT_RISK_LEVEL_CRITICAL; l++)
        gtk_widget_remove_css_class (GTK_WIDGET (self->risk_label),
                                     moat_risk_level_get_style_class (l));
      gtk_widget_add_css_class (GTK_WIDGET (self->risk_label), risk_class);
      gtk_image_set_from_icon_name (self->status_icon, "dialog-warning-symbolic");
      gtk_widget_add_css_class (GTK_WIDGET (self->status_icon),
                                g_strcmp0 (risk_class, "error") == 0 ? "unprotected"
                                                                     : "attention");
    }

  /* The view switcher shows how many threats are active. */
  view_stack = gtk_widget_get_ancestor (GTK_WIDGET (self), ADW_TYPE_VIEW_STACK);
  if (view_stack != NULL)
    page = adw_view_stack_get_page (ADW_VIEW_STACK (view_stack), GTK_WIDGET (self));
  if (page != NULL)
    {
      adw_view_stack_page_set_needs_attention (page, self->n_threats > 0);
      adw_view_stack_page_set_badge_number (page, self->n_threats);
    }
}

static void
update_scan_button (MoatThreatsPage *self)
{
  gboolean running = self->client != NULL && moat_client_get_engine_running (self->client);

  gtk_widget_set_visible (self->scan_button, self->findings_supported);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "threats.scan",
                                 running && !self->scanning);
  gtk_widget_set_visible (GTK_WIDGET (self->scan_spinner), self->scanning);
  gtk_spinner_set_spinning (self->scan_spinner, self->scanning);
  gtk_label_set_text_with_mnemonic (self->scan_label,
                                    self->scanning ? _("Checking…") : _("_Check Now"));
}

/* ---- active threats ---- */

static void
on_threat_row_notify_expanded_cb (AdwExpanderRow  *row,
                                  GParamSpec      *pspec,
                                  MoatThreatsPage *self)
{
  const char *key = g_object_get_data (G_OBJECT (row), "moat-threat-key");

  if (adw_expander_row_get_expanded (row))
    g_hash_table_remove (self->collapsed, key);
  else
    g_hash_table_add (self->collapsed, g_strdup (key));
}

static gboolean
response_has_action (GVariant   *responses,
                     const char *threat,
                     const char *subject,
                     const char *action)
{
  GVariantIter iter;
  const char *r_threat, *r_subject, *r_action;

  g_variant_iter_init (&iter, responses);
  while (g_variant_iter_next (&iter, "(&s&s&s&s&s)", &r_threat, &r_subject, &r_action, NULL, NULL))
    if (g_strcmp0 (r_threat, threat) == 0 && g_strcmp0 (r_subject, subject) == 0 &&
        g_strcmp0 (r_action, action) == 0)
      return TRUE;
  return FALSE;
}

static GtkWidget *
create_threat_row (MoatThreatsPage *self,
                   const char      *threat,
                   const char      *severity_nick,
                   const char      *subject,
                   const char      *evidence,
                   gint64           since,
                   GVariant        *responses,
                   MoatIncident    *incident)
{
  GtkWidget *row = adw_expander_row_new ();
  AdwExpanderRow *expander = ADW_EXPANDER_ROW (row);
  MoatSeverity severity = MOAT_SEVERITY_MEDIUM;
  g_autofree char *key = make_key (threat, subject);
  g_autofree char *when = format_clock (since);
  g_autofree char *subtitle = NULL;
  GVariantIter iter;
  const char *r_threat, *r_subject, *action, *state, *reason;
  guint n_responses = 0;

  moat_severity_from_string (severity_nick, &severity);
  adw_preferences_row_set_use_markup (ADW_PREFERENCES_ROW (row), FALSE);
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), moat_threat_get_display_name (threat));
  /* Translators: the subject of a threat and since when it is active: "cafe-wifi · since 10:02" */
  subtitle = g_strdup_printf (_("%s · since %s"), subject, when);
  adw_expander_row_set_subtitle (expander, subtitle);
  adw_expander_row_add_prefix (expander, severity_icon (severity));
  gtk_widget_add_css_class (row, "threat-row");

  adw_expander_row_add_row (expander, heading_row (_("What Moat Did")));
  /* What a chain tried before the action it is at now (the VPN that did
   * not come up before the wall went up): only the events know. */
  for (guint i = 0; incident != NULL && i < incident->actions->len; i++)
    {
      MoatIncidentAction *o = g_ptr_array_index (incident->actions, i);

      if (o->failed && !o->taken && !response_has_action (responses, threat, subject, o->action))
        {
          adw_expander_row_add_row (expander, response_row (o->action, "failed", o->reason));
          n_responses++;
        }
    }
  g_variant_iter_init (&iter, responses);
  while (g_variant_iter_next (&iter, "(&s&s&s&s&s)", &r_threat, &r_subject, &action, &state,
                              &reason))
    {
      if (g_strcmp0 (r_threat, threat) != 0 || g_strcmp0 (r_subject, subject) != 0)
        continue;
      adw_expander_row_add_row (expander, response_row (action, state, reason));
      n_responses++;
    }
  if (n_responses == 0)
    {
      GtkWidget *none = adw_action_row_new ();

      adw_preferences_row_set_title (ADW_PREFERENCES_ROW (none), _("Nothing"));
      adw_action_row_set_subtitle (ADW_ACTION_ROW (none),
                                   _("The policy in force asks for no action on this threat"));
      adw_expander_row_add_row (expander, none);
    }

  adw_expander_row_add_row (expander, heading_row (_("Evidence")));
  add_evidence_rows (expander, evidence);

  adw_expander_row_set_expanded (expander, !g_hash_table_contains (self->collapsed, key));
  g_object_set_data_full (G_OBJECT (row), "moat-threat-key", g_steal_pointer (&key), g_free);
  g_signal_connect (row, "notify::expanded", G_CALLBACK (on_threat_row_notify_expanded_cb), self);
  return row;
}

/* Once the threats, the responses and the events are in. */
static void
build_threats (MoatThreatsPage *self)
{
  g_autoptr(GVariant) threats = g_steal_pointer (&self->threats);
  g_autoptr(GVariant) responses = g_steal_pointer (&self->responses);
  GtkAdjustment *adjustment;
  double scroll;
  GVariantIter iter;
  const char *threat, *severity, *subject, *evidence;
  gint64 since;

  if (threats == NULL)
    return;
  if (responses == NULL)
    responses = g_variant_ref_sink (g_variant_new_array (G_VARIANT_TYPE ("(sssss)"), NULL, 0));

  adjustment = gtk_scrolled_window_get_vadjustment (self->scrolled_window);
  scroll = gtk_adjustment_get_value (adjustment);

  clear_group_rows (self->threats_group, self->threat_rows);
  self->n_threats = 0;
  g_variant_iter_init (&iter, threats);
  while (g_variant_iter_next (&iter, "(&s&s&s&sx)", &threat, &severity, &subject, &evidence,
                              &since))
    {
      g_autofree char *key = make_key (threat, subject);
      MoatIncident *incident = self->open != NULL ? g_hash_table_lookup (self->open, key) : NULL;
      GtkWidget *row = create_threat_row (self, threat, severity, subject, evidence, since,
                                          responses, incident);

      adw_preferences_group_add (self->threats_group, row);
      g_ptr_array_add (self->threat_rows, row);
      self->n_threats++;
    }
  update_status (self);
  gtk_adjustment_set_value (adjustment, scroll);
}

static void load_past (MoatThreatsPage *self);

static void
get_responses_cb (GObject      *object,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  MoatThreatsPage *self;
  g_autoptr(GVariant) reply = NULL;
  g_autoptr(GError) error = NULL;

  reply = moat_client_call_finish (MOAT_CLIENT (object), result, &error);
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;

  self = MOAT_THREATS_PAGE (user_data);
  g_clear_pointer (&self->responses, g_variant_unref);
  if (error != NULL)
    /* Threats without responses still show. */
    g_debug ("Could not get the responses: %s", error->message);
  else
    self->responses = g_variant_get_child_value (reply, 0);
  load_past (self);
}

static void
get_threats_cb (GObject      *object,
                GAsyncResult *result,
                gpointer      user_data)
{
  MoatThreatsPage *self;
  g_autoptr(GVariant) reply = NULL;
  g_autoptr(GError) error = NULL;

  reply = moat_client_call_finish (MOAT_CLIENT (object), result, &error);
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;

  self = MOAT_THREATS_PAGE (user_data);
  if (error != NULL)
    {
      g_autofree char *text = NULL;

      g_warning ("Could not get the active threats: %s", error->message);
      /* Translators: %s is the reason */
      text = g_strdup_printf (_("Could not get the active threats: %s"), error->message);
      show_toast (self, text);
      load_past (self);
      return;
    }

  g_clear_pointer (&self->threats, g_variant_unref);
  self->threats = g_variant_get_child_value (reply, 0);
  moat_client_call_async (self->client, "GetResponses", NULL, self->refresh_cancellable,
                          get_responses_cb, self);
}

/* ---- past threats ---- */

static GtkWidget *
create_past_row (MoatIncident *incident)
{
  GtkWidget *row = adw_action_row_new ();
  g_autoptr(GString) subtitle = g_string_new (incident->subject);
  g_autofree char *cleared = format_clock (incident->cleared);
  g_autofree char *outcomes = moat_incident_format_actions (incident);

  adw_preferences_row_set_use_markup (ADW_PREFERENCES_ROW (row), FALSE);
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row),
                                 moat_threat_get_display_name (incident->threat));
  g_string_append_c (subtitle, '\n');
  if (incident->detected > 0)
    {
      g_autofree char *detected = format_clock (incident->detected);

      /* Translators: when a threat was first seen and when it went away */
      g_string_append_printf (subtitle, _("Detected %s, cleared %s"), detected, cleared);
    }
  else
    {
      /* Translators: when a threat went away */
      g_string_append_printf (subtitle, _("Cleared %s"), cleared);
    }
  g_string_append_c (subtitle, '\n');
  g_string_append (subtitle, outcomes);
  adw_action_row_set_subtitle (ADW_ACTION_ROW (row), subtitle->str);
  adw_action_row_add_prefix (ADW_ACTION_ROW (row), severity_icon (incident->severity));
  gtk_widget_add_css_class (row, "past-threat-row");
  return row;
}

static int
compare_incidents_newest_first (gconstpointer a,
                                gconstpointer b)
{
  const MoatIncident *ia = *(const MoatIncident **) a;
  const MoatIncident *ib = *(const MoatIncident **) b;
  gint64 ta = ia->detected > 0 ? ia->detected : ia->cleared;
  gint64 tb = ib->detected > 0 ? ib->detected : ib->cleared;

  return (tb > ta) - (tb < ta);
}

/* The incidents of the last days from the detector's and the engine's
 * events: the cleared ones are listed here, the open ones tell the active
 * threats' rows what was tried for them. */
static void
build_past (MoatThreatsPage *self)
{
  g_autoptr(GPtrArray) incidents = moat_incidents_from_events (self->past_events);
  g_autoptr(GHashTable) open = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autoptr(GPtrArray) shown = g_ptr_array_new ();

  for (guint i = 0; i < incidents->len; i++)
    {
      MoatIncident *incident = g_ptr_array_index (incidents, i);

      if (incident->cleared > 0)
        g_ptr_array_add (shown, incident);
      else
        g_hash_table_replace (open, make_key (incident->threat, incident->subject), incident);
    }
  g_ptr_array_sort (shown, compare_incidents_newest_first);

  clear_group_rows (self->past_group, self->past_rows);
  for (guint i = 0; i < shown->len && i < PAST_MAX; i++)
    {
      GtkWidget *row = create_past_row (g_ptr_array_index (shown, i));

      adw_preferences_group_add (self->past_group, row);
      g_ptr_array_add (self->past_rows, row);
    }
  gtk_widget_set_visible (self->past_empty_row, self->past_rows->len == 0);

  g_clear_pointer (&self->open, g_hash_table_unref);
  g_clear_pointer (&self->incidents, g_ptr_array_unref);
  self->open = g_steal_pointer (&open);
  self->incidents = g_steal_pointer (&incidents);
}

static void
list_events_cb (GObject      *object,
                GAsyncResult *result,
                gpointer      user_data)
{
  MoatThreatsPage *self;
  g_autoptr(GPtrArray) events = NULL;
  g_autoptr(GError) error = NULL;

  events = moat_client_list_events_finish (MOAT_CLIENT (object), result, &error);
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;

  self = MOAT_THREATS_PAGE (user_data);
  if (error != NULL)
    g_debug ("Could not list the threat events: %s", error->message);
  else
    g_ptr_array_extend_and_steal (self->past_events, g_steal_pointer (&events));

  if (--self->past_pending == 0)
    {
      build_past (self);
      g_ptr_array_set_size (self->past_events, 0);
      build_threats (self);
    }
}

static void
load_past (MoatThreatsPage *self)
{
  g_autoptr(MoatEventFilter) filter = moat_event_filter_new ();
  MoatEventSource sources[] = { MOAT_EVENT_SOURCE_DETECTOR, MOAT_EVENT_SOURCE_ENGINE };

  g_ptr_array_set_size (self->past_events, 0);
  filter->since = g_get_real_time () - PAST_DAYS * G_TIME_SPAN_DAY;
  filter->has_source = TRUE;
  self->past_pending = G_N_ELEMENTS (sources);
  for (guint i = 0; i < G_N_ELEMENTS (sources); i++)
    {
      filter->source = sources[i];
      moat_client_list_events_async (self->client, filter, 0, PAST_EVENTS_LIMIT,
                                     self->refresh_cancellable, list_events_cb, self);
    }
}

/* ---- latest checks ---- */


static GtkWidget *
create_check_row (const char *detector,
                  const char *subject,
                  const char *check_result,
                  const char *summary,
                  gint64      time)
{
  GtkWidget *row = adw_action_row_new ();
  GtkWidget *icon;
  g_autofree char *when = format_clock (time);
  g_autofree char *title = NULL;
  g_autofree char *subtitle = NULL;
  const char *result_text;

  if (g_strcmp0 (check_result, "clean") == 0)
    {
      icon = gtk_image_new_from_icon_name ("object-select-symbolic");
      gtk_widget_add_css_class (icon, "success");
      result_text = _("Clean");
    }
  else if (g_strcmp0 (check_result, "threat") == 0)
    {
      icon = gtk_image_new_from_icon_name ("dialog-warning-symbolic");
      gtk_widget_add_css_class (icon, "error");
      result_text = _("Threat");
    }
  else
    {
      icon = gtk_image_new_from_icon_name ("dialog-question-symbolic");
      gtk_widget_add_css_class (icon, "dim-label");
      result_text = _("Inconclusive");
    }
  gtk_widget_set_tooltip_text (icon, result_text);
  gtk_accessible_update_property (GTK_ACCESSIBLE (icon),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL, result_text,
                                  -1);

  if (subject != NULL && subject[0] != '\0' && g_strcmp0 (subject, detector) != 0)
    /* Translators: a network check and what it looked at: "DNS answers: example.com" */
    title = g_strdup_printf (_("%s: %s"), detector_display_name (detector), subject);
  else
    title = g_strdup (detector_display_name (detector));
  /* Translators: a check's summary, then when it ran */
  subtitle = g_strdup_printf (_("%s\nChecked %s"), summary, when);

  adw_preferences_row_set_use_markup (ADW_PREFERENCES_ROW (row), FALSE);
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), title);
  adw_action_row_set_subtitle (ADW_ACTION_ROW (row), subtitle);
  adw_action_row_add_prefix (ADW_ACTION_ROW (row), icon);
  gtk_widget_add_css_class (row, "check-row");
  return row;
}

static void
show_findings (MoatThreatsPage *self,
               GVariant        *findings)
{
  GVariantIter iter;
  const char *detector, *subject, *check_result, *threat, *severity, *summary, *evidence;
  gint64 time;
  guint n_clean = 0, n_threat = 0, n_inconclusive = 0;
  g_autofree char *subtitle = NULL;

  for (guint i = 0; i < self->check_rows->len; i++)
    adw_expander_row_remove (self->checks_row, g_ptr_array_index (self->check_rows, i));
  g_ptr_array_set_size (self->check_rows, 0);

  g_variant_iter_init (&iter, findings);
  while (g_variant_iter_next (&iter, "(&s&s&s&s&s&s&sx)", &detector, &subject, &check_result,
                              &threat, &severity, &summary, &evidence, &time))
    {
      GtkWidget *row = create_check_row (detector, subject, check_result, summary, time);

      adw_expander_row_add_row (self->checks_row, row);
      g_ptr_array_add (self->check_rows, row);
      if (g_strcmp0 (check_result, "clean") == 0)
        n_clean++;
      else if (g_strcmp0 (check_result, "threat") == 0)
        n_threat++;
      else
        n_inconclusive++;
    }

  if (self->check_rows->len == 0)
    subtitle = g_strdup (_("No check has finished yet"));
  else
    /* Translators: how the latest network checks came out */
    subtitle = g_strdup_printf (_("%u clean, %u found a threat, %u inconclusive"),
                                n_clean, n_threat, n_inconclusive);
  adw_expander_row_set_subtitle (self->checks_row, subtitle);
  /* Not enable-expansion: turning that back on opens the row. */
  gtk_widget_set_visible (self->checks_empty_row, self->check_rows->len == 0);
}

static void
set_findings_supported (MoatThreatsPage *self,
                        gboolean         supported)
{
  self->findings_supported = supported;
  gtk_widget_set_visible (self->checks_group, supported);
  update_scan_button (self);
  update_status (self);
}

static void
get_findings_cb (GObject      *object,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  MoatThreatsPage *self;
  g_autoptr(GVariant) reply = NULL;
  g_autoptr(GVariant) findings = NULL;
  g_autoptr(GError) error = NULL;

  reply = moat_client_call_finish (MOAT_CLIENT (object), result, &error);
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;

  self = MOAT_THREATS_PAGE (user_data);
  if (error != NULL)
    {
      /* An engine without the network checks: say nothing about them. */
      g_debug ("No findings from moatd: %s", error->message);
      set_findings_supported (self, FALSE);
      return;
    }

  findings = g_variant_get_child_value (reply, 0);
  show_findings (self, findings);
  set_findings_supported (self, TRUE);
}

/* ---- Check Now ---- */

static void
scan_cb (GObject      *object,
         GAsyncResult *result,
         gpointer      user_data)
{
  MoatThreatsPage *self;
  g_autoptr(GVariant) reply = NULL;
  g_autoptr(GVariant) findings = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *text = NULL;

  reply = moat_client_call_finish (MOAT_CLIENT (object), result, &error);
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;

  self = MOAT_THREATS_PAGE (user_data);
  self->scanning = FALSE;
  update_scan_button (self);
  if (error != NULL)
    {
      g_warning ("Could not check the network: %s", error->message);
      /* Translators: %s is the reason */
      text = g_strdup_printf (_("Could not check the network: %s"), error->message);
      show_toast (self, text);
      return;
    }

  /* The Checks row says how they came out; a toast would cover the view
   * switcher at the bottom of a narrow window. */
  findings = g_variant_get_child_value (reply, 0);
  show_findings (self, findings);
  queue_refresh (self);
}

static void
scan_action (GtkWidget  *widget,
             const char *action_name,
             GVariant   *parameter)
{
  MoatThreatsPage *self = MOAT_THREATS_PAGE (widget);

  if (self->client == NULL || self->scanning)
    return;

  self->scanning = TRUE;
  update_scan_button (self);
  moat_client_call_async (self->client, "Scan", NULL, self->cancellable, scan_cb, self);
}

/* ---- the policy ---- */

static void
get_policy_cb (GObject      *object,
               GAsyncResult *result,
               gpointer      user_data)
{
  MoatThreatsPage *self;
  g_autoptr(GVariant) reply = NULL;
  g_autoptr(GError) error = NULL;

  reply = moat_client_call_finish (MOAT_CLIENT (object), result, &error);
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;

  self = MOAT_THREATS_PAGE (user_data);
  if (error != NULL)
    {
      g_debug ("Could not get the policy: %s", error->message);
      return;
    }

  g_clear_pointer (&self->policy_name, g_free);
  g_clear_pointer (&self->policy_text, g_free);
  g_variant_get (reply, "(ss)", &self->policy_name, &self->policy_text);
  adw_action_row_set_subtitle (self->policy_row,
                               g_strcmp0 (self->policy_name, "default") == 0
                               ? _("Moat’s default policy") : self->policy_name);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "threats.show-policy", TRUE);
}

static void
show_policy_action (GtkWidget  *widget,
                    const char *action_name,
                    GVariant   *parameter)
{
  MoatThreatsPage *self = MOAT_THREATS_PAGE (widget);
  GtkRoot *root = gtk_widget_get_root (widget);
  GtkWidget *window;
  GtkWidget *box;
  GtkWidget *header;
  GtkWidget *scrolled;
  GtkWidget *view;
  GtkEventController *shortcuts;
  const char *name;

  if (self->policy_text == NULL)
    return;

  name = g_strcmp0 (self->policy_name, "default") == 0 ? _("Moat’s default policy")
                                                      : self->policy_name;
  window = adw_window_new ();
  gtk_window_set_title (GTK_WINDOW (window), _("Policy in Force"));
  gtk_window_set_modal (GTK_WINDOW (window), TRUE);
  gtk_window_set_default_size (GTK_WINDOW (window), 640, 520);
  gtk_widget_set_size_request (window, 360, 294);
  if (GTK_IS_WINDOW (root))
    gtk_window_set_transient_for (GTK_WINDOW (window), GTK_WINDOW (root));

  box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 0);
  header = adw_header_bar_new ();
  adw_header_bar_set_title_widget (ADW_HEADER_BAR (header),
                                   adw_window_title_new (_("Policy in Force"), name));
  gtk_box_append (GTK_BOX (box), header);

  view = gtk_text_view_new ();
  gtk_text_view_set_editable (GTK_TEXT_VIEW (view), FALSE);
  gtk_text_view_set_cursor_visible (GTK_TEXT_VIEW (view), FALSE);
  gtk_text_view_set_monospace (GTK_TEXT_VIEW (view), TRUE);
  gtk_text_view_set_wrap_mode (GTK_TEXT_VIEW (view), GTK_WRAP_WORD_CHAR);
  gtk_text_view_set_left_margin (GTK_TEXT_VIEW (view), 12);
  gtk_text_view_set_right_margin (GTK_TEXT_VIEW (view), 12);
  gtk_text_view_set_top_margin (GTK_TEXT_VIEW (view), 12);
  gtk_text_view_set_bottom_margin (GTK_TEXT_VIEW (view), 12);
  gtk_text_buffer_set_text (gtk_text_view_get_buffer (GTK_TEXT_VIEW (view)),
                            self->policy_text, -1);
  gtk_accessible_update_property (GTK_ACCESSIBLE (view),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL, _("The policy’s rules"),
                                  -1);
  scrolled = gtk_scrolled_window_new ();
  gtk_widget_set_vexpand (scrolled, TRUE);
  gtk_scrolled_window_set_child (GTK_SCROLLED_WINDOW (scrolled), view);
  gtk_box_append (GTK_BOX (box), scrolled);
  adw_window_set_content (ADW_WINDOW (window), box);

  shortcuts = gtk_shortcut_controller_new ();
  gtk_shortcut_controller_add_shortcut (GTK_SHORTCUT_CONTROLLER (shortcuts),
                                        gtk_shortcut_new (gtk_keyval_trigger_new (GDK_KEY_Escape, 0),
                                                          gtk_named_action_new ("window.close")));
  gtk_widget_add_controller (window, shortcuts);

  gtk_window_present (GTK_WINDOW (window));
}

/* ---- refreshing ---- */

static void
refresh (MoatThreatsPage *self)
{
  g_clear_handle_id (&self->refresh_id, g_source_remove);
  g_cancellable_cancel (self->refresh_cancellable);
  g_clear_object (&self->refresh_cancellable);
  g_clear_pointer (&self->threats, g_variant_unref);
  g_clear_pointer (&self->responses, g_variant_unref);

  update_scan_button (self);
  update_status (self);
  if (self->client == NULL || !moat_client_get_engine_running (self->client))
    return;

  self->refresh_cancellable = g_cancellable_new ();
  moat_client_call_async (self->client, "GetThreats", NULL, self->refresh_cancellable,
                          get_threats_cb, self);
  moat_client_call_async (self->client, "GetFindings", NULL, self->refresh_cancellable,
                          get_findings_cb, self);
  moat_client_call_async (self->client, "GetPolicy", NULL, self->refresh_cancellable,
                          get_policy_cb, self);
}

static gboolean
refresh_timeout_cb (gpointer user_data)
{
  MoatThreatsPage *self = user_data;

  self->refresh_id = 0;
  refresh (self);

  return G_SOURCE_REMOVE;
}

static void
queue_refresh (MoatThreatsPage *self)
{
  if (self->refresh_id == 0)
    self->refresh_id = g_timeout_add (REFRESH_DELAY_MS, refresh_timeout_cb, self);
}

static void
on_proxy_changed_cb (MoatDBusMoat1   *proxy,
                     MoatThreatsPage *self)
{
  queue_refresh (self);
}

static void
on_proxy_notify_cb (GObject         *proxy,
                    GParamSpec      *pspec,
                    MoatThreatsPage *self)
{
  if (g_strcmp0 (pspec->name, "safe-since") == 0)
    update_status (self);
  else
    queue_refresh (self);
}

static void
on_client_events_added_cb (MoatClient      *client,
                           GPtrArray       *events,
                           MoatThreatsPage *self)
{
  for (guint i = 0; i < events->len; i++)
    {
      MoatEvent *event = g_ptr_array_index (events, i);

      if (event->source == MOAT_EVENT_SOURCE_DETECTOR || event->source == MOAT_EVENT_SOURCE_ENGINE)
        {
          queue_refresh (self);
          return;
        }
    }
}

static void
on_client_notify_engine_running_cb (MoatClient      *client,
                                    GParamSpec      *pspec,
                                    MoatThreatsPage *self)
{
  refresh (self);
}

static void
on_client_notify_risk_level_cb (MoatClient      *client,
                                GParamSpec      *pspec,
                                MoatThreatsPage *self)
{
  update_status (self);
}

static void
proxy_ready_cb (GObject      *object,
                GAsyncResult *result,
                gpointer      user_data)
{
  MoatThreatsPage *self;
  g_autoptr(MoatDBusMoat1) proxy = NULL;
  g_autoptr(GError) error = NULL;

  proxy = moat_dbus_moat1_proxy_new_finish (result, &error);
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;

  self = MOAT_THREATS_PAGE (user_data);
  if (proxy == NULL)
    {
      g_warning ("Cannot follow moatd's threats: %s", error->message);
      return;
    }

  self->proxy = g_steal_pointer (&proxy);
  g_signal_connect_object (self->proxy, "threats-changed",
                           G_CALLBACK (on_proxy_changed_cb), self, 0);
  g_signal_connect_object (self->proxy, "findings-changed",
                           G_CALLBACK (on_proxy_changed_cb), self, 0);
  g_signal_connect_object (self->proxy, "notify::safe-since",
                           G_CALLBACK (on_proxy_notify_cb), self, 0);
  g_signal_connect_object (self->proxy, "notify::policy",
                           G_CALLBACK (on_proxy_notify_cb), self, 0);
  /* Something may have changed before we listened. */
  queue_refresh (self);
}

static void
connection_ready_cb (GObject      *object,
                     GAsyncResult *result,
                     gpointer      user_data)
{
  MoatThreatsPage *self;
  g_autoptr(GDBusConnection) connection = NULL;
  g_autoptr(GError) error = NULL;
  const char *address = g_getenv ("MOAT_DBUS_ADDRESS");

  if (address != NULL && address[0] != '\0')
    connection = g_dbus_connection_new_for_address_finish (result, &error);
  else
    connection = g_bus_get_finish (result, &error);
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;

  self = MOAT_THREATS_PAGE (user_data);
  if (connection == NULL)
    {
      g_warning ("Cannot follow moatd's threats: %s", error->message);
      return;
    }
  moat_dbus_moat1_proxy_new (connection,
                             G_DBUS_PROXY_FLAGS_DO_NOT_AUTO_START |
                             G_DBUS_PROXY_FLAGS_GET_INVALIDATED_PROPERTIES,
                             MOAT_DBUS_NAME, MOAT_DBUS_PATH, self->cancellable,
                             proxy_ready_cb, self);
}

/* ---- GObject ---- */

static void
moat_threats_page_dispose (GObject *object)
{
  MoatThreatsPage *self = MOAT_THREATS_PAGE (object);
  GtkWidget *child;

  g_clear_handle_id (&self->refresh_id, g_source_remove);
  g_cancellable_cancel (self->cancellable);
  g_cancellable_cancel (self->refresh_cancellable);
  g_clear_object (&self->refresh_cancellable);
  if (self->settings != NULL)
    {
      g_settings_unbind (self->vpn_switch, "active");
      g_settings_unbind (self->block_switch, "active");
    }
  g_clear_object (&self->settings);
  g_clear_object (&self->proxy);
  g_clear_object (&self->client);
  gtk_widget_dispose_template (GTK_WIDGET (self), MOAT_TYPE_THREATS_PAGE);
  while ((child = gtk_widget_get_first_child (GTK_WIDGET (self))) != NULL)
    gtk_widget_unparent (child);

  G_OBJECT_CLASS (moat_threats_page_parent_class)->dispose (object);
}

static void
moat_threats_page_finalize (GObject *object)
{
  MoatThreatsPage *self = MOAT_THREATS_PAGE (object);

  g_clear_object (&self->cancellable);
  g_clear_pointer (&self->threats, g_variant_unref);
  g_clear_pointer (&self->responses, g_variant_unref);
  g_clear_pointer (&self->open, g_hash_table_unref);
  g_clear_pointer (&self->incidents, g_ptr_array_unref);
  g_clear_pointer (&self->past_events, g_ptr_array_unref);
  g_clear_pointer (&self->threat_rows, g_ptr_array_unref);
  g_clear_pointer (&self->past_rows, g_ptr_array_unref);
  g_clear_pointer (&self->check_rows, g_ptr_array_unref);
  g_clear_pointer (&self->collapsed, g_hash_table_unref);
  g_clear_pointer (&self->policy_name, g_free);
  g_clear_pointer (&self->policy_text, g_free);

  G_OBJECT_CLASS (moat_threats_page_parent_class)->finalize (object);
}

static void
moat_threats_page_class_init (MoatThreatsPageClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = moat_threats_page_dispose;
  object_class->finalize = moat_threats_page_finalize;

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/io/github/moatproject/Moat/moat-threats-page.ui");
  gtk_widget_class_bind_template_child (widget_class, MoatThreatsPage, scrolled_window);
  gtk_widget_class_bind_template_child (widget_class, MoatThreatsPage, status_icon);
  gtk_widget_class_bind_template_child (widget_class, MoatThreatsPage, status_label);
  gtk_widget_class_bind_template_child (widget_class, MoatThreatsPage, safe_label);
  gtk_widget_class_bind_template_child (widget_class, MoatThreatsPage, risk_label);
  gtk_widget_class_bind_template_child (widget_class, MoatThreatsPage, scan_button);
  gtk_widget_class_bind_template_child (widget_class, MoatThreatsPage, scan_spinner);
  gtk_widget_class_bind_template_child (widget_class, MoatThreatsPage, scan_label);
  gtk_widget_class_bind_template_child (widget_class, MoatThreatsPage, threats_group);
  gtk_widget_class_bind_template_child (widget_class, MoatThreatsPage, past_group);
  gtk_widget_class_bind_template_child (widget_class, MoatThreatsPage, past_empty_row);
  gtk_widget_class_bind_template_child (widget_class, MoatThreatsPage, checks_group);
  gtk_widget_class_bind_template_child (widget_class, MoatThreatsPage, checks_row);
  gtk_widget_class_bind_template_child (widget_class, MoatThreatsPage, checks_empty_row);
  gtk_widget_class_bind_template_child (widget_class, MoatThreatsPage, vpn_switch);
  gtk_widget_class_bind_template_child (widget_class, MoatThreatsPage, block_switch);
  gtk_widget_class_bind_template_child (widget_class, MoatThreatsPage, policy_row);

  gtk_widget_class_install_action (widget_class, "threats.scan", NULL, scan_action);
  gtk_widget_class_install_action (widget_class, "threats.show-policy", NULL, show_policy_action);

  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BIN_LAYOUT);
}

static void
moat_threats_page_init (MoatThreatsPage *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));

  self->cancellable = g_cancellable_new ();
  self->past_events = g_ptr_array_new_with_free_func ((GDestroyNotify) moat_event_unref);
  self->threat_rows = g_ptr_array_new ();
  self->past_rows = g_ptr_array_new ();
  self->check_rows = g_ptr_array_new ();
  self->collapsed = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  self->findings_supported = TRUE;

  self->settings = g_settings_new (APP_ID);
  g_settings_bind (self->settings, "vpn-on-demand", self->vpn_switch, "active",
                   G_SETTINGS_BIND_DEFAULT);
  g_settings_bind (self->settings, "block-protected-when-unsafe", self->block_switch, "active",
                   G_SETTINGS_BIND_DEFAULT);

  gtk_widget_action_set_enabled (GTK_WIDGET (self), "threats.show-policy", FALSE);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "threats.scan", FALSE);
}

/**
 * moat_threats_page_set_client:
 *
 * Starts showing moatd's threats. Called once, when the client is ready.
 */
void
moat_threats_page_set_client (MoatThreatsPage *self,
                              MoatClient      *client)
{
  const char *address = g_getenv ("MOAT_DBUS_ADDRESS");

  g_return_if_fail (MOAT_IS_THREATS_PAGE (self));
  g_return_if_fail (MOAT_IS_CLIENT (client));
  g_return_if_fail (self->client == NULL);

  self->client = g_object_ref (client);
  g_signal_connect_object (client, "notify::engine-running",
                           G_CALLBACK (on_client_notify_engine_running_cb), self, 0);
  g_signal_connect_object (client, "notify::risk-level",
                           G_CALLBACK (on_client_notify_risk_level_cb), self, 0);
  g_signal_connect_object (client, "events-added",
                           G_CALLBACK (on_client_events_added_cb), self, 0);

  /* The same bus as the client's (see moat_client_new_async). */
  if (address != NULL && address[0] != '\0')
    g_dbus_connection_new_for_address (address,
                                       G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT |
                                       G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION,
                                       NULL, self->cancellable, connection_ready_cb, self);
  else
    g_bus_get (G_BUS_TYPE_SESSION, self->cancellable, connection_ready_cb, self);

  refresh (self);
}
