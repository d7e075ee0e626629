/* SPDX-License-Identifier: GPL-3.0-or-later
 * Copyright 2026 The Moat developers
 */
#define G_LOG_DOMAIN "moat-engine"

#include "config.h"

#include "moat-notifier.h"

#include <glib/gi18n.h>
#include <json-glib/json-glib.h>
#include <libnotify/notify.h>

/* Past this many distinct subjects in one group, the rest are only counted. */
#define MAX_TRACKED_SUBJECTS 1000
#define TOP_N 3
#define TITLE_SUBJECT_MAX 64
#define MAX_SHOWN_INCIDENTS 8

typedef struct {
  guint         n_events;
  guint         n_blocked;
  MoatSeverity  max_severity;
  MoatEvent    *first;        /* owned */
  GHashTable   *threats;      /* owned: char * -> GUINT_TO_POINTER (count) */
  GHashTable   *subjects;     /* owned: char * -> GUINT_TO_POINTER (count) */
} Group;

struct _MoatNotifier
{
  GObject              parent_instance;

  /* owned */
  GSettings           *settings;
  GCancellable        *cancellable;
  NotifyNotification  *notification;   /* the last one shown, replaced by the next group */
  Group               *group;          /* the group being collected, or NULL */
  char                *allow_host;     /* the host "Allow Once" on the shown notification lets through */
  guint                window_id;

  /* cached settings */
  gboolean             enabled;
  MoatSeverity         min_severity;
  guint                group_seconds;

  GQueue               incidents;       /* NotifyNotification *, waiting to be shown */
  GQueue               shown_incidents; /* the last few shown, kept for their actions */
  gboolean             show_in_flight;
  gboolean             group_ready;     /* the window closed while a show was in flight */
  gboolean             no_server_logged;
};

G_DEFINE_FINAL_TYPE (MoatNotifier, moat_notifier, G_TYPE_OBJECT)

