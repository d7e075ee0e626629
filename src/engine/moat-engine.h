/* SPDX-License-Identifier: GPL-3.0-or-later
 * Copyright 2026 The Moat developers
 */
#pragma once

#include <gio/gio.h>

#include "moat-detectors.h"
#include "moat-device-manager.h"
#include "moat-health-manager.h"
#include "moat-network.h"
#include "moat-enums.h"
#include "moat-event.h"
#include "moat-lists.h"
#include "moat-policy-manager.h"
#include "moat-proxy.h"
#include "moat-responder.h"

G_BEGIN_DECLS

#define MOAT_ENGINE_SETTINGS_SCHEMA "io.github.moatproject.Moat"
#define MOAT_ENGINE_STORE_FILENAME "moat.db"

/* moat_engine_set_proxy_options(): run no proxy (tests of other parts). */
#define MOAT_ENGINE_NO_PROXY (-2)

/* At most this many ::events-added emissions per second. */
#define MOAT_ENGINE_EVENTS_ADDED_INTERVAL_MS 250

#define MOAT_TYPE_ENGINE (moat_engine_get_type ())
G_DECLARE_FINAL_TYPE (MoatEngine, moat_engine, MOAT, ENGINE, GObject)

/**
 * MoatActiveThreat:
 * @threat: a threat id (`vector.kind`)
 * @severity: how bad it is
 *
 * One threat that is active right now, as the risk level sees it.
 */
typedef struct {
  const char   *threat;
  MoatSeverity  severity;
} MoatActiveThreat;

/**
 * MoatThreat:
 * @threat: a threat id (`vector.kind`)
 * @severity: how bad it is
 * @subject: what it concerns: a network, a host, an app (may be "")
 * @evidence: a JSON object with what the detector saw
 * @since: when it was first raised, µs since the Unix epoch
 *
 * An active threat, as a detector raised it and until it clears it.
 */
typedef struct {
  char         *threat;
  MoatSeverity  severity;
  char         *subject;
  char         *evidence;
  gint64        since;
} MoatThreat;

/*
 * MoatEngine: ties Moat's modules together. No D-Bus, no GTK.
 *
 * Properties (all readable, with notify):
 *   "protection-state" (int, MoatProtectionState), "protection-summary" (string),
 *   "risk-level" (int, MoatRiskLevel), "proxy-address" (string, "" when no proxy),
 *   "store-state" (int, MoatStoreState), "store-message" (string),
 *   "data-dir" (string, construct-only), "store-path" (string).
 * Signals:
 *   ::events-added (GPtrArray *events): committed events, oldest first, coalesced
 *     so that it is emitted at most every MOAT_ENGINE_EVENTS_ADDED_INTERVAL_MS.
 */

MoatEngine          *moat_engine_new                   (const char          *data_dir,
                                                        GSettings           *settings);
void                 moat_engine_start_async           (MoatEngine          *self,
                                                        GCancellable        *cancellable,
                                                        GAsyncReadyCallback  callback,
                                                        gpointer             user_data);
gboolean             moat_engine_start_finish          (MoatEngine          *self,
                                                        GAsyncResult        *result,
                                                        GError             **error);
void                 moat_engine_reload                (MoatEngine          *self);
void                 moat_engine_shutdown              (MoatEngine          *self);

const char          *moat_engine_get_data_dir          (MoatEngine          *self);
const char          *moat_engine_get_store_path        (MoatEngine          *self);
GSettings           *moat_engine_get_settings          (MoatEngine          *self);
MoatLists           *moat_engine_get_lists             (MoatEngine          *self);
MoatPolicyManager   *moat_engine_get_policy_manager    (MoatEngine          *self);

gboolean             moat_engine_raise_threat          (MoatEngine          *self,
                                                        const char          *threat,
                                                        MoatSeverity         severity,
                                                        const char          *subject,
                                                        const char          *evidence,
                                                        GError             **error);
gboolean             moat_engine_clear_threat          (MoatEngine          *self,
                                                        const char          *threat,
                                                        const char          *subject,
                                                        GError             **error);
