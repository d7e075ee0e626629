/* SPDX-License-Identifier: GPL-3.0-or-later
 * Copyright 2026 The Moat developers
 */
#pragma once

#include <gio/gio.h>

#include "moat-enums.h"
#include "moat-event.h"

G_BEGIN_DECLS

/* The newest schema; PRAGMA user_version of a current database. */
#define MOAT_STORE_SCHEMA_VERSION 2

#define MOAT_TYPE_STORE (moat_store_get_type ())
G_DECLARE_FINAL_TYPE (MoatStore, moat_store, MOAT, STORE, GObject)

/*
 * MoatStore: the SQLite event store.
 *
 * One database file, one connection, one store thread. Every SQLite call runs
 * on the store thread; the public API is called from the thread that created the
 * store (its "owner" main context) and never blocks it. Results come back as
 * GTask completions and signals on the owner context.
 *
 * Writes: moat_store_add_event() only queues. The store thread commits queued
 * events in batched transactions (up to 2000 events or 100 ms, whichever comes
 * first), assigns ids, and then emits ::events-committed on the owner context.
 * Reads (list, count, category counts) see committed events only, so an event a
 * client has seen is on disk in the WAL and survives kill -9.
 *
 * Failures never lose committed data and never stop the caller:
 *  - corrupt/unreadable file at open: moved aside to "<path>.corrupt-<YYYYmmdd-HHMMSS>",
 *    a fresh database is created, ::recovered is emitted with the moved-aside path;
 *  - SQLITE_FULL / ENOSPC / EFBIG while writing: the batch is rolled back and kept in
 *    memory (bounded, oldest dropped past MOAT_STORE_PENDING_MAX with a count),
 *    :state becomes DISK_FULL with a clear :message, writes are retried every few
 *    seconds and :state returns to OK when they succeed;
 *  - a full disk at open (the file, its WAL or a migration cannot be written): the
 *    open still completes without error, :state is DISK_FULL, events are kept in
 *    memory as above, the open is retried every few seconds (and by a flush), and
 *    reads fail with MOAT_ERROR_DISK_FULL until it succeeds. A failed migration
 *    leaves the old file as it was; only a corrupt file is moved aside.
 *
 * Properties: "state" (MoatStoreState, as int), "message" (string, "" when OK), "path".
 * Signals, emitted on the owner context:
 *   ::events-committed (GPtrArray *events): MoatEvents just committed, ids set, oldest first
 *   ::recovered (const char *moved_aside_path): a corrupt database was moved aside at open
 */

#define MOAT_STORE_PENDING_MAX 100000

MoatStore      *moat_store_new               (const char          *path);
const char     *moat_store_get_path          (MoatStore           *self);
MoatStoreState  moat_store_get_state         (MoatStore           *self);
const char     *moat_store_get_message       (MoatStore           *self);
guint64         moat_store_get_dropped_count (MoatStore           *self);

/* Opens (creates, migrates, recovers) on the store thread. Fails only when the
 * store cannot be used at all; a full disk completes it with :state DISK_FULL. */
void            moat_store_open_async        (MoatStore           *self,
                                              GCancellable        *cancellable,
                                              GAsyncReadyCallback  callback,
                                              gpointer             user_data);
gboolean        moat_store_open_finish       (MoatStore           *self,
                                              GAsyncResult        *result,
                                              GError             **error);

void            moat_store_set_retention     (MoatStore           *self,
                                              guint                max_days,
                                              guint64              max_events);

/* Queues an event (takes a reference). Never blocks, never fails: invalid events
 * are refused by the caller with moat_event_validate() first. */
void            moat_store_add_event         (MoatStore           *self,
                                              MoatEvent           *event);

/* Completes when everything queued before the call is committed, or failed. */
void            moat_store_flush_async       (MoatStore           *self,
                                              GCancellable        *cancellable,
                                              GAsyncReadyCallback  callback,
                                              gpointer             user_data);
gboolean        moat_store_flush_finish      (MoatStore           *self,
                                              GAsyncResult        *result,
                                              GError             **error);

/* Returns (transfer container) GPtrArray of MoatEvent. @limit is 1..1000. */
void            moat_store_list_events_async (MoatStore             *self,
                                              const MoatEventFilter *filter,
                                              guint64                offset,
                                              guint                  limit,
                                              GCancellable          *cancellable,
                                              GAsyncReadyCallback    callback,
                                              gpointer               user_data);
GPtrArray      *moat_store_list_events_finish (MoatStore          *self,
                                               GAsyncResult       *result,
                                               GError            **error);

void            moat_store_count_events_async (MoatStore             *self,
                                               const MoatEventFilter *filter,
                                               GCancellable          *cancellable,
                                               GAsyncReadyCallback    callback,
                                               gpointer               user_data);
gboolean        moat_store_count_events_finish (MoatStore          *self,
                                                GAsyncResult       *result,
                                                guint64            *out_count,
                                                GError            **error);

/* Returns (transfer full) GHashTable of threat id (char *) to guint64 * count
 * for events with since <= time < until (until 0: no upper bound), restricted
 * to @action when it is non-NULL and non-empty. */
void            moat_store_category_counts_async (MoatStore          *self,
                                                  gint64              since,
                                                  gint64              until,
                                                  const char         *action,
                                                  GCancellable       *cancellable,
                                                  GAsyncReadyCallback callback,
                                                  gpointer            user_data);
GHashTable     *moat_store_category_counts_finish (MoatStore         *self,
                                                   GAsyncResult      *result,
                                                   GError           **error);

/* Runs retention now on the store thread (it also runs after open and every 10 minutes). */
void            moat_store_prune_async       (MoatStore           *self,
                                              GCancellable        *cancellable,
                                              GAsyncReadyCallback  callback,
                                              gpointer             user_data);
gboolean        moat_store_prune_finish      (MoatStore           *self,
                                              GAsyncResult        *result,
                                              guint64             *out_removed,
                                              GError             **error);

/* Flushes what it can and stops the store thread. Blocks only for the final
 * commit; call it at shutdown, after the main loop has stopped. Idempotent. */
void            moat_store_close             (MoatStore           *self);

G_END_DECLS
