/* SPDX-License-Identifier: GPL-3.0-or-later
 * Copyright 2026 The Moat developers
 */
#pragma once

#include <gio/gio.h>

#include "moat-engine.h"

G_BEGIN_DECLS

/* How many calls one D-Bus client may have in flight at once. */
#define MOAT_DAEMON_MAX_CALLS_PER_SENDER 16
/* At most this many events in one Testing.AddEvents call. */
#define MOAT_DAEMON_MAX_ADD_EVENTS 100000

#define MOAT_TYPE_DAEMON (moat_daemon_get_type ())
G_DECLARE_FINAL_TYPE (MoatDaemon, moat_daemon, MOAT, DAEMON, GObject)

/*
 * MoatDaemon: the D-Bus face of a MoatEngine. Thin: it checks arguments,
 * translates calls to the engine and completes them asynchronously.
 */

MoatDaemon *moat_daemon_new      (MoatEngine       *engine);
gboolean    moat_daemon_export   (MoatDaemon       *self,
                                  GDBusConnection  *connection,
                                  GError          **error);
void        moat_daemon_unexport (MoatDaemon       *self);

G_END_DECLS
