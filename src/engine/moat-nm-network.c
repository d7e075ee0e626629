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
