/* SPDX-License-Identifier: GPL-3.0-or-later
 * Copyright 2026 The Moat developers
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Every enum crosses D-Bus and moatctl --json as its lower-case nick, never as a number. */

typedef enum {
  MOAT_SEVERITY_INFO,
  MOAT_SEVERITY_LOW,
  MOAT_SEVERITY_MEDIUM,
  MOAT_SEVERITY_HIGH,
  MOAT_SEVERITY_CRITICAL,
} MoatSeverity;
#define MOAT_SEVERITY_LAST (MOAT_SEVERITY_CRITICAL + 1)

typedef enum {
  MOAT_RISK_LEVEL_NONE,
  MOAT_RISK_LEVEL_LOW,
  MOAT_RISK_LEVEL_MEDIUM,
  MOAT_RISK_LEVEL_HIGH,
  MOAT_RISK_LEVEL_CRITICAL,
} MoatRiskLevel;
#define MOAT_RISK_LEVEL_LAST (MOAT_RISK_LEVEL_CRITICAL + 1)

typedef enum {
  MOAT_EVENT_SOURCE_ENGINE,
  MOAT_EVENT_SOURCE_PROXY,
  MOAT_EVENT_SOURCE_DETECTOR,
  MOAT_EVENT_SOURCE_DEVICE,
  MOAT_EVENT_SOURCE_HEALTH,
} MoatEventSource;
#define MOAT_EVENT_SOURCE_LAST (MOAT_EVENT_SOURCE_HEALTH + 1)

typedef enum {
  MOAT_PROTECTION_STATE_UNPROTECTED,
  MOAT_PROTECTION_STATE_PROTECTED,
  MOAT_PROTECTION_STATE_DEGRADED,
  MOAT_PROTECTION_STATE_PAUSED,
} MoatProtectionState;
#define MOAT_PROTECTION_STATE_LAST (MOAT_PROTECTION_STATE_PAUSED + 1)

typedef enum {
  MOAT_STORE_STATE_OPENING,
  MOAT_STORE_STATE_OK,
  MOAT_STORE_STATE_DISK_FULL,
  MOAT_STORE_STATE_ERROR,
} MoatStoreState;
#define MOAT_STORE_STATE_LAST (MOAT_STORE_STATE_ERROR + 1)

const char *moat_severity_to_string          (MoatSeverity        severity);
gboolean    moat_severity_from_string        (const char         *str,
                                              MoatSeverity       *out);
const char *moat_risk_level_to_string        (MoatRiskLevel       level);
gboolean    moat_risk_level_from_string      (const char         *str,
                                              MoatRiskLevel      *out);
MoatRiskLevel moat_risk_level_from_severity  (MoatSeverity        severity);
const char *moat_event_source_to_string      (MoatEventSource     source);
gboolean    moat_event_source_from_string    (const char         *str,
                                              MoatEventSource    *out);
const char *moat_protection_state_to_string  (MoatProtectionState state);
gboolean    moat_protection_state_from_string (const char        *str,
                                               MoatProtectionState *out);
const char *moat_store_state_to_string       (MoatStoreState      state);
gboolean    moat_store_state_from_string     (const char         *str,
                                              MoatStoreState     *out);

gboolean    moat_threat_id_is_valid          (const char         *threat);
const char *moat_threat_get_display_name     (const char         *threat);
const char *moat_policy_action_get_display_name (const char       *action);
gboolean    moat_threat_id_matches           (const char         *threat,
                                              const char         *pattern);

G_END_DECLS
