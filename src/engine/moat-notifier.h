/* SPDX-License-Identifier: GPL-3.0-or-later
 * Copyright 2026 The Moat developers
 */
#pragma once

#include <gio/gio.h>

#include "moat-event.h"

G_BEGIN_DECLS

/* The bus name and object path where the GUI exports its GActionGroup
 * (org.gtk.Actions). moatd owns the app id itself, so the GUI owns this one. */
#define MOAT_NOTIFIER_GUI_BUS_NAME "io.github.moatproject.Moat.App"
#define MOAT_NOTIFIER_GUI_OBJECT_PATH "/io/github/moatproject/Moat/App"
#define MOAT_NOTIFIER_ACTION_SHOW_ACTIVITY "show-activity"
#define MOAT_NOTIFIER_ACTION_ALLOW_ONCE "allow-once"

typedef enum {
  MOAT_NOTIFY_FLAGS_NONE = 0,
  /* Notify even below notify-min-severity (still honours notifications-enabled). */
  MOAT_NOTIFY_FLAGS_ALWAYS = 1 << 0,
} MoatNotifyFlags;

#define MOAT_TYPE_NOTIFIER (moat_notifier_get_type ())
G_DECLARE_FINAL_TYPE (MoatNotifier, moat_notifier, MOAT, NOTIFIER, GObject)

/*
 * MoatNotifier: grouped desktop notifications through libnotify.
 *
 * Events at or above the GSettings key notify-min-severity are collected; the
 * first one opens a window of notification-group-seconds, and when it closes ONE
 * notification sums up the whole burst. A notification still on screen is
 * replaced rather than stacked. libnotify's calls are synchronous D-Bus calls,
 * so they run on a worker thread, one at a time; the main loop never waits.
 *
 * Signals:
 *   ::group-shown (guint n_events, gboolean delivered): a group's notification
 *     was handed to the notification server (or that failed).
 */

MoatNotifier *moat_notifier_new               (GSettings       *settings);
void          moat_notifier_add_event         (MoatNotifier    *self,
                                               MoatEvent       *event,
                                               MoatNotifyFlags  flags);
void          moat_notifier_notify_incident   (MoatNotifier    *self,
                                               const char      *title,
                                               const char      *body,
                                               MoatSeverity     severity);
guint         moat_notifier_get_pending_count (MoatNotifier    *self);
void          moat_notifier_show_activity     (MoatNotifier    *self,
                                               const char      *activation_token);

/* Pure helpers, exposed for tests: the texts of the notification for a group. */
char         *moat_notifier_format_title      (guint            n_events,
                                               guint            n_blocked,
                                               const MoatEvent *first);
const char   *moat_notifier_threat_name       (const char      *threat);

G_END_DECLS