GPtrArray           *moat_engine_get_threats           (MoatEngine          *self);
MoatResponder       *moat_engine_get_responder         (MoatEngine          *self);
MoatDetectors       *moat_engine_get_detectors         (MoatEngine          *self);
MoatDeviceManager   *moat_engine_get_devices           (MoatEngine          *self);
MoatHealthManager   *moat_engine_get_health            (MoatEngine          *self);
MoatNetwork         *moat_engine_get_network           (MoatEngine          *self);
void                 moat_engine_set_network_checks    (MoatEngine          *self,
                                                        gboolean             automatic);
void                 moat_engine_set_list_files        (MoatEngine          *self,
                                                        const char * const  *files);
gboolean             moat_engine_set_proxy_options     (MoatEngine          *self,
                                                        int                  port,
                                                        const char * const  *allow_local_hosts,
                                                        GError             **error);
MoatProxy           *moat_engine_get_proxy             (MoatEngine          *self);
gboolean             moat_engine_allow_once            (MoatEngine          *self,
                                                        const char          *host,
                                                        GError             **error);
gboolean             moat_engine_get_protect_computer  (MoatEngine          *self);
gboolean             moat_engine_set_protect_computer  (MoatEngine          *self,
                                                        gboolean             enabled,
                                                        GError             **error);
MoatProtectionState  moat_engine_get_protection_state  (MoatEngine          *self);
const char          *moat_engine_get_protection_summary (MoatEngine         *self);
MoatRiskLevel        moat_engine_get_risk_level        (MoatEngine          *self);
const char          *moat_engine_get_proxy_address     (MoatEngine          *self);
void                 moat_engine_set_proxy_address     (MoatEngine          *self,
                                                        const char          *address);
MoatStoreState       moat_engine_get_store_state       (MoatEngine          *self);
const char          *moat_engine_get_store_message     (MoatEngine          *self);

gboolean             moat_engine_record_event_quietly  (MoatEngine          *self,
                                                        MoatEvent           *event,
                                                        GError             **error);
void                 moat_engine_notify                (MoatEngine          *self,
                                                        const char          *title,
                                                        const char          *body,
                                                        MoatSeverity         severity);
gboolean             moat_engine_record_event          (MoatEngine          *self,
                                                        MoatEvent           *event,
                                                        GError             **error);

void                 moat_engine_flush_async           (MoatEngine          *self,
                                                        GCancellable        *cancellable,
                                                        GAsyncReadyCallback  callback,
                                                        gpointer             user_data);
gboolean             moat_engine_flush_finish          (MoatEngine          *self,
                                                        GAsyncResult        *result,
                                                        GError             **error);
void                 moat_engine_list_events_async     (MoatEngine            *self,
                                                        const MoatEventFilter *filter,
                                                        guint64                offset,
                                                        guint                  limit,
                                                        GCancellable          *cancellable,
                                                        GAsyncReadyCallback    callback,
                                                        gpointer               user_data);
GPtrArray           *moat_engine_list_events_finish    (MoatEngine          *self,
                                                        GAsyncResult        *result,
                                                        GError             **error);
void                 moat_engine_count_events_async    (MoatEngine            *self,
                                                        const MoatEventFilter *filter,
                                                        GCancellable          *cancellable,
                                                        GAsyncReadyCallback    callback,
                                                        gpointer               user_data);
gboolean             moat_engine_count_events_finish   (MoatEngine          *self,
                                                        GAsyncResult        *result,
                                                        guint64             *out_count,
                                                        GError             **error);
void                 moat_engine_category_counts_async (MoatEngine          *self,
                                                        gint64               since,
                                                        gint64               until,
                                                        const char          *action,
                                                        GCancellable        *cancellable,
                                                        GAsyncReadyCallback  callback,
                                                        gpointer             user_data);
GHashTable          *moat_engine_category_counts_finish (MoatEngine         *self,
                                                         GAsyncResult       *result,
                                                         GError            **error);

MoatRiskLevel        moat_engine_compute_risk_level    (const MoatActiveThreat *threats,
                                                        gsize                   n_threats);

G_END_DECLS
