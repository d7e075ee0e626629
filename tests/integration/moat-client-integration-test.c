/* SPDX-License-Identifier: GPL-3.0-or-later
 * Copyright 2026 The Moat developers
 */
#define G_LOG_DOMAIN "moat-client-integration-test"

#include "config.h"

#include "moat-client.h"
#include "moat-event-list.h"
#include "moat-test-harness.h"

#include <signal.h>

/* libmoat-client against the real moatd: the paging list over 100,000 stored
 * events, live insertion at the top, and engine-running across a restart. */

#define N_EVENTS 100000

typedef struct {
  MoatHarness   h;
  gboolean      ready;
  MoatClient   *client;
  GAsyncResult *result;
} Fixture;

static const char *const threats[] = {
  "content.malware", "network.tls_interception", "content.phishing", "os.rooted",
  "network.dns_hijack",
};

static GVariant *
make_events (guint from, guint n)
{
  GVariantBuilder b;
  gint64 base = g_get_real_time () - G_GINT64_CONSTANT (86400) * G_USEC_PER_SEC;

  g_variant_builder_init (&b, G_VARIANT_TYPE ("a(xssssss)"));
  for (guint i = from; i < from + n; i++)
    {
      g_autofree char *subject = g_strdup_printf ("c%u.example", i);

      g_variant_builder_add (&b, "(xssssss)", base + (gint64) i * 1000, "proxy",
                             threats[i % G_N_ELEMENTS (threats)], "medium", subject, "blocked",
                             "{}");
    }
  return g_variant_builder_end (&b);
}

static gboolean
have_result_cb (gpointer data)
{
  return ((Fixture *) data)->result != NULL;
}

static void
store_result_cb (GObject *object, GAsyncResult *result, gpointer data)
{
  ((Fixture *) data)->result = g_object_ref (result);
}

static void
fixture_set_up (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;

  gboolean activatable = GPOINTER_TO_INT (data);

  f->ready = moat_harness_set_up (&f->h, activatable ? MOAT_HARNESS_ACTIVATABLE
                                                     : MOAT_HARNESS_NONE);
  if (!f->ready)
    return;
  if (!activatable)
    {
      moat_harness_start_moatd (&f->h);
      moat_harness_add_events (&f->h, make_events (0, N_EVENTS));
    }

  /* Its own connection to the test bus, as $MOAT_DBUS_ADDRESS says. */
  g_setenv ("MOAT_DBUS_ADDRESS", g_test_dbus_get_bus_address (f->h.bus), TRUE);
  moat_client_new_async (MOAT_CLIENT_FLAGS_NO_AUTO_START, NULL, store_result_cb, f);
  g_assert_true (moat_harness_spin_until (have_result_cb, f, 30));
  f->client = moat_client_new_finish (f->result, &error);
  g_assert_no_error (error);
  g_clear_object (&f->result);
}

static void
fixture_tear_down (Fixture *f, gconstpointer data)
{
  g_clear_object (&f->client);
  g_unsetenv ("MOAT_DBUS_ADDRESS");
  moat_harness_tear_down (&f->h);
}

static gboolean
list_loaded_cb (gpointer data)
{
  return !moat_event_list_get_loading (data);
}

typedef struct {
  MoatEventItem *item;
} ItemWait;

static gboolean
item_loaded_cb (gpointer data)
{
  return moat_event_item_get_event (((ItemWait *) data)->item) != NULL;
}

static MoatEvent *
event_at (MoatEventList *list, guint position)
{
  g_autoptr(MoatEventItem) item = g_list_model_get_item (G_LIST_MODEL (list), position);
  ItemWait wait = { item };

  g_assert_nonnull (item);
  g_assert_true (moat_harness_spin_until (item_loaded_cb, &wait, 30));
  return moat_event_ref (moat_event_item_get_event (item));
}

typedef struct {
  guint n_changed;
  guint added;
} Changes;

static void
on_items_changed_cb (GListModel *model, guint position, guint removed, guint added, Changes *c)
{
  g_assert_cmpuint (position, ==, 0);
  g_assert_cmpuint (removed, ==, 0);
  c->n_changed++;
  c->added += added;
}

