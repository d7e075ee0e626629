/* SPDX-License-Identifier: GPL-3.0-or-later
 * Copyright 2026 The Moat developers
 */
#pragma once

#include "moat-event-list.h"

G_BEGIN_DECLS

/* Events per ListEvents call, and how many pages the list keeps in memory. */
#define MOAT_EVENT_LIST_PAGE_SIZE 200
#define MOAT_EVENT_LIST_MAX_PAGES 50

/* For tests: how many page fetches the list has started, and pages cached. */
guint moat_event_list_get_n_fetches      (MoatEventList *self);
guint moat_event_list_get_n_cached_pages (MoatEventList *self);

G_END_DECLS
