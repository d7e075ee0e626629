/* SPDX-License-Identifier: GPL-3.0-or-later
 * Copyright 2026 The Moat developers
 */
#include "config.h"

#include "moat-engine.h"
#include "moat-error.h"
#include "moat-test-utils.h"

#include <glib/gstdio.h>
#include <signal.h>
#include <string.h>
#include <sys/resource.h>


typedef struct {
  char       *tmpdir;
  GSettings  *settings;
  MoatEngine *engine;
  guint       n_emissions;
  guint       n_delivered;
  gint64      last_id;
  gboolean    ids_ascending;
  gboolean    all_delivered;
  guint       expected;
  GArray     *emission_times;  /* gint64, monotonic µs */
} Fixture;

static void
start_engine (Fixture *fixture)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;

  fixture->engine = moat_engine_new (fixture->tmpdir, fixture->settings);
  /* These tests drive the proxy address themselves. */
  g_assert_true (moat_engine_set_proxy_options (fixture->engine, MOAT_ENGINE_NO_PROXY, NULL, NULL));
  moat_engine_start_async (fixture->engine, NULL, moat_test_result_cb, &result);
  moat_engine_start_finish (fixture->engine, moat_test_wait_result (&result), &error);
  g_assert_no_error (error);
}

static void
flush_engine (Fixture *fixture)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;

  moat_engine_flush_async (fixture->engine, NULL, moat_test_result_cb, &result);
  g_assert_true (moat_engine_flush_finish (fixture->engine, moat_test_wait_result (&result), &error));
  g_assert_no_error (error);
}

static GPtrArray *
list_events (Fixture *fixture, const char *threat)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(MoatEventFilter) filter = moat_event_filter_new ();
  GPtrArray *events;

  filter->threat = g_strdup (threat);
  moat_engine_list_events_async (fixture->engine, filter, 0, 1000, NULL, moat_test_result_cb, &result);
  events = moat_engine_list_events_finish (fixture->engine, moat_test_wait_result (&result), &error);
  g_assert_no_error (error);
  g_assert_nonnull (events);
  return events;
}

static void
fixture_set_up_unstarted (Fixture       *fixture,
                          gconstpointer  user_data)
{
  g_autoptr(GError) error = NULL;

  fixture->tmpdir = g_dir_make_tmp ("moat-engine-test-XXXXXX", &error);
  g_assert_no_error (error);
  fixture->settings = g_settings_new (MOAT_ENGINE_SETTINGS_SCHEMA);
  g_settings_reset (fixture->settings, "notify-min-severity");
  g_settings_reset (fixture->settings, "retention-days");
  g_settings_reset (fixture->settings, "retention-max-events");
  /* No notification server in unit tests; the notifier has its own test. */
  g_settings_set_boolean (fixture->settings, "notifications-enabled", FALSE);
  fixture->ids_ascending = TRUE;
  fixture->expected = 1000;
  fixture->emission_times = g_array_new (FALSE, FALSE, sizeof (gint64));
}

static void
fixture_set_up (Fixture       *fixture,
                gconstpointer  user_data)
{
  fixture_set_up_unstarted (fixture, user_data);
  start_engine (fixture);
}

static void
fixture_tear_down (Fixture       *fixture,
                   gconstpointer  user_data)
{
  if (fixture->engine != NULL)
    moat_engine_shutdown (fixture->engine);
  g_clear_object (&fixture->engine);
  g_clear_object (&fixture->settings);
  moat_test_remove_tree (fixture->tmpdir);
  g_free (fixture->tmpdir);
  g_array_unref (fixture->emission_times);
}

static MoatEvent *
make_event (guint i)
{
  g_autofree char *subject = g_strdup_printf ("host%u.example", i);

  return moat_event_new (MOAT_EVENT_SOURCE_PROXY, "content.malware", MOAT_SEVERITY_HIGH,
                         subject, "blocked", "{}");
}

static void
on_events_added_cb (MoatEngine *engine,
                    GPtrArray  *events,
                    Fixture    *fixture)
{
  gint64 now = g_get_monotonic_time ();

  fixture->n_emissions++;
  fixture->n_delivered += events->len;
  for (guint i = 0; i < events->len; i++)
    {
      MoatEvent *event = g_ptr_array_index (events, i);

      if (event->id <= fixture->last_id)
        fixture->ids_ascending = FALSE;
      fixture->last_id = event->id;
    }
  fixture->all_delivered = fixture->n_delivered >= fixture->expected;
  g_array_append_val (fixture->emission_times, now);
}