enum {
  SIGNAL_GROUP_SHOWN,
  SIGNAL_ALLOW_ONCE,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

typedef struct {
  const char *key;
  guint       count;
} Ranked;

static void
group_free (Group *group)
{
  g_clear_pointer (&group->first, moat_event_unref);
  g_clear_pointer (&group->threats, g_hash_table_unref);
  g_clear_pointer (&group->subjects, g_hash_table_unref);
  g_free (group);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Group, group_free)

static Group *
group_new (void)
{
  Group *group = g_new0 (Group, 1);

  group->threats = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  group->subjects = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  return group;
}

static void
count_key (GHashTable *table, const char *key, gboolean may_add)
{
  gpointer old;

  if (g_hash_table_lookup_extended (table, key, NULL, &old))
    g_hash_table_replace (table, g_strdup (key), GUINT_TO_POINTER (GPOINTER_TO_UINT (old) + 1));
  else if (may_add)
    g_hash_table_insert (table, g_strdup (key), GUINT_TO_POINTER (1));
}

static void
group_add (Group *group, MoatEvent *event)
{
  if (group->first == NULL)
    group->first = moat_event_ref (event);
  group->n_events++;
  if (g_strcmp0 (event->action, "blocked") == 0)
    group->n_blocked++;
  group->max_severity = MAX (group->max_severity, event->severity);
  count_key (group->threats, event->threat, TRUE);
  if (event->subject[0] != '\0')
    count_key (group->subjects, event->subject,
               g_hash_table_size (group->subjects) < MAX_TRACKED_SUBJECTS);
}

static int
compare_ranked (gconstpointer a, gconstpointer b)
{
  const Ranked *ra = a;
  const Ranked *rb = b;

  if (ra->count != rb->count)
    return ra->count > rb->count ? -1 : 1;
  return g_strcmp0 (ra->key, rb->key);
}

/* "Malware (320), Phishing (150), …" for the TOP_N largest entries, markup-escaped. */
static char *
format_top (GHashTable *table, gboolean threat_names_wanted)
{
  g_autoptr(GArray) ranked = g_array_new (FALSE, FALSE, sizeof (Ranked));
  g_autoptr(GString) str = g_string_new (NULL);
  GHashTableIter iter;
  gpointer key, value;

  g_hash_table_iter_init (&iter, table);
  while (g_hash_table_iter_next (&iter, &key, &value))
    {
      Ranked r = { key, GPOINTER_TO_UINT (value) };
      g_array_append_val (ranked, r);
    }
  g_array_sort (ranked, compare_ranked);

  for (guint i = 0; i < MIN (ranked->len, TOP_N); i++)
    {
      const Ranked *r = &g_array_index (ranked, Ranked, i);
      const char *name = threat_names_wanted ? moat_notifier_threat_name (r->key) : r->key;
      g_autofree char *escaped = g_markup_escape_text (name, -1);

      if (str->len > 0)
        g_string_append (str, ", ");
      /* TRANSLATORS: a category or host with its count, as in "Malware (320)" */
      g_string_append_printf (str, _("%s (%u)"), escaped, r->count);
    }
  if (ranked->len > TOP_N)
    g_string_append (str, ", …");
  return g_string_free (g_steal_pointer (&str), FALSE);
}

static char *
shorten (const char *text)
{
  g_autofree char *head = NULL;

  if (g_utf8_strlen (text, -1) <= TITLE_SUBJECT_MAX)
    return g_strdup (text);
  head = g_utf8_substring (text, 0, TITLE_SUBJECT_MAX - 1);
  return g_strconcat (head, "…", NULL);
}

static char *
dup_detail_member (const char *detail, const char *member)
{
  g_autoptr(JsonParser) parser = json_parser_new ();
  JsonNode *root;
  JsonObject *object;

  if (!json_parser_load_from_data (parser, detail, -1, NULL))
    return NULL;
  root = json_parser_get_root (parser);
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root))
    return NULL;
  object = json_node_get_object (root);
  if (!json_object_has_member (object, member))
    return NULL;
  return g_strdup (json_object_get_string_member_with_default (object, member, NULL));
}

static char *
format_body (Group *group)
{
  const MoatEvent *first = group->first;

  if (group->n_events == 1)
    {
      const char *name = moat_notifier_threat_name (first->threat);
      g_autofree char *escaped_subject = g_markup_escape_text (first->subject, -1);

      if (g_strcmp0 (first->threat, "moat.store_recovered") == 0)
        {
          g_autofree char *path = dup_detail_member (first->detail, "moved_aside");
          g_autofree char *escaped = g_markup_escape_text (path != NULL ? path : "", -1);

          return g_strdup_printf (_("The damaged database was moved aside to %s and a new one was "
                                    "started. Protection goes on."), escaped);
        }
      if (g_strcmp0 (first->action, "blocked") == 0 || first->subject[0] == '\0')
        return g_strdup_printf (_("Category: %s"), name);
      /* TRANSLATORS: the first %s is a threat such as "Malware", the second a host or app */
      return g_strdup_printf (_("%s: %s"), name, escaped_subject);
    }
  else
    {
      g_autofree char *categories = format_top (group->threats, TRUE);
      g_autofree char *subjects = format_top (group->subjects, FALSE);

      g_autofree char *by_category = g_strdup_printf (_("By category: %s"), categories);
      g_autofree char *most_often = NULL;

      if (subjects[0] == '\0')
        return g_steal_pointer (&by_category);
      most_often = g_strdup_printf (_("Most often: %s"), subjects);
      return g_strconcat (by_category, "\n", most_often, NULL);
    }
}

static NotifyUrgency
urgency_for (MoatSeverity severity)
{
  switch (severity)
    {
    case MOAT_SEVERITY_CRITICAL:
      return NOTIFY_URGENCY_CRITICAL;
    case MOAT_SEVERITY_HIGH:
    case MOAT_SEVERITY_MEDIUM:
      return NOTIFY_URGENCY_NORMAL;
    case MOAT_SEVERITY_INFO:
    case MOAT_SEVERITY_LOW:
    default:
      return NOTIFY_URGENCY_LOW;
    }
}

