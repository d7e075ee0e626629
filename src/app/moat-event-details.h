/* SPDX-License-Identifier: GPL-3.0-or-later
 * Copyright 2026 The Moat developers
 */
#pragma once

#include <gtk/gtk.h>

#include "moat-client.h"

G_BEGIN_DECLS

#define MOAT_TYPE_EVENT_DETAILS (moat_event_details_get_type ())
G_DECLARE_FINAL_TYPE (MoatEventDetails, moat_event_details, MOAT, EVENT_DETAILS, GtkWidget)

void       moat_event_details_set_client (MoatEventDetails *self,
                                          MoatClient       *client);
void       moat_event_details_set_event  (MoatEventDetails *self,
                                          MoatEvent        *event);
MoatEvent *moat_event_details_get_event  (MoatEventDetails *self);

G_END_DECLS
