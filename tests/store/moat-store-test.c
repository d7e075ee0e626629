/* SPDX-License-Identifier: GPL-3.0-or-later
 * Copyright 2026 The Moat developers
 */
#define G_LOG_DOMAIN "moat-store-test"

#include "config.h"

#include "moat-error.h"
#include "moat-store.h"
#include "moat-store-private.h"
#include "moat-test-utils.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <sched.h>
#include <signal.h>
#include <sqlite3.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <grp.h>
#include <unistd.h>

/* 2026-01-01 00:00:00 UTC in µs */
#define BASE_TIME G_GINT64_CONSTANT (1767225600000000)
#define SECOND G_TIME_SPAN_SECOND

typedef struct {
  char         *dir;
  char         *path;
  MoatStore    *store;
  GAsyncResult *result;
  GPtrArray    *committed;      /* every event from ::events-committed, in order */
  guint         n_commit_signals;
  gboolean      committed_off_thread;
  char         *recovered;
  guint         n_recovered;
} Fixture;

static GThread *main_thread;
static gint n_store_warnings;
static GMutex last_store_warning_lock;
static char *last_store_warning;

/* The store warns on purpose about damaged files and full disks. Such warnings
 * are counted instead of aborting the test (a masqueraded fatal warning would
 * still print "Bail out!" in TAP mode); criticals stay fatal. */
static void
log_store_warning_cb (const char     *domain,
                      GLogLevelFlags  level,
                      const char     *message,
                      gpointer        data)
{
  g_atomic_int_inc (&n_store_warnings);
  g_mutex_lock (&last_store_warning_lock);
  g_free (last_store_warning);
  last_store_warning = g_strdup (message);
  g_mutex_unlock (&last_store_warning_lock);
  g_printerr ("expected warning: %s\n", message);
}

/* ---- signals and async plumbing ---- */

static void
on_store_events_committed_cb (MoatStore *store, GPtrArray *events, gpointer user_data)
{
  Fixture *fx = user_data;

  if (g_thread_self () != main_thread)
    fx->committed_off_thread = TRUE;
  fx->n_commit_signals++;
  for (guint i = 0; i < events->len; i++)
    g_ptr_array_add (fx->committed, moat_event_ref (g_ptr_array_index (events, i)));
}

static void
on_store_recovered_cb (MoatStore *store, const char *path, gpointer user_data)
{
  Fixture *fx = user_data;

  g_free (fx->recovered);
  fx->recovered = g_strdup (path);
  fx->n_recovered++;
}

static void
result_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Fixture *fx = user_data;

  g_assert_null (fx->result);
  fx->result = g_object_ref (result);
}

static GAsyncResult *
wait_for_result (Fixture *fx)
{
  while (fx->result == NULL)
    g_main_context_iteration (NULL, TRUE);
  return g_steal_pointer (&fx->result);
}

static void
wait_for_state (Fixture *fx, MoatStoreState state)
{
  while (moat_store_get_state (fx->store) != state)
    g_main_context_iteration (NULL, TRUE);
}

/* Replaces the fixture's store with a new one for @path (not opened). */
static void
fixture_use_store (Fixture *fx, const char *path)
{
  if (fx->store != NULL)
    {
      moat_store_close (fx->store);
      g_clear_object (&fx->store);
    }
  /* signals from the old store that were still queued */
  while (g_main_context_iteration (NULL, FALSE))
    ;
  g_ptr_array_set_size (fx->committed, 0);
  fx->n_commit_signals = 0;
  fx->store = moat_store_new (path);
  g_signal_connect (fx->store, "events-committed", G_CALLBACK (on_store_events_committed_cb), fx);
  g_signal_connect (fx->store, "recovered", G_CALLBACK (on_store_recovered_cb), fx);
}

static void
fixture_set_up (Fixture *fx, gconstpointer data)
{
  g_autoptr(GError) error = NULL;

  fx->dir = g_dir_make_tmp ("moat-store-XXXXXX", &error);
  g_assert_no_error (error);
  /* folders that do not exist yet: the store creates them */
  fx->path = g_build_filename (fx->dir, "data", "moat", "moat.db", NULL);
  fx->committed = g_ptr_array_new_with_free_func ((GDestroyNotify) moat_event_unref);
  fixture_use_store (fx, fx->path);
}

static void
fixture_tear_down (Fixture *fx, gconstpointer data)
{
  moat_store_close (fx->store);
  g_clear_object (&fx->store);
  while (g_main_context_iteration (NULL, FALSE))
    ;
  g_assert_null (fx->result);
  moat_test_remove_tree (fx->dir);
  g_free (fx->dir);
  g_free (fx->path);
  g_free (fx->recovered);
  g_ptr_array_unref (fx->committed);
}

static gboolean
store_open (Fixture *fx, GError **error)
{
  g_autoptr(GAsyncResult) result = NULL;

  moat_store_open_async (fx->store, NULL, result_cb, fx);
  result = wait_for_result (fx);
  return moat_store_open_finish (fx->store, result, error);
}

static gboolean
store_flush (Fixture *fx, GError **error)
{
  g_autoptr(GAsyncResult) result = NULL;

  moat_store_flush_async (fx->store, NULL, result_cb, fx);
  result = wait_for_result (fx);
  return moat_store_flush_finish (fx->store, result, error);
}

static GPtrArray *
store_list (Fixture *fx, const MoatEventFilter *filter, guint64 offset, guint limit,
            GError **error)
{
  g_autoptr(GAsyncResult) result = NULL;

  moat_store_list_events_async (fx->store, filter, offset, limit, NULL, result_cb, fx);
  result = wait_for_result (fx);
  return moat_store_list_events_finish (fx->store, result, error);
}

static guint64
store_count (Fixture *fx, const MoatEventFilter *filter)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  guint64 count = G_MAXUINT64;

  moat_store_count_events_async (fx->store, filter, NULL, result_cb, fx);
  result = wait_for_result (fx);
  g_assert_true (moat_store_count_events_finish (fx->store, result, &count, &error));
  g_assert_no_error (error);
  return count;
}

static GHashTable *
store_category_counts (Fixture *fx, gint64 since, gint64 until, const char *action)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  GHashTable *counts;

  moat_store_category_counts_async (fx->store, since, until, action, NULL, result_cb, fx);
  result = wait_for_result (fx);
  counts = moat_store_category_counts_finish (fx->store, result, &error);
  g_assert_no_error (error);
  g_assert_nonnull (counts);
  return counts;
}

static guint64
store_prune (Fixture *fx)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  guint64 removed = G_MAXUINT64;

  moat_store_prune_async (fx->store, NULL, result_cb, fx);
  result = wait_for_result (fx);
  g_assert_true (moat_store_prune_finish (fx->store, result, &removed, &error));
  g_assert_no_error (error);
  return removed;
}

static void
open_ok (Fixture *fx)
{
  g_autoptr(GError) error = NULL;

  g_assert_true (store_open (fx, &error));
  g_assert_no_error (error);
  g_assert_cmpint (moat_store_get_state (fx->store), ==, MOAT_STORE_STATE_OK);
}

static void
flush_ok (Fixture *fx)
{
  g_autoptr(GError) error = NULL;

  g_assert_true (store_flush (fx, &error));
  g_assert_no_error (error);
}

static void
add_event (Fixture *fx, MoatEventSource source, const char *threat, MoatSeverity severity,
           const char *subject, const char *action, gint64 time)
{
  g_autoptr(MoatEvent) event = moat_event_new (source, threat, severity, subject, action, "{}");

  if (time > 0)
    event->time = time;
  moat_store_add_event (fx->store, event);
}

static void
add_numbered (Fixture *fx, const char *prefix, guint n, gsize detail_size, gint64 time)
{
  g_autofree char *detail = NULL;

  if (detail_size > 0)
    {
      detail = g_malloc (detail_size + 1);
      memset (detail, 'x', detail_size);
      detail[0] = '{';
      detail[detail_size - 1] = '}';
      detail[detail_size] = '\0';
    }
  for (guint i = 0; i < n; i++)
    {
      g_autofree char *subject = g_strdup_printf ("%s%u", prefix, i);
      g_autoptr(MoatEvent) event = moat_event_new (MOAT_EVENT_SOURCE_PROXY, "content.malware",
                                                   MOAT_SEVERITY_HIGH, subject, "blocked",
                                                   detail);

      if (time > 0)
        event->time = time;
      moat_store_add_event (fx->store, event);
    }
}

/* "3,2,1": the ids of @events, to compare with one assert */
static char *
ids_of (GPtrArray *events)
{
  GString *s = g_string_new (NULL);

  for (guint i = 0; i < events->len; i++)
    g_string_append_printf (s, "%s%" G_GINT64_FORMAT, i > 0 ? "," : "",
                            ((MoatEvent *) g_ptr_array_index (events, i))->id);
  return g_string_free (s, FALSE);
}

