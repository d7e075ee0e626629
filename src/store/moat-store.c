/* SPDX-License-Identifier: GPL-3.0-or-later
 * Copyright 2026 The Moat developers
 */
#define G_LOG_DOMAIN "moat-store"

#include "config.h"

#include "moat-store.h"
#include "moat-store-private.h"

#include "moat-error.h"

#include <errno.h>
#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <sqlite3.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/statvfs.h>

/*
 * How it works
 *
 * MoatStore is the owner-side object. Everything the store thread touches lives
 * in a separate reference-counted StoreCore, so the thread never holds a
 * reference to the GObject: the last unref of the store always happens on the
 * owner's side, where dispose can join the thread. Results go back to the owner
 * context as idle sources; those closures hold the core and
 * find the store through a weak reference, so a store that is gone is simply
 * not told.
 *
 * The owner pushes requests (open, flush, list, count, category counts, prune)
 * onto core->requests and events onto core->pending, both under core->mutex,
 * and signals core->cond. The store thread waits on the cond with a deadline:
 * the batch delay, the retry delay after a failed write, or the next prune.
 *
 * Full disk: a write past RLIMIT_FSIZE raises SIGXFSZ, whose default action
 * kills the process. A process that uses the store (moatd) must ignore it with
 * signal (SIGXFSZ, SIG_IGN) so that the write fails with EFBIG instead, which
 * the store handles like ENOSPC: keep the batch, report DISK_FULL, retry.
 *
 * A disk that is already full when the store opens (the file or its WAL cannot
 * be created, a migration cannot be written) is handled the same way: the open
 * request completes, :state is DISK_FULL, events queue up in memory within the
 * same bound, and the store thread tries to open again every retry interval
 * (a flush tries at once). Reads fail with MOAT_ERROR_DISK_FULL until then. A
 * migration runs in one transaction per step, so a failed one leaves the old
 * file as it was; only a corrupt or unreadable file (another user's, read-only,
 * a folder in its place, read errors) is ever moved aside.
 */

#define BATCH_MAX 2000
#define BATCH_DELAY_US (100 * G_TIME_SPAN_MILLISECOND)
#define PRUNE_INTERVAL_US (10 * G_TIME_SPAN_MINUTE)
#define PRUNE_CHUNK 5000
#define RETRY_INTERVAL_MS_DEFAULT 5000
#define BUSY_TIMEOUT_MS 5000
#define LIST_LIMIT_MAX 1000
/* more than SQLite writes at once: a 64 KiB page and its WAL frame header */
#define WRITE_SLACK (256 * 1024)

G_DEFINE_AUTOPTR_CLEANUP_FUNC (sqlite3_stmt, sqlite3_finalize)

typedef enum {
  REQUEST_OPEN,
  REQUEST_FLUSH,
  REQUEST_LIST,
  REQUEST_COUNT,
  REQUEST_CATEGORY_COUNTS,
  REQUEST_PRUNE,
} RequestKind;

typedef struct {
  RequestKind      kind;
  GTask           *task;         /* owned; only ever unreffed on the owner context */
  /* arguments */
  MoatEventFilter *filter;
  guint64          offset;
  guint            limit;
  gint64           since;
  gint64           until;
  char            *action;
  /* results */
  GError          *error;
  gpointer         result;
  GDestroyNotify   result_free;
  guint64          count;
} Request;

typedef struct {
  /* immutable */
  char          *path;
  GMainContext  *owner_context;
  GWeakRef       store_ref;

  /* protected by mutex */
  GMutex         mutex;
  GCond          cond;
  GQueue         requests;            /* Request *, oldest first */
  GQueue         pending;             /* MoatEvent *, oldest first, not yet committed */
  guint          in_flight;           /* events taken from @pending for a write */
  gint64         first_pending_time;  /* monotonic time the oldest pending event came */
  guint64        dropped;
  guint          pending_max;
  guint          max_days;
  guint64        max_events;
  gint64         retry_interval_us;
  gboolean       stopping;
  guint64        commit_count;

  /* store thread only */
  sqlite3       *db;
  sqlite3_stmt  *insert_stmt;
  gint64         next_id;
  gint64         next_prune;          /* monotonic */
  gint64         retry_at;            /* monotonic; 0 while writes work */
  gboolean       reopen;              /* open failed for a full disk; retried at retry_at */
  MoatStoreState state;               /* last state sent to the owner */
} StoreCore;

struct _MoatStore
{
  GObject         parent_instance;

  /* owned */
  StoreCore      *core;
  GThread        *thread;
  char           *message;

  MoatStoreState  state;
  gboolean        open_started;
  gboolean        closed;
};

G_DEFINE_FINAL_TYPE (MoatStore, moat_store, G_TYPE_OBJECT)

enum {
  PROP_0,
  PROP_PATH,
  PROP_STATE,
  PROP_MESSAGE,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

enum {
  SIGNAL_EVENTS_COMMITTED,
  SIGNAL_RECOVERED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

/* The core whose store thread is the current thread, if any. */
static GPrivate store_thread_core;

/* Every SQLite call runs on the store thread; anything else is a programmer error. */
#define assert_store_thread(core) \
  g_assert_true (g_private_get (&store_thread_core) == (core))

/* Runs @func on the owner context at its next iteration, never right here.
 * Not g_main_context_invoke(): called from the store thread with the global
 * default context as owner, it would run @func on the store thread whenever
 * it can acquire that context. Idle sources of one priority run in order. */
static void
run_on_owner (GMainContext *owner, GSourceFunc func, gpointer data, GDestroyNotify notify)
{
  g_autoptr(GSource) source = g_idle_source_new ();

  g_source_set_priority (source, G_PRIORITY_DEFAULT);
  g_source_set_callback (source, func, data, notify);
  g_source_set_static_name (source, "[moat-store] owner callback");
  g_source_attach (source, owner);
}

/* ---- core ---- */

static void
store_core_clear (StoreCore *core)
{
  Request *req;

  g_assert_null (core->db);
  while ((req = g_queue_pop_head (&core->requests)) != NULL)
    g_critical ("store request %d left in the queue", req->kind);
  g_queue_clear_full (&core->pending, (GDestroyNotify) moat_event_unref);
  g_weak_ref_clear (&core->store_ref);
  g_mutex_clear (&core->mutex);
  g_cond_clear (&core->cond);
  g_main_context_unref (core->owner_context);
  g_free (core->path);
}

static StoreCore *
store_core_new (MoatStore *store, const char *path)
{
  StoreCore *core = g_atomic_rc_box_new0 (StoreCore);

  core->path = g_strdup (path);
  core->owner_context = g_main_context_ref_thread_default ();
  g_weak_ref_init (&core->store_ref, store);
  g_mutex_init (&core->mutex);
  g_cond_init (&core->cond);
  g_queue_init (&core->requests);
  g_queue_init (&core->pending);
  core->pending_max = MOAT_STORE_PENDING_MAX;
  core->retry_interval_us = RETRY_INTERVAL_MS_DEFAULT * G_TIME_SPAN_MILLISECOND;
  core->next_prune = G_MAXINT64;
  core->next_id = 1;
  core->state = MOAT_STORE_STATE_OPENING;
  return core;
}

static StoreCore *
store_core_ref (StoreCore *core)
{
  return g_atomic_rc_box_acquire (core);
}

static void
store_core_unref (StoreCore *core)
{
  g_atomic_rc_box_release_full (core, (GDestroyNotify) store_core_clear);
}

/* Drops the oldest uncommitted events while there are more than allowed. */
static void
trim_pending_locked (StoreCore *core)
{
  while (core->pending.length > 0 &&
         core->pending.length + core->in_flight > core->pending_max)
    {
      moat_event_unref (g_queue_pop_head (&core->pending));
      core->dropped++;
    }
}

/* ---- requests ---- */

static void
request_free (Request *req)
{
  g_clear_object (&req->task);
  g_clear_pointer (&req->filter, moat_event_filter_free);
  g_clear_error (&req->error);
  if (req->result != NULL && req->result_free != NULL)
    req->result_free (req->result);
  g_free (req->action);
  g_free (req);
}

static Request *
request_new (RequestKind kind, GTask *task)
{
  Request *req = g_new0 (Request, 1);

  req->kind = kind;
  req->task = task;
  return req;
}

/* Runs on the owner context. */
static gboolean
complete_request_cb (gpointer data)
{
  Request *req = data;
  guint64 *count;

  if (req->error != NULL)
    {
      g_task_return_error (req->task, g_steal_pointer (&req->error));
      return G_SOURCE_REMOVE;
    }
  switch (req->kind)
    {
    case REQUEST_LIST:
    case REQUEST_CATEGORY_COUNTS:
      g_task_return_pointer (req->task, g_steal_pointer (&req->result), req->result_free);
      break;
    case REQUEST_COUNT:
    case REQUEST_PRUNE:
      count = g_new (guint64, 1);
      *count = req->count;
      g_task_return_pointer (req->task, count, g_free);
      break;
    case REQUEST_OPEN:
    case REQUEST_FLUSH:
    default:
      g_task_return_boolean (req->task, TRUE);
      break;
    }
  return G_SOURCE_REMOVE;
}

/* Hands a finished request back to the owner context, which returns its task. */
static void
finish_request (StoreCore *core, Request *req)
{
  run_on_owner (core->owner_context, complete_request_cb, req, (GDestroyNotify) request_free);
}

/* ---- things the owner context is told ---- */

typedef enum {
  EMIT_STATE,
  EMIT_EVENTS_COMMITTED,
  EMIT_RECOVERED,
} EmitKind;

typedef struct {
  StoreCore      *core;
  EmitKind        kind;
  MoatStoreState  state;
  char           *text;
  GPtrArray      *events;
} Emission;

static void
emission_free (Emission *em)
{
  store_core_unref (em->core);
  g_free (em->text);
  g_clear_pointer (&em->events, g_ptr_array_unref);
  g_free (em);
}

static gboolean
emit_cb (gpointer data)
{
  Emission *em = data;
  g_autoptr(MoatStore) self = g_weak_ref_get (&em->core->store_ref);

  if (self == NULL)
    return G_SOURCE_REMOVE;
  switch (em->kind)
    {
    case EMIT_STATE:
      g_object_freeze_notify (G_OBJECT (self));
      if (self->state != em->state)
        {
          self->state = em->state;
          g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_STATE]);
        }
      if (g_strcmp0 (self->message, em->text) != 0)
        {
          g_free (self->message);
          self->message = g_strdup (em->text);
          g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_MESSAGE]);
        }
      g_object_thaw_notify (G_OBJECT (self));
      break;
    case EMIT_EVENTS_COMMITTED:
      g_signal_emit (self, signals[SIGNAL_EVENTS_COMMITTED], 0, em->events);
      break;
    case EMIT_RECOVERED:
      g_signal_emit (self, signals[SIGNAL_RECOVERED], 0, em->text);
      break;
    default:
      g_assert_not_reached ();
    }
  return G_SOURCE_REMOVE;
}

