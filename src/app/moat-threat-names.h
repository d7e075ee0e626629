/* SPDX-License-Identifier: GPL-3.0-or-later
 * Copyright 2026 The Moat developers
 */
#pragma once

#include <glib.h>

#include "moat-enums.h"

G_BEGIN_DECLS

/* Human words for the ids moatd uses. Pure functions: no GTK, no I/O. */

const char *moat_vector_get_display_name   (const char   *vector);
const char *moat_action_get_display_name   (const char   *action);
const char *moat_severity_get_display_name (MoatSeverity  severity);
const char *moat_severity_get_icon_name    (MoatSeverity  severity);
const char *moat_severity_get_style_class  (MoatSeverity  severity);
const char *moat_risk_level_get_display_name (MoatRiskLevel level);
const char *moat_risk_level_get_style_class  (MoatRiskLevel level);
guint       moat_list_category_get_all          (const char * const **ids);
const char *moat_list_category_get_display_name (const char   *category);
const char *moat_list_category_get_description  (const char   *category);
char       *moat_format_event_time         (gint64        time,
                                            GDateTime    *now);

G_END_DECLS
