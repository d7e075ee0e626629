/* SPDX-License-Identifier: GPL-3.0-or-later
 * Copyright 2026 The Moat developers
 */
#define G_LOG_DOMAIN "moat-app"

#include "config.h"

#include "moat-overview-page.h"

#include "moat-category-chart.h"
#include "moat-threat-names.h"

#include <adwaita.h>
#include <glib/gi18n.h>

/*
 * MoatOverviewPage: is this computer protected, its risk level, the switch
 * that sends the desktop's web traffic through Moat's proxy, what Moat
 * blocked today by category, and the latest events. Refreshed from
 * ::events-added at most once every REFRESH_INTERVAL_MS.
 */

#define REFRESH_INTERVAL_MS 2000
#define N_LATEST 5

struct _MoatOverviewPage {
  GtkWidget          parent_instance;

  /* owned */
  MoatClient        *client;
  GCancellable      *cancellable;
  guint              refresh_id;
  guint              midnight_id;
  gint64             last_refresh;
  GCancellable      *protect_cancellable;
  gboolean           syncing_protect;

  /* template children */
  GtkImage          *status_icon;
  GtkLabel          *status_label;
  GtkLabel          *summary_label;
  GtkLabel          *risk_label;
  GtkWidget         *protect_row;
  GtkSwitch         *protect_switch;
  AdwActionRow      *health_row;
  GtkImage          *health_icon;
  GtkLabel          *health_level_label;
  MoatCategoryChart *chart;
  GtkLabel          *blocked_total_label;
  GtkListBox        *latest_list;
  GtkWidget         *latest_empty_row;
};

G_DEFINE_FINAL_TYPE (MoatOverviewPage, moat_overview_page, GTK_TYPE_WIDGET)