static void
emit_on_owner (StoreCore *core, EmitKind kind, MoatStoreState state, const char *text,
               GPtrArray *events)
{
  Emission *em = g_new0 (Emission, 1);

  em->core = store_core_ref (core);
  em->kind = kind;
  em->state = state;
  em->text = g_strdup (text);
  em->events = events != NULL ? g_ptr_array_ref (events) : NULL;
  run_on_owner (core->owner_context, emit_cb, em, (GDestroyNotify) emission_free);
}

static void
set_state (StoreCore *core, MoatStoreState state, const char *message)
{
  assert_store_thread (core);
  core->state = state;
  emit_on_owner (core, EMIT_STATE, state, message != NULL ? message : "", NULL);
}

/* ---- SQLite helpers (store thread only) ---- */

static gboolean
is_corrupt_rc (int rc)
{
  int primary = rc & 0xff;

  return primary == SQLITE_CORRUPT || primary == SQLITE_NOTADB ||
         rc == SQLITE_IOERR_SHORT_READ;
}

/* EFBIG: RLIMIT_FSIZE or the file system's largest file */
static gboolean
is_disk_full_errno (int sys_errno)
{
  return sys_errno == ENOSPC || sys_errno == EFBIG || sys_errno == EDQUOT;
}

static gboolean
is_disk_full_rc (int rc, int sys_errno)
{
  int primary = rc & 0xff;

  if (primary == SQLITE_FULL)
    return TRUE;
  return (primary == SQLITE_IOERR || primary == SQLITE_CANTOPEN) &&
         is_disk_full_errno (sys_errno);
}

/* SQLite reports some failed writes with errno already cleared: EFBIG on the
 * first frame of a WAL comes back as SQLITE_IOERR_WRITE with errno 0, after
 * the lock calls that followed it. (ENOSPC is SQLITE_FULL either way.) Then
 * look for a full disk or a file at RLIMIT_FSIZE directly. */
static gboolean
store_files_near_limit (StoreCore *core)
{
  static const char *const suffixes[] = { "", "-wal", "-shm", "-journal" };
  g_autofree char *dir = g_path_get_dirname (core->path);
  struct statvfs vfs;
  struct rlimit rl;

  if (statvfs (dir, &vfs) == 0 && (guint64) vfs.f_bavail * vfs.f_frsize < WRITE_SLACK)
    return TRUE;
  if (getrlimit (RLIMIT_FSIZE, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY)
    return FALSE;
  for (guint i = 0; i < G_N_ELEMENTS (suffixes); i++)
    {
      g_autofree char *file = g_strconcat (core->path, suffixes[i], NULL);
      GStatBuf st;

      if (g_stat (file, &st) == 0 && (guint64) st.st_size + WRITE_SLACK > rl.rlim_cur)
        return TRUE;
    }
  return FALSE;
}

static void
set_db_error (StoreCore *core, int rc, const char *what, GError **error)
{
  int sys_errno = sqlite3_system_errno (core->db);
  gboolean disk_full = is_disk_full_rc (rc, sys_errno) ||
                       ((rc & 0xff) == SQLITE_IOERR && sys_errno == 0 &&
                        store_files_near_limit (core));
  MoatError code = disk_full ? MOAT_ERROR_DISK_FULL : MOAT_ERROR_STORE;

  g_set_error (error, MOAT_ERROR, code, "%s: %s (%s, code %d, errno %d)",
               what, sqlite3_errmsg (core->db), sqlite3_errstr (rc), rc, sys_errno);
}

static gboolean
exec_sql (StoreCore *core, const char *sql, int *out_rc, GError **error)
{
  int rc;

  assert_store_thread (core);
  rc = sqlite3_exec (core->db, sql, NULL, NULL, NULL);
  if (out_rc != NULL)
    *out_rc = rc;
  if (rc != SQLITE_OK)
    {
      g_autofree char *what = g_strdup_printf ("Could not run “%.40s”", sql);

      set_db_error (core, rc, what, error);
      return FALSE;
    }
  return TRUE;
}

static void
rollback (StoreCore *core)
{
  assert_store_thread (core);
  if (!sqlite3_get_autocommit (core->db))
    {
      int rc = sqlite3_exec (core->db, "ROLLBACK", NULL, NULL, NULL);

      if (rc != SQLITE_OK)
        g_debug ("rollback failed: %s", sqlite3_errmsg (core->db));
    }
}

static sqlite3_stmt *
prepare (StoreCore *core, const char *sql, int *out_rc, GError **error)
{
  sqlite3_stmt *stmt = NULL;
  int rc;

  assert_store_thread (core);
  rc = sqlite3_prepare_v2 (core->db, sql, -1, &stmt, NULL);
  if (out_rc != NULL)
    *out_rc = rc;
  if (rc != SQLITE_OK)
    {
      set_db_error (core, rc, "Could not prepare a query", error);
      return NULL;
    }
  return stmt;
}

/* Runs a statement that returns one integer; *out_rc gets the SQLite code. */
static gboolean
query_int64 (StoreCore *core, const char *sql, gint64 *out, int *out_rc, GError **error)
{
  g_autoptr(sqlite3_stmt) stmt = prepare (core, sql, out_rc, error);
  int rc;

  if (stmt == NULL)
    return FALSE;
  rc = sqlite3_step (stmt);
  if (out_rc != NULL)
    *out_rc = rc;
  if (rc != SQLITE_ROW)
    {
      set_db_error (core, rc, "Could not read from the event store", error);
      return FALSE;
    }
  *out = sqlite3_column_int64 (stmt, 0);
  return TRUE;
}

static gboolean
set_meta (StoreCore *core, const char *key, const char *value, GError **error)
{
  g_autoptr(sqlite3_stmt) stmt = prepare (core, "INSERT OR REPLACE INTO meta (key, value) "
                                                "VALUES (?1, ?2)", NULL, error);
  int rc;

  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, key, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 2, value, -1, SQLITE_STATIC);
  rc = sqlite3_step (stmt);
  if (rc != SQLITE_DONE)
    {
      set_db_error (core, rc, "Could not write to the event store", error);
      return FALSE;
    }
  return TRUE;
}

static gint64
get_meta_int64 (StoreCore *core, const char *key)
{
  g_autoptr(sqlite3_stmt) stmt = prepare (core, "SELECT value FROM meta WHERE key = ?1",
                                          NULL, NULL);

  if (stmt == NULL)
    return 0;
  sqlite3_bind_text (stmt, 1, key, -1, SQLITE_STATIC);
  if (sqlite3_step (stmt) != SQLITE_ROW || sqlite3_column_text (stmt, 0) == NULL)
    return 0;
  return g_ascii_strtoll ((const char *) sqlite3_column_text (stmt, 0), NULL, 10);
}

/* moat_contains(haystack, casefolded needle): the search for non-ASCII text,
 * which LIKE only folds for ASCII. */
