/* SPDX-License-Identifier: GPL-3.0-or-later
 * Copyright 2026 The Moat developers
 */
#define G_LOG_DOMAIN "moat-app"

#include "config.h"

#include "moat-event-details.h"

#include "moat-threat-names.h"

#include <adwaita.h>
#include <glib/gi18n.h>
#include <json-glib/json-glib.h>
#include <string.h>

/*
 * MoatEventDetails: one event in words. For a block by the proxy: what was
 * blocked (host, URL), why (category, list, the exact rule and its line),
 * when, and "Allow Once" / "Always Allow". For other events, their detail
 * fields as readable rows. The raw JSON is only under "Technical Details".
 * ::back asks the parent to show the list again.
 */

struct _MoatEventDetails {
  GtkWidget            parent_instance;

  /* owned */
  MoatClient          *client;
  MoatEvent           *event;
  GCancellable        *cancellable;
  GPtrArray           *fact_rows;   /* borrowed, in facts_group */

  /* template children */
  GtkWidget           *back_button;
  GtkLabel            *title_label;
  GtkImage            *severity_icon;
  GtkLabel            *headline_label;
  GtkLabel            *explanation_label;
  GtkWidget           *allow_box;
  AdwPreferencesGroup *facts_group;
  GtkWidget           *technical_group;
  AdwExpanderRow      *technical_row;
  GtkLabel            *technical_label;
};

G_DEFINE_FINAL_TYPE (MoatEventDetails, moat_event_details, GTK_TYPE_WIDGET)

enum {
  SIGNAL_BACK,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static const char *severity_classes[] = {
  "severity-info", "severity-low", "severity-medium", "severity-high", "severity-critical",
};

/* The detail members a proxy block has, shown by name rather than generically. */
static const char *proxy_members[] = {
  "reason", "tunnel", "port", "url", "category", "list", "rule", "line", NULL,
};

static void
show_toast (MoatEventDetails *self,
            const char       *text)
{
  GtkWidget *overlay = gtk_widget_get_ancestor (GTK_WIDGET (self), ADW_TYPE_TOAST_OVERLAY);

  if (overlay != NULL)
    adw_toast_overlay_add_toast (ADW_TOAST_OVERLAY (overlay), adw_toast_new (text));
}

static void
add_fact (MoatEventDetails *self,
          const char       *title,
          const char       *value,
          const char       *css_class)
{
  GtkWidget *row;

  if (value == NULL || value[0] == '\0')
    return;

  row = adw_action_row_new ();
  adw_preferences_row_set_use_markup (ADW_PREFERENCES_ROW (row), FALSE);
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), title);
  adw_action_row_set_subtitle (ADW_ACTION_ROW (row), value);
  gtk_widget_add_css_class (row, "fact");
  if (css_class != NULL)
    gtk_widget_add_css_class (row, css_class);
  adw_preferences_group_add (self->facts_group, row);
  g_ptr_array_add (self->fact_rows, row);
}

static void
clear_facts (MoatEventDetails *self)
{
  for (guint i = 0; i < self->fact_rows->len; i++)
    adw_preferences_group_remove (self->facts_group, g_ptr_array_index (self->fact_rows, i));
  g_ptr_array_set_size (self->fact_rows, 0);
}

static const char *
get_string_member (JsonObject *object,
                   const char *member)
{
  JsonNode *node = object != NULL ? json_object_get_member (object, member) : NULL;

  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node) ||
      json_node_get_value_type (node) != G_TYPE_STRING)
    return NULL;
  return json_node_get_string (node);
}

static gboolean
get_int_member (JsonObject *object,
                const char *member,
                gint64     *out)
{
  JsonNode *node = object != NULL ? json_object_get_member (object, member) : NULL;

  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node) ||
      json_node_get_value_type (node) != G_TYPE_INT64)
    return FALSE;
  *out = json_node_get_int (node);
  return TRUE;
}

static const char *
category_display_name (const char *category)
{
  /* Lists use "ads", threats "content.ads"; both read as words. */
  if (category != NULL && strchr (category, '.') != NULL)
    return moat_threat_get_display_name (category);
  return moat_list_category_get_display_name (category);
}

/* A detail member's key as a label: "rule_line" → "Rule line". */
static char *
humanize_key (const char *key)
{
  g_autofree char *text = g_strdelimit (g_strdup (key), "_-.", ' ');

  if (text[0] != '\0')
    {
      g_autofree char *first = g_utf8_strup (text, g_utf8_next_char (text) - text);
      return g_strconcat (first, g_utf8_next_char (text), NULL);
    }
  return g_steal_pointer (&text);
}

