/* SPDX-License-Identifier: GPL-3.0-or-later
 * Copyright 2026 The Moat developers
 */
#pragma once

#include <adwaita.h>

#include "moat-client.h"

G_BEGIN_DECLS

#define MOAT_TYPE_CONNECT_DEVICE_DIALOG (moat_connect_device_dialog_get_type ())
G_DECLARE_FINAL_TYPE (MoatConnectDeviceDialog, moat_connect_device_dialog,
                      MOAT, CONNECT_DEVICE_DIALOG, AdwWindow)

MoatConnectDeviceDialog *moat_connect_device_dialog_new (MoatClient *client,
                                                         GtkWindow  *parent);

G_END_DECLS
