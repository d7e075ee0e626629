/* SPDX-License-Identifier: GPL-3.0-or-later
 * Copyright 2026 The Moat developers
 */
#define G_LOG_DOMAIN "moat-app"

#include "config.h"

#include "moat-preferences-window.h"

#include <glib/gi18n.h>
#include <libsecret/secret.h>

/*
 * MoatPreferencesWindow: the GSettings that moatd reads, bound with
 * g_settings_bind so every change is live and there is nothing to save.
 * The mail server's password is the exception: it goes to the keyring
 * (libsecret, the schema moatd's SMTP client looks it up with), stored when
 * the user applies it, and never shown again.
 */

/* Order of the rows of notify_severity_row, as the schema's enum nicks. */
static const char *severity_nicks[] = { "info", "low", "medium", "high", "critical", NULL };
/* Order of the rows of email_security_row, as the schema's enum nicks. */
static const char *security_nicks[] = { "starttls", "tls", "none", NULL };

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
  AdwEntryRow          *email_to_row;
  GtkWidget            *server_group;
  AdwEntryRow          *email_server_row;
  GtkSpinButton        *email_port_spin;
  AdwComboRow          *email_security_row;
  AdwEntryRow          *email_username_row;
  AdwEntryRow          *email_password_row;
  AdwEntryRow          *email_from_row;
  GCancellable         *cancellable;
};

G_DEFINE_FINAL_TYPE (MoatPreferencesWindow, moat_preferences_window, ADW_TYPE_PREFERENCES_WINDOW)

static gboolean
nick_get_mapping (GValue   *value,
                  GVariant *variant,
                  gpointer  user_data)
{
  const char * const *nicks = user_data;
  const char *nick = g_variant_get_string (variant, NULL);

  for (guint i = 0; nicks[i] != NULL; i++)
    {
      if (g_strcmp0 (nick, nicks[i]) == 0)
        {
          g_value_set_uint (value, i);
          return TRUE;
        }
    }

  return FALSE;
}

static GVariant *
nick_set_mapping (const GValue       *value,
                  const GVariantType *expected_type,
                  gpointer            user_data)
{
  const char * const *nicks = user_data;
  guint i = g_value_get_uint (value);

  for (guint n = 0; n <= i; n++)
    if (nicks[n] == NULL)
      return NULL;

  return g_variant_new_string (nicks[i]);
}

/* The same schema as moatd's SMTP client (src/health/moat-smtp.c). */
static const SecretSchema *
smtp_secret_schema (void)
{
  static const SecretSchema schema = {
    "io.github.moatproject.Moat.Smtp", SECRET_SCHEMA_NONE,
    {
      { "server", SECRET_SCHEMA_ATTRIBUTE_STRING },
      { "username", SECRET_SCHEMA_ATTRIBUTE_STRING },
      { NULL, 0 },
    },
    0, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
  };

  return &schema;
}

static void
password_stored_cb (GObject      *object,
                    GAsyncResult *result,
                    gpointer      user_data)
{
  MoatPreferencesWindow *self;
  g_autoptr(GError) error = NULL;

  secret_password_store_finish (result, &error);
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;

  self = MOAT_PREFERENCES_WINDOW (user_data);
  if (error != NULL)
    {
      /* Translators: %s is the reason */
      g_autofree char *text = g_strdup_printf (_("Could not keep the password: %s"),
                                               error->message);

      g_warning ("Could not store the mail server's password: %s", error->message);
      adw_preferences_window_add_toast (ADW_PREFERENCES_WINDOW (self), adw_toast_new (text));
      return;
    }
  gtk_editable_set_text (GTK_EDITABLE (self->email_password_row), "");
  adw_preferences_window_add_toast (ADW_PREFERENCES_WINDOW (self),
                                    adw_toast_new (_("The password is in the keyring")));
}

