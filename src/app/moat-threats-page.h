/* SPDX-License-Identifier: GPL-3.0-or-later
 * Copyright 2026 The Moat developers
 */
#pragma once

#include <gtk/gtk.h>

#include "moat-client.h"

G_BEGIN_DECLS

#define MOAT_TYPE_THREATS_PAGE (moat_threats_page_get_type ())
G_DECLARE_FINAL_TYPE (MoatThreatsPage, moat_threats_page, MOAT, THREATS_PAGE, GtkWidget)

void moat_threats_page_set_client (MoatThreatsPage *self,
                                   MoatClient      *client);

G_END_DECLS
