/* SPDX-License-Identifier: GPL-3.0-or-later
 * Copyright 2026 The Moat developers
 */
#pragma once

#include "moat-network.h"
#include "moat-network-state.h"

G_BEGIN_DECLS

/*
 * MoatNmNetwork: MoatNetwork through NetworkManager (libnm) on the system
 * bus. Without NetworkManager every request fails with NOT_SUPPORTED and a
 * clear message; NetworkManager that starts later is picked up.
 *
 * Signals:
 *   ::changed: the networks changed (a connection came or went, the Wi-Fi
 *     saw other access points, the default route moved); the detectors run
 *     again. Emitted at most once a second.
 */
#define MOAT_TYPE_NM_NETWORK (moat_nm_network_get_type ())
G_DECLARE_FINAL_TYPE (MoatNmNetwork, moat_nm_network, MOAT, NM_NETWORK, MoatNetwork)

MoatNetwork      *moat_nm_network_new       (void);
/* What NetworkManager says now (available = FALSE without it). Never blocks:
 * it reads libnm's cache. */
MoatNetworkState *moat_nm_network_get_state (MoatNmNetwork *self);

/**
 * MoatVpnCheck:
 * @MOAT_VPN_CHECK_NO_NM: NetworkManager is not running (or not yet read)
 * @MOAT_VPN_CHECK_MISSING: no VPN connection has that name
 * @MOAT_VPN_CHECK_ASKS_PASSWORD: it exists, but its password is not saved:
 *   bringing it up asks the user each time
 * @MOAT_VPN_CHECK_OK: it exists and can come up without asking
 */
typedef enum {
  MOAT_VPN_CHECK_NO_NM,
  MOAT_VPN_CHECK_MISSING,
  MOAT_VPN_CHECK_ASKS_PASSWORD,
  MOAT_VPN_CHECK_OK,
} MoatVpnCheck;

MoatVpnCheck      moat_nm_network_check_vpn (MoatNmNetwork *self,
                                             const char    *name,
                                             char         **out_type);

G_END_DECLS