static char *
list_ids (Fixture *fx, const MoatEventFilter *filter, guint64 offset, guint limit)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) events = store_list (fx, filter, offset, limit, &error);

  g_assert_no_error (error);
  g_assert_nonnull (events);
  return ids_of (events);
}

/* ---- direct SQLite checks of the file, with the store closed ---- */

static sqlite3 *
db_open_readonly (const char *path)
{
  sqlite3 *db = NULL;
  int rc = sqlite3_open_v2 (path, &db, SQLITE_OPEN_READONLY, NULL);

  g_assert_cmpint (rc, ==, SQLITE_OK);
  return db;
}

static gint64
db_query_int (const char *path, const char *sql)
{
  sqlite3 *db = db_open_readonly (path);
  sqlite3_stmt *stmt = NULL;
  gint64 value;

  g_assert_cmpint (sqlite3_prepare_v2 (db, sql, -1, &stmt, NULL), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_step (stmt), ==, SQLITE_ROW);
  value = sqlite3_column_int64 (stmt, 0);
  sqlite3_finalize (stmt);
  sqlite3_close (db);
  return value;
}

static char *
db_query_text (const char *path, const char *sql)
{
  sqlite3 *db = db_open_readonly (path);
  sqlite3_stmt *stmt = NULL;
  char *value;

  g_assert_cmpint (sqlite3_prepare_v2 (db, sql, -1, &stmt, NULL), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_step (stmt), ==, SQLITE_ROW);
  value = g_strdup ((const char *) sqlite3_column_text (stmt, 0));
  sqlite3_finalize (stmt);
  sqlite3_close (db);
  return value;
}

static void
db_create_from_sql (const char *path, const char *sql)
{
  g_autofree char *dir = g_path_get_dirname (path);
  sqlite3 *db = NULL;
  char *errmsg = NULL;

  g_assert_cmpint (g_mkdir_with_parents (dir, 0700), ==, 0);
  g_assert_cmpint (sqlite3_open (path, &db), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_exec (db, sql, NULL, NULL, &errmsg), ==, SQLITE_OK);
  g_assert_null (errmsg);
  g_assert_cmpint (sqlite3_close (db), ==, SQLITE_OK);
}

static gsize
file_size (const char *path)
{
  GStatBuf st;

  if (g_stat (path, &st) != 0)
    return 0;
  return st.st_size;
}

/* ---- tests ---- */

static void
test_open_fresh (Fixture *fx, gconstpointer data)
{
  g_autofree char *dir = g_path_get_dirname (fx->path);
  g_autofree char *journal = NULL;
  GStatBuf st;

  g_assert_cmpint (moat_store_get_state (fx->store), ==, MOAT_STORE_STATE_OPENING);
  g_assert_cmpstr (moat_store_get_path (fx->store), ==, fx->path);
  open_ok (fx);
  g_assert_cmpstr (moat_store_get_message (fx->store), ==, "");
  g_assert_cmpuint (moat_store_get_dropped_count (fx->store), ==, 0);
  g_assert_cmpint (g_stat (dir, &st), ==, 0);
  g_assert_cmpint (st.st_mode & 0777, ==, 0700);
  g_assert_cmpuint (fx->n_recovered, ==, 0);
  moat_store_close (fx->store);

  g_assert_cmpint (db_query_int (fx->path, "PRAGMA user_version"), ==, MOAT_STORE_SCHEMA_VERSION);
  journal = db_query_text (fx->path, "PRAGMA journal_mode");
  g_assert_cmpstr (journal, ==, "wal");
  g_assert_cmpint (db_query_int (fx->path, "SELECT COUNT(*) FROM sqlite_master WHERE name IN "
                                 "('events', 'meta', 'events_time', 'events_threat_time')"),
                   ==, 4);
}

/* Every earlier schema, kept as SQL text, migrates to the newest with its rows. */
static void
test_migrate (Fixture *fx, gconstpointer data)
{
  for (guint version = 0; version < MOAT_STORE_SCHEMA_VERSION; version++)
    {
      g_autofree char *name = g_strdup_printf ("schema-v%u.sql", version);
      g_autofree char *fixture = g_build_filename (STORE_FIXTURES_DIR, name, NULL);
      g_autofree char *db_name = g_strdup_printf ("v%u.db", version);
      g_autofree char *path = g_build_filename (fx->dir, db_name, NULL);
      g_autofree char *sql = NULL;
      g_autoptr(GError) error = NULL;
      g_autoptr(GPtrArray) events = NULL;
      g_autofree char *ids = NULL;
      gint64 n_rows = 0;

      g_test_message ("migrating from schema version %u", version);
      g_assert_true (g_file_get_contents (fixture, &sql, NULL, &error));
      g_assert_no_error (error);
      db_create_from_sql (path, sql);
      g_assert_cmpint (db_query_int (path, "PRAGMA user_version"), ==, version);
      if (version > 0)
        n_rows = db_query_int (path, "SELECT COUNT(*) FROM events");

      fixture_use_store (fx, path);
      open_ok (fx);
      events = store_list (fx, NULL, 0, 1000, &error);
      g_assert_no_error (error);
      g_assert_cmpuint (events->len, ==, n_rows);
      if (version == 1)
        {
          MoatEvent *arp = g_ptr_array_index (events, 2);
          g_autoptr(MoatEvent) added = NULL;

          ids = ids_of (events);
          g_assert_cmpstr (ids, ==, "7,4,3,2,1");
          g_assert_cmpint (arp->id, ==, 3);
          g_assert_cmpint (arp->time, ==, G_GINT64_CONSTANT (1767225720000000));
          g_assert_cmpint (arp->source, ==, MOAT_EVENT_SOURCE_DETECTOR);
          g_assert_cmpstr (arp->threat, ==, "network.arp_spoof");
          g_assert_cmpint (arp->severity, ==, MOAT_SEVERITY_CRITICAL);
          g_assert_cmpstr (arp->subject, ==, "192.168.1.1");
          g_assert_cmpstr (arp->action, ==, "");
          g_assert_cmpstr (arp->detail, ==, "{\"mac\":\"00:11:22:33:44:55\"}");

          /* new ids continue after the old ones */
          add_event (fx, MOAT_EVENT_SOURCE_PROXY, "content.c2", MOAT_SEVERITY_HIGH,
                     "c2.example", "blocked", 0);
          flush_ok (fx);
          g_assert_cmpuint (fx->committed->len, ==, 1);
          added = moat_event_ref (g_ptr_array_index (fx->committed, 0));
          g_assert_cmpint (added->id, ==, 8);
        }
      moat_store_close (fx->store);
      g_assert_cmpint (db_query_int (path, "PRAGMA user_version"), ==, MOAT_STORE_SCHEMA_VERSION);
      g_assert_cmpint (db_query_int (path, "SELECT COUNT(*) FROM events WHERE action = ''"),
                       ==, n_rows);
    }
}

static void
test_refuse_newer (Fixture *fx, gconstpointer data)
{
  g_autofree char *dir = g_path_get_dirname (fx->path);
  g_autofree char *before = NULL;
  g_autofree char *after = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) events = NULL;
  g_autoptr(GDir) listing = NULL;
  gsize len_before, len_after;
  guint n_files = 0;

  db_create_from_sql (fx->path, "CREATE TABLE events (x); CREATE TABLE future (y); "
                                "PRAGMA user_version = 99;");
  g_assert_true (g_file_get_contents (fx->path, &before, &len_before, NULL));

  g_assert_false (store_open (fx, &error));
  g_assert_error (error, MOAT_ERROR, MOAT_ERROR_STORE);
  g_assert_nonnull (strstr (error->message, "99"));
  g_assert_cmpint (moat_store_get_state (fx->store), ==, MOAT_STORE_STATE_ERROR);
  g_assert_nonnull (strstr (moat_store_get_message (fx->store), "newer"));
  g_clear_error (&error);

  /* reads are refused, not crashed */
  events = store_list (fx, NULL, 0, 10, &error);
  g_assert_error (error, MOAT_ERROR, MOAT_ERROR_STORE);
  g_assert_null (events);
  moat_store_close (fx->store);

  g_assert_true (g_file_get_contents (fx->path, &after, &len_after, NULL));
  g_assert_cmpmem (before, len_before, after, len_after);
  g_assert_cmpuint (fx->n_recovered, ==, 0);
  listing = g_dir_open (dir, 0, NULL);
  while (g_dir_read_name (listing) != NULL)
    n_files++;
  g_assert_cmpuint (n_files, ==, 1);
}