static char *
node_to_text (JsonNode *node)
{
  if (JSON_NODE_HOLDS_VALUE (node))
    {
      switch (json_node_get_value_type (node))
        {
        case G_TYPE_STRING:
          return g_strdup (json_node_get_string (node));
        case G_TYPE_INT64:
          return g_strdup_printf ("%" G_GINT64_FORMAT, json_node_get_int (node));
        case G_TYPE_DOUBLE:
          return g_strdup_printf ("%g", json_node_get_double (node));
        case G_TYPE_BOOLEAN:
          return g_strdup (json_node_get_boolean (node) ? _("Yes") : _("No"));
        default:
          return NULL;
        }
    }
  if (JSON_NODE_HOLDS_NULL (node))
    return NULL;
  return json_to_string (node, FALSE);
}

static void
show_proxy_block (MoatEventDetails *self,
                  JsonObject       *detail)
{
  const char *reason = get_string_member (detail, "reason");
  const char *category = get_string_member (detail, "category");
  const char *list = get_string_member (detail, "list");
  const char *rule = get_string_member (detail, "rule");
  const char *url = get_string_member (detail, "url");
  JsonNode *tunnel = detail != NULL ? json_object_get_member (detail, "tunnel") : NULL;
  gint64 line = 0, port = 0;
  g_autofree char *explanation = NULL;
  g_autofree char *line_text = NULL;
  g_autofree char *port_text = NULL;

  get_int_member (detail, "line", &line);
  get_int_member (detail, "port", &port);

  /* Allowing a host lifts a list's block, not the local-address or port
   * rules. */
  gtk_widget_set_visible (self->allow_box,
                          self->event->subject[0] != '\0' &&
                          (reason == NULL || g_strcmp0 (reason, "filter") == 0));

  if (g_strcmp0 (reason, "local-destination") == 0)
    explanation = g_strdup (_("Moat blocked this request because it tried to reach this computer "
                              "or its local network, which web pages must not do."));
  else if (g_strcmp0 (reason, "port") == 0 && port > 0)
    /* Translators: %d is a port number such as 8443 */
    explanation = g_strdup_printf (_("Moat blocked this connection because port %d is not one "
                                     "that secure web traffic may use."), (int) port);
  else if (list != NULL && category != NULL)
    /* Translators: the first %s is a list's name, the second a category such as "Advertising" */
    explanation = g_strdup_printf (_("Moat blocked this site because the list “%s” names it "
                                     "under %s."), list, category_display_name (category));
  else
    explanation = g_strdup (_("Moat blocked this site."));

  gtk_label_set_text (self->explanation_label, explanation);

  add_fact (self, _("Site"), self->event->subject, NULL);
  add_fact (self, _("Address"), url, "fact-wrap");
  if (category != NULL)
    add_fact (self, _("Category"), category_display_name (category), NULL);
  add_fact (self, _("List"), list, NULL);
  add_fact (self, _("Rule"), rule, "fact-code");
  if (line > 0)
    {
      line_text = g_strdup_printf ("%" G_GINT64_FORMAT, line);
      add_fact (self, _("Line in the list"), line_text, NULL);
    }
  if (tunnel != NULL && JSON_NODE_HOLDS_VALUE (tunnel) &&
      json_node_get_value_type (tunnel) == G_TYPE_BOOLEAN)
    add_fact (self, _("Connection"),
              json_node_get_boolean (tunnel) ? _("Encrypted (HTTPS)") : _("Not encrypted (HTTP)"),
              NULL);
  if (port > 0)
    {
      port_text = g_strdup_printf ("%" G_GINT64_FORMAT, port);
      add_fact (self, _("Port"), port_text, NULL);
    }
}

static void
show_other_members (MoatEventDetails *self,
                    JsonObject       *detail,
                    gboolean          skip_proxy_members)
{
  g_autoptr(GList) members = NULL;

  if (detail == NULL)
    return;

  members = json_object_get_members (detail);
  for (GList *l = members; l != NULL; l = l->next)
    {
      const char *key = l->data;
      g_autofree char *title = NULL;
      g_autofree char *value = NULL;

      if (skip_proxy_members && g_strv_contains ((const char * const *) proxy_members, key))
        continue;
      value = node_to_text (json_object_get_member (detail, key));
      title = humanize_key (key);
      add_fact (self, title, value, "fact-wrap");
    }
}