static void
test_engine_start (Fixture       *fixture,
                   gconstpointer  user_data)
{
  g_autofree char *expected_path = g_build_filename (fixture->tmpdir, "moat.db", NULL);

  g_assert_cmpint (moat_engine_get_store_state (fixture->engine), ==, MOAT_STORE_STATE_OK);
  g_assert_cmpstr (moat_engine_get_store_message (fixture->engine), ==, "");
  g_assert_cmpstr (moat_engine_get_store_path (fixture->engine), ==, expected_path);
  g_assert_true (g_file_test (expected_path, G_FILE_TEST_EXISTS));
  g_assert_cmpint (moat_engine_get_risk_level (fixture->engine), ==, MOAT_RISK_LEVEL_NONE);
  g_assert_cmpstr (moat_engine_get_proxy_address (fixture->engine), ==, "");

  /* Honest: no proxy, no protection. */
  g_assert_cmpint (moat_engine_get_protection_state (fixture->engine), ==,
                   MOAT_PROTECTION_STATE_UNPROTECTED);
  g_assert_cmpstr (moat_engine_get_protection_summary (fixture->engine), ==,
                   "The filtering proxy is not running yet.");

  /* A running filter protects only once the desktop's traffic goes through
   * it ("Protect this computer"); until then moatd says so. */
  moat_engine_set_proxy_address (fixture->engine, "127.0.0.1:8118");
  g_assert_cmpint (moat_engine_get_protection_state (fixture->engine), ==,
                   MOAT_PROTECTION_STATE_UNPROTECTED);
  g_assert_nonnull (strstr (moat_engine_get_protection_summary (fixture->engine),
                            "127.0.0.1:8118"));
  g_assert_nonnull (strstr (moat_engine_get_protection_summary (fixture->engine),
                            "Protect this computer"));
  moat_engine_set_proxy_address (fixture->engine, NULL);
  g_assert_cmpint (moat_engine_get_protection_state (fixture->engine), ==,
                   MOAT_PROTECTION_STATE_UNPROTECTED);
}

static void
test_engine_events_added_coalesced (Fixture       *fixture,
                                    gconstpointer  user_data)
{
  g_autoptr(GPtrArray) listed = NULL;

  g_signal_connect (fixture->engine, "events-added", G_CALLBACK (on_events_added_cb), fixture);

  for (guint i = 0; i < 1000; i++)
    {
      g_autoptr(MoatEvent) event = make_event (i);
      g_autoptr(GError) error = NULL;

      g_assert_true (moat_engine_record_event (fixture->engine, event, &error));
      g_assert_no_error (error);
    }
  flush_engine (fixture);

  moat_test_wait_for (&fixture->all_delivered);
  g_test_message ("1000 events arrived in %u ::events-added emissions", fixture->n_emissions);
  g_assert_cmpuint (fixture->n_delivered, ==, 1000);
  g_assert_true (fixture->ids_ascending);
  /* Coalesced: the daemon turns each emission into one D-Bus signal. */
  g_assert_cmpuint (fixture->n_emissions, >=, 1);
  g_assert_cmpuint (fixture->n_emissions, <, 100);

  listed = list_events (fixture, NULL);
  g_assert_cmpuint (listed->len, ==, 1000);
}

static void
test_engine_events_added_interval (Fixture       *fixture,
                                   gconstpointer  user_data)
{
  g_signal_connect (fixture->engine, "events-added", G_CALLBACK (on_events_added_cb), fixture);
  fixture->expected = 20;

  /* Twenty separate commits in quick succession: the engine spaces its
   * emissions at least MOAT_ENGINE_EVENTS_ADDED_INTERVAL_MS apart and loses
   * nothing in between. */
  for (guint i = 0; i < 20; i++)
    {
      g_autoptr(MoatEvent) event = make_event (i);
      g_autoptr(GError) error = NULL;

      g_assert_true (moat_engine_record_event (fixture->engine, event, &error));
      g_assert_no_error (error);
      flush_engine (fixture);
    }
  moat_test_wait_for (&fixture->all_delivered);

  g_test_message ("20 commits arrived in %u ::events-added emissions", fixture->n_emissions);
  g_assert_cmpuint (fixture->n_delivered, ==, 20);
  g_assert_true (fixture->ids_ascending);
  g_assert_cmpuint (fixture->emission_times->len, ==, fixture->n_emissions);
  for (guint i = 1; i < fixture->emission_times->len; i++)
    {
      gint64 gap = g_array_index (fixture->emission_times, gint64, i) -
                   g_array_index (fixture->emission_times, gint64, i - 1);

      /* A lower bound the engine enforces, not a speed assertion. */
      g_assert_cmpint (gap, >=, MOAT_ENGINE_EVENTS_ADDED_INTERVAL_MS * G_TIME_SPAN_MILLISECOND);
    }
}

