/* SPDX-License-Identifier: GPL-3.0-or-later
 * Copyright 2026 The Moat developers
 */
#pragma once

#include "moat-network.h"

G_BEGIN_DECLS

/*
 * MoatNmNetwork: MoatNetwork through NetworkManager (libnm) on the system
 * bus. Without NetworkManager every request fails with NOT_SUPPORTED and a
 * clear message; NetworkManager that starts later is picked up.
 */
#define MOAT_TYPE_NM_NETWORK (moat_nm_network_get_type ())
G_DECLARE_FINAL_TYPE (MoatNmNetwork, moat_nm_network, MOAT, NM_NETWORK, MoatNetwork)

MoatNetwork *moat_nm_network_new (void);

G_END_DECLS
