/* SPDX-License-Identifier: GPL-3.0-or-later
 * Copyright 2026 The Moat developers
 */
#define G_LOG_DOMAIN "moat-client-test"

#include "config.h"

#include "moat-client.h"
#include "moat-event-list-private.h"
#include "moat-event-list.h"
#include "moat-fake-engine.h"

#define N_EVENTS 100000

typedef struct {
  MoatFakeEngine *fake;
  MoatClient     *client;
  GAsyncResult   *result;
  guint           notifies;
} Fixture;

static gboolean
have_result_cb (gpointer data)
{
  return ((Fixture *) data)->result != NULL;
}

static void
store_result_cb (GObject *object, GAsyncResult *result, gpointer user_data)
{
  Fixture *fixture = user_data;

  g_assert_null (fixture->result);
  fixture->result = g_object_ref (result);
}

static GAsyncResult *
wait_result (Fixture *fixture)
{
  g_assert_true (moat_test_wait_until (have_result_cb, fixture));
  return fixture->result;
}

static MoatClient *
new_client (Fixture *fixture, MoatClientFlags flags)
{
  g_autoptr(GError) error = NULL;
  MoatClient *client;

  moat_client_new_async (flags, NULL, store_result_cb, fixture);
  client = moat_client_new_finish (wait_result (fixture), &error);
  g_clear_object (&fixture->result);
  g_assert_no_error (error);
  g_assert_true (MOAT_IS_CLIENT (client));
  return client;
}

static void
fixture_set_up_owned (Fixture *fixture, gconstpointer data)
{
  fixture->fake = moat_fake_engine_new (GPOINTER_TO_UINT (data));
  moat_fake_engine_own_name (fixture->fake);
  fixture->client = new_client (fixture, MOAT_CLIENT_FLAGS_NONE);
}

static void
fixture_set_up_unowned (Fixture *fixture, gconstpointer data)
{
  fixture->fake = moat_fake_engine_new (GPOINTER_TO_UINT (data));
  fixture->client = new_client (fixture, MOAT_CLIENT_FLAGS_NO_AUTO_START);
}

static gboolean
client_gone_cb (gpointer data)
{
  return *(gpointer *) data == NULL;
}

static void
fixture_tear_down (Fixture *fixture, gconstpointer data)
{
  gpointer weak = fixture->client;

  g_clear_object (&fixture->result);
  g_object_add_weak_pointer (weak, &weak);
  g_clear_object (&fixture->client);
  /* Pending D-Bus replies may still hold the client for an iteration. */
  g_assert_true (moat_test_wait_until (client_gone_cb, &weak));
  g_clear_pointer (&fixture->fake, moat_fake_engine_free);
}

static void
count_notify_cb (GObject *object, GParamSpec *pspec, Fixture *fixture)
{
  fixture->notifies++;
}

/* ---- MoatClient ---- */

static void
test_client_properties (Fixture *fixture, gconstpointer data)
{
  MoatClient *client = fixture->client;

  g_assert_true (moat_client_get_engine_running (client));
  g_assert_cmpstr (moat_client_get_version (client), ==, "9.8.7");
  g_assert_cmpint (moat_client_get_protection_state (client), ==, MOAT_PROTECTION_STATE_PROTECTED);
  g_assert_cmpstr (moat_client_get_protection_summary (client), ==, "All good.");
  g_assert_cmpint (moat_client_get_risk_level (client), ==, MOAT_RISK_LEVEL_LOW);
  g_assert_cmpstr (moat_client_get_proxy_address (client), ==, "127.0.0.1:3129");
  g_assert_cmpint (moat_client_get_store_state (client), ==, MOAT_STORE_STATE_OK);
  g_assert_null (moat_client_get_store_message (client));
  g_assert_cmpint (moat_client_get_start_time (client), ==, G_GINT64_CONSTANT (1793491200000000));

  g_signal_connect (client, "notify::risk-level", G_CALLBACK (count_notify_cb), fixture);
  moat_dbus_moat1_set_risk_level (fixture->fake->skeleton, "high");
  while (fixture->notifies == 0)
    g_main_context_iteration (NULL, TRUE);
  g_assert_cmpuint (fixture->notifies, ==, 1);
  g_assert_cmpint (moat_client_get_risk_level (client), ==, MOAT_RISK_LEVEL_HIGH);

  /* Something moatd does not know is shown as the unknown value, not trusted. */
  moat_dbus_moat1_set_store_state (fixture->fake->skeleton, "on-fire");
  moat_dbus_moat1_set_store_message (fixture->fake->skeleton, "Disk is full.");
  g_signal_connect (client, "notify::store-message", G_CALLBACK (count_notify_cb), fixture);
  while (fixture->notifies == 1)
    g_main_context_iteration (NULL, TRUE);
  g_assert_cmpstr (moat_client_get_store_message (client), ==, "Disk is full.");
  g_assert_cmpint (moat_client_get_store_state (client), ==, MOAT_STORE_STATE_OPENING);
}

