/* SPDX-License-Identifier: GPL-3.0-or-later
 * Copyright 2026 The Moat developers
 */
#pragma once

#include <gtk/gtk.h>

#include "moat-event-list.h"

G_BEGIN_DECLS

#define MOAT_TYPE_EVENT_ROW (moat_event_row_get_type ())
G_DECLARE_FINAL_TYPE (MoatEventRow, moat_event_row, MOAT, EVENT_ROW, GtkWidget)

GtkWidget     *moat_event_row_new      (void);
MoatEventItem *moat_event_row_get_item (MoatEventRow  *self);
void           moat_event_row_set_item (MoatEventRow  *self,
                                        MoatEventItem *item);

G_END_DECLS
