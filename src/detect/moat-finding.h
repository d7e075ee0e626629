/* SPDX-License-Identifier: GPL-3.0-or-later
 * Copyright 2026 The Moat developers
 */
#pragma once

#include <gio/gio.h>

#include "moat-enums.h"

G_BEGIN_DECLS

/**
 * MoatFindingResult:
 * @MOAT_FINDING_CLEAN: the check passed: nothing wrong was seen
 * @MOAT_FINDING_THREAT: the check saw @threat
 * @MOAT_FINDING_INCONCLUSIVE: the check could not decide (no network, a
 *   timeout, a captive portal in the way); neither raises nor clears a threat
 */
typedef enum {
  MOAT_FINDING_CLEAN,
  MOAT_FINDING_THREAT,
  MOAT_FINDING_INCONCLUSIVE,
} MoatFindingResult;

/**
 * MoatFinding:
 * @detector: which detector: "tls", "dns", "http", "gateway", "wifi", …
 * @subject: what it checked, as the user knows it ("example.com:443", the
 *   resolver "10.0.0.1", the Wi-Fi "Office")
 * @result: clean, threat or inconclusive
 * @threat: (nullable): the threat id (`network.tls_interception`) when
 *   @result is %MOAT_FINDING_THREAT, else %NULL
 * @severity: the threat's severity; %MOAT_SEVERITY_INFO otherwise
 * @summary: one translated sentence for people ("The certificate of
 *   example.com was issued by “mitmproxy”, which this computer does not trust.")
 * @evidence: (nullable): a JSON object (text) with the facts a helpdesk needs:
 *   issuer, fingerprints, addresses, …
 * @duration_us: how long the check took
 *
 * What one check of one detector saw. Detectors return findings for clean
 * results too, so that "safe since 10:02" can be shown.
 */
typedef struct {
  char              *detector;
  char              *subject;
  MoatFindingResult  result;
  char              *threat;
  MoatSeverity       severity;
  char              *summary;
  char              *evidence;
  gint64             duration_us;
} MoatFinding;

MoatFinding *moat_finding_new_clean        (const char  *detector,
                                            const char  *subject,
                                            const char  *summary);
MoatFinding *moat_finding_new_threat       (const char  *detector,
                                            const char  *subject,
                                            const char  *threat,
                                            MoatSeverity severity,
                                            const char  *summary,
                                            const char  *evidence);
MoatFinding *moat_finding_new_inconclusive (const char  *detector,
                                            const char  *subject,
                                            const char  *summary);
MoatFinding *moat_finding_copy             (const MoatFinding *finding);
void         moat_finding_free             (MoatFinding *finding);
const char  *moat_finding_result_to_string (MoatFindingResult result);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (MoatFinding, moat_finding_free)

G_END_DECLS
