/* SPDX-License-Identifier: GPL-3.0-or-later
 * Copyright 2026 The Moat developers
 */
#define G_LOG_DOMAIN "moat-detect"

#include "config.h"

#include "moat-network-state.h"

static void
ap_free (MoatWifiAp *ap)
{
  g_free (ap->ssid);
  g_free (ap->bssid);
  g_free (ap->security);
  g_free (ap);
}

static void
vpn_free (MoatVpnInfo *vpn)
{
  g_free (vpn->name);
  g_free (vpn->type);
  g_free (vpn);
}

MoatNetworkState *
moat_network_state_new (void)
{
  MoatNetworkState *state = g_new0 (MoatNetworkState, 1);

  state->wifi = g_ptr_array_new_with_free_func ((GDestroyNotify) ap_free);
  state->vpns = g_ptr_array_new_with_free_func ((GDestroyNotify) vpn_free);
  return state;
}

void
moat_network_state_free (MoatNetworkState *state)
{
  if (state == NULL)
    return;
  g_ptr_array_unref (state->wifi);
  g_ptr_array_unref (state->vpns);
  g_free (state);
}

void
moat_network_state_add_ap (MoatNetworkState *state,
                           const char       *ssid,
                           const char       *bssid,
                           const char       *security,
                           gboolean          connected)
{
  MoatWifiAp *ap;

  g_return_if_fail (state != NULL);

  ap = g_new0 (MoatWifiAp, 1);
  ap->ssid = g_strdup (ssid != NULL ? ssid : "");
  ap->bssid = g_ascii_strup (bssid != NULL ? bssid : "", -1);
  ap->security = g_strdup (security != NULL ? security : "open");
  ap->connected = connected;
  g_ptr_array_add (state->wifi, ap);
}

void
moat_network_state_add_vpn (MoatNetworkState *state,
                            const char       *name,
                            const char       *type,
                            gboolean          active)
{
  MoatVpnInfo *vpn;

  g_return_if_fail (state != NULL);

  vpn = g_new0 (MoatVpnInfo, 1);
  vpn->name = g_strdup (name != NULL ? name : "");
  vpn->type = g_strdup (type != NULL ? type : "");
  vpn->active = active;
  g_ptr_array_add (state->vpns, vpn);
}
