/* SPDX-License-Identifier: GPL-3.0-or-later
 * Copyright 2026 The Moat developers
 */
#define G_LOG_DOMAIN "moatd"

#include "config.h"

#include "moat-daemon.h"

#include "moat-dbus-generated.h"
#include "moat-enums.h"
#include "moat-error.h"
#include "moat-event.h"

#include <gio/gunixfdlist.h>
#include <gio/gunixinputstream.h>
#include <glib/gi18n.h>
#include <string.h>

#include "moat-ioc.h"

/* One EventsAdded signal carries at most about this many bytes; a bigger batch
 * (only a flood of huge events makes one) is split so no message nears the
 * bus's size limit. */
#define EVENTS_ADDED_MAX_BYTES (16 * 1024 * 1024)

struct _MoatDaemon
{
  GObject                parent_instance;

  /* owned */
  MoatEngine            *engine;
  MoatDBusMoat1         *skeleton;
#if MOAT_ENABLE_TEST_API
  MoatDBusMoat1Testing  *testing;
#endif
  GCancellable          *cancellable;
  GHashTable            *in_flight;     /* sender (char *) -> GUINT_TO_POINTER (calls) */

  gboolean               exported;
};

G_DEFINE_FINAL_TYPE (MoatDaemon, moat_daemon, G_TYPE_OBJECT)

/* One method call in flight: owns the invocation until it is completed. */
typedef struct {
  MoatDaemon            *self;        /* owned */
  GDBusMethodInvocation *invocation;  /* owned: completing it consumes it */
  char                  *sender;
} Call;

static const char *
sender_of (GDBusMethodInvocation *invocation)
{
  const char *sender = g_dbus_method_invocation_get_sender (invocation);

  return sender != NULL ? sender : "";
}

/* Completes @invocation with @error (transfer full) in the MOAT_ERROR domain. */
static void
return_error (GDBusMethodInvocation *invocation,
              GError                *error)
{
  moat_error_convert (&error);
  g_dbus_method_invocation_return_gerror (invocation, error);
  g_error_free (error);
}

/* Counts the call against its sender's limit; refuses it (completing the
 * invocation) and returns NULL when the sender has too many in flight. */
static Call *
call_begin (MoatDaemon            *self,
            GDBusMethodInvocation *invocation)
{
  const char *sender = sender_of (invocation);
  guint n = GPOINTER_TO_UINT (g_hash_table_lookup (self->in_flight, sender));
  Call *call;

  if (n >= MOAT_DAEMON_MAX_CALLS_PER_SENDER)
    {
      g_debug ("Refusing a call from %s: %u calls in flight", sender, n);
      g_dbus_method_invocation_return_error (invocation, MOAT_ERROR, MOAT_ERROR_LIMIT_EXCEEDED,
                                             "Too many calls in flight (at most %u per client)",
                                             MOAT_DAEMON_MAX_CALLS_PER_SENDER);
      return NULL;
    }
  g_hash_table_replace (self->in_flight, g_strdup (sender), GUINT_TO_POINTER (n + 1));

  call = g_new0 (Call, 1);
  call->self = g_object_ref (self);
  call->invocation = invocation;
  call->sender = g_strdup (sender);
  return call;
}

static void
call_end (Call *call)
{
  MoatDaemon *self = call->self;
  guint n = GPOINTER_TO_UINT (g_hash_table_lookup (self->in_flight, call->sender));

  if (n <= 1)
    g_hash_table_remove (self->in_flight, call->sender);
  else
    g_hash_table_replace (self->in_flight, g_strdup (call->sender), GUINT_TO_POINTER (n - 1));

  /* Every path completes the invocation before it ends the call. */
  g_warn_if_fail (call->invocation == NULL);
  g_free (call->sender);
  g_object_unref (call->self);
  g_free (call);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Call, call_end)

static void
call_return_error (Call   *call,
                   GError *error)
{
  return_error (g_steal_pointer (&call->invocation), error);
}

static gboolean
transform_protection_state (GBinding     *binding,
                            const GValue *from,
                            GValue       *to,
                            gpointer      user_data)
{
  const char *nick = moat_protection_state_to_string (g_value_get_int (from));

  g_value_set_string (to, nick != NULL ? nick : "unprotected");
  return TRUE;
}

static gboolean
transform_risk_level (GBinding     *binding,
                      const GValue *from,
                      GValue       *to,
                      gpointer      user_data)
{
  const char *nick = moat_risk_level_to_string (g_value_get_int (from));

  g_value_set_string (to, nick != NULL ? nick : "none");
  return TRUE;
}

static gboolean
transform_store_state (GBinding     *binding,
                       const GValue *from,
                       GValue       *to,
                       gpointer      user_data)
{
  const char *nick = moat_store_state_to_string (g_value_get_int (from));

  g_value_set_string (to, nick != NULL ? nick : "error");
  return TRUE;
}

static gsize
event_size (const MoatEvent *event)
{
  return 64 + strlen (event->threat) + strlen (event->subject) +
         strlen (event->action) + strlen (event->detail);
}

static void
on_engine_events_added_cb (MoatEngine *engine,
                           GPtrArray  *events,
                           MoatDaemon *self)
{
  guint start = 0;

  if (!self->exported)
    return;

  /* One batch from the engine is one EventsAdded signal (split only past
   * EVENTS_ADDED_MAX_BYTES). */
  while (start < events->len)
    {
      g_autoptr(GPtrArray) chunk = g_ptr_array_new ();
      gsize bytes = 0;

      for (; start < events->len; start++)
        {
          MoatEvent *event = g_ptr_array_index (events, start);
          gsize size = event_size (event);

          if (chunk->len > 0 && bytes + size > EVENTS_ADDED_MAX_BYTES)
            break;
          g_ptr_array_add (chunk, event);
          bytes += size;
        }
      moat_dbus_moat1_emit_events_added (self->skeleton, moat_events_to_variant (chunk));
    }
}

static void
list_events_cb (GObject      *object,
                GAsyncResult *result,
                gpointer      user_data)
{
  g_autoptr(Call) call = user_data;
  g_autoptr(GPtrArray) events = NULL;
  GError *error = NULL;

  events = moat_engine_list_events_finish (MOAT_ENGINE (object), result, &error);
  if (events == NULL)
    {
      call_return_error (call, error);
      return;
    }
  moat_dbus_moat1_complete_list_events (call->self->skeleton, g_steal_pointer (&call->invocation),
                                        moat_events_to_variant (events));
}