static void
test_batching (Fixture *fx, gconstpointer data)
{
  guint64 commits;

  open_ok (fx);
  add_numbered (fx, "host-", 5000, 0, 0);
  flush_ok (fx);

  /* flush completes after the signals for what it committed */
  g_assert_cmpuint (fx->committed->len, ==, 5000);
  for (guint i = 0; i < fx->committed->len; i++)
    {
      MoatEvent *event = g_ptr_array_index (fx->committed, i);
      g_autofree char *subject = g_strdup_printf ("host-%u", i);

      g_assert_cmpstr (event->subject, ==, subject);
      g_assert_cmpint (event->id, ==, i + 1);
    }
  g_assert_false (fx->committed_off_thread);
  commits = moat_store_get_commit_count (fx->store);
  g_test_message ("5000 events in %" G_GUINT64_FORMAT " transactions, %u signals",
                  commits, fx->n_commit_signals);
  g_assert_cmpuint (commits, >=, 3);
  g_assert_cmpuint (commits, <=, 20);
  g_assert_cmpuint (fx->n_commit_signals, ==, commits);
  g_assert_cmpuint (store_count (fx, NULL), ==, 5000);
  g_assert_cmpuint (moat_store_get_pending_count (fx->store), ==, 0);
}

typedef struct {
  MoatStore *store;
  guint      index;
} ProducerData;

static gpointer
producer_thread (gpointer data)
{
  ProducerData *pd = data;

  for (guint i = 0; i < 1000; i++)
    {
      g_autofree char *subject = g_strdup_printf ("t%u-%u", pd->index, i);
      g_autoptr(MoatEvent) event = moat_event_new (MOAT_EVENT_SOURCE_PROXY, "content.malware",
                                                   MOAT_SEVERITY_LOW, subject, "", NULL);

      moat_store_add_event (pd->store, event);
    }
  return NULL;
}

/* moat_store_add_event() may be called from any thread (the proxy has its own). */
static void
test_add_from_threads (Fixture *fx, gconstpointer data)
{
  ProducerData pd[4];
  GThread *threads[4];
  g_autoptr(MoatEventFilter) filter = moat_event_filter_new ();

  open_ok (fx);
  for (guint i = 0; i < G_N_ELEMENTS (threads); i++)
    {
      pd[i].store = fx->store;
      pd[i].index = i;
      threads[i] = g_thread_new ("producer", producer_thread, &pd[i]);
    }
  for (guint i = 0; i < G_N_ELEMENTS (threads); i++)
    g_thread_join (threads[i]);
  flush_ok (fx);
  g_assert_cmpuint (fx->committed->len, ==, 4000);
  g_assert_cmpuint (store_count (fx, NULL), ==, 4000);
  filter->search = g_strdup ("t2-");
  g_assert_cmpuint (store_count (fx, filter), ==, 1000);
}

static void
add_filter_dataset (Fixture *fx)
{
  add_event (fx, MOAT_EVENT_SOURCE_PROXY, "content.malware", MOAT_SEVERITY_HIGH,
             "evil.example", "blocked", BASE_TIME + 1 * SECOND);
  add_event (fx, MOAT_EVENT_SOURCE_PROXY, "content.phishing", MOAT_SEVERITY_MEDIUM,
             "login_bank.example", "blocked", BASE_TIME + 2 * SECOND);
  add_event (fx, MOAT_EVENT_SOURCE_DETECTOR, "network.arp_spoof", MOAT_SEVERITY_CRITICAL,
             "192.168.1.1", "notified", BASE_TIME + 3 * SECOND);
  add_event (fx, MOAT_EVENT_SOURCE_DETECTOR, "network.dns_hijack", MOAT_SEVERITY_LOW,
             "100%-safe.example", "", BASE_TIME + 4 * SECOND);
  add_event (fx, MOAT_EVENT_SOURCE_DEVICE, "os.rooted", MOAT_SEVERITY_HIGH,
             "R58M", "notified", BASE_TIME + 5 * SECOND);
  add_event (fx, MOAT_EVENT_SOURCE_HEALTH, "moat.store_recovered", MOAT_SEVERITY_INFO,
             "moat.db", "", BASE_TIME + 6 * SECOND);
  add_event (fx, MOAT_EVENT_SOURCE_PROXY, "content.malware", MOAT_SEVERITY_LOW,
             "EVIL.example.org", "blocked", BASE_TIME + 7 * SECOND);
  add_event (fx, MOAT_EVENT_SOURCE_PROXY, "content.c2", MOAT_SEVERITY_MEDIUM,
             "c2\\x.example", "blocked", BASE_TIME + 8 * SECOND);
  add_event (fx, MOAT_EVENT_SOURCE_DEVICE, "app.sideloaded", MOAT_SEVERITY_MEDIUM,
             "Bösewicht.example", "", BASE_TIME + 9 * SECOND);
  flush_ok (fx);
  g_assert_cmpuint (fx->committed->len, ==, 9);
}

static void
assert_list (Fixture *fx, const MoatEventFilter *filter, guint64 offset, guint limit,
             const char *expected)
{
  g_autofree char *ids = list_ids (fx, filter, offset, limit);

  g_assert_cmpstr (ids, ==, expected);
}

static void
test_list_filters (Fixture *fx, gconstpointer data)
{
  static const struct {
    const char *search;
    const char *expected;
  } searches[] = {
    { "evil", "7,1" },                 /* case-insensitive */
    { "%", "4" },                      /* LIKE wildcards are literal */
    { "%-", "4" },
    { "_", "6,4,3,2" },
    { "n_b", "2" },
    { "\\", "8" },                     /* and so is the escape character */
    { "BLOCKED", "8,7,2,1" },          /* the action */
    { "network.", "4,3" },             /* the threat */
    { "BÖSE", "9" },                   /* non-ASCII folds too */
    { "'; DROP TABLE events; --", "" },
  };
  g_autoptr(MoatEventFilter) filter = moat_event_filter_new ();

  open_ok (fx);
  add_filter_dataset (fx);

  assert_list (fx, NULL, 0, 100, "9,8,7,6,5,4,3,2,1");
  assert_list (fx, filter, 0, 100, "9,8,7,6,5,4,3,2,1");
  filter->ascending = TRUE;
  assert_list (fx, filter, 0, 100, "1,2,3,4,5,6,7,8,9");
  filter->ascending = FALSE;
  assert_list (fx, filter, 2, 3, "7,6,5");
  assert_list (fx, filter, 9, 3, "");

  filter->threat = g_strdup ("network.*");
  assert_list (fx, filter, 0, 100, "4,3");
  g_assert_cmpuint (store_count (fx, filter), ==, 2);
  g_free (filter->threat);
  filter->threat = g_strdup ("content.malware");
  assert_list (fx, filter, 0, 100, "7,1");
  g_free (filter->threat);
  filter->threat = g_strdup ("*");
  assert_list (fx, filter, 0, 100, "9,8,7,6,5,4,3,2,1");
  g_clear_pointer (&filter->threat, g_free);

  filter->min_severity = MOAT_SEVERITY_HIGH;
  assert_list (fx, filter, 0, 100, "5,3,1");
  g_assert_cmpuint (store_count (fx, filter), ==, 3);
  filter->min_severity = MOAT_SEVERITY_INFO;

  filter->has_source = TRUE;
  filter->source = MOAT_EVENT_SOURCE_DETECTOR;
  assert_list (fx, filter, 0, 100, "4,3");
  filter->has_source = FALSE;

  filter->since = BASE_TIME + 2 * SECOND;
  filter->until = BASE_TIME + 5 * SECOND;
  assert_list (fx, filter, 0, 100, "4,3,2");
  g_assert_cmpuint (store_count (fx, filter), ==, 3);
  filter->since = filter->until = 0;

  for (guint i = 0; i < G_N_ELEMENTS (searches); i++)
    {
      g_autofree char *ids = NULL;
      g_auto(GStrv) parts = NULL;

      g_free (filter->search);
      filter->search = g_strdup (searches[i].search);
      ids = list_ids (fx, filter, 0, 100);
      g_test_message ("search “%s”: %s", searches[i].search, ids);
      g_assert_cmpstr (ids, ==, searches[i].expected);
      parts = g_strsplit (searches[i].expected, ",", -1);
      g_assert_cmpuint (store_count (fx, filter), ==,
                        *searches[i].expected == '\0' ? 0 : g_strv_length (parts));
    }
  g_clear_pointer (&filter->search, g_free);

  filter->before_id = 5;
  assert_list (fx, filter, 0, 100, "4,3,2,1");
  filter->after_id = 2;
  assert_list (fx, filter, 0, 100, "4,3");
  filter->before_id = 0;
  filter->after_id = 5;
  assert_list (fx, filter, 0, 100, "9,8,7,6");
  filter->after_id = 0;

  /* everything at once */
  filter->threat = g_strdup ("content.*");
  filter->min_severity = MOAT_SEVERITY_MEDIUM;
  filter->ascending = TRUE;
  assert_list (fx, filter, 0, 100, "1,2,8");
  g_assert_cmpuint (store_count (fx, filter), ==, 3);

  /* the table is still there after the search above */
  g_assert_cmpuint (store_count (fx, NULL), ==, 9);
}

