/* SPDX-License-Identifier: GPL-3.0-or-later
 * Copyright 2026 The Moat developers
 */
#pragma once

#include <gio/gio.h>

#include "moat-finding.h"
#include "moat-nm-network.h"

G_BEGIN_DECLS

#define MOAT_DETECTORS_STATE_FILENAME "detect-state.json"
/* After a network change, wait this long for it to settle before checking. */
#define MOAT_DETECTORS_SETTLE_MS 2000
/* While a captive portal is in the way, check again this often. */
#define MOAT_DETECTORS_PORTAL_RETRY_S 30

/**
 * MoatTimedFinding:
 * @finding: what the check saw
 * @time: when, µs since the Unix epoch
 */
typedef struct {
  MoatFinding *finding;
  gint64       time;
} MoatTimedFinding;

void moat_timed_finding_free (MoatTimedFinding *timed);

#define MOAT_TYPE_DETECTORS (moat_detectors_get_type ())
G_DECLARE_FINAL_TYPE (MoatDetectors, moat_detectors, MOAT, DETECTORS, GObject)

/*
 * MoatDetectors: runs the network checks (src/detect/) when the network
 * changes, on a schedule and on demand, and turns what they see into
 * threats: the TLS, DNS, HTTP and gateway checks speak for the network this
 * computer is on, so their threats are one per kind and network ("Cafe
 * Wi-Fi"), with every check's evidence; the trust-store, Wi-Fi and VPN
 * checks speak for what they name. A threat clears when the checks that saw
 * it find it clean again, or when this computer leaves that network; an
 * inconclusive check changes nothing. While a captive portal is in the way,
 * DNS threats are held (a portal answers every name with itself) and the
 * checks run again soon.
 *
 * Baselines (the trust store, each network's gateway MAC) are kept in
 * MOAT_DETECTORS_STATE_FILENAME, read and written off the main loop.
 *
 * Signals:
 *   ::raise (threat, severity (int), subject, evidence): a threat is seen.
 *   ::clear (threat, subject): a threat raised before is gone.
 *   ::findings-changed: a scan finished.
 *   notify::safe-since
 */
MoatDetectors *moat_detectors_new             (GSettings           *settings,
                                               MoatNmNetwork       *network,
                                               const char          *data_dir);
void           moat_detectors_start           (MoatDetectors       *self,
                                               gboolean             automatic);
void           moat_detectors_set_policy_vpn  (MoatDetectors       *self,
                                               const char          *vpn);
void           moat_detectors_set_masked      (MoatDetectors       *self,
                                               gboolean             masked);
void           moat_detectors_scan_async      (MoatDetectors       *self,
                                               GCancellable        *cancellable,
                                               GAsyncReadyCallback  callback,
                                               gpointer             user_data);
GPtrArray     *moat_detectors_scan_finish     (MoatDetectors       *self,
                                               GAsyncResult        *result,
                                               GError             **error);
GPtrArray     *moat_detectors_get_findings    (MoatDetectors       *self);
gint64         moat_detectors_get_safe_since  (MoatDetectors       *self);
const char    *moat_detectors_get_network_name (MoatDetectors      *self);

G_END_DECLS
