/* SPDX-License-Identifier: GPL-3.0-or-later
 * Copyright 2026 The Moat developers
 */
#pragma once

#include <gio/gio.h>

#include "moat-finding.h"

G_BEGIN_DECLS

/**
 * SECTION:moat-trust-store
 *
 * The rogue root CA check: a snapshot of the CA certificates this computer
 * trusts (what GnuTLS's system trust gives, i.e. the p11-kit/ca-certificates
 * store; or a PEM bundle file or a directory of PEM files, for tests), as the
 * sorted lower-case hex SHA-256 fingerprints of the certificates, compared
 * with the snapshot the caller saved before. The detector keeps nothing: the
 * caller stores the snapshot wherever it likes.
 *
 * Findings (detector "trust-store"):
 * - no baseline (%NULL): one CLEAN finding, subject "trust-store"; the
 *   snapshot becomes the caller's baseline;
 * - each CA in the store that is not in the baseline: a THREAT
 *   `network.rogue_root_ca`, severity high, subject the CA's name, evidence
 *   "subject", "issuer" (DNs), "sha256", "spki", "not_before", "not_after"
 *   (ISO 8601) and "store";
 * - no new CA: one CLEAN finding (CAs that disappeared are no threat; their
 *   count is in its evidence, "removed");
 * - a store that cannot be read or holds no CA: one INCONCLUSIVE finding and
 *   no snapshot, so the caller keeps its baseline.
 *
 * The returned snapshot is what the store holds now. A caller that wants the
 * threat to stay active until someone accepts the new CA keeps its old
 * baseline (plus the accepted fingerprints) instead of saving the snapshot.
 * Updates of ca-certificates add CAs too: re-baseline after them.
 */

GStrv      moat_trust_store_snapshot_sync (const char          *path,
                                           GCancellable        *cancellable,
                                           GError             **error);

void       moat_trust_store_check_async   (const char          *path,
                                           const char * const  *baseline,
                                           GCancellable        *cancellable,
                                           GAsyncReadyCallback  callback,
                                           gpointer             user_data);
GPtrArray *moat_trust_store_check_finish  (GAsyncResult        *result,
                                           GStrv               *snapshot,
                                           GError             **error);

G_END_DECLS
