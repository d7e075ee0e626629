/* SPDX-License-Identifier: GPL-3.0-or-later
 * Copyright 2026 The Moat developers
 */
#pragma once

#include <gtk/gtk.h>

#include "moat-client.h"

G_BEGIN_DECLS

#define MOAT_TYPE_DEVICES_PAGE (moat_devices_page_get_type ())
G_DECLARE_FINAL_TYPE (MoatDevicesPage, moat_devices_page, MOAT, DEVICES_PAGE, GtkWidget)

void moat_devices_page_set_client (MoatDevicesPage *self,
                                   MoatClient      *client);

G_END_DECLS