static gboolean
added_enough_cb (gpointer data)
{
  return ((Changes *) data)->added >= 40;
}

static void
test_event_list (Fixture *f, gconstpointer data)
{
  g_autoptr(MoatEventList) list = NULL;
  g_autoptr(MoatEventFilter) filter = moat_event_filter_new ();
  g_autoptr(MoatEvent) newest = NULL;
  g_autoptr(MoatEvent) oldest = NULL;
  const guint positions[] = { 1, 199, 200, 201, 12345, 50000, 99800, N_EVENTS - 2 };
  Changes changes = { 0 };
  gint64 first_id;
  gint64 started;

  if (!f->ready)
    return;
  g_assert_true (moat_client_get_engine_running (f->client));
  g_assert_cmpstr (moat_client_get_version (f->client), ==, PACKAGE_VERSION);

  /* Reported, not asserted: how long the first load and a deep page take. */
  started = g_get_monotonic_time ();
  list = moat_event_list_new (f->client);
  g_assert_true (moat_harness_spin_until (list_loaded_cb, list, 60));
  g_test_message ("MoatEventList over %u events: loaded (first page + count) in %.1f ms",
                  N_EVENTS, (g_get_monotonic_time () - started) / 1000.0);
  g_assert_null (moat_event_list_get_error (list));
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (list)), ==, N_EVENTS);

  newest = event_at (list, 0);
  oldest = event_at (list, N_EVENTS - 1);
  g_assert_cmpstr (newest->subject, ==, "c99999.example");
  g_assert_cmpstr (oldest->subject, ==, "c0.example");
  first_id = oldest->id;
  g_assert_cmpint (newest->id, ==, first_id + N_EVENTS - 1);
  for (guint i = 0; i < G_N_ELEMENTS (positions); i++)
    {
      gint64 asked = g_get_monotonic_time ();
      g_autoptr(MoatEvent) event = event_at (list, positions[i]);
      double ms = (g_get_monotonic_time () - asked) / 1000.0;
      g_autofree char *subject = g_strdup_printf ("c%u.example", N_EVENTS - 1 - positions[i]);

      g_test_message ("item %u loaded in %.1f ms", positions[i], ms);
      g_assert_cmpint (event->id, ==, newest->id - positions[i]);
      g_assert_cmpstr (event->subject, ==, subject);
    }

  /* Filtered: every fifth event is network.dns_hijack (i % 5 == 4). */
  filter->threat = g_strdup ("network.dns_hijack");
  moat_event_list_set_filter (list, filter);
  g_assert_true (moat_harness_spin_until (list_loaded_cb, list, 60));
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (list)), ==, N_EVENTS / 5);
  {
    g_autoptr(MoatEvent) top = event_at (list, 0);
    g_autoptr(MoatEvent) third = event_at (list, 2);
    g_autoptr(MoatEvent) last = event_at (list, N_EVENTS / 5 - 1);

    g_assert_cmpstr (top->subject, ==, "c99999.example");
    g_assert_cmpstr (third->subject, ==, "c99989.example");
    g_assert_cmpstr (last->subject, ==, "c4.example");
  }

  /* New events arrive on top; only the matching ones (40 of 200). */
  g_signal_connect (list, "items-changed", G_CALLBACK (on_items_changed_cb), &changes);
  moat_harness_add_events (&f->h, make_events (N_EVENTS, 100));
  moat_harness_add_events (&f->h, make_events (N_EVENTS + 100, 100));
  g_assert_true (moat_harness_spin_until (added_enough_cb, &changes, 30));
  moat_harness_spin_for (300);
  g_assert_cmpuint (changes.added, ==, 40);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (list)), ==, N_EVENTS / 5 + 40);
  {
    g_autoptr(MoatEvent) top = event_at (list, 0);
    g_autoptr(MoatEvent) was_top = event_at (list, 40);

    g_assert_cmpstr (top->subject, ==, "c100199.example");
    g_assert_cmpstr (was_top->subject, ==, "c99999.example");
  }
}

