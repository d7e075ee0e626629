/* SPDX-License-Identifier: GPL-3.0-or-later
 * Copyright 2026 The Moat developers
 */
#pragma once

#include <adwaita.h>

#include "moat-client.h"

G_BEGIN_DECLS

#define MOAT_TYPE_EXPORT_DIALOG (moat_export_dialog_get_type ())
G_DECLARE_FINAL_TYPE (MoatExportDialog, moat_export_dialog, MOAT, EXPORT_DIALOG, AdwWindow)

MoatExportDialog *moat_export_dialog_new (GtkWindow  *parent,
                                          MoatClient *client);

G_END_DECLS
