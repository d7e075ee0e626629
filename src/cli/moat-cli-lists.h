/* SPDX-License-Identifier: GPL-3.0-or-later
 * Copyright 2026 The Moat developers
 */
#pragma once

#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/*
 * moatctl's output for filter lists. The JSON field names are a stable
 * interface (moatctl(1)):
 *
 * check: {"host", "verdict" ("block" | "allow" | "none"), "category", "list_id",
 *         "list_name", "rule", "line", "protected_resource"} (category to line
 *         null when no rule decided; protected_resource a boolean)
 * lists: [{"id", "name", "kind", "category", "source", "enabled", "loaded",
 *          "rules", "bad_lines", "bad_line_numbers", "updated", "error"}]
 *        ("updated" ISO 8601 or null, "error" a sentence or null)
 */
JsonNode *moat_cli_check_to_json  (GVariant *result);
void      moat_cli_append_check   (GString  *out,
                                   GVariant *result);
JsonNode *moat_cli_lists_to_json  (GVariant *lists);
void      moat_cli_append_lists   (GString  *out,
                                   GVariant *lists);

G_END_DECLS