static void
test_list_limits (Fixture *fx, gconstpointer data)
{
  static const guint bad[] = { 0, 1001, G_MAXUINT };
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) events = NULL;

  open_ok (fx);
  add_numbered (fx, "e", 1200, 0, 0);
  flush_ok (fx);
  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr(GPtrArray) none = store_list (fx, NULL, 0, bad[i], &error);

      g_assert_error (error, MOAT_ERROR, MOAT_ERROR_INVALID_ARGUMENT);
      g_assert_null (none);
      g_clear_error (&error);
    }
  events = store_list (fx, NULL, 0, 1000, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (events->len, ==, 1000);
  g_clear_pointer (&events, g_ptr_array_unref);
  events = store_list (fx, NULL, 0, 1, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (events->len, ==, 1);
  g_assert_cmpint (((MoatEvent *) g_ptr_array_index (events, 0))->id, ==, 1200);
}

static void
check_paging (Fixture *fx, gboolean ascending, gboolean keyset, guint n, guint page)
{
  g_autoptr(MoatEventFilter) filter = moat_event_filter_new ();
  g_autofree guint *seen = g_new0 (guint, n + 1);
  guint64 offset = 0;
  guint total = 0;
  gint64 last = 0;

  filter->ascending = ascending;
  for (;;)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(GPtrArray) events = store_list (fx, filter, keyset ? 0 : offset, page, &error);

      g_assert_no_error (error);
      if (events->len == 0)
        break;
      for (guint i = 0; i < events->len; i++)
        {
          MoatEvent *event = g_ptr_array_index (events, i);

          g_assert_cmpint (event->id, >=, 1);
          g_assert_cmpint (event->id, <=, n);
          if (last != 0)
            {
              if (ascending)
                g_assert_cmpint (event->id, >, last);
              else
                g_assert_cmpint (event->id, <, last);
            }
          last = event->id;
          seen[event->id]++;
          total++;
        }
      offset += events->len;
      if (ascending)
        filter->after_id = last;
      else
        filter->before_id = last;
      if (!keyset)
        filter->after_id = filter->before_id = 0;
    }
  g_assert_cmpuint (total, ==, n);
  for (guint id = 1; id <= n; id++)
    g_assert_cmpuint (seen[id], ==, 1);
}

static void
test_paging (Fixture *fx, gconstpointer data)
{
  open_ok (fx);
  add_numbered (fx, "p", 2500, 0, 0);
  flush_ok (fx);
  check_paging (fx, FALSE, FALSE, 2500, 1000);
  check_paging (fx, TRUE, FALSE, 2500, 1000);
  check_paging (fx, FALSE, TRUE, 2500, 700);
  check_paging (fx, TRUE, TRUE, 2500, 333);
}

static void
test_category_counts (Fixture *fx, gconstpointer data)
{
  g_autoptr(GHashTable) all = NULL;
  g_autoptr(GHashTable) blocked = NULL;
  g_autoptr(GHashTable) window = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GHashTable) bad = NULL;

  open_ok (fx);
  add_filter_dataset (fx);

  all = store_category_counts (fx, BASE_TIME, 0, NULL);
  g_assert_cmpuint (g_hash_table_size (all), ==, 8);
  g_assert_cmpuint (*(guint64 *) g_hash_table_lookup (all, "content.malware"), ==, 2);
  g_assert_cmpuint (*(guint64 *) g_hash_table_lookup (all, "network.arp_spoof"), ==, 1);
  g_assert_cmpuint (*(guint64 *) g_hash_table_lookup (all, "app.sideloaded"), ==, 1);

  blocked = store_category_counts (fx, 0, 0, "blocked");
  g_assert_cmpuint (g_hash_table_size (blocked), ==, 3);
  g_assert_cmpuint (*(guint64 *) g_hash_table_lookup (blocked, "content.malware"), ==, 2);
  g_assert_cmpuint (*(guint64 *) g_hash_table_lookup (blocked, "content.phishing"), ==, 1);
  g_assert_cmpuint (*(guint64 *) g_hash_table_lookup (blocked, "content.c2"), ==, 1);

  /* since <= time < until */
  window = store_category_counts (fx, BASE_TIME + 3 * SECOND, BASE_TIME + 6 * SECOND, "");
  g_assert_cmpuint (g_hash_table_size (window), ==, 3);
  g_assert_true (g_hash_table_contains (window, "network.arp_spoof"));
  g_assert_true (g_hash_table_contains (window, "network.dns_hijack"));
  g_assert_true (g_hash_table_contains (window, "os.rooted"));

  moat_store_category_counts_async (fx->store, 10, 5, NULL, NULL, result_cb, fx);
  result = wait_for_result (fx);
  bad = moat_store_category_counts_finish (fx->store, result, &error);
  g_assert_error (error, MOAT_ERROR, MOAT_ERROR_INVALID_ARGUMENT);
  g_assert_null (bad);
}

static void
test_retention_days (Fixture *fx, gconstpointer data)
{
  gint64 now = g_get_real_time ();
  g_autoptr(MoatEventFilter) filter = moat_event_filter_new ();
  g_autofree char *last_prune = NULL;
  MoatEvent *added;

  open_ok (fx);
  add_numbered (fx, "old", 300, 0, now - 10 * G_TIME_SPAN_DAY);
  add_numbered (fx, "recent", 200, 0, now - 2 * G_TIME_SPAN_DAY);
  flush_ok (fx);

  g_assert_cmpuint (store_prune (fx), ==, 0);   /* no limits by default */
  moat_store_set_retention (fx->store, 7, 0);
  g_assert_cmpuint (store_prune (fx), ==, 300);
  g_assert_cmpuint (store_count (fx, NULL), ==, 200);
  filter->search = g_strdup ("old");
  g_assert_cmpuint (store_count (fx, filter), ==, 0);
  g_assert_cmpuint (store_prune (fx), ==, 0);

  /* everything goes; ids are still not reused */
  moat_store_set_retention (fx->store, 1, 0);
  g_assert_cmpuint (store_prune (fx), ==, 200);
  g_assert_cmpuint (store_count (fx, NULL), ==, 0);
  moat_store_close (fx->store);

  fixture_use_store (fx, fx->path);
  open_ok (fx);
  add_numbered (fx, "new", 1, 0, 0);
  flush_ok (fx);
  g_assert_cmpuint (fx->committed->len, ==, 1);
  added = g_ptr_array_index (fx->committed, 0);
  g_assert_cmpint (added->id, ==, 501);
  moat_store_close (fx->store);

  last_prune = db_query_text (fx->path, "SELECT value FROM meta WHERE key = 'last-prune'");
  g_assert_cmpint (g_ascii_strtoll (last_prune, NULL, 10), >=, now);
}

static void
test_retention_max_events (Fixture *fx, gconstpointer data)
{
  g_autoptr(MoatEventFilter) filter = moat_event_filter_new ();

  open_ok (fx);
  add_numbered (fx, "e", 12000, 0, 0);
  flush_ok (fx);
  moat_store_set_retention (fx->store, 0, 1000);
  /* more than one delete chunk */
  g_assert_cmpuint (store_prune (fx), ==, 11000);
  g_assert_cmpuint (store_count (fx, NULL), ==, 1000);
  assert_list (fx, NULL, 0, 1, "12000");
  filter->ascending = TRUE;
  assert_list (fx, filter, 0, 1, "11001");
  g_assert_cmpuint (store_prune (fx), ==, 0);

  /* both limits: the stricter one wins */
  moat_store_set_retention (fx->store, 30, 10);
  g_assert_cmpuint (store_prune (fx), ==, 990);
  assert_list (fx, filter, 0, 1, "11991");
}

typedef enum {
  DAMAGE_GARBAGE,
  DAMAGE_HEADER_FIELDS,
  DAMAGE_SCHEMA_PAGE,
  DAMAGE_TRUNCATED,
} Damage;

static void
write_random (const char *path, gsize size, guint32 seed)
{
  g_autoptr(GRand) rand = g_rand_new_with_seed (seed);
  g_autofree guint8 *bytes = g_malloc (size);
  g_autoptr(GError) error = NULL;

  for (gsize i = 0; i < size; i++)
    bytes[i] = g_rand_int_range (rand, 0, 256);
  g_assert_true (g_file_set_contents (path, (const char *) bytes, size, &error));
  g_assert_no_error (error);
}

