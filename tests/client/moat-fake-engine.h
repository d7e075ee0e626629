/* SPDX-License-Identifier: GPL-3.0-or-later
 * Copyright 2026 The Moat developers
 */
#pragma once

#include <gio/gio.h>

#include "moat-dbus-generated.h"
#include "moat-event.h"

G_BEGIN_DECLS

/*
 * An in-process stand-in for moatd: a MoatDBusMoat1Skeleton on its own
 * connection to the test bus, with synthetic events in memory. It answers
 * ListEvents/CountEvents/GetCategoryCounts the way the store does (same filter
 * semantics, through moat_event_filter_matches) and records the calls.
 */
typedef struct {
  GDBusConnection *connection;
  MoatDBusMoat1   *skeleton;
  GPtrArray       *events;          /* MoatEvent, id i + 1 at index i */
  guint            owner_id;
  gboolean         name_owned;

  /* calls seen */
  guint            n_list_calls;
  guint            n_count_calls;
  GHashTable      *page_fetches;    /* offset of a ListEvents with before-id -> count */

  /* hooks */
  GError          *next_error;      /* returned (and cleared) by the next call */
  guint            add_on_list;     /* events to add+announce while answering the next ListEvents */
  guint            add_on_count;    /* the same for the next CountEvents */
} MoatFakeEngine;

MoatFakeEngine *moat_fake_engine_new         (guint           n_events);
void            moat_fake_engine_free        (MoatFakeEngine *fake);
void            moat_fake_engine_own_name    (MoatFakeEngine *fake);
void            moat_fake_engine_unown_name  (MoatFakeEngine *fake);
MoatEvent      *moat_fake_engine_make_event  (guint           n);
/* Appends @n synthetic events and announces them in one EventsAdded. */
void            moat_fake_engine_add_events  (MoatFakeEngine *fake,
                                              guint           n);
guint64         moat_fake_engine_count       (MoatFakeEngine        *fake,
                                              const MoatEventFilter *filter);
guint           moat_fake_engine_get_page_fetches (MoatFakeEngine *fake,
                                                   guint64         offset);

/* Spins the default main context until @cond (polled) is TRUE; fails the test
 * after a generous deadline instead of hanging. */
gboolean        moat_test_wait_until         (gboolean      (*cond) (gpointer data),
                                              gpointer        data);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (MoatFakeEngine, moat_fake_engine_free)

G_END_DECLS
