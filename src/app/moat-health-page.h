/* SPDX-License-Identifier: GPL-3.0-or-later
 * Copyright 2026 The Moat developers
 */
#pragma once

#include <gtk/gtk.h>

#include "moat-client.h"

G_BEGIN_DECLS

#define MOAT_TYPE_HEALTH_PAGE (moat_health_page_get_type ())
G_DECLARE_FINAL_TYPE (MoatHealthPage, moat_health_page, MOAT, HEALTH_PAGE, GtkWidget)

void        moat_health_page_set_client  (MoatHealthPage *self,
                                          MoatClient     *client);
int         moat_health_page_get_level   (MoatHealthPage *self);
const char *moat_health_page_get_summary (MoatHealthPage *self);

G_END_DECLS
