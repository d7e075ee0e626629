/* SPDX-License-Identifier: GPL-3.0-or-later
 * Copyright 2026 The Moat developers
 */
#pragma once

#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/*
 * moatctl's output for protection health. The JSON field names are a
 * stable interface (moatctl(1)):
 *
 * health: {"level" (0..4), "summary", "items": [{"id", "area", "subject",
 *          "status" (ok, problem, unknown), "severity" (null when ok),
 *          "title", "summary", "why", "impact", "screen", "steps",
 *          "auto_fix", "evidence" (an object), "checked"}]}
 */
JsonNode *moat_cli_health_to_json (guint     level,
                                   const char *summary,
                                   GVariant *items);
void      moat_cli_append_health  (GString  *out,
                                   guint     level,
                                   const char *summary,
                                   GVariant *items,
                                   gboolean  all);

G_END_DECLS
