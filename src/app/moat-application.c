/* SPDX-License-Identifier: GPL-3.0-or-later
 * Copyright 2026 The Moat developers
 */
#define G_LOG_DOMAIN "moat-app"

#include "config.h"

#include "moat-application.h"

#include "moat-client.h"
#include "moat-debug.h"
#include "moat-preferences-window.h"
#include "moat-window.h"

#include <glib/gi18n.h>

/*
 * MoatApplication: moatd owns the bus name APP_ID, so the GUI cannot let
 * GApplication register it (G_APPLICATION_NON_UNIQUE). It keeps a single
 * instance itself: it owns MOAT_APP_BUS_NAME and exports its actions at
 * MOAT_APP_OBJECT_PATH (moatd's notifications activate app.show-activity
 * there); a second `moat` finds the name taken, asks the first one to present
 * itself through org.gtk.Actions.Activate, and quits.
 */

typedef enum {
  NAME_PENDING,
  NAME_OWNED,    /* we are the instance (or there is no bus to ask) */
  NAME_TAKEN,    /* another instance runs: forward and quit */
} NameState;

struct _MoatApplication {
  AdwApplication   parent_instance;

  /* owned */
  MoatClient      *client;
  GError          *client_error;
  GCancellable    *cancellable;
  GDBusConnection *connection;
  guint            own_id;
  guint            export_id;
  NameState        name_state;
  gboolean         activate_pending;
  gboolean         want_activity;
};

G_DEFINE_FINAL_TYPE (MoatApplication, moat_application, ADW_TYPE_APPLICATION)

static const GOptionEntry option_entries[] = {
  { "activity", 0, 0, G_OPTION_ARG_NONE, NULL, N_("Open the Activity page"), NULL },
  { "version", 0, 0, G_OPTION_ARG_NONE, NULL, N_("Print the version and exit"), NULL },
  { NULL }
};

static MoatWindow *
get_window (MoatApplication *self)
{
  /* Most recently focused first. */
  for (GList *l = gtk_application_get_windows (GTK_APPLICATION (self)); l != NULL; l = l->next)
    {
      if (MOAT_IS_WINDOW (l->data))
        return MOAT_WINDOW (l->data);
    }

  return NULL;
}

static MoatWindow *
ensure_window (MoatApplication *self)
{
  MoatWindow *window = get_window (self);

  if (window != NULL)
    return window;

  window = moat_window_new (GTK_APPLICATION (self));
  if (self->client != NULL)
    moat_window_set_client (window, self->client);
  else if (self->client_error != NULL)
    moat_window_set_client_error (window, self->client_error);

  return window;
}

static gboolean
present_new_window_cb (gpointer user_data)
{
  GtkWindow *window = user_data;

  /* Unless it was closed in between. */
  if (gtk_window_get_application (window) != NULL)
    gtk_window_present (window);
  return G_SOURCE_REMOVE;
}

static void
present_window (MoatApplication *self,
                gboolean         activity)
{
  gboolean is_new = get_window (self) == NULL;
  MoatWindow *window = ensure_window (self);

  if (activity)
    moat_window_show_activity (window);
  if (!is_new)
    {
      gtk_window_present (GTK_WINDOW (window));
      return;
    }
  /* Building a window from its templates and showing it for the first time
   * (icon theme, fonts, the first measure) together block the main loop for
   * 50-60 ms; in two turns of the loop neither half does. */
  g_idle_add_full (G_PRIORITY_DEFAULT, present_new_window_cb, g_object_ref (window),
                   g_object_unref);
}

static void
remote_activate_cb (GObject      *object,
                    GAsyncResult *result,
                    gpointer      user_data)
{
  g_autoptr(MoatApplication) self = user_data;
  g_autoptr(GVariant) reply = NULL;
  g_autoptr(GError) error = NULL;

  reply = g_dbus_connection_call_finish (G_DBUS_CONNECTION (object), result, &error);
  if (error != NULL)
    {
      /* The other instance went away in between: be the instance after all. */
      g_warning ("Could not reach the running Moat window: %s", error->message);
      self->name_state = NAME_OWNED;
      present_window (self, self->want_activity);
    }

  g_application_release (G_APPLICATION (self));
}

static void
forward_to_running_instance (MoatApplication *self)
{
  const char *action = self->want_activity ? "show-activity" : "present";

  g_debug ("Moat already runs; asking it to %s", action);
  g_application_hold (G_APPLICATION (self));
  g_dbus_connection_call (self->connection,
                          MOAT_APP_BUS_NAME, MOAT_APP_OBJECT_PATH,
                          "org.gtk.Actions", "Activate",
                          g_variant_new ("(s@av@a{sv})", action,
                                         g_variant_new_array (G_VARIANT_TYPE_VARIANT, NULL, 0),
                                         g_variant_new_array (G_VARIANT_TYPE ("{sv}"), NULL, 0)),
                          NULL, G_DBUS_CALL_FLAGS_NONE, 5000, NULL,
                          remote_activate_cb, g_object_ref (self));
}

