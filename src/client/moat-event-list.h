/* SPDX-License-Identifier: GPL-3.0-or-later
 * Copyright 2026 The Moat developers
 */
#pragma once

#include <gio/gio.h>

#include "moat-client.h"
#include "moat-event.h"

G_BEGIN_DECLS

/*
 * MoatEventItem: one row of a MoatEventList. Created before its data has
 * arrived; "event" (MoatEvent, boxed) is NULL until its page is loaded, then set
 * once with notify::event. Bind widgets to notify::event, not to items-changed.
 */
#define MOAT_TYPE_EVENT_ITEM (moat_event_item_get_type ())
G_DECLARE_FINAL_TYPE (MoatEventItem, moat_event_item, MOAT, EVENT_ITEM, GObject)

MoatEvent *moat_event_item_get_event (MoatEventItem *self);

/*
 * MoatEventList: a GListModel of MoatEventItem over moatd's events, newest first,
 * that pages from moatd on demand (pages of 200, fetched when an item is first
 * asked for, a bounded cache of pages) so 100,000 events cost a count and the
 * visible pages. The set is a snapshot (ids up to the newest at load) plus events
 * that arrive through EventsAdded and match the filter, which are inserted at the
 * top. Setting a filter reloads. "loading" is TRUE while the count is fetched.
 * "n-items" mirrors g_list_model_get_n_items. Errors are logged and leave the
 * list empty with "error" set to a message.
 */
#define MOAT_TYPE_EVENT_LIST (moat_event_list_get_type ())
G_DECLARE_FINAL_TYPE (MoatEventList, moat_event_list, MOAT, EVENT_LIST, GObject)

MoatEventList         *moat_event_list_new        (MoatClient            *client);
void                   moat_event_list_set_filter (MoatEventList         *self,
                                                   const MoatEventFilter *filter);
const MoatEventFilter *moat_event_list_get_filter (MoatEventList         *self);
gboolean               moat_event_list_get_loading (MoatEventList        *self);
const char            *moat_event_list_get_error  (MoatEventList         *self);
void                   moat_event_list_reload     (MoatEventList         *self);

G_END_DECLS
