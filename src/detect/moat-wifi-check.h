/* SPDX-License-Identifier: GPL-3.0-or-later
 * Copyright 2026 The Moat developers
 */
#pragma once

#include <glib.h>

#include "moat-finding.h"
#include "moat-network-state.h"

G_BEGIN_DECLS

/*
 * The Wi-Fi and VPN checks: pure functions of what NetworkManager says
 * (MoatNetworkState) and what the company declared.
 *
 * @known_networks: the company's Wi-Fi networks, "SSID=SECURITY[,BSSID…]"
 *   (SECURITY as in MoatWifiAp; BSSIDs optional: without them any access
 *   point with the right security is fine)
 * @known_vpns: VPN connections that are expected (the policy's VPN is
 *   passed as @policy_vpn and is always expected)
 *
 * Findings (detector "wifi" for the connected network, "rogue-wifi" for the
 * company's networks, "vpn"):
 * - the connected network is open (no encryption at all; OWE counts as
 *   encrypted): `network.open_wifi`, severity low, subject the SSID;
 * - an access point in sight that carries a company SSID with other security
 *   than declared, or a BSSID not declared: `network.rogue_wifi`, severity
 *   high when this computer is connected to it, medium when only in sight;
 *   subject the SSID;
 * - an active VPN connection that is not expected: `network.malicious_vpn`,
 *   severity high, subject the connection's name;
 * - clean findings for the connected network, each company SSID in sight
 *   and each active VPN; "No VPN is active" when none is;
 * - without NetworkManager (@state->available is FALSE): one INCONCLUSIVE
 *   finding for each detector.
 *
 * Returns: (transfer container) (element-type MoatFinding): the findings,
 *   or %NULL with G_IO_ERROR_INVALID_ARGUMENT for a bad @known_networks entry
 */
GPtrArray *moat_wifi_check (const MoatNetworkState *state,
                            const char * const     *known_networks,
                            const char * const     *known_vpns,
                            const char             *policy_vpn,
                            GError                **error);

/* Whether @entry is a valid "SSID=SECURITY[,BSSID…]". */
gboolean   moat_wifi_known_network_is_valid (const char *entry,
                                             GError    **error);

G_END_DECLS
