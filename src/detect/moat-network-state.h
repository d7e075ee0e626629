/* SPDX-License-Identifier: GPL-3.0-or-later
 * Copyright 2026 The Moat developers
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/**
 * MoatWifiAp:
 * @ssid: the network's name (UTF-8; other bytes escaped as \xNN)
 * @bssid: the access point's MAC, "AA:BB:CC:DD:EE:FF"
 * @security: "open", "owe", "wep", "wpa-psk", "wpa-eap" or "sae" (the
 *   strongest the access point offers)
 * @connected: this computer is associated with it now
 *
 * One access point a Wi-Fi device sees.
 */
typedef struct {
  char     *ssid;
  char     *bssid;
  char     *security;
  gboolean  connected;
} MoatWifiAp;

/**
 * MoatVpnInfo:
 * @name: the connection's name (NetworkManager id)
 * @type: "openvpn", "wireguard", "vpnc", … (the VPN plugin or "wireguard")
 * @active: it is up (or coming up) now
 */
typedef struct {
  char     *name;
  char     *type;
  gboolean  active;
} MoatVpnInfo;

/**
 * MoatNetworkState:
 * @wifi: (element-type MoatWifiAp): access points in sight, the connected
 *   one included
 * @vpns: (element-type MoatVpnInfo): VPN connections NetworkManager knows
 *   (configured ones and active ones)
 * @available: whether the state came from NetworkManager at all
 *
 * What NetworkManager says about the networks around this computer, for the
 * Wi-Fi and VPN detectors.
 */
typedef struct {
  GPtrArray *wifi;
  GPtrArray *vpns;
  gboolean   available;
} MoatNetworkState;

MoatNetworkState *moat_network_state_new   (void);
void              moat_network_state_free  (MoatNetworkState *state);
void              moat_network_state_add_ap  (MoatNetworkState *state,
                                              const char       *ssid,
                                              const char       *bssid,
                                              const char       *security,
                                              gboolean          connected);
void              moat_network_state_add_vpn (MoatNetworkState *state,
                                              const char       *name,
                                              const char       *type,
                                              gboolean          active);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (MoatNetworkState, moat_network_state_free)

G_END_DECLS