static void
sql_contains_func (sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
  const char *haystack = (const char *) sqlite3_value_text (argv[0]);
  const char *needle = (const char *) sqlite3_value_text (argv[1]);
  g_autofree char *folded = NULL;

  if (haystack == NULL || needle == NULL)
    {
      sqlite3_result_int (ctx, 0);
      return;
    }
  folded = g_utf8_casefold (haystack, -1);
  sqlite3_result_int (ctx, strstr (folded, needle) != NULL);
}

/* ---- open, migrate, recover ---- */

/* Schema version N is reached by running migrations[N - 1] on version N - 1.
 * Never edit a released step; add one. Keep tests/fixtures/store/schema-vN.sql
 * for every version below the newest. */
static const char *const migrations[] = {
  /* 0 -> 1 */
  "CREATE TABLE events ("
  "  id INTEGER PRIMARY KEY,"
  "  time INTEGER NOT NULL,"
  "  source TEXT NOT NULL,"
  "  threat TEXT NOT NULL,"
  "  severity INTEGER NOT NULL,"
  "  subject TEXT NOT NULL,"
  "  detail TEXT NOT NULL DEFAULT '{}'"
  ");"
  "CREATE INDEX events_time ON events (time);",
  /* 1 -> 2 */
  "ALTER TABLE events ADD COLUMN action TEXT NOT NULL DEFAULT '';"
  "CREATE INDEX events_threat_time ON events (threat, time);"
  "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT);",
};
G_STATIC_ASSERT (G_N_ELEMENTS (migrations) == MOAT_STORE_SCHEMA_VERSION);

static gboolean
migrate (StoreCore *core, gint64 from, int *out_rc, GError **error)
{
  for (gint64 version = from; version < MOAT_STORE_SCHEMA_VERSION; version++)
    {
      g_autofree char *set_version = g_strdup_printf ("PRAGMA user_version = %" G_GINT64_FORMAT,
                                                      version + 1);

      g_debug ("migrating %s from schema version %" G_GINT64_FORMAT " to %" G_GINT64_FORMAT,
               core->path, version, version + 1);
      if (!exec_sql (core, "BEGIN IMMEDIATE", out_rc, error))
        return FALSE;
      if (!exec_sql (core, migrations[version], out_rc, error) ||
          !exec_sql (core, set_version, out_rc, error) ||
          !exec_sql (core, "COMMIT", out_rc, error))
        {
          rollback (core);
          g_prefix_error (error, "Could not migrate the event store to schema version %"
                          G_GINT64_FORMAT ": ", version + 1);
          return FALSE;
        }
    }
  return TRUE;
}

static void
close_db (StoreCore *core)
{
  assert_store_thread (core);
  g_clear_pointer (&core->insert_stmt, sqlite3_finalize);
  if (core->db != NULL)
    {
      int rc = sqlite3_close (core->db);

      if (rc != SQLITE_OK)
        g_warning ("Could not close the event store cleanly: %s", sqlite3_errstr (rc));
      core->db = NULL;
    }
}

typedef enum {
  OPEN_OK,
  OPEN_CORRUPT,
  OPEN_FAILED,
} OpenResult;

static OpenResult
open_result_for (int rc)
{
  return is_corrupt_rc (rc) || rc == SQLITE_IOERR_READ ? OPEN_CORRUPT : OPEN_FAILED;
}

/* A database file that is there but cannot be opened for reading and writing
 * (another user's file, a folder in its place) is treated like a corrupt one:
 * moved aside, so that Moat keeps recording in a fresh one. Moving it needs
 * only the folder to be writable; when it is not, opening fails as before. */
static gboolean
is_unreadable_file (const char *path, int rc, int sys_errno)
{
  GStatBuf st;

  if ((rc & 0xff) != SQLITE_CANTOPEN && (rc & 0xff) != SQLITE_PERM)
    return FALSE;
  if (sys_errno != EACCES && sys_errno != EPERM && sys_errno != EISDIR)
    return FALSE;
  return g_lstat (path, &st) == 0;
}

/* Opens, checks and migrates the database file. OPEN_CORRUPT means the file is
 * there but damaged or unreadable and may be moved aside; the connection is
 * closed then. */