static void
reload_settings (MoatNotifier *self)
{
  int min = g_settings_get_enum (self->settings, "notify-min-severity");

  self->enabled = g_settings_get_boolean (self->settings, "notifications-enabled");
  self->min_severity = CLAMP (min, MOAT_SEVERITY_INFO, MOAT_SEVERITY_CRITICAL);
  self->group_seconds = MAX (1, g_settings_get_uint (self->settings, "notification-group-seconds"));
}

static void show_group (MoatNotifier *self);
static void show_next_incident (MoatNotifier *self);

static void
show_in_thread (GTask        *task,
                gpointer      source_object,
                gpointer      task_data,
                GCancellable *cancellable)
{
  NotifyNotification *notification = task_data;
  g_autoptr(GError) error = NULL;

  /* A synchronous D-Bus call: this is why it runs here and not on the main loop.
   * Only one show runs at a time (show_in_flight), so libnotify's globals are
   * never used from two threads at once. */
  if (!notify_notification_show (notification, &error))
    g_task_return_error (task, g_steal_pointer (&error));
  else
    g_task_return_boolean (task, TRUE);
}

static void
show_cb (GObject      *object,
         GAsyncResult *result,
         gpointer      user_data)
{
  MoatNotifier *self = MOAT_NOTIFIER (object);
  g_autoptr(GError) error = NULL;
  guint n_events = GPOINTER_TO_UINT (user_data);
  gboolean delivered;

  delivered = g_task_propagate_boolean (G_TASK (result), &error);
  self->show_in_flight = FALSE;
  if (g_task_get_source_tag (G_TASK (result)) == show_next_incident)
    {
      NotifyNotification *notification = g_task_get_task_data (G_TASK (result));

      /* Once more: the server may have restarted under libnotify's feet. */
      if (!delivered && g_object_get_data (G_OBJECT (notification), "moat-retried") == NULL)
        {
          g_debug ("Cannot show an incident's notification, trying again: %s", error->message);
          g_object_set_data (G_OBJECT (notification), "moat-retried", GINT_TO_POINTER (1));
          g_queue_push_tail (&self->incidents, g_object_ref (notification));
        }
      else if (!delivered)
        g_debug ("Cannot show an incident's notification: %s", error->message);
      if (!g_queue_is_empty (&self->incidents))
        show_next_incident (self);
      else if (self->group_ready)
        {
          self->group_ready = FALSE;
          show_group (self);
        }
      return;
    }
  if (!delivered)
    {
      if (!self->no_server_logged)
        {
          g_debug ("Cannot show a notification (is there a notification server?): %s",
                   error->message);
          self->no_server_logged = TRUE;
        }
      /* Start afresh next time: the server may have gone away with our id. */
      g_clear_object (&self->notification);
    }
  else
    {
      self->no_server_logged = FALSE;
    }

  g_signal_emit (self, signals[SIGNAL_GROUP_SHOWN], 0, n_events, delivered);

  if (!g_queue_is_empty (&self->incidents))
    show_next_incident (self);
  else if (self->group_ready)
    {
      self->group_ready = FALSE;
      show_group (self);
    }
}

static void
on_notification_closed_cb (NotifyNotification *notification,
                           MoatNotifier       *self)
{
  /* Gone from the screen: the next group gets a notification of its own. */
  if (self->notification == notification && !self->show_in_flight)
    g_clear_object (&self->notification);
}