static void
resolve_name (MoatApplication *self,
              NameState        state)
{
  if (self->name_state != NAME_PENDING)
    return;

  self->name_state = state;
  if (self->activate_pending)
    {
      self->activate_pending = FALSE;
      if (state == NAME_OWNED)
        present_window (self, self->want_activity);
      else
        forward_to_running_instance (self);
    }

  /* Held since startup, until we knew who we are. */
  g_application_release (G_APPLICATION (self));
}

static void
on_bus_acquired_cb (GDBusConnection *connection,
                    const char      *name,
                    gpointer         user_data)
{
  MoatApplication *self = user_data;
  g_autoptr(GError) error = NULL;

  g_set_object (&self->connection, connection);
  self->export_id = g_dbus_connection_export_action_group (connection, MOAT_APP_OBJECT_PATH,
                                                           G_ACTION_GROUP (self), &error);
  if (self->export_id == 0)
    g_warning ("Could not export the app's actions: %s", error->message);
}

static void
on_name_acquired_cb (GDBusConnection *connection,
                     const char      *name,
                     gpointer         user_data)
{
  resolve_name (MOAT_APPLICATION (user_data), NAME_OWNED);
}

static void
on_name_lost_cb (GDBusConnection *connection,
                 const char      *name,
                 gpointer         user_data)
{
  MoatApplication *self = user_data;

  if (connection == NULL)
    {
      /* No session bus: nobody to defer to. */
      resolve_name (self, NAME_OWNED);
      return;
    }

  if (self->name_state == NAME_PENDING)
    {
      if (self->export_id != 0)
        {
          g_dbus_connection_unexport_action_group (connection, self->export_id);
          self->export_id = 0;
        }
      g_set_object (&self->connection, connection);
      resolve_name (self, NAME_TAKEN);
    }
}

static void
client_new_cb (GObject      *object,
               GAsyncResult *result,
               gpointer      user_data)
{
  g_autoptr(MoatApplication) self = user_data;
  g_autoptr(MoatClient) client = NULL;
  g_autoptr(GError) error = NULL;
  MoatWindow *window;

  client = moat_client_new_finish (result, &error);
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;

  window = get_window (self);
  if (client == NULL)
    {
      g_warning ("Could not connect to the session bus: %s", error->message);
      self->client_error = g_steal_pointer (&error);
      if (window != NULL)
        moat_window_set_client_error (window, self->client_error);
      return;
    }

  self->client = g_steal_pointer (&client);
  if (window != NULL)
    moat_window_set_client (window, self->client);
}

static void
preferences_action_cb (GSimpleAction *action,
                       GVariant      *parameter,
                       gpointer       user_data)
{
  MoatApplication *self = user_data;
  GtkWidget *preferences;

  preferences = moat_preferences_window_new (GTK_WINDOW (get_window (self)));
  gtk_window_present (GTK_WINDOW (preferences));
}

static void
about_action_cb (GSimpleAction *action,
                 GVariant      *parameter,
                 gpointer       user_data)
{
  MoatApplication *self = user_data;
  static const char *developers[] = { "The Moat developers", NULL };
  GtkWidget *about;

  about = g_object_new (ADW_TYPE_ABOUT_WINDOW,
                        "transient-for", get_window (self),
                        "modal", TRUE,
                        "application-name", _("Moat"),
                        "application-icon", APP_ID,
                        "developer-name", _("The Moat developers"),
                        "developers", developers,
                        "version", PACKAGE_VERSION,
                        "comments", _("Moat protects this computer and your phones from "
                                      "network, content and app threats."),
                        "license-type", GTK_LICENSE_GPL_3_0,
                        "copyright", "© 2026 The Moat developers",
                        /* Translators: your names, one a line */
                        "translator-credits", _("translator-credits"),
                        NULL);
  gtk_window_present (GTK_WINDOW (about));
}

static void
quit_action_cb (GSimpleAction *action,
                GVariant      *parameter,
                gpointer       user_data)
{
  MoatApplication *self = user_data;
  GList *windows = gtk_application_get_windows (GTK_APPLICATION (self));

  /* Close the windows so they save their size; protection goes on in moatd. */
  while (windows != NULL)
    {
      GList *next = windows->next;

      gtk_window_close (windows->data);
      windows = next;
    }
  g_application_quit (G_APPLICATION (self));
}

