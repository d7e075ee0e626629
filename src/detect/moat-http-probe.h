/* SPDX-License-Identifier: GPL-3.0-or-later
 * Copyright 2026 The Moat developers
 */
#pragma once

#include <gio/gio.h>

#include "moat-finding.h"

G_BEGIN_DECLS

/**
 * MoatHttpProbeOptions:
 *
 * The plain-HTTP addresses the HTTP probe fetches, each with what it must
 * answer. A target is written as one line (moat_http_probe_options_add_target()):
 *
 * |[
 * http://www.example.com/ expect-redirect https://www.example.com/
 * http://www.example.com/pixel.js expect-sha256 9f86d08188…
 * http://nmcheck.gnome.org/check_network_status.txt expect-status 204
 * ]|
 *
 * Each target is fetched once, without a proxy, without following redirects,
 * without content coding, with a timeout and at most max-body bytes of body.
 * Targets with `expect-status` (captive-portal checks) go first.
 *
 * - `expect-redirect URL`: the answer must be a redirect (301, 302, 303, 307,
 *   308) to https on the host of URL (or of the target, or a host of the same
 *   registrable domain). A 2xx answer instead, or a redirect to http:// on
 *   that host, is `network.ssl_strip`, severity high.
 * - `expect-sha256 HEX`: a 200 answer whose body has another SHA-256 is
 *   `network.content_manipulation`, severity high. The evidence has the
 *   expected and seen hashes, the length and the first bytes of the body.
 * - `expect-status CODE`: the answer must have that status (typically 204).
 *
 * Captive portals: a redirect to a third-party host (any scheme), or a 2xx
 * or 3xx answer where `expect-status` asked for another code, is a captive
 * portal in the way. It is reported as %MOAT_FINDING_INCONCLUSIVE with
 * evidence `{"captive_portal": true, …}` and a summary that says so; the
 * remaining targets are then not fetched and are reported the same way, so
 * nothing behind a portal raises a threat. The engine treats a finding with
 * `captive_portal` specially (it waits until the portal is passed).
 *
 * A connection failure or timeout is INCONCLUSIVE. Every finding's evidence
 * is a JSON object with at least "url"; subjects are the target URLs.
 */
typedef struct _MoatHttpProbeOptions MoatHttpProbeOptions;

#define MOAT_HTTP_PROBE_DEFAULT_MAX_BODY (1024 * 1024)

MoatHttpProbeOptions *moat_http_probe_options_new          (void);
MoatHttpProbeOptions *moat_http_probe_options_copy         (const MoatHttpProbeOptions *options);
void                  moat_http_probe_options_free         (MoatHttpProbeOptions *options);
gboolean              moat_http_probe_options_add_target   (MoatHttpProbeOptions *options,
                                                            const char           *spec,
                                                            GError              **error);
void                  moat_http_probe_options_set_timeout  (MoatHttpProbeOptions *options,
                                                            guint                 timeout_ms);
void                  moat_http_probe_options_set_max_body (MoatHttpProbeOptions *options,
                                                            gsize                 max_body);

void       moat_http_probe_run_async  (const MoatHttpProbeOptions *options,
                                       GCancellable               *cancellable,
                                       GAsyncReadyCallback         callback,
                                       gpointer                    user_data);
GPtrArray *moat_http_probe_run_finish (GAsyncResult               *result,
                                       GError                    **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (MoatHttpProbeOptions, moat_http_probe_options_free)

G_END_DECLS