static gboolean
engine_running_is (MoatClient *client, gboolean running)
{
  return moat_client_get_engine_running (client) == running;
}

static gboolean
engine_running_cb (gpointer data)
{
  return engine_running_is (data, TRUE);
}

static gboolean
engine_stopped_cb (gpointer data)
{
  return engine_running_is (data, FALSE);
}

static void
test_client_engine_running (Fixture *fixture, gconstpointer data)
{
  MoatClient *client = fixture->client;

  g_assert_false (moat_client_get_engine_running (client));
  g_assert_null (moat_client_get_version (client));
  g_assert_cmpint (moat_client_get_protection_state (client), ==,
                   MOAT_PROTECTION_STATE_UNPROTECTED);
  g_assert_cmpint (moat_client_get_risk_level (client), ==, MOAT_RISK_LEVEL_NONE);
  g_assert_cmpint (moat_client_get_store_state (client), ==, MOAT_STORE_STATE_OPENING);
  g_signal_connect (client, "notify::engine-running", G_CALLBACK (count_notify_cb), fixture);

  moat_fake_engine_own_name (fixture->fake);
  g_assert_true (moat_test_wait_until (engine_running_cb, client));
  g_assert_cmpuint (fixture->notifies, ==, 1);
  g_assert_cmpstr (moat_client_get_version (client), ==, "9.8.7");
  g_assert_cmpint (moat_client_get_protection_state (client), ==, MOAT_PROTECTION_STATE_PROTECTED);

  moat_fake_engine_unown_name (fixture->fake);
  g_assert_true (moat_test_wait_until (engine_stopped_cb, client));
  g_assert_cmpuint (fixture->notifies, ==, 2);
  g_assert_null (moat_client_get_version (client));
  g_assert_null (moat_client_get_proxy_address (client));
  g_assert_cmpint (moat_client_get_protection_state (client), ==,
                   MOAT_PROTECTION_STATE_UNPROTECTED);
  g_assert_cmpint (moat_client_get_start_time (client), ==, 0);

  moat_fake_engine_own_name (fixture->fake);
  g_assert_true (moat_test_wait_until (engine_running_cb, client));
  g_assert_cmpuint (fixture->notifies, ==, 3);
}

static GPtrArray *
list_events (Fixture *fixture, const MoatEventFilter *filter, guint64 offset, guint limit,
             GError **error)
{
  GPtrArray *events;

  moat_client_list_events_async (fixture->client, filter, offset, limit, NULL,
                                 store_result_cb, fixture);
  events = moat_client_list_events_finish (fixture->client, wait_result (fixture), error);
  g_clear_object (&fixture->result);
  return events;
}

