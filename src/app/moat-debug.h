/* SPDX-License-Identifier: GPL-3.0-or-later
 * Copyright 2026 The Moat developers
 */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

/*
 * Measurements for tests/ui/measure.py, off unless the environment asks:
 *   MOAT_DEBUG_TIMING=1  prints "MOAT_TIMING key=value" lines on stderr: the time
 *                        to the window's first frame and to the first event row,
 *                        and at exit the longest main-loop stall (a 10 ms
 *                        G_PRIORITY_HIGH timeout records the gaps between its
 *                        dispatches; building the window before the
 *                        first frame is reported apart, as startup).
 *   MOAT_DEBUG_SCROLL=1  scrolls the Activity list from a tick callback, first
 *                        smoothly, then through the whole list, recording frame
 *                        intervals; prints them and quits.
 */

void     moat_debug_init             (void);
gboolean moat_debug_timing_enabled   (void);
void     moat_debug_watch_window     (GtkWindow         *window);
void     moat_debug_first_row_shown  (void);
void     moat_debug_start_scroll     (GtkScrolledWindow *scrolled_window);
void     moat_debug_shutdown         (void);

G_END_DECLS
