/* SPDX-License-Identifier: GPL-3.0-or-later
 * Copyright 2026 The Moat developers
 */
#define G_LOG_DOMAIN "moat-client"

#include "config.h"

#include <gio/gunixfdlist.h>

#include "moat-client.h"

#include "moat-dbus-generated.h"

#include <glib/gi18n.h>

/* How long start_engine waits for moatd to show up after activation succeeded. */
#define START_ENGINE_TIMEOUT_SECONDS 30

struct _MoatClient
{
  GObject              parent_instance;

  /* owned */
  GDBusConnection     *connection;
  MoatDBusMoat1       *proxy;
  char                *version;
  char                *protection_summary;
  char                *proxy_address;
  char                *store_message;

  MoatClientFlags      flags;
  gboolean             engine_running;
  MoatProtectionState  protection_state;
  MoatRiskLevel        risk_level;
  MoatStoreState       store_state;
  gint64               start_time;
  gboolean             protect_computer;
  GStrv                enabled_categories;
};

G_DEFINE_FINAL_TYPE (MoatClient, moat_client, G_TYPE_OBJECT)

enum {
  PROP_0,
  PROP_ENGINE_RUNNING,
  PROP_VERSION,
  PROP_PROTECTION_STATE,
  PROP_PROTECTION_SUMMARY,
  PROP_RISK_LEVEL,
  PROP_PROXY_ADDRESS,
  PROP_STORE_STATE,
  PROP_STORE_MESSAGE,
  PROP_START_TIME,
  PROP_PROTECT_COMPUTER,
  PROP_ENABLED_CATEGORIES,
  N_PROPS
};

enum {
  SIGNAL_EVENTS_ADDED,
  SIGNAL_LISTS_CHANGED,
  N_SIGNALS
};

static GParamSpec *properties[N_PROPS];
static guint signals[N_SIGNALS];

/* D-Bus property name -> our property */
static const struct {
  const char *dbus_name;
  guint       prop_id;
} property_map[] = {
  { "Version", PROP_VERSION },
  { "ProtectionState", PROP_PROTECTION_STATE },
  { "ProtectionSummary", PROP_PROTECTION_SUMMARY },
  { "RiskLevel", PROP_RISK_LEVEL },
  { "ProxyAddress", PROP_PROXY_ADDRESS },
  { "StoreState", PROP_STORE_STATE },
  { "StoreMessage", PROP_STORE_MESSAGE },
  { "StartTime", PROP_START_TIME },
  { "ProtectComputer", PROP_PROTECT_COMPUTER },
  { "EnabledCategories", PROP_ENABLED_CATEGORIES },
};

/*
 * Every error a caller sees is MOAT_ERROR, except cancellation, which stays
 * G_IO_ERROR_CANCELLED as everywhere in GIO so callbacks can return early.
 */