static void
on_action_invoked_cb (NotifyNotification *notification,
                      char               *action,
                      gpointer            user_data)
{
  GWeakRef *weak = user_data;
  g_autoptr(MoatNotifier) self = g_weak_ref_get (weak);

  if (self == NULL)
    return;
  g_debug ("Notification action “%s” invoked", action);
  if (g_strcmp0 (action, MOAT_NOTIFIER_ACTION_ALLOW_ONCE) == 0)
    {
      if (self->allow_host != NULL)
        g_signal_emit (self, signals[SIGNAL_ALLOW_ONCE], 0, self->allow_host);
      return;
    }
  moat_notifier_show_activity (self, notify_notification_get_activation_token (notification));
}

static void
free_weak_ref (gpointer data)
{
  g_weak_ref_clear (data);
  g_free (data);
}

/* A group of proxy blocks of one host only can be undone from the
 * notification: that host is returned, else NULL. */
static const char *
group_allow_host (Group *group)
{
  if (group->first == NULL || group->first->source != MOAT_EVENT_SOURCE_PROXY ||
      group->n_blocked != group->n_events || g_hash_table_size (group->subjects) != 1 ||
      group->first->subject[0] == '\0')
    return NULL;
  return group->first->subject;
}

static void
add_action (MoatNotifier       *self,
            NotifyNotification *notification,
            const char         *name,
            const char         *label)
{
  GWeakRef *weak = g_new0 (GWeakRef, 1);

  g_weak_ref_init (weak, self);
  notify_notification_add_action (notification, name, label, on_action_invoked_cb, weak,
                                  free_weak_ref);
}

static void
add_actions (MoatNotifier       *self,
             NotifyNotification *notification,
             const char         *allow_host)
{
  notify_notification_clear_actions (notification);
  add_action (self, notification, "default", _("Show Activity"));
  add_action (self, notification, MOAT_NOTIFIER_ACTION_SHOW_ACTIVITY, _("Show Activity"));
  g_free (self->allow_host);
  self->allow_host = g_strdup (allow_host);
  if (allow_host != NULL)
    add_action (self, notification, MOAT_NOTIFIER_ACTION_ALLOW_ONCE, _("Allow Once"));
}

static void
show_group (MoatNotifier *self)
{
  g_autoptr(Group) group = g_steal_pointer (&self->group);
  g_autoptr(GTask) task = NULL;
  g_autofree char *title = NULL;
  g_autofree char *body = NULL;

  if (group == NULL || group->n_events == 0)
    return;
  if (!self->enabled)
    {
      g_debug ("Notifications are off; dropping a group of %u events", group->n_events);
      return;
    }

  title = moat_notifier_format_title (group->n_events, group->n_blocked, group->first);
  body = format_body (group);

  if (!notify_is_initted () && !notify_init ("Moat"))
    {
      g_debug ("libnotify cannot be initialised; dropping a group of %u events", group->n_events);
      return;
    }

  if (self->notification == NULL)
    {
      self->notification = notify_notification_new (title, body, APP_ID);
      g_signal_connect_object (self->notification, "closed",
                               G_CALLBACK (on_notification_closed_cb), self, 0);
    }
  else
    {
      /* Same id: the server replaces the previous group's notification. */
      notify_notification_update (self->notification, title, body, APP_ID);
    }
  notify_notification_set_app_name (self->notification, "Moat");
  notify_notification_set_hint_string (self->notification, "desktop-entry", APP_ID);
  notify_notification_set_category (self->notification, "x-moat.threat");
  notify_notification_set_urgency (self->notification, urgency_for (group->max_severity));
  add_actions (self, self->notification, group_allow_host (group));

  g_debug ("Notifying a group of %u events: %s", group->n_events, title);
  self->show_in_flight = TRUE;
  task = g_task_new (self, NULL, show_cb, GUINT_TO_POINTER (group->n_events));
  g_task_set_source_tag (task, show_group);
  g_task_set_task_data (task, g_object_ref (self->notification), g_object_unref);
  g_task_run_in_thread (task, show_in_thread);
}

