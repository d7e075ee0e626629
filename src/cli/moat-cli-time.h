/* SPDX-License-Identifier: GPL-3.0-or-later
 * Copyright 2026 The Moat developers
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Parses a moatctl time argument relative to @now: ISO 8601
 * (2026-11-27T10:00:00Z, 2026-11-27T10:00:00+01:00; local time without a zone;
 * a date alone is local midnight), a span before now (90s, 30m, 1h, 2d, 1w,
 * combined as 1h30m), "now", "today" or "yesterday" (local midnight). Sets
 * *out_usec to µs since the Unix epoch. */
gboolean moat_cli_parse_time   (const char  *text,
                                GDateTime   *now,
                                gint64      *out_usec,
                                GError     **error);

/* "2026-11-27T10:00:00.000000Z": UTC, always with microseconds. */
char    *moat_cli_format_utc   (gint64       usec);

/* "2026-11-27 11:00:00": local time, to the second. */
char    *moat_cli_format_local (gint64       usec);

G_END_DECLS