static void
convert_error (GError **error)
{
  if (error == NULL || *error == NULL)
    return;
  if (g_error_matches (*error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  if (g_dbus_error_is_remote_error (*error))
    g_dbus_error_strip_remote_error (*error);
  moat_error_convert (error);
}

static gboolean
set_string (char **field, const char *value)
{
  if (value != NULL && value[0] == '\0')
    value = NULL;
  if (g_strcmp0 (*field, value) == 0)
    return FALSE;
  g_free (*field);
  *field = g_strdup (value);
  return TRUE;
}

/* Reads one cached D-Bus property into our own copy. Returns TRUE if it changed. */
static gboolean
update_property (MoatClient *self, guint prop_id)
{
  MoatDBusMoat1 *p = self->proxy;
  gboolean running = self->engine_running && p != NULL;

  switch (prop_id)
    {
    case PROP_VERSION:
      return set_string (&self->version, running ? moat_dbus_moat1_get_version (p) : NULL);
    case PROP_PROTECTION_SUMMARY:
      return set_string (&self->protection_summary,
                         running ? moat_dbus_moat1_get_protection_summary (p) : NULL);
    case PROP_PROXY_ADDRESS:
      return set_string (&self->proxy_address,
                         running ? moat_dbus_moat1_get_proxy_address (p) : NULL);
    case PROP_STORE_MESSAGE:
      return set_string (&self->store_message,
                         running ? moat_dbus_moat1_get_store_message (p) : NULL);
    case PROP_PROTECTION_STATE:
      {
        MoatProtectionState state = MOAT_PROTECTION_STATE_UNPROTECTED;

        if (running &&
            !moat_protection_state_from_string (moat_dbus_moat1_get_protection_state (p), &state))
          state = MOAT_PROTECTION_STATE_UNPROTECTED;
        if (state == self->protection_state)
          return FALSE;
        self->protection_state = state;
        return TRUE;
      }
    case PROP_RISK_LEVEL:
      {
        MoatRiskLevel level = MOAT_RISK_LEVEL_NONE;

        if (running && !moat_risk_level_from_string (moat_dbus_moat1_get_risk_level (p), &level))
          level = MOAT_RISK_LEVEL_NONE;
        if (level == self->risk_level)
          return FALSE;
        self->risk_level = level;
        return TRUE;
      }
    case PROP_STORE_STATE:
      {
        MoatStoreState state = MOAT_STORE_STATE_OPENING;

        if (running && !moat_store_state_from_string (moat_dbus_moat1_get_store_state (p), &state))
          state = MOAT_STORE_STATE_OPENING;
        if (state == self->store_state)
          return FALSE;
        self->store_state = state;
        return TRUE;
      }
    case PROP_START_TIME:
      {
        gint64 t = running ? moat_dbus_moat1_get_start_time (p) : 0;

        if (t == self->start_time)
          return FALSE;
        self->start_time = t;
        return TRUE;
      }
    case PROP_PROTECT_COMPUTER:
      {
        gboolean on = running && moat_dbus_moat1_get_protect_computer (p);

        if (on == self->protect_computer)
          return FALSE;
        self->protect_computer = on;
        return TRUE;
      }
    case PROP_ENABLED_CATEGORIES:
      {
        const char * const *now = running ? moat_dbus_moat1_get_enabled_categories (p) : NULL;
        const char * const empty[] = { NULL };

        if (now == NULL)
          now = empty;
        if (self->enabled_categories != NULL &&
            g_strv_equal ((const char * const *) self->enabled_categories, now))
          return FALSE;
        g_strfreev (self->enabled_categories);
        self->enabled_categories = g_strdupv ((GStrv) now);
        return TRUE;
      }
    default:
      g_assert_not_reached ();
    }
  return FALSE;
}

static void
update_all (MoatClient *self)
{
  g_autofree char *owner = NULL;
  gboolean running;

  g_object_freeze_notify (G_OBJECT (self));

  owner = g_dbus_proxy_get_name_owner (G_DBUS_PROXY (self->proxy));
  running = owner != NULL;
  if (running != self->engine_running)
    {
      self->engine_running = running;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_ENGINE_RUNNING]);
    }
  for (guint i = 0; i < G_N_ELEMENTS (property_map); i++)
    if (update_property (self, property_map[i].prop_id))
      g_object_notify_by_pspec (G_OBJECT (self), properties[property_map[i].prop_id]);

  g_object_thaw_notify (G_OBJECT (self));
}

static void
on_proxy_notify_name_owner_cb (GObject    *proxy,
                               GParamSpec *pspec,
                               MoatClient *self)
{
  g_debug ("moatd %s", self->engine_running ? "went away or changed" : "appeared");
  update_all (self);
}

static void
update_named (MoatClient *self, const char *name)
{
  for (guint i = 0; i < G_N_ELEMENTS (property_map); i++)
    if (g_str_equal (property_map[i].dbus_name, name))
      {
        if (update_property (self, property_map[i].prop_id))
          g_object_notify_by_pspec (G_OBJECT (self), properties[property_map[i].prop_id]);
        return;
      }
}

static void
on_proxy_properties_changed_cb (GDBusProxy          *proxy,
                                GVariant            *changed,
                                const char * const  *invalidated,
                                MoatClient          *self)
{
  GVariantIter iter;
  const char *name;

  g_object_freeze_notify (G_OBJECT (self));
  g_variant_iter_init (&iter, changed);
  while (g_variant_iter_next (&iter, "{&sv}", &name, NULL))
    update_named (self, name);
  for (guint i = 0; invalidated != NULL && invalidated[i] != NULL; i++)
    update_named (self, invalidated[i]);
  g_object_thaw_notify (G_OBJECT (self));
}