static void
overwrite (const char *path, goffset offset, guint8 byte, gsize count)
{
  g_autofree guint8 *bytes = g_malloc (count);
  int fd = g_open (path, O_WRONLY, 0);

  g_assert_cmpint (fd, >=, 0);
  memset (bytes, byte, count);
  g_assert_cmpint (pwrite (fd, bytes, count, offset), ==, (gssize) count);
  g_assert_cmpint (close (fd), ==, 0);
}

static void
damage (Fixture *fx, Damage kind, guint32 seed)
{
  g_autofree char *dir = g_path_get_dirname (fx->path);
  g_autofree char *wal = g_strconcat (fx->path, "-wal", NULL);

  if (kind == DAMAGE_GARBAGE)
    {
      g_assert_cmpint (g_mkdir_with_parents (dir, 0700), ==, 0);
      write_random (fx->path, 16384, seed);
      /* a stale WAL must not end up in the new file */
      write_random (wal, 4096, seed + 1);
      return;
    }

  /* a real database with events, then damaged */
  fixture_use_store (fx, fx->path);
  open_ok (fx);
  add_numbered (fx, "d", 5000, 100, 0);
  flush_ok (fx);
  moat_store_close (fx->store);
  g_assert_false (g_file_test (wal, G_FILE_TEST_EXISTS));
  g_assert_cmpuint (file_size (fx->path), >, 100 * 1024);
  switch (kind)
    {
    case DAMAGE_HEADER_FIELDS:
      /* page size, format versions: "file is not a database" */
      overwrite (fx->path, 16, 0xff, 8);
      break;
    case DAMAGE_SCHEMA_PAGE:
      /* the b-tree header of page 1, which holds the schema */
      overwrite (fx->path, 100, 0xab, 200);
      break;
    case DAMAGE_TRUNCATED:
      g_assert_cmpint (truncate (fx->path, file_size (fx->path) / 2), ==, 0);
      break;
    case DAMAGE_GARBAGE:
    default:
      g_assert_not_reached ();
    }
  fixture_use_store (fx, fx->path);
}

static void
assert_moved_aside (Fixture *fx, const char *moved)
{
  g_autofree char *pattern = g_strdup_printf ("^%s\\.corrupt-[0-9]{8}-[0-9]{6}(-[0-9]+)?$",
                                              fx->path);

  g_assert_nonnull (moved);
  g_test_message ("moved aside to %s", moved);
  g_assert_true (g_regex_match_simple (pattern, moved, 0, 0));
  g_assert_true (g_file_test (moved, G_FILE_TEST_IS_REGULAR));
}

static void
test_corrupt (Fixture *fx, gconstpointer data)
{
  Damage kind = GPOINTER_TO_INT (data);
  g_autofree char *damaged = NULL;
  g_autofree char *moved_data = NULL;
  g_autofree char *first = NULL;
  gsize damaged_len, moved_len;
  gint warnings = g_atomic_int_get (&n_store_warnings);

  damage (fx, kind, 42);
  g_assert_true (g_file_get_contents (fx->path, &damaged, &damaged_len, NULL));

  open_ok (fx);
  g_assert_cmpuint (fx->n_recovered, ==, 1);
  assert_moved_aside (fx, fx->recovered);
  g_assert_true (g_file_get_contents (fx->recovered, &moved_data, &moved_len, NULL));
  g_assert_cmpmem (damaged, damaged_len, moved_data, moved_len);
  g_assert_cmpint (g_atomic_int_get (&n_store_warnings), >, warnings);

  /* the fresh database works */
  g_assert_cmpuint (store_count (fx, NULL), ==, 0);
  add_numbered (fx, "fresh", 10, 0, 0);
  flush_ok (fx);
  g_assert_cmpuint (store_count (fx, NULL), ==, 10);
  assert_list (fx, NULL, 0, 1, "10");
  moat_store_close (fx->store);
  g_assert_cmpint (db_query_int (fx->path, "PRAGMA user_version"), ==, MOAT_STORE_SCHEMA_VERSION);

  /* damaged again, maybe within the same second: a second name, the first file kept */
  first = g_strdup (fx->recovered);
  write_random (fx->path, 8192, 7);
  fixture_use_store (fx, fx->path);
  open_ok (fx);
  g_assert_cmpuint (fx->n_recovered, ==, 2);
  assert_moved_aside (fx, fx->recovered);
  g_assert_cmpstr (fx->recovered, !=, first);
  g_assert_true (g_file_test (first, G_FILE_TEST_IS_REGULAR));
}

typedef enum {
  UNREADABLE_NO_ACCESS,   /* mode 0000 */
  UNREADABLE_READ_ONLY,   /* mode 0444 */
  UNREADABLE_FOLDER,      /* a folder where the file should be */
} Unreadable;

/* Hands the store's folders to nobody and becomes nobody: root reads and
 * writes any file, so the permission cases are checked as another user. */
static void
become_nobody (Fixture *fx)
{
  g_autofree char *moat_dir = g_path_get_dirname (fx->path);
  g_autofree char *data_dir = g_path_get_dirname (moat_dir);
  const char *dirs[] = { fx->dir, data_dir, moat_dir };

  for (guint i = 0; i < G_N_ELEMENTS (dirs); i++)
    g_assert_cmpint (lchown (dirs[i], 65534, 65534), ==, 0);
  g_assert_cmpint (setgroups (0, NULL), ==, 0);
  g_assert_cmpint (setgid (65534), ==, 0);
  g_assert_cmpint (setuid (65534), ==, 0);
  g_assert_cmpint (geteuid (), ==, 65534);
}

/* A database file that cannot be opened for reading and writing is moved
 * aside like a corrupt one, kept as it was, and a fresh store works. */
static void
test_unreadable (Fixture *fx, gconstpointer data)
{
  Unreadable kind = GPOINTER_TO_INT (data);
  g_autofree char *original = NULL;
  g_autofree char *pattern = NULL;
  gsize original_len = 0;
  GStatBuf st;
  gint warnings;

  if (kind != UNREADABLE_FOLDER && geteuid () == 0 && !g_test_subprocess ())
    {
      g_test_trap_subprocess (NULL, 60 * G_USEC_PER_SEC, G_TEST_SUBPROCESS_INHERIT_STDERR);
      g_test_trap_assert_passed ();
      return;
    }

  if (kind == UNREADABLE_FOLDER)
    {
      g_autofree char *inside = g_build_filename (fx->path, "keep", NULL);

      g_assert_cmpint (g_mkdir_with_parents (fx->path, 0700), ==, 0);
      g_assert_true (g_file_set_contents (inside, "x", 1, NULL));
    }
  else
    {
      open_ok (fx);
      add_numbered (fx, "u", 100, 0, 0);
      flush_ok (fx);
      moat_store_close (fx->store);
      g_assert_true (g_file_get_contents (fx->path, &original, &original_len, NULL));
      g_assert_cmpint (g_chmod (fx->path, kind == UNREADABLE_NO_ACCESS ? 0 : 0444), ==, 0);
      if (geteuid () == 0)
        become_nobody (fx);
      fixture_use_store (fx, fx->path);
    }

  warnings = g_atomic_int_get (&n_store_warnings);
  open_ok (fx);
  g_assert_cmpuint (fx->n_recovered, ==, 1);
  g_assert_cmpint (g_atomic_int_get (&n_store_warnings), >, warnings);
  g_test_message ("moved aside to %s", fx->recovered);
  pattern = g_strdup_printf ("^%s\\.corrupt-[0-9]{8}-[0-9]{6}(-[0-9]+)?$", fx->path);
  g_assert_true (g_regex_match_simple (pattern, fx->recovered, 0, 0));
  g_assert_cmpint (g_lstat (fx->recovered, &st), ==, 0);
  if (kind == UNREADABLE_FOLDER)
    {
      g_autofree char *kept = g_build_filename (fx->recovered, "keep", NULL);

      g_assert_true (S_ISDIR (st.st_mode));
      g_assert_true (g_file_test (kept, G_FILE_TEST_IS_REGULAR));
    }
  else
    {
      /* Kept as it was: same size, same mode (and owner). */
      g_assert_true (S_ISREG (st.st_mode));
      g_assert_cmpint (st.st_size, ==, (goffset) original_len);
      g_assert_cmpint (st.st_mode & 0777, ==, kind == UNREADABLE_NO_ACCESS ? 0 : 0444);
      if (kind == UNREADABLE_READ_ONLY)
        {
          g_autofree char *moved = NULL;
          gsize moved_len;

          g_assert_true (g_file_get_contents (fx->recovered, &moved, &moved_len, NULL));
          g_assert_cmpmem (original, original_len, moved, moved_len);
        }
    }

  /* the fresh database works */
  g_assert_cmpuint (store_count (fx, NULL), ==, 0);
  add_numbered (fx, "fresh", 10, 0, 0);
  flush_ok (fx);
  g_assert_cmpuint (store_count (fx, NULL), ==, 10);
}