static void
test_client_list_count (Fixture *fixture, gconstpointer data)
{
  g_autoptr(MoatEventFilter) filter = moat_event_filter_new ();
  g_autoptr(GPtrArray) events = NULL;
  g_autoptr(GHashTable) counts = NULL;
  g_autoptr(GError) error = NULL;
  guint64 count = 0;
  MoatEvent *event;

  events = list_events (fixture, NULL, 10, 3, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (events->len, ==, 3);
  event = g_ptr_array_index (events, 0);
  g_assert_cmpint (event->id, ==, 990);
  g_assert_cmpstr (event->subject, ==, "host990.example");
  g_assert_cmpstr (event->detail, ==, "{\"n\":990}");
  g_assert_cmpint (event->severity, ==, MOAT_SEVERITY_INFO);
  g_assert_cmpint (((MoatEvent *) g_ptr_array_index (events, 2))->id, ==, 988);
  g_clear_pointer (&events, g_ptr_array_unref);

  filter->threat = g_strdup ("network.*");
  filter->ascending = TRUE;
  events = list_events (fixture, filter, 0, 4, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (events->len, ==, 4);
  /* n % 5 == 2 or 3 */
  g_assert_cmpint (((MoatEvent *) g_ptr_array_index (events, 0))->id, ==, 2);
  g_assert_cmpint (((MoatEvent *) g_ptr_array_index (events, 1))->id, ==, 3);
  g_assert_cmpint (((MoatEvent *) g_ptr_array_index (events, 2))->id, ==, 7);
  g_assert_cmpint (((MoatEvent *) g_ptr_array_index (events, 3))->id, ==, 8);

  moat_client_count_events_async (fixture->client, filter, NULL, store_result_cb, fixture);
  g_assert_true (moat_client_count_events_finish (fixture->client, wait_result (fixture),
                                                  &count, &error));
  g_clear_object (&fixture->result);
  g_assert_no_error (error);
  g_assert_cmpuint (count, ==, 400);

  moat_client_category_counts_async (fixture->client, 0, 0, "blocked", NULL,
                                     store_result_cb, fixture);
  counts = moat_client_category_counts_finish (fixture->client, wait_result (fixture), &error);
  g_clear_object (&fixture->result);
  g_assert_no_error (error);
  /* odd n are blocked; n % 5 picks the threat: 100 odd numbers per residue */
  g_assert_cmpuint (g_hash_table_size (counts), ==, 5);
  g_assert_cmpuint (*(guint64 *) g_hash_table_lookup (counts, "content.malware"), ==, 100);
  g_assert_cmpuint (*(guint64 *) g_hash_table_lookup (counts, "app.sideloaded"), ==, 100);
}

static void
on_events_added_cb (MoatClient *client, GPtrArray *events, GPtrArray *seen)
{
  for (guint i = 0; i < events->len; i++)
    g_ptr_array_add (seen, moat_event_ref (g_ptr_array_index (events, i)));
}

static gboolean
seen_three_cb (gpointer data)
{
  return ((GPtrArray *) data)->len >= 3;
}

static void
test_client_events_added (Fixture *fixture, gconstpointer data)
{
  g_autoptr(GPtrArray) seen = g_ptr_array_new_with_free_func ((GDestroyNotify) moat_event_unref);

  g_signal_connect (fixture->client, "events-added", G_CALLBACK (on_events_added_cb), seen);
  moat_fake_engine_add_events (fixture->fake, 3);
  g_assert_true (moat_test_wait_until (seen_three_cb, seen));
  g_assert_cmpuint (seen->len, ==, 3);
  g_assert_cmpint (((MoatEvent *) g_ptr_array_index (seen, 0))->id, ==, 11);
  g_assert_cmpint (((MoatEvent *) g_ptr_array_index (seen, 2))->id, ==, 13);
  g_assert_cmpstr (((MoatEvent *) g_ptr_array_index (seen, 2))->threat, ==, "network.dns_hijack");
}

static void
test_client_errors_remote (Fixture *fixture, gconstpointer data)
{
  g_autoptr(MoatEventFilter) filter = moat_event_filter_new ();
  g_autoptr(GPtrArray) events = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();

  /* A remote MOAT_ERROR keeps its code and its own message. */
  fixture->fake->next_error = g_error_new_literal (MOAT_ERROR, MOAT_ERROR_STORE, "Disk on fire");
  events = list_events (fixture, NULL, 0, 10, &error);
  g_assert_null (events);
  g_assert_error (error, MOAT_ERROR, MOAT_ERROR_STORE);
  g_assert_cmpstr (error->message, ==, "Disk on fire");
  g_clear_error (&error);

  /* A bus error becomes MOAT_ERROR too. */
  fixture->fake->next_error = g_error_new_literal (G_DBUS_ERROR, G_DBUS_ERROR_INVALID_ARGS, "nope");
  events = list_events (fixture, NULL, 0, 10, &error);
  g_assert_null (events);
  g_assert_error (error, MOAT_ERROR, MOAT_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);

  /* Refused input. */
  events = list_events (fixture, NULL, 0, 5000, &error);
  g_assert_null (events);
  g_assert_error (error, MOAT_ERROR, MOAT_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  filter->threat = g_strdup ("bogus");
  events = list_events (fixture, filter, 0, 5, &error);
  g_assert_null (events);
  g_assert_error (error, MOAT_ERROR, MOAT_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);

  /* Cancellation stays G_IO_ERROR_CANCELLED, the GIO convention. */
  g_cancellable_cancel (cancellable);
  moat_client_list_events_async (fixture->client, NULL, 0, 5, cancellable,
                                 store_result_cb, fixture);
  events = moat_client_list_events_finish (fixture->client, wait_result (fixture), &error);
  g_clear_object (&fixture->result);
  g_assert_null (events);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
}

static void
test_client_errors_unreachable (Fixture *fixture, gconstpointer data)
{
  g_autoptr(MoatClient) autostart = NULL;
  g_autoptr(GPtrArray) events = NULL;
  g_autoptr(GError) error = NULL;
  guint64 count = 0;

  /* NO_AUTO_START and nobody owns the name. */
  events = list_events (fixture, NULL, 0, 10, &error);
  g_assert_null (events);
  g_assert_error (error, MOAT_ERROR, MOAT_ERROR_ENGINE_UNREACHABLE);
  g_clear_error (&error);

  moat_client_count_events_async (fixture->client, NULL, NULL, store_result_cb, fixture);
  g_assert_false (moat_client_count_events_finish (fixture->client, wait_result (fixture),
                                                   &count, &error));
  g_clear_object (&fixture->result);
  g_assert_error (error, MOAT_ERROR, MOAT_ERROR_ENGINE_UNREACHABLE);
  g_clear_error (&error);

  /* Activation allowed, but this bus has no service file for moatd. */
  autostart = new_client (fixture, MOAT_CLIENT_FLAGS_NONE);
  moat_client_list_events_async (autostart, NULL, 0, 10, NULL, store_result_cb, fixture);
  events = moat_client_list_events_finish (autostart, wait_result (fixture), &error);
  g_clear_object (&fixture->result);
  g_assert_null (events);
  g_assert_error (error, MOAT_ERROR, MOAT_ERROR_ENGINE_UNREACHABLE);
  g_clear_error (&error);

  moat_client_start_engine_async (autostart, NULL, store_result_cb, fixture);
  g_assert_false (moat_client_start_engine_finish (autostart, wait_result (fixture), &error));
  g_clear_object (&fixture->result);
  g_assert_error (error, MOAT_ERROR, MOAT_ERROR_ENGINE_UNREACHABLE);
  g_clear_error (&error);

  /* Once moatd is there, start_engine succeeds at once. */
  moat_fake_engine_own_name (fixture->fake);
  g_assert_true (moat_test_wait_until (engine_running_cb, autostart));
  moat_client_start_engine_async (autostart, NULL, store_result_cb, fixture);
  g_assert_true (moat_client_start_engine_finish (autostart, wait_result (fixture), &error));
  g_clear_object (&fixture->result);
  g_assert_no_error (error);
}

/* ---- MoatEventList ---- */

typedef struct {
  MoatEventList *list;
  guint          n_changed;
  guint          last_position;
  guint          last_removed;
  guint          last_added;
} ListWatch;

static void
on_items_changed_cb (GListModel *model, guint position, guint removed, guint added,
                     ListWatch *watch)
{
  watch->n_changed++;
  watch->last_position = position;
  watch->last_removed = removed;
  watch->last_added = added;
}

static gboolean
list_loaded_cb (gpointer data)
{
  return !moat_event_list_get_loading (data);
}

static MoatEventList *
new_loaded_list (Fixture *fixture, ListWatch *watch)
{
  MoatEventList *list = moat_event_list_new (fixture->client);

  g_assert_true (moat_event_list_get_loading (list));
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (list)), ==, 0);
  if (watch != NULL)
    {
      watch->list = list;
      g_signal_connect (list, "items-changed", G_CALLBACK (on_items_changed_cb), watch);
    }
  g_assert_true (moat_test_wait_until (list_loaded_cb, list));
  return list;
}

static void
on_item_notify_event_cb (MoatEventItem *item, GParamSpec *pspec, guint *count)
{
  (*count)++;
}

typedef struct {
  MoatEventItem **items;
  guint           n;
} ItemSet;

static gboolean
items_loaded_cb (gpointer data)
{
  ItemSet *set = data;

  for (guint i = 0; i < set->n; i++)
    if (moat_event_item_get_event (set->items[i]) == NULL)
      return FALSE;
  return TRUE;
}

static void
test_list_paging (Fixture *fixture, gconstpointer data)
{
  g_autoptr(MoatEventList) list = NULL;
  ListWatch watch = { 0 };
  guint n_pages = N_EVENTS / MOAT_EVENT_LIST_PAGE_SIZE;
  MoatEventItem *items[MOAT_EVENT_LIST_PAGE_SIZE];
  guint notifies[MOAT_EVENT_LIST_PAGE_SIZE];
  ItemSet set = { items, MOAT_EVENT_LIST_PAGE_SIZE };
  guint n_list_calls_before;

  list = new_loaded_list (fixture, &watch);
  g_assert_null (moat_event_list_get_error (list));
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (list)), ==, N_EVENTS);
  g_assert_cmpuint (watch.n_changed, ==, 1);
  g_assert_cmpuint (watch.last_added, ==, N_EVENTS);
  g_assert_true (g_list_model_get_item_type (G_LIST_MODEL (list)) == MOAT_TYPE_EVENT_ITEM);
  g_assert_null (g_list_model_get_item (G_LIST_MODEL (list), N_EVENTS));
  /* A load is one ListEvents (the first page) and one CountEvents. */
  g_assert_cmpuint (fixture->fake->n_list_calls, ==, 1);
  g_assert_cmpuint (fixture->fake->n_count_calls, ==, 1);
  n_list_calls_before = fixture->fake->n_list_calls;

  for (guint p = 0; p < n_pages; p++)
    {
      for (guint k = 0; k < MOAT_EVENT_LIST_PAGE_SIZE; k++)
        {
          guint position = p * MOAT_EVENT_LIST_PAGE_SIZE + k;

          items[k] = g_list_model_get_item (G_LIST_MODEL (list), position);
          g_assert_nonnull (items[k]);
          notifies[k] = 0;
          if (moat_event_item_get_event (items[k]) == NULL)
            g_signal_connect (items[k], "notify::event",
                              G_CALLBACK (on_item_notify_event_cb), &notifies[k]);
          else
            notifies[k] = 1;   /* page 0 arrived with the load */
        }
      g_assert_true (moat_test_wait_until (items_loaded_cb, &set));
      for (guint k = 0; k < MOAT_EVENT_LIST_PAGE_SIZE; k++)
        {
          guint position = p * MOAT_EVENT_LIST_PAGE_SIZE + k;
          MoatEvent *event = moat_event_item_get_event (items[k]);
          g_autoptr(MoatEventItem) again = g_list_model_get_item (G_LIST_MODEL (list), position);

          g_assert_cmpint (event->id, ==, N_EVENTS - position);
          g_assert_cmpuint (notifies[k], ==, 1);
          /* While its page is cached, a position gives the same item. */
          g_assert_true (again == items[k]);
          g_signal_handlers_disconnect_by_data (items[k], &notifies[k]);
          g_object_unref (items[k]);
        }
      if (p > 0)
        g_assert_cmpuint (moat_fake_engine_get_page_fetches (fixture->fake,
                                                             p * MOAT_EVENT_LIST_PAGE_SIZE),
                          ==, 1);
      g_assert_cmpuint (moat_event_list_get_n_cached_pages (list), <=, MOAT_EVENT_LIST_MAX_PAGES);
    }
  /* Every page but the first was fetched exactly once. */
  g_assert_cmpuint (fixture->fake->n_list_calls - n_list_calls_before, ==, n_pages - 1);
  g_assert_cmpuint (moat_event_list_get_n_fetches (list), ==, n_pages - 1);
  g_assert_cmpuint (moat_event_list_get_n_cached_pages (list), ==, MOAT_EVENT_LIST_MAX_PAGES);
  g_assert_cmpuint (watch.n_changed, ==, 1);
}