static OpenResult
try_open (StoreCore *core, GError **error)
{
  g_autoptr(sqlite3_stmt) check = NULL;
  g_autofree char *journal = NULL;
  gint64 version = 0;
  gint64 max_id = 0;
  int rc = SQLITE_OK;
  const char *result;

  assert_store_thread (core);
  rc = sqlite3_open_v2 (core->path, &core->db,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
  if (rc != SQLITE_OK)
    {
      int sys_errno = core->db != NULL ? sqlite3_system_errno (core->db) : 0;

      g_set_error (error, MOAT_ERROR,
                   is_disk_full_rc (rc, sys_errno) ? MOAT_ERROR_DISK_FULL : MOAT_ERROR_STORE,
                   "Could not open the event store %s: %s (%s)", core->path,
                   core->db != NULL ? sqlite3_errmsg (core->db) : sqlite3_errstr (rc),
                   sys_errno != 0 ? g_strerror (sys_errno) : "no system error");
      close_db (core);
      return is_unreadable_file (core->path, rc, sys_errno) ? OPEN_CORRUPT : OPEN_FAILED;
    }
  sqlite3_extended_result_codes (core->db, 1);
  sqlite3_busy_timeout (core->db, BUSY_TIMEOUT_MS);
  /* SQLite falls back to reading only a file it may not write. */
  if (sqlite3_db_readonly (core->db, "main") == 1)
    {
      g_set_error (error, MOAT_ERROR, MOAT_ERROR_STORE,
                   "The event store %s can be read but not written", core->path);
      close_db (core);
      return OPEN_CORRUPT;
    }

  /* Read the version before changing anything: a newer database stays untouched. */
  if (!query_int64 (core, "PRAGMA user_version", &version, &rc, error))
    goto fail;
  if (version > MOAT_STORE_SCHEMA_VERSION || version < 0)
    {
      g_set_error (error, MOAT_ERROR, MOAT_ERROR_STORE,
                   "The event store %s has schema version %" G_GINT64_FORMAT
                   ", newer than this version of Moat understands (%d); it was left untouched",
                   core->path, version, MOAT_STORE_SCHEMA_VERSION);
      close_db (core);
      return OPEN_FAILED;
    }

  check = prepare (core, "PRAGMA quick_check(1)", &rc, error);
  if (check == NULL)
    goto fail;
  rc = sqlite3_step (check);
  if (rc != SQLITE_ROW)
    {
      set_db_error (core, rc, "Could not check the event store", error);
      goto fail;
    }
  result = (const char *) sqlite3_column_text (check, 0);
  if (g_strcmp0 (result, "ok") != 0)
    {
      g_set_error (error, MOAT_ERROR, MOAT_ERROR_STORE, "The event store failed its check: %s",
                   result != NULL ? result : "(no result)");
      g_clear_pointer (&check, sqlite3_finalize);
      close_db (core);
      return OPEN_CORRUPT;
    }
  g_clear_pointer (&check, sqlite3_finalize);

  /* WAL: a committed transaction survives the process being killed. NORMAL syncs
   * at checkpoints only, which is enough for that (not for power loss). */
  check = prepare (core, "PRAGMA journal_mode = WAL", &rc, error);
  if (check == NULL)
    goto fail;
  rc = sqlite3_step (check);
  if (rc != SQLITE_ROW)
    {
      set_db_error (core, rc, "Could not switch the event store to WAL", error);
      goto fail;
    }
  journal = g_strdup ((const char *) sqlite3_column_text (check, 0));
  g_clear_pointer (&check, sqlite3_finalize);
  if (g_strcmp0 (journal, "wal") != 0)
    g_warning ("The event store %s uses journal mode %s, not WAL", core->path, journal);
  if (!exec_sql (core, "PRAGMA synchronous = NORMAL", &rc, error) ||
      !exec_sql (core, "PRAGMA foreign_keys = ON", &rc, error))
    goto fail;

  if (!migrate (core, version, &rc, error))
    goto fail;

  rc = sqlite3_create_function_v2 (core->db, "moat_contains", 2,
                                   SQLITE_UTF8 | SQLITE_DETERMINISTIC, NULL,
                                   sql_contains_func, NULL, NULL, NULL);
  if (rc != SQLITE_OK)
    {
      set_db_error (core, rc, "Could not register a search function", error);
      goto fail;
    }
  core->insert_stmt = prepare (core, "INSERT INTO events (id, time, source, threat, severity, "
                                     "subject, action, detail) "
                                     "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)", &rc, error);
  if (core->insert_stmt == NULL)
    goto fail;

  /* Ids are never reused, even after retention removed the newest rows. */
  if (!query_int64 (core, "SELECT IFNULL(MAX(id), 0) FROM events", &max_id, &rc, error))
    goto fail;
  core->next_id = MAX (max_id, get_meta_int64 (core, "max-id")) + 1;
  g_debug ("opened %s, schema version %d, next id %" G_GINT64_FORMAT,
           core->path, MOAT_STORE_SCHEMA_VERSION, core->next_id);
  return OPEN_OK;

fail:
  g_clear_pointer (&check, sqlite3_finalize);
  close_db (core);
  return open_result_for (rc);
}

/* Moves the database and its -wal/-shm aside; returns the new path of the database. */
static char *
move_aside (const char *path, GError **error)
{
  static const char *const suffixes[] = { "-wal", "-shm" };
  g_autoptr(GDateTime) now = g_date_time_new_now_local ();
  g_autofree char *stamp = g_date_time_format (now, "%Y%m%d-%H%M%S");
  g_autofree char *base = g_strdup_printf ("%s.corrupt-%s", path, stamp);
  g_autofree char *target = g_strdup (base);
  GStatBuf st;

  for (guint n = 1; g_lstat (target, &st) == 0; n++)
    {
      g_free (target);
      target = g_strdup_printf ("%s-%u", base, n);
    }
  if (g_rename (path, target) != 0)
    {
      int saved_errno = errno;

      g_set_error (error, MOAT_ERROR, MOAT_ERROR_STORE,
                   "The event store %s is damaged or unreadable and could not be moved aside: %s",
                   path, g_strerror (saved_errno));
      return NULL;
    }
  for (guint i = 0; i < G_N_ELEMENTS (suffixes); i++)
    {
      g_autofree char *from = g_strconcat (path, suffixes[i], NULL);
      g_autofree char *to = g_strconcat (target, suffixes[i], NULL);

      if (g_lstat (from, &st) != 0)
        continue;
      /* A stale WAL must never be replayed into the fresh database. */
      if (g_rename (from, to) != 0 && g_unlink (from) != 0)
        {
          int saved_errno = errno;

          g_set_error (error, MOAT_ERROR, MOAT_ERROR_STORE,
                       "Could not move %s aside: %s", from, g_strerror (saved_errno));
          return NULL;
        }
    }
  return g_steal_pointer (&target);
}

static gboolean
open_db (StoreCore *core, GError **error)
{
  g_autoptr(GError) local_error = NULL;
  g_autofree char *dir = g_path_get_dirname (core->path);
  g_autofree char *moved = NULL;

  assert_store_thread (core);
  if (g_mkdir_with_parents (dir, 0700) != 0)
    {
      int saved_errno = errno;

      g_set_error (error, MOAT_ERROR,
                   is_disk_full_errno (saved_errno) ? MOAT_ERROR_DISK_FULL : MOAT_ERROR_STORE,
                   "Could not create the folder %s: %s", dir, g_strerror (saved_errno));
      return FALSE;
    }
  switch (try_open (core, &local_error))
    {
    case OPEN_OK:
      return TRUE;
    case OPEN_FAILED:
      g_propagate_error (error, g_steal_pointer (&local_error));
      return FALSE;
    case OPEN_CORRUPT:
    default:
      break;
    }

  moved = move_aside (core->path, error);
  if (moved == NULL)
    return FALSE;
  g_warning ("The event store %s could not be read (%s); moved it aside to %s and started a "
             "new one", core->path, local_error->message, moved);
  emit_on_owner (core, EMIT_RECOVERED, 0, moved, NULL);
  g_clear_error (&local_error);
  if (try_open (core, &local_error) != OPEN_OK)
    {
      g_propagate_prefixed_error (error, g_steal_pointer (&local_error),
                                  "Could not create a new event store: ");
      return FALSE;
    }
  return TRUE;
}

/* ---- writes ---- */

static gboolean
write_batch (StoreCore *core, GPtrArray *batch, GError **error)
{
  sqlite3_stmt *stmt = core->insert_stmt;
  gint64 first_id = core->next_id;

  assert_store_thread (core);
  if (!exec_sql (core, "BEGIN IMMEDIATE", NULL, error))
    return FALSE;
  for (guint i = 0; i < batch->len; i++)
    {
      MoatEvent *event = g_ptr_array_index (batch, i);
      int rc;

      sqlite3_bind_int64 (stmt, 1, first_id + i);
      sqlite3_bind_int64 (stmt, 2, event->time);
      sqlite3_bind_text (stmt, 3, moat_event_source_to_string (event->source), -1,
                         SQLITE_STATIC);
      sqlite3_bind_text (stmt, 4, event->threat, -1, SQLITE_STATIC);
      sqlite3_bind_int (stmt, 5, event->severity);
      sqlite3_bind_text (stmt, 6, event->subject, -1, SQLITE_STATIC);
      sqlite3_bind_text (stmt, 7, event->action, -1, SQLITE_STATIC);
      sqlite3_bind_text (stmt, 8, event->detail, -1, SQLITE_STATIC);
      rc = sqlite3_step (stmt);
      if (rc != SQLITE_DONE)
        {
          set_db_error (core, rc, "Could not write events", error);
          sqlite3_reset (stmt);
          sqlite3_clear_bindings (stmt);
          rollback (core);
          return FALSE;
        }
      sqlite3_reset (stmt);
    }
  sqlite3_clear_bindings (stmt);
  if (!exec_sql (core, "COMMIT", NULL, error))
    {
      rollback (core);
      return FALSE;
    }
  /* The store owns @id: "0 until the event is committed" (moat-event.h). */
  for (guint i = 0; i < batch->len; i++)
    ((MoatEvent *) g_ptr_array_index (batch, i))->id = first_id + i;
  core->next_id = first_id + batch->len;
  return TRUE;
}

static char *
waiting_message (gboolean disk_full, guint n_waiting, const char *reason)
{
  if (disk_full)
    return g_strdup_printf (ngettext ("The disk holding the event store is full; %u event is "
                                      "waiting to be written.",
                                      "The disk holding the event store is full; %u events are "
                                      "waiting to be written.", n_waiting), n_waiting);
  return g_strdup_printf (ngettext ("The event store cannot be written (%s); %u event is "
                                    "waiting to be written.",
                                    "The event store cannot be written (%s); %u events are "
                                    "waiting to be written.", n_waiting), reason, n_waiting);
}

static void
note_write_failed (StoreCore *core, const GError *error, guint n_waiting)
{
  gboolean disk_full = g_error_matches (error, MOAT_ERROR, MOAT_ERROR_DISK_FULL);
  MoatStoreState state = disk_full ? MOAT_STORE_STATE_DISK_FULL : MOAT_STORE_STATE_ERROR;
  g_autofree char *message = waiting_message (disk_full, n_waiting, error->message);
  gint64 interval;

  assert_store_thread (core);
  if (core->state != state)
    g_warning ("%s (%s); retrying", message, error->message);
  else
    g_debug ("write still failing: %s", error->message);
  set_state (core, state, message);
  g_mutex_lock (&core->mutex);
  interval = core->retry_interval_us;
  g_mutex_unlock (&core->mutex);
  core->retry_at = g_get_monotonic_time () + interval;
}

static void
note_write_ok (StoreCore *core)
{
  assert_store_thread (core);
  if (core->retry_at == 0 && core->state == MOAT_STORE_STATE_OK)
    return;
  core->retry_at = 0;
  g_message ("The event store %s is writable again", core->path);
  set_state (core, MOAT_STORE_STATE_OK, "");
}

/* Takes up to @max events from the queue and commits them in one transaction.
 * On failure they go back to the head of the queue. Returns the number
 * committed, or -1 with @error set. */
static gint64
commit_pending (StoreCore *core, guint max, GError **error)
{
  g_autoptr(GPtrArray) batch = NULL;
  g_autoptr(GError) local_error = NULL;
  MoatEvent *event;
  guint n_waiting = 0;
  gboolean ok;

  assert_store_thread (core);
  g_mutex_lock (&core->mutex);
  batch = g_ptr_array_new_full (MIN (max, core->pending.length),
                                (GDestroyNotify) moat_event_unref);
  while (batch->len < max && (event = g_queue_pop_head (&core->pending)) != NULL)
    g_ptr_array_add (batch, event);
  core->in_flight = batch->len;
  if (core->pending.length > 0)
    core->first_pending_time = g_get_monotonic_time ();
  g_mutex_unlock (&core->mutex);

  if (batch->len == 0)
    return 0;
  ok = write_batch (core, batch, &local_error);

  g_mutex_lock (&core->mutex);
  core->in_flight = 0;
  if (ok)
    {
      core->commit_count++;
    }
  else
    {
      /* back to the head, oldest first; then keep within the bound */
      g_ptr_array_set_free_func (batch, NULL);
      for (guint i = batch->len; i > 0; i--)
        g_queue_push_head (&core->pending, g_ptr_array_index (batch, i - 1));
      g_ptr_array_set_size (batch, 0);
      trim_pending_locked (core);
      n_waiting = core->pending.length;
    }
  g_mutex_unlock (&core->mutex);

  if (!ok)
    {
      note_write_failed (core, local_error, n_waiting);
      g_propagate_error (error, g_steal_pointer (&local_error));
      return -1;
    }
  note_write_ok (core);
  emit_on_owner (core, EMIT_EVENTS_COMMITTED, 0, NULL, batch);
  return batch->len;
}

/* ---- retention ---- */

/* Deletes in chunks of PRUNE_CHUNK rows, one transaction each, so the write lock is
 * never held for long; queued events are committed between chunks. */
static gboolean
delete_chunked (StoreCore *core, const char *sql, gint64 bound, guint64 budget,
                guint64 *removed, GError **error)
{
  g_autoptr(sqlite3_stmt) stmt = prepare (core, sql, NULL, error);

  if (stmt == NULL)
    return FALSE;
  for (;;)
    {
      guint64 chunk = MIN (budget, PRUNE_CHUNK);
      gboolean writable;
      int changes;
      int rc;

      if (chunk == 0)
        return TRUE;
      sqlite3_bind_int64 (stmt, 1, bound);
      sqlite3_bind_int64 (stmt, 2, (sqlite3_int64) chunk);
      rc = sqlite3_step (stmt);
      sqlite3_reset (stmt);
      if (rc != SQLITE_DONE)
        {
          set_db_error (core, rc, "Could not remove old events", error);
          return FALSE;
        }
      changes = sqlite3_changes (core->db);
      *removed += changes;
      budget -= changes;
      if ((guint64) changes < chunk)
        return TRUE;
      g_mutex_lock (&core->mutex);
      writable = core->retry_at == 0 && core->pending.length > 0;
      g_mutex_unlock (&core->mutex);
      if (writable && commit_pending (core, BATCH_MAX, NULL) < 0)
        g_debug ("could not commit between prune chunks");
    }
}

static gboolean
prune (StoreCore *core, guint64 *out_removed, GError **error)
{
  g_autofree char *now_text = g_strdup_printf ("%" G_GINT64_FORMAT, g_get_real_time ());
  g_autofree char *max_id_text = NULL;
  guint64 removed = 0;
  guint max_days;
  guint64 max_events;

  assert_store_thread (core);
  g_mutex_lock (&core->mutex);
  max_days = core->max_days;
  max_events = core->max_events;
  g_mutex_unlock (&core->mutex);

  /* Remember the highest id first, so that ids are not reused if every row goes. */
  max_id_text = g_strdup_printf ("%" G_GINT64_FORMAT, core->next_id - 1);
  if (!set_meta (core, "max-id", max_id_text, error))
    return FALSE;

  if (max_days > 0)
    {
      gint64 cutoff = g_get_real_time () - (gint64) max_days * G_TIME_SPAN_DAY;

      if (!delete_chunked (core, "DELETE FROM events WHERE id IN "
                                 "(SELECT id FROM events WHERE time < ?1 LIMIT ?2)",
                           cutoff, G_MAXUINT64, &removed, error))
        return FALSE;
    }
  if (max_events > 0)
    {
      gint64 n = 0;

      if (!query_int64 (core, "SELECT COUNT(*) FROM events", &n, NULL, error))
        return FALSE;
      /* the oldest rows by id go first; ?1 is bound but unused */
      if ((guint64) n > max_events &&
          !delete_chunked (core, "DELETE FROM events WHERE id IN "
                                 "(SELECT id FROM events ORDER BY id LIMIT ?2)",
                           0, (guint64) n - max_events, &removed, error))
        return FALSE;
    }
  if (!set_meta (core, "last-prune", now_text, error))
    return FALSE;
  if (removed > 0)
    g_info ("removed %" G_GUINT64_FORMAT " old events from the event store", removed);
  *out_removed = removed;
  return TRUE;
}

static void
run_scheduled_prune (StoreCore *core)
{
  g_autoptr(GError) error = NULL;
  guint64 removed = 0;

  assert_store_thread (core);
  core->next_prune = g_get_monotonic_time () + PRUNE_INTERVAL_US;
  if (!prune (core, &removed, &error))
    g_message ("Could not apply event retention: %s", error->message);
}

/* ---- reads ---- */

typedef struct {
  gboolean  is_text;
  gint64    number;
  char     *text;
} SqlArg;

static void
sql_arg_clear (gpointer data)
{
  SqlArg *arg = data;

  g_free (arg->text);
}

static void
add_int_arg (GArray *args, gint64 value)
{
  SqlArg arg = { FALSE, value, NULL };

  g_array_append_val (args, arg);
}

static void
add_text_arg (GArray *args, char *value)
{
  SqlArg arg = { TRUE, 0, value };

  g_array_append_val (args, arg);
}

static GArray *
sql_args_new (void)
{
  GArray *args = g_array_new (FALSE, TRUE, sizeof (SqlArg));

  g_array_set_clear_func (args, sql_arg_clear);
  return args;
}

static void
bind_args (sqlite3_stmt *stmt, GArray *args)
{
  for (guint i = 0; i < args->len; i++)
    {
      SqlArg *arg = &g_array_index (args, SqlArg, i);

      if (arg->is_text)
        sqlite3_bind_text (stmt, i + 1, arg->text, -1, SQLITE_STATIC);
      else
        sqlite3_bind_int64 (stmt, i + 1, arg->number);
    }
}

static gboolean
is_ascii (const char *text)
{
  for (const char *p = text; *p != '\0'; p++)
    if ((guchar) *p >= 0x80)
      return FALSE;
  return TRUE;
}

/* "%text%" with \, % and _ escaped for LIKE ... ESCAPE '\' */
static char *
like_pattern (const char *text)
{
  GString *pattern = g_string_new ("%");

  for (const char *p = text; *p != '\0'; p++)
    {
      if (*p == '\\' || *p == '%' || *p == '_')
        g_string_append_c (pattern, '\\');
      g_string_append_c (pattern, *p);
    }
  g_string_append_c (pattern, '%');
  return g_string_free (pattern, FALSE);
}

/* Appends " WHERE ..." for @filter to @sql. Values only ever go in as bound
 * parameters, never into the SQL text.
 *
 * @for_list: the rows are wanted in id order with a small LIMIT. Walking the
 * table backwards by id then beats the (threat, time) index, which would find
 * every match first and sort them all (50 ms for 25,000 of 100,000 rows, against
 * well under 1 ms; a rare threat costs one scan of the table). The "+" keeps
 * SQLite from using the index. Counts do use it. */
static void
append_where (GString *sql, GArray *args, const MoatEventFilter *filter, gboolean for_list)
{
  const char *threat_col = for_list ? "+threat" : "threat";
  const char *sep = " WHERE ";
#define COND(text) G_STMT_START { g_string_append (sql, sep); g_string_append (sql, text); \
                                  sep = " AND "; } G_STMT_END

  if (filter == NULL)
    return;
  if (filter->since > 0)
    {
      COND ("time >= ?");
      add_int_arg (args, filter->since);
    }
  if (filter->until > 0)
    {
      COND ("time < ?");
      add_int_arg (args, filter->until);
    }
  if (filter->threat != NULL && strcmp (filter->threat, "*") != 0)
    {
      gsize len = strlen (filter->threat);

      if (len >= 2 && g_str_has_suffix (filter->threat, ".*"))
        {
          /* "vector.*": the range ["vector.", "vector/") uses the (threat, time) index */
          char *low = g_strndup (filter->threat, len - 1);
          char *high = g_strndup (filter->threat, len - 1);

          high[len - 2] = '.' + 1;
          g_string_append_printf (sql, "%s%s >= ? AND %s < ?", sep, threat_col, threat_col);
          sep = " AND ";
          add_text_arg (args, low);
          add_text_arg (args, high);
        }
      else
        {
          g_string_append_printf (sql, "%s%s = ?", sep, threat_col);
          sep = " AND ";
          add_text_arg (args, g_strdup (filter->threat));
        }
    }
  if (filter->min_severity > MOAT_SEVERITY_INFO)
    {
      COND ("severity >= ?");
      add_int_arg (args, filter->min_severity);
    }
  if (filter->has_source)
    {
      COND ("source = ?");
      add_text_arg (args, g_strdup (moat_event_source_to_string (filter->source)));
    }
  if (filter->search != NULL && *filter->search != '\0')
    {
      if (is_ascii (filter->search))
        {
          COND ("(subject LIKE ? ESCAPE '\\' OR threat LIKE ? ESCAPE '\\' "
                "OR action LIKE ? ESCAPE '\\')");
          for (guint i = 0; i < 3; i++)
            add_text_arg (args, like_pattern (filter->search));
        }
      else
        {
          COND ("(moat_contains(subject, ?) OR moat_contains(threat, ?) "
                "OR moat_contains(action, ?))");
          for (guint i = 0; i < 3; i++)
            add_text_arg (args, g_utf8_casefold (filter->search, -1));
        }
    }
  if (filter->before_id > 0)
    {
      COND ("id < ?");
      add_int_arg (args, filter->before_id);
    }
  if (filter->after_id > 0)
    {
      COND ("id > ?");
      add_int_arg (args, filter->after_id);
    }
#undef COND
}