static void
test_close_reopen (Fixture *fx, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) events = NULL;
  g_autoptr(MoatEventFilter) filter = moat_event_filter_new ();
  MoatEvent *first;

  open_ok (fx);
  add_numbered (fx, "c", 3000, 0, 0);
  /* no flush: close commits what is queued */
  moat_store_close (fx->store);
  moat_store_close (fx->store);
  g_assert_cmpuint (moat_store_get_pending_count (fx->store), ==, 0);

  /* requests after close fail cleanly */
  events = store_list (fx, NULL, 0, 10, &error);
  g_assert_error (error, MOAT_ERROR, MOAT_ERROR_STORE);
  g_assert_null (events);
  g_clear_error (&error);

  fixture_use_store (fx, fx->path);
  open_ok (fx);
  g_assert_cmpuint (store_count (fx, NULL), ==, 3000);
  filter->ascending = TRUE;
  events = store_list (fx, filter, 0, 1, &error);
  g_assert_no_error (error);
  first = g_ptr_array_index (events, 0);
  g_assert_cmpint (first->id, ==, 1);
  g_assert_cmpstr (first->subject, ==, "c0");
  g_assert_cmpstr (first->action, ==, "blocked");
  g_assert_cmpint (first->severity, ==, MOAT_SEVERITY_HIGH);
  g_assert_cmpint (first->source, ==, MOAT_EVENT_SOURCE_PROXY);
}

static void
test_cancel (Fixture *fx, gconstpointer data)
{
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GPtrArray) events = NULL;
  g_autoptr(GError) error = NULL;

  open_ok (fx);
  add_numbered (fx, "x", 10, 0, 0);
  flush_ok (fx);
  g_cancellable_cancel (cancellable);
  moat_store_list_events_async (fx->store, NULL, 0, 10, cancellable, result_cb, fx);
  result = wait_for_result (fx);
  events = moat_store_list_events_finish (fx->store, result, &error);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_null (events);
  /* the store goes on */
  g_assert_cmpuint (store_count (fx, NULL), ==, 10);
}

#define KILL_PATH_ENV "MOAT_STORE_TEST_KILL_PATH"

/* A process that dies without closing the store loses no committed event. */
static void
test_kill (Fixture *fx, gconstpointer data)
{
  g_autoptr(MoatEventFilter) filter = moat_event_filter_new ();

  if (g_test_subprocess ())
    {
      const char *path = g_getenv (KILL_PATH_ENV);

      g_assert_nonnull (path);
      moat_test_remove_tree (fx->dir);
      fixture_use_store (fx, path);
      open_ok (fx);
      add_numbered (fx, "pre-", 3000, 64, 0);
      while (fx->committed->len < 3000)
        g_main_context_iteration (NULL, TRUE);
      g_print ("committed %u\n", fx->committed->len);
      fflush (stdout);
      /* more in flight when the process dies */
      add_numbered (fx, "post-", 2000, 64, 0);
      raise (SIGKILL);
      return;
    }

  g_setenv (KILL_PATH_ENV, fx->path, TRUE);
  g_test_trap_subprocess (NULL, 60 * G_USEC_PER_SEC, G_TEST_SUBPROCESS_INHERIT_STDERR);
  g_unsetenv (KILL_PATH_ENV);
  g_test_trap_assert_failed ();
  g_test_trap_assert_stdout ("*committed 3000*");

  open_ok (fx);
  g_assert_cmpuint (store_count (fx, NULL), >=, 3000);
  filter->search = g_strdup ("pre-");
  g_assert_cmpuint (store_count (fx, filter), ==, 3000);
  filter->ascending = TRUE;
  assert_list (fx, filter, 2999, 1, "3000");
}

static void
set_file_size_limit (rlim_t limit)
{
  struct rlimit rl;

  g_assert_cmpint (getrlimit (RLIMIT_FSIZE, &rl), ==, 0);
  rl.rlim_cur = limit;
  g_assert_cmpint (setrlimit (RLIMIT_FSIZE, &rl), ==, 0);
}

/* The disk-full cycle on whatever makes writes fail; @make_room ends it. */
static void
check_disk_full (Fixture *fx, void (*fill) (Fixture *fx), void (*make_room) (Fixture *fx))
{
  g_autoptr(GError) error = NULL;
  g_autoptr(MoatEventFilter) filter = moat_event_filter_new ();
  guint n_committed;
  guint n_pending;
  guint64 dropped;
  gint warnings = g_atomic_int_get (&n_store_warnings);

  moat_store_set_retry_interval (fx->store, 20);
  add_numbered (fx, "before-", 500, 300, 0);
  flush_ok (fx);
  g_assert_cmpuint (fx->committed->len, ==, 500);

  fill (fx);
  add_numbered (fx, "during-", 5000, 1000, 0);
  wait_for_state (fx, MOAT_STORE_STATE_DISK_FULL);
  g_test_message ("message: %s", moat_store_get_message (fx->store));
  g_assert_true (g_str_has_prefix (moat_store_get_message (fx->store),
                                   "The disk holding the event store is full; "));
  g_assert_true (g_str_has_suffix (moat_store_get_message (fx->store),
                                   " events are waiting to be written."));
  g_assert_cmpint (g_atomic_int_get (&n_store_warnings), >, warnings);

  /* no automatic retries for now, so that the counts below hold still */
  moat_store_set_retry_interval (fx->store, 3600 * 1000);
  g_assert_false (store_flush (fx, &error));
  g_assert_error (error, MOAT_ERROR, MOAT_ERROR_DISK_FULL);
  g_clear_error (&error);
  g_assert_cmpint (moat_store_get_state (fx->store), ==, MOAT_STORE_STATE_DISK_FULL);

  /* reads work, nothing committed is lost */
  n_committed = fx->committed->len;
  g_test_message ("%u events committed before the disk was full", n_committed);
  g_assert_cmpuint (n_committed, >=, 500);
  g_assert_cmpuint (n_committed, <, 5500);
  g_assert_cmpuint (store_count (fx, NULL), ==, n_committed);
  filter->ascending = TRUE;
  check_paging (fx, TRUE, TRUE, n_committed, 1000);
  filter->search = g_strdup ("before-");
  g_assert_cmpuint (store_count (fx, filter), ==, 500);

  /* what waits in memory is bounded; the oldest go first and are counted */
  n_pending = moat_store_get_pending_count (fx->store);
  g_assert_cmpuint (n_pending, ==, 5500 - n_committed);
  g_assert_cmpuint (moat_store_get_dropped_count (fx->store), ==, 0);
  moat_store_set_pending_max (fx->store, 1000);
  add_numbered (fx, "late-", 10, 0, 0);
  g_assert_cmpuint (moat_store_get_pending_count (fx->store), ==, 1000);
  dropped = moat_store_get_dropped_count (fx->store);
  g_assert_cmpuint (dropped, ==, n_pending + 10 - 1000);

  /* a retry that fails again, then room: the timed retry writes them */
  moat_store_set_retry_interval (fx->store, 20);
  g_assert_false (store_flush (fx, &error));
  g_assert_error (error, MOAT_ERROR, MOAT_ERROR_DISK_FULL);
  g_clear_error (&error);
  make_room (fx);
  wait_for_state (fx, MOAT_STORE_STATE_OK);
  g_assert_cmpstr (moat_store_get_message (fx->store), ==, "");
  flush_ok (fx);
  g_assert_cmpuint (moat_store_get_pending_count (fx->store), ==, 0);
  g_assert_cmpuint (fx->committed->len, ==, n_committed + 1000);
  g_assert_cmpuint (store_count (fx, NULL), ==, n_committed + 1000);
  g_clear_pointer (&filter->search, g_free);
  check_paging (fx, TRUE, FALSE, n_committed + 1000, 1000);
  filter->search = g_strdup ("late-");
  g_assert_cmpuint (store_count (fx, filter), ==, 10);
}

static void
fill_by_rlimit (Fixture *fx)
{
  g_autofree char *wal = g_strconcat (fx->path, "-wal", NULL);
  gsize largest = MAX (file_size (fx->path), file_size (wal));

  g_test_message ("limiting files to %" G_GSIZE_FORMAT " bytes", largest + 16384);
  set_file_size_limit (largest + 16384);
}

static void
room_by_rlimit (Fixture *fx)
{
  set_file_size_limit (RLIM_INFINITY);
}