static void
test_list_dedup_evict (Fixture *fixture, gconstpointer data)
{
  g_autoptr(MoatEventList) list = new_loaded_list (fixture, NULL);
  g_autoptr(MoatEventItem) a = NULL;
  g_autoptr(MoatEventItem) b = NULL;
  g_autoptr(MoatEventItem) c = NULL;
  g_autoptr(MoatEventItem) d = NULL;
  MoatEventItem *set_items[3];
  ItemSet set = { set_items, 3 };

  /* Three asks for the same page before it arrives: one fetch. */
  a = g_list_model_get_item (G_LIST_MODEL (list), 5000);
  b = g_list_model_get_item (G_LIST_MODEL (list), 5001);
  c = g_list_model_get_item (G_LIST_MODEL (list), 5000);
  g_assert_true (a == c);
  g_assert_null (moat_event_item_get_event (a));
  set_items[0] = a;
  set_items[1] = b;
  set_items[2] = c;
  g_assert_true (moat_test_wait_until (items_loaded_cb, &set));
  g_assert_cmpuint (moat_fake_engine_get_page_fetches (fixture->fake, 5000), ==, 1);
  g_assert_cmpuint (moat_event_list_get_n_fetches (list), ==, 1);
  g_assert_cmpint (moat_event_item_get_event (a)->id, ==, N_EVENTS - 5000);
  g_assert_cmpint (moat_event_item_get_event (b)->id, ==, N_EVENTS - 5001);

  /* Touch more pages than the cache holds; page 25 (5000..5199) is evicted. */
  for (guint p = 26; p < 26 + MOAT_EVENT_LIST_MAX_PAGES + 5; p++)
    {
      MoatEventItem *item = g_list_model_get_item (G_LIST_MODEL (list),
                                                   p * MOAT_EVENT_LIST_PAGE_SIZE);

      set_items[0] = item;
      set.n = 1;
      g_assert_true (moat_test_wait_until (items_loaded_cb, &set));
      g_object_unref (item);
    }
  g_assert_cmpuint (moat_event_list_get_n_cached_pages (list), ==, MOAT_EVENT_LIST_MAX_PAGES);

  /* An evicted item keeps its event for whoever still holds it... */
  g_assert_cmpint (moat_event_item_get_event (a)->id, ==, N_EVENTS - 5000);
  /* ...and asking again loads the page again, into a fresh item. */
  d = g_list_model_get_item (G_LIST_MODEL (list), 5000);
  g_assert_true (d != a);
  g_assert_null (moat_event_item_get_event (d));
  set_items[0] = d;
  g_assert_true (moat_test_wait_until (items_loaded_cb, &set));
  g_assert_cmpint (moat_event_item_get_event (d)->id, ==, N_EVENTS - 5000);
  g_assert_cmpuint (moat_fake_engine_get_page_fetches (fixture->fake, 5000), ==, 2);
}