static void
test_engine_invalid_event (Fixture       *fixture,
                           gconstpointer  user_data)
{
  g_autoptr(MoatEvent) bad_threat = moat_event_new (MOAT_EVENT_SOURCE_PROXY, "bogus",
                                                    MOAT_SEVERITY_HIGH, "x", "", "{}");
  g_autoptr(MoatEvent) bad_detail = moat_event_new (MOAT_EVENT_SOURCE_PROXY, "content.malware",
                                                    MOAT_SEVERITY_HIGH, "x", "", "not json");
  g_autoptr(MoatEvent) bad_time = make_event (1);
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) listed = NULL;

  g_assert_false (moat_engine_record_event (fixture->engine, bad_threat, &error));
  g_assert_error (error, MOAT_ERROR, MOAT_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);

  g_assert_false (moat_engine_record_event (fixture->engine, bad_detail, &error));
  g_assert_error (error, MOAT_ERROR, MOAT_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);

  bad_time->time = -5;
  g_assert_false (moat_engine_record_event (fixture->engine, bad_time, &error));
  g_assert_error (error, MOAT_ERROR, MOAT_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);

  flush_engine (fixture);
  listed = list_events (fixture, NULL);
  g_assert_cmpuint (listed->len, ==, 0);
}

static void
test_engine_queries (Fixture       *fixture,
                     gconstpointer  user_data)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GAsyncResult) count_result = NULL;
  g_autoptr(GAsyncResult) counts_result = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GHashTable) counts = NULL;
  g_autoptr(MoatEvent) phish = moat_event_new (MOAT_EVENT_SOURCE_PROXY, "content.phishing",
                                               MOAT_SEVERITY_HIGH, "bank.example", "blocked",
                                               "{}");
  g_autoptr(MoatEvent) wifi = moat_event_new (MOAT_EVENT_SOURCE_DETECTOR, "network.open_wifi",
                                              MOAT_SEVERITY_LOW, "cafe", "notified", "{}");
  guint64 count = 0;
  guint64 *n;

  g_assert_true (moat_engine_record_event (fixture->engine, phish, &error));
  g_assert_true (moat_engine_record_event (fixture->engine, wifi, &error));
  g_assert_true (moat_engine_record_event (fixture->engine, phish, &error));
  g_assert_no_error (error);
  flush_engine (fixture);

  moat_engine_list_events_async (fixture->engine, NULL, 0, 0, NULL, moat_test_result_cb, &result);
  g_assert_null (moat_engine_list_events_finish (fixture->engine, moat_test_wait_result (&result), &error));
  g_assert_error (error, MOAT_ERROR, MOAT_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);

  moat_engine_count_events_async (fixture->engine, NULL, NULL, moat_test_result_cb, &count_result);
  g_assert_true (moat_engine_count_events_finish (fixture->engine, moat_test_wait_result (&count_result),
                                                  &count, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (count, ==, 3);

  moat_engine_category_counts_async (fixture->engine, 0, 0, "blocked", NULL, moat_test_result_cb,
                                     &counts_result);
  counts = moat_engine_category_counts_finish (fixture->engine, moat_test_wait_result (&counts_result),
                                               &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_hash_table_size (counts), ==, 1);
  n = g_hash_table_lookup (counts, "content.phishing");
  g_assert_nonnull (n);
  g_assert_cmpuint (*n, ==, 2);
}

static void
test_engine_risk_level (void)
{
  const MoatActiveThreat none[] = {
    { "network.open_wifi", MOAT_SEVERITY_INFO },
  };
  const MoatActiveThreat mixed[] = {
    { "network.open_wifi", MOAT_SEVERITY_LOW },
    { "content.phishing", MOAT_SEVERITY_HIGH },
    { "os.outdated_patch", MOAT_SEVERITY_MEDIUM },
  };
  const MoatActiveThreat critical[] = {
    { "os.rooted", MOAT_SEVERITY_MEDIUM },
    { "network.tls_interception", MOAT_SEVERITY_CRITICAL },
  };
  const MoatActiveThreat junk[] = {
    { "not a threat", MOAT_SEVERITY_CRITICAL },
    { NULL, MOAT_SEVERITY_CRITICAL },
    { "os.rooted", (MoatSeverity) 42 },
    { "network.arp_spoof", MOAT_SEVERITY_LOW },
  };

  g_assert_cmpint (moat_engine_compute_risk_level (NULL, 0), ==, MOAT_RISK_LEVEL_NONE);
  g_assert_cmpint (moat_engine_compute_risk_level (none, G_N_ELEMENTS (none)), ==,
                   MOAT_RISK_LEVEL_NONE);
  g_assert_cmpint (moat_engine_compute_risk_level (mixed, G_N_ELEMENTS (mixed)), ==,
                   MOAT_RISK_LEVEL_HIGH);
  g_assert_cmpint (moat_engine_compute_risk_level (mixed, 1), ==, MOAT_RISK_LEVEL_LOW);
  g_assert_cmpint (moat_engine_compute_risk_level (critical, G_N_ELEMENTS (critical)), ==,
                   MOAT_RISK_LEVEL_CRITICAL);
  g_assert_cmpint (moat_engine_compute_risk_level (junk, G_N_ELEMENTS (junk)), ==,
                   MOAT_RISK_LEVEL_LOW);
}

static void
test_engine_recovered (Fixture       *fixture,
                       gconstpointer  user_data)
{
  g_autofree char *db = g_build_filename (fixture->tmpdir, "moat.db", NULL);
  g_autoptr(GString) garbage = g_string_new (NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) listed = NULL;
  g_autofree char *expected_prefix = NULL;
  MoatEvent *event;
  const char *moved;
  const char *end;
  g_autofree char *moved_path = NULL;

  for (guint i = 0; i < 512; i++)
    g_string_append (garbage, "This is not an SQLite database. ");
  g_file_set_contents (db, garbage->str, garbage->len, &error);
  g_assert_no_error (error);

  /* The store warns about the damaged file; that is expected here. */
  g_test_expect_message ("moat-store", G_LOG_LEVEL_WARNING, "*moat.db*");
  start_engine (fixture);
  flush_engine (fixture);
  g_test_assert_expected_messages ();

  listed = list_events (fixture, "moat.store_recovered");
  g_assert_cmpuint (listed->len, ==, 1);
  event = g_ptr_array_index (listed, 0);
  g_assert_cmpstr (event->threat, ==, "moat.store_recovered");
  g_assert_cmpint (event->severity, ==, MOAT_SEVERITY_MEDIUM);
  g_assert_cmpint (event->source, ==, MOAT_EVENT_SOURCE_ENGINE);
  g_assert_cmpstr (event->subject, ==, db);

  /* The detail names the moved-aside file, and it is really there. */
  expected_prefix = g_strdup_printf ("{\"moved_aside\":\"%s.corrupt-", db);
  g_assert_true (g_str_has_prefix (event->detail, expected_prefix));
  moved = event->detail + strlen ("{\"moved_aside\":\"");
  end = strchr (moved, '"');
  g_assert_nonnull (end);
  moved_path = g_strndup (moved, end - moved);
  g_assert_true (g_file_test (moved_path, G_FILE_TEST_EXISTS));
  g_assert_cmpint (moat_engine_get_store_state (fixture->engine), ==, MOAT_STORE_STATE_OK);
}

static void
on_protection_changed_cb (MoatEngine *engine,
                          GParamSpec *pspec,
                          gboolean   *changed)
{
  *changed = TRUE;
}

static void
wait_for_protection (Fixture *fixture, MoatProtectionState state)
{
  while (moat_engine_get_protection_state (fixture->engine) != state)
    {
      gboolean changed = FALSE;
      gulong id = g_signal_connect (fixture->engine, "notify::protection-state",
                                    G_CALLBACK (on_protection_changed_cb), &changed);

      moat_test_wait_for (&changed);
      g_signal_handler_disconnect (fixture->engine, id);
    }
}

static gsize
file_size (const char *path)
{
  GStatBuf st;

  return g_stat (path, &st) == 0 ? (gsize) st.st_size : 0;
}

static void
set_file_size_limit (rlim_t limit)
{
  struct rlimit rl;

  g_assert_cmpint (getrlimit (RLIMIT_FSIZE, &rl), ==, 0);
  rl.rlim_cur = limit;
  g_assert_cmpint (setrlimit (RLIMIT_FSIZE, &rl), ==, 0);
}

static void
record_many (Fixture *fixture, guint n, gsize subject_len)
{
  g_autofree char *padding = g_strnfill (subject_len, 'x');

  for (guint i = 0; i < n; i++)
    {
      g_autofree char *subject = g_strdup_printf ("%u.%s", i, padding);
      g_autoptr(MoatEvent) event = moat_event_new (MOAT_EVENT_SOURCE_PROXY, "content.malware",
                                                   MOAT_SEVERITY_HIGH, subject, "blocked", "{}");
      g_autoptr(GError) error = NULL;

      g_assert_true (moat_engine_record_event (fixture->engine, event, &error));
      g_assert_no_error (error);
    }
}

static void
test_engine_disk_full (Fixture       *fixture,
                       gconstpointer  user_data)
{
  g_autofree char *wal = NULL;
  gboolean flushed = FALSE;

  if (!g_test_subprocess ())
    {
      /* The file size limit must not leak into the other tests. */
      g_test_trap_subprocess (NULL, 120 * G_USEC_PER_SEC, G_TEST_SUBPROCESS_INHERIT_STDERR);
      g_test_trap_assert_passed ();
      return;
    }

  /* As in moatd: writes past RLIMIT_FSIZE fail with EFBIG instead of killing
   * us. The store and the engine warn about the full disk on purpose. */
  signal (SIGXFSZ, SIG_IGN);
  g_log_set_always_fatal (G_LOG_FATAL_MASK | G_LOG_LEVEL_CRITICAL);

  start_engine (fixture);
  /* The proxy runs (the desktop does not use it here, so "unprotected"); a
   * full disk makes that "degraded", and room again brings it back. */
  moat_engine_set_proxy_address (fixture->engine, "127.0.0.1:3128");
  g_assert_cmpint (moat_engine_get_protection_state (fixture->engine), ==,
                   MOAT_PROTECTION_STATE_UNPROTECTED);
  record_many (fixture, 500, 300);
  flush_engine (fixture);

  wal = g_strconcat (moat_engine_get_store_path (fixture->engine), "-wal", NULL);
  set_file_size_limit (MAX (file_size (moat_engine_get_store_path (fixture->engine)),
                            file_size (wal)) + 16384);
  record_many (fixture, 5000, 1000);
  wait_for_protection (fixture, MOAT_PROTECTION_STATE_DEGRADED);
  g_assert_cmpint (moat_engine_get_store_state (fixture->engine), ==, MOAT_STORE_STATE_DISK_FULL);
  g_assert_cmpstr (moat_engine_get_protection_summary (fixture->engine), ==,
                   moat_engine_get_store_message (fixture->engine));
  g_assert_cmpstr (moat_engine_get_protection_summary (fixture->engine), !=, "");

  /* Room again: the store writes what waited and protection is back. */
  set_file_size_limit (RLIM_INFINITY);
  while (!flushed)
    {
      g_autoptr(GAsyncResult) result = NULL;

      moat_engine_flush_async (fixture->engine, NULL, moat_test_result_cb, &result);
      flushed = moat_engine_flush_finish (fixture->engine, moat_test_wait_result (&result), NULL);
    }
  wait_for_protection (fixture, MOAT_PROTECTION_STATE_UNPROTECTED);
  g_assert_cmpint (moat_engine_get_store_state (fixture->engine), ==, MOAT_STORE_STATE_OK);
  g_assert_cmpstr (moat_engine_get_store_message (fixture->engine), ==, "");
}

/* moatd starting on a full disk: the engine starts, protection is DEGRADED with
 * the store's message, and what it records is written once there is room. */
static void
test_engine_disk_full_at_start (Fixture       *fixture,
                                gconstpointer  user_data)
{
  g_autoptr(GPtrArray) events = NULL;
  gboolean flushed = FALSE;

  if (!g_test_subprocess ())
    {
      g_test_trap_subprocess (NULL, 120 * G_USEC_PER_SEC, G_TEST_SUBPROCESS_INHERIT_STDERR);
      g_test_trap_assert_passed ();
      return;
    }

  signal (SIGXFSZ, SIG_IGN);
  g_log_set_always_fatal (G_LOG_FATAL_MASK | G_LOG_LEVEL_CRITICAL);
  /* no file can grow: the store cannot even be created */
  set_file_size_limit (0);

  start_engine (fixture);
  g_assert_cmpint (moat_engine_get_store_state (fixture->engine), ==, MOAT_STORE_STATE_DISK_FULL);
  moat_engine_set_proxy_address (fixture->engine, "127.0.0.1:3128");
  g_assert_cmpint (moat_engine_get_protection_state (fixture->engine), ==,
                   MOAT_PROTECTION_STATE_DEGRADED);
  g_assert_cmpstr (moat_engine_get_protection_summary (fixture->engine), ==,
                   moat_engine_get_store_message (fixture->engine));
  g_assert_true (g_str_has_prefix (moat_engine_get_protection_summary (fixture->engine),
                                   "The disk holding the event store is full; "));
  record_many (fixture, 100, 10);

  /* Room: a flush opens the store and writes what waited; protection is back. */
  set_file_size_limit (RLIM_INFINITY);
  while (!flushed)
    {
      g_autoptr(GAsyncResult) result = NULL;

      moat_engine_flush_async (fixture->engine, NULL, moat_test_result_cb, &result);
      flushed = moat_engine_flush_finish (fixture->engine, moat_test_wait_result (&result), NULL);
    }
  wait_for_protection (fixture, MOAT_PROTECTION_STATE_UNPROTECTED);
  g_assert_cmpint (moat_engine_get_store_state (fixture->engine), ==, MOAT_STORE_STATE_OK);
  g_assert_cmpstr (moat_engine_get_store_message (fixture->engine), ==, "");
  events = list_events (fixture, "content.malware");
  g_assert_cmpuint (events->len, ==, 100);
}

static guint64
count_all (Fixture *fixture)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  guint64 count = 0;

  moat_engine_count_events_async (fixture->engine, NULL, NULL, moat_test_result_cb, &result);
  g_assert_true (moat_engine_count_events_finish (fixture->engine, moat_test_wait_result (&result),
                                                  &count, &error));
  g_assert_no_error (error);
  return count;
}

