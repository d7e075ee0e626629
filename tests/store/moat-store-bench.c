/* SPDX-License-Identifier: GPL-3.0-or-later
 * Copyright 2026 The Moat developers
 */
#define G_LOG_DOMAIN "moat-store-bench"

#include "config.h"

#include "moat-store.h"
#include "moat-store-private.h"

#include <glib/gstdio.h>

/* Inserts 100,000 events through the public API and reports events/s, from the
 * first moat_store_add_event() to the flush that commits the last; then times
 * the reads the GUI and moatctl make on that many rows. */

#define N_EVENTS 100000

static void
done_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  GAsyncResult **out = user_data;

  *out = g_object_ref (result);
}

static GAsyncResult *
wait_for (GAsyncResult **slot)
{
  while (*slot == NULL)
    g_main_context_iteration (NULL, TRUE);
  return g_steal_pointer (slot);
}

static const char *const threats[] = {
  "content.malware", "content.phishing", "content.unwanted", "network.dns_hijack",
};

static double
time_list (MoatStore *store, const MoatEventFilter *filter, guint64 offset)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GPtrArray) events = NULL;
  GAsyncResult *slot = NULL;
  gint64 start = g_get_monotonic_time ();

  moat_store_list_events_async (store, filter, offset, 100, NULL, done_cb, &slot);
  result = wait_for (&slot);
  events = moat_store_list_events_finish (store, result, NULL);
  g_assert_nonnull (events);
  return (g_get_monotonic_time () - start) / 1000.0;
}

static double
time_count (MoatStore *store, const MoatEventFilter *filter)
{
  g_autoptr(GAsyncResult) result = NULL;
  GAsyncResult *slot = NULL;
  gint64 start = g_get_monotonic_time ();
  guint64 count = 0;

  moat_store_count_events_async (store, filter, NULL, done_cb, &slot);
  result = wait_for (&slot);
  g_assert_true (moat_store_count_events_finish (store, result, &count, NULL));
  return (g_get_monotonic_time () - start) / 1000.0;
}

static double
time_categories (MoatStore *store, gint64 since)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GHashTable) counts = NULL;
  GAsyncResult *slot = NULL;
  gint64 start = g_get_monotonic_time ();

  moat_store_category_counts_async (store, since, 0, "blocked", NULL, done_cb, &slot);
  result = wait_for (&slot);
  counts = moat_store_category_counts_finish (store, result, NULL);
  g_assert_nonnull (counts);
  return (g_get_monotonic_time () - start) / 1000.0;
}

static void
remove_dir (const char *dir, const char *name)
{
  static const char *const suffixes[] = { "", "-wal", "-shm" };

  for (guint i = 0; i < G_N_ELEMENTS (suffixes); i++)
    {
      g_autofree char *file = g_strconcat (dir, "/", name, suffixes[i], NULL);

      g_unlink (file);
    }
  g_rmdir (dir);
}

int
main (int argc, char **argv)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("moat-store-bench-XXXXXX", &error);
  g_autofree char *path = NULL;
  g_autoptr(MoatStore) store = NULL;
  g_autoptr(GAsyncResult) opened = NULL;
  g_autoptr(GAsyncResult) flushed = NULL;
  GAsyncResult *slot = NULL;
  gint64 start, end;
  double seconds;

  if (dir == NULL)
    {
      g_printerr ("%s\n", error->message);
      return 1;
    }
  path = g_build_filename (dir, "moat.db", NULL);
  store = moat_store_new (path);
  moat_store_open_async (store, NULL, done_cb, &slot);
  opened = wait_for (&slot);
  if (!moat_store_open_finish (store, opened, &error))
    {
      g_printerr ("%s\n", error->message);
      return 1;
    }

  start = g_get_monotonic_time ();
  for (guint i = 0; i < N_EVENTS; i++)
    {
      g_autofree char *subject = g_strdup_printf ("host-%u.example.com", i);
      g_autoptr(MoatEvent) event = moat_event_new (MOAT_EVENT_SOURCE_PROXY,
                                                   threats[i % G_N_ELEMENTS (threats)],
                                                   MOAT_SEVERITY_HIGH, subject, "blocked",
                                                   "{\"list\":\"urlhaus\",\"rule\":\"||example.com^\"}");

      moat_store_add_event (store, event);
    }
  moat_store_flush_async (store, NULL, done_cb, &slot);
  flushed = wait_for (&slot);
  if (!moat_store_flush_finish (store, flushed, &error))
    {
      g_printerr ("%s\n", error->message);
      return 1;
    }
  end = g_get_monotonic_time ();
  seconds = (end - start) / (double) G_USEC_PER_SEC;
  g_print ("store-insert: %d events in %.3f s, %.0f events/s, %" G_GUINT64_FORMAT
           " transactions\n", N_EVENTS, seconds, N_EVENTS / seconds,
           moat_store_get_commit_count (store));

  {
    g_autoptr(MoatEventFilter) none = moat_event_filter_new ();
    g_autoptr(MoatEventFilter) threat = moat_event_filter_new ();
    g_autoptr(MoatEventFilter) search = moat_event_filter_new ();

    threat->threat = g_strdup ("network.*");
    search->search = g_strdup ("host-4242");
    g_print ("store-read: newest 100: %.2f ms; newest 100 of network.*: %.2f ms; "
             "100 at offset 50000: %.2f ms; search: %.2f ms\n",
             time_list (store, none, 0), time_list (store, threat, 0),
             time_list (store, none, 50000), time_list (store, search, 0));
    g_print ("store-read: count all: %.2f ms; count network.*: %.2f ms; "
             "category counts (last day, blocked): %.2f ms\n",
             time_count (store, none), time_count (store, threat),
             time_categories (store, g_get_real_time () - G_TIME_SPAN_DAY));
  }
  moat_store_close (store);
  g_clear_object (&store);
  while (g_main_context_iteration (NULL, FALSE))
    ;
  remove_dir (dir, "moat.db");
  return 0;
}
