/* SPDX-License-Identifier: GPL-3.0-or-later
 * Copyright 2026 The Moat developers
 */
#pragma once

#include <json-glib/json-glib.h>

#include "moat-client.h"
#include "moat-event.h"

G_BEGIN_DECLS

/*
 * moatctl's output. The JSON field names are a stable interface (moatctl(1)):
 *
 * event:  {"id", "time", "time_us", "source", "threat", "severity", "subject",
 *          "action", "detail"}
 * status: {"version", "protection_state", "protection_summary", "risk_level",
 *          "proxy_address", "store_state", "store_message", "start_time"}
 */
void      moat_cli_add_json_object  (JsonBuilder     *builder,
                                     const char      *text);
JsonNode *moat_cli_event_to_json    (const MoatEvent *event);
JsonNode *moat_cli_status_to_json   (MoatClient      *client);
char     *moat_cli_json_to_string   (JsonNode        *node,
                                     gboolean         pretty);

/* Column widths for the human event table. */
typedef struct {
  guint time;
  guint severity;
  guint threat;
  guint subject;
} MoatCliColumns;

void      moat_cli_columns_init     (MoatCliColumns  *columns);
void      moat_cli_columns_fit      (MoatCliColumns  *columns,
                                     GPtrArray       *events);
void      moat_cli_append_header    (GString         *out,
                                     const MoatCliColumns *columns);
void      moat_cli_append_event     (GString         *out,
                                     const MoatCliColumns *columns,
                                     const MoatEvent *event);
void      moat_cli_append_status    (GString         *out,
                                     MoatClient      *client);

G_END_DECLS