enum {
  SIGNAL_SHOW_EVENT,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static void refresh (MoatOverviewPage *self);
static void schedule_midnight_refresh (MoatOverviewPage *self);

static void
update_status (MoatOverviewPage *self)
{
  static const char *status_classes[] = { "protected", "unprotected", "attention" };
  static const char *risk_classes[] = { "success", "warning", "error" };
  MoatProtectionState state = MOAT_PROTECTION_STATE_UNPROTECTED;
  MoatRiskLevel risk = MOAT_RISK_LEVEL_NONE;
  const char *summary = NULL;
  const char *title;
  const char *icon;
  const char *status_class;

  if (self->client != NULL && moat_client_get_engine_running (self->client))
    {
      state = moat_client_get_protection_state (self->client);
      risk = moat_client_get_risk_level (self->client);
      summary = moat_client_get_protection_summary (self->client);
    }

  switch (state)
    {
    case MOAT_PROTECTION_STATE_PROTECTED:
      title = _("This computer is protected");
      icon = "security-high-symbolic";
      status_class = "protected";
      break;
    case MOAT_PROTECTION_STATE_DEGRADED:
      title = _("This computer needs attention");
      icon = "security-medium-symbolic";
      status_class = "attention";
      break;
    case MOAT_PROTECTION_STATE_PAUSED:
      title = _("Protection is paused");
      icon = "security-medium-symbolic";
      status_class = "attention";
      break;
    case MOAT_PROTECTION_STATE_UNPROTECTED:
    default:
      title = _("This computer is not protected");
      icon = "security-low-symbolic";
      status_class = "unprotected";
      break;
    }

  for (guint i = 0; i < G_N_ELEMENTS (status_classes); i++)
    gtk_widget_remove_css_class (GTK_WIDGET (self->status_icon), status_classes[i]);
  gtk_widget_add_css_class (GTK_WIDGET (self->status_icon), status_class);
  gtk_image_set_from_icon_name (self->status_icon, icon);
  gtk_label_set_text (self->status_label, title);
  gtk_label_set_text (self->summary_label, summary != NULL ? summary : "");
  gtk_widget_set_visible (GTK_WIDGET (self->summary_label), summary != NULL && summary[0] != '\0');

  for (guint i = 0; i < G_N_ELEMENTS (risk_classes); i++)
    gtk_widget_remove_css_class (GTK_WIDGET (self->risk_label), risk_classes[i]);
  gtk_widget_add_css_class (GTK_WIDGET (self->risk_label), moat_risk_level_get_style_class (risk));
  gtk_label_set_text (self->risk_label, moat_risk_level_get_display_name (risk));
}

static void
update_protect_switch (MoatOverviewPage *self)
{
  gboolean running = self->client != NULL && moat_client_get_engine_running (self->client);
  gboolean active = running && moat_client_get_protect_computer (self->client);

  self->syncing_protect = TRUE;
  gtk_switch_set_active (self->protect_switch, active);
  self->syncing_protect = FALSE;
  /* Not while a change is on its way: the switch shows where it is going. */
  gtk_widget_set_sensitive (self->protect_row, running && self->protect_cancellable == NULL);
}

static void
show_toast (GtkWidget  *widget,
            const char *text)
{
  GtkWidget *overlay = gtk_widget_get_ancestor (widget, ADW_TYPE_TOAST_OVERLAY);

  if (overlay != NULL)
    adw_toast_overlay_add_toast (ADW_TOAST_OVERLAY (overlay), adw_toast_new (text));
}

static void
set_protect_computer_cb (GObject      *object,
                         GAsyncResult *result,
                         gpointer      user_data)
{
  MoatOverviewPage *self;
  g_autoptr(GVariant) reply = NULL;
  g_autoptr(GError) error = NULL;

  reply = moat_client_call_finish (MOAT_CLIENT (object), result, &error);
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;

  self = MOAT_OVERVIEW_PAGE (user_data);
  g_clear_object (&self->protect_cancellable);
  if (error != NULL)
    {
      g_autofree char *text = NULL;

      g_warning ("Could not change the system proxy: %s", error->message);
      /* Translators: %s is the reason */
      text = g_strdup_printf (_("Could not change the protection: %s"), error->message);
      show_toast (GTK_WIDGET (self), text);
    }
  /* On success the property follows; on failure this puts the switch back. */
  update_protect_switch (self);
}

static void
on_protect_switch_notify_active_cb (GtkSwitch        *protect_switch,
                                    GParamSpec       *pspec,
                                    MoatOverviewPage *self)
{
  gboolean active = gtk_switch_get_active (protect_switch);

  if (self->syncing_protect || self->client == NULL)
    return;
  if (active == moat_client_get_protect_computer (self->client))
    return;

  g_cancellable_cancel (self->protect_cancellable);
  g_clear_object (&self->protect_cancellable);
  self->protect_cancellable = g_cancellable_new ();
  gtk_widget_set_sensitive (self->protect_row, FALSE);
  moat_client_call_async (self->client, "SetProtectComputer", g_variant_new ("(b)", active),
                          self->protect_cancellable, set_protect_computer_cb, self);
}

static GtkWidget *
create_event_row (const MoatEvent *event,
                  GDateTime       *now)
{
  g_autofree char *time_text = moat_format_event_time (event->time, now);
  GtkWidget *row = adw_action_row_new ();
  GtkWidget *icon = gtk_image_new_from_icon_name (moat_severity_get_icon_name (event->severity));
  GtkWidget *time_label = gtk_label_new (time_text);
  g_autofree char *escaped_title = g_markup_escape_text (moat_threat_get_display_name (event->threat), -1);
  g_autofree char *escaped_subject = g_markup_escape_text (event->subject, -1);

  gtk_widget_add_css_class (icon, moat_severity_get_style_class (event->severity));
  gtk_accessible_update_property (GTK_ACCESSIBLE (icon),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  moat_severity_get_display_name (event->severity),
                                  -1);
  gtk_widget_add_css_class (time_label, "dim-label");
  gtk_widget_add_css_class (time_label, "caption");

  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), escaped_title);
  adw_action_row_set_subtitle (ADW_ACTION_ROW (row), escaped_subject);
  adw_action_row_set_title_lines (ADW_ACTION_ROW (row), 1);
  adw_action_row_set_subtitle_lines (ADW_ACTION_ROW (row), 1);
  adw_action_row_add_prefix (ADW_ACTION_ROW (row), icon);
  adw_action_row_add_suffix (ADW_ACTION_ROW (row), time_label);
  gtk_list_box_row_set_activatable (GTK_LIST_BOX_ROW (row), TRUE);
  g_object_set_data_full (G_OBJECT (row), "moat-event",
                          moat_event_ref ((MoatEvent *) event),
                          (GDestroyNotify) moat_event_unref);

  return row;
}