static gboolean
on_handle_list_events_cb (MoatDBusMoat1         *skeleton,
                          GDBusMethodInvocation *invocation,
                          GVariant              *arg_filter,
                          guint64                arg_offset,
                          guint                  arg_limit,
                          MoatDaemon            *self)
{
  g_autoptr(MoatEventFilter) filter = NULL;
  GError *error = NULL;
  Call *call;

  filter = moat_event_filter_new_from_variant (arg_filter, &error);
  if (filter == NULL)
    {
      return_error (invocation, error);
      return G_DBUS_METHOD_INVOCATION_HANDLED;
    }
  if (arg_limit < 1 || arg_limit > 1000)
    {
      g_dbus_method_invocation_return_error (invocation, MOAT_ERROR, MOAT_ERROR_INVALID_ARGUMENT,
                                             "The limit must be between 1 and 1000, not %u",
                                             arg_limit);
      return G_DBUS_METHOD_INVOCATION_HANDLED;
    }
  call = call_begin (self, invocation);
  if (call == NULL)
    return G_DBUS_METHOD_INVOCATION_HANDLED;
  moat_engine_list_events_async (self->engine, filter, arg_offset, arg_limit, self->cancellable,
                                 list_events_cb, call);
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static void
count_events_cb (GObject      *object,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  g_autoptr(Call) call = user_data;
  GError *error = NULL;
  guint64 count = 0;

  if (!moat_engine_count_events_finish (MOAT_ENGINE (object), result, &count, &error))
    {
      call_return_error (call, error);
      return;
    }
  moat_dbus_moat1_complete_count_events (call->self->skeleton, g_steal_pointer (&call->invocation),
                                         count);
}

static gboolean
on_handle_count_events_cb (MoatDBusMoat1         *skeleton,
                           GDBusMethodInvocation *invocation,
                           GVariant              *arg_filter,
                           MoatDaemon            *self)
{
  g_autoptr(MoatEventFilter) filter = NULL;
  GError *error = NULL;
  Call *call;

  filter = moat_event_filter_new_from_variant (arg_filter, &error);
  if (filter == NULL)
    {
      return_error (invocation, error);
      return G_DBUS_METHOD_INVOCATION_HANDLED;
    }
  call = call_begin (self, invocation);
  if (call == NULL)
    return G_DBUS_METHOD_INVOCATION_HANDLED;
  moat_engine_count_events_async (self->engine, filter, self->cancellable, count_events_cb, call);
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static void
category_counts_cb (GObject      *object,
                    GAsyncResult *result,
                    gpointer      user_data)
{
  g_autoptr(Call) call = user_data;
  g_autoptr(GHashTable) counts = NULL;
  GError *error = NULL;
  GVariantBuilder builder;
  GHashTableIter iter;
  gpointer key, value;

  counts = moat_engine_category_counts_finish (MOAT_ENGINE (object), result, &error);
  if (counts == NULL)
    {
      call_return_error (call, error);
      return;
    }
  g_variant_builder_init (&builder, G_VARIANT_TYPE ("a{st}"));
  g_hash_table_iter_init (&iter, counts);
  while (g_hash_table_iter_next (&iter, &key, &value))
    g_variant_builder_add (&builder, "{st}", (const char *) key, *(guint64 *) value);
  moat_dbus_moat1_complete_get_category_counts (call->self->skeleton,
                                                g_steal_pointer (&call->invocation),
                                                g_variant_builder_end (&builder));
}

static gboolean
on_handle_get_category_counts_cb (MoatDBusMoat1         *skeleton,
                                  GDBusMethodInvocation *invocation,
                                  gint64                 arg_start_time,
                                  gint64                 arg_end_time,
                                  const char            *arg_action,
                                  MoatDaemon            *self)
{
  Call *call;

  if (arg_start_time < 0 || arg_end_time < 0 ||
      (arg_end_time != 0 && arg_end_time < arg_start_time))
    {
      g_dbus_method_invocation_return_error_literal (invocation, MOAT_ERROR,
                                                     MOAT_ERROR_INVALID_ARGUMENT,
                                                     "The time window is invalid: start must "
                                                     "not be negative nor after the end");
      return G_DBUS_METHOD_INVOCATION_HANDLED;
    }
  if (strlen (arg_action) > MOAT_EVENT_ACTION_MAX)
    {
      g_dbus_method_invocation_return_error (invocation, MOAT_ERROR, MOAT_ERROR_INVALID_ARGUMENT,
                                             "The action is longer than %u bytes",
                                             MOAT_EVENT_ACTION_MAX);
      return G_DBUS_METHOD_INVOCATION_HANDLED;
    }
  call = call_begin (self, invocation);
  if (call == NULL)
    return G_DBUS_METHOD_INVOCATION_HANDLED;
  moat_engine_category_counts_async (self->engine, arg_start_time, arg_end_time, arg_action,
                                     self->cancellable, category_counts_cb, call);
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

/* Lists, checks and the user's hosts. These only touch memory and GSettings
 * (whose backend writes asynchronously), so they answer at once. */

static GVariant *
list_info_to_variant (const MoatListInfo *info)
{
  GVariantBuilder builder;

  g_variant_builder_init (&builder, G_VARIANT_TYPE_VARDICT);
  g_variant_builder_add (&builder, "{sv}", "id", g_variant_new_string (info->id));
  g_variant_builder_add (&builder, "{sv}", "name", g_variant_new_string (info->name));
  g_variant_builder_add (&builder, "{sv}", "kind",
                         g_variant_new_string (moat_list_kind_to_string (info->kind)));
  g_variant_builder_add (&builder, "{sv}", "category",
                         g_variant_new_string (moat_filter_category_to_string (info->category)));
  g_variant_builder_add (&builder, "{sv}", "source",
                         g_variant_new_string (info->source != NULL ? info->source : ""));
  g_variant_builder_add (&builder, "{sv}", "enabled", g_variant_new_boolean (info->enabled));
  g_variant_builder_add (&builder, "{sv}", "list-enabled", g_variant_new_boolean (info->list_enabled));
  g_variant_builder_add (&builder, "{sv}", "loaded", g_variant_new_boolean (info->loaded));
  g_variant_builder_add (&builder, "{sv}", "rules", g_variant_new_uint32 (info->n_rules));
  g_variant_builder_add (&builder, "{sv}", "bad-lines", g_variant_new_uint32 (info->n_bad_lines));
  g_variant_builder_add (&builder, "{sv}", "bad-line-numbers",
                         g_variant_new_fixed_array (G_VARIANT_TYPE_UINT32,
                                                    info->bad_lines != NULL ? info->bad_lines->data : NULL,
                                                    info->bad_lines != NULL ? info->bad_lines->len : 0,
                                                    sizeof (guint32)));
  g_variant_builder_add (&builder, "{sv}", "updated", g_variant_new_int64 (info->updated));
  g_variant_builder_add (&builder, "{sv}", "error",
                         g_variant_new_string (info->error != NULL ? info->error : ""));
  return g_variant_builder_end (&builder);
}

static gboolean
on_handle_get_lists_cb (MoatDBusMoat1         *skeleton,
                        GDBusMethodInvocation *invocation,
                        MoatDaemon            *self)
{
  g_autoptr(GPtrArray) infos = moat_lists_dup_infos (moat_engine_get_lists (self->engine));
  GVariantBuilder builder;

  g_variant_builder_init (&builder, G_VARIANT_TYPE ("aa{sv}"));
  for (guint i = 0; i < infos->len; i++)
    g_variant_builder_add_value (&builder, list_info_to_variant (g_ptr_array_index (infos, i)));
  moat_dbus_moat1_complete_get_lists (skeleton, invocation, g_variant_builder_end (&builder));
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static const char *
verdict_to_string (MoatFilterVerdict verdict)
{
  switch (verdict)
    {
    case MOAT_FILTER_VERDICT_BLOCK:
      return "block";
    case MOAT_FILTER_VERDICT_ALLOW:
      return "allow";
    case MOAT_FILTER_VERDICT_NONE:
    default:
      return "none";
    }
}

static gboolean
on_handle_check_cb (MoatDBusMoat1         *skeleton,
                    GDBusMethodInvocation *invocation,
                    const char            *arg_target,
                    MoatDaemon            *self)
{
  MoatListCheck check;
  GVariantBuilder builder;
  GError *error = NULL;

  if (!moat_lists_check (moat_engine_get_lists (self->engine), arg_target, &check, &error))
    {
      return_error (invocation, error);
      return G_DBUS_METHOD_INVOCATION_HANDLED;
    }
  g_variant_builder_init (&builder, G_VARIANT_TYPE_VARDICT);
  g_variant_builder_add (&builder, "{sv}", "host", g_variant_new_string (check.host));
  g_variant_builder_add (&builder, "{sv}", "verdict",
                         g_variant_new_string (verdict_to_string (check.verdict)));
  if (check.protected_resource)
    g_variant_builder_add (&builder, "{sv}", "protected-resource", g_variant_new_boolean (TRUE));
  if (check.verdict != MOAT_FILTER_VERDICT_NONE)
    {
      g_variant_builder_add (&builder, "{sv}", "category",
                             g_variant_new_string (moat_filter_category_to_string (check.category)));
      g_variant_builder_add (&builder, "{sv}", "list-id",
                             g_variant_new_string (check.list_id != NULL ? check.list_id : ""));
      g_variant_builder_add (&builder, "{sv}", "list-name",
                             g_variant_new_string (check.list_name != NULL ? check.list_name : ""));
      if (check.rule != NULL && g_utf8_validate (check.rule, -1, NULL))
        g_variant_builder_add (&builder, "{sv}", "rule", g_variant_new_string (check.rule));
      g_variant_builder_add (&builder, "{sv}", "line", g_variant_new_uint32 (check.line));
    }
  moat_list_check_clear (&check);
  moat_dbus_moat1_complete_check (skeleton, invocation, g_variant_builder_end (&builder));
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static gboolean
on_handle_set_list_enabled_cb (MoatDBusMoat1         *skeleton,
                               GDBusMethodInvocation *invocation,
                               const char            *arg_id,
                               gboolean               arg_enabled,
                               MoatDaemon            *self)
{
  GError *error = NULL;

  if (!moat_lists_set_enabled (moat_engine_get_lists (self->engine), arg_id, arg_enabled, &error))
    return_error (invocation, error);
  else
    moat_dbus_moat1_complete_set_list_enabled (skeleton, invocation);
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static gboolean
parse_category (const char          *str,
                MoatFilterCategory  *category,
                GDBusMethodInvocation *invocation)
{
  if (moat_filter_category_from_string (str, category))
    return TRUE;
  g_dbus_method_invocation_return_error (invocation, MOAT_ERROR, MOAT_ERROR_INVALID_ARGUMENT,
                                         "Unknown category “%s” (ads, trackers, malware, phishing, "
                                         "scam, c2, adult, gambling, custom)", str);
  return FALSE;
}

static gboolean
on_handle_set_category_enabled_cb (MoatDBusMoat1         *skeleton,
                                   GDBusMethodInvocation *invocation,
                                   const char            *arg_category,
                                   gboolean               arg_enabled,
                                   MoatDaemon            *self)
{
  MoatFilterCategory category;

  if (!parse_category (arg_category, &category, invocation))
    return G_DBUS_METHOD_INVOCATION_HANDLED;
  moat_lists_set_category_enabled (moat_engine_get_lists (self->engine), category, arg_enabled);
  moat_dbus_moat1_complete_set_category_enabled (skeleton, invocation);
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static gboolean
on_handle_add_list_cb (MoatDBusMoat1         *skeleton,
                       GDBusMethodInvocation *invocation,
                       const char            *arg_source,
                       const char            *arg_category,
                       const char            *arg_name,
                       MoatDaemon            *self)
{
  MoatFilterCategory category;
  g_autofree char *id = NULL;
  GError *error = NULL;

  if (!parse_category (arg_category, &category, invocation))
    return G_DBUS_METHOD_INVOCATION_HANDLED;
  id = moat_lists_add (moat_engine_get_lists (self->engine), arg_source, category, arg_name, &error);
  if (id == NULL)
    return_error (invocation, error);
  else
    moat_dbus_moat1_complete_add_list (skeleton, invocation, id);
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static gboolean
on_handle_remove_list_cb (MoatDBusMoat1         *skeleton,
                          GDBusMethodInvocation *invocation,
                          const char            *arg_id,
                          MoatDaemon            *self)
{
  GError *error = NULL;

  if (!moat_lists_remove (moat_engine_get_lists (self->engine), arg_id, &error))
    return_error (invocation, error);
  else
    moat_dbus_moat1_complete_remove_list (skeleton, invocation);
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static gboolean
on_handle_get_user_hosts_cb (MoatDBusMoat1         *skeleton,
                             GDBusMethodInvocation *invocation,
                             MoatDaemon            *self)
{
  GSettings *settings = moat_engine_get_settings (self->engine);
  g_auto(GStrv) allowed = g_settings_get_strv (settings, "user-allowed-hosts");
  g_auto(GStrv) blocked = g_settings_get_strv (settings, "user-blocked-hosts");

  moat_dbus_moat1_complete_get_user_hosts (skeleton, invocation,
                                           (const char * const *) allowed,
                                           (const char * const *) blocked);
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static gboolean
on_handle_get_protected_resources_cb (MoatDBusMoat1         *skeleton,
                                      GDBusMethodInvocation *invocation,
                                      MoatDaemon            *self)
{
  g_auto(GStrv) hosts = moat_lists_dup_protected_resources (moat_engine_get_lists (self->engine));

  moat_dbus_moat1_complete_get_protected_resources (skeleton, invocation,
                                                    (const char * const *) hosts);
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

typedef enum {
  USER_LIST_ALLOW,
  USER_LIST_BLOCK,
  USER_LIST_PROTECTED,
} UserList;

static gboolean
parse_user_list (const char            *list,
                 UserList              *which,
                 GDBusMethodInvocation *invocation)
{
  if (g_strcmp0 (list, "allow") == 0)
    *which = USER_LIST_ALLOW;
  else if (g_strcmp0 (list, "block") == 0)
    *which = USER_LIST_BLOCK;
  else if (g_strcmp0 (list, "protected") == 0)
    *which = USER_LIST_PROTECTED;
  else
    {
      g_dbus_method_invocation_return_error (invocation, MOAT_ERROR, MOAT_ERROR_INVALID_ARGUMENT,
                                             "The list must be “allow”, “block” or “protected”, "
                                             "not “%s”", list);
      return FALSE;
    }
  return TRUE;
}

static gboolean
on_handle_add_user_host_cb (MoatDBusMoat1         *skeleton,
                            GDBusMethodInvocation *invocation,
                            const char            *arg_host,
                            const char            *arg_list,
                            MoatDaemon            *self)
{
  MoatLists *lists = moat_engine_get_lists (self->engine);
  g_autofree char *normalized = NULL;
  GError *error = NULL;
  UserList which;
  gboolean ok;

  if (!parse_user_list (arg_list, &which, invocation))
    return G_DBUS_METHOD_INVOCATION_HANDLED;
  if (which == USER_LIST_PROTECTED)
    ok = moat_lists_add_protected_resource (lists, arg_host, &normalized, &error);
  else
    ok = moat_lists_add_user_host (lists, arg_host, which == USER_LIST_ALLOW, &normalized, &error);
  if (!ok)
    return_error (invocation, error);
  else
    moat_dbus_moat1_complete_add_user_host (skeleton, invocation, normalized);
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static gboolean
on_handle_remove_user_host_cb (MoatDBusMoat1         *skeleton,
                               GDBusMethodInvocation *invocation,
                               const char            *arg_host,
                               const char            *arg_list,
                               MoatDaemon            *self)
{
  MoatLists *lists = moat_engine_get_lists (self->engine);
  GError *error = NULL;
  UserList which;
  gboolean ok;

  if (!parse_user_list (arg_list, &which, invocation))
    return G_DBUS_METHOD_INVOCATION_HANDLED;
  if (which == USER_LIST_PROTECTED)
    ok = moat_lists_remove_protected_resource (lists, arg_host, &error);
  else
    ok = moat_lists_remove_user_host (lists, arg_host, which == USER_LIST_ALLOW, &error);
  if (!ok)
    return_error (invocation, error);
  else
    moat_dbus_moat1_complete_remove_user_host (skeleton, invocation);
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static gboolean
on_handle_get_policy_cb (MoatDBusMoat1         *skeleton,
                         GDBusMethodInvocation *invocation,
                         MoatDaemon            *self)
{
  MoatPolicyManager *manager = moat_engine_get_policy_manager (self->engine);
  g_autofree char *text = moat_policy_to_string (moat_policy_manager_get_policy (manager));

  moat_dbus_moat1_complete_get_policy (skeleton, invocation,
                                       moat_policy_manager_get_name (manager), text);
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static void
load_policy_cb (GObject      *object,
                GAsyncResult *result,
                gpointer      user_data)
{
  g_autoptr(Call) call = user_data;
  GError *error = NULL;

  if (!moat_policy_manager_load_finish (MOAT_POLICY_MANAGER (object), result, &error))
    {
      call_return_error (call, error);
      return;
    }
  moat_dbus_moat1_complete_load_policy (call->self->skeleton,
                                        g_steal_pointer (&call->invocation));
}

static gboolean
on_handle_load_policy_cb (MoatDBusMoat1         *skeleton,
                          GDBusMethodInvocation *invocation,
                          const char            *arg_name,
                          const char            *arg_text,
                          MoatDaemon            *self)
{
  Call *call;

  if (strlen (arg_text) > MOAT_POLICY_MAX_SIZE)
    {
      g_dbus_method_invocation_return_error (invocation, MOAT_ERROR, MOAT_ERROR_INVALID_ARGUMENT,
                                             "%s: the file is larger than %d KiB", arg_name,
                                             MOAT_POLICY_MAX_SIZE / 1024);
      return G_DBUS_METHOD_INVOCATION_HANDLED;
    }
  call = call_begin (self, invocation);
  if (call == NULL)
    return G_DBUS_METHOD_INVOCATION_HANDLED;
  moat_policy_manager_load_async (moat_engine_get_policy_manager (self->engine), arg_name,
                                  arg_text, self->cancellable, load_policy_cb, call);
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static gboolean
on_handle_get_proxy_stats_cb (MoatDBusMoat1         *skeleton,
                              GDBusMethodInvocation *invocation,
                              MoatDaemon            *self)
{
  MoatProxy *proxy = moat_engine_get_proxy (self->engine);
  MoatProxyStats stats = { 0 };
  GVariantBuilder builder;

  if (proxy != NULL)
    moat_proxy_get_stats (proxy, &stats);
  g_variant_builder_init (&builder, G_VARIANT_TYPE_VARDICT);
  g_variant_builder_add (&builder, "{sv}", "running", g_variant_new_boolean (proxy != NULL));
  g_variant_builder_add (&builder, "{sv}", "requests", g_variant_new_uint64 (stats.requests));
  g_variant_builder_add (&builder, "{sv}", "tunnels", g_variant_new_uint64 (stats.tunnels));
  g_variant_builder_add (&builder, "{sv}", "blocked", g_variant_new_uint64 (stats.blocked));
  g_variant_builder_add (&builder, "{sv}", "errors", g_variant_new_uint64 (stats.errors));
  g_variant_builder_add (&builder, "{sv}", "connections", g_variant_new_uint32 (stats.connections));
  moat_dbus_moat1_complete_get_proxy_stats (skeleton, invocation, g_variant_builder_end (&builder));
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static gboolean
on_handle_update_lists_cb (MoatDBusMoat1         *skeleton,
                           GDBusMethodInvocation *invocation,
                           MoatDaemon            *self)
{
  GError *error = NULL;
  int started = moat_lists_update (moat_engine_get_lists (self->engine), &error);

  if (started < 0)
    return_error (invocation, error);
  else
    moat_dbus_moat1_complete_update_lists (skeleton, invocation, (guint) started);
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static gboolean
on_handle_allow_once_cb (MoatDBusMoat1         *skeleton,
                         GDBusMethodInvocation *invocation,
                         const char            *arg_host,
                         MoatDaemon            *self)
{
  GError *error = NULL;

  if (!moat_engine_allow_once (self->engine, arg_host, &error))
    return_error (invocation, error);
  else
    moat_dbus_moat1_complete_allow_once (skeleton, invocation);
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static gboolean
on_handle_set_protect_computer_cb (MoatDBusMoat1         *skeleton,
                                   GDBusMethodInvocation *invocation,
                                   gboolean               arg_enabled,
                                   MoatDaemon            *self)
{
  GError *error = NULL;

  if (!moat_engine_set_protect_computer (self->engine, arg_enabled, &error))
    return_error (invocation, error);
  else
    moat_dbus_moat1_complete_set_protect_computer (skeleton, invocation);
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static void
on_lists_changed_cb (MoatLists  *lists,
                     MoatDaemon *self)
{
  if (self->exported)
    moat_dbus_moat1_emit_lists_changed (self->skeleton);
}

static gboolean
on_handle_get_threats_cb (MoatDBusMoat1         *skeleton,
                          GDBusMethodInvocation *invocation,
                          MoatDaemon            *self)
{
  GPtrArray *threats = moat_engine_get_threats (self->engine);
  GVariantBuilder b;

  g_variant_builder_init (&b, G_VARIANT_TYPE ("a(ssssx)"));
  for (guint i = 0; i < threats->len; i++)
    {
      const MoatThreat *t = g_ptr_array_index (threats, i);

      g_variant_builder_add (&b, "(ssssx)", t->threat, moat_severity_to_string (t->severity),
                             t->subject, t->evidence, t->since);
    }
  moat_dbus_moat1_complete_get_threats (skeleton, invocation, g_variant_builder_end (&b));
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static gboolean
on_handle_get_responses_cb (MoatDBusMoat1         *skeleton,
                            GDBusMethodInvocation *invocation,
                            MoatDaemon            *self)
{
  g_autoptr(GPtrArray) responses =
    moat_responder_get_responses (moat_engine_get_responder (self->engine));
  GVariantBuilder b;

  g_variant_builder_init (&b, G_VARIANT_TYPE ("a(sssss)"));
  for (guint i = 0; i < responses->len; i++)
    {
      const MoatResponse *r = g_ptr_array_index (responses, i);

      g_variant_builder_add (&b, "(sssss)", r->threat, r->subject,
                             moat_action_to_string (r->action),
                             moat_response_state_to_string (r->state),
                             r->reason != NULL ? r->reason : "");
    }
  moat_dbus_moat1_complete_get_responses (skeleton, invocation, g_variant_builder_end (&b));
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static GVariant *
findings_to_variant (GPtrArray *findings)
{
  GVariantBuilder b;

  g_variant_builder_init (&b, G_VARIANT_TYPE ("a(sssssssx)"));
  for (guint i = 0; findings != NULL && i < findings->len; i++)
    {
      const MoatTimedFinding *timed = g_ptr_array_index (findings, i);
      const MoatFinding *f = timed->finding;
      gboolean threat = f->result == MOAT_FINDING_THREAT;

      g_variant_builder_add (&b, "(sssssssx)", f->detector, f->subject,
                             moat_finding_result_to_string (f->result),
                             threat ? f->threat : "",
                             threat ? moat_severity_to_string (f->severity) : "",
                             f->summary, f->evidence != NULL ? f->evidence : "{}", timed->time);
    }
  return g_variant_builder_end (&b);
}

static gboolean
on_handle_get_findings_cb (MoatDBusMoat1         *skeleton,
                           GDBusMethodInvocation *invocation,
                           MoatDaemon            *self)
{
  GPtrArray *findings = moat_detectors_get_findings (moat_engine_get_detectors (self->engine));

  moat_dbus_moat1_complete_get_findings (skeleton, invocation, findings_to_variant (findings));
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static void
scan_cb (GObject      *object,
         GAsyncResult *result,
         gpointer      user_data)
{
  g_autoptr(Call) call = user_data;
  g_autoptr(GPtrArray) findings = NULL;
  GError *error = NULL;

  findings = moat_detectors_scan_finish (MOAT_DETECTORS (object), result, &error);
  if (findings == NULL)
    {
      call_return_error (call, error);
      return;
    }
  moat_dbus_moat1_complete_scan (call->self->skeleton, g_steal_pointer (&call->invocation),
                                 findings_to_variant (findings));
}

static gboolean
on_handle_scan_cb (MoatDBusMoat1         *skeleton,
                   GDBusMethodInvocation *invocation,
                   MoatDaemon            *self)
{
  Call *call = call_begin (self, invocation);

  if (call == NULL)
    return G_DBUS_METHOD_INVOCATION_HANDLED;
  moat_detectors_scan_async (moat_engine_get_detectors (self->engine), self->cancellable, scan_cb,
                             call);
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static void
on_findings_changed_cb (MoatDetectors *detectors,
                        MoatDaemon    *self)
{
  if (self->exported)
    moat_dbus_moat1_emit_findings_changed (self->skeleton);
}

static void
on_engine_threats_changed_cb (MoatEngine *engine,
                              MoatDaemon *self)
{
  if (self->exported)
    moat_dbus_moat1_emit_threats_changed (self->skeleton);
}

/* ---- phones ---- */

static void
devices_listed_cb (GObject      *object,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  g_autoptr(Call) call = user_data;
  g_autoptr(GPtrArray) devices = NULL;
  GVariantBuilder builder;

  moat_device_manager_wait_listed_finish (MOAT_DEVICE_MANAGER (object), result, NULL);
  devices = moat_device_manager_get_devices (MOAT_DEVICE_MANAGER (object));
  g_variant_builder_init (&builder, G_VARIANT_TYPE ("a(ssssssssbx)"));
  for (guint i = 0; i < devices->len; i++)
    {
      const MoatDeviceInfo *d = g_ptr_array_index (devices, i);

      g_variant_builder_add (&builder, "(ssssssssbx)", d->serial, d->platform, d->model, d->os,
                             d->connection, d->state, d->risk, d->message, d->routing,
                             d->checked);
    }
  moat_dbus_moat1_complete_get_devices (call->self->skeleton, g_steal_pointer (&call->invocation),
                                        g_variant_builder_end (&builder));
}

static gboolean
on_handle_get_devices_cb (MoatDBusMoat1         *skeleton,
                          GDBusMethodInvocation *invocation,
                          MoatDaemon            *self)
{
  Call *call = call_begin (self, invocation);

  if (call == NULL)
    return G_DBUS_METHOD_INVOCATION_HANDLED;
  moat_device_manager_wait_listed_async (moat_engine_get_devices (self->engine),
                                         devices_listed_cb, call);
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static gboolean
on_handle_get_device_posture_cb (MoatDBusMoat1         *skeleton,
                                 GDBusMethodInvocation *invocation,
                                 const char            *serial,
                                 MoatDaemon            *self)
{
  GError *error = NULL;
  g_autoptr(GPtrArray) findings = moat_device_manager_get_posture (
    moat_engine_get_devices (self->engine), serial, &error);
  GVariantBuilder builder;

  if (findings == NULL)
    {
      return_error (invocation, error);
      return G_DBUS_METHOD_INVOCATION_HANDLED;
    }
  g_variant_builder_init (&builder, G_VARIANT_TYPE ("a(ssssssssasss)"));
  for (guint i = 0; i < findings->len; i++)
    {
      const MoatDeviceFinding *f = g_ptr_array_index (findings, i);

      g_variant_builder_add (&builder, "(ssssssss^asss)", f->check, f->result, f->threat,
                             f->severity, f->summary, f->why, f->fix, f->screen, f->packages,
                             f->evidence, f->command);
    }
  moat_dbus_moat1_complete_get_device_posture (skeleton, invocation,
                                               g_variant_builder_end (&builder));
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static void
device_checked_cb (GObject      *object,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  g_autoptr(Call) call = user_data;
  GError *error = NULL;

  if (!moat_device_manager_check_finish (MOAT_DEVICE_MANAGER (object), result, &error))
    {
      call_return_error (call, error);
      return;
    }
  moat_dbus_moat1_complete_check_device (call->self->skeleton,
                                         g_steal_pointer (&call->invocation));
}

static gboolean
on_handle_check_device_cb (MoatDBusMoat1         *skeleton,
                           GDBusMethodInvocation *invocation,
                           const char            *serial,
                           MoatDaemon            *self)
{
  Call *call = call_begin (self, invocation);

  if (call == NULL)
    return G_DBUS_METHOD_INVOCATION_HANDLED;
  moat_device_manager_check_async (moat_engine_get_devices (self->engine), serial,
                                   self->cancellable, device_checked_cb, call);
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static void
device_connected_cb (GObject      *object,
                     GAsyncResult *result,
                     gpointer      user_data)
{
  g_autoptr(Call) call = user_data;
  GError *error = NULL;
  g_autofree char *serial = moat_device_manager_connect_finish (MOAT_DEVICE_MANAGER (object),
                                                                result, &error);

  if (serial == NULL)
    {
      call_return_error (call, error);
      return;
    }
  moat_dbus_moat1_complete_connect_device (call->self->skeleton,
                                           g_steal_pointer (&call->invocation), serial);
}

static gboolean
on_handle_connect_device_cb (MoatDBusMoat1         *skeleton,
                             GDBusMethodInvocation *invocation,
                             const char            *address,
                             MoatDaemon            *self)
{
  Call *call = call_begin (self, invocation);

  if (call == NULL)
    return G_DBUS_METHOD_INVOCATION_HANDLED;
  moat_device_manager_connect_async (moat_engine_get_devices (self->engine), address,
                                     self->cancellable, device_connected_cb, call);
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static void
device_routed_cb (GObject      *object,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  g_autoptr(Call) call = user_data;
  GError *error = NULL;

  if (!moat_device_manager_set_routing_finish (MOAT_DEVICE_MANAGER (object), result, &error))
    {
      call_return_error (call, error);
      return;
    }
  moat_dbus_moat1_complete_set_device_routing (call->self->skeleton,
                                               g_steal_pointer (&call->invocation));
}

static gboolean
on_handle_set_device_routing_cb (MoatDBusMoat1         *skeleton,
                                 GDBusMethodInvocation *invocation,
                                 const char            *serial,
                                 gboolean               enabled,
                                 MoatDaemon            *self)
{
  Call *call = call_begin (self, invocation);

  if (call == NULL)
    return G_DBUS_METHOD_INVOCATION_HANDLED;
  moat_device_manager_set_routing_async (moat_engine_get_devices (self->engine), serial,
                                         enabled, self->cancellable, device_routed_cb, call);
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static void
device_action_cb (GObject      *object,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  g_autoptr(Call) call = user_data;
  GError *error = NULL;
  g_autofree char *message = moat_device_manager_action_finish (MOAT_DEVICE_MANAGER (object),
                                                                result, &error);

  if (message == NULL)
    {
      call_return_error (call, error);
      return;
    }
  moat_dbus_moat1_complete_device_action (call->self->skeleton,
                                          g_steal_pointer (&call->invocation), message);
}

static gboolean
on_handle_device_action_cb (MoatDBusMoat1         *skeleton,
                            GDBusMethodInvocation *invocation,
                            const char            *serial,
                            const char            *action,
                            const char            *target,
                            MoatDaemon            *self)
{
  Call *call = call_begin (self, invocation);

  if (call == NULL)
    return G_DBUS_METHOD_INVOCATION_HANDLED;
  moat_device_manager_action_async (moat_engine_get_devices (self->engine), serial, action,
                                    target, self->cancellable, device_action_cb, call);
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

/* An indicator bundle is read from the client's fd, at most this much. */
#define MAX_BUNDLE (64 * 1024 * 1024)

typedef struct {
  Call         *call;
  char         *name;
  GInputStream *stream;
  GByteArray   *data;
} ImportCall;

static void
import_call_free (ImportCall *ic)
{
  g_clear_pointer (&ic->call, call_end);
  g_free (ic->name);
  g_clear_object (&ic->stream);
  g_clear_pointer (&ic->data, g_byte_array_unref);
  g_free (ic);
}

static void
indicators_imported_cb (GObject      *object,
                        GAsyncResult *result,
                        gpointer      user_data)
{
  g_autoptr(Call) call = user_data;
  GError *error = NULL;
  g_autoptr(GVariant) counts = moat_device_manager_import_finish (MOAT_DEVICE_MANAGER (object),
                                                                  result, &error);

  if (counts == NULL)
    {
      call_return_error (call, error);
      return;
    }
  moat_dbus_moat1_complete_import_indicators (call->self->skeleton,
                                              g_steal_pointer (&call->invocation), NULL, counts);
}

static void
bundle_read_cb (GObject      *object,
                GAsyncResult *result,
                gpointer      user_data)
{
  ImportCall *ic = user_data;
  GError *error = NULL;
  g_autoptr(GBytes) chunk = g_input_stream_read_bytes_finish (G_INPUT_STREAM (object), result,
                                                              &error);
  MoatDaemon *self = ic->call->self;

  if (chunk == NULL)
    {
      call_return_error (ic->call, error);
      import_call_free (ic);
      return;
    }
  if (g_bytes_get_size (chunk) > 0)
    {
      if (ic->data->len + g_bytes_get_size (chunk) > MAX_BUNDLE)
        {
          call_return_error (ic->call,
                             g_error_new (MOAT_ERROR, MOAT_ERROR_LIMIT_EXCEEDED,
                                          _("The indicator file is larger than %u MiB"),
                                          MAX_BUNDLE / (1024 * 1024)));
          import_call_free (ic);
          return;
        }
      g_byte_array_append (ic->data, g_bytes_get_data (chunk, NULL), g_bytes_get_size (chunk));
      g_input_stream_read_bytes_async (ic->stream, 256 * 1024, G_PRIORITY_DEFAULT,
                                       self->cancellable, bundle_read_cb, ic);
      return;
    }
  {
    g_autoptr(GBytes) bytes = g_byte_array_free_to_bytes (g_steal_pointer (&ic->data));

    moat_device_manager_import_async (moat_engine_get_devices (self->engine), bytes, ic->name,
                                      self->cancellable, indicators_imported_cb,
                                      g_steal_pointer (&ic->call));
  }
  import_call_free (ic);
}

static gboolean
on_handle_import_indicators_cb (MoatDBusMoat1         *skeleton,
                                GDBusMethodInvocation *invocation,
                                GUnixFDList           *fd_list,
                                GVariant              *fd_handle,
                                const char            *name,
                                MoatDaemon            *self)
{
  Call *call = call_begin (self, invocation);
  GError *error = NULL;
  ImportCall *ic;
  int fd;

  if (call == NULL)
    return G_DBUS_METHOD_INVOCATION_HANDLED;
  fd = fd_list != NULL ? g_unix_fd_list_get (fd_list, g_variant_get_handle (fd_handle), &error)
                       : -1;
  if (fd < 0)
    {
      call_return_error (call, error != NULL ? error
                         : g_error_new (MOAT_ERROR, MOAT_ERROR_INVALID_ARGUMENT,
                                        "No file descriptor was passed"));
      call_end (call);
      return G_DBUS_METHOD_INVOCATION_HANDLED;
    }
  ic = g_new0 (ImportCall, 1);
  ic->call = call;
  ic->name = g_strdup (name);
  ic->stream = g_unix_input_stream_new (fd, TRUE);
  ic->data = g_byte_array_new ();
  g_input_stream_read_bytes_async (ic->stream, 256 * 1024, G_PRIORITY_DEFAULT, self->cancellable,
                                   bundle_read_cb, ic);
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static gboolean
on_handle_get_indicators_cb (MoatDBusMoat1         *skeleton,
                             GDBusMethodInvocation *invocation,
                             MoatDaemon            *self)
{
  MoatDeviceManager *devices = moat_engine_get_devices (self->engine);
  GPtrArray *sources = moat_device_manager_get_indicators (devices);
  GVariantBuilder builder;

  g_variant_builder_init (&builder, G_VARIANT_TYPE ("a(sxasu)"));
  for (guint i = 0; sources != NULL && i < sources->len; i++)
    {
      const MoatIocSource *source = g_ptr_array_index (sources, i);
      const char *const none[] = { NULL };

      g_variant_builder_add (&builder, "(sx^asu)", source->name,
                             moat_device_manager_get_indicators_time (devices, source->name),
                             source->malware != NULL ? (const char * const *) source->malware
                                                     : none,
                             source->n_indicators);
    }
  moat_dbus_moat1_complete_get_indicators (skeleton, invocation, g_variant_builder_end (&builder));
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

/* ---- protection health ---- */

static gboolean
on_handle_get_health_cb (MoatDBusMoat1         *skeleton,
                         GDBusMethodInvocation *invocation,
                         MoatDaemon            *self)
{
  g_autoptr(GPtrArray) items = moat_health_manager_get_items (moat_engine_get_health (self->engine));
  GVariantBuilder builder;

  g_variant_builder_init (&builder, G_VARIANT_TYPE ("a" MOAT_HEALTH_ITEM_VARIANT_TYPE));
  for (guint i = 0; i < items->len; i++)
    g_variant_builder_add_value (&builder, moat_health_item_to_variant (g_ptr_array_index (items, i)));
  moat_dbus_moat1_complete_get_health (skeleton, invocation, g_variant_builder_end (&builder));
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static void
health_checked_cb (GObject      *object,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  g_autoptr(Call) call = user_data;
  GError *error = NULL;

  if (!moat_health_manager_check_finish (MOAT_HEALTH_MANAGER (object), result, &error))
    {
      call_return_error (call, error);
      return;
    }
  moat_dbus_moat1_complete_check_health (call->self->skeleton,
                                         g_steal_pointer (&call->invocation));
}

static gboolean
on_handle_check_health_cb (MoatDBusMoat1         *skeleton,
                           GDBusMethodInvocation *invocation,
                           const char            *id,
                           MoatDaemon            *self)
{
  Call *call = call_begin (self, invocation);

  if (call == NULL)
    return G_DBUS_METHOD_INVOCATION_HANDLED;
  /* Every check runs: they are cheap, and run together. */
  moat_health_manager_check_async (moat_engine_get_health (self->engine), self->cancellable,
                                   health_checked_cb, call);
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static void
health_fixed_cb (GObject      *object,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  g_autoptr(Call) call = user_data;
  GError *error = NULL;
  g_autofree char *message = moat_health_manager_fix_finish (MOAT_HEALTH_MANAGER (object), result,
                                                             &error);

  if (message == NULL)
    {
      call_return_error (call, error);
      return;
    }
  moat_dbus_moat1_complete_fix_health (call->self->skeleton, g_steal_pointer (&call->invocation),
                                       message);
}

static gboolean
on_handle_fix_health_cb (MoatDBusMoat1         *skeleton,
                         GDBusMethodInvocation *invocation,
                         const char            *id,
                         const char            *subject,
                         MoatDaemon            *self)
{
  Call *call = call_begin (self, invocation);

  if (call == NULL)
    return G_DBUS_METHOD_INVOCATION_HANDLED;
  moat_health_manager_fix_async (moat_engine_get_health (self->engine), id, subject,
                                 self->cancellable, health_fixed_cb, call);
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static gboolean
on_handle_snooze_health_cb (MoatDBusMoat1         *skeleton,
                            GDBusMethodInvocation *invocation,
                            const char            *id,
                            const char            *subject,
                            gint64                 until,
                            MoatDaemon            *self)
{
  GError *error = NULL;

  if (!moat_health_manager_snooze (moat_engine_get_health (self->engine), id, subject, until,
                                   &error))
    {
      return_error (invocation, error);
      return G_DBUS_METHOD_INVOCATION_HANDLED;
    }
  moat_dbus_moat1_complete_snooze_health (skeleton, invocation);
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static void
on_health_changed_cb (MoatHealthManager *health,
                      MoatDaemon        *self)
{
  if (self->exported)
    moat_dbus_moat1_emit_health_changed (self->skeleton);
}

static void
on_devices_changed_cb (MoatDeviceManager *devices,
                       MoatDaemon        *self)
{
  if (self->exported)
    moat_dbus_moat1_emit_devices_changed (self->skeleton);
}

#if MOAT_ENABLE_TEST_API
static gboolean
on_handle_raise_threat_cb (MoatDBusMoat1Testing  *testing,
                           GDBusMethodInvocation *invocation,
                           const char            *arg_threat,
                           const char            *arg_severity,
                           const char            *arg_subject,
                           const char            *arg_evidence,
                           MoatDaemon            *self)
{
  MoatSeverity severity;
  GError *error = NULL;

  if (!moat_severity_from_string (arg_severity, &severity))
    {
      g_dbus_method_invocation_return_error (invocation, MOAT_ERROR, MOAT_ERROR_INVALID_ARGUMENT,
                                             "“%s” is not a severity", arg_severity);
      return G_DBUS_METHOD_INVOCATION_HANDLED;
    }
  if (!moat_engine_raise_threat (self->engine, arg_threat, severity, arg_subject, arg_evidence,
                                 &error))
    return_error (invocation, error);
  else
    moat_dbus_moat1_testing_complete_raise_threat (testing, invocation);
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static gboolean
on_handle_clear_threat_cb (MoatDBusMoat1Testing  *testing,
                           GDBusMethodInvocation *invocation,
                           const char            *arg_threat,
                           const char            *arg_subject,
                           MoatDaemon            *self)
{
  GError *error = NULL;

  if (!moat_engine_clear_threat (self->engine, arg_threat, arg_subject, &error))
    return_error (invocation, error);
  else
    moat_dbus_moat1_testing_complete_clear_threat (testing, invocation);
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static MoatEvent *
event_from_testing_variant (GVariant  *value,
                            guint      index,
                            GError   **error)
{
  g_autoptr(MoatEvent) event = NULL;
  gint64 time;
  const char *source, *threat, *severity, *subject, *action, *detail;
  MoatEventSource source_value;
  MoatSeverity severity_value;

  g_variant_get (value, "(x&s&s&s&s&s&s)", &time, &source, &threat, &severity,
                 &subject, &action, &detail);
  if (!moat_event_source_from_string (source, &source_value))
    {
      g_set_error (error, MOAT_ERROR, MOAT_ERROR_INVALID_ARGUMENT,
                   "Event %u: “%.64s” is not a source", index, source);
      return NULL;
    }
  if (!moat_severity_from_string (severity, &severity_value))
    {
      g_set_error (error, MOAT_ERROR, MOAT_ERROR_INVALID_ARGUMENT,
                   "Event %u: “%.64s” is not a severity", index, severity);
      return NULL;
    }
  event = moat_event_new (source_value, threat, severity_value, subject, action, detail);
  if (time != 0)
    event->time = time;
  if (!moat_event_validate (event, error))
    {
      g_prefix_error (error, "Event %u: ", index);
      return NULL;
    }
  return g_steal_pointer (&event);
}

static gboolean
on_handle_add_events_cb (MoatDBusMoat1Testing  *testing,
                         GDBusMethodInvocation *invocation,
                         GVariant              *arg_events,
                         MoatDaemon            *self)
{
  g_autoptr(GPtrArray) events = NULL;
  gsize n = g_variant_n_children (arg_events);
  GError *error = NULL;

  if (n > MOAT_DAEMON_MAX_ADD_EVENTS)
    {
      g_dbus_method_invocation_return_error (invocation, MOAT_ERROR, MOAT_ERROR_LIMIT_EXCEEDED,
                                             "At most %u events per call, not %" G_GSIZE_FORMAT,
                                             MOAT_DAEMON_MAX_ADD_EVENTS, n);
      return G_DBUS_METHOD_INVOCATION_HANDLED;
    }

  /* All or nothing: check every event before the first is recorded. */
  events = g_ptr_array_new_full (n, (GDestroyNotify) moat_event_unref);
  for (gsize i = 0; i < n; i++)
    {
      g_autoptr(GVariant) value = g_variant_get_child_value (arg_events, i);
      MoatEvent *event = event_from_testing_variant (value, i, &error);

      if (event == NULL)
        {
          return_error (invocation, error);
          return G_DBUS_METHOD_INVOCATION_HANDLED;
        }
      g_ptr_array_add (events, event);
    }
  for (guint i = 0; i < events->len; i++)
    {
      if (!moat_engine_record_event (self->engine, g_ptr_array_index (events, i), &error))
        {
          g_prefix_error (&error, "Event %u: ", i);
          return_error (invocation, error);
          return G_DBUS_METHOD_INVOCATION_HANDLED;
        }
    }
  moat_dbus_moat1_testing_complete_add_events (testing, invocation, events->len);
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static void
flush_cb (GObject      *object,
          GAsyncResult *result,
          gpointer      user_data)
{
  g_autoptr(Call) call = user_data;
  GError *error = NULL;

  if (!moat_engine_flush_finish (MOAT_ENGINE (object), result, &error))
    {
      call_return_error (call, error);
      return;
    }
  moat_dbus_moat1_testing_complete_flush (call->self->testing, g_steal_pointer (&call->invocation));
}

static gboolean
on_handle_flush_cb (MoatDBusMoat1Testing  *testing,
                    GDBusMethodInvocation *invocation,
                    MoatDaemon            *self)
{
  Call *call = call_begin (self, invocation);

  if (call == NULL)
    return G_DBUS_METHOD_INVOCATION_HANDLED;
  moat_engine_flush_async (self->engine, self->cancellable, flush_cb, call);
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}
#endif

static void
moat_daemon_dispose (GObject *object)
{
  MoatDaemon *self = MOAT_DAEMON (object);

  moat_daemon_unexport (self);
  g_cancellable_cancel (self->cancellable);
  if (self->engine != NULL)
    g_signal_handlers_disconnect_by_data (self->engine, self);
  g_clear_object (&self->skeleton);
#if MOAT_ENABLE_TEST_API
  g_clear_object (&self->testing);
#endif
  g_clear_object (&self->engine);
  g_clear_object (&self->cancellable);

  G_OBJECT_CLASS (moat_daemon_parent_class)->dispose (object);
}

static void
moat_daemon_finalize (GObject *object)
{
  MoatDaemon *self = MOAT_DAEMON (object);

  g_clear_pointer (&self->in_flight, g_hash_table_unref);

  G_OBJECT_CLASS (moat_daemon_parent_class)->finalize (object);
}

static void
moat_daemon_class_init (MoatDaemonClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = moat_daemon_dispose;
  object_class->finalize = moat_daemon_finalize;
}

static void
moat_daemon_init (MoatDaemon *self)
{
  self->cancellable = g_cancellable_new ();
  self->in_flight = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
}

MoatDaemon *
moat_daemon_new (MoatEngine *engine)
{
  MoatDaemon *self;

  g_return_val_if_fail (MOAT_IS_ENGINE (engine), NULL);

  self = g_object_new (MOAT_TYPE_DAEMON, NULL);
  self->engine = g_object_ref (engine);

  self->skeleton = moat_dbus_moat1_skeleton_new ();
  moat_dbus_moat1_set_version (self->skeleton, PACKAGE_VERSION);
  moat_dbus_moat1_set_start_time (self->skeleton, g_get_real_time ());
  g_object_bind_property_full (engine, "protection-state", self->skeleton, "protection-state",
                               G_BINDING_SYNC_CREATE, transform_protection_state, NULL, NULL, NULL);
  g_object_bind_property (engine, "protection-summary", self->skeleton, "protection-summary",
                          G_BINDING_SYNC_CREATE);
  g_object_bind_property_full (engine, "risk-level", self->skeleton, "risk-level",
                               G_BINDING_SYNC_CREATE, transform_risk_level, NULL, NULL, NULL);
  g_object_bind_property (engine, "proxy-address", self->skeleton, "proxy-address",
                          G_BINDING_SYNC_CREATE);
  g_object_bind_property_full (engine, "store-state", self->skeleton, "store-state",
                               G_BINDING_SYNC_CREATE, transform_store_state, NULL, NULL, NULL);
  g_object_bind_property (engine, "store-message", self->skeleton, "store-message",
                          G_BINDING_SYNC_CREATE);
  g_object_bind_property (moat_engine_get_policy_manager (engine), "name", self->skeleton,
                          "policy", G_BINDING_SYNC_CREATE);
  g_signal_connect (self->skeleton, "handle-get-policy", G_CALLBACK (on_handle_get_policy_cb),
                    self);
  g_signal_connect (self->skeleton, "handle-load-policy", G_CALLBACK (on_handle_load_policy_cb),
                    self);

  g_signal_connect (self->skeleton, "handle-list-events",
                    G_CALLBACK (on_handle_list_events_cb), self);
  g_signal_connect (self->skeleton, "handle-count-events",
                    G_CALLBACK (on_handle_count_events_cb), self);
  g_signal_connect (self->skeleton, "handle-get-category-counts",
                    G_CALLBACK (on_handle_get_category_counts_cb), self);
  g_signal_connect (engine, "events-added", G_CALLBACK (on_engine_events_added_cb), self);
  g_signal_connect (engine, "threats-changed", G_CALLBACK (on_engine_threats_changed_cb), self);
  g_signal_connect (self->skeleton, "handle-get-responses",
                    G_CALLBACK (on_handle_get_responses_cb), self);
  g_signal_connect (self->skeleton, "handle-get-findings",
                    G_CALLBACK (on_handle_get_findings_cb), self);
  g_signal_connect (self->skeleton, "handle-scan", G_CALLBACK (on_handle_scan_cb), self);
  g_signal_connect_object (moat_engine_get_detectors (engine), "findings-changed",
                           G_CALLBACK (on_findings_changed_cb), self, 0);
  g_object_bind_property (moat_engine_get_detectors (engine), "safe-since", self->skeleton,
                          "safe-since", G_BINDING_SYNC_CREATE);
  g_signal_connect (self->skeleton, "handle-get-threats", G_CALLBACK (on_handle_get_threats_cb),
                    self);
  g_signal_connect (self->skeleton, "handle-get-devices", G_CALLBACK (on_handle_get_devices_cb),
                    self);
  g_signal_connect (self->skeleton, "handle-get-device-posture",
                    G_CALLBACK (on_handle_get_device_posture_cb), self);
  g_signal_connect (self->skeleton, "handle-check-device",
                    G_CALLBACK (on_handle_check_device_cb), self);
  g_signal_connect (self->skeleton, "handle-connect-device",
                    G_CALLBACK (on_handle_connect_device_cb), self);
  g_signal_connect (self->skeleton, "handle-set-device-routing",
                    G_CALLBACK (on_handle_set_device_routing_cb), self);
  g_signal_connect (self->skeleton, "handle-device-action",
                    G_CALLBACK (on_handle_device_action_cb), self);
  g_signal_connect (self->skeleton, "handle-get-health", G_CALLBACK (on_handle_get_health_cb),
                    self);
  g_signal_connect (self->skeleton, "handle-check-health",
                    G_CALLBACK (on_handle_check_health_cb), self);
  g_signal_connect (self->skeleton, "handle-fix-health", G_CALLBACK (on_handle_fix_health_cb),
                    self);
  g_signal_connect (self->skeleton, "handle-snooze-health",
                    G_CALLBACK (on_handle_snooze_health_cb), self);
  g_signal_connect_object (moat_engine_get_health (engine), "changed",
                           G_CALLBACK (on_health_changed_cb), self, 0);
  g_object_bind_property (moat_engine_get_health (engine), "level", self->skeleton,
                          "health-level", G_BINDING_SYNC_CREATE);
  g_object_bind_property (moat_engine_get_health (engine), "summary", self->skeleton,
                          "health-summary", G_BINDING_SYNC_CREATE);
  g_signal_connect (self->skeleton, "handle-import-indicators",
                    G_CALLBACK (on_handle_import_indicators_cb), self);
  g_signal_connect (self->skeleton, "handle-get-indicators",
                    G_CALLBACK (on_handle_get_indicators_cb), self);
  g_signal_connect_object (moat_engine_get_devices (engine), "changed",
                           G_CALLBACK (on_devices_changed_cb), self, 0);

  g_object_bind_property (engine, "protect-computer", self->skeleton, "protect-computer",
                          G_BINDING_SYNC_CREATE);
  g_settings_bind (moat_engine_get_settings (engine), "enabled-categories",
                   self->skeleton, "enabled-categories", G_SETTINGS_BIND_GET);
  g_signal_connect_object (moat_engine_get_lists (engine), "changed",
                           G_CALLBACK (on_lists_changed_cb), self, 0);
  g_signal_connect (self->skeleton, "handle-get-lists", G_CALLBACK (on_handle_get_lists_cb), self);
  g_signal_connect (self->skeleton, "handle-check", G_CALLBACK (on_handle_check_cb), self);
  g_signal_connect (self->skeleton, "handle-set-list-enabled",
                    G_CALLBACK (on_handle_set_list_enabled_cb), self);
  g_signal_connect (self->skeleton, "handle-set-category-enabled",
                    G_CALLBACK (on_handle_set_category_enabled_cb), self);
  g_signal_connect (self->skeleton, "handle-add-list", G_CALLBACK (on_handle_add_list_cb), self);
  g_signal_connect (self->skeleton, "handle-remove-list",
                    G_CALLBACK (on_handle_remove_list_cb), self);
  g_signal_connect (self->skeleton, "handle-get-user-hosts",
                    G_CALLBACK (on_handle_get_user_hosts_cb), self);
  g_signal_connect (self->skeleton, "handle-get-protected-resources",
                    G_CALLBACK (on_handle_get_protected_resources_cb), self);
  g_signal_connect (self->skeleton, "handle-add-user-host",
                    G_CALLBACK (on_handle_add_user_host_cb), self);
  g_signal_connect (self->skeleton, "handle-remove-user-host",
                    G_CALLBACK (on_handle_remove_user_host_cb), self);
  g_signal_connect (self->skeleton, "handle-get-proxy-stats",
                    G_CALLBACK (on_handle_get_proxy_stats_cb), self);
  g_signal_connect (self->skeleton, "handle-update-lists",
                    G_CALLBACK (on_handle_update_lists_cb), self);
  g_signal_connect (self->skeleton, "handle-allow-once",
                    G_CALLBACK (on_handle_allow_once_cb), self);
  g_signal_connect (self->skeleton, "handle-set-protect-computer",
                    G_CALLBACK (on_handle_set_protect_computer_cb), self);

#if MOAT_ENABLE_TEST_API
  self->testing = moat_dbus_moat1_testing_skeleton_new ();
  g_signal_connect (self->testing, "handle-add-events",
                    G_CALLBACK (on_handle_add_events_cb), self);
  g_signal_connect (self->testing, "handle-flush", G_CALLBACK (on_handle_flush_cb), self);
  g_signal_connect (self->testing, "handle-raise-threat",
                    G_CALLBACK (on_handle_raise_threat_cb), self);
  g_signal_connect (self->testing, "handle-clear-threat",
                    G_CALLBACK (on_handle_clear_threat_cb), self);
#endif

  return self;
}

/**
 * moat_daemon_export:
 *
 * Exports io.github.moatproject.Moat1 (and, in test builds, its Testing
 * interface) at MOAT_DBUS_PATH on @connection.
 */
gboolean
moat_daemon_export (MoatDaemon       *self,
                    GDBusConnection  *connection,
                    GError          **error)
{
  g_return_val_if_fail (MOAT_IS_DAEMON (self), FALSE);
  g_return_val_if_fail (G_IS_DBUS_CONNECTION (connection), FALSE);

  if (self->exported)
    return TRUE;
  if (!g_dbus_interface_skeleton_export (G_DBUS_INTERFACE_SKELETON (self->skeleton),
                                         connection, MOAT_DBUS_PATH, error))
    return FALSE;
#if MOAT_ENABLE_TEST_API
  if (!g_dbus_interface_skeleton_export (G_DBUS_INTERFACE_SKELETON (self->testing),
                                         connection, MOAT_DBUS_PATH, error))
    {
      g_dbus_interface_skeleton_unexport (G_DBUS_INTERFACE_SKELETON (self->skeleton));
      return FALSE;
    }
  g_info ("Test API io.github.moatproject.Moat1.Testing is exported");
#endif
  self->exported = TRUE;
  return TRUE;
}

/**
 * moat_daemon_unexport:
 *
 * Removes the interfaces from the bus and sends what is still queued on the
 * connection (the last EventsAdded). Call it at shutdown, after the main loop.
 */
void
moat_daemon_unexport (MoatDaemon *self)
{
  g_autoptr(GDBusConnection) connection = NULL;

  g_return_if_fail (MOAT_IS_DAEMON (self));

  if (!self->exported)
    return;
  self->exported = FALSE;
  connection = g_dbus_interface_skeleton_get_connection (G_DBUS_INTERFACE_SKELETON (self->skeleton));
  if (connection != NULL)
    g_object_ref (connection);
  g_dbus_interface_skeleton_unexport (G_DBUS_INTERFACE_SKELETON (self->skeleton));
#if MOAT_ENABLE_TEST_API
  g_dbus_interface_skeleton_unexport (G_DBUS_INTERFACE_SKELETON (self->testing));
#endif
  if (connection != NULL && !g_dbus_connection_is_closed (connection))
    g_dbus_connection_flush_sync (connection, NULL, NULL);
}
