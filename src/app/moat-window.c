/* SPDX-License-Identifier: GPL-3.0-or-later
 * Copyright 2026 The Moat developers
 */
#define G_LOG_DOMAIN "moat-app"

#include "config.h"

#include "moat-window.h"

#include "moat-export-dialog.h"

#include "moat-activity-page.h"
#include "moat-debug.h"
#include "moat-devices-page.h"
#include "moat-health-page.h"
#include "moat-lists-page.h"
#include "moat-overview-page.h"
#include "moat-threats-page.h"

#include <glib/gi18n.h>

/*
 * MoatWindow: the header bar with the view switcher, the Overview, Threats,
 * Devices, Health, Activity and Lists pages, and the states around them: connecting, engine not running, store
 * problems. Closing it does not stop protection: moatd is its own process.
 */

struct _MoatWindow {
  AdwApplicationWindow  parent_instance;

  /* owned */
  MoatClient           *client;
  GSettings            *settings;
  GCancellable         *cancellable;
  gboolean              starting_engine;

  /* template children */
  AdwToastOverlay      *toast_overlay;
  GtkStack             *main_stack;
  AdwViewSwitcherTitle *switcher_title;
  AdwViewSwitcherBar   *switcher_bar;
  AdwViewStack         *view_stack;
  MoatOverviewPage     *overview_page;
  MoatThreatsPage      *threats_page;
  MoatDevicesPage      *devices_page;
  MoatHealthPage       *health_page;
  MoatActivityPage     *activity_page;
  MoatListsPage        *lists_page;
  AdwStatusPage        *engine_page;
  GtkButton            *start_engine_button;
  AdwStatusPage        *no_bus_page;
  GtkRevealer          *store_revealer;
  GtkWidget            *store_banner;
  GtkLabel             *store_label;
};

G_DEFINE_FINAL_TYPE (MoatWindow, moat_window, ADW_TYPE_APPLICATION_WINDOW)

static void
show_main_page (MoatWindow *self,
                const char *name)
{
  gboolean content = g_strcmp0 (name, "content") == 0;

  gtk_stack_set_visible_child_name (self->main_stack, name);
  /* Without the pages there is nothing to switch between. */
  adw_view_switcher_title_set_view_switcher_enabled (self->switcher_title, content);
  gtk_widget_set_visible (GTK_WIDGET (self->switcher_bar), content);
}

static void
update_engine_state (MoatWindow *self)
{
  gboolean running = self->client != NULL && moat_client_get_engine_running (self->client);

  if (self->client == NULL)
    return;

  show_main_page (self, running ? "content" : "engine");
  gtk_widget_set_sensitive (GTK_WIDGET (self->start_engine_button), !self->starting_engine);
  gtk_button_set_label (self->start_engine_button,
                        self->starting_engine ? _("Starting…") : _("Start Engine"));
}

static void
update_store_state (MoatWindow *self)
{
  MoatStoreState state = MOAT_STORE_STATE_OK;
  const char *message = NULL;
  gboolean show;

  if (self->client != NULL && moat_client_get_engine_running (self->client))
    {
      state = moat_client_get_store_state (self->client);
      message = moat_client_get_store_message (self->client);
    }

  show = (message != NULL && message[0] != '\0') ||
         state == MOAT_STORE_STATE_DISK_FULL || state == MOAT_STORE_STATE_ERROR;

  if (message == NULL || message[0] == '\0')
    {
      if (state == MOAT_STORE_STATE_DISK_FULL)
        message = _("The disk is full. Moat keeps protecting and saves new events when space returns.");
      else if (state == MOAT_STORE_STATE_ERROR)
        message = _("Moat cannot save events. It keeps protecting this computer.");
    }

  if (state == MOAT_STORE_STATE_ERROR)
    gtk_widget_add_css_class (self->store_banner, "error");
  else
    gtk_widget_remove_css_class (self->store_banner, "error");

  if (show)
    gtk_label_set_text (self->store_label, message);
  gtk_revealer_set_reveal_child (self->store_revealer, show);
}

static void
on_client_notify_engine_running_cb (MoatClient *client,
                                    GParamSpec *pspec,
                                    MoatWindow *self)
{
  update_engine_state (self);
  update_store_state (self);
}

static void
on_client_notify_store_cb (MoatClient *client,
                           GParamSpec *pspec,
                           MoatWindow *self)
{
  update_store_state (self);
}

static void
start_engine_cb (GObject      *object,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  MoatWindow *self;
  g_autoptr(GError) error = NULL;

  moat_client_start_engine_finish (MOAT_CLIENT (object), result, &error);
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;

  self = MOAT_WINDOW (user_data);
  self->starting_engine = FALSE;
  if (error != NULL)
    {
      g_autofree char *text = NULL;

      g_warning ("Could not start moatd: %s", error->message);
      /* Translators: %s is the reason */
      text = g_strdup_printf (_("Could not start the engine: %s"), error->message);
      adw_toast_overlay_add_toast (self->toast_overlay, adw_toast_new (text));
    }
  update_engine_state (self);
}

