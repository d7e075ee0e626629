/* SPDX-License-Identifier: GPL-3.0-or-later
 * Copyright 2026 The Moat developers
 */
#pragma once

#include <gio/gio.h>
#include <gio/gunixfdlist.h>

#include "moat-enums.h"
#include "moat-error.h"
#include "moat-event.h"

G_BEGIN_DECLS

/*
 * MoatClient: the one way the GUI and the CLI talk to moatd.
 *
 * Wraps the gdbus-codegen proxy of io.github.moatproject.Moat1. Everything is
 * async; nothing blocks the caller's main loop. Errors are always MOAT_ERROR
 * (remote MOAT_ERRORs keep their code; bus errors such as ServiceUnknown become
 * MOAT_ERROR_ENGINE_UNREACHABLE).
 *
 * Properties (all read-only, notify:: on change): "engine-running" (moatd owns
 * its name), "version", "protection-state", "protection-summary", "risk-level",
 * "proxy-address", "store-state", "store-message", "start-time". While the engine
 * is not running the getters return the "unknown" values: NULL strings,
 * MOAT_PROTECTION_STATE_UNPROTECTED, MOAT_RISK_LEVEL_NONE, MOAT_STORE_STATE_OPENING.
 *
 * Signal ::events-added (GPtrArray *events): MoatEvents from EventsAdded, oldest first.
 */

typedef enum {
  MOAT_CLIENT_FLAGS_NONE = 0,
  /* Do not let D-Bus activation start moatd (the GUI asks the user first). */
  MOAT_CLIENT_FLAGS_NO_AUTO_START = 1 << 0,
} MoatClientFlags;

#define MOAT_TYPE_CLIENT (moat_client_get_type ())
G_DECLARE_FINAL_TYPE (MoatClient, moat_client, MOAT, CLIENT, GObject)

/* Connects to the session bus (or $MOAT_DBUS_ADDRESS if set). Succeeds even if
 * moatd is not running (see engine-running); fails only without a bus. */
void                moat_client_new_async        (MoatClientFlags      flags,
                                                  GCancellable        *cancellable,
                                                  GAsyncReadyCallback  callback,
                                                  gpointer             user_data);
MoatClient         *moat_client_new_finish       (GAsyncResult        *result,
                                                  GError             **error);

gboolean            moat_client_get_engine_running     (MoatClient *self);
const char         *moat_client_get_version            (MoatClient *self);
MoatProtectionState moat_client_get_protection_state   (MoatClient *self);
const char         *moat_client_get_protection_summary (MoatClient *self);
MoatRiskLevel       moat_client_get_risk_level         (MoatClient *self);
const char         *moat_client_get_proxy_address      (MoatClient *self);
MoatStoreState      moat_client_get_store_state        (MoatClient *self);
const char         *moat_client_get_store_message      (MoatClient *self);
gint64              moat_client_get_start_time         (MoatClient *self);

/* Starts moatd through D-Bus activation (StartServiceByName) and completes when it
 * owns its name. */
void                moat_client_start_engine_async  (MoatClient          *self,
                                                     GCancellable        *cancellable,
                                                     GAsyncReadyCallback  callback,
                                                     gpointer             user_data);
gboolean            moat_client_start_engine_finish (MoatClient          *self,
                                                     GAsyncResult        *result,
                                                     GError             **error);

/* Returns (transfer container) GPtrArray of MoatEvent. @filter may be NULL. */
void                moat_client_list_events_async  (MoatClient            *self,
                                                    const MoatEventFilter *filter,
                                                    guint64                offset,
                                                    guint                  limit,
                                                    GCancellable          *cancellable,
                                                    GAsyncReadyCallback    callback,
                                                    gpointer               user_data);
GPtrArray          *moat_client_list_events_finish (MoatClient            *self,
                                                    GAsyncResult          *result,
                                                    GError               **error);

void                moat_client_count_events_async  (MoatClient            *self,
                                                     const MoatEventFilter *filter,
                                                     GCancellable          *cancellable,
                                                     GAsyncReadyCallback    callback,
                                                     gpointer               user_data);
gboolean            moat_client_count_events_finish (MoatClient            *self,
                                                     GAsyncResult          *result,
                                                     guint64               *out_count,
                                                     GError               **error);

/* Returns (transfer full) GHashTable of threat id (char *) to count (guint64 *). */
void                moat_client_category_counts_async  (MoatClient          *self,
                                                        gint64               since,
                                                        gint64               until,
                                                        const char          *action,
                                                        GCancellable        *cancellable,
                                                        GAsyncReadyCallback  callback,
                                                        gpointer             user_data);
GHashTable         *moat_client_category_counts_finish (MoatClient          *self,
                                                        GAsyncResult        *result,
                                                        GError             **error);

gboolean            moat_client_get_protect_computer   (MoatClient *self);
GStrv               moat_client_dup_enabled_categories (MoatClient *self);

void                moat_client_call_async   (MoatClient          *self,
                                              const char          *method,
                                              GVariant            *parameters,
                                              GCancellable        *cancellable,
                                              GAsyncReadyCallback  callback,
                                              gpointer             user_data);
GVariant           *moat_client_call_finish  (MoatClient          *self,
                                              GAsyncResult        *result,
                                              GError             **error);
void                moat_client_call_with_fds_async  (MoatClient          *self,
                                                      const char          *method,
                                                      GVariant            *parameters,
                                                      GUnixFDList         *fds,
                                                      GCancellable        *cancellable,
                                                      GAsyncReadyCallback  callback,
                                                      gpointer             user_data);
GVariant           *moat_client_call_with_fds_finish (MoatClient          *self,
                                                      GAsyncResult        *result,
                                                      GError             **error);

G_END_DECLS
