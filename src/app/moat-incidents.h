/* SPDX-License-Identifier: GPL-3.0-or-later
 * Copyright 2026 The Moat developers
 */
#pragma once

#include <glib.h>

#include "moat-enums.h"
#include "moat-event.h"

G_BEGIN_DECLS

/*
 * Incidents: a threat on a subject from the detector's "detected" event to
 * its "cleared" event, with what the engine did in between (its
 * "action-taken", "action-failed" and "action-reverted" events, whose detail
 * is {action, reason, ...}). Pure functions: no GTK, no I/O.
 */

typedef struct {
  char     *action;     /* as the policy names it: vpn_on_demand, … */
  char     *reason;     /* why it failed the last time, or NULL */
  gboolean  taken;
  gboolean  failed;
  gboolean  reverted;
} MoatIncidentAction;

typedef struct {
  char         *threat;
  char         *subject;
  MoatSeverity  severity;   /* the worst it reached */
  gint64        detected;   /* µs; 0 when detected before the events read */
  gint64        cleared;    /* µs; 0 while still active */
  GPtrArray    *actions;    /* MoatIncidentAction, in the order first seen */
} MoatIncident;

void       moat_incident_free          (MoatIncident *incident);
GPtrArray *moat_incidents_from_events  (GPtrArray    *events);
char      *moat_incident_format_actions (const MoatIncident *incident);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (MoatIncident, moat_incident_free)

G_END_DECLS