static void
check_list_matches (MoatEventList *list, MoatFakeEngine *fake, const MoatEventFilter *filter,
                    guint n_check)
{
  guint n = g_list_model_get_n_items (G_LIST_MODEL (list));
  g_autoptr(GPtrArray) items = g_ptr_array_new_with_free_func (g_object_unref);
  ItemSet set;
  gint64 previous = G_MAXINT64;

  g_assert_cmpuint (n, ==, moat_fake_engine_count (fake, filter));
  for (guint i = 0; i < n && i < n_check; i++)
    g_ptr_array_add (items, g_list_model_get_item (G_LIST_MODEL (list), i));
  set.items = (MoatEventItem **) items->pdata;
  set.n = items->len;
  g_assert_true (moat_test_wait_until (items_loaded_cb, &set));
  for (guint i = 0; i < items->len; i++)
    {
      MoatEvent *event = moat_event_item_get_event (g_ptr_array_index (items, i));

      g_assert_true (moat_event_filter_matches (filter, event));
      g_assert_cmpint (event->id, <, previous);
      previous = event->id;
    }
}

static void
test_list_filter (Fixture *fixture, gconstpointer data)
{
  g_autoptr(MoatEventList) list = new_loaded_list (fixture, NULL);
  g_autoptr(MoatEventFilter) network = moat_event_filter_new ();
  g_autoptr(MoatEventFilter) search = moat_event_filter_new ();
  g_autoptr(MoatEventItem) first = NULL;

  network->threat = g_strdup ("network.*");
  network->min_severity = MOAT_SEVERITY_HIGH;
  moat_event_list_set_filter (list, network);
  g_assert_true (moat_event_list_get_loading (list));
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (list)), ==, 0);
  g_assert_true (moat_test_wait_until (list_loaded_cb, list));
  g_assert_cmpstr (moat_event_list_get_filter (list)->threat, ==, "network.*");
  /* n % 5 == 3 (network.dns_hijack, high) */
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (list)), ==, N_EVENTS / 5);
  check_list_matches (list, fixture->fake, network, 450);
  first = g_list_model_get_item (G_LIST_MODEL (list), 0);
  g_assert_cmpint (moat_event_item_get_event (first)->id, ==, N_EVENTS - 2);

  /* A second filter set while the first loads wins; the first is cancelled. */
  search->search = g_strdup ("HOST1234");
  moat_event_list_set_filter (list, network);
  moat_event_list_set_filter (list, search);
  g_assert_true (moat_test_wait_until (list_loaded_cb, list));
  g_assert_null (moat_event_list_get_error (list));
  /* host1234, host12340..12349, host123400..123499 (> N_EVENTS: none) */
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (list)), ==, 11);
  check_list_matches (list, fixture->fake, search, 11);

  /* Setting the list's own filter again reloads with it. */
  moat_event_list_set_filter (list, moat_event_list_get_filter (list));
  g_assert_cmpstr (moat_event_list_get_filter (list)->search, ==, "HOST1234");
  g_assert_true (moat_test_wait_until (list_loaded_cb, list));
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (list)), ==, 11);

  moat_event_list_set_filter (list, NULL);
  g_assert_null (moat_event_list_get_filter (list));
  g_assert_true (moat_test_wait_until (list_loaded_cb, list));
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (list)), ==, N_EVENTS);
}

