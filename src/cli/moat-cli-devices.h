/* SPDX-License-Identifier: GPL-3.0-or-later
 * Copyright 2026 The Moat developers
 */
#pragma once

#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/*
 * moatctl's output for phones. The JSON field names are a stable interface
 * (moatctl(1)):
 *
 * devices: [{"serial", "platform", "model", "os", "connection", "state",
 *            "risk", "message", "routing", "checked"}] ("checked" ISO 8601
 *            or null)
 * device SERIAL posture: [{"check", "result", "threat", "severity",
 *            "summary", "why", "fix", "screen", "packages", "evidence",
 *            "command"}] (threat and severity null unless result is
 *            "threat"; evidence an object)
 */
JsonNode *moat_cli_devices_to_json (GVariant *devices);
void      moat_cli_append_devices  (GString  *out,
                                    GVariant *devices);
JsonNode *moat_cli_posture_to_json (GVariant *findings);
void      moat_cli_append_posture  (GString  *out,
                                    GVariant *findings);

G_END_DECLS
