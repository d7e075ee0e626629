/* SPDX-License-Identifier: GPL-3.0-or-later
 * Copyright 2026 The Moat developers
 */
#pragma once

#include "moat-store.h"

G_BEGIN_DECLS

/* Internals for tests and benchmarks; not for the engine. */

/* Number of write transactions that committed events so far. */
guint64  moat_store_get_commit_count   (MoatStore *self);

/* Events queued but not yet committed (including a batch being written). */
guint    moat_store_get_pending_count  (MoatStore *self);

/* How long the store thread waits before retrying a failed write (default 5000 ms). */
void     moat_store_set_retry_interval (MoatStore *self,
                                        guint      msec);

/* Lowers the bound on uncommitted events (default MOAT_STORE_PENDING_MAX). */
void     moat_store_set_pending_max    (MoatStore *self,
                                        guint      max);

G_END_DECLS
