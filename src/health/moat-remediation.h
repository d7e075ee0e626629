/* SPDX-License-Identifier: GPL-3.0-or-later
 * Copyright 2026 The Moat developers
 */
#pragma once

#include <gio/gio.h>

#include "moat-enums.h"
#include "moat-health-item.h"

G_BEGIN_DECLS

/* The default cadence: now, after 1 day, then every 3 days. */
#define MOAT_REMEDIATION_DEFAULT_FIRST 0
#define MOAT_REMEDIATION_DEFAULT_SECOND (G_TIME_SPAN_DAY)
#define MOAT_REMEDIATION_DEFAULT_REPEAT (3 * G_TIME_SPAN_DAY)
/* The longest cadence list, and the most problems the state holds. */
#define MOAT_REMEDIATION_MAX_INTERVALS 16
#define MOAT_REMEDIATION_MAX_PROBLEMS 1024
/* A problem no update has listed for this long is forgotten. */
#define MOAT_REMEDIATION_FORGET_AFTER (30 * G_TIME_SPAN_DAY)

#define MOAT_TYPE_REMEDIATION (moat_remediation_get_type ())
G_DECLARE_FINAL_TYPE (MoatRemediation, moat_remediation, MOAT, REMEDIATION, GObject)

MoatRemediation *moat_remediation_new           (void);

void        moat_remediation_set_cadence        (MoatRemediation    *self,
                                                 const gint64       *intervals_us,
                                                 guint               n_intervals,
                                                 gint64              repeat_us);
void        moat_remediation_set_alerting       (MoatRemediation    *self,
                                                 const char * const *check_patterns,
                                                 MoatSeverity        min_severity);
gboolean    moat_remediation_is_alerting        (MoatRemediation    *self,
                                                 const char         *id,
                                                 MoatSeverity        severity);

GPtrArray  *moat_remediation_update             (MoatRemediation    *self,
                                                 GPtrArray          *items,
                                                 gint64              now);
gboolean    moat_remediation_snooze             (MoatRemediation    *self,
                                                 const char         *id,
                                                 const char         *subject,
                                                 gint64              until);
gint64      moat_remediation_next_due           (MoatRemediation    *self);

guint       moat_remediation_get_n_problems     (MoatRemediation    *self);
gboolean    moat_remediation_lookup             (MoatRemediation    *self,
                                                 const char         *id,
                                                 const char         *subject,
                                                 gint64             *first_seen,
                                                 gint64             *last_reminded,
                                                 guint              *count,
                                                 gint64             *snoozed_until);

gboolean    moat_remediation_load               (MoatRemediation    *self,
                                                 const char         *json,
                                                 gssize              length,
                                                 GError            **error);
char       *moat_remediation_save               (MoatRemediation    *self);

G_END_DECLS