/* Incidents get a notification each; they queue behind any show in flight. */
static void
show_next_incident (MoatNotifier *self)
{
  NotifyNotification *notification = g_queue_pop_head (&self->incidents);
  g_autoptr(GTask) task = NULL;

  if (notification == NULL)
    return;
  self->show_in_flight = TRUE;
  task = g_task_new (self, NULL, show_cb, NULL);
  g_task_set_source_tag (task, show_next_incident);
  g_task_set_task_data (task, notification, g_object_unref);
  /* Its buttons work only while the object lives. */
  g_queue_push_tail (&self->shown_incidents, g_object_ref (notification));
  while (g_queue_get_length (&self->shown_incidents) > MAX_SHOWN_INCIDENTS)
    g_object_unref (g_queue_pop_head (&self->shown_incidents));
  g_task_run_in_thread (task, show_in_thread);
}

static gboolean
on_window_closed_cb (gpointer user_data)
{
  MoatNotifier *self = MOAT_NOTIFIER (user_data);

  self->window_id = 0;
  if (self->show_in_flight)
    self->group_ready = TRUE;
  else
    show_group (self);
  return G_SOURCE_REMOVE;
}

static void
on_settings_changed_cb (GSettings    *settings,
                        const char   *key,
                        MoatNotifier *self)
{
  reload_settings (self);
}

typedef struct {
  char *activation_token;
} ActivateData;

static void
activate_data_free (ActivateData *data)
{
  g_free (data->activation_token);
  g_free (data);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (ActivateData, activate_data_free)

static void
spawn_gui (const char *activation_token)
{
  g_autofree char *program = g_build_filename (BINDIR, "moat", NULL);
  const char *argv[] = { program, "--activity", NULL };
  g_auto(GStrv) envp = g_get_environ ();
  g_autoptr(GError) error = NULL;

  if (activation_token != NULL && activation_token[0] != '\0')
    {
      envp = g_environ_setenv (envp, "XDG_ACTIVATION_TOKEN", activation_token, TRUE);
      envp = g_environ_setenv (envp, "DESKTOP_STARTUP_ID", activation_token, TRUE);
    }
  if (!g_spawn_async (NULL, (char **) argv, envp, G_SPAWN_DEFAULT, NULL, NULL, NULL, &error))
    g_warning ("Cannot start the Moat app (%s): %s", program, error->message);
}

static void
activate_cb (GObject      *object,
             GAsyncResult *result,
             gpointer      user_data)
{
  g_autoptr(ActivateData) data = user_data;
  g_autoptr(GVariant) reply = NULL;
  g_autoptr(GError) error = NULL;

  reply = g_dbus_connection_call_finish (G_DBUS_CONNECTION (object), result, &error);
  if (reply != NULL)
    return;
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  if (g_error_matches (error, G_DBUS_ERROR, G_DBUS_ERROR_SERVICE_UNKNOWN) ||
      g_error_matches (error, G_DBUS_ERROR, G_DBUS_ERROR_NAME_HAS_NO_OWNER))
    {
      g_debug ("The Moat app is not running; starting it");
      spawn_gui (data->activation_token);
      return;
    }
  g_warning ("Cannot show the Activity page in the Moat app: %s", error->message);
}

static void
bus_got_cb (GObject      *object,
            GAsyncResult *result,
            gpointer      user_data)
{
  g_autoptr(ActivateData) data = user_data;
  g_autoptr(GDBusConnection) connection = NULL;
  g_autoptr(GError) error = NULL;
  GVariantBuilder platform_data;

  connection = g_bus_get_finish (result, &error);
  if (connection == NULL)
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        {
          g_debug ("No session bus (%s); starting the Moat app directly", error->message);
          spawn_gui (data->activation_token);
        }
      return;
    }

  g_variant_builder_init (&platform_data, G_VARIANT_TYPE_VARDICT);
  if (data->activation_token != NULL && data->activation_token[0] != '\0')
    {
      g_variant_builder_add (&platform_data, "{sv}", "activation-token",
                             g_variant_new_string (data->activation_token));
      g_variant_builder_add (&platform_data, "{sv}", "desktop-startup-id",
                             g_variant_new_string (data->activation_token));
    }
  g_dbus_connection_call (connection,
                          MOAT_NOTIFIER_GUI_BUS_NAME,
                          MOAT_NOTIFIER_GUI_OBJECT_PATH,
                          "org.gtk.Actions",
                          "Activate",
                          g_variant_new ("(s@ava{sv})",
                                         MOAT_NOTIFIER_ACTION_SHOW_ACTIVITY,
                                         g_variant_new_array (G_VARIANT_TYPE_VARIANT, NULL, 0),
                                         &platform_data),
                          NULL,
                          G_DBUS_CALL_FLAGS_NO_AUTO_START,
                          10000,
                          NULL,
                          activate_cb,
                          g_steal_pointer (&data));
}