static void
update (MoatEventDetails *self)
{
  MoatEvent *event = self->event;
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GDateTime) utc = NULL;
  g_autoptr(GDateTime) local = NULL;
  g_autofree char *when = NULL;
  g_autofree char *pretty = NULL;
  JsonObject *detail = NULL;
  gboolean is_block;
  const char *threat;

  clear_facts (self);
  if (event == NULL)
    return;

  threat = moat_threat_get_display_name (event->threat);
  is_block = event->source == MOAT_EVENT_SOURCE_PROXY && g_strcmp0 (event->action, "blocked") == 0;

  if (event->detail != NULL && event->detail[0] != '\0' &&
      json_parser_load_from_data (parser, event->detail, -1, NULL) &&
      JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)))
    {
      g_autoptr(JsonGenerator) generator = json_generator_new ();

      detail = json_node_get_object (json_parser_get_root (parser));
      json_generator_set_root (generator, json_parser_get_root (parser));
      json_generator_set_pretty (generator, TRUE);
      pretty = json_generator_to_data (generator, NULL);
    }

  gtk_label_set_text (self->title_label, threat);
  for (guint i = 0; i < G_N_ELEMENTS (severity_classes); i++)
    gtk_widget_remove_css_class (GTK_WIDGET (self->severity_icon), severity_classes[i]);
  gtk_image_set_from_icon_name (self->severity_icon, moat_severity_get_icon_name (event->severity));
  gtk_widget_add_css_class (GTK_WIDGET (self->severity_icon),
                            moat_severity_get_style_class (event->severity));
  gtk_label_set_text (self->headline_label, event->subject);
  gtk_widget_set_visible (self->allow_box, FALSE);

  add_fact (self, _("What"), threat, NULL);
  if (is_block)
    {
      show_proxy_block (self, detail);
    }
  else
    {
      /* Translators: what Moat did about an event, e.g. "Notified"; %s is the action */
      g_autofree char *did = g_strdup_printf (_("Moat’s action: %s"),
                                              moat_action_get_display_name (event->action));

      gtk_label_set_text (self->explanation_label, did);
      add_fact (self, _("Subject"), event->subject, "fact-wrap");
    }
  show_other_members (self, detail, is_block);

  utc = g_date_time_new_from_unix_utc (event->time / G_USEC_PER_SEC);
  if (utc != NULL)
    {
      local = g_date_time_to_local (utc);
      /* Translators: when an event happened, see strftime(3) */
      when = g_date_time_format (local, _("%-d %B %Y, %H:%M:%S"));
      add_fact (self, _("When"), when, NULL);
    }
  add_fact (self, _("Severity"), moat_severity_get_display_name (event->severity), NULL);

  gtk_label_set_text (self->technical_label, pretty != NULL ? pretty : "");
  gtk_widget_set_visible (self->technical_group, pretty != NULL);
  adw_expander_row_set_expanded (self->technical_row, FALSE);
}

static void
allow_cb (GObject      *object,
          GAsyncResult *result,
          gpointer      user_data)
{
  MoatEventDetails *self;
  g_autoptr(GVariant) reply = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *text = NULL;
  g_autofree char *host = NULL;
  gboolean once;

  reply = moat_client_call_finish (MOAT_CLIENT (object), result, &error);
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;

  self = MOAT_EVENT_DETAILS (user_data);
  once = GPOINTER_TO_INT (g_object_get_data (G_OBJECT (self->cancellable), "moat-once"));
  host = g_strdup (g_object_get_data (G_OBJECT (self->cancellable), "moat-host"));
  g_clear_object (&self->cancellable);

  if (error != NULL)
    /* Translators: %s is the reason */
    text = g_strdup_printf (_("Could not allow the site: %s"), error->message);
  else if (once)
    /* Translators: %s is a site such as example.com */
    text = g_strdup_printf (_("%s is allowed for a few minutes"), host);
  else
    /* Translators: %s is a site such as example.com */
    text = g_strdup_printf (_("Moat always allows %s now"), host);
  show_toast (self, text);
}

static void
allow (MoatEventDetails *self,
       gboolean          once)
{
  const char *host;

  /* One call at a time. The buttons stay sensitive (and keep the focus, so
   * Escape still goes back); a second click while a call runs does nothing. */
  if (self->client == NULL || self->event == NULL || self->cancellable != NULL)
    return;

  host = self->event->subject;
  self->cancellable = g_cancellable_new ();
  g_object_set_data (G_OBJECT (self->cancellable), "moat-once", GINT_TO_POINTER (once));
  g_object_set_data_full (G_OBJECT (self->cancellable), "moat-host", g_strdup (host), g_free);
  if (once)
    moat_client_call_async (self->client, "AllowOnce", g_variant_new ("(s)", host),
                            self->cancellable, allow_cb, self);
  else
    moat_client_call_async (self->client, "AddUserHost", g_variant_new ("(ss)", host, "allow"),
                            self->cancellable, allow_cb, self);
}