static void
start_engine_action (GtkWidget  *widget,
                     const char *action_name,
                     GVariant   *parameter)
{
  MoatWindow *self = MOAT_WINDOW (widget);

  if (self->client == NULL || self->starting_engine)
    return;

  self->starting_engine = TRUE;
  update_engine_state (self);
  moat_client_start_engine_async (self->client, self->cancellable, start_engine_cb, self);
}

static void
search_action (GtkWidget  *widget,
               const char *action_name,
               GVariant   *parameter)
{
  MoatWindow *self = MOAT_WINDOW (widget);

  moat_window_show_activity (self);
  moat_activity_page_focus_search (self->activity_page);
}

static void
on_report_exported_cb (MoatExportDialog *dialog,
                       const char       *path,
                       MoatWindow       *self)
{
  g_autofree char *name = g_path_get_basename (path);
  g_autofree char *text = g_strdup_printf (_("Exported the report to “%s”"), name);

  adw_toast_overlay_add_toast (self->toast_overlay, adw_toast_new (text));
}

static void
export_report_action (GtkWidget  *widget,
                      const char *action_name,
                      GVariant   *parameter)
{
  MoatWindow *self = MOAT_WINDOW (widget);
  MoatExportDialog *dialog;

  if (self->client == NULL)
    return;
  dialog = moat_export_dialog_new (GTK_WINDOW (self), self->client);
  g_signal_connect_object (dialog, "exported", G_CALLBACK (on_report_exported_cb), self, 0);
  gtk_window_present (GTK_WINDOW (dialog));
}

static void
show_health_action (GtkWidget  *widget,
                    const char *action_name,
                    GVariant   *parameter)
{
  MoatWindow *self = MOAT_WINDOW (widget);

  adw_view_stack_set_visible_child_name (self->view_stack, "health");
}

static void
on_health_page_notify_level_cb (MoatHealthPage *page,
                                GParamSpec     *pspec,
                                MoatWindow     *self)
{
  moat_overview_page_set_health (self->overview_page,
                                 moat_health_page_get_level (page),
                                 moat_health_page_get_summary (page));
}

static void
on_overview_show_event_cb (MoatOverviewPage *page,
                           MoatEvent        *event,
                           MoatWindow       *self)
{
  moat_window_show_activity (self);
  moat_activity_page_show_event (self->activity_page, event);
}

static gboolean
moat_window_close_request (GtkWindow *window)
{
  MoatWindow *self = MOAT_WINDOW (window);
  int width, height;

  gtk_window_get_default_size (window, &width, &height);
  g_settings_delay (self->settings);
  g_settings_set_boolean (self->settings, "window-maximized", gtk_window_is_maximized (window));
  if (!gtk_window_is_maximized (window))
    {
      g_settings_set_int (self->settings, "window-width", width);
      g_settings_set_int (self->settings, "window-height", height);
    }
  g_settings_apply (self->settings);

  return GTK_WINDOW_CLASS (moat_window_parent_class)->close_request (window);
}

static void
moat_window_dispose (GObject *object)
{
  MoatWindow *self = MOAT_WINDOW (object);

  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  g_clear_object (&self->client);
  g_clear_object (&self->settings);
  gtk_widget_dispose_template (GTK_WIDGET (self), MOAT_TYPE_WINDOW);

  G_OBJECT_CLASS (moat_window_parent_class)->dispose (object);
}