static void
on_latest_list_row_activated_cb (GtkListBox       *list,
                                 GtkListBoxRow    *row,
                                 MoatOverviewPage *self)
{
  MoatEvent *event = g_object_get_data (G_OBJECT (row), "moat-event");

  if (event != NULL)
    g_signal_emit (self, signals[SIGNAL_SHOW_EVENT], 0, event);
}

static void
clear_latest (MoatOverviewPage *self)
{
  GtkWidget *child = gtk_widget_get_first_child (GTK_WIDGET (self->latest_list));

  while (child != NULL)
    {
      GtkWidget *next = gtk_widget_get_next_sibling (child);

      if (child != self->latest_empty_row)
        gtk_list_box_remove (self->latest_list, child);
      child = next;
    }
}

static void
list_events_cb (GObject      *object,
                GAsyncResult *result,
                gpointer      user_data)
{
  MoatOverviewPage *self;
  g_autoptr(GPtrArray) events = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GDateTime) now = NULL;

  events = moat_client_list_events_finish (MOAT_CLIENT (object), result, &error);
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;

  self = MOAT_OVERVIEW_PAGE (user_data);
  if (error != NULL)
    {
      g_debug ("Could not list the latest events: %s", error->message);
      return;
    }

  now = g_date_time_new_now_local ();
  clear_latest (self);
  for (guint i = 0; i < events->len && i < N_LATEST; i++)
    gtk_list_box_append (self->latest_list, create_event_row (g_ptr_array_index (events, i), now));
  gtk_widget_set_visible (self->latest_empty_row, events->len == 0);
}

static void
category_counts_cb (GObject      *object,
                    GAsyncResult *result,
                    gpointer      user_data)
{
  MoatOverviewPage *self;
  g_autoptr(GHashTable) counts = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *total = NULL;

  counts = moat_client_category_counts_finish (MOAT_CLIENT (object), result, &error);
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;

  self = MOAT_OVERVIEW_PAGE (user_data);
  if (error != NULL)
    g_debug ("Could not count today's blocks: %s", error->message);

  moat_category_chart_set_counts (self->chart, counts);
  total = g_strdup_printf ("%" G_GUINT64_FORMAT, moat_category_chart_get_total (self->chart));
  gtk_label_set_text (self->blocked_total_label, total);
}

static gint64
get_local_midnight (void)
{
  g_autoptr(GDateTime) now = g_date_time_new_now_local ();
  g_autoptr(GDateTime) midnight = g_date_time_new_local (g_date_time_get_year (now),
                                                         g_date_time_get_month (now),
                                                         g_date_time_get_day_of_month (now),
                                                         0, 0, 0);

  return g_date_time_to_unix (midnight) * G_USEC_PER_SEC;
}

static void
refresh (MoatOverviewPage *self)
{
  g_clear_handle_id (&self->refresh_id, g_source_remove);
  self->last_refresh = g_get_monotonic_time ();

  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);

  if (self->client == NULL || !moat_client_get_engine_running (self->client))
    return;

  self->cancellable = g_cancellable_new ();
  schedule_midnight_refresh (self);
  moat_client_category_counts_async (self->client, get_local_midnight (), 0, "blocked",
                                     self->cancellable, category_counts_cb, self);
  moat_client_list_events_async (self->client, NULL, 0, N_LATEST,
                                 self->cancellable, list_events_cb, self);
}

static gboolean
midnight_cb (gpointer user_data)
{
  MoatOverviewPage *self = user_data;

  /* "Blocked today" starts again from zero. */
  self->midnight_id = 0;
  refresh (self);

  return G_SOURCE_REMOVE;
}