static void
allow_once_action (GtkWidget  *widget,
                   const char *action_name,
                   GVariant   *parameter)
{
  allow (MOAT_EVENT_DETAILS (widget), TRUE);
}

static void
always_allow_action (GtkWidget  *widget,
                     const char *action_name,
                     GVariant   *parameter)
{
  allow (MOAT_EVENT_DETAILS (widget), FALSE);
}

static void
back_action (GtkWidget  *widget,
             const char *action_name,
             GVariant   *parameter)
{
  g_signal_emit (widget, signals[SIGNAL_BACK], 0);
}

static void
moat_event_details_dispose (GObject *object)
{
  MoatEventDetails *self = MOAT_EVENT_DETAILS (object);
  GtkWidget *child;

  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  g_clear_object (&self->client);
  g_clear_pointer (&self->event, moat_event_unref);
  gtk_widget_dispose_template (GTK_WIDGET (self), MOAT_TYPE_EVENT_DETAILS);
  while ((child = gtk_widget_get_first_child (GTK_WIDGET (self))) != NULL)
    gtk_widget_unparent (child);

  G_OBJECT_CLASS (moat_event_details_parent_class)->dispose (object);
}

static void
moat_event_details_finalize (GObject *object)
{
  MoatEventDetails *self = MOAT_EVENT_DETAILS (object);

  g_clear_pointer (&self->fact_rows, g_ptr_array_unref);

  G_OBJECT_CLASS (moat_event_details_parent_class)->finalize (object);
}

static gboolean
moat_event_details_grab_focus (GtkWidget *widget)
{
  MoatEventDetails *self = MOAT_EVENT_DETAILS (widget);

  return gtk_widget_grab_focus (self->back_button);
}

static void
moat_event_details_class_init (MoatEventDetailsClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = moat_event_details_dispose;
  object_class->finalize = moat_event_details_finalize;
  widget_class->grab_focus = moat_event_details_grab_focus;

  /**
   * MoatEventDetails::back:
   *
   * The user wants the list of events again.
   */
  signals[SIGNAL_BACK] =
    g_signal_new ("back", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 0);

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/io/github/moatproject/Moat/moat-event-details.ui");
  gtk_widget_class_bind_template_child (widget_class, MoatEventDetails, back_button);
  gtk_widget_class_bind_template_child (widget_class, MoatEventDetails, title_label);
  gtk_widget_class_bind_template_child (widget_class, MoatEventDetails, severity_icon);
  gtk_widget_class_bind_template_child (widget_class, MoatEventDetails, headline_label);
  gtk_widget_class_bind_template_child (widget_class, MoatEventDetails, explanation_label);
  gtk_widget_class_bind_template_child (widget_class, MoatEventDetails, allow_box);
  gtk_widget_class_bind_template_child (widget_class, MoatEventDetails, facts_group);
  gtk_widget_class_bind_template_child (widget_class, MoatEventDetails, technical_group);
  gtk_widget_class_bind_template_child (widget_class, MoatEventDetails, technical_row);
  gtk_widget_class_bind_template_child (widget_class, MoatEventDetails, technical_label);

  gtk_widget_class_install_action (widget_class, "details.back", NULL, back_action);
  gtk_widget_class_install_action (widget_class, "details.allow-once", NULL, allow_once_action);
  gtk_widget_class_install_action (widget_class, "details.always-allow", NULL,
                                   always_allow_action);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Escape, 0, "details.back", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Left, GDK_ALT_MASK,
                                       "details.back", NULL);

  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BIN_LAYOUT);
}

static void
moat_event_details_init (MoatEventDetails *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  self->fact_rows = g_ptr_array_new ();
}

void
moat_event_details_set_client (MoatEventDetails *self,
                               MoatClient       *client)
{
  g_return_if_fail (MOAT_IS_EVENT_DETAILS (self));
  g_return_if_fail (MOAT_IS_CLIENT (client));

  g_set_object (&self->client, client);
}

/* Shows @event (the details view keeps a reference). */
void
moat_event_details_set_event (MoatEventDetails *self,
                              MoatEvent        *event)
{
  g_return_if_fail (MOAT_IS_EVENT_DETAILS (self));

  if (event != NULL)
    moat_event_ref (event);
  g_clear_pointer (&self->event, moat_event_unref);
  self->event = event;
  update (self);
}

MoatEvent *
moat_event_details_get_event (MoatEventDetails *self)
{
  g_return_val_if_fail (MOAT_IS_EVENT_DETAILS (self), NULL);

  return self->event;
}