static MoatEvent *
event_from_row (sqlite3_stmt *stmt)
{
  MoatEvent *event;
  MoatEventSource source;
  gint64 severity = sqlite3_column_int64 (stmt, 4);

  if (!moat_event_source_from_string ((const char *) sqlite3_column_text (stmt, 2), &source))
    source = MOAT_EVENT_SOURCE_ENGINE;
  severity = CLAMP (severity, MOAT_SEVERITY_INFO, MOAT_SEVERITY_LAST - 1);
  event = moat_event_new (source,
                          (const char *) sqlite3_column_text (stmt, 3),
                          (MoatSeverity) severity,
                          (const char *) sqlite3_column_text (stmt, 5),
                          (const char *) sqlite3_column_text (stmt, 6),
                          (const char *) sqlite3_column_text (stmt, 7));
  event->id = sqlite3_column_int64 (stmt, 0);
  event->time = sqlite3_column_int64 (stmt, 1);
  return event;
}

static GPtrArray *
list_events (StoreCore *core, const MoatEventFilter *filter, guint64 offset, guint limit,
             GError **error)
{
  g_autoptr(GString) sql = g_string_new ("SELECT id, time, source, threat, severity, subject, "
                                         "action, detail FROM events");
  g_autoptr(GArray) args = sql_args_new ();
  g_autoptr(sqlite3_stmt) stmt = NULL;
  g_autoptr(GPtrArray) events = g_ptr_array_new_with_free_func ((GDestroyNotify) moat_event_unref);
  int rc;

  assert_store_thread (core);
  append_where (sql, args, filter, TRUE);
  g_string_append (sql, filter != NULL && filter->ascending ? " ORDER BY id ASC" :
                                                              " ORDER BY id DESC");
  g_string_append (sql, " LIMIT ? OFFSET ?");
  add_int_arg (args, limit);
  add_int_arg (args, (gint64) MIN (offset, (guint64) G_MAXINT64));
  stmt = prepare (core, sql->str, NULL, error);
  if (stmt == NULL)
    return NULL;
  bind_args (stmt, args);
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    g_ptr_array_add (events, event_from_row (stmt));
  if (rc != SQLITE_DONE)
    {
      set_db_error (core, rc, "Could not read events", error);
      return NULL;
    }
  return g_steal_pointer (&events);
}