static void
test_list_events_added (Fixture *fixture, gconstpointer data)
{
  g_autoptr(MoatEventList) list = NULL;
  g_autoptr(MoatEventFilter) filter = moat_event_filter_new ();
  g_autoptr(MoatEventItem) old_top = NULL;
  g_autoptr(MoatEventItem) item = NULL;
  ListWatch watch = { 0 };
  guint n;

  filter->threat = g_strdup ("content.*");
  list = new_loaded_list (fixture, &watch);
  moat_event_list_set_filter (list, filter);
  g_assert_true (moat_test_wait_until (list_loaded_cb, list));
  n = g_list_model_get_n_items (G_LIST_MODEL (list));
  g_assert_cmpuint (n, ==, 400);
  old_top = g_list_model_get_item (G_LIST_MODEL (list), 0);
  g_assert_cmpint (moat_event_item_get_event (old_top)->id, ==, 1000);
  watch.n_changed = 0;

  /* 1001..1010: n % 5 in {0, 1} are content.* -> 1001, 1005, 1006, 1010 */
  moat_fake_engine_add_events (fixture->fake, 10);
  while (watch.n_changed == 0)
    g_main_context_iteration (NULL, TRUE);
  g_assert_cmpuint (watch.n_changed, ==, 1);
  g_assert_cmpuint (watch.last_position, ==, 0);
  g_assert_cmpuint (watch.last_removed, ==, 0);
  g_assert_cmpuint (watch.last_added, ==, 4);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (list)), ==, n + 4);

  item = g_list_model_get_item (G_LIST_MODEL (list), 0);
  g_assert_cmpint (moat_event_item_get_event (item)->id, ==, 1010);
  g_clear_object (&item);
  item = g_list_model_get_item (G_LIST_MODEL (list), 3);
  g_assert_cmpint (moat_event_item_get_event (item)->id, ==, 1001);
  g_clear_object (&item);
  /* What was on top moved down by four and is the same item. */
  item = g_list_model_get_item (G_LIST_MODEL (list), 4);
  g_assert_true (item == old_top);
  g_clear_object (&item);
  check_list_matches (list, fixture->fake, filter, 450);
}