static void
schedule_midnight_refresh (MoatOverviewPage *self)
{
  gint64 next_midnight = get_local_midnight () + G_TIME_SPAN_DAY;
  gint64 now = g_get_real_time ();
  guint seconds = (guint) MAX ((next_midnight - now) / G_USEC_PER_SEC + 1, 1);

  g_clear_handle_id (&self->midnight_id, g_source_remove);
  self->midnight_id = g_timeout_add_seconds (seconds, midnight_cb, self);
}

static gboolean
refresh_timeout_cb (gpointer user_data)
{
  MoatOverviewPage *self = user_data;

  self->refresh_id = 0;
  refresh (self);

  return G_SOURCE_REMOVE;
}

static void
queue_refresh (MoatOverviewPage *self)
{
  gint64 since_last_ms = (g_get_monotonic_time () - self->last_refresh) / 1000;

  if (self->refresh_id != 0)
    return;

  if (since_last_ms >= REFRESH_INTERVAL_MS)
    refresh (self);
  else
    self->refresh_id = g_timeout_add ((guint) (REFRESH_INTERVAL_MS - since_last_ms),
                                      refresh_timeout_cb, self);
}

static void
on_client_events_added_cb (MoatClient       *client,
                           GPtrArray        *events,
                           MoatOverviewPage *self)
{
  queue_refresh (self);
}

static void
on_client_notify_status_cb (MoatClient       *client,
                            GParamSpec       *pspec,
                            MoatOverviewPage *self)
{
  update_status (self);
}

static void
on_client_notify_protect_computer_cb (MoatClient       *client,
                                      GParamSpec       *pspec,
                                      MoatOverviewPage *self)
{
  if (self->protect_cancellable == NULL)
    update_protect_switch (self);
}

static void
on_client_notify_engine_running_cb (MoatClient       *client,
                                    GParamSpec       *pspec,
                                    MoatOverviewPage *self)
{
  update_status (self);
  update_protect_switch (self);
  refresh (self);
}

static void
moat_overview_page_dispose (GObject *object)
{
  MoatOverviewPage *self = MOAT_OVERVIEW_PAGE (object);
  GtkWidget *child;

  g_clear_handle_id (&self->refresh_id, g_source_remove);
  g_clear_handle_id (&self->midnight_id, g_source_remove);
  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  g_cancellable_cancel (self->protect_cancellable);
  g_clear_object (&self->protect_cancellable);
  g_clear_object (&self->client);
  gtk_widget_dispose_template (GTK_WIDGET (self), MOAT_TYPE_OVERVIEW_PAGE);
  /* Template children without an id are ours to unparent. */
  while ((child = gtk_widget_get_first_child (GTK_WIDGET (self))) != NULL)
    gtk_widget_unparent (child);

  G_OBJECT_CLASS (moat_overview_page_parent_class)->dispose (object);
}

static void
moat_overview_page_class_init (MoatOverviewPageClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = moat_overview_page_dispose;

  /**
   * MoatOverviewPage::show-event:
   * @event: a MoatEvent of the latest events
   *
   * The user activated one of the latest events to see its details.
   */
  signals[SIGNAL_SHOW_EVENT] =
    g_signal_new ("show-event", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 1, MOAT_TYPE_EVENT);

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/io/github/moatproject/Moat/moat-overview-page.ui");
  gtk_widget_class_bind_template_child (widget_class, MoatOverviewPage, status_icon);
  gtk_widget_class_bind_template_child (widget_class, MoatOverviewPage, status_label);
  gtk_widget_class_bind_template_child (widget_class, MoatOverviewPage, summary_label);
  gtk_widget_class_bind_template_child (widget_class, MoatOverviewPage, risk_label);
  gtk_widget_class_bind_template_child (widget_class, MoatOverviewPage, protect_row);
  gtk_widget_class_bind_template_child (widget_class, MoatOverviewPage, health_row);
  gtk_widget_class_bind_template_child (widget_class, MoatOverviewPage, health_icon);
  gtk_widget_class_bind_template_child (widget_class, MoatOverviewPage, health_level_label);
  gtk_widget_class_bind_template_child (widget_class, MoatOverviewPage, protect_switch);
  gtk_widget_class_bind_template_child (widget_class, MoatOverviewPage, chart);
  gtk_widget_class_bind_template_child (widget_class, MoatOverviewPage, blocked_total_label);
  gtk_widget_class_bind_template_child (widget_class, MoatOverviewPage, latest_list);
  gtk_widget_class_bind_template_child (widget_class, MoatOverviewPage, latest_empty_row);

  gtk_widget_class_bind_template_callback (widget_class, on_protect_switch_notify_active_cb);
  gtk_widget_class_bind_template_callback (widget_class, on_latest_list_row_activated_cb);

  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BIN_LAYOUT);
}

