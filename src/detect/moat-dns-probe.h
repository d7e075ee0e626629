/* SPDX-License-Identifier: GPL-3.0-or-later
 * Copyright 2026 The Moat developers
 */
#pragma once

#include <gio/gio.h>

#include "moat-finding.h"

G_BEGIN_DECLS

/**
 * MoatDnsProbeOptions:
 *
 * What the DNS probe asks, and whom. Build it with the setters below (each
 * checks its input and returns a #GError for bad text), then hand it to
 * moat_dns_probe_run_async(), which copies it.
 *
 * The probe asks each resolver (the one given with
 * moat_dns_probe_options_set_resolver(), or every `nameserver` line of
 * resolv.conf, at most three) over UDP with a random id and source port:
 *
 * - each pinned name (`name=address[,address]`): an address in the answer
 *   that is not in the pinned set is `network.dns_hijack`, severity high;
 *   subject `name@resolver`;
 * - a few random labels under the NXDOMAIN zone (by default the registrable
 *   domain of the first pinned name; choose a zone without wildcard records):
 *   when every answered name resolves to addresses the resolver rewrites
 *   NXDOMAIN, `network.dns_hijack` severity medium; subject `*.zone@resolver`;
 * - optionally a DNSSEC-signed name, asked with the DO and AD bits: an answer
 *   without the AD flag is INCONCLUSIVE (the resolver does not validate), or
 *   `network.dns_hijack` severity medium when the resolver is known to
 *   validate (moat_dns_probe_options_set_dnssec_required()); subject
 *   `name@resolver (DNSSEC)`.
 *
 * A resolver that does not answer, answers with an error code, or sends a
 * malformed reply gives INCONCLUSIVE findings; agreeing answers give CLEAN
 * ones. Every finding's evidence is a JSON object with at least "check"
 * ("pinned", "nxdomain", "dnssec" or "resolver") and "resolver".
 *
 * Captive portals often answer every name with the portal's address until
 * the user signs in, which looks exactly like a lying resolver from here.
 * Run the HTTP probe's captive-portal check (moat-http-probe.h) first and
 * hold DNS threats while it reports `captive_portal`.
 */
typedef struct _MoatDnsProbeOptions MoatDnsProbeOptions;

MoatDnsProbeOptions *moat_dns_probe_options_new                (void);
MoatDnsProbeOptions *moat_dns_probe_options_copy               (const MoatDnsProbeOptions *options);
void                 moat_dns_probe_options_free               (MoatDnsProbeOptions *options);
gboolean             moat_dns_probe_options_set_resolver       (MoatDnsProbeOptions *options,
                                                                const char          *address,
                                                                GError             **error);
void                 moat_dns_probe_options_set_resolv_conf    (MoatDnsProbeOptions *options,
                                                                const char          *path);
gboolean             moat_dns_probe_options_add_pinned         (MoatDnsProbeOptions *options,
                                                                const char          *spec,
                                                                GError             **error);
gboolean             moat_dns_probe_options_set_nxdomain_zone  (MoatDnsProbeOptions *options,
                                                                const char          *zone,
                                                                GError             **error);
void                 moat_dns_probe_options_set_nxdomain_count (MoatDnsProbeOptions *options,
                                                                guint                count);
gboolean             moat_dns_probe_options_set_dnssec_name    (MoatDnsProbeOptions *options,
                                                                const char          *name,
                                                                GError             **error);
void                 moat_dns_probe_options_set_dnssec_required (MoatDnsProbeOptions *options,
                                                                 gboolean             required);
void                 moat_dns_probe_options_set_timeout        (MoatDnsProbeOptions *options,
                                                                guint                timeout_ms);
void                 moat_dns_probe_options_set_retries        (MoatDnsProbeOptions *options,
                                                                guint                retries);

void       moat_dns_probe_run_async  (const MoatDnsProbeOptions *options,
                                      GCancellable              *cancellable,
                                      GAsyncReadyCallback        callback,
                                      gpointer                   user_data);
GPtrArray *moat_dns_probe_run_finish (GAsyncResult              *result,
                                      GError                   **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (MoatDnsProbeOptions, moat_dns_probe_options_free)

G_END_DECLS