static void
test_list_events_during_load (Fixture *fixture, gconstpointer data)
{
  g_autoptr(MoatEventList) list = NULL;
  g_autoptr(MoatEventItem) item = NULL;

  /* Announced before the first page is read: the page has them, no duplicates. */
  fixture->fake->add_on_list = 3;
  list = new_loaded_list (fixture, NULL);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (list)), ==, N_EVENTS + 3);
  check_list_matches (list, fixture->fake, NULL, 600);

  /* Announced after the first page, before the count: sorted in on top, no gap. */
  fixture->fake->add_on_count = 5;
  moat_event_list_reload (list);
  g_assert_true (moat_test_wait_until (list_loaded_cb, list));
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (list)), ==, N_EVENTS + 8);
  item = g_list_model_get_item (G_LIST_MODEL (list), 0);
  g_assert_cmpint (moat_event_item_get_event (item)->id, ==, N_EVENTS + 8);
  check_list_matches (list, fixture->fake, NULL, 600);
}

static void
test_list_reanchor (Fixture *fixture, gconstpointer data)
{
  g_autoptr(MoatEventList) list = NULL;
  ListWatch watch = { 0 };

  list = new_loaded_list (fixture, &watch);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (list)), ==, 1000);
  watch.n_changed = 0;
  /* More live events than the list keeps in memory: it re-anchors, same count. */
  moat_fake_engine_add_events (fixture->fake, 6000);
  while (watch.n_changed < 2)
    g_main_context_iteration (NULL, TRUE);
  g_assert_cmpuint (watch.last_position, ==, 0);
  g_assert_cmpuint (watch.last_removed, ==, 7000);
  g_assert_cmpuint (watch.last_added, ==, 7000);
  check_list_matches (list, fixture->fake, NULL, 1000);
}