static void
test_disk_full_rlimit (Fixture *fx, gconstpointer data)
{
  if (!g_test_subprocess ())
    {
      /* the limit must not leak into the other tests */
      g_test_trap_subprocess (NULL, 120 * G_USEC_PER_SEC, G_TEST_SUBPROCESS_INHERIT_STDERR);
      g_test_trap_assert_passed ();
      return;
    }
  /* As in moatd: a write past RLIMIT_FSIZE must fail with EFBIG, not kill us. */
  signal (SIGXFSZ, SIG_IGN);
  open_ok (fx);
  check_disk_full (fx, fill_by_rlimit, room_by_rlimit);
}

static char *
tmpfs_dir (Fixture *fx)
{
  return g_build_filename (fx->dir, "tmpfs", NULL);
}

static gboolean
mount_tmpfs (const char *dir, const char *options)
{
  if (unshare (CLONE_NEWNS) != 0)
    return FALSE;
  if (mount ("none", "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0)
    return FALSE;
  return mount ("moat-test", dir, "tmpfs", 0, options) == 0;
}

static void
fill_tmpfs (Fixture *fx)
{
}

static void
room_on_tmpfs (Fixture *fx)
{
  g_autofree char *dir = tmpfs_dir (fx);

  g_assert_cmpint (mount ("moat-test", dir, "tmpfs", MS_REMOUNT, "size=32m,mode=0700"), ==, 0);
}

static void
test_disk_full_tmpfs (Fixture *fx, gconstpointer data)
{
  g_autofree char *dir = tmpfs_dir (fx);
  g_autofree char *path = g_build_filename (dir, "moat.db", NULL);
  int status = 0;
  pid_t pid;

  if (!g_test_subprocess ())
    {
      g_assert_cmpint (g_mkdir_with_parents (dir, 0700), ==, 0);
      /* probe in a throw-away child: root and mount namespaces are needed */
      pid = fork ();
      g_assert_cmpint (pid, >=, 0);
      if (pid == 0)
        _exit (mount_tmpfs (dir, "size=64k") ? 0 : 1);
      g_assert_cmpint (waitpid (pid, &status, 0), ==, pid);
      if (!WIFEXITED (status) || WEXITSTATUS (status) != 0)
        {
          g_test_skip ("needs root and a private mount namespace to mount a tmpfs");
          return;
        }
      g_test_trap_subprocess (NULL, 120 * G_USEC_PER_SEC, G_TEST_SUBPROCESS_INHERIT_STDERR);
      g_test_trap_assert_passed ();
      return;
    }

  g_assert_cmpint (g_mkdir_with_parents (dir, 0700), ==, 0);
  /* 1 MiB: room for the first events, not for 5 MB more */
  g_assert_true (mount_tmpfs (dir, "size=1m,mode=0700"));
  fixture_use_store (fx, path);
  open_ok (fx);
  check_disk_full (fx, fill_tmpfs, room_on_tmpfs);
  moat_store_close (fx->store);
  g_assert_cmpint (umount2 (dir, MNT_DETACH), ==, 0);
}

/* ---- a disk that is full before the store opens ---- */

#define OPEN_FULL_MESSAGE "The disk holding the event store is full; Moat will start " \
                          "recording events when space is freed."

static void
open_disk_full (Fixture *fx)
{
  g_autoptr(GError) error = NULL;
  gint warnings = g_atomic_int_get (&n_store_warnings);

  g_assert_true (store_open (fx, &error));
  g_assert_no_error (error);
  /* the state comes before the open's result */
  g_assert_cmpint (moat_store_get_state (fx->store), ==, MOAT_STORE_STATE_DISK_FULL);
  g_assert_cmpstr (moat_store_get_message (fx->store), ==, OPEN_FULL_MESSAGE);
  g_assert_cmpint (g_atomic_int_get (&n_store_warnings), >, warnings);
  g_assert_cmpuint (fx->n_recovered, ==, 0);
}

/* Reads fail with a clear error, and so does a flush while the disk is full. */
static void
assert_reads_disk_full (Fixture *fx)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) events = NULL;
  g_autoptr(GAsyncResult) result = NULL;
  guint64 count = 0;

  events = store_list (fx, NULL, 0, 10, &error);
  g_assert_error (error, MOAT_ERROR, MOAT_ERROR_DISK_FULL);
  g_assert_null (events);
  g_test_message ("list: %s", error->message);
  g_clear_error (&error);

  moat_store_count_events_async (fx->store, NULL, NULL, result_cb, fx);
  result = wait_for_result (fx);
  g_assert_false (moat_store_count_events_finish (fx->store, result, &count, &error));
  g_assert_error (error, MOAT_ERROR, MOAT_ERROR_DISK_FULL);
  g_clear_error (&error);

  g_assert_false (store_flush (fx, &error));
  g_assert_error (error, MOAT_ERROR, MOAT_ERROR_DISK_FULL);
  g_assert_cmpint (moat_store_get_state (fx->store), ==, MOAT_STORE_STATE_DISK_FULL);
}

/* No file next to the database was made by moving it aside. */
static void
assert_nothing_moved_aside (const char *path)
{
  g_autofree char *dir = g_path_get_dirname (path);
  g_autofree char *base = g_path_get_basename (path);
  g_autofree char *prefix = g_strconcat (base, ".corrupt", NULL);
  g_autoptr(GDir) listing = g_dir_open (dir, 0, NULL);
  const char *name;

  g_assert_nonnull (listing);
  while ((name = g_dir_read_name (listing)) != NULL)
    g_assert_false (g_str_has_prefix (name, prefix));
}

/* Opened on a full disk, the store keeps events in memory and writes them all
 * once there is room: the open is retried like a failed write. */
static void
check_open_disk_full_fresh (Fixture *fx, void (*make_room) (Fixture *fx))
{
  g_autoptr(MoatEventFilter) filter = moat_event_filter_new ();

  moat_store_set_retry_interval (fx->store, 3600 * 1000);
  open_disk_full (fx);
  add_numbered (fx, "waiting-", 100, 200, 0);
  g_assert_cmpuint (moat_store_get_pending_count (fx->store), ==, 100);
  assert_reads_disk_full (fx);
  g_assert_cmpuint (moat_store_get_pending_count (fx->store), ==, 100);
  g_assert_cmpuint (fx->committed->len, ==, 0);
  g_assert_cmpuint (moat_store_get_dropped_count (fx->store), ==, 0);

  /* the bound on what waits holds here too */
  moat_store_set_pending_max (fx->store, 100);
  add_numbered (fx, "extra-", 5, 0, 0);
  g_assert_cmpuint (moat_store_get_pending_count (fx->store), ==, 100);
  g_assert_cmpuint (moat_store_get_dropped_count (fx->store), ==, 5);

  /* a failed flush reschedules the retry at the short interval; then room */
  moat_store_set_retry_interval (fx->store, 20);
  assert_reads_disk_full (fx);
  make_room (fx);
  wait_for_state (fx, MOAT_STORE_STATE_OK);
  g_assert_cmpstr (moat_store_get_message (fx->store), ==, "");
  while (fx->committed->len < 100)
    g_main_context_iteration (NULL, TRUE);
  flush_ok (fx);
  g_assert_cmpuint (fx->committed->len, ==, 100);
  g_assert_cmpuint (moat_store_get_pending_count (fx->store), ==, 0);
  g_assert_cmpuint (store_count (fx, NULL), ==, 100);
  /* the five oldest were dropped, the rest kept their order */
  filter->ascending = TRUE;
  filter->search = g_strdup ("waiting-5");
  assert_list (fx, filter, 0, 1, "1");
  g_clear_pointer (&filter->search, g_free);
  filter->search = g_strdup ("extra-");
  g_assert_cmpuint (store_count (fx, filter), ==, 5);
  check_paging (fx, TRUE, TRUE, 100, 30);
  assert_nothing_moved_aside (moat_store_get_path (fx->store));
  moat_store_close (fx->store);
  g_assert_cmpint (db_query_int (moat_store_get_path (fx->store), "PRAGMA user_version"), ==,
                   MOAT_STORE_SCHEMA_VERSION);
}

static void
test_open_disk_full_rlimit (Fixture *fx, gconstpointer data)
{
  if (!g_test_subprocess ())
    {
      g_test_trap_subprocess (NULL, 60 * G_USEC_PER_SEC, G_TEST_SUBPROCESS_INHERIT_STDERR);
      g_test_trap_assert_passed ();
      return;
    }
  signal (SIGXFSZ, SIG_IGN);
  /* not a byte may be written: the file can be created, not filled */
  set_file_size_limit (0);
  check_open_disk_full_fresh (fx, room_by_rlimit);
}