static void
show_activity_action_cb (GSimpleAction *action,
                         GVariant      *parameter,
                         gpointer       user_data)
{
  present_window (MOAT_APPLICATION (user_data), TRUE);
}

static void
present_action_cb (GSimpleAction *action,
                   GVariant      *parameter,
                   gpointer       user_data)
{
  present_window (MOAT_APPLICATION (user_data), FALSE);
}

static const GActionEntry app_actions[] = {
  { "preferences", preferences_action_cb },
  { "about", about_action_cb },
  { "quit", quit_action_cb },
  { "show-activity", show_activity_action_cb },
  { "present", present_action_cb },
};

static int
moat_application_handle_local_options (GApplication *app,
                                       GVariantDict *options)
{
  MoatApplication *self = MOAT_APPLICATION (app);

  if (g_variant_dict_contains (options, "version"))
    {
      g_print ("moat %s\n", PACKAGE_VERSION);
      return 0;
    }
  if (g_variant_dict_contains (options, "activity"))
    self->want_activity = TRUE;

  return -1;
}

static void
moat_application_startup (GApplication *app)
{
  MoatApplication *self = MOAT_APPLICATION (app);
  static const char *quit_accels[] = { "<Control>q", NULL };
  static const char *preferences_accels[] = { "<Control>comma", NULL };
  static const char *close_accels[] = { "<Control>w", NULL };

  G_APPLICATION_CLASS (moat_application_parent_class)->startup (app);

  g_action_map_add_action_entries (G_ACTION_MAP (self), app_actions,
                                   G_N_ELEMENTS (app_actions), self);
  gtk_application_set_accels_for_action (GTK_APPLICATION (self), "app.quit", quit_accels);
  gtk_application_set_accels_for_action (GTK_APPLICATION (self), "app.preferences",
                                         preferences_accels);
  gtk_application_set_accels_for_action (GTK_APPLICATION (self), "window.close", close_accels);

  /* Connect to moatd, but never start it without the user. */
  self->cancellable = g_cancellable_new ();
  moat_client_new_async (MOAT_CLIENT_FLAGS_NO_AUTO_START, self->cancellable,
                         client_new_cb, g_object_ref (self));

  /* Until we know whether another instance runs. */
  g_application_hold (app);
  self->own_id = g_bus_own_name (G_BUS_TYPE_SESSION, MOAT_APP_BUS_NAME,
                                 G_BUS_NAME_OWNER_FLAGS_DO_NOT_QUEUE,
                                 on_bus_acquired_cb, on_name_acquired_cb, on_name_lost_cb,
                                 self, NULL);
}

static void
moat_application_activate (GApplication *app)
{
  MoatApplication *self = MOAT_APPLICATION (app);

  switch (self->name_state)
    {
    case NAME_PENDING:
      self->activate_pending = TRUE;
      break;
    case NAME_OWNED:
      present_window (self, self->want_activity);
      break;
    case NAME_TAKEN:
      forward_to_running_instance (self);
      break;
    default:
      g_assert_not_reached ();
    }
}

static void
moat_application_shutdown (GApplication *app)
{
  MoatApplication *self = MOAT_APPLICATION (app);

  g_cancellable_cancel (self->cancellable);
  if (self->connection != NULL && self->export_id != 0)
    g_dbus_connection_unexport_action_group (self->connection, self->export_id);
  self->export_id = 0;
  g_clear_handle_id (&self->own_id, g_bus_unown_name);

  G_APPLICATION_CLASS (moat_application_parent_class)->shutdown (app);

  moat_debug_shutdown ();
}

static void
moat_application_dispose (GObject *object)
{
  MoatApplication *self = MOAT_APPLICATION (object);

  g_clear_object (&self->cancellable);
  g_clear_object (&self->client);
  g_clear_object (&self->connection);
  g_clear_error (&self->client_error);

  G_OBJECT_CLASS (moat_application_parent_class)->dispose (object);
}

static void
moat_application_class_init (MoatApplicationClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GApplicationClass *app_class = G_APPLICATION_CLASS (klass);

  object_class->dispose = moat_application_dispose;
  app_class->handle_local_options = moat_application_handle_local_options;
  app_class->startup = moat_application_startup;
  app_class->activate = moat_application_activate;
  app_class->shutdown = moat_application_shutdown;
}

static void
moat_application_init (MoatApplication *self)
{
  g_application_add_main_option_entries (G_APPLICATION (self), option_entries);
}

MoatApplication *
moat_application_new (void)
{
  return g_object_new (MOAT_TYPE_APPLICATION,
                       "application-id", APP_ID,
                       "flags", G_APPLICATION_NON_UNIQUE,
                       "resource-base-path", "/io/github/moatproject/Moat",
                       NULL);
}