static void
test_list_error (Fixture *fixture, gconstpointer data)
{
  g_autoptr(MoatEventList) list = new_loaded_list (fixture, NULL);

  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (list)), ==, 0);
  g_assert_nonnull (moat_event_list_get_error (list));
  g_assert_cmpstr (moat_event_list_get_error (list), ==,
                   "The Moat engine (moatd) is not running");

  moat_fake_engine_own_name (fixture->fake);
  g_assert_true (moat_test_wait_until (engine_running_cb, fixture->client));
  moat_event_list_reload (list);
  g_assert_null (moat_event_list_get_error (list));
  g_assert_true (moat_test_wait_until (list_loaded_cb, list));
  g_assert_null (moat_event_list_get_error (list));
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (list)), ==, 10);
}

int
main (int argc, char *argv[])
{
  g_autoptr(GTestDBus) bus = NULL;
  int ret;

  g_test_init (&argc, &argv, NULL);
  g_unsetenv ("MOAT_DBUS_ADDRESS");

  bus = g_test_dbus_new (G_TEST_DBUS_NONE);
  g_test_dbus_up (bus);

#define ADD(path, n, setup, func) \
  g_test_add (path, Fixture, GUINT_TO_POINTER (n), setup, func, fixture_tear_down)

  ADD ("/moat/client/properties", 10, fixture_set_up_owned, test_client_properties);
  ADD ("/moat/client/engine-running", 10, fixture_set_up_unowned, test_client_engine_running);
  ADD ("/moat/client/list-count", 1000, fixture_set_up_owned, test_client_list_count);
  ADD ("/moat/client/events-added", 10, fixture_set_up_owned, test_client_events_added);
  ADD ("/moat/client/errors-remote", 10, fixture_set_up_owned, test_client_errors_remote);
  ADD ("/moat/client/errors-unreachable", 10, fixture_set_up_unowned,
       test_client_errors_unreachable);
  ADD ("/moat/event-list/paging", N_EVENTS, fixture_set_up_owned, test_list_paging);
  ADD ("/moat/event-list/dedup-evict", N_EVENTS, fixture_set_up_owned, test_list_dedup_evict);
  ADD ("/moat/event-list/filter", N_EVENTS, fixture_set_up_owned, test_list_filter);
  ADD ("/moat/event-list/events-added", 1000, fixture_set_up_owned, test_list_events_added);
  ADD ("/moat/event-list/events-during-load", N_EVENTS, fixture_set_up_owned,
       test_list_events_during_load);
  ADD ("/moat/event-list/reanchor", 1000, fixture_set_up_owned, test_list_reanchor);
  ADD ("/moat/event-list/error", 10, fixture_set_up_unowned, test_list_error);

  ret = g_test_run ();
  g_test_dbus_down (bus);
  return ret;
}