static void
on_proxy_events_added_cb (MoatDBusMoat1 *proxy,
                          GVariant      *events_variant,
                          MoatClient    *self)
{
  g_autoptr(GPtrArray) events = NULL;
  g_autoptr(GError) error = NULL;

  events = moat_events_new_from_variant (events_variant, &error);
  if (events == NULL)
    {
      g_warning ("Ignoring malformed EventsAdded from moatd: %s", error->message);
      return;
    }
  if (events->len > 0)
    g_signal_emit (self, signals[SIGNAL_EVENTS_ADDED], 0, events);
}

static void
on_proxy_lists_changed_cb (MoatDBusMoat1 *proxy,
                           MoatClient    *self)
{
  g_signal_emit (self, signals[SIGNAL_LISTS_CHANGED], 0);
}

/* A proxy made with NO_AUTO_START fails calls without an owner with a bare
 * G_IO_ERROR_FAILED; say what really happened instead. */
static gboolean
check_reachable (MoatClient *self, GTask *task)
{
  if (self->engine_running || !(self->flags & MOAT_CLIENT_FLAGS_NO_AUTO_START))
    return TRUE;
  g_task_return_new_error (task, MOAT_ERROR, MOAT_ERROR_ENGINE_UNREACHABLE,
                           _("The Moat engine (moatd) is not running"));
  return FALSE;
}

/* ---- construction ---- */

static void
proxy_new_cb (GObject      *object,
              GAsyncResult *result,
              gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  MoatClient *self = g_task_get_task_data (task);
  g_autoptr(GError) error = NULL;

  self->proxy = moat_dbus_moat1_proxy_new_finish (result, &error);
  if (self->proxy == NULL)
    {
      convert_error (&error);
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }

  g_signal_connect_object (self->proxy, "notify::g-name-owner",
                           G_CALLBACK (on_proxy_notify_name_owner_cb), self, 0);
  /* After the generated class handler, which drops its cached copies of
   * array properties (EnabledCategories) first. */
  g_signal_connect_object (self->proxy, "g-properties-changed",
                           G_CALLBACK (on_proxy_properties_changed_cb), self, G_CONNECT_AFTER);
  g_signal_connect_object (self->proxy, "events-added",
                           G_CALLBACK (on_proxy_events_added_cb), self, 0);
  g_signal_connect_object (self->proxy, "lists-changed",
                           G_CALLBACK (on_proxy_lists_changed_cb), self, 0);
  update_all (self);
  g_task_return_pointer (task, g_object_ref (self), g_object_unref);
}

static void
make_proxy (GTask *task)
{
  MoatClient *self = g_task_get_task_data (task);
  GDBusProxyFlags flags = G_DBUS_PROXY_FLAGS_GET_INVALIDATED_PROPERTIES;

  if (self->flags & MOAT_CLIENT_FLAGS_NO_AUTO_START)
    flags |= G_DBUS_PROXY_FLAGS_DO_NOT_AUTO_START;
  else
    flags |= G_DBUS_PROXY_FLAGS_DO_NOT_AUTO_START_AT_CONSTRUCTION;

  moat_dbus_moat1_proxy_new (self->connection, flags, MOAT_DBUS_NAME, MOAT_DBUS_PATH,
                             g_task_get_cancellable (task), proxy_new_cb, task);
}