/* Lowering the retention in GSettings prunes at once, not at the next
 * scheduled prune ten minutes later. */
static void
test_engine_retention_change (Fixture       *fixture,
                              gconstpointer  user_data)
{
  g_autoptr(GError) error = NULL;
  gint64 deadline;

  for (guint i = 0; i < 2500; i++)
    {
      g_autoptr(MoatEvent) event = make_event (i);

      g_assert_true (moat_engine_record_event (fixture->engine, event, &error));
      g_assert_no_error (error);
    }
  flush_engine (fixture);
  g_assert_cmpuint (count_all (fixture), ==, 2500);

  g_settings_set_uint (fixture->settings, "retention-max-events", 1000);
  deadline = g_get_monotonic_time () + MOAT_TEST_WAIT_SECONDS * G_USEC_PER_SEC;
  while (count_all (fixture) != 1000 && g_get_monotonic_time () < deadline)
    g_usleep (20 * 1000);
  g_assert_cmpuint (count_all (fixture), ==, 1000);
  g_settings_reset (fixture->settings, "retention-max-events");
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

#define ADD(path, func, setup) \
  g_test_add (path, Fixture, NULL, setup, func, fixture_tear_down)
  ADD ("/moat/engine/start", test_engine_start, fixture_set_up);
  ADD ("/moat/engine/events-added-coalesced", test_engine_events_added_coalesced, fixture_set_up);
  ADD ("/moat/engine/events-added-interval", test_engine_events_added_interval, fixture_set_up);
  ADD ("/moat/engine/invalid-event", test_engine_invalid_event, fixture_set_up);
  ADD ("/moat/engine/queries", test_engine_queries, fixture_set_up);
  ADD ("/moat/engine/disk-full", test_engine_disk_full, fixture_set_up_unstarted);
  ADD ("/moat/engine/disk-full-at-start", test_engine_disk_full_at_start, fixture_set_up_unstarted);
  ADD ("/moat/engine/recovered", test_engine_recovered, fixture_set_up_unstarted);
  ADD ("/moat/engine/retention-change", test_engine_retention_change, fixture_set_up);
#undef ADD
  g_test_add_func ("/moat/engine/risk-level", test_engine_risk_level);

  return g_test_run ();
}