static void
moat_notifier_dispose (GObject *object)
{
  MoatNotifier *self = MOAT_NOTIFIER (object);

  g_cancellable_cancel (self->cancellable);
  g_clear_handle_id (&self->window_id, g_source_remove);
  g_clear_pointer (&self->group, group_free);
  g_queue_clear_full (&self->incidents, g_object_unref);
  g_queue_clear_full (&self->shown_incidents, g_object_unref);
  if (self->settings != NULL)
    g_signal_handlers_disconnect_by_data (self->settings, self);
  g_clear_object (&self->settings);
  g_clear_object (&self->notification);
  g_clear_pointer (&self->allow_host, g_free);
  g_clear_object (&self->cancellable);

  G_OBJECT_CLASS (moat_notifier_parent_class)->dispose (object);
}

static void
moat_notifier_class_init (MoatNotifierClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = moat_notifier_dispose;

  signals[SIGNAL_GROUP_SHOWN] =
    g_signal_new ("group-shown",
                  G_TYPE_FROM_CLASS (klass),
                  G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL,
                  G_TYPE_NONE, 2, G_TYPE_UINT, G_TYPE_BOOLEAN);

  /**
   * MoatNotifier::allow-once-requested:
   * @host: the host the user chose to let through once
   *
   * The user pressed "Allow Once" on a notification about blocks of @host.
   */
  signals[SIGNAL_ALLOW_ONCE] =
    g_signal_new ("allow-once-requested",
                  G_TYPE_FROM_CLASS (klass),
                  G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL,
                  G_TYPE_NONE, 1, G_TYPE_STRING);
}

static void
moat_notifier_init (MoatNotifier *self)
{
  self->cancellable = g_cancellable_new ();
}

/**
 * moat_notifier_new:
 * @settings: the io.github.moatproject.Moat settings
 */
MoatNotifier *
moat_notifier_new (GSettings *settings)
{
  MoatNotifier *self;

  g_return_val_if_fail (G_IS_SETTINGS (settings), NULL);

  self = g_object_new (MOAT_TYPE_NOTIFIER, NULL);
  self->settings = g_object_ref (settings);
  g_signal_connect (settings, "changed", G_CALLBACK (on_settings_changed_cb), self);
  reload_settings (self);
  return self;
}

/**
 * moat_notifier_add_event:
 *
 * Offers an event for notification. Never blocks.
 */
void
moat_notifier_add_event (MoatNotifier    *self,
                         MoatEvent       *event,
                         MoatNotifyFlags  flags)
{
  g_return_if_fail (MOAT_IS_NOTIFIER (self));
  g_return_if_fail (event != NULL);

  if (!self->enabled)
    return;
  if (event->severity < self->min_severity && !(flags & MOAT_NOTIFY_FLAGS_ALWAYS))
    return;

  if (self->group == NULL)
    {
      self->group = group_new ();
      self->window_id = g_timeout_add_seconds (self->group_seconds, on_window_closed_cb, self);
    }
  group_add (self->group, event);
}

