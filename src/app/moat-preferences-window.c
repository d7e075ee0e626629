/* SPDX-License-Identifier: GPL-3.0-or-later
 * Copyright 2026 The Moat developers
 */
#define G_LOG_DOMAIN "moat-app"

#include "config.h"

#include "moat-preferences-window.h"

#include <glib/gi18n.h>

/*
 * MoatPreferencesWindow: the GSettings that moatd reads, bound with
 * g_settings_bind so every change is live and there is nothing to save.
 */

/* Order of the rows of notify_severity_row, as the schema's enum nicks. */
static const char *severity_nicks[] = { "info", "low", "medium", "high", "critical" };

struct _MoatPreferencesWindow {
  AdwPreferencesWindow  parent_instance;

  /* owned */
  GSettings            *settings;

  /* template children */
  GtkSpinButton        *retention_days_spin;
  GtkSpinButton        *max_events_spin;
  GtkSwitch            *notifications_switch;
  AdwComboRow          *notify_severity_row;
  GtkSpinButton        *group_seconds_spin;
  GtkWidget            *group_seconds_row;
};

G_DEFINE_FINAL_TYPE (MoatPreferencesWindow, moat_preferences_window, ADW_TYPE_PREFERENCES_WINDOW)

static gboolean
severity_get_mapping (GValue   *value,
                      GVariant *variant,
                      gpointer  user_data)
{
  const char *nick = g_variant_get_string (variant, NULL);

  for (guint i = 0; i < G_N_ELEMENTS (severity_nicks); i++)
    {
      if (g_strcmp0 (nick, severity_nicks[i]) == 0)
        {
          g_value_set_uint (value, i);
          return TRUE;
        }
    }

  return FALSE;
}

static GVariant *
severity_set_mapping (const GValue       *value,
                      const GVariantType *expected_type,
                      gpointer            user_data)
{
  guint i = g_value_get_uint (value);

  if (i >= G_N_ELEMENTS (severity_nicks))
    return NULL;

  return g_variant_new_string (severity_nicks[i]);
}

static void
moat_preferences_window_dispose (GObject *object)
{
  MoatPreferencesWindow *self = MOAT_PREFERENCES_WINDOW (object);

  g_clear_object (&self->settings);
  gtk_widget_dispose_template (GTK_WIDGET (self), MOAT_TYPE_PREFERENCES_WINDOW);

  G_OBJECT_CLASS (moat_preferences_window_parent_class)->dispose (object);
}

static void
moat_preferences_window_class_init (MoatPreferencesWindowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = moat_preferences_window_dispose;

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/io/github/moatproject/Moat/moat-preferences-window.ui");
  gtk_widget_class_bind_template_child (widget_class, MoatPreferencesWindow, retention_days_spin);
  gtk_widget_class_bind_template_child (widget_class, MoatPreferencesWindow, max_events_spin);
  gtk_widget_class_bind_template_child (widget_class, MoatPreferencesWindow, notifications_switch);
  gtk_widget_class_bind_template_child (widget_class, MoatPreferencesWindow, notify_severity_row);
  gtk_widget_class_bind_template_child (widget_class, MoatPreferencesWindow, group_seconds_spin);
  gtk_widget_class_bind_template_child (widget_class, MoatPreferencesWindow, group_seconds_row);
}

static void
moat_preferences_window_init (MoatPreferencesWindow *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));

  self->settings = g_settings_new (APP_ID);
  g_settings_bind (self->settings, "retention-days",
                   self->retention_days_spin, "value", G_SETTINGS_BIND_DEFAULT);
  g_settings_bind (self->settings, "retention-max-events",
                   self->max_events_spin, "value", G_SETTINGS_BIND_DEFAULT);
  g_settings_bind (self->settings, "notifications-enabled",
                   self->notifications_switch, "active", G_SETTINGS_BIND_DEFAULT);
  g_settings_bind_with_mapping (self->settings, "notify-min-severity",
                                self->notify_severity_row, "selected", G_SETTINGS_BIND_DEFAULT,
                                severity_get_mapping, severity_set_mapping, NULL, NULL);
  g_settings_bind (self->settings, "notification-group-seconds",
                   self->group_seconds_spin, "value", G_SETTINGS_BIND_DEFAULT);

  /* The notification details mean nothing while notifications are off. */
  g_settings_bind (self->settings, "notifications-enabled",
                   self->notify_severity_row, "sensitive", G_SETTINGS_BIND_GET);
  g_settings_bind (self->settings, "notifications-enabled",
                   self->group_seconds_row, "sensitive", G_SETTINGS_BIND_GET);
}

GtkWidget *
moat_preferences_window_new (GtkWindow *parent)
{
  return g_object_new (MOAT_TYPE_PREFERENCES_WINDOW,
                       "transient-for", parent,
                       "modal", parent != NULL,
                       NULL);
}
