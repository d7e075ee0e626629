/* SPDX-License-Identifier: GPL-3.0-or-later
 * Copyright 2026 The Moat developers
 */
#define G_LOG_DOMAIN "moat-fake-engine"

#include "config.h"

#include "moat-fake-engine.h"

#include "moat-error.h"

/* 2026-11-01T00:00:00Z; event n happens n seconds later. */
#define BASE_TIME G_GINT64_CONSTANT (1793491200000000)

static const char *const threats[] = {
  "content.malware", "content.phishing", "network.tls_interception",
  "network.dns_hijack", "app.sideloaded",
};

MoatEvent *
moat_fake_engine_make_event (guint n)
{
  g_autofree char *subject = g_strdup_printf ("host%u.example", n);
  g_autofree char *detail = g_strdup_printf ("{\"n\":%u}", n);
  MoatEvent *event;

  event = moat_event_new ((MoatEventSource) (n % MOAT_EVENT_SOURCE_LAST),
                          threats[n % G_N_ELEMENTS (threats)],
                          (MoatSeverity) (n % MOAT_SEVERITY_LAST),
                          subject, n % 2 ? "blocked" : "notified", detail);
  event->id = n;
  event->time = BASE_TIME + (gint64) n * G_USEC_PER_SEC;
  return event;
}

static GPtrArray *
append_events (MoatFakeEngine *fake, guint n)
{
  GPtrArray *added = g_ptr_array_new_with_free_func ((GDestroyNotify) moat_event_unref);

  for (guint i = 0; i < n; i++)
    {
      MoatEvent *event = moat_fake_engine_make_event (fake->events->len + 1);

      g_ptr_array_add (fake->events, event);
      g_ptr_array_add (added, moat_event_ref (event));
    }
  return added;
}

void
moat_fake_engine_add_events (MoatFakeEngine *fake, guint n)
{
  g_autoptr(GPtrArray) added = append_events (fake, n);

  moat_dbus_moat1_emit_events_added (fake->skeleton, moat_events_to_variant (added));
}

guint64
moat_fake_engine_count (MoatFakeEngine *fake, const MoatEventFilter *filter)
{
  guint64 count = 0;

  for (guint i = 0; i < fake->events->len; i++)
    if (moat_event_filter_matches (filter, g_ptr_array_index (fake->events, i)))
      count++;
  return count;
}

guint
moat_fake_engine_get_page_fetches (MoatFakeEngine *fake, guint64 offset)
{
  return GPOINTER_TO_UINT (g_hash_table_lookup (fake->page_fetches,
                                                GSIZE_TO_POINTER ((gsize) offset)));
}

static gboolean
take_error (MoatFakeEngine *fake, GDBusMethodInvocation *invocation)
{
  if (fake->next_error == NULL)
    return FALSE;
  g_dbus_method_invocation_return_gerror (invocation, fake->next_error);
  g_clear_error (&fake->next_error);
  return TRUE;
}

