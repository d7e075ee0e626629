/* SPDX-License-Identifier: GPL-3.0-or-later
 * Copyright 2026 The Moat developers
 */
#pragma once

#include <adwaita.h>

#include "moat-client.h"

G_BEGIN_DECLS

#define MOAT_TYPE_ADD_LIST_DIALOG (moat_add_list_dialog_get_type ())
G_DECLARE_FINAL_TYPE (MoatAddListDialog, moat_add_list_dialog, MOAT, ADD_LIST_DIALOG, AdwWindow)

MoatAddListDialog *moat_add_list_dialog_new (MoatClient *client,
                                             GtkWindow  *parent);

G_END_DECLS
