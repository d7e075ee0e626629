/* SPDX-License-Identifier: GPL-3.0-or-later
 * Copyright 2026 The Moat developers
 */
#pragma once

#include <gio/gio.h>

#include "moat-health-item.h"

G_BEGIN_DECLS

typedef struct _MoatEngine MoatEngine;

/* The whole setup is checked this often, and soon after moatd starts. */
#define MOAT_HEALTH_INTERVAL_S (6 * 60 * 60)
#define MOAT_HEALTH_FIRST_CHECK_S 10

#define MOAT_TYPE_HEALTH_MANAGER (moat_health_manager_get_type ())
G_DECLARE_FINAL_TYPE (MoatHealthManager, moat_health_manager, MOAT, HEALTH_MANAGER, GObject)

/*
 * MoatHealthManager: checks that Moat's own protections can work (the
 * filter in effect and filtering, the lists, the policy's VPN, moatd
 * enabled at login, notifications, the store and its disk), this computer
 * (src/health/moat-computer-health.c) and each phone (from its posture),
 * keeps the latest result of each, derives the health level, records
 * problems found and fixed as health events, and fixes what it safely can.
 *
 * Properties: "level" (guint 0..4), "summary" (string).
 * Signals: ::changed: a result changed.
 */
MoatHealthManager *moat_health_manager_new        (MoatEngine          *engine);
void               moat_health_manager_start      (MoatHealthManager   *self,
                                                   gboolean             automatic);
void               moat_health_manager_stop       (MoatHealthManager   *self);
GPtrArray         *moat_health_manager_get_items  (MoatHealthManager   *self);
guint              moat_health_manager_get_level  (MoatHealthManager   *self);
const char        *moat_health_manager_get_summary (MoatHealthManager  *self);

void               moat_health_manager_check_async  (MoatHealthManager   *self,
                                                     GCancellable        *cancellable,
                                                     GAsyncReadyCallback  callback,
                                                     gpointer             user_data);
gboolean           moat_health_manager_check_finish (MoatHealthManager   *self,
                                                     GAsyncResult        *result,
                                                     GError             **error);

void               moat_health_manager_fix_async  (MoatHealthManager   *self,
                                                   const char          *id,
                                                   const char          *subject,
                                                   GCancellable        *cancellable,
                                                   GAsyncReadyCallback  callback,
                                                   gpointer             user_data);
char              *moat_health_manager_fix_finish (MoatHealthManager   *self,
                                                   GAsyncResult        *result,
                                                   GError             **error);

gboolean           moat_health_manager_snooze     (MoatHealthManager   *self,
                                                   const char          *id,
                                                   const char          *subject,
                                                   gint64               until,
                                                   GError             **error);

/* The level and its sentence for a set of items (for tests and reports). */
guint              moat_health_compute_level      (GPtrArray           *items,
                                                   gboolean             protecting,
                                                   char               **out_summary);

G_END_DECLS