static gboolean
count_events (StoreCore *core, const MoatEventFilter *filter, guint64 *out, GError **error)
{
  g_autoptr(GString) sql = g_string_new ("SELECT COUNT(*) FROM events");
  g_autoptr(GArray) args = sql_args_new ();
  g_autoptr(sqlite3_stmt) stmt = NULL;
  int rc;

  assert_store_thread (core);
  append_where (sql, args, filter, FALSE);
  stmt = prepare (core, sql->str, NULL, error);
  if (stmt == NULL)
    return FALSE;
  bind_args (stmt, args);
  rc = sqlite3_step (stmt);
  if (rc != SQLITE_ROW)
    {
      set_db_error (core, rc, "Could not count events", error);
      return FALSE;
    }
  *out = (guint64) sqlite3_column_int64 (stmt, 0);
  return TRUE;
}

static GHashTable *
category_counts (StoreCore *core, gint64 since, gint64 until, const char *action, GError **error)
{
  g_autoptr(GString) sql = g_string_new ("SELECT threat, COUNT(*) FROM events WHERE time >= ?");
  g_autoptr(GArray) args = sql_args_new ();
  g_autoptr(sqlite3_stmt) stmt = NULL;
  g_autoptr(GHashTable) counts = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  int rc;

  assert_store_thread (core);
  add_int_arg (args, since);
  if (until > 0)
    {
      g_string_append (sql, " AND time < ?");
      add_int_arg (args, until);
    }
  if (action != NULL && *action != '\0')
    {
      g_string_append (sql, " AND action = ?");
      add_text_arg (args, g_strdup (action));
    }
  g_string_append (sql, " GROUP BY threat");
  stmt = prepare (core, sql->str, NULL, error);
  if (stmt == NULL)
    return NULL;
  bind_args (stmt, args);
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      guint64 *count = g_new (guint64, 1);

      *count = (guint64) sqlite3_column_int64 (stmt, 1);
      g_hash_table_insert (counts, g_strdup ((const char *) sqlite3_column_text (stmt, 0)), count);
    }
  if (rc != SQLITE_DONE)
    {
      set_db_error (core, rc, "Could not count events by category", error);
      return NULL;
    }
  return g_steal_pointer (&counts);
}

/* ---- the store thread ---- */

/* The open failed for lack of space: the store goes on in memory and tries again. */
static void
note_open_failed (StoreCore *core, const GError *error)
{
  gint64 interval;

  assert_store_thread (core);
  if (!core->reopen)
    g_warning ("The event store %s cannot be opened because its disk is full (%s); "
               "keeping events in memory and retrying", core->path, error->message);
  else
    g_debug ("open still failing: %s", error->message);
  core->reopen = TRUE;
  set_state (core, MOAT_STORE_STATE_DISK_FULL,
             _("The disk holding the event store is full; Moat will start recording events "
               "when space is freed."));
  g_mutex_lock (&core->mutex);
  interval = core->retry_interval_us;
  g_mutex_unlock (&core->mutex);
  core->retry_at = g_get_monotonic_time () + interval;
}

/* Tries again to open a store whose first open found the disk full. On success
 * the caller commits what waits, which settles the state; with nothing waiting
 * the state is OK at once. */
static gboolean
reopen_db (StoreCore *core, GError **error)
{
  g_autoptr(GError) local_error = NULL;
  guint n_waiting;

  assert_store_thread (core);
  g_assert_true (core->reopen);
  if (!open_db (core, &local_error))
    {
      if (g_error_matches (local_error, MOAT_ERROR, MOAT_ERROR_DISK_FULL))
        {
          note_open_failed (core, local_error);
        }
      else
        {
          /* no longer the disk: the same as a failed open */
          g_warning ("%s", local_error->message);
          core->reopen = FALSE;
          core->retry_at = 0;
          set_state (core, MOAT_STORE_STATE_ERROR, local_error->message);
        }
      g_propagate_error (error, g_steal_pointer (&local_error));
      return FALSE;
    }
  g_message ("The event store %s is open now that its disk has room", core->path);
  core->reopen = FALSE;
  core->retry_at = 0;
  /* retention as after any open, once what waits is written */
  core->next_prune = g_get_monotonic_time ();
  g_mutex_lock (&core->mutex);
  n_waiting = core->pending.length;
  g_mutex_unlock (&core->mutex);
  if (n_waiting == 0)
    note_write_ok (core);
  return TRUE;
}

static void
handle_reopen (StoreCore *core)
{
  if (reopen_db (core, NULL))
    commit_pending (core, BATCH_MAX, NULL);
}

static void
handle_open (StoreCore *core, Request *req)
{
  g_autoptr(GError) error = NULL;

  if (!open_db (core, &error))
    {
      if (g_error_matches (error, MOAT_ERROR, MOAT_ERROR_DISK_FULL))
        {
          /* like a full disk while writing: the open succeeds, without a file yet */
          note_open_failed (core, error);
          finish_request (core, req);
          return;
        }
      g_warning ("%s", error->message);
      set_state (core, MOAT_STORE_STATE_ERROR, error->message);
      req->error = g_steal_pointer (&error);
      finish_request (core, req);
      return;
    }
  set_state (core, MOAT_STORE_STATE_OK, "");
  finish_request (core, req);
  run_scheduled_prune (core);
}

static void
handle_flush (StoreCore *core, Request *req)
{
  guint n;
  guint done = 0;

  g_mutex_lock (&core->mutex);
  n = core->pending.length;
  g_mutex_unlock (&core->mutex);
  while (done < n)
    {
      gint64 committed = commit_pending (core, MIN (n - done, BATCH_MAX), &req->error);

      if (committed <= 0)
        break;
      done += committed;
    }
  finish_request (core, req);
}

