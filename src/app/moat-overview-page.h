/* SPDX-License-Identifier: GPL-3.0-or-later
 * Copyright 2026 The Moat developers
 */
#pragma once

#include <gtk/gtk.h>

#include "moat-client.h"

G_BEGIN_DECLS

#define MOAT_TYPE_OVERVIEW_PAGE (moat_overview_page_get_type ())
G_DECLARE_FINAL_TYPE (MoatOverviewPage, moat_overview_page, MOAT, OVERVIEW_PAGE, GtkWidget)

void moat_overview_page_set_client (MoatOverviewPage *self,
                                    MoatClient       *client);
void moat_overview_page_set_health (MoatOverviewPage *self,
                                    int               level,
                                    const char       *summary);

G_END_DECLS
