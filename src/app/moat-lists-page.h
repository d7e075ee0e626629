/* SPDX-License-Identifier: GPL-3.0-or-later
 * Copyright 2026 The Moat developers
 */
#pragma once

#include <gtk/gtk.h>

#include "moat-client.h"

G_BEGIN_DECLS

#define MOAT_TYPE_LISTS_PAGE (moat_lists_page_get_type ())
G_DECLARE_FINAL_TYPE (MoatListsPage, moat_lists_page, MOAT, LISTS_PAGE, GtkWidget)

void moat_lists_page_set_client (MoatListsPage *self,
                                 MoatClient    *client);

G_END_DECLS
