/* SPDX-License-Identifier: GPL-3.0-or-later
 * Copyright 2026 The Moat developers
 */
#pragma once

#include <glib.h>

#include "moat-enums.h"

G_BEGIN_DECLS

/*
 * What the Devices page shows, read from moatd's GetDevices and
 * GetDevicePosture answers. Pure functions: no GTK, no I/O.
 */

/* One entry of GetDevices: (serial, platform, model, os, connection, state,
 * risk, message, routing, checked). */
typedef struct {
  char          *serial;
  char          *platform;
  char          *model;
  char          *os;
  char          *connection;
  char          *state;
  MoatRiskLevel  risk;
  gboolean       risk_known;   /* FALSE for "unknown" */
  char          *message;
  gboolean       routing;
  gint64         checked;
} MoatDeviceInfo;

/* The result of one check of GetDevicePosture. */
typedef enum {
  MOAT_DEVICE_RESULT_THREAT,
  MOAT_DEVICE_RESULT_UNKNOWN,
  MOAT_DEVICE_RESULT_OK,
} MoatDeviceResult;

/* One entry of GetDevicePosture: (check, result, threat, severity, summary,
 * why, fix, screen, packages, evidence, command). */
typedef struct {
  char             *check;
  MoatDeviceResult  result;
  char             *threat;
  MoatSeverity      severity;   /* MOAT_SEVERITY_INFO unless result is THREAT */
  char             *summary;
  char             *why;
  char             *fix;
  char             *screen;
  GStrv             packages;
  char             *evidence;
  char             *command;
} MoatDeviceFinding;

void             moat_device_info_free      (MoatDeviceInfo    *info);
void             moat_device_finding_free   (MoatDeviceFinding *finding);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MoatDeviceInfo, moat_device_info_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MoatDeviceFinding, moat_device_finding_free)

/* @devices: a(ssssssssbx). Returns (transfer full) MoatDeviceInfo, in moatd's order. */
GPtrArray       *moat_device_infos_from_variant    (GVariant          *devices);
/* @findings: a(ssssssssasss), or a(ssssssssass) without the command. Returns (transfer full) MoatDeviceFinding: threats
 * first, the most severe first, then the checks that could not tell, then the
 * passed ones; moatd's order within each. */
GPtrArray       *moat_device_findings_from_variant (GVariant          *findings);
gboolean         moat_device_findings_type_is_valid (GVariant         *findings);

/* Whether the phone waits for a step on it or on this computer (unauthorized,
 * offline, no-permissions) or its check failed. */
gboolean         moat_device_info_needs_attention (const MoatDeviceInfo *info);
/* What the user can act on: a ready (or checking) phone. */
gboolean         moat_device_info_is_usable       (const MoatDeviceInfo *info);

/* The steps of a finding's fix, one per line, without blank lines. */
GStrv            moat_device_finding_dup_fix_steps (const MoatDeviceFinding *finding);
/* The evidence JSON as "key: value" lines (nested values as compact JSON);
 * anything that is not a JSON object comes back as it is. */
char            *moat_device_format_evidence       (const char        *evidence);

G_END_DECLS