static void
connection_ready_cb (GObject      *object,
                     GAsyncResult *result,
                     gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  MoatClient *self = g_task_get_task_data (task);
  g_autoptr(GError) error = NULL;
  const char *address = g_getenv ("MOAT_DBUS_ADDRESS");

  if (address != NULL && address[0] != '\0')
    self->connection = g_dbus_connection_new_for_address_finish (result, &error);
  else
    self->connection = g_bus_get_finish (result, &error);
  if (self->connection == NULL)
    {
      convert_error (&error);
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  make_proxy (g_steal_pointer (&task));
}

/* ---- start_engine ---- */

typedef struct {
  MoatClient *self;   /* borrowed: the task's source object */
  gulong      notify_id;
  guint       timeout_id;
  gulong      cancelled_id;
} StartData;

static void
start_finish_waiting (GTask *task, GError *error)
{
  StartData *data = g_task_get_task_data (task);

  g_clear_signal_handler (&data->notify_id, data->self);
  g_clear_handle_id (&data->timeout_id, g_source_remove);
  if (data->cancelled_id != 0)
    {
      g_cancellable_disconnect (g_task_get_cancellable (task), data->cancelled_id);
      data->cancelled_id = 0;
    }
  if (error != NULL)
    g_task_return_error (task, error);
  else
    g_task_return_boolean (task, TRUE);
  g_object_unref (task);
}

static void
on_start_notify_engine_running_cb (MoatClient *self,
                                   GParamSpec *pspec,
                                   GTask      *task)
{
  if (self->engine_running)
    start_finish_waiting (task, NULL);
}

static gboolean
start_timeout_cb (gpointer user_data)
{
  GTask *task = user_data;
  StartData *data = g_task_get_task_data (task);

  data->timeout_id = 0;
  start_finish_waiting (task, g_error_new_literal (MOAT_ERROR, MOAT_ERROR_ENGINE_UNREACHABLE,
                                                   _("The Moat engine (moatd) was started but "
                                                     "did not appear on the bus")));
  return G_SOURCE_REMOVE;
}

static gboolean
start_cancelled_idle_cb (gpointer user_data)
{
  GTask *task = user_data;
  StartData *data = g_task_get_task_data (task);

  /* Still waiting? (the name may have appeared in the meantime) */
  if (data->notify_id != 0)
    {
      data->cancelled_id = 0;
      start_finish_waiting (task, g_error_new_literal (G_IO_ERROR, G_IO_ERROR_CANCELLED,
                                                       "Operation was cancelled"));
    }
  g_object_unref (task);
  return G_SOURCE_REMOVE;
}

static void
on_start_cancelled_cb (GCancellable *cancellable,
                       GTask        *task)
{
  g_autoptr(GSource) source = g_idle_source_new ();

  /* May run in any thread, and g_cancellable_disconnect() must not be called
   * from this handler: always defer to an idle in the task's context (not
   * g_main_context_invoke(), which would run it right here). */
  g_source_set_callback (source, start_cancelled_idle_cb, g_object_ref (task), NULL);
  g_source_set_static_name (source, "[moat] start_engine cancelled");
  g_source_attach (source, g_task_get_context (task));
}

static void
start_service_cb (GObject      *object,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  MoatClient *self = g_task_get_source_object (task);
  StartData *data;
  g_autoptr(GVariant) reply = NULL;
  g_autoptr(GError) error = NULL;
  GCancellable *cancellable;

  reply = g_dbus_connection_call_finish (G_DBUS_CONNECTION (object), result, &error);
  if (reply == NULL)
    {
      convert_error (&error);
      if (error->domain == MOAT_ERROR && error->code != MOAT_ERROR_ENGINE_UNREACHABLE)
        {
          g_autofree char *why = g_strdup (error->message);

          g_clear_error (&error);
          g_set_error (&error, MOAT_ERROR, MOAT_ERROR_ENGINE_UNREACHABLE,
                       /* Translators: %s says why, e.g. that the D-Bus service failed */
                       _("Could not start the Moat engine (moatd): %s"), why);
        }
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  if (self->engine_running)
    {
      g_task_return_boolean (task, TRUE);
      return;
    }

  /* Activation succeeded; the proxy learns about the new owner a moment later. */
  data = g_new0 (StartData, 1);
  data->self = self;
  g_task_set_task_data (task, data, g_free);
  data->notify_id = g_signal_connect (self, "notify::engine-running",
                                      G_CALLBACK (on_start_notify_engine_running_cb), task);
  data->timeout_id = g_timeout_add_seconds (START_ENGINE_TIMEOUT_SECONDS, start_timeout_cb, task);
  cancellable = g_task_get_cancellable (task);
  if (cancellable != NULL)
    data->cancelled_id = g_cancellable_connect (cancellable, G_CALLBACK (on_start_cancelled_cb),
                                                task, NULL);
  /* The waiting handlers own the task reference now. */
  g_steal_pointer (&task);
}

/* ---- generic call completion ---- */

static void
list_events_cb (GObject      *object,
                GAsyncResult *result,
                gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  g_autoptr(GVariant) reply = NULL;
  g_autoptr(GError) error = NULL;
  GPtrArray *events;

  if (!moat_dbus_moat1_call_list_events_finish (MOAT_DBUS_MOAT1 (object), &reply, result, &error))
    {
      convert_error (&error);
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  events = moat_events_new_from_variant (reply, &error);
  if (events == NULL)
    {
      g_prefix_error (&error, "moatd sent a malformed event: ");
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  g_task_return_pointer (task, events, (GDestroyNotify) g_ptr_array_unref);
}

static void
count_events_cb (GObject      *object,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  g_autoptr(GError) error = NULL;
  guint64 count = 0;

  if (!moat_dbus_moat1_call_count_events_finish (MOAT_DBUS_MOAT1 (object), &count, result, &error))
    {
      convert_error (&error);
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  g_task_return_pointer (task, g_memdup2 (&count, sizeof count), g_free);
}

static void
category_counts_cb (GObject      *object,
                    GAsyncResult *result,
                    gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  g_autoptr(GVariant) reply = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GHashTable) counts = NULL;
  GVariantIter iter;
  const char *threat;
  guint64 count;

  if (!moat_dbus_moat1_call_get_category_counts_finish (MOAT_DBUS_MOAT1 (object), &reply,
                                                        result, &error))
    {
      convert_error (&error);
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  counts = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  g_variant_iter_init (&iter, reply);
  while (g_variant_iter_next (&iter, "{&st}", &threat, &count))
    g_hash_table_replace (counts, g_strdup (threat), g_memdup2 (&count, sizeof count));
  g_task_return_pointer (task, g_steal_pointer (&counts), (GDestroyNotify) g_hash_table_unref);
}

/* ---- GObject ---- */

static void
moat_client_dispose (GObject *object)
{
  MoatClient *self = MOAT_CLIENT (object);

  if (self->proxy != NULL)
    g_signal_handlers_disconnect_by_data (self->proxy, self);
  g_clear_object (&self->proxy);
  g_clear_object (&self->connection);

  G_OBJECT_CLASS (moat_client_parent_class)->dispose (object);
}

static void
moat_client_finalize (GObject *object)
{
  MoatClient *self = MOAT_CLIENT (object);

  g_free (self->version);
  g_free (self->protection_summary);
  g_free (self->proxy_address);
  g_strfreev (self->enabled_categories);
  g_free (self->store_message);

  G_OBJECT_CLASS (moat_client_parent_class)->finalize (object);
}

static void
moat_client_get_property (GObject    *object,
                          guint       prop_id,
                          GValue     *value,
                          GParamSpec *pspec)
{
  MoatClient *self = MOAT_CLIENT (object);

  switch (prop_id)
    {
    case PROP_ENGINE_RUNNING:
      g_value_set_boolean (value, self->engine_running);
      break;
    case PROP_VERSION:
      g_value_set_string (value, self->version);
      break;
    case PROP_PROTECTION_STATE:
      g_value_set_int (value, self->protection_state);
      break;
    case PROP_PROTECTION_SUMMARY:
      g_value_set_string (value, self->protection_summary);
      break;
    case PROP_RISK_LEVEL:
      g_value_set_int (value, self->risk_level);
      break;
    case PROP_PROXY_ADDRESS:
      g_value_set_string (value, self->proxy_address);
      break;
    case PROP_STORE_STATE:
      g_value_set_int (value, self->store_state);
      break;
    case PROP_STORE_MESSAGE:
      g_value_set_string (value, self->store_message);
      break;
    case PROP_START_TIME:
      g_value_set_int64 (value, self->start_time);
      break;
    case PROP_PROTECT_COMPUTER:
      g_value_set_boolean (value, self->protect_computer);
      break;
    case PROP_ENABLED_CATEGORIES:
      g_value_set_boxed (value, self->enabled_categories);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
moat_client_class_init (MoatClientClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GParamFlags flags = G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS;

  object_class->dispose = moat_client_dispose;
  object_class->finalize = moat_client_finalize;
  object_class->get_property = moat_client_get_property;

  /* Remote io.github.moatproject.Moat1.Error.* become MOAT_ERROR with their code. */
  (void) moat_error_quark ();

  properties[PROP_ENGINE_RUNNING] =
    g_param_spec_boolean ("engine-running", NULL, "Whether moatd owns its bus name",
                          FALSE, flags);
  properties[PROP_VERSION] =
    g_param_spec_string ("version", NULL, "moatd's version", NULL, flags);
  properties[PROP_PROTECTION_STATE] =
    g_param_spec_int ("protection-state", NULL, "A MoatProtectionState",
                      0, MOAT_PROTECTION_STATE_LAST - 1, MOAT_PROTECTION_STATE_UNPROTECTED, flags);
  properties[PROP_PROTECTION_SUMMARY] =
    g_param_spec_string ("protection-summary", NULL, "One sentence about the protection state",
                         NULL, flags);
  properties[PROP_RISK_LEVEL] =
    g_param_spec_int ("risk-level", NULL, "A MoatRiskLevel",
                      0, MOAT_RISK_LEVEL_LAST - 1, MOAT_RISK_LEVEL_NONE, flags);
  properties[PROP_PROXY_ADDRESS] =
    g_param_spec_string ("proxy-address", NULL, "host:port of the proxy", NULL, flags);
  properties[PROP_STORE_STATE] =
    g_param_spec_int ("store-state", NULL, "A MoatStoreState",
                      0, MOAT_STORE_STATE_LAST - 1, MOAT_STORE_STATE_OPENING, flags);
  properties[PROP_STORE_MESSAGE] =
    g_param_spec_string ("store-message", NULL, "One sentence about the store state", NULL, flags);
  properties[PROP_START_TIME] =
    g_param_spec_int64 ("start-time", NULL, "When moatd started (µs since the epoch)",
                        0, G_MAXINT64, 0, flags);
  properties[PROP_PROTECT_COMPUTER] =
    g_param_spec_boolean ("protect-computer", NULL,
                          "Whether the desktop's proxy settings point at Moat", FALSE, flags);
  properties[PROP_ENABLED_CATEGORIES] =
    g_param_spec_boxed ("enabled-categories", NULL, "The list categories in use", G_TYPE_STRV,
                        flags);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  /**
   * MoatClient::lists-changed:
   *
   * The filter lists were reloaded or reconfigured.
   */
  signals[SIGNAL_LISTS_CHANGED] =
    g_signal_new ("lists-changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 0);

  /**
   * MoatClient::events-added:
   * @events: (element-type MoatEvent): the new events, oldest first
   */
  signals[SIGNAL_EVENTS_ADDED] =
    g_signal_new ("events-added", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_PTR_ARRAY);
}

static void
moat_client_init (MoatClient *self)
{
  self->protection_state = MOAT_PROTECTION_STATE_UNPROTECTED;
  self->risk_level = MOAT_RISK_LEVEL_NONE;
  self->store_state = MOAT_STORE_STATE_OPENING;
}

/* ---- public API ---- */

void
moat_client_new_async (MoatClientFlags      flags,
                       GCancellable        *cancellable,
                       GAsyncReadyCallback  callback,
                       gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  MoatClient *self;
  const char *address = g_getenv ("MOAT_DBUS_ADDRESS");

  task = g_task_new (NULL, cancellable, callback, user_data);
  g_task_set_source_tag (task, moat_client_new_async);
  self = g_object_new (MOAT_TYPE_CLIENT, NULL);
  self->flags = flags;
  g_task_set_task_data (task, self, g_object_unref);

  if (address != NULL && address[0] != '\0')
    g_dbus_connection_new_for_address (address,
                                       G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT |
                                       G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION,
                                       NULL, cancellable, connection_ready_cb,
                                       g_steal_pointer (&task));
  else
    g_bus_get (G_BUS_TYPE_SESSION, cancellable, connection_ready_cb, g_steal_pointer (&task));
}

MoatClient *
moat_client_new_finish (GAsyncResult  *result,
                        GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, NULL), NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}

gboolean
moat_client_get_engine_running (MoatClient *self)
{
  g_return_val_if_fail (MOAT_IS_CLIENT (self), FALSE);
  return self->engine_running;
}

const char *
moat_client_get_version (MoatClient *self)
{
  g_return_val_if_fail (MOAT_IS_CLIENT (self), NULL);
  return self->version;
}

MoatProtectionState
moat_client_get_protection_state (MoatClient *self)
{
  g_return_val_if_fail (MOAT_IS_CLIENT (self), MOAT_PROTECTION_STATE_UNPROTECTED);
  return self->protection_state;
}

const char *
moat_client_get_protection_summary (MoatClient *self)
{
  g_return_val_if_fail (MOAT_IS_CLIENT (self), NULL);
  return self->protection_summary;
}

MoatRiskLevel
moat_client_get_risk_level (MoatClient *self)
{
  g_return_val_if_fail (MOAT_IS_CLIENT (self), MOAT_RISK_LEVEL_NONE);
  return self->risk_level;
}

const char *
moat_client_get_proxy_address (MoatClient *self)
{
  g_return_val_if_fail (MOAT_IS_CLIENT (self), NULL);
  return self->proxy_address;
}

MoatStoreState
moat_client_get_store_state (MoatClient *self)
{
  g_return_val_if_fail (MOAT_IS_CLIENT (self), MOAT_STORE_STATE_OPENING);
  return self->store_state;
}

const char *
moat_client_get_store_message (MoatClient *self)
{
  g_return_val_if_fail (MOAT_IS_CLIENT (self), NULL);
  return self->store_message;
}

gint64
moat_client_get_start_time (MoatClient *self)
{
  g_return_val_if_fail (MOAT_IS_CLIENT (self), 0);
  return self->start_time;
}

void
moat_client_start_engine_async (MoatClient          *self,
                                GCancellable        *cancellable,
                                GAsyncReadyCallback  callback,
                                gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;

  g_return_if_fail (MOAT_IS_CLIENT (self));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, moat_client_start_engine_async);
  if (self->engine_running)
    {
      g_task_return_boolean (task, TRUE);
      return;
    }
  g_dbus_connection_call (self->connection, "org.freedesktop.DBus", "/org/freedesktop/DBus",
                          "org.freedesktop.DBus", "StartServiceByName",
                          g_variant_new ("(su)", MOAT_DBUS_NAME, 0), G_VARIANT_TYPE ("(u)"),
                          G_DBUS_CALL_FLAGS_NONE, -1, cancellable, start_service_cb,
                          g_steal_pointer (&task));
}

gboolean
moat_client_start_engine_finish (MoatClient    *self,
                                 GAsyncResult  *result,
                                 GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}

void
moat_client_list_events_async (MoatClient            *self,
                               const MoatEventFilter *filter,
                               guint64                offset,
                               guint                  limit,
                               GCancellable          *cancellable,
                               GAsyncReadyCallback    callback,
                               gpointer               user_data)
{
  g_autoptr(GTask) task = NULL;

  g_return_if_fail (MOAT_IS_CLIENT (self));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, moat_client_list_events_async);
  if (!check_reachable (self, task))
    return;
  moat_dbus_moat1_call_list_events (self->proxy, moat_event_filter_to_variant (filter),
                                    offset, limit, cancellable, list_events_cb,
                                    g_steal_pointer (&task));
}

GPtrArray *
moat_client_list_events_finish (MoatClient    *self,
                                GAsyncResult  *result,
                                GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}

void
moat_client_count_events_async (MoatClient            *self,
                                const MoatEventFilter *filter,
                                GCancellable          *cancellable,
                                GAsyncReadyCallback    callback,
                                gpointer               user_data)
{
  g_autoptr(GTask) task = NULL;

  g_return_if_fail (MOAT_IS_CLIENT (self));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, moat_client_count_events_async);
  if (!check_reachable (self, task))
    return;
  moat_dbus_moat1_call_count_events (self->proxy, moat_event_filter_to_variant (filter),
                                     cancellable, count_events_cb, g_steal_pointer (&task));
}

gboolean
moat_client_count_events_finish (MoatClient    *self,
                                 GAsyncResult  *result,
                                 guint64       *out_count,
                                 GError       **error)
{
  g_autofree guint64 *count = NULL;

  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  count = g_task_propagate_pointer (G_TASK (result), error);
  if (count == NULL)
    return FALSE;
  if (out_count != NULL)
    *out_count = *count;
  return TRUE;
}

void
moat_client_category_counts_async (MoatClient          *self,
                                   gint64               since,
                                   gint64               until,
                                   const char          *action,
                                   GCancellable        *cancellable,
                                   GAsyncReadyCallback  callback,
                                   gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;

  g_return_if_fail (MOAT_IS_CLIENT (self));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, moat_client_category_counts_async);
  if (!check_reachable (self, task))
    return;
  moat_dbus_moat1_call_get_category_counts (self->proxy, since, until,
                                            action != NULL ? action : "",
                                            cancellable, category_counts_cb,
                                            g_steal_pointer (&task));
}

GHashTable *
moat_client_category_counts_finish (MoatClient    *self,
                                    GAsyncResult  *result,
                                    GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}

gboolean
moat_client_get_protect_computer (MoatClient *self)
{
  g_return_val_if_fail (MOAT_IS_CLIENT (self), FALSE);
  return self->protect_computer;
}

/* Returns: (transfer full): the list categories moatd uses now (empty when it
 * does not run) */
GStrv
moat_client_dup_enabled_categories (MoatClient *self)
{
  g_return_val_if_fail (MOAT_IS_CLIENT (self), NULL);

  if (self->enabled_categories == NULL)
    return g_new0 (char *, 1);
  return g_strdupv (self->enabled_categories);
}

static void
call_cb (GObject      *object,
         GAsyncResult *result,
         gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  g_autoptr(GError) error = NULL;
  GVariant *reply;

  reply = g_dbus_proxy_call_finish (G_DBUS_PROXY (object), result, &error);
  if (reply == NULL)
    {
      convert_error (&error);
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  g_task_return_pointer (task, reply, (GDestroyNotify) g_variant_unref);
}

/**
 * moat_client_call_async:
 * @method: a method of io.github.moatproject.Moat1 (data/dbus/…Moat1.xml
 *   documents each), e.g. "Check", "GetLists", "AddUserHost"
 * @parameters: (nullable): its arguments as a tuple; floating references are sunk
 *
 * Calls one of moatd's methods. Errors are MOAT_ERROR, as for every call.
 */
void
moat_client_call_async (MoatClient          *self,
                        const char          *method,
                        GVariant            *parameters,
                        GCancellable        *cancellable,
                        GAsyncReadyCallback  callback,
                        gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;

  g_return_if_fail (MOAT_IS_CLIENT (self));
  g_return_if_fail (method != NULL);

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, moat_client_call_async);
  if (parameters != NULL)
    g_variant_ref_sink (parameters);
  if (!check_reachable (self, task))
    {
      g_clear_pointer (&parameters, g_variant_unref);
      return;
    }
  g_dbus_proxy_call (G_DBUS_PROXY (self->proxy), method, parameters, G_DBUS_CALL_FLAGS_NONE,
                     -1, cancellable, call_cb, g_steal_pointer (&task));
  g_clear_pointer (&parameters, g_variant_unref);
}

static void
call_with_fds_cb (GObject      *object,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GUnixFDList) out_fds = NULL;
  GVariant *reply;

  reply = g_dbus_proxy_call_with_unix_fd_list_finish (G_DBUS_PROXY (object), &out_fds, result,
                                                      &error);
  if (reply == NULL)
    {
      convert_error (&error);
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  g_task_return_pointer (task, reply, (GDestroyNotify) g_variant_unref);
}

/**
 * moat_client_call_with_fds_async:
 * @fds: the file descriptors the "h" arguments of @parameters index
 *
 * As moat_client_call_async(), passing @fds (ImportIndicators).
 */
void
moat_client_call_with_fds_async (MoatClient          *self,
                                 const char          *method,
                                 GVariant            *parameters,
                                 GUnixFDList         *fds,
                                 GCancellable        *cancellable,
                                 GAsyncReadyCallback  callback,
                                 gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;

  g_return_if_fail (MOAT_IS_CLIENT (self));
  g_return_if_fail (method != NULL);

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, moat_client_call_with_fds_async);
  if (parameters != NULL)
    g_variant_ref_sink (parameters);
  if (!check_reachable (self, task))
    {
      g_clear_pointer (&parameters, g_variant_unref);
      return;
    }
  g_dbus_proxy_call_with_unix_fd_list (G_DBUS_PROXY (self->proxy), method, parameters,
                                       G_DBUS_CALL_FLAGS_NONE, -1, fds, cancellable,
                                       call_with_fds_cb, g_steal_pointer (&task));
  g_clear_pointer (&parameters, g_variant_unref);
}

GVariant *
moat_client_call_with_fds_finish (MoatClient    *self,
                                  GAsyncResult  *result,
                                  GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}

/* Returns: (transfer full): the reply tuple */
GVariant *
moat_client_call_finish (MoatClient    *self,
                         GAsyncResult  *result,
                         GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}
