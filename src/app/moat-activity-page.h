/* SPDX-License-Identifier: GPL-3.0-or-later
 * Copyright 2026 The Moat developers
 */
#pragma once

#include <gtk/gtk.h>

#include "moat-client.h"

G_BEGIN_DECLS

#define MOAT_TYPE_ACTIVITY_PAGE (moat_activity_page_get_type ())
G_DECLARE_FINAL_TYPE (MoatActivityPage, moat_activity_page, MOAT, ACTIVITY_PAGE, GtkWidget)

void moat_activity_page_set_client   (MoatActivityPage *self,
                                      MoatClient       *client);
void moat_activity_page_focus_search (MoatActivityPage *self);
void moat_activity_page_show_event   (MoatActivityPage *self,
                                      MoatEvent        *event);

G_END_DECLS