static gboolean
on_handle_list_events_cb (MoatDBusMoat1         *skeleton,
                          GDBusMethodInvocation *invocation,
                          GVariant              *filter_variant,
                          guint64                offset,
                          guint                  limit,
                          MoatFakeEngine        *fake)
{
  g_autoptr(MoatEventFilter) filter = NULL;
  g_autoptr(GPtrArray) page = NULL;
  g_autoptr(GError) error = NULL;
  guint64 skipped = 0;
  guint n = fake->events->len;

  fake->n_list_calls++;
  if (take_error (fake, invocation))
    return G_DBUS_METHOD_INVOCATION_HANDLED;
  filter = moat_event_filter_new_from_variant (filter_variant, &error);
  if (filter == NULL)
    {
      g_dbus_method_invocation_return_gerror (invocation, error);
      return G_DBUS_METHOD_INVOCATION_HANDLED;
    }
  if (limit < 1 || limit > 1000)
    {
      g_dbus_method_invocation_return_error (invocation, MOAT_ERROR, MOAT_ERROR_INVALID_ARGUMENT,
                                             "limit must be 1..1000, not %u", limit);
      return G_DBUS_METHOD_INVOCATION_HANDLED;
    }
  if (filter->before_id > 0)
    {
      gsize key = (gsize) offset;
      guint count = GPOINTER_TO_UINT (g_hash_table_lookup (fake->page_fetches,
                                                           GSIZE_TO_POINTER (key)));

      g_hash_table_insert (fake->page_fetches, GSIZE_TO_POINTER (key),
                           GUINT_TO_POINTER (count + 1));
    }
  if (fake->add_on_list > 0)
    {
      guint add = fake->add_on_list;

      fake->add_on_list = 0;
      moat_fake_engine_add_events (fake, add);
      n = fake->events->len;
    }

  page = g_ptr_array_new ();
  for (guint k = 0; k < n && page->len < limit; k++)
    {
      MoatEvent *event = g_ptr_array_index (fake->events, filter->ascending ? k : n - 1 - k);

      if (!moat_event_filter_matches (filter, event))
        continue;
      if (skipped < offset)
        {
          skipped++;
          continue;
        }
      g_ptr_array_add (page, event);
    }
  moat_dbus_moat1_complete_list_events (skeleton, invocation, moat_events_to_variant (page));
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static gboolean
on_handle_count_events_cb (MoatDBusMoat1         *skeleton,
                           GDBusMethodInvocation *invocation,
                           GVariant              *filter_variant,
                           MoatFakeEngine        *fake)
{
  g_autoptr(MoatEventFilter) filter = NULL;
  g_autoptr(GError) error = NULL;

  fake->n_count_calls++;
  if (take_error (fake, invocation))
    return G_DBUS_METHOD_INVOCATION_HANDLED;
  filter = moat_event_filter_new_from_variant (filter_variant, &error);
  if (filter == NULL)
    {
      g_dbus_method_invocation_return_gerror (invocation, error);
      return G_DBUS_METHOD_INVOCATION_HANDLED;
    }
  if (fake->add_on_count > 0)
    {
      guint add = fake->add_on_count;

      fake->add_on_count = 0;
      moat_fake_engine_add_events (fake, add);
    }
  moat_dbus_moat1_complete_count_events (skeleton, invocation,
                                         moat_fake_engine_count (fake, filter));
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static gboolean
on_handle_get_category_counts_cb (MoatDBusMoat1         *skeleton,
                                  GDBusMethodInvocation *invocation,
                                  gint64                 start_time,
                                  gint64                 end_time,
                                  const char            *action,
                                  MoatFakeEngine        *fake)
{
  g_autoptr(GHashTable) counts = g_hash_table_new (g_str_hash, g_str_equal);
  GHashTableIter iter;
  gpointer key, value;
  GVariantBuilder builder;

  if (take_error (fake, invocation))
    return G_DBUS_METHOD_INVOCATION_HANDLED;
  for (guint i = 0; i < fake->events->len; i++)
    {
      MoatEvent *event = g_ptr_array_index (fake->events, i);

      if (event->time < start_time || (end_time > 0 && event->time >= end_time))
        continue;
      if (action[0] != '\0' && g_strcmp0 (action, event->action) != 0)
        continue;
      value = g_hash_table_lookup (counts, event->threat);
      g_hash_table_insert (counts, event->threat, GUINT_TO_POINTER (GPOINTER_TO_UINT (value) + 1));
    }
  g_variant_builder_init (&builder, G_VARIANT_TYPE ("a{st}"));
  g_hash_table_iter_init (&iter, counts);
  while (g_hash_table_iter_next (&iter, &key, &value))
    g_variant_builder_add (&builder, "{st}", key, (guint64) GPOINTER_TO_UINT (value));
  moat_dbus_moat1_complete_get_category_counts (skeleton, invocation,
                                                g_variant_builder_end (&builder));
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

MoatFakeEngine *
moat_fake_engine_new (guint n_events)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *address = NULL;
  MoatFakeEngine *fake = g_new0 (MoatFakeEngine, 1);

  address = g_dbus_address_get_for_bus_sync (G_BUS_TYPE_SESSION, NULL, &error);
  g_assert_no_error (error);
  fake->connection = g_dbus_connection_new_for_address_sync (
    address,
    G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT |
    G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION,
    NULL, NULL, &error);
  g_assert_no_error (error);
  g_dbus_connection_set_exit_on_close (fake->connection, FALSE);

  fake->events = g_ptr_array_new_full (n_events, (GDestroyNotify) moat_event_unref);
  g_ptr_array_unref (append_events (fake, n_events));
  fake->page_fetches = g_hash_table_new (g_direct_hash, g_direct_equal);

  fake->skeleton = moat_dbus_moat1_skeleton_new ();
  moat_dbus_moat1_set_version (fake->skeleton, "9.8.7");
  moat_dbus_moat1_set_protection_state (fake->skeleton, "protected");
  moat_dbus_moat1_set_protection_summary (fake->skeleton, "All good.");
  moat_dbus_moat1_set_risk_level (fake->skeleton, "low");
  moat_dbus_moat1_set_proxy_address (fake->skeleton, "127.0.0.1:3129");
  moat_dbus_moat1_set_store_state (fake->skeleton, "ok");
  moat_dbus_moat1_set_store_message (fake->skeleton, "");
  moat_dbus_moat1_set_start_time (fake->skeleton, BASE_TIME);
  g_signal_connect (fake->skeleton, "handle-list-events",
                    G_CALLBACK (on_handle_list_events_cb), fake);
  g_signal_connect (fake->skeleton, "handle-count-events",
                    G_CALLBACK (on_handle_count_events_cb), fake);
  g_signal_connect (fake->skeleton, "handle-get-category-counts",
                    G_CALLBACK (on_handle_get_category_counts_cb), fake);
  g_dbus_interface_skeleton_export (G_DBUS_INTERFACE_SKELETON (fake->skeleton),
                                    fake->connection, MOAT_DBUS_PATH, &error);
  g_assert_no_error (error);
  return fake;
}

static gboolean
name_owned_cb (gpointer data)
{
  return ((MoatFakeEngine *) data)->name_owned;
}

static gboolean
name_not_owned_cb (gpointer data)
{
  return !((MoatFakeEngine *) data)->name_owned;
}

static void
on_name_acquired_cb (GDBusConnection *connection, const char *name, gpointer data)
{
  ((MoatFakeEngine *) data)->name_owned = TRUE;
}

static void
on_name_lost_cb (GDBusConnection *connection, const char *name, gpointer data)
{
  ((MoatFakeEngine *) data)->name_owned = FALSE;
}

void
moat_fake_engine_own_name (MoatFakeEngine *fake)
{
  g_assert_cmpuint (fake->owner_id, ==, 0);
  fake->owner_id = g_bus_own_name_on_connection (fake->connection, MOAT_DBUS_NAME,
                                                 G_BUS_NAME_OWNER_FLAGS_NONE,
                                                 on_name_acquired_cb, on_name_lost_cb,
                                                 fake, NULL);
  g_assert_true (moat_test_wait_until (name_owned_cb, fake));
}

void
moat_fake_engine_unown_name (MoatFakeEngine *fake)
{
  g_autoptr(GVariant) reply = NULL;
  g_autoptr(GError) error = NULL;

  g_clear_handle_id (&fake->owner_id, g_bus_unown_name);
  fake->name_owned = FALSE;
  /* A round trip to the bus, so the release has happened when this returns. */
  reply = g_dbus_connection_call_sync (fake->connection, "org.freedesktop.DBus",
                                       "/org/freedesktop/DBus", "org.freedesktop.DBus",
                                       "GetId", NULL, NULL, G_DBUS_CALL_FLAGS_NONE, -1,
                                       NULL, &error);
  g_assert_no_error (error);
  g_assert_true (moat_test_wait_until (name_not_owned_cb, fake));
}

void
moat_fake_engine_free (MoatFakeEngine *fake)
{
  if (fake == NULL)
    return;
  g_clear_handle_id (&fake->owner_id, g_bus_unown_name);
  g_dbus_interface_skeleton_unexport (G_DBUS_INTERFACE_SKELETON (fake->skeleton));
  g_clear_object (&fake->skeleton);
  g_dbus_connection_close_sync (fake->connection, NULL, NULL);
  g_clear_object (&fake->connection);
  g_ptr_array_unref (fake->events);
  g_hash_table_unref (fake->page_fetches);
  g_clear_error (&fake->next_error);
  g_free (fake);
}

static gboolean
deadline_cb (gpointer data)
{
  *(gboolean *) data = TRUE;
  return G_SOURCE_REMOVE;
}

gboolean
moat_test_wait_until (gboolean (*cond) (gpointer data), gpointer data)
{
  gboolean expired = FALSE;
  guint deadline_id = g_timeout_add_seconds (60, deadline_cb, &expired);

  while (!cond (data) && !expired)
    g_main_context_iteration (NULL, TRUE);
  if (!expired)
    g_source_remove (deadline_id);
  else
    g_test_message ("gave up waiting after 60 s");
  return !expired;
}