static void
handle_request (StoreCore *core, Request *req)
{
  assert_store_thread (core);
  if (req->kind == REQUEST_OPEN)
    {
      handle_open (core, req);
      return;
    }
  if (g_cancellable_is_cancelled (g_task_get_cancellable (req->task)))
    {
      /* GTask returns G_IO_ERROR_CANCELLED for us on the owner context */
      finish_request (core, req);
      return;
    }
  /* a flush is the caller asking to write now: try the open now too */
  if (core->db == NULL && core->reopen && req->kind == REQUEST_FLUSH)
    reopen_db (core, NULL);
  if (core->db == NULL)
    {
      if (core->reopen)
        req->error = g_error_new (MOAT_ERROR, MOAT_ERROR_DISK_FULL,
                                  "The disk holding the event store %s is full; the store "
                                  "opens when space is freed", core->path);
      else
        req->error = g_error_new_literal (MOAT_ERROR, MOAT_ERROR_STORE,
                                          "The event store is not open");
      finish_request (core, req);
      return;
    }
  switch (req->kind)
    {
    case REQUEST_FLUSH:
      handle_flush (core, req);
      return;
    case REQUEST_LIST:
      req->result = list_events (core, req->filter, req->offset, req->limit, &req->error);
      req->result_free = (GDestroyNotify) g_ptr_array_unref;
      break;
    case REQUEST_COUNT:
      count_events (core, req->filter, &req->count, &req->error);
      break;
    case REQUEST_CATEGORY_COUNTS:
      req->result = category_counts (core, req->since, req->until, req->action, &req->error);
      req->result_free = (GDestroyNotify) g_hash_table_unref;
      break;
    case REQUEST_PRUNE:
      core->next_prune = g_get_monotonic_time () + PRUNE_INTERVAL_US;
      prune (core, &req->count, &req->error);
      break;
    case REQUEST_OPEN:
    default:
      g_assert_not_reached ();
    }
  finish_request (core, req);
}

typedef enum {
  WORK_REQUEST,
  WORK_REOPEN,
  WORK_COMMIT,
  WORK_PRUNE,
  WORK_STOP,
} Work;

/* Waits for the next thing to do; called and returns with core->mutex held. */
static Work
wait_for_work_locked (StoreCore *core, Request **out_req)
{
  for (;;)
    {
      gint64 now = g_get_monotonic_time ();
      gint64 deadline = G_MAXINT64;

      *out_req = g_queue_pop_head (&core->requests);
      if (*out_req != NULL)
        return WORK_REQUEST;
      if (core->stopping)
        return WORK_STOP;
      if (core->db != NULL)
        {
          if (core->pending.length > 0 && core->retry_at > 0)
            {
              /* a write failed: wait for the retry time, not for the batch */
              if (now >= core->retry_at)
                return WORK_COMMIT;
              deadline = core->retry_at;
            }
          else if (core->pending.length > 0)
            {
              gint64 due = core->first_pending_time + BATCH_DELAY_US;

              if (core->pending.length >= BATCH_MAX || now >= due)
                return WORK_COMMIT;
              deadline = due;
            }
          if (now >= core->next_prune)
            return WORK_PRUNE;
          deadline = MIN (deadline, core->next_prune);
        }
      else if (core->reopen)
        {
          if (now >= core->retry_at)
            return WORK_REOPEN;
          deadline = core->retry_at;
        }
      if (deadline == G_MAXINT64)
        g_cond_wait (&core->cond, &core->mutex);
      else
        g_cond_wait_until (&core->cond, &core->mutex, deadline);
    }
}

static void
final_commit (StoreCore *core)
{
  g_autoptr(GError) error = NULL;
  guint n;

  g_mutex_lock (&core->mutex);
  n = core->pending.length;
  g_mutex_unlock (&core->mutex);
  /* one last try for what waited for room on the disk */
  if (core->db == NULL && core->reopen && n > 0)
    reopen_db (core, NULL);
  if (core->db == NULL || n == 0)
    {
      if (n > 0)
        g_warning ("%u events could not be written: the event store is not open", n);
      return;
    }
  if (commit_pending (core, G_MAXUINT, &error) < 0)
    g_warning ("%u events could not be written before closing: %s", n, error->message);
}

static gpointer
store_thread_func (gpointer data)
{
  StoreCore *core = data;

  g_private_set (&store_thread_core, core);
  for (;;)
    {
      Request *req = NULL;
      Work work;

      g_mutex_lock (&core->mutex);
      work = wait_for_work_locked (core, &req);
      g_mutex_unlock (&core->mutex);

      if (work == WORK_STOP)
        break;
      switch (work)
        {
        case WORK_REQUEST:
          handle_request (core, req);
          break;
        case WORK_REOPEN:
          handle_reopen (core);
          break;
        case WORK_COMMIT:
          commit_pending (core, BATCH_MAX, NULL);
          break;
        case WORK_PRUNE:
          run_scheduled_prune (core);
          break;
        case WORK_STOP:
        default:
          g_assert_not_reached ();
        }
    }
  final_commit (core);
  close_db (core);
  g_private_set (&store_thread_core, NULL);
  store_core_unref (core);
  return NULL;
}

/* ---- owner side ---- */

static void
push_request (MoatStore *self, Request *req)
{
  StoreCore *core = self->core;

  if (self->closed || self->thread == NULL)
    {
      req->error = g_error_new_literal (MOAT_ERROR, MOAT_ERROR_STORE,
                                        self->closed ? "The event store is closed" :
                                                       "The event store is not open");
      g_task_return_error (req->task, g_steal_pointer (&req->error));
      request_free (req);
      return;
    }
  g_mutex_lock (&core->mutex);
  g_queue_push_tail (&core->requests, req);
  g_cond_signal (&core->cond);
  g_mutex_unlock (&core->mutex);
}

static void
moat_store_constructed (GObject *object)
{
  MoatStore *self = MOAT_STORE (object);

  G_OBJECT_CLASS (moat_store_parent_class)->constructed (object);
  g_assert_nonnull (self->core);
}

static void
moat_store_dispose (GObject *object)
{
  MoatStore *self = MOAT_STORE (object);

  moat_store_close (self);
  G_OBJECT_CLASS (moat_store_parent_class)->dispose (object);
}

static void
moat_store_finalize (GObject *object)
{
  MoatStore *self = MOAT_STORE (object);

  g_clear_pointer (&self->core, store_core_unref);
  g_free (self->message);
  G_OBJECT_CLASS (moat_store_parent_class)->finalize (object);
}