static void
moat_overview_page_init (MoatOverviewPage *self)
{
  g_type_ensure (MOAT_TYPE_CATEGORY_CHART);
  gtk_widget_init_template (GTK_WIDGET (self));
  update_status (self);
  update_protect_switch (self);
}

void
moat_overview_page_set_client (MoatOverviewPage *self,
                               MoatClient       *client)
{
  g_return_if_fail (MOAT_IS_OVERVIEW_PAGE (self));
  g_return_if_fail (MOAT_IS_CLIENT (client));
  g_return_if_fail (self->client == NULL);

  self->client = g_object_ref (client);
  g_signal_connect_object (client, "notify::engine-running",
                           G_CALLBACK (on_client_notify_engine_running_cb), self, 0);
  g_signal_connect_object (client, "notify::protection-state",
                           G_CALLBACK (on_client_notify_status_cb), self, 0);
  g_signal_connect_object (client, "notify::protection-summary",
                           G_CALLBACK (on_client_notify_status_cb), self, 0);
  g_signal_connect_object (client, "notify::risk-level",
                           G_CALLBACK (on_client_notify_status_cb), self, 0);
  g_signal_connect_object (client, "notify::protect-computer",
                           G_CALLBACK (on_client_notify_protect_computer_cb), self, 0);
  g_signal_connect_object (client, "events-added",
                           G_CALLBACK (on_client_events_added_cb), self, 0);

  update_status (self);
  update_protect_switch (self);
  refresh (self);
}

/**
 * moat_overview_page_set_health:
 * @level: moatd's health level, 0 to 4, or -1 while it is not known
 * @summary: (nullable): the sentence that explains it
 *
 * Shows the health level in a row that leads to the Health page.
 */
void
moat_overview_page_set_health (MoatOverviewPage *self,
                               int               level,
                               const char       *summary)
{
  const char *style;
  g_autofree char *text = NULL;

  g_return_if_fail (MOAT_IS_OVERVIEW_PAGE (self));

  gtk_widget_set_visible (GTK_WIDGET (self->health_row), level >= 0);
  if (level < 0)
    return;

  style = level >= 4 ? "success" : level >= 2 ? "warning" : "error";
  gtk_widget_remove_css_class (GTK_WIDGET (self->health_level_label), "success");
  gtk_widget_remove_css_class (GTK_WIDGET (self->health_level_label), "warning");
  gtk_widget_remove_css_class (GTK_WIDGET (self->health_level_label), "error");
  gtk_widget_add_css_class (GTK_WIDGET (self->health_level_label), style);
  gtk_widget_remove_css_class (GTK_WIDGET (self->health_icon), "success");
  gtk_widget_remove_css_class (GTK_WIDGET (self->health_icon), "warning");
  gtk_widget_remove_css_class (GTK_WIDGET (self->health_icon), "error");
  gtk_widget_add_css_class (GTK_WIDGET (self->health_icon), style);
  gtk_image_set_from_icon_name (self->health_icon,
                                level >= 4 ? "emblem-ok-symbolic" : "dialog-warning-symbolic");

  /* Translators: the health level on the Overview, 0 to 4: "Level 2 of 4" */
  text = g_strdup_printf (_("Level %d of 4"), level);
  gtk_label_set_text (self->health_level_label, text);
  adw_action_row_set_subtitle (self->health_row, summary != NULL ? summary : "");
}