static void
moat_window_class_init (MoatWindowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);
  GtkWindowClass *window_class = GTK_WINDOW_CLASS (klass);

  object_class->dispose = moat_window_dispose;
  window_class->close_request = moat_window_close_request;

  g_type_ensure (MOAT_TYPE_OVERVIEW_PAGE);
  g_type_ensure (MOAT_TYPE_THREATS_PAGE);
  g_type_ensure (MOAT_TYPE_DEVICES_PAGE);
  g_type_ensure (MOAT_TYPE_HEALTH_PAGE);
  g_type_ensure (MOAT_TYPE_ACTIVITY_PAGE);
  g_type_ensure (MOAT_TYPE_LISTS_PAGE);

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/io/github/moatproject/Moat/moat-window.ui");
  gtk_widget_class_bind_template_child (widget_class, MoatWindow, toast_overlay);
  gtk_widget_class_bind_template_child (widget_class, MoatWindow, main_stack);
  gtk_widget_class_bind_template_child (widget_class, MoatWindow, switcher_title);
  gtk_widget_class_bind_template_child (widget_class, MoatWindow, switcher_bar);
  gtk_widget_class_bind_template_child (widget_class, MoatWindow, view_stack);
  gtk_widget_class_bind_template_child (widget_class, MoatWindow, overview_page);
  gtk_widget_class_bind_template_child (widget_class, MoatWindow, threats_page);
  gtk_widget_class_bind_template_child (widget_class, MoatWindow, devices_page);
  gtk_widget_class_bind_template_child (widget_class, MoatWindow, health_page);
  gtk_widget_class_bind_template_child (widget_class, MoatWindow, activity_page);
  gtk_widget_class_bind_template_child (widget_class, MoatWindow, lists_page);
  gtk_widget_class_bind_template_child (widget_class, MoatWindow, engine_page);
  gtk_widget_class_bind_template_child (widget_class, MoatWindow, start_engine_button);
  gtk_widget_class_bind_template_child (widget_class, MoatWindow, no_bus_page);
  gtk_widget_class_bind_template_child (widget_class, MoatWindow, store_revealer);
  gtk_widget_class_bind_template_child (widget_class, MoatWindow, store_banner);
  gtk_widget_class_bind_template_child (widget_class, MoatWindow, store_label);

  gtk_widget_class_install_action (widget_class, "win.start-engine", NULL, start_engine_action);
  gtk_widget_class_install_action (widget_class, "win.search", NULL, search_action);
  gtk_widget_class_install_action (widget_class, "win.show-health", NULL, show_health_action);
  gtk_widget_class_install_action (widget_class, "win.export-report", NULL, export_report_action);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_f, GDK_CONTROL_MASK,
                                       "win.search", NULL);
}

static void
moat_window_init (MoatWindow *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));

  self->cancellable = g_cancellable_new ();
  self->settings = g_settings_new (APP_ID);
  gtk_window_set_default_size (GTK_WINDOW (self),
                               g_settings_get_int (self->settings, "window-width"),
                               g_settings_get_int (self->settings, "window-height"));
  if (g_settings_get_boolean (self->settings, "window-maximized"))
    gtk_window_maximize (GTK_WINDOW (self));

  show_main_page (self, "connecting");
  moat_debug_watch_window (GTK_WINDOW (self));
}

MoatWindow *
moat_window_new (GtkApplication *application)
{
  return g_object_new (MOAT_TYPE_WINDOW, "application", application, NULL);
}

/**
 * moat_window_set_client:
 *
 * Hands the window its connection to moatd once it exists. Until then the
 * window shows that it is connecting.
 */
void
moat_window_set_client (MoatWindow *self,
                        MoatClient *client)
{
  g_return_if_fail (MOAT_IS_WINDOW (self));
  g_return_if_fail (MOAT_IS_CLIENT (client));

  if (self->client != NULL)
    return;

  self->client = g_object_ref (client);
  g_signal_connect_object (client, "notify::engine-running",
                           G_CALLBACK (on_client_notify_engine_running_cb), self, 0);
  g_signal_connect_object (client, "notify::store-state",
                           G_CALLBACK (on_client_notify_store_cb), self, 0);
  g_signal_connect_object (client, "notify::store-message",
                           G_CALLBACK (on_client_notify_store_cb), self, 0);

  moat_overview_page_set_client (self->overview_page, client);
  g_signal_connect_object (self->overview_page, "show-event",
                           G_CALLBACK (on_overview_show_event_cb), self, 0);
  moat_threats_page_set_client (self->threats_page, client);
  moat_devices_page_set_client (self->devices_page, client);
  g_signal_connect_object (self->health_page, "notify::level",
                           G_CALLBACK (on_health_page_notify_level_cb), self, 0);
  g_signal_connect_object (self->health_page, "notify::summary",
                           G_CALLBACK (on_health_page_notify_level_cb), self, 0);
  moat_health_page_set_client (self->health_page, client);
  moat_activity_page_set_client (self->activity_page, client);
  moat_lists_page_set_client (self->lists_page, client);

  update_engine_state (self);
  update_store_state (self);
}

/* Shown when there is no session bus at all: nothing to connect to. */
void
moat_window_set_client_error (MoatWindow   *self,
                              const GError *error)
{
  g_return_if_fail (MOAT_IS_WINDOW (self));

  adw_status_page_set_description (self->no_bus_page, error->message);
  show_main_page (self, "no-bus");
}

void
moat_window_show_activity (MoatWindow *self)
{
  g_return_if_fail (MOAT_IS_WINDOW (self));

  adw_view_stack_set_visible_child_name (self->view_stack, "activity");
}

void
moat_window_show_overview (MoatWindow *self)
{
  g_return_if_fail (MOAT_IS_WINDOW (self));

  adw_view_stack_set_visible_child_name (self->view_stack, "overview");
}