static gboolean
running_is_cb (gpointer data)
{
  Fixture *f = data;

  return moat_client_get_engine_running (f->client) == (f->h.moatd != NULL);
}

static gboolean
adult_enabled_cb (gpointer data)
{
  g_auto(GStrv) categories = moat_client_dup_enabled_categories (data);

  return g_strv_contains ((const char * const *) categories, "adult");
}

static void
on_categories_notify_cb (GObject *object, GParamSpec *pspec, guint *n)
{
  (*n)++;
}

static gboolean
have_call_result_cb (gpointer data)
{
  return ((Fixture *) data)->result != NULL;
}

/* Calls through moat_client_call_async and follows the properties they change. */
static void
test_lists_calls (Fixture *f, gconstpointer data)
{
  g_autoptr(GVariant) reply = NULL;
  g_autoptr(GVariant) result = NULL;
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) categories = NULL;
  const char *verdict = NULL;
  guint notified = 0;

  if (!f->ready)
    return;
  categories = moat_client_dup_enabled_categories (f->client);
  g_assert_true (g_strv_contains ((const char * const *) categories, "malware"));
  g_assert_false (g_strv_contains ((const char * const *) categories, "adult"));
  g_signal_connect (f->client, "notify::enabled-categories", G_CALLBACK (on_categories_notify_cb),
                    &notified);

  moat_client_call_async (f->client, "SetCategoryEnabled", g_variant_new ("(sb)", "adult", TRUE),
                          NULL, store_result_cb, f);
  g_assert_true (moat_harness_spin_until (have_call_result_cb, f, 30));
  reply = moat_client_call_finish (f->client, f->result, &error);
  g_assert_no_error (error);
  g_assert_nonnull (reply);
  g_clear_object (&f->result);
  g_assert_true (moat_harness_spin_until (adult_enabled_cb, f->client, 30));
  g_assert_cmpuint (notified, >=, 1);

  /* Errors come back as MOAT_ERROR. */
  moat_client_call_async (f->client, "SetCategoryEnabled", g_variant_new ("(sb)", "nonsense", TRUE),
                          NULL, store_result_cb, f);
  g_assert_true (moat_harness_spin_until (have_call_result_cb, f, 30));
  g_assert_null (moat_client_call_finish (f->client, f->result, &error));
  g_assert_error (error, MOAT_ERROR, MOAT_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_clear_object (&f->result);

  moat_client_call_async (f->client, "Check", g_variant_new ("(s)", "internetbadguys.com"),
                          NULL, store_result_cb, f);
  g_assert_true (moat_harness_spin_until (have_call_result_cb, f, 30));
  g_clear_pointer (&reply, g_variant_unref);
  reply = moat_client_call_finish (f->client, f->result, &error);
  g_assert_no_error (error);
  g_clear_object (&f->result);
  g_variant_get (reply, "(@a{sv})", &result);
  g_assert_true (g_variant_lookup (result, "verdict", "&s", &verdict));
  /* The built-in lists may still be loading: either answer is a real one. */
  g_assert_true (g_str_equal (verdict, "block") || g_str_equal (verdict, "none"));
}