static void
moat_store_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  MoatStore *self = MOAT_STORE (object);

  switch (prop_id)
    {
    case PROP_PATH:
      g_value_set_string (value, moat_store_get_path (self));
      break;
    case PROP_STATE:
      g_value_set_int (value, self->state);
      break;
    case PROP_MESSAGE:
      g_value_set_string (value, self->message);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
moat_store_set_property (GObject *object, guint prop_id, const GValue *value, GParamSpec *pspec)
{
  MoatStore *self = MOAT_STORE (object);

  switch (prop_id)
    {
    case PROP_PATH:
      g_assert_null (self->core);
      self->core = store_core_new (self, g_value_get_string (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
moat_store_class_init (MoatStoreClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->constructed = moat_store_constructed;
  object_class->dispose = moat_store_dispose;
  object_class->finalize = moat_store_finalize;
  object_class->get_property = moat_store_get_property;
  object_class->set_property = moat_store_set_property;

  properties[PROP_PATH] =
    g_param_spec_string ("path", NULL, NULL, NULL,
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);
  properties[PROP_STATE] =
    g_param_spec_int ("state", NULL, NULL, 0, MOAT_STORE_STATE_LAST - 1,
                      MOAT_STORE_STATE_OPENING,
                      G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_MESSAGE] =
    g_param_spec_string ("message", NULL, NULL, "",
                         G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  signals[SIGNAL_EVENTS_COMMITTED] =
    g_signal_new ("events-committed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL,
                  G_TYPE_NONE, 1, G_TYPE_PTR_ARRAY | G_SIGNAL_TYPE_STATIC_SCOPE);
  signals[SIGNAL_RECOVERED] =
    g_signal_new ("recovered", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL,
                  G_TYPE_NONE, 1, G_TYPE_STRING | G_SIGNAL_TYPE_STATIC_SCOPE);
}

static void
moat_store_init (MoatStore *self)
{
  self->state = MOAT_STORE_STATE_OPENING;
  self->message = g_strdup ("");
}

/**
 * moat_store_new:
 * @path: the database file; its folder is created (mode 0700) when it is opened
 *
 * Creates a store whose owner context is the thread-default main context of
 * the calling thread. Nothing touches the disk until moat_store_open_async().
 */
MoatStore *
moat_store_new (const char *path)
{
  g_return_val_if_fail (path != NULL && *path != '\0', NULL);
  return g_object_new (MOAT_TYPE_STORE, "path", path, NULL);
}

const char *
moat_store_get_path (MoatStore *self)
{
  g_return_val_if_fail (MOAT_IS_STORE (self), NULL);
  return self->core->path;
}

MoatStoreState
moat_store_get_state (MoatStore *self)
{
  g_return_val_if_fail (MOAT_IS_STORE (self), MOAT_STORE_STATE_ERROR);
  return self->state;
}

const char *
moat_store_get_message (MoatStore *self)
{
  g_return_val_if_fail (MOAT_IS_STORE (self), NULL);
  return self->message;
}

guint64
moat_store_get_dropped_count (MoatStore *self)
{
  guint64 dropped;

  g_return_val_if_fail (MOAT_IS_STORE (self), 0);
  g_mutex_lock (&self->core->mutex);
  dropped = self->core->dropped;
  g_mutex_unlock (&self->core->mutex);
  return dropped;
}

void
moat_store_open_async (MoatStore           *self,
                       GCancellable        *cancellable,
                       GAsyncReadyCallback  callback,
                       gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;

  g_return_if_fail (MOAT_IS_STORE (self));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, moat_store_open_async);
  if (self->open_started || self->closed)
    {
      g_task_return_new_error (task, MOAT_ERROR, MOAT_ERROR_STORE,
                               self->closed ? "The event store is closed" :
                                              "The event store is already open");
      return;
    }
  self->open_started = TRUE;
  self->thread = g_thread_new ("moat-store", store_thread_func, store_core_ref (self->core));
  push_request (self, request_new (REQUEST_OPEN, g_steal_pointer (&task)));
}

gboolean
moat_store_open_finish (MoatStore *self, GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}

/**
 * moat_store_set_retention:
 * @max_days: keep events at most this many days, or 0 for no limit
 * @max_events: keep at most this many events, or 0 for no limit
 *
 * Takes effect at the next prune (after open, every 10 minutes, or
 * moat_store_prune_async()). Thread-safe.
 */
void
moat_store_set_retention (MoatStore *self, guint max_days, guint64 max_events)
{
  g_return_if_fail (MOAT_IS_STORE (self));

  g_mutex_lock (&self->core->mutex);
  self->core->max_days = max_days;
  self->core->max_events = max_events;
  g_mutex_unlock (&self->core->mutex);
}

/**
 * moat_store_add_event:
 *
 * Thread-safe; takes only the store's mutex. Past MOAT_STORE_PENDING_MAX
 * uncommitted events the oldest are dropped and counted.
 */
void
moat_store_add_event (MoatStore *self, MoatEvent *event)
{
  StoreCore *core;

  g_return_if_fail (MOAT_IS_STORE (self));
  g_return_if_fail (event != NULL);
  g_return_if_fail ((guint) event->source < MOAT_EVENT_SOURCE_LAST);
  g_return_if_fail ((guint) event->severity < MOAT_SEVERITY_LAST);

  core = self->core;
  g_mutex_lock (&core->mutex);
  if (core->stopping)
    {
      core->dropped++;
      g_mutex_unlock (&core->mutex);
      g_debug ("event added after the store was closed; dropped");
      return;
    }
  g_queue_push_tail (&core->pending, moat_event_ref (event));
  trim_pending_locked (core);
  if (core->pending.length == 1)
    {
      core->first_pending_time = g_get_monotonic_time ();
      g_cond_signal (&core->cond);
    }
  else if (core->pending.length == BATCH_MAX)
    {
      g_cond_signal (&core->cond);
    }
  g_mutex_unlock (&core->mutex);
}

void
moat_store_flush_async (MoatStore           *self,
                        GCancellable        *cancellable,
                        GAsyncReadyCallback  callback,
                        gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;

  g_return_if_fail (MOAT_IS_STORE (self));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, moat_store_flush_async);
  push_request (self, request_new (REQUEST_FLUSH, g_steal_pointer (&task)));
}

gboolean
moat_store_flush_finish (MoatStore *self, GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}

void
moat_store_list_events_async (MoatStore             *self,
                              const MoatEventFilter *filter,
                              guint64                offset,
                              guint                  limit,
                              GCancellable          *cancellable,
                              GAsyncReadyCallback    callback,
                              gpointer               user_data)
{
  g_autoptr(GTask) task = NULL;
  Request *req;

  g_return_if_fail (MOAT_IS_STORE (self));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, moat_store_list_events_async);
  if (limit < 1 || limit > LIST_LIMIT_MAX)
    {
      g_task_return_new_error (task, MOAT_ERROR, MOAT_ERROR_INVALID_ARGUMENT,
                               "The limit must be between 1 and %d, not %u",
                               LIST_LIMIT_MAX, limit);
      return;
    }
  req = request_new (REQUEST_LIST, g_steal_pointer (&task));
  req->filter = filter != NULL ? moat_event_filter_copy (filter) : NULL;
  req->offset = offset;
  req->limit = limit;
  push_request (self, req);
}

GPtrArray *
moat_store_list_events_finish (MoatStore *self, GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}

void
moat_store_count_events_async (MoatStore             *self,
                               const MoatEventFilter *filter,
                               GCancellable          *cancellable,
                               GAsyncReadyCallback    callback,
                               gpointer               user_data)
{
  g_autoptr(GTask) task = NULL;
  Request *req;

  g_return_if_fail (MOAT_IS_STORE (self));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, moat_store_count_events_async);
  req = request_new (REQUEST_COUNT, g_steal_pointer (&task));
  req->filter = filter != NULL ? moat_event_filter_copy (filter) : NULL;
  push_request (self, req);
}

static gboolean
propagate_count (GAsyncResult *result, guint64 *out_count, GError **error)
{
  g_autofree guint64 *count = g_task_propagate_pointer (G_TASK (result), error);

  if (count == NULL)
    return FALSE;
  if (out_count != NULL)
    *out_count = *count;
  return TRUE;
}

gboolean
moat_store_count_events_finish (MoatStore     *self,
                                GAsyncResult  *result,
                                guint64       *out_count,
                                GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  return propagate_count (result, out_count, error);
}

void
moat_store_category_counts_async (MoatStore          *self,
                                  gint64              since,
                                  gint64              until,
                                  const char         *action,
                                  GCancellable       *cancellable,
                                  GAsyncReadyCallback callback,
                                  gpointer            user_data)
{
  g_autoptr(GTask) task = NULL;
  Request *req;

  g_return_if_fail (MOAT_IS_STORE (self));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, moat_store_category_counts_async);
  if (since < 0 || until < 0 || (until > 0 && until < since))
    {
      g_task_return_new_error (task, MOAT_ERROR, MOAT_ERROR_INVALID_ARGUMENT,
                               "The time window must not be negative or reversed");
      return;
    }
  req = request_new (REQUEST_CATEGORY_COUNTS, g_steal_pointer (&task));
  req->since = since;
  req->until = until;
  req->action = g_strdup (action);
  push_request (self, req);
}

GHashTable *
moat_store_category_counts_finish (MoatStore *self, GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}

void
moat_store_prune_async (MoatStore           *self,
                        GCancellable        *cancellable,
                        GAsyncReadyCallback  callback,
                        gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;

  g_return_if_fail (MOAT_IS_STORE (self));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, moat_store_prune_async);
  push_request (self, request_new (REQUEST_PRUNE, g_steal_pointer (&task)));
}

gboolean
moat_store_prune_finish (MoatStore     *self,
                         GAsyncResult  *result,
                         guint64       *out_removed,
                         GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  return propagate_count (result, out_removed, error);
}

/**
 * moat_store_close:
 *
 * Commits what is queued in one last transaction and joins the store thread.
 * Requests already queued are answered first. Signals and results for them
 * arrive on the owner context at its next iteration. Idempotent.
 */
void
moat_store_close (MoatStore *self)
{
  StoreCore *core;

  g_return_if_fail (MOAT_IS_STORE (self));

  core = self->core;
  if (self->closed)
    return;
  self->closed = TRUE;
  g_mutex_lock (&core->mutex);
  core->stopping = TRUE;
  g_cond_signal (&core->cond);
  g_mutex_unlock (&core->mutex);
  if (self->thread != NULL)
    {
      g_assert_true (g_private_get (&store_thread_core) != core);
      g_thread_join (g_steal_pointer (&self->thread));
    }
}

/* ---- private API for tests ---- */

guint64
moat_store_get_commit_count (MoatStore *self)
{
  guint64 n;

  g_return_val_if_fail (MOAT_IS_STORE (self), 0);
  g_mutex_lock (&self->core->mutex);
  n = self->core->commit_count;
  g_mutex_unlock (&self->core->mutex);
  return n;
}

guint
moat_store_get_pending_count (MoatStore *self)
{
  guint n;

  g_return_val_if_fail (MOAT_IS_STORE (self), 0);
  g_mutex_lock (&self->core->mutex);
  n = self->core->pending.length + self->core->in_flight;
  g_mutex_unlock (&self->core->mutex);
  return n;
}

void
moat_store_set_retry_interval (MoatStore *self, guint msec)
{
  g_return_if_fail (MOAT_IS_STORE (self));
  g_mutex_lock (&self->core->mutex);
  self->core->retry_interval_us = (gint64) msec * G_TIME_SPAN_MILLISECOND;
  g_mutex_unlock (&self->core->mutex);
}

void
moat_store_set_pending_max (MoatStore *self, guint max)
{
  g_return_if_fail (MOAT_IS_STORE (self));
  g_mutex_lock (&self->core->mutex);
  self->core->pending_max = MIN (max, MOAT_STORE_PENDING_MAX);
  g_mutex_unlock (&self->core->mutex);
}