static void
on_email_password_row_apply_cb (AdwEntryRow           *row,
                                MoatPreferencesWindow *self)
{
  g_autofree char *server = g_settings_get_string (self->settings, "email-server");
  g_autofree char *username = g_settings_get_string (self->settings, "email-username");
  const char *password = gtk_editable_get_text (GTK_EDITABLE (row));
  g_autofree char *label = NULL;

  if (server[0] == '\0' || username[0] == '\0')
    {
      adw_preferences_window_add_toast (ADW_PREFERENCES_WINDOW (self),
                                        adw_toast_new (_("Enter the server and the user name first")));
      return;
    }

  /* Translators: the keyring's name for the password; %s is user@server */
  label = g_strdup_printf (_("Moat email alerts (%s@%s)"), username, server);
  secret_password_store (smtp_secret_schema (), SECRET_COLLECTION_DEFAULT, label, password,
                         self->cancellable, password_stored_cb, self,
                         "server", server, "username", username, NULL);
}

static void
moat_preferences_window_dispose (GObject *object)
{
  MoatPreferencesWindow *self = MOAT_PREFERENCES_WINDOW (object);

  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
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
  gtk_widget_class_bind_template_child (widget_class, MoatPreferencesWindow, email_to_row);
  gtk_widget_class_bind_template_child (widget_class, MoatPreferencesWindow, server_group);
  gtk_widget_class_bind_template_child (widget_class, MoatPreferencesWindow, email_server_row);
  gtk_widget_class_bind_template_child (widget_class, MoatPreferencesWindow, email_port_spin);
  gtk_widget_class_bind_template_child (widget_class, MoatPreferencesWindow, email_security_row);
  gtk_widget_class_bind_template_child (widget_class, MoatPreferencesWindow, email_username_row);
  gtk_widget_class_bind_template_child (widget_class, MoatPreferencesWindow, email_password_row);
  gtk_widget_class_bind_template_child (widget_class, MoatPreferencesWindow, email_from_row);
  gtk_widget_class_bind_template_callback (widget_class, on_email_password_row_apply_cb);
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
                                nick_get_mapping, nick_set_mapping,
                                (gpointer) severity_nicks, NULL);
  g_settings_bind (self->settings, "notification-group-seconds",
                   self->group_seconds_spin, "value", G_SETTINGS_BIND_DEFAULT);

  /* The notification details mean nothing while notifications are off. */
  g_settings_bind (self->settings, "notifications-enabled",
                   self->notify_severity_row, "sensitive", G_SETTINGS_BIND_GET);
  g_settings_bind (self->settings, "notifications-enabled",
                   self->group_seconds_row, "sensitive", G_SETTINGS_BIND_GET);

  self->cancellable = g_cancellable_new ();
  g_settings_bind (self->settings, "email-to", self->email_to_row, "text",
                   G_SETTINGS_BIND_DEFAULT);
  g_settings_bind (self->settings, "email-server", self->email_server_row, "text",
                   G_SETTINGS_BIND_DEFAULT);
  g_settings_bind (self->settings, "email-port", self->email_port_spin, "value",
                   G_SETTINGS_BIND_DEFAULT);
  g_settings_bind_with_mapping (self->settings, "email-security",
                                self->email_security_row, "selected", G_SETTINGS_BIND_DEFAULT,
                                nick_get_mapping, nick_set_mapping,
                                (gpointer) security_nicks, NULL);
  g_settings_bind (self->settings, "email-username", self->email_username_row, "text",
                   G_SETTINGS_BIND_DEFAULT);
  g_settings_bind (self->settings, "email-from", self->email_from_row, "text",
                   G_SETTINGS_BIND_DEFAULT);
}

GtkWidget *
moat_preferences_window_new (GtkWindow *parent)
{
  return g_object_new (MOAT_TYPE_PREFERENCES_WINDOW,
                       "transient-for", parent,
                       "modal", parent != NULL,
                       NULL);
}