static void
test_restart (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  guint64 count = 0;

  if (!f->ready)
    return;
  g_assert_true (moat_client_get_engine_running (f->client));
  moat_harness_stop_moatd (&f->h, SIGKILL);
  g_assert_true (moat_harness_spin_until (running_is_cb, f, 30));
  g_assert_false (moat_client_get_engine_running (f->client));
  g_assert_null (moat_client_get_version (f->client));

  moat_client_count_events_async (f->client, NULL, NULL, store_result_cb, f);
  g_assert_true (moat_harness_spin_until (have_result_cb, f, 30));
  g_assert_false (moat_client_count_events_finish (f->client, f->result, &count, &error));
  g_assert_error (error, MOAT_ERROR, MOAT_ERROR_ENGINE_UNREACHABLE);
  g_clear_error (&error);
  g_clear_object (&f->result);

  moat_harness_start_moatd (&f->h);
  g_assert_true (moat_harness_spin_until (running_is_cb, f, 30));
  g_assert_cmpstr (moat_client_get_version (f->client), ==, PACKAGE_VERSION);
  moat_client_count_events_async (f->client, NULL, NULL, store_result_cb, f);
  g_assert_true (moat_harness_spin_until (have_result_cb, f, 30));
  g_assert_true (moat_client_count_events_finish (f->client, f->result, &count, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (count, ==, N_EVENTS);
  g_clear_object (&f->result);
}

static gboolean
name_owned_cb (gpointer data)
{
  return moat_harness_name_has_owner (data);
}

/* What the GUI's "Start" button does: D-Bus activation through the client,
 * which never starts moatd by itself (NO_AUTO_START). */
static void
test_start_engine (Fixture *f, gconstpointer data)
{
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(GError) error = NULL;
  gboolean ok;

  if (!f->ready)
    return;
  g_assert_false (moat_client_get_engine_running (f->client));
  g_assert_false (moat_harness_name_has_owner (&f->h));

  /* Cancelled at once: the call ends cancelled, nothing crashes later. */
  g_cancellable_cancel (cancellable);
  moat_client_start_engine_async (f->client, cancellable, store_result_cb, f);
  g_assert_true (moat_harness_spin_until (have_result_cb, f, 30));
  g_assert_false (moat_client_start_engine_finish (f->client, f->result, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_clear_error (&error);
  g_clear_object (&f->result);

  /* Cancelled as moatd appears, while the client may be waiting for the
   * proxy to see it: either outcome is fine, but exactly one, and no hang. */
  g_clear_object (&cancellable);
  cancellable = g_cancellable_new ();
  moat_client_start_engine_async (f->client, cancellable, store_result_cb, f);
  g_assert_true (moat_harness_spin_until (name_owned_cb, &f->h, 30));
  g_cancellable_cancel (cancellable);
  g_assert_true (moat_harness_spin_until (have_result_cb, f, 30));
  ok = moat_client_start_engine_finish (f->client, f->result, &error);
  g_test_message ("start_engine cancelled as moatd appeared: %s",
                  ok ? "succeeded" : error->message);
  if (!ok)
    g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_clear_error (&error);
  g_clear_object (&f->result);
  moat_harness_stop_owner (&f->h);
  g_assert_true (moat_harness_spin_until (running_is_cb, f, 30));

  /* Not cancelled: completes once the client sees moatd, with its properties. */
  moat_client_start_engine_async (f->client, NULL, store_result_cb, f);
  g_assert_true (moat_harness_spin_until (have_result_cb, f, 30));
  g_assert_true (moat_client_start_engine_finish (f->client, f->result, &error));
  g_assert_no_error (error);
  g_clear_object (&f->result);
  g_assert_true (moat_client_get_engine_running (f->client));
  g_assert_cmpstr (moat_client_get_version (f->client), ==, PACKAGE_VERSION);
  g_assert_cmpint (moat_client_get_store_state (f->client), !=, MOAT_STORE_STATE_ERROR);

  /* Running already: succeeds at once. */
  moat_client_start_engine_async (f->client, NULL, store_result_cb, f);
  g_assert_true (moat_harness_spin_until (have_result_cb, f, 30));
  g_assert_true (moat_client_start_engine_finish (f->client, f->result, &error));
  g_clear_object (&f->result);
}

int
main (int argc, char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  g_test_add ("/moat/integration/client/event-list", Fixture, NULL, fixture_set_up,
              test_event_list, fixture_tear_down);
  g_test_add ("/moat/integration/client/lists-calls", Fixture, NULL, fixture_set_up,
              test_lists_calls, fixture_tear_down);
  g_test_add ("/moat/integration/client/restart", Fixture, NULL, fixture_set_up, test_restart,
              fixture_tear_down);
  g_test_add ("/moat/integration/client/start-engine", Fixture, GINT_TO_POINTER (TRUE),
              fixture_set_up, test_start_engine, fixture_tear_down);
  return g_test_run ();
}
