/* SPDX-License-Identifier: GPL-3.0-or-later
 * Copyright 2026 The Moat developers
 */
#pragma once

#include <gio/gio.h>

#include "moat-finding.h"

G_BEGIN_DECLS

#define MOAT_TLS_PROBE_DEFAULT_PORT       443
#define MOAT_TLS_PROBE_DEFAULT_TIMEOUT_MS 5000

/**
 * MoatTlsProbeOptions:
 *
 * Which hosts the TLS probe connects to, and what it trusts. Build it with the
 * setters below (each checks its input and returns a #GError for bad text),
 * then hand it to moat_tls_probe_run_async(), which copies it.
 *
 * For each target the probe connects (no proxy; to the given address instead
 * of resolving the host, when there is one), does a TLS handshake with SNI,
 * and checks the presented chain against the trust source (the system trust
 * store, or a CA file) and the host name, then against the target's SPKI pins.
 * One finding per target, subject `host:port`, detector "tls":
 *
 * - the chain does not lead to a trusted CA (unknown issuer, not a CA, bad
 *   signature, insecure algorithm, revoked): THREAT `network.tls_interception`,
 *   severity high. This is what a proxy such as mitmproxy looks like to a
 *   computer that does not trust the proxy's CA.
 * - the chain verifies but the target has pins and no certificate of the chain
 *   (nor the trust anchor it leads to) has a pinned key: THREAT
 *   `network.tls_interception`, severity high. This is interception by a CA
 *   that was added to this computer's store. High, not critical: it is as bad
 *   as the untrusted case for the traffic, but a stale pin after a legitimate
 *   key change at the site gives the same sight, so it must not outrank it.
 * - the chain verifies but names another host: THREAT
 *   `network.tls_interception`, severity medium. A well-known host that
 *   answers with a certificate for another name is being answered for by
 *   someone else; a trusted CA signed that certificate, though, so nothing can
 *   be read yet (a portal or a misrouted CDN look the same).
 * - the chain verifies apart from its validity dates (expired, not yet valid):
 *   INCONCLUSIVE. An attacker gains nothing from an expired certificate of the
 *   real site, and a wrong clock makes every site look like this.
 * - no connection, a timeout, a cancelled check, a server that does not
 *   speak TLS and sent no certificate, or a chain GnuTLS cannot judge at
 *   all: INCONCLUSIVE, with the reason in the summary.
 * - otherwise CLEAN.
 *
 * Name checks use the target's host; for an IP host, its IP SANs. The summary
 * names the issuer of the top of the presented chain, i.e. the CA the chain
 * claims to end in (for mitmproxy: “mitmproxy”).
 *
 * Bad options (a target that does not parse, more than 64 targets or 16 pins,
 * a CA file that cannot be loaded) are #MOAT_ERROR errors; everything the
 * network does is a finding.
 *
 * Findings that saw a certificate carry JSON evidence: "host", "port",
 * "address" (the peer), "subject" and "issuer" (leaf DNs), "issuer_name"
 * (the leaf issuer's common name), "top_subject",
 * "top_issuer" (the top of the presented chain), "leaf_sha256", "top_sha256"
 * (hex fingerprints), "leaf_spki" (`sha256/BASE64`), "chain_length",
 * "verify_status" (GnuTLS's text), "trust" ("system" or the CA file),
 * "reason" ("untrusted-issuer", "pin-mismatch", "hostname-mismatch",
 * "validity-dates" or "ok"), and with pins "expected_pins" and "seen_pins".
 */
typedef struct _MoatTlsProbeOptions MoatTlsProbeOptions;

MoatTlsProbeOptions *moat_tls_probe_options_new            (void);
MoatTlsProbeOptions *moat_tls_probe_options_copy           (const MoatTlsProbeOptions *options);
void                 moat_tls_probe_options_free           (MoatTlsProbeOptions *options);
gboolean             moat_tls_probe_options_add_target     (MoatTlsProbeOptions *options,
                                                            const char          *host,
                                                            guint16              port,
                                                            const char          *address,
                                                            const char * const  *pins,
                                                            GError             **error);
gboolean             moat_tls_probe_options_add_target_spec (MoatTlsProbeOptions *options,
                                                             const char          *spec,
                                                             GError             **error);
guint                moat_tls_probe_options_get_n_targets  (const MoatTlsProbeOptions *options);
void                 moat_tls_probe_options_set_ca_file    (MoatTlsProbeOptions *options,
                                                            const char          *path);
void                 moat_tls_probe_options_set_timeout    (MoatTlsProbeOptions *options,
                                                            guint                timeout_ms);

char                *moat_tls_pin_normalize                (const char          *pin,
                                                            GError             **error);
char                *moat_tls_spki_pin_from_der            (const guint8        *cert_der,
                                                            gsize                len,
                                                            GError             **error);

void       moat_tls_probe_run_async  (const MoatTlsProbeOptions *options,
                                      GCancellable              *cancellable,
                                      GAsyncReadyCallback        callback,
                                      gpointer                   user_data);
GPtrArray *moat_tls_probe_run_finish (GAsyncResult              *result,
                                      GError                   **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (MoatTlsProbeOptions, moat_tls_probe_options_free)

G_END_DECLS