static void
test_open_disk_full_tmpfs (Fixture *fx, gconstpointer data)
{
  g_autofree char *dir = tmpfs_dir (fx);
  g_autofree char *path = g_build_filename (dir, "moat.db", NULL);
  g_autofree char *filler = g_build_filename (dir, "filler", NULL);
  g_autofree char *zeros = g_malloc0 (4096);
  int status = 0;
  pid_t pid;
  int fd;

  if (!g_test_subprocess ())
    {
      g_assert_cmpint (g_mkdir_with_parents (dir, 0700), ==, 0);
      pid = fork ();
      g_assert_cmpint (pid, >=, 0);
      if (pid == 0)
        _exit (mount_tmpfs (dir, "size=64k") ? 0 : 1);
      g_assert_cmpint (waitpid (pid, &status, 0), ==, pid);
      if (!WIFEXITED (status) || WEXITSTATUS (status) != 0)
        {
          g_test_skip ("needs root and a private mount namespace to mount a tmpfs");
          return;
        }
      g_test_trap_subprocess (NULL, 60 * G_USEC_PER_SEC, G_TEST_SUBPROCESS_INHERIT_STDERR);
      g_test_trap_assert_passed ();
      return;
    }

  g_assert_cmpint (g_mkdir_with_parents (dir, 0700), ==, 0);
  g_assert_true (mount_tmpfs (dir, "size=256k,mode=0700"));
  /* fill it up to the last block */
  fd = g_open (filler, O_WRONLY | O_CREAT, 0600);
  g_assert_cmpint (fd, >=, 0);
  while (write (fd, zeros, 4096) > 0)
    ;
  g_assert_cmpint (errno, ==, ENOSPC);
  g_assert_cmpint (close (fd), ==, 0);
  fixture_use_store (fx, path);
  check_open_disk_full_fresh (fx, room_on_tmpfs);
  g_assert_cmpint (umount2 (dir, MNT_DETACH), ==, 0);
}

/* A migration that cannot be written leaves the old file as it was, and
 * completes once there is room. */
static void
test_open_disk_full_migrate (Fixture *fx, gconstpointer data)
{
  g_autofree char *fixture = g_build_filename (STORE_FIXTURES_DIR, "schema-v1.sql", NULL);
  g_autofree char *sql = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) events = NULL;
  g_autofree char *subject = NULL;
  g_autofree char *ids = NULL;
  sqlite3 *reader = NULL;
  MoatEvent *added;

  if (!g_test_subprocess ())
    {
      g_test_trap_subprocess (NULL, 60 * G_USEC_PER_SEC, G_TEST_SUBPROCESS_INHERIT_STDERR);
      g_test_trap_assert_passed ();
      return;
    }
  signal (SIGXFSZ, SIG_IGN);
  g_assert_true (g_file_get_contents (fixture, &sql, NULL, &error));
  g_assert_no_error (error);
  db_create_from_sql (fx->path, sql);
  g_assert_cmpint (db_query_int (fx->path, "PRAGMA user_version"), ==, 1);

  /* Another reader keeps the WAL index (-shm, 32 KiB) there, so the store gets as
   * far as the migration's transaction; then no file may grow past the database. */
  g_assert_cmpint (sqlite3_open (fx->path, &reader), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_exec (reader, "PRAGMA journal_mode = WAL; "
                                         "SELECT COUNT(*) FROM events", NULL, NULL, NULL),
                   ==, SQLITE_OK);
  g_test_message ("limiting files to %" G_GSIZE_FORMAT " bytes", file_size (fx->path));
  set_file_size_limit (file_size (fx->path));
  moat_store_set_retry_interval (fx->store, 3600 * 1000);
  open_disk_full (fx);
  g_mutex_lock (&last_store_warning_lock);
  g_test_message ("warning: %s", last_store_warning);
  g_assert_nonnull (strstr (last_store_warning,
                            "Could not migrate the event store to schema version 2"));
  g_mutex_unlock (&last_store_warning_lock);
  add_numbered (fx, "waiting-", 10, 0, 0);
  assert_reads_disk_full (fx);

  /* the old file, as it was: version 1, its rows, no column of version 2 */
  g_assert_cmpint (db_query_int (fx->path, "PRAGMA user_version"), ==, 1);
  g_assert_cmpint (db_query_int (fx->path, "SELECT COUNT(*) FROM events"), ==, 5);
  g_assert_cmpint (db_query_int (fx->path, "SELECT COUNT(*) FROM pragma_table_info('events') "
                                           "WHERE name = 'action'"), ==, 0);
  g_assert_cmpint (db_query_int (fx->path, "SELECT COUNT(*) FROM sqlite_master "
                                           "WHERE name = 'meta'"), ==, 0);
  subject = db_query_text (fx->path, "SELECT subject FROM events WHERE id = 3");
  g_assert_cmpstr (subject, ==, "192.168.1.1");
  assert_nothing_moved_aside (fx->path);
  g_assert_cmpint (sqlite3_close (reader), ==, SQLITE_OK);

  /* room: the migration completes and what waited is written after the old rows */
  moat_store_set_retry_interval (fx->store, 20);
  assert_reads_disk_full (fx);
  set_file_size_limit (RLIM_INFINITY);
  wait_for_state (fx, MOAT_STORE_STATE_OK);
  while (fx->committed->len < 10)
    g_main_context_iteration (NULL, TRUE);
  g_assert_cmpuint (fx->committed->len, ==, 10);
  added = g_ptr_array_index (fx->committed, 0);
  g_assert_cmpint (added->id, ==, 8);
  g_assert_cmpuint (store_count (fx, NULL), ==, 15);
  events = store_list (fx, NULL, 10, 1000, &error);
  g_assert_no_error (error);
  ids = ids_of (events);
  g_assert_cmpstr (ids, ==, "7,4,3,2,1");
  g_assert_cmpint (fx->n_recovered, ==, 0);
  assert_nothing_moved_aside (fx->path);
  moat_store_close (fx->store);
  g_assert_cmpint (db_query_int (fx->path, "PRAGMA user_version"), ==, MOAT_STORE_SCHEMA_VERSION);
  g_assert_cmpint (db_query_int (fx->path, "SELECT COUNT(*) FROM events WHERE action = ''"),
                   ==, 5);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_log_set_always_fatal (G_LOG_FATAL_MASK | G_LOG_LEVEL_CRITICAL);
  g_log_set_handler ("moat-store", G_LOG_LEVEL_WARNING, log_store_warning_cb, NULL);
  main_thread = g_thread_self ();

#define ADD(path, func, data) \
  g_test_add ("/moat/store/" path, Fixture, data, fixture_set_up, func, fixture_tear_down)
  ADD ("open-fresh", test_open_fresh, NULL);
  ADD ("migrate", test_migrate, NULL);
  ADD ("refuse-newer", test_refuse_newer, NULL);
  ADD ("batching", test_batching, NULL);
  ADD ("add-from-threads", test_add_from_threads, NULL);
  ADD ("list-filters", test_list_filters, NULL);
  ADD ("list-limits", test_list_limits, NULL);
  ADD ("paging", test_paging, NULL);
  ADD ("category-counts", test_category_counts, NULL);
  ADD ("retention-days", test_retention_days, NULL);
  ADD ("retention-max-events", test_retention_max_events, NULL);
  ADD ("corrupt/garbage", test_corrupt, GINT_TO_POINTER (DAMAGE_GARBAGE));
  ADD ("corrupt/header-fields", test_corrupt, GINT_TO_POINTER (DAMAGE_HEADER_FIELDS));
  ADD ("corrupt/schema-page", test_corrupt, GINT_TO_POINTER (DAMAGE_SCHEMA_PAGE));
  ADD ("corrupt/truncated", test_corrupt, GINT_TO_POINTER (DAMAGE_TRUNCATED));
  ADD ("unreadable/no-access", test_unreadable, GINT_TO_POINTER (UNREADABLE_NO_ACCESS));
  ADD ("unreadable/read-only", test_unreadable, GINT_TO_POINTER (UNREADABLE_READ_ONLY));
  ADD ("unreadable/folder", test_unreadable, GINT_TO_POINTER (UNREADABLE_FOLDER));
  ADD ("close-reopen", test_close_reopen, NULL);
  ADD ("cancel", test_cancel, NULL);
  ADD ("kill", test_kill, NULL);
  ADD ("disk-full/rlimit", test_disk_full_rlimit, NULL);
  ADD ("disk-full/tmpfs", test_disk_full_tmpfs, NULL);
  ADD ("disk-full-at-open/rlimit", test_open_disk_full_rlimit, NULL);
  ADD ("disk-full-at-open/tmpfs", test_open_disk_full_tmpfs, NULL);
  ADD ("disk-full-at-open/migrate", test_open_disk_full_migrate, NULL);
#undef ADD

  return g_test_run ();
}