/**
 * moat_notifier_notify_incident:
 * @title: what was found
 * @body: what Moat did about it, in sentences
 *
 * One notification for one incident: a threat and the actions taken on it.
 * Unlike events, incidents are never grouped and always shown (when
 * notifications are on), whatever their severity: the user always learns
 * what Moat did to their network and why.
 */
void
moat_notifier_notify_incident (MoatNotifier *self,
                               const char   *title,
                               const char   *body,
                               MoatSeverity  severity)
{
  NotifyNotification *notification;

  g_return_if_fail (MOAT_IS_NOTIFIER (self));
  g_return_if_fail (title != NULL && body != NULL);

  if (!self->enabled)
    {
      g_debug ("Notifications are off; not telling of an incident: %s", title);
      return;
    }
  if (!notify_is_initted () && !notify_init ("Moat"))
    {
      g_debug ("libnotify cannot be initialised; not telling of an incident: %s", title);
      return;
    }
  notification = notify_notification_new (title, body, APP_ID);
  notify_notification_set_app_name (notification, "Moat");
  notify_notification_set_hint_string (notification, "desktop-entry", APP_ID);
  notify_notification_set_category (notification, "x-moat.incident");
  notify_notification_set_urgency (notification, urgency_for (MAX (severity, MOAT_SEVERITY_MEDIUM)));
  add_action (self, notification, "default", _("Show Activity"));
  add_action (self, notification, MOAT_NOTIFIER_ACTION_SHOW_ACTIVITY, _("Show Activity"));
  g_debug ("Notifying an incident: %s", title);
  g_queue_push_tail (&self->incidents, notification);
  if (!self->show_in_flight)
    show_next_incident (self);
}

/* How many events wait in the group being collected. */
guint
moat_notifier_get_pending_count (MoatNotifier *self)
{
  g_return_val_if_fail (MOAT_IS_NOTIFIER (self), 0);

  return self->group != NULL ? self->group->n_events : 0;
}

/**
 * moat_notifier_show_activity:
 * @activation_token: (nullable): the token from the notification server
 *
 * Opens the GUI's Activity page: activates its `show-activity` action over
 * org.gtk.Actions when the app runs, starts `moat --activity` otherwise.
 */
void
moat_notifier_show_activity (MoatNotifier *self,
                             const char   *activation_token)
{
  ActivateData *data;

  g_return_if_fail (MOAT_IS_NOTIFIER (self));

  data = g_new0 (ActivateData, 1);
  data->activation_token = g_strdup (activation_token);
  g_bus_get (G_BUS_TYPE_SESSION, self->cancellable, bus_got_cb, data);
}

/**
 * moat_notifier_format_title:
 *
 * Returns: the notification title for a group of @n_events events of which
 * @n_blocked were blocked requests; @first is the group's first event.
 */
char *
moat_notifier_format_title (guint            n_events,
                            guint            n_blocked,
                            const MoatEvent *first)
{
  g_return_val_if_fail (first != NULL, NULL);

  if (n_events <= 1)
    {
      g_autofree char *subject = shorten (first->subject);

      if (g_strcmp0 (first->threat, "moat.store_recovered") == 0)
        return g_strdup (_("Moat’s event history was damaged"));
      if (g_strcmp0 (first->action, "blocked") == 0)
        {
          if (subject[0] == '\0')
            return g_strdup (_("Moat blocked a request"));
          return g_strdup_printf (_("Moat blocked %s"), subject);
        }
      return g_strdup_printf (_("Threat detected: %s"), moat_notifier_threat_name (first->threat));
    }
  if (n_blocked == n_events)
    return g_strdup_printf (ngettext ("Moat blocked %u request", "Moat blocked %u requests",
                                      n_events), n_events);
  return g_strdup_printf (ngettext ("Moat detected %u threat", "Moat detected %u threats",
                                    n_events), n_events);
}

/* The translated, human name of a threat id, or the id itself when unknown. */
const char *
moat_notifier_threat_name (const char *threat)
{
  return moat_threat_get_display_name (threat);
}
